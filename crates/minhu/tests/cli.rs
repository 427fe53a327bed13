//! The `minhu` command line, run as the built binary on a temporary SQLite database: migrate and
//! bootstrap, user accounts, the calendar, backups, and clear failures without panics.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[allow(dead_code)]
use crate::support::db;

use std::path::Path;
use std::process::{Command, Output};

/// Runs `minhu` with `MINHU_DATABASE_URL` set and no other `MINHU_*` setting of the caller.
fn minhu(database_url: &str, env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_minhu"));
    for (key, _) in std::env::vars() {
        if key.starts_with("MINHU_") {
            command.env_remove(key);
        }
    }
    command
        .env("MINHU_DATABASE_URL", database_url)
        .env("RUST_LOG", "warn")
        .envs(env.iter().copied())
        .args(args)
        .output()
        .expect("run the minhu binary")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[track_caller]
fn assert_ok(output: &Output) {
    assert!(
        output.status.success(),
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status.code(),
        stdout(output),
        stderr(output)
    );
}

/// Fails clearly: non-zero exit, a message, no panic.
#[track_caller]
fn assert_clear_failure(output: &Output, expected: &str) {
    let err = stderr(output);
    assert!(
        !output.status.success(),
        "should fail: {}\n{err}",
        stdout(output)
    );
    assert!(err.contains(expected), "stderr lacks `{expected}`:\n{err}");
    assert!(!err.contains("panicked"), "panicked:\n{err}");
}

fn sqlite_url(dir: &Path) -> String {
    format!("sqlite://{}/minhu.db", dir.display())
}

#[test]
fn migrate_bootstraps_once_and_prints_the_admin_password_once() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(dir.path());
    let first = minhu(&url, &[], &["migrate"]);
    assert_ok(&first);
    let out = stdout(&first);
    assert!(out.contains("Database migrated"), "{out}");
    assert!(out.contains("official calendar"), "{out}");
    assert!(
        out.contains("Created the `admin` account with the password:"),
        "{out}"
    );

    let second = minhu(&url, &[], &["migrate"]);
    assert_ok(&second);
    let out = stdout(&second);
    assert!(!out.contains("password"), "printed a password twice: {out}");
}

#[test]
fn the_admin_password_can_come_from_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(dir.path());
    let output = minhu(
        &url,
        &[("MINHU_ADMIN_PASSWORD", "admin-secret-1")],
        &["migrate"],
    );
    assert_ok(&output);
    let out = stdout(&output);
    assert!(
        out.contains("its password is MINHU_ADMIN_PASSWORD"),
        "{out}"
    );
    assert!(!out.contains("admin-secret-1"), "{out}");
}

#[test]
fn users_are_added_listed_and_given_passwords() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(dir.path());
    assert_ok(&minhu(&url, &[], &["migrate"]));

    let added = minhu(
        &url,
        &[],
        &[
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
        ],
    );
    assert_ok(&added);
    let out = stdout(&added);
    assert!(out.contains("Created user `agent9`"), "{out}");
    assert!(out.contains("Password (shown only now):"), "{out}");

    let listed = minhu(&url, &[], &["user", "list"]);
    assert_ok(&listed);
    let out = stdout(&listed);
    let line = out
        .lines()
        .find(|l| l.starts_with("agent9\t"))
        .unwrap_or_else(|| panic!("agent9 not listed:\n{out}"));
    assert!(line.contains("王芳") && line.contains("agent,visitor") && line.contains("CENTRE"));
    assert!(out.lines().any(|l| l.starts_with("admin\t")), "{out}");

    // The same username again, an unknown unit, an unknown role, a weak password: clear errors.
    let again = minhu(
        &url,
        &[],
        &[
            "user",
            "add",
            "--username",
            "agent9",
            "--name",
            "李四",
            "--unit",
            "CENTRE",
            "--role",
            "agent",
            "--password",
            "long-enough-1",
        ],
    );
    assert_clear_failure(&again, "error:");
    let nowhere = minhu(
        &url,
        &[],
        &[
            "user",
            "add",
            "--username",
            "agent10",
            "--name",
            "李四",
            "--unit",
            "NOWHERE",
            "--role",
            "agent",
        ],
    );
    assert_clear_failure(&nowhere, "no unit has the code `NOWHERE`");
    let bad_role = minhu(
        &url,
        &[],
        &[
            "user",
            "add",
            "--username",
            "agent10",
            "--name",
            "李四",
            "--unit",
            "CENTRE",
            "--role",
            "boss",
        ],
    );
    assert_clear_failure(&bad_role, "unknown role `boss`");

    assert_ok(&minhu(
        &url,
        &[],
        &["user", "passwd", "agent9", "--password", "new-pass-123"],
    ));
    let weak = minhu(
        &url,
        &[],
        &["user", "passwd", "agent9", "--password", "1234"],
    );
    assert_clear_failure(&weak, "密码");
    let generated = minhu(&url, &[], &["user", "passwd", "agent9"]);
    assert_ok(&generated);
    assert!(stdout(&generated).contains("New password (shown only now):"));
    let unknown = minhu(&url, &[], &["user", "passwd", "nobody"]);
    assert_clear_failure(&unknown, "no user is called `nobody`");
}

