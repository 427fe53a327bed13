//! An order acknowledged to a client survives `kill -9` of the server: the built `minhu` binary
//! serves a temporary SQLite database seeded with the demo city, an agent registers 50 orders
//! through the API, the server is killed with SIGKILL and restarted, and every order is there,
//! unchanged.
//!
//! Also here, ignored by default: the throughput measurement of the API on SQLite with durable
//! commits (`scripts/bench`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use minhu_domain::UnitKind;
use serde_json::{Value, json};

/// Runs `minhu` on `url` without any `MINHU_*` setting of the caller.
pub(crate) fn command(url: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_minhu"));
    for (key, _) in std::env::vars() {
        if key.starts_with("MINHU_") {
            command.env_remove(key);
        }
    }
    command
        .env("MINHU_DATABASE_URL", url)
        .env("MINHU_DEMO_PASSWORD", "password")
        .env("MINHU_ADMIN_PASSWORD", "admin-password-1")
        .env("RUST_LOG", "warn");
    command
}

pub(crate) fn run(url: &str, args: &[&str]) -> Output {
    let output = command(url).args(args).output().expect("run minhu");
    assert!(
        output.status.success(),
        "minhu {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// A running `minhu serve`, killed with SIGKILL when dropped.
pub(crate) struct Server {
    child: Child,
    pub(crate) base: String,
    log: PathBuf,
}

impl Server {
    /// Starts `minhu serve` on a free port and waits until it answers `/healthz`.
    pub(crate) async fn start(url: &str, dir: &Path, name: &str) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("find a free port")
            .port();
        let log = dir.join(format!("{name}.log"));
        let file = std::fs::File::create(&log).expect("create the server log");
        let child = command(url)
            .env("MINHU_LISTEN", format!("127.0.0.1:{port}"))
            .arg("serve")
            .stdout(Stdio::from(file.try_clone().expect("clone the log file")))
            .stderr(Stdio::from(file))
            .spawn()
            .expect("start minhu serve");
        let server = Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
            log,
        };
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if let Ok(response) = client.get(format!("{}/healthz", server.base)).send().await
                && response.status().is_success()
            {
                return server;
            }
            assert!(
                Instant::now() < deadline,
                "the server did not come up:\n{}",
                server.log_text()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub(crate) fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// `kill -9`: no shutdown, no flushing beyond what each commit already did.
    fn kill(mut self) {
        self.child.kill().expect("SIGKILL the server");
        self.child.wait().expect("reap the server");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn login(client: &reqwest::Client, base: &str, username: &str) -> String {
    let response = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": username, "password": "password"}))
        .send()
        .await
        .expect("log in");
    assert_eq!(response.status(), 200, "login of {username}");
    let body: Value = response.json().await.expect("login answer");
    body["token"].as_str().expect("a token").to_owned()
}

/// The ids an order needs, read from the database while no server runs.
struct Ids {
    category_id: i64,
    district_id: i64,
    street_id: i64,
    community_id: i64,
}

async fn ids(url: &str) -> Ids {
    let store = minhu::storage::connect(url)
        .await
        .expect("open the database");
    let categories = store.list_categories().await.unwrap();
    let category_id = categories
        .iter()
        .find(|c| c.code == "010101")
        .expect("the demo category 停水")
        .id;
    let units = store.list_units().await.unwrap();
    let first_child = |parent: i64, kind: UnitKind| {
        units
            .iter()
            .filter(|u| u.parent_id == Some(parent) && u.kind == kind)
            .map(|u| u.id)
            .min()
            .expect("a demo unit")
    };
    let centre = units
        .iter()
        .find(|u| u.kind == UnitKind::CityCentre)
        .expect("the centre")
        .id;
    let district_id = first_child(centre, UnitKind::DistrictCentre);
    let street_id = first_child(district_id, UnitKind::Street);
    let community_id = first_child(street_id, UnitKind::Community);
    Ids {
        category_id,
        district_id,
        street_id,
        community_id,
    }
}

fn order_body(ids: &Ids, i: usize) -> Value {
    json!({
        "channel": "phone",
        "citizen": {"name": "王女士", "phone": format!("1390000{i:04}")},
        "order_type": "help",
        "category_id": ids.category_id,
        "title": format!("幸福里小区{i}号楼停水"),
        "content": format!("来电人反映：幸福里小区{i}号楼今天早上突然停水，希望尽快恢复供水。"),
        "urgency": "normal",
        "location": {
            "district_id": ids.district_id,
            "street_id": ids.street_id,
            "community_id": ids.community_id,
            "address": format!("幸福里小区{i}号楼")
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_orders_survive_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/minhu.db", dir.path().display());
    run(&url, &["demo"]);
    let ids = ids(&url).await;

    let server = Server::start(&url, dir.path(), "first").await;
    let client = reqwest::Client::new();
    let token = login(&client, &server.base, "agent1").await;
    let mut acknowledged = Vec::new();
    for i in 0..50 {
        let body = order_body(&ids, i);
        let response = client
            .post(format!("{}/api/v1/orders", server.base))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await
            .expect("register an order");
        let status = response.status();
        let order: Value = response.json().await.expect("the new order");
        assert_eq!(status, 201, "order {i}: {order}");
        let number = order["number"].as_str().expect("a number").to_owned();
        acknowledged.push((number, body));
    }
    server.kill();

    let server = Server::start(&url, dir.path(), "second").await;
    let token = login(&client, &server.base, "agent1").await;
    for (number, body) in &acknowledged {
        let response = client
            .get(format!("{}/api/v1/orders/{number}", server.base))
            .bearer_auth(&token)
            .send()
            .await
            .expect("read an order");
        assert_eq!(response.status(), 200, "order {number} lost after kill -9");
        let order: Value = response.json().await.unwrap();
        assert_eq!(order["number"], number.as_str());
        assert_eq!(order["title"], body["title"], "{number}");
        assert_eq!(order["content"], body["content"], "{number}");
        assert_eq!(order["citizen"]["phone"], body["citizen"]["phone"]);
        assert_eq!(order["category_id"], body["category_id"]);
        assert_eq!(order["state"], "registered");
    }
    let mut numbers: Vec<&String> = acknowledged.iter().map(|(n, _)| n).collect();
    numbers.sort();
    numbers.dedup();
    assert_eq!(numbers.len(), 50, "order numbers are unique");
}

/// Orders per second through `POST /api/v1/orders` on SQLite with durable commits, with 1 and
/// with 32 concurrent clients, and the p50/p99 latency. Run with `scripts/bench` (release build).
#[tokio::test(flavor = "multi_thread")]
#[ignore = "a measurement, not a test: run scripts/bench"]
async fn measure_order_throughput() {
    let total: usize = std::env::var("MINHU_BENCH_ORDERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/minhu.db", dir.path().display());
    run(&url, &["demo"]);
    let ids = std::sync::Arc::new(ids(&url).await);
    let server = Server::start(&url, dir.path(), "bench").await;
    let client = reqwest::Client::new();
    let token = login(&client, &server.base, "agent1").await;
    println!(
        "minhu {} — POST /api/v1/orders, SQLite (WAL, synchronous=FULL), {} cores",
        if cfg!(debug_assertions) {
            "debug build"
        } else {
            "release build"
        },
        std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
    );
    for clients in [1usize, 32] {
        let per_client = (total / clients).max(1);
        let started = Instant::now();
        let mut tasks = Vec::new();
        for c in 0..clients {
            let (client, token, base, ids) = (
                client.clone(),
                token.clone(),
                server.base.clone(),
                ids.clone(),
            );
            tasks.push(tokio::spawn(async move {
                let mut latencies = Vec::with_capacity(per_client);
                for i in 0..per_client {
                    let body = order_body(&ids, c * per_client + i);
                    let sent = Instant::now();
                    let response = client
                        .post(format!("{base}/api/v1/orders"))
                        .bearer_auth(&token)
                        .json(&body)
                        .send()
                        .await
                        .expect("register");
                    assert_eq!(response.status(), 201);
                    let _ = response.bytes().await;
                    latencies.push(sent.elapsed());
                }
                latencies
            }));
        }
        let mut latencies = Vec::new();
        for task in tasks {
            latencies.extend(task.await.expect("a client"));
        }
        let elapsed = started.elapsed();
        latencies.sort();
        let at = |q: f64| {
            let index = ((latencies.len() as f64 - 1.0) * q).round() as usize;
            latencies.get(index).copied().unwrap_or_default()
        };
        println!(
            "{clients:>2} client(s): {} orders in {:.2} s = {:.0} orders/s; latency p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            latencies.len(),
            elapsed.as_secs_f64(),
            latencies.len() as f64 / elapsed.as_secs_f64(),
            at(0.50).as_secs_f64() * 1000.0,
            at(0.99).as_secs_f64() * 1000.0,
            latencies.last().copied().unwrap_or_default().as_secs_f64() * 1000.0,
        );
    }
    server.kill();
}
