//! `minhu bench SCENARIO`: a bounded load against a running server, or `fsync`, the disk's limit
//! for durable commits. See [`crate::bench`].

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::bail;
use clap::{Args, ValueEnum};

use crate::bench::{self, LoadOptions, Scenario};
use crate::config::Config;

/// What `minhu bench` measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BenchScenario {
    /// Agents register orders (POST /api/v1/orders).
    Create,
    /// Orders walked from registration through dispatch, sign, reply, review and the visit that
    /// closes them, each step by the demo account of its role.
    Lifecycle,
    /// An order's detail with its history (GET /api/v1/orders/{number}).
    Read,
    /// A unit handler's inbox tabs (the list filtered by unit, state and warning, 50 a page).
    Queue,
    /// Full-text search of orders as the centre's dispatcher (GET /api/v1/orders?q=…).
    Search,
    /// Knowledge base search as an agent (GET /api/v1/knowledge?q=…).
    Knowledge,
    /// Similar open orders for a call being registered (GET /api/v1/orders/similar?…).
    Similar,
    /// A day's mix of all of the above, mostly reads, queue views and searches.
    Mixed,
    /// Not the server: how fast this disk commits durably (file appends with fdatasync, and
    /// SQLite commits of 1, 10 and 100 rows) in the folder --path.
    Fsync,
}

/// Options of `minhu bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// What to measure.
    #[arg(value_enum)]
    pub scenario: BenchScenario,
    /// The running minhu server [default: http://<the configured listen address>]; several app
    /// nodes of one database separated by commas (the clients take turns among them).
    #[arg(long, value_name = "URL[,URL…]")]
    pub target: Option<String>,
    /// Concurrent clients, each with its own connection.
    #[arg(long, default_value_t = 8)]
    pub clients: usize,
    /// Seconds of measured load (per measurement for fsync).
    #[arg(long, value_name = "SECONDS", default_value_t = 10.0)]
    pub duration: f64,
    /// Seconds of load before measuring.
    #[arg(long, value_name = "SECONDS", default_value_t = 2.0)]
    pub warmup: f64,
    /// The demo accounts' password.
    #[arg(
        long,
        env = "MINHU_DEMO_PASSWORD",
        hide_env_values = true,
        default_value = "password"
    )]
    pub password: String,
    /// Seeds the clients' random choices.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// fsync only: the folder on the disk to measure (scratch files are written and removed).
    #[arg(long, value_name = "DIR")]
    pub path: Option<PathBuf>,
}

/// A non-negative number of seconds.
fn seconds(name: &str, value: f64) -> anyhow::Result<Duration> {
    if !(0.0..=86_400.0).contains(&value) {
        bail!("--{name} must be a number of seconds between 0 and 86400, not {value}");
    }
    Ok(Duration::from_secs_f64(value))
}

/// Runs `minhu bench`.
pub(super) async fn run(config: &Config, args: BenchArgs) -> anyhow::Result<ExitCode> {
    let duration = seconds("duration", args.duration)?;
    let warmup = seconds("warmup", args.warmup)?;
    let scenario = match args.scenario {
        BenchScenario::Fsync => {
            let Some(path) = args.path else {
                bail!("minhu bench fsync needs --path DIR: a folder on the disk to measure");
            };
            bench::run_fsync(&path, duration).await?;
            return Ok(ExitCode::SUCCESS);
        }
        BenchScenario::Create => Scenario::Create,
        BenchScenario::Lifecycle => Scenario::Lifecycle,
        BenchScenario::Read => Scenario::Read,
        BenchScenario::Queue => Scenario::Queue,
        BenchScenario::Search => Scenario::Search,
        BenchScenario::Knowledge => Scenario::Knowledge,
        BenchScenario::Similar => Scenario::Similar,
        BenchScenario::Mixed => Scenario::Mixed,
    };
    if args.path.is_some() {
        bail!("--path is for minhu bench fsync only");
    }
    let target = args
        .target
        .unwrap_or_else(|| format!("http://{}", config.listen));
    let targets: Vec<String> = target.split(',').map(|t| t.trim().to_owned()).collect();
    if let Some(bad) = targets.iter().find(|t| !t.starts_with("http://")) {
        bail!("--target must be an http:// URL such as http://127.0.0.1:8080, not {bad}");
    }
    let options = LoadOptions {
        scenario,
        targets,
        clients: args.clients,
        warmup,
        duration,
        password: args.password,
        seed: args.seed,
    };
    bench::run_load(&options).await?;
    Ok(ExitCode::SUCCESS)
}