#[test]
fn calendar_files_are_imported_and_shown() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(dir.path());
    assert_ok(&minhu(&url, &[], &["migrate"]));

    let file = dir.path().join("cn-2027.txt");
    std::fs::write(
        &file,
        "# test calendar\n2027-01-01 holiday 元旦\n2027-02-06 workday 春节调休上班\n",
    )
    .unwrap();
    let imported = minhu(&url, &[], &["calendar", "import", file.to_str().unwrap()]);
    assert_ok(&imported);
    assert!(stdout(&imported).contains("Imported 2 days for 2027"));

    let shown = minhu(&url, &[], &["calendar", "show", "--year", "2027"]);
    assert_ok(&shown);
    assert_eq!(
        stdout(&shown),
        "2027-01-01 holiday 元旦\n2027-02-06 workday 春节调休上班\n"
    );
    // The shipped calendar came with the bootstrap.
    let all = stdout(&minhu(&url, &[], &["calendar", "show"]));
    assert!(all.contains("2026-02-17 holiday 春节"), "{all}");
    assert!(all.contains("2027-01-01 holiday 元旦"), "{all}");

    // Importing again replaces (upsert), it does not duplicate.
    std::fs::write(&file, "2027-01-01 holiday 元旦（更正）\n").unwrap();
    assert_ok(&minhu(
        &url,
        &[],
        &["calendar", "import", file.to_str().unwrap()],
    ));
    let shown = stdout(&minhu(&url, &[], &["calendar", "show", "--year", "2027"]));
    assert_eq!(
        shown,
        "2027-01-01 holiday 元旦（更正）\n2027-02-06 workday 春节调休上班\n"
    );

    let bad = dir.path().join("bad.txt");
    std::fs::write(&bad, "2027-01-01 holiday 元旦\n2027-13-01 holiday 不存在\n").unwrap();
    let refused = minhu(&url, &[], &["calendar", "import", bad.to_str().unwrap()]);
    assert_clear_failure(&refused, "line 2");
    let missing = minhu(
        &url,
        &[],
        &["calendar", "import", "/nonexistent/calendar.txt"],
    );
    assert_clear_failure(&missing, "cannot read");
}

#[test]
fn backup_writes_a_usable_copy() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(dir.path());
    assert_ok(&minhu(&url, &[], &["migrate"]));
    assert_ok(&minhu(
        &url,
        &[],
        &[
            "user",
            "add",
            "--username",
            "agent9",
            "--name",
            "王芳",
            "--unit",
            "CENTRE",
            "--role",
            "agent",
        ],
    ));

    let copy = dir.path().join("backups").join("copy.db");
    let output = minhu(&url, &[], &["backup", copy.to_str().unwrap()]);
    assert_ok(&output);
    assert!(stdout(&output).contains("Backup written"));
    assert!(std::fs::metadata(&copy).unwrap().len() > 0);

    // The copy is a complete database.
    let copy_url = format!("sqlite://{}", copy.display());
    let listed = stdout(&minhu(&copy_url, &[], &["user", "list"]));
    assert!(
        listed.lines().any(|l| l.starts_with("agent9\t")),
        "{listed}"
    );

    // An existing file is never overwritten.
    let again = minhu(&url, &[], &["backup", copy.to_str().unwrap()]);
    assert_clear_failure(&again, "already exists");
}

#[tokio::test]
async fn backup_of_postgres_points_to_pg_dump() {
    if db::postgres_skipped() {
        return;
    }
    let database = db::postgres().await;
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("copy.db");
    let url = database.url.clone();
    let target_text = target.to_str().unwrap().to_owned();
    let output = tokio::task::spawn_blocking(move || minhu(&url, &[], &["backup", &target_text]))
        .await
        .unwrap();
    assert_clear_failure(&output, "pg_dump");
    assert!(!target.exists());
}

