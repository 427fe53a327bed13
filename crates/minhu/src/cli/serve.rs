//! `minhu serve [--demo]`: the HTTP server.

use std::net::SocketAddr;
use std::process::ExitCode;

use anyhow::Context as _;
use tokio::net::TcpListener;

use super::maintenance::{print_bootstrap, seed_demo_city};
use super::open;
use crate::config::Config;
use crate::demo;
use crate::http::router;

/// Opens, migrates and bootstraps the database, seeds the demo city when asked and the database
/// is empty, then serves until Ctrl-C or SIGTERM.
pub(super) async fn serve(config: Config, with_demo: bool) -> anyhow::Result<ExitCode> {
    let listen = config.listen.clone();
    let app = open(config).await?;
    let fresh = app.store.count_users().await? == 0;

    if with_demo && demo::is_seedable(&app).await? {
        seed_demo_city(&app, fresh).await?;
    } else {
        let report = app.bootstrap().await?;
        print_bootstrap(&report, "MINHU_ADMIN_PASSWORD");
        if with_demo {
            println!(
                "This database already holds the demo city or other data: not seeding it again."
            );
            demo::print_accounts(None, None);
        }
    }

    // Place names into the dictionary before anything is cut.
    app.register_place_names().await?;

    for year in app.calendar_gaps().await? {
        tracing::warn!(year, "the holiday calendar has no data for this year");
        println!(
            "注意：节假日日历缺少 {year} 年的数据，该年按周一至周五计算工作日。请用 `minhu calendar import` 导入国务院办公厅的节假日安排。"
        );
    }

    let listener = TcpListener::bind(&listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let address = listener
        .local_addr()
        .context("reading the listening address")?;
    tracing::info!(%address, backend = app.store.backend(), "minhu is listening");
    println!(
        "minhu is running at http://{address}/  (API: http://{address}/api/v1/openapi.json; stop with Ctrl-C)"
    );

    // Index the orders that have no search document (a database from before search, or a
    // deleted index) while already serving: every order saved from now on is indexed in its own
    // transaction, and looking for the missing ones among millions took seconds (8.9 s at a
    // million orders, cold), which start-up must not wait for.
    let indexer = app.clone();
    tokio::spawn(async move {
        match indexer.index_missing_orders(1000, |_| {}).await {
            Ok(0) => {}
            Ok(indexed) => {
                tracing::info!(indexed, "indexed orders for full-text search");
                println!("Indexed {indexed} orders for full-text search.");
            }
            Err(err) => {
                tracing::error!(%err, "indexing the orders without a search document failed")
            }
        }
    });

    axum::serve(
        listener,
        router(app).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
    .context("the HTTP server failed")?;
    tracing::info!("minhu stopped");
    Ok(ExitCode::SUCCESS)
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing the requests in flight");
}
