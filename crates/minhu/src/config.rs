//! One typed configuration, loaded once: defaults → optional TOML file → `MINHU_*` environment
//! variables (e.g. `MINHU_DATABASE_URL`, `MINHU_LISTEN`, `MINHU_TIMEZONE`).

use std::fmt;
use std::path::Path;

use chrono::NaiveTime;
use chrono_tz::Tz;
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

/// Every setting of a minhu process.
#[derive(Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// `sqlite://data/minhu.db` (the default, embedded) or `postgres://user@host/db`.
    pub database_url: String,
    /// Address the HTTP server listens on.
    pub listen: String,
    /// IANA time zone in which working days, working hours and order numbers are counted.
    pub timezone: String,
    /// Password of the demo accounts; random and printed once when unset.
    pub demo_password: Option<String>,
    /// Password of the first `admin` account of an empty centre; random and printed once when unset.
    pub admin_password: Option<String>,
    /// Share of a deadline's span left at which an order turns yellow (0.2 = the last 20 %).
    pub yellow_share: f64,
    /// Working periods of a working day, `HH:MM-HH:MM`, local time.
    pub working_hours: Vec<String>,
    /// How long an API token lives, in hours.
    pub token_ttl_hours: u32,
    /// Failed sign-ins allowed per account within `login_window_minutes`.
    pub login_max_failures_per_account: u32,
    /// Failed sign-ins allowed per client address within `login_window_minutes`.
    pub login_max_failures_per_address: u32,
    /// The throttling window, in minutes.
    pub login_window_minutes: u32,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Mark the web session cookie `Secure` (sent over HTTPS only). Set it when the server is
    /// reached through HTTPS (e.g. behind a TLS-terminating proxy).
    pub cookie_secure: bool,
    /// Repeat detection (重复件): open orders registered within this many days are compared.
    pub repeat_window_days: u32,
    /// Repeat detection: the score (0–1) from which an order is shown as a likely repeat.
    pub repeat_threshold: f64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            database_url: "sqlite://data/minhu.db".to_owned(),
            listen: "127.0.0.1:8080".to_owned(),
            timezone: "Asia/Shanghai".to_owned(),
            demo_password: None,
            admin_password: None,
            yellow_share: 0.2,
            working_hours: vec!["08:30-12:00".to_owned(), "13:30-17:30".to_owned()],
            token_ttl_hours: 12,
            login_max_failures_per_account: 5,
            login_max_failures_per_address: 30,
            login_window_minutes: 15,
            max_body_bytes: 1024 * 1024,
            cookie_secure: false,
            repeat_window_days: 30,
            repeat_threshold: 0.5,
        }
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field(
                "database_url",
                &crate::storage::redact_url(&self.database_url),
            )
            .field("listen", &self.listen)
            .field("timezone", &self.timezone)
            .field("demo_password", &self.demo_password.as_ref().map(|_| "***"))
            .field(
                "admin_password",
                &self.admin_password.as_ref().map(|_| "***"),
            )
            .field("yellow_share", &self.yellow_share)
            .field("working_hours", &self.working_hours)
            .field("token_ttl_hours", &self.token_ttl_hours)
            .field("cookie_secure", &self.cookie_secure)
            .field("repeat_window_days", &self.repeat_window_days)
            .field("repeat_threshold", &self.repeat_threshold)
            .finish_non_exhaustive()
    }
}

impl Config {
    /// Loads the configuration: defaults, then `file` (or `MINHU_CONFIG`) if given, then the
    /// environment. Checks the values that can be wrong.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Self> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        let env_file = std::env::var("MINHU_CONFIG").ok();
        let file = file.map(Path::to_path_buf).or(env_file.map(Into::into));
        if let Some(path) = file {
            if !path.exists() {
                anyhow::bail!("config file {} does not exist", path.display());
            }
            figment = figment.merge(Toml::file(path));
        }
        let config: Config = figment
            .merge(
                Env::prefixed("MINHU_")
                    .ignore(&["CONFIG"])
                    // `MINHU_TEST_*` belong to the test suite, not to a running server.
                    .filter(|key| !key.as_str().starts_with("test_"))
                    .split("__"),
            )
            .extract()?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> anyhow::Result<()> {
        self.tz()?;
        self.working_periods()?;
        if !(0.0..=1.0).contains(&self.yellow_share) {
            anyhow::bail!("yellow_share must be between 0 and 1");
        }
        if !(0.0..=1.0).contains(&self.repeat_threshold) {
            anyhow::bail!("repeat_threshold must be between 0 and 1");
        }
        if !(1..=365).contains(&self.repeat_window_days) {
            anyhow::bail!("repeat_window_days must be between 1 and 365");
        }
        if self.token_ttl_hours == 0 {
            anyhow::bail!("token_ttl_hours must be at least 1");
        }
        Ok(())
    }

    /// The configured time zone.
    pub fn tz(&self) -> anyhow::Result<Tz> {
        self.timezone
            .parse::<Tz>()
            .map_err(|e| anyhow::anyhow!("MINHU_TIMEZONE `{}`: {e}", self.timezone))
    }

    /// The configured working periods, parsed and checked to be ordered and disjoint.
    pub fn working_periods(&self) -> anyhow::Result<Vec<(NaiveTime, NaiveTime)>> {
        let mut periods = Vec::new();
        for text in &self.working_hours {
            let (start, end) = text
                .split_once('-')
                .ok_or_else(|| anyhow::anyhow!("working_hours `{text}`: expected HH:MM-HH:MM"))?;
            let start = NaiveTime::parse_from_str(start.trim(), "%H:%M")
                .map_err(|e| anyhow::anyhow!("working_hours `{text}`: {e}"))?;
            let end = NaiveTime::parse_from_str(end.trim(), "%H:%M")
                .map_err(|e| anyhow::anyhow!("working_hours `{text}`: {e}"))?;
            if end <= start {
                anyhow::bail!("working_hours `{text}`: the end must be after the start");
            }
            if let Some((_, previous_end)) = periods.last()
                && start < *previous_end
            {
                anyhow::bail!("working_hours `{text}`: periods must be in order and not overlap");
            }
            periods.push((start, end));
        }
        Ok(periods)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        let config = Config::default();
        config.validate().unwrap();
        assert_eq!(config.tz().unwrap(), chrono_tz::Asia::Shanghai);
        assert_eq!(config.working_periods().unwrap().len(), 2);
    }

    #[test]
    fn bad_values_are_refused() {
        let config = Config {
            timezone: "Mars/Olympus".into(),
            ..Config::default()
        };
        assert!(config.validate().is_err());
        let config = Config {
            working_hours: vec!["13:00-12:00".into()],
            ..Config::default()
        };
        assert!(config.validate().is_err());
        let debug = format!(
            "{:?}",
            Config {
                database_url: "postgres://u:secret@h/db".into(),
                ..Config::default()
            }
        );
        assert!(!debug.contains("secret"));
    }
}
