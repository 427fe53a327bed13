//! `minhu bench`: a load generator for a running minhu server (and, with `fsync`, the disk's own
//! limit for durable commits).
//!
//! The server is started separately (`minhu serve` on a database filled with `minhu gen`). The
//! bench signs in with the demo accounts, learns the city through the API (categories, places,
//! catalogue suggestions, order numbers), then runs `--clients` concurrent tasks, each with its own
//! HTTP connection, for a short warm-up and then `--duration` seconds of measurement. It prints
//! one JSON line per figure on stdout (`name`, `value`, `unit`, `clients`, `database`, `orders`)
//! and a short summary on stderr.
//!
//! - [`client`]: the HTTP client; [`city`]: what is learnt before the load;
//! - [`scenarios`]: the simulated people; [`words`]: what they search for;
//! - [`stats`]: HDR latency histograms and the figures; [`fsync`]: the disk's limit.

mod city;
mod client;
mod fsync;
mod scenarios;
mod stats;
mod words;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};

use self::city::{City, Needs};
use self::client::Api;
use self::scenarios::Client;
use self::stats::{Context, Recorder, Window, figures, print_figures, summary_line};

/// What to load the server with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// Agents register orders.
    Create,
    /// Orders walked through dispatch, sign, reply, review and visit (which closes them).
    Lifecycle,
    /// One order with its history.
    Read,
    /// A unit's inbox tabs.
    Queue,
    /// Full-text search of orders.
    Search,
    /// Knowledge base search.
    Knowledge,
    /// Similar open orders for a call being registered.
    Similar,
    /// A day's mix of all of the above.
    Mixed,
}

impl Scenario {
    /// The scenario's name on the command line and in the figures.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Lifecycle => "lifecycle",
            Self::Read => "read",
            Self::Queue => "queue",
            Self::Search => "search",
            Self::Knowledge => "knowledge",
            Self::Similar => "similar",
            Self::Mixed => "mixed",
        }
    }

    /// Whether the scenario's unit of work is an action (several kinds of request) rather than
    /// one kind of request.
    fn counts_actions(self) -> bool {
        matches!(self, Self::Lifecycle | Self::Mixed)
    }

    fn needs(self) -> Needs {
        match self {
            Self::Create | Self::Search | Self::Knowledge => Needs::default(),
            Self::Lifecycle => Needs {
                lifecycle: true,
                ..Needs::default()
            },
            Self::Read => Needs {
                numbers: true,
                ..Needs::default()
            },
            Self::Queue => Needs {
                queues: true,
                ..Needs::default()
            },
            Self::Similar => Needs {
                probes: true,
                ..Needs::default()
            },
            Self::Mixed => Needs {
                lifecycle: true,
                queues: true,
                numbers: true,
                probes: true,
            },
        }
    }
}

/// The settings of a load run.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    pub scenario: Scenario,
    /// The server, e.g. `http://127.0.0.1:8080`, or several app nodes of one database: client
    /// `i` talks to `targets[i % targets.len()]`.
    pub targets: Vec<String>,
    /// Concurrent clients, each with its own connection.
    pub clients: usize,
    /// Seconds of load before measuring.
    pub warmup: Duration,
    /// Seconds of measurement.
    pub duration: Duration,
    /// The demo accounts' password.
    pub password: String,
    /// Seeds the clients' random choices.
    pub seed: u64,
}

/// Runs a load against a server and prints the figures.
pub async fn run_load(options: &LoadOptions) -> anyhow::Result<()> {
    if options.clients == 0 {
        bail!("--clients must be at least 1");
    }
    if options.duration.is_zero() {
        bail!("--duration must be positive");
    }
    let scenario = options.scenario;
    let Some(first) = options.targets.first() else {
        bail!("--target names no server");
    };
    let api = Api::new(first)?;
    let city = City::load(&api, &options.password, options.clients, scenario.needs()).await?;
    eprintln!(
        "minhu bench {}: {} clients against {} ({}, {} orders), {:.1} s warm-up, {:.1} s measured",
        scenario.name(),
        options.clients,
        options.targets.join(" and "),
        city.backend,
        city.orders,
        options.warmup.as_secs_f64(),
        options.duration.as_secs_f64(),
    );
    let context = Context {
        clients: options.clients,
        database: city.backend.clone(),
        orders: city.orders,
    };
    let city = Arc::new(city);
    let window = Window::after(options.warmup, options.duration);
    let mut tasks = tokio::task::JoinSet::new();
    for index in 0..options.clients {
        let client = Client::new(
            index,
            Api::new(&options.targets[index % options.targets.len()])?,
            Arc::clone(&city),
            window,
            options.seed,
        )?;
        tasks.spawn(client.run(scenario));
    }
    let mut recorder = Recorder::new()?;
    while let Some(joined) = tasks.join_next().await {
        recorder.merge(&joined.context("a client task failed")?);
    }
    report(scenario, &context, &recorder, window.seconds());
    if recorder.total().ok == 0 {
        bail!(
            "no request of {} succeeded in the measured {:.1} s",
            scenario.name(),
            window.seconds()
        );
    }
    Ok(())
}

/// Prints the figures (JSON lines on stdout) and the summary (stderr).
fn report(scenario: Scenario, context: &Context, recorder: &Recorder, seconds: f64) {
    let (rate_name, rate_unit) = if scenario.counts_actions() {
        ("actions_per_s", "actions/s")
    } else {
        ("requests_per_s", "requests/s")
    };
    let total = recorder.total();
    let mut lines = figures(
        context,
        scenario.name(),
        &total,
        seconds,
        rate_name,
        rate_unit,
    );
    let mut summary = vec![summary_line(scenario.name(), &total, seconds, rate_unit)];
    if recorder.kinds().len() > 1 {
        for (kind, stats) in recorder.kinds() {
            let prefix = format!("{}.{kind}", scenario.name());
            lines.extend(figures(
                context,
                &prefix,
                stats,
                seconds,
                "requests_per_s",
                "requests/s",
            ));
            summary.push(summary_line(&format!("  {kind}"), stats, seconds, "/s"));
        }
    }
    print_figures(&lines);
    for line in summary {
        eprintln!("{line}");
    }
    if total.errors > 0 || !recorder.samples.is_empty() {
        eprintln!("{} failed request(s) measured; the first:", total.errors);
        for sample in &recorder.samples {
            eprintln!("  {sample}");
        }
    }
}

/// Runs `minhu bench fsync` in `dir`.
pub async fn run_fsync(dir: &Path, duration: Duration) -> anyhow::Result<()> {
    if duration.is_zero() {
        bail!("--duration must be positive");
    }
    fsync::run(dir, duration).await
}
