//! The `minhu` command line: `serve`, `migrate`, `demo`, `user …`, `calendar …`, `backup`.
//!
//! Every command loads the one typed [`Config`] (defaults → `--config FILE` or `MINHU_CONFIG` →
//! `MINHU_*` variables), opens the store its database URL names and applies pending migrations.
//! Failures end in one human sentence on stderr and a non-zero exit code, never a panic.

mod bench;
mod calendar;
mod generate;
mod maintenance;
mod progress;
mod serve;
mod user;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use minhu_domain::Role;
use tracing_subscriber::EnvFilter;

use crate::config::Config;
use crate::service::App;
use crate::storage;

/// minhu (民呼): the work-order platform of a 12345 government service hotline.
#[derive(Debug, Parser)]
#[command(name = "minhu", version, about, long_about = None)]
pub struct Cli {
    /// A TOML configuration file (settings from `MINHU_*` environment variables win over it).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server (migrates and bootstraps the database first).
    Serve(ServeArgs),
    /// Apply database migrations and bootstrap an empty centre (calendar, default time limits,
    /// the centre unit, the `admin` account).
    Migrate,
    /// Seed the demo city into the configured database (only into an empty centre).
    Demo,
    /// Manage user accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage the working-day calendar (public holidays and 调休 make-up working days).
    #[command(subcommand)]
    Calendar(CalendarCommand),
    /// Rebuild the full-text search index of orders (after an upgrade, a dictionary change, or
    /// to repair it), with a progress bar.
    Reindex {
        /// Only the orders that have no search document yet.
        #[arg(long)]
        missing: bool,
    },
    /// Fill the demo city (seeded first into an empty database) with a realistic order history,
    /// in bulk, with a progress bar; deterministic for a seed.
    Gen {
        /// How many orders to generate.
        #[arg(long)]
        orders: u64,
        /// The random seed: the same seed on the same database gives the same orders.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Years of history, ending now.
        #[arg(long, default_value_t = 3)]
        years: u32,
        /// The end of the history instead of the clock's now (RFC 3339, e.g.
        /// `2026-12-06T18:00:00+08:00`): the same seed, moment and database give the same
        /// orders on every run.
        #[arg(long, value_parser = parse_instant)]
        now: Option<chrono::DateTime<chrono::Utc>>,
        /// Knowledge entries to add besides the demo's (local, dated and question forms of its
        /// policies; most published, some in review or draft).
        #[arg(long, default_value_t = 0)]
        knowledge: u64,
    },
    /// Write a consistent copy of the SQLite database while it is in use.
    Backup {
        /// Where to write the copy; must not exist yet.
        path: PathBuf,
    },
    /// Load a running minhu server with concurrent clients (one scenario), or measure the disk's
    /// limit for durable commits (`fsync`); one JSON line per figure on stdout.
    Bench(bench::BenchArgs),
}

/// Options of `minhu serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Seed the demo city first if the database holds no units or orders beyond the bootstrap.
    #[arg(long)]
    pub demo: bool,
}

/// `minhu user …`.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user account.
    Add {
        /// The sign-in name: 2–32 ASCII letters, digits, `_`, `.` or `-`.
        #[arg(long)]
        username: String,
        /// The person's name as shown to others, e.g. 王芳.
        #[arg(long)]
        name: String,
        /// The code of the user's unit, e.g. `CENTRE`.
        #[arg(long, value_name = "CODE")]
        unit: String,
        /// Roles, comma-separated: agent, dispatcher, supervisor, visitor, unit_handler,
        /// unit_leader, sub_centre, inspector, knowledge_editor, leader, admin.
        #[arg(long = "role", value_name = "ROLES", value_delimiter = ',', required = true, value_parser = parse_role)]
        roles: Vec<Role>,
        /// The password; a random one is generated and printed when omitted.
        #[arg(long)]
        password: Option<String>,
    },
    /// Set a user's password.
    Passwd {
        /// The user's sign-in name.
        username: String,
        /// The new password; a random one is generated and printed when omitted.
        #[arg(long)]
        password: Option<String>,
    },
    /// List the user accounts.
    List,
}