#[test]
fn bad_settings_fail_clearly_without_panicking() {
    let dir = tempfile::tempdir().unwrap();
    let unknown_scheme = minhu("mysql://localhost/minhu", &[], &["migrate"]);
    assert_clear_failure(&unknown_scheme, "unsupported database URL");

    let blocker = dir.path().join("a-file");
    std::fs::write(&blocker, "not a folder").unwrap();
    let under_a_file = format!("sqlite://{}/minhu.db", blocker.display());
    let output = minhu(&under_a_file, &[], &["user", "list"]);
    assert_clear_failure(&output, "cannot open the database");

    let url = sqlite_url(dir.path());
    let bad_zone = minhu(&url, &[("MINHU_TIMEZONE", "Mars/Olympus")], &["migrate"]);
    assert_clear_failure(&bad_zone, "Mars/Olympus");

    let missing_config = minhu(
        &url,
        &[],
        &["--config", "/nonexistent/minhu.toml", "migrate"],
    );
    assert_clear_failure(&missing_config, "does not exist");

    let no_command = minhu(&url, &[], &["frobnicate"]);
    assert_eq!(no_command.status.code(), Some(2));
    assert!(!stderr(&no_command).contains("panicked"));
}

#[test]
fn help_lists_every_command() {
    let output = minhu("sqlite://unused.db", &[], &["--help"]);
    assert_ok(&output);
    let out = stdout(&output);
    for command in [
        "serve", "migrate", "demo", "user", "calendar", "backup", "reindex",
    ] {
        assert!(out.contains(command), "{command} missing from:\n{out}");
    }
}

#[test]
fn reindex_rebuilds_the_search_index_of_the_demo_city() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(dir.path());
    assert_ok(&minhu(
        &url,
        &[("MINHU_DEMO_PASSWORD", "password")],
        &["demo"],
    ));
    // Nothing is missing after the demo; a full rebuild cuts every order again.
    let missing = minhu(&url, &[], &["reindex", "--missing"]);
    assert_ok(&missing);
    assert!(
        stdout(&missing).contains("Indexed 0 orders"),
        "{}",
        stdout(&missing)
    );
    let full = minhu(&url, &[], &["reindex"]);
    assert_ok(&full);
    let out = stdout(&full);
    let orders: u64 = out
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .expect("the order count first");
    assert!(orders >= 300, "{out}");
    assert!(out.contains(&format!("Indexed {orders} orders")), "{out}");
    assert!(
        out.contains("Indexed 249 published knowledge entries"),
        "{out}"
    );
}

/// The orders of a generated database, in id order: number, state, title, creation time.
fn generated_orders(dir: &Path) -> Vec<(String, String, String, i64)> {
    let connection = rusqlite::Connection::open(dir.join("minhu.db")).unwrap();
    let mut statement = connection
        .prepare("SELECT number, state, title, created_at FROM orders ORDER BY id")
        .unwrap();
    statement
        .query_map([], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn gen_with_a_fixed_now_gives_the_same_orders_on_every_run() {
    let env = [("MINHU_DEMO_PASSWORD", "password")];
    let args = [
        "gen",
        "--orders",
        "400",
        "--seed",
        "5",
        "--years",
        "1",
        "--now",
        "2026-06-01T10:30:00+08:00",
    ];
    let first = tempfile::tempdir().unwrap();
    let second = tempfile::tempdir().unwrap();
    for dir in [&first, &second] {
        let output = minhu(&sqlite_url(dir.path()), &env, &args);
        assert_ok(&output);
        assert!(stdout(&output).contains("Generated"), "{}", stdout(&output));
    }
    // The demo city seeded first has orders of its own, registered at the clock's today; the
    // generated history is every order up to the given moment.
    let end = chrono::DateTime::parse_from_rfc3339("2026-06-01T10:30:00+08:00")
        .unwrap()
        .timestamp_millis();
    let history = |dir: &Path| -> Vec<(String, String, String, i64)> {
        generated_orders(dir)
            .into_iter()
            .filter(|order| order.3 <= end)
            .collect()
    };
    let orders = history(first.path());
    assert!(orders.len() >= 390, "{}", orders.len());
    let again = history(second.path());
    assert_eq!(orders.len(), again.len());
    if let Some(i) = (0..orders.len()).find(|&i| orders[i] != again[i]) {
        panic!("run 2 differs at {i}: {:?} vs {:?}", orders[i], again[i]);
    }
    // The history ends at the given moment, not at the clock's.
    let latest = orders.iter().map(|o| o.3).max().unwrap();
    assert!(latest > end - 86_400_000 * 7, "{latest} vs {end}");
    assert!(orders.iter().any(|o| o.0.starts_with("20260601")));

    let bad = minhu(
        &sqlite_url(first.path()),
        &env,
        &["gen", "--orders", "1", "--now", "yesterday"],
    );
    assert_clear_failure(&bad, "RFC 3339");
}
