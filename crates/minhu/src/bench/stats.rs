//! What a benchmark run measured: latencies per kind of request in HDR histograms, successes and
//! errors inside the measurement window, and the figures printed from them (one JSON line each on
//! stdout, a short summary on stderr).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use serde::Serialize;

/// How many error messages a run keeps to print.
const ERROR_SAMPLES: usize = 5;

/// The measurement window: requests that start after the warm-up and end before `end` count.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    /// When measuring starts (the warm-up is over).
    pub start: Instant,
    /// When measuring ends; clients stop starting requests then.
    pub end: Instant,
}

impl Window {
    /// A window of `duration` after `warmup` from now.
    #[must_use]
    pub fn after(warmup: Duration, duration: Duration) -> Self {
        let start = Instant::now() + warmup;
        Self {
            start,
            end: start + duration,
        }
    }

    /// Whether a request that ran from `started` to `finished` counts.
    #[must_use]
    pub fn contains(&self, started: Instant, finished: Instant) -> bool {
        started >= self.start && finished <= self.end
    }

    /// Whether the run is over.
    #[must_use]
    pub fn is_over(&self) -> bool {
        Instant::now() >= self.end
    }

    /// The measured span in seconds.
    #[must_use]
    pub fn seconds(&self) -> f64 {
        (self.end - self.start).as_secs_f64()
    }
}

/// Latencies and counts of one kind of request (or action).
#[derive(Debug, Clone)]
pub struct KindStats {
    /// Latencies of the successful requests, in microseconds.
    pub latencies: Histogram<u64>,
    /// Successful requests.
    pub ok: u64,
    /// Failed requests (non-2xx answers and transport failures).
    pub errors: u64,
}

impl KindStats {
    /// Empty stats whose histogram is configured like `template`.
    fn like(template: &Histogram<u64>) -> Self {
        Self {
            latencies: Histogram::new_from(template),
            ok: 0,
            errors: 0,
        }
    }

    fn merge(&mut self, other: &KindStats) {
        // Both histograms resize automatically, so adding cannot run out of range.
        let _ = self.latencies.add(&other.latencies);
        self.ok += other.ok;
        self.errors += other.errors;
    }

    /// The latency at quantile `q` in milliseconds (0 without samples).
    #[must_use]
    pub fn quantile_ms(&self, q: f64) -> f64 {
        if self.latencies.is_empty() {
            return 0.0;
        }
        self.latencies.value_at_quantile(q) as f64 / 1000.0
    }

    /// The largest latency in milliseconds.
    #[must_use]
    pub fn max_ms(&self) -> f64 {
        if self.latencies.is_empty() {
            return 0.0;
        }
        self.latencies.max() as f64 / 1000.0
    }
}

/// What one client (or the whole run, merged) measured.
#[derive(Debug, Clone)]
pub struct Recorder {
    /// An empty histogram every kind's histogram copies its configuration from.
    template: Histogram<u64>,
    kinds: BTreeMap<&'static str, KindStats>,
    /// The first few error messages.
    pub samples: Vec<String>,
}

impl Recorder {
    /// An empty recorder: latencies in microseconds, three significant digits, histograms that
    /// grow to whatever latency they meet.
    pub fn new() -> anyhow::Result<Self> {
        Ok(Self {
            template: Histogram::new(3)?,
            kinds: BTreeMap::new(),
            samples: Vec::new(),
        })
    }

    /// Records one request of `kind` that ran from `started` to `finished`; `error` says why it
    /// failed. Requests outside the window are not counted, but their errors are still sampled
    /// (a warm-up that fails is worth a line).
    pub fn record(
        &mut self,
        window: &Window,
        kind: &'static str,
        started: Instant,
        finished: Instant,
        error: Option<String>,
    ) {
        let counted = window.contains(started, finished);
        if let Some(message) = error {
            if self.samples.len() < ERROR_SAMPLES {
                self.samples.push(format!("{kind}: {message}"));
            }
            if counted {
                self.kinds
                    .entry(kind)
                    .or_insert_with(|| KindStats::like(&self.template))
                    .errors += 1;
            }
            return;
        }
        if counted {
            let stats = self
                .kinds
                .entry(kind)
                .or_insert_with(|| KindStats::like(&self.template));
            stats.ok += 1;
            let micros = u64::try_from((finished - started).as_micros()).unwrap_or(u64::MAX / 4);
            let _ = stats.latencies.record(micros.max(1));
        }
    }

    /// Adds another recorder's counts.
    pub fn merge(&mut self, other: &Recorder) {
        for (kind, stats) in &other.kinds {
            self.kinds
                .entry(kind)
                .or_insert_with(|| KindStats::like(&self.template))
                .merge(stats);
        }
        for sample in &other.samples {
            if self.samples.len() < ERROR_SAMPLES {
                self.samples.push(sample.clone());
            }
        }
    }

    /// Every kind together.
    #[must_use]
    pub fn total(&self) -> KindStats {
        let mut total = KindStats::like(&self.template);
        for stats in self.kinds.values() {
            total.merge(stats);
        }
        total
    }

    /// The kinds recorded, by name.
    #[must_use]
    pub fn kinds(&self) -> &BTreeMap<&'static str, KindStats> {
        &self.kinds
    }
}