/// `minhu calendar …`.
#[derive(Debug, Subcommand)]
pub enum CalendarCommand {
    /// Insert or replace calendar days from a file of lines `YYYY-MM-DD holiday|workday name`.
    Import {
        /// The calendar file.
        file: PathBuf,
    },
    /// Print the stored calendar days in the import file format.
    Show {
        /// Only this year.
        #[arg(long)]
        year: Option<i32>,
    },
}

fn parse_instant(text: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    chrono::DateTime::parse_from_rfc3339(text.trim())
        .map(|at| at.with_timezone(&chrono::Utc))
        .map_err(|err| {
            format!("`{text}` is not an RFC 3339 instant (2026-12-06T18:00:00+08:00): {err}")
        })
}

fn parse_role(code: &str) -> Result<Role, String> {
    code.trim().parse::<Role>().map_err(|_| {
        let known: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
        format!("unknown role `{code}`; known roles: {}", known.join(", "))
    })
}

/// Parses the command line, runs the command and turns any failure into a message and an exit
/// code.
pub async fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(
        matches!(cli.command, Command::Serve(_)),
        matches!(cli.command, Command::Gen { .. }),
    );
    match run(cli).await {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// Runs one parsed command.
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let config = Config::load(cli.config.as_deref())?;
    match cli.command {
        Command::Serve(args) => serve::serve(config, args.demo).await,
        Command::Migrate => maintenance::migrate(config).await,
        Command::Demo => maintenance::demo(config).await,
        Command::Backup { path } => maintenance::backup(config, &path).await,
        Command::Reindex { missing } => maintenance::reindex(config, missing).await,
        Command::Gen {
            orders,
            seed,
            years,
            now,
            knowledge,
        } => generate::run(config, orders, seed, years, now, knowledge).await,
        Command::User(command) => user::run(config, command).await,
        Command::Calendar(command) => calendar::run(config, command).await,
        Command::Bench(args) => bench::run(&config, args).await,
    }
}

/// Logs go to stderr (so that command output on stdout stays clean), filtered by `RUST_LOG`;
/// the server logs at `info` by default, the other commands only warnings.
fn init_tracing(server: bool, bulk: bool) {
    // A bulk load's large statements are slow by design: do not warn about each.
    let default = match (server, bulk) {
        (true, _) => "info",
        (false, true) => "warn,sqlx::query=error",
        (false, false) => "warn",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    // A second initialisation (in tests) is harmless: keep the first subscriber.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

/// Opens the configured database and applies pending migrations.
async fn open(config: Config) -> anyhow::Result<App> {
    let url = storage::redact_url(&config.database_url);
    let store = storage::connect(&config.database_url)
        .await
        .map_err(|e| anyhow::anyhow!("cannot open the database {url}: {e:#}"))?;
    store
        .migrate()
        .await
        .map_err(|e| anyhow::anyhow!("cannot migrate the database {url}: {e:#}"))?;
    Ok(App::new(store, config))
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn verify_cli() {
        Cli::command().debug_assert();
    }

    #[test]
    fn roles_parse_with_a_helpful_error() {
        assert_eq!(parse_role("unit_handler"), Ok(Role::UnitHandler));
        let err = parse_role("boss").unwrap_err();
        assert!(err.contains("dispatcher"), "{err}");
        let cli = Cli::try_parse_from([
            "minhu",
            "user",
            "add",
            "--username",
            "agent9",
            "--name",
            "王芳",
            "--unit",
            "CENTRE",
            "--role",
            "agent,visitor",
        ])
        .unwrap();
        match cli.command {
            Command::User(UserCommand::Add { roles, .. }) => {
                assert_eq!(roles, vec![Role::Agent, Role::Visitor]);
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}
