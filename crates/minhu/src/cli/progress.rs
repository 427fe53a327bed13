//! The progress of a long command (`minhu gen`, `minhu reindex`): indicatif's bar on a terminal;
//! where stderr is not one (under `nohup`, in CI, into a log), where indicatif draws nothing, a
//! plain line every [`PLAIN_LINE_EVERY`] instead, so that a logged load of an hour shows how far
//! it is.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{HumanDuration, ProgressBar, ProgressStyle};

/// How often the plain line is printed.
const PLAIN_LINE_EVERY: Duration = Duration::from_secs(10);

/// A count of `total` things done so far.
pub(super) struct Progress {
    bar: ProgressBar,
    what: String,
    /// When the plain line was last printed; `None` on a terminal, where the bar draws itself.
    last_line: Option<Mutex<Instant>>,
}

impl Progress {
    /// A progress of `total` `what` (orders, entries).
    pub(super) fn new(total: u64, what: &str) -> Self {
        let bar = ProgressBar::new(total);
        bar.set_style(
            ProgressStyle::with_template(&format!(
                "{{bar:40}} {{pos}}/{{len}} {what}  {{per_sec}}  eta {{eta}}"
            ))
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        let last_line = bar.is_hidden().then(|| Mutex::new(Instant::now()));
        Self {
            bar,
            what: what.to_owned(),
            last_line,
        }
    }

    /// Counts `n` more done.
    pub(super) fn inc(&self, n: u64) {
        self.bar.inc(n);
        let Some(last_line) = &self.last_line else {
            return;
        };
        let Ok(mut last) = last_line.lock() else {
            return;
        };
        if last.elapsed() < PLAIN_LINE_EVERY {
            return;
        }
        *last = Instant::now();
        eprintln!("{}", self.plain_line());
    }

    /// The plain line: done of total, the rate so far and the time left at that rate.
    fn plain_line(&self) -> String {
        let done = self.bar.position();
        let total = self.bar.length().unwrap_or(done);
        let elapsed = self.bar.elapsed().as_secs_f64();
        let rate = if elapsed > 0.0 {
            done as f64 / elapsed
        } else {
            0.0
        };
        let left = if rate > 0.0 {
            Duration::from_secs_f64(total.saturating_sub(done) as f64 / rate)
        } else {
            Duration::ZERO
        };
        format!(
            "{done}/{total} {}, {rate:.0}/s, {} left",
            self.what,
            HumanDuration(left)
        )
    }

    /// Takes the bar off the terminal.
    pub(super) fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plain_line_says_how_many_of_how_many_and_the_time_left() {
        let progress = Progress::new(1_000, "orders");
        progress.bar.inc(250);
        let line = progress.plain_line();
        assert!(line.starts_with("250/1000 orders, "), "{line}");
        assert!(line.ends_with(" left"), "{line}");
        // Nothing done yet: no rate, and no time left can be told.
        let idle = Progress::new(10, "entries");
        assert_eq!(idle.plain_line(), "0/10 entries, 0/s, 0 seconds left");
    }

    #[test]
    fn a_log_gets_plain_lines_and_a_terminal_gets_the_bar() {
        // Under the test runner stderr is not a terminal: indicatif draws nothing, so the plain
        // line is on.
        let progress = Progress::new(10, "orders");
        assert_eq!(
            progress.last_line.is_some(),
            progress.bar.is_hidden(),
            "the plain line must be on exactly when the bar is hidden"
        );
        progress.inc(3);
        assert_eq!(progress.bar.position(), 3);
    }
}
