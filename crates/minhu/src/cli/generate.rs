//! `minhu gen`: the order history generator, with its progress (a bar, or a plain line in a log) and the rate at the end.

use std::process::ExitCode;

use chrono::{DateTime, Utc};

use super::maintenance::seed_demo_city;
use super::open;
use super::progress::Progress;
use crate::config::Config;
use crate::demo;
use crate::generate::knowledge::generate_knowledge;
use crate::generate::{GenOptions, generate};

/// Seeds the demo city if the database is empty, then generates `orders` orders over `years`
/// years ending at `now` (the clock's now if not given) and `knowledge` knowledge entries.
pub(super) async fn run(
    config: Config,
    orders: u64,
    seed: u64,
    years: u32,
    now: Option<DateTime<Utc>>,
    knowledge: u64,
) -> anyhow::Result<ExitCode> {
    let url = config.database_url.clone();
    let app = open(config).await?;
    if demo::is_seedable(&app).await? {
        let fresh = app.store.count_users().await? == 0;
        seed_demo_city(&app, fresh).await?;
    }
    println!(
        "Generating {orders} orders over {years} years (seed {seed}) into {} …",
        crate::storage::redact_url(&url)
    );
    let bar = Progress::new(orders, "orders");
    let started = std::time::Instant::now();
    let options = GenOptions {
        orders,
        seed,
        years,
        now: now.unwrap_or_else(|| app.now()),
    };
    let report = generate(&app, &options, |n| bar.inc(n)).await?;
    bar.finish();
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "Generated {} orders ({} history lines) from {} to {} in {seconds:.1} s: {:.0} orders/s.",
        report.orders,
        report.history_lines,
        report.first_day.map(|d| d.to_string()).unwrap_or_default(),
        report.last_day.map(|d| d.to_string()).unwrap_or_default(),
        report.orders as f64 / seconds.max(f64::MIN_POSITIVE)
    );
    if report.deferred_indexes > 0 {
        println!(
            "Of that, {:.1} s built the {} indexes of the order tables left out during the load.",
            report.index_build.as_secs_f64(),
            report.deferred_indexes
        );
    }
    if knowledge > 0 {
        let bar = Progress::new(knowledge, "entries");
        let started = std::time::Instant::now();
        let made = generate_knowledge(&app, knowledge, seed, |n| bar.inc(n)).await?;
        bar.finish();
        let seconds = started.elapsed().as_secs_f64();
        println!(
            "Added {made} knowledge entries in {seconds:.1} s: {:.0} entries/s.",
            made as f64 / seconds.max(f64::MIN_POSITIVE)
        );
    }
    let started = std::time::Instant::now();
    app.store.refresh_statistics().await?;
    println!(
        "Refreshed the query planner's statistics (on PostgreSQL with a VACUUM) in {:.1} s.",
        started.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}