/// Where the figures were measured.
#[derive(Debug, Clone, Serialize)]
pub struct Context {
    /// Concurrent clients.
    pub clients: usize,
    /// `sqlite` or `postgres` (as the server says), or what `fsync` wrote to.
    pub database: String,
    /// How many orders the database held when the run started.
    pub orders: i64,
}

/// One figure: one JSON line on stdout.
#[derive(Debug, Clone, Serialize)]
pub struct Figure {
    /// e.g. `create.requests_per_s`, `lifecycle.p95_ms`, `lifecycle.sign.p50_ms`.
    pub name: String,
    pub value: f64,
    /// `requests/s`, `actions/s`, `ms`, `count`, …
    pub unit: &'static str,
    pub clients: usize,
    pub database: String,
    pub orders: i64,
}

impl Figure {
    /// A figure in `context`; the value is rounded to three decimals.
    #[must_use]
    pub fn new(context: &Context, name: String, value: f64, unit: &'static str) -> Self {
        Self {
            name,
            value: (value * 1000.0).round() / 1000.0,
            unit,
            clients: context.clients,
            database: context.database.clone(),
            orders: context.orders,
        }
    }
}

/// The standard figures of one set of stats: the rate, p50, p95, p99, max and errors.
#[must_use]
pub fn figures(
    context: &Context,
    prefix: &str,
    stats: &KindStats,
    seconds: f64,
    rate_name: &str,
    rate_unit: &'static str,
) -> Vec<Figure> {
    let rate = stats.ok as f64 / seconds.max(f64::MIN_POSITIVE);
    vec![
        Figure::new(context, format!("{prefix}.{rate_name}"), rate, rate_unit),
        Figure::new(
            context,
            format!("{prefix}.p50_ms"),
            stats.quantile_ms(0.50),
            "ms",
        ),
        Figure::new(
            context,
            format!("{prefix}.p95_ms"),
            stats.quantile_ms(0.95),
            "ms",
        ),
        Figure::new(
            context,
            format!("{prefix}.p99_ms"),
            stats.quantile_ms(0.99),
            "ms",
        ),
        Figure::new(context, format!("{prefix}.max_ms"), stats.max_ms(), "ms"),
        Figure::new(
            context,
            format!("{prefix}.errors"),
            stats.errors as f64,
            "count",
        ),
    ]
}

/// Prints figures as JSON lines on stdout.
pub fn print_figures(figures: &[Figure]) {
    for figure in figures {
        match serde_json::to_string(figure) {
            Ok(line) => println!("{line}"),
            Err(err) => eprintln!("cannot print the figure {}: {err}", figure.name),
        }
    }
}

/// One line of the human summary on stderr.
#[must_use]
pub fn summary_line(label: &str, stats: &KindStats, seconds: f64, unit: &str) -> String {
    format!(
        "{label:<22} {:>9.1} {unit:<10} p50 {:>7.2} ms  p95 {:>7.2} ms  p99 {:>7.2} ms  max {:>8.2} ms  errors {}",
        stats.ok as f64 / seconds.max(f64::MIN_POSITIVE),
        stats.quantile_ms(0.50),
        stats.quantile_ms(0.95),
        stats.quantile_ms(0.99),
        stats.max_ms(),
        stats.errors,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_requests_inside_the_window_count() {
        let now = Instant::now();
        let window = Window {
            start: now + Duration::from_millis(10),
            end: now + Duration::from_millis(1010),
        };
        let mut recorder = Recorder::new().unwrap();
        recorder.record(&window, "read", now, now + Duration::from_millis(20), None);
        for ms in 1..=100u64 {
            let start = window.start + Duration::from_millis(ms);
            recorder.record(
                &window,
                "read",
                start,
                start + Duration::from_millis(ms),
                None,
            );
        }
        let late = window.end - Duration::from_millis(1);
        recorder.record(&window, "read", late, late + Duration::from_millis(5), None);
        let at = window.start + Duration::from_millis(500);
        recorder.record(&window, "read", at, at, Some("500: boom".to_owned()));
        let total = recorder.total();
        assert_eq!((total.ok, total.errors), (100, 1));
        assert!(
            (total.quantile_ms(0.5) - 50.0).abs() < 0.1,
            "{}",
            total.quantile_ms(0.5)
        );
        assert!((total.max_ms() - 100.0).abs() < 0.1);
        assert_eq!(recorder.samples, ["read: 500: boom"]);

        let mut merged = Recorder::new().unwrap();
        merged.merge(&recorder);
        merged.merge(&recorder);
        assert_eq!(merged.total().ok, 200);
        let context = Context {
            clients: 2,
            database: "sqlite".to_owned(),
            orders: 7,
        };
        let lines = figures(
            &context,
            "read",
            &merged.total(),
            1.0,
            "requests_per_s",
            "requests/s",
        );
        assert_eq!(lines[0].name, "read.requests_per_s");
        assert!((lines[0].value - 200.0).abs() < 1e-9);
        assert_eq!(lines[5].value, 2.0);
        let json = serde_json::to_value(&lines[0]).unwrap();
        for field in ["name", "value", "unit", "clients", "database", "orders"] {
            assert!(json.get(field).is_some(), "{field} in {json}");
        }
    }
}
