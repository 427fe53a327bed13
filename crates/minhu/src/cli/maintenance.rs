//! `minhu migrate`, `minhu demo`, `minhu backup`, and the printing they share with `serve`.

use std::path::Path;
use std::process::ExitCode;

use super::open;
use super::progress::Progress;
use crate::config::Config;
use crate::demo::{self, DemoSummary};
use crate::service::App;
use crate::service::auth::random_password;
use crate::service::bootstrap::{ADMIN_USERNAME, BootstrapReport};

/// Applies migrations and bootstraps an empty centre.
pub(super) async fn migrate(config: Config) -> anyhow::Result<ExitCode> {
    let app = open(config).await?;
    println!("Database migrated ({} backend).", app.store.backend());
    let report = app.bootstrap().await?;
    print_bootstrap(&report, "MINHU_ADMIN_PASSWORD");
    Ok(ExitCode::SUCCESS)
}

/// Seeds the demo city, refusing politely when the database already holds data.
pub(super) async fn demo(config: Config) -> anyhow::Result<ExitCode> {
    let app = open(config).await?;
    let fresh = app.store.count_users().await? == 0;
    if !demo::is_seedable(&app).await? {
        eprintln!(
            "This database already holds units or orders beyond the bootstrap: the demo city is \
             only seeded into an empty centre. Point MINHU_DATABASE_URL at a new database to try it."
        );
        return Ok(ExitCode::FAILURE);
    }
    seed_demo_city(&app, fresh).await?;
    Ok(ExitCode::SUCCESS)
}

/// Bootstraps (a new `admin` gets `MINHU_ADMIN_PASSWORD`, else the demo password) and seeds the
/// demo city with `MINHU_DEMO_PASSWORD` or a random password, printed once.
pub(super) async fn seed_demo_city(app: &App, fresh: bool) -> anyhow::Result<DemoSummary> {
    let (password, generated) = match app.config.demo_password.clone() {
        Some(p) if !p.is_empty() => (p, false),
        _ => (random_password(), true),
    };
    let admin_configured = app.config.admin_password.is_some();
    let admin_password = app
        .config
        .admin_password
        .clone()
        .or_else(|| Some(password.clone()));
    let report = app.bootstrap_with_admin_password(admin_password).await?;
    let source = if admin_configured {
        "MINHU_ADMIN_PASSWORD"
    } else {
        "the demo password"
    };
    print_bootstrap(&report, source);
    println!(
        "Seeding the demo city {} (this takes a little while)…",
        demo::CITY_NAME
    );
    let summary = demo::seed_demo(app, &password).await?;
    // The demo's place names are in the dictionary only now: cut its orders again with them.
    app.register_place_names().await?;
    app.reindex_orders(false, 500, |_| {}).await?;
    app.reindex_knowledge().await?;
    print_summary(&summary);
    let shown = if generated {
        format!("{password}   (shown only now; set MINHU_DEMO_PASSWORD to choose it)")
    } else {
        "the value of MINHU_DEMO_PASSWORD".to_owned()
    };
    let admin_note = if !fresh {
        Some("its password is unchanged")
    } else if admin_configured {
        Some("its password is MINHU_ADMIN_PASSWORD")
    } else {
        None
    };
    demo::print_accounts(Some(&shown), admin_note);
    Ok(summary)
}

/// Prints what a bootstrap did, with a generated admin password shown once; `source` says where a
/// new admin's password came from when it was not generated.
pub(super) fn print_bootstrap(report: &BootstrapReport, source: &str) {
    if report.calendar_days_added > 0 {
        println!(
            "Stored the official calendar: {} holidays and make-up working days.",
            report.calendar_days_added
        );
    }
    if report.policy_rules_added > 0 {
        println!(
            "Stored the default time limits: {} rules.",
            report.policy_rules_added
        );
    }
    if report.centre_created {
        println!("Created the city centre unit.");
    }
    if report.admin_created {
        match &report.generated_admin_password {
            Some(password) => {
                println!();
                println!("Created the `{ADMIN_USERNAME}` account with the password: {password}");
                println!(
                    "It is shown only now. Sign in and change it, or set MINHU_ADMIN_PASSWORD before the first start."
                );
                println!();
            }
            None => {
                println!("Created the `{ADMIN_USERNAME}` account; its password is {source}.");
            }
        }
    }
}

fn print_summary(summary: &DemoSummary) {
    println!(
        "Demo city {}: {} districts, {} streets, {} communities, {} bureaus and companies, \
         {} categories ({} leaves), {} time-limit rules, {} dispatch catalogue entries, {} users, {} orders, \
         {} knowledge entries.",
        demo::CITY_NAME,
        summary.districts,
        summary.streets,
        summary.communities,
        summary.bureaus_and_enterprises,
        summary.categories,
        summary.leaf_categories,
        summary.policy_rules,
        summary.catalogue_entries,
        summary.users,
        summary.orders,
        summary.knowledge_entries,
    );
    let states: Vec<String> = summary
        .orders_by_state
        .iter()
        .map(|(state, count)| format!("{state} {count}"))
        .collect();
    println!("Orders by state: {}", states.join(", "));
}

/// Writes a consistent online copy of an SQLite database; PostgreSQL is pg_dump's job.
pub(super) async fn backup(config: Config, path: &Path) -> anyhow::Result<ExitCode> {
    let app = open(config).await?;
    if app.store.backend() != "sqlite" {
        eprintln!(
            "`minhu backup` copies SQLite databases. For PostgreSQL use pg_dump, e.g. \
             `pg_dump --format=custom --file=minhu.dump \"$MINHU_DATABASE_URL\"`."
        );
        return Ok(ExitCode::FAILURE);
    }
    if path.exists() {
        anyhow::bail!("{} already exists: choose a new file name", path.display());
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", parent.display()))?;
    }
    let target = path
        .to_str()
        .ok_or_else(|| anyhow::anyhow!("the backup path must be valid UTF-8"))?;
    app.store
        .backup_to(target)
        .await
        .map_err(|e| anyhow::anyhow!("backup to {} failed: {e:#}", path.display()))?;
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    app.audit(None, "backup", target, Some(format!("bytes={size}")), None)
        .await?;
    println!("Backup written to {} ({size} bytes).", path.display());
    Ok(ExitCode::SUCCESS)
}

/// Rebuilds the search index of orders with a progress bar: every order, or with `missing` only
/// those without a search document.
pub(super) async fn reindex(config: Config, missing: bool) -> anyhow::Result<ExitCode> {
    let app = open(config).await?;
    let added = app.register_place_names().await?;
    let (orders, indexed) = app.store.search_coverage().await?;
    let todo = if missing {
        (orders - indexed).max(0)
    } else {
        orders
    };
    println!(
        "{orders} orders, {indexed} with a search document; {} place names in the dictionary. \
         Indexing {todo}…",
        added
    );
    let bar = Progress::new(u64::try_from(todo).unwrap_or(0), "orders");
    let started = std::time::Instant::now();
    let done = app
        .reindex_orders(missing, 1000, |step| bar.inc(step.indexed))
        .await?;
    bar.finish();
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "Indexed {done} orders in {seconds:.1} s ({:.0} orders/s).",
        done as f64 / seconds.max(0.001)
    );
    let entries = app.reindex_knowledge().await?;
    println!("Indexed {entries} published knowledge entries.");
    Ok(ExitCode::SUCCESS)
}
