//! `minhu bench`, the CI smoke run: the built binary serves a temporary SQLite database seeded
//! with the demo city, and every scenario runs against it for a second with two clients; each
//! printed line must be a figure with its fields, the throughput positive and no request failed.
//! `minhu bench fsync` runs in a scratch folder meanwhile. Also: a bench without a server fails
//! with a clear message and a non-zero exit.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Output, Stdio};

use serde_json::Value;

use crate::durability::{Server, command, run};

/// The scenarios, in two waves of four at a time against the one server (they share its two
/// cores; all eight at once saved under 2 s of the 8).
const WAVES: [[&str; 4]; 2] = [
    ["create", "lifecycle", "read", "queue"],
    ["search", "knowledge", "similar", "mixed"],
];

/// Starts `minhu bench ARGS…` on `url`'s settings (the demo password comes with them).
fn spawn_bench(url: &str, args: &[&str]) -> std::process::Child {
    command(url)
        .arg("bench")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start minhu bench")
}

fn finish(child: std::process::Child, what: &str) -> Output {
    let output = child.wait_with_output().expect("wait for minhu bench");
    assert!(
        output.status.success(),
        "minhu bench {what} failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// The figures of a run by name, after checking every line's shape, that nothing failed and
/// that `rate` (the run's throughput figure) is positive.
fn figures(output: &Output, what: &str, clients: u64, rate: &str) -> Vec<(String, Value)> {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let mut figures = Vec::new();
    for line in stdout.lines() {
        let figure: Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("{what}: not a JSON line ({e}): {line}\n{stderr}"));
        let name = figure["name"].as_str().expect("a name").to_owned();
        assert!(figure["value"].is_number(), "{what}: value of {line}");
        assert!(
            figure["unit"].as_str().is_some_and(|u| !u.is_empty()),
            "{what}: unit of {line}"
        );
        assert_eq!(figure["clients"], clients, "{what}: clients of {line}");
        assert!(figure["database"].is_string(), "{what}: database of {line}");
        assert!(figure["orders"].is_i64(), "{what}: orders of {line}");
        if name.ends_with(".errors") {
            assert_eq!(figure["value"], 0.0, "{what}: {line}\n{stderr}");
        }
        figures.push((name, figure));
    }
    let throughput = figures
        .iter()
        .find(|(name, _)| name == rate)
        .unwrap_or_else(|| panic!("{what}: no {rate} in\n{stdout}\n{stderr}"));
    assert!(
        throughput.1["value"].as_f64().is_some_and(|v| v > 0.0),
        "{what}: {}\n{stderr}",
        throughput.1
    );
    let (prefix, _) = rate.rsplit_once('.').expect("a dotted name");
    for suffix in ["p50_ms", "p95_ms", "p99_ms", "max_ms", "errors"] {
        let name = format!("{prefix}.{suffix}");
        assert!(
            figures.iter().any(|(n, _)| *n == name),
            "{what}: no {name} in\n{stdout}"
        );
    }
    figures
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_scenario_runs_against_a_demo_server() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/minhu.db", dir.path().display());
    let scratch = dir.path().join("fsync");
    std::fs::create_dir(&scratch).unwrap();
    let scratch_arg = scratch.display().to_string();
    // The disk measurement needs no server: it runs while the demo city is seeded.
    let fsync = spawn_bench(&url, &["fsync", "--path", &scratch_arg, "--duration", "1"]);
    let started = std::time::Instant::now();
    run(&url, &["demo"]);
    eprintln!(
        "demo city seeded in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let fsync = finish(fsync, "fsync");
    let lines = figures(&fsync, "fsync", 1, "fsync.file.syncs_per_s");
    for batch in [1, 10, 100] {
        let name = format!("fsync.sqlite.batch{batch}.commits_per_s");
        let (_, figure) = lines
            .iter()
            .find(|(n, _)| *n == name)
            .unwrap_or_else(|| panic!("no {name}"));
        assert!(figure["value"].as_f64().unwrap() > 0.0, "{figure}");
    }
    assert_eq!(
        std::fs::read_dir(&scratch).unwrap().count(),
        0,
        "fsync leaves no scratch file behind"
    );

    let server = Server::start(&url, dir.path(), "bench").await;
    // `mixed` goes to the server twice over, as to two app nodes: the clients take turns.
    let twice = format!("{},{}", server.base, server.base);
    let started = std::time::Instant::now();
    for wave in WAVES {
        let children: Vec<_> = wave
            .iter()
            .map(|scenario| {
                let target = if *scenario == "mixed" {
                    twice.as_str()
                } else {
                    server.base.as_str()
                };
                let args = [
                    scenario,
                    "--target",
                    target,
                    "--clients",
                    "2",
                    "--duration",
                    "1",
                    "--warmup",
                    "0.3",
                ];
                (*scenario, spawn_bench(&url, &args))
            })
            .collect();
        for (scenario, child) in children {
            let output = tokio::task::spawn_blocking(move || finish(child, scenario))
                .await
                .unwrap();
            let rate = match scenario {
                "lifecycle" | "mixed" => format!("{scenario}.actions_per_s"),
                _ => format!("{scenario}.requests_per_s"),
            };
            let lines = figures(&output, scenario, 2, &rate);
            let (_, first) = &lines[0];
            assert_eq!(first["database"], "sqlite", "{first}");
            assert!(
                first["orders"].as_i64().unwrap() >= 300,
                "the demo's orders: {first}"
            );
        }
    }
    eprintln!("scenarios run in {:.1} s", started.elapsed().as_secs_f64());
    assert!(
        !server.log_text().contains("panicked"),
        "{}",
        server.log_text()
    );
}

#[test]
fn without_a_server_the_bench_fails_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/minhu.db", dir.path().display());
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    let target = format!("http://127.0.0.1:{closed}");
    let output = command(&url)
        .args(["bench", "read", "--target", &target, "--duration", "1"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(stderr.contains("cannot reach a minhu server"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(output.stdout.is_empty());

    let output = command(&url)
        .args(["bench", "fsync", "--duration", "1"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(stderr.contains("--path"), "{stderr}");
    let missing = Path::new(dir.path()).join("missing");
    let output = command(&url)
        .args(["bench", "fsync", "--duration", "1", "--path"])
        .arg(&missing)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(stderr.contains("is not a folder"), "{stderr}");
}
