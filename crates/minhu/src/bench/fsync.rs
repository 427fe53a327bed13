//! `minhu bench fsync`: the machine's limit for durable commits, the ceiling of every write the
//! server acknowledges. Two measurements in a folder on the disk under test:
//!
//! - small appends to a file, each followed by `fdatasync` (what one durable commit costs the
//!   disk at the least);
//! - SQLite itself (WAL, `synchronous=FULL`, as the server runs it) committing rows shaped like an
//!   order, one transaction at a time, and in transactions of 10 and of 100 rows (what group
//!   commit could gain).
//!
//! The scratch files are removed afterwards.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{ConnectOptions as _, Connection as _, SqliteConnection};

use super::stats::{Context, Figure, Recorder, Window, figures, print_figures, summary_line};

/// The bytes appended per durable write: about one history line.
const APPEND_BYTES: usize = 256;

/// The batch sizes of the SQLite measurement.
const BATCHES: [usize; 3] = [1, 10, 100];

/// The scratch file names in the folder.
const FILE_NAME: &str = "minhu-bench-fsync.bin";
const DB_NAME: &str = "minhu-bench-fsync.db";

/// An order-sized text: a title, a content of a few hundred bytes and an address.
const CONTENT: &str = "来电人反映：幸福里小区3号楼前的路灯已经坏了一个多星期，晚上出行很不方便，\
    老人和孩子都不敢下楼，之前向物业反映过，物业说路灯归市政管理，希望有关部门尽快派人维修。";

/// Runs both measurements for `duration` each in `dir` and prints the figures.
pub async fn run(dir: &Path, duration: Duration) -> anyhow::Result<()> {
    if !dir.is_dir() {
        return Err(anyhow!(
            "{} is not a folder: give --path an existing folder on the disk to measure",
            dir.display()
        ));
    }
    eprintln!(
        "minhu bench fsync: durable writes in {} for {:.1} s each",
        dir.display(),
        duration.as_secs_f64()
    );
    let file_path = dir.join(FILE_NAME);
    let appends = tokio::task::spawn_blocking({
        let file_path = file_path.clone();
        move || file_appends(&file_path, duration)
    })
    .await
    .context("the fsync task failed")?;
    let _ = std::fs::remove_file(&file_path);
    let appends = appends?;

    let db_path = dir.join(DB_NAME);
    let sqlite = sqlite_commits(&db_path, duration).await;
    remove_database(&db_path);
    let sqlite = sqlite?;

    let seconds = duration.as_secs_f64();
    let file_context = Context {
        clients: 1,
        database: "file".to_owned(),
        orders: 0,
    };
    let mut lines = figures(
        &file_context,
        "fsync.file",
        &appends.total(),
        seconds,
        "syncs_per_s",
        "syncs/s",
    );
    let mut summary = vec![summary_line(
        "file append+fdatasync",
        &appends.total(),
        seconds,
        "syncs/s",
    )];
    let sqlite_context = Context {
        clients: 1,
        database: "sqlite".to_owned(),
        orders: 0,
    };
    for (batch, recorder) in &sqlite {
        let stats = recorder.total();
        let prefix = format!("fsync.sqlite.batch{batch}");
        lines.extend(figures(
            &sqlite_context,
            &prefix,
            &stats,
            seconds,
            "commits_per_s",
            "commits/s",
        ));
        let rows = stats.ok as f64 * *batch as f64 / seconds.max(f64::MIN_POSITIVE);
        lines.push(Figure::new(
            &sqlite_context,
            format!("{prefix}.rows_per_s"),
            rows,
            "rows/s",
        ));
        summary.push(format!(
            "{}  = {rows:.0} rows/s",
            summary_line(
                &format!("sqlite, {batch} row(s)/commit"),
                &stats,
                seconds,
                "commits/s"
            )
        ));
    }
    print_figures(&lines);
    for line in summary {
        eprintln!("{line}");
    }
    Ok(())
}

/// Appends [`APPEND_BYTES`] and `fdatasync`s, again and again, for `duration`.
fn file_appends(path: &Path, duration: Duration) -> anyhow::Result<Recorder> {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    let record = [b'x'; APPEND_BYTES];
    let window = Window::after(Duration::ZERO, duration);
    let mut recorder = Recorder::new()?;
    while !window.is_over() {
        let started = Instant::now();
        let result = file.write_all(&record).and_then(|()| file.sync_data());
        let error = result.err().map(|e| e.to_string());
        let failed = error.is_some();
        recorder.record(&window, "append", started, Instant::now(), error);
        if failed {
            break;
        }
    }
    Ok(recorder)
}

/// Commits order-shaped rows into a fresh SQLite file, for `duration` per batch size.
async fn sqlite_commits(path: &Path, duration: Duration) -> anyhow::Result<Vec<(usize, Recorder)>> {
    remove_database(path);
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full);
    let mut connection = options
        .connect()
        .await
        .with_context(|| format!("cannot create the scratch database {}", path.display()))?;
    sqlx::query(
        "CREATE TABLE bench_orders (
            id INTEGER PRIMARY KEY,
            number TEXT NOT NULL UNIQUE,
            state TEXT NOT NULL,
            category_id INTEGER NOT NULL,
            district_id INTEGER,
            phone TEXT NOT NULL,
            title TEXT NOT NULL,
            content TEXT NOT NULL,
            address TEXT NOT NULL,
            created_at TEXT NOT NULL,
            version INTEGER NOT NULL
        )",
    )
    .execute(&mut connection)
    .await
    .context("cannot create the scratch table")?;
    let mut results = Vec::new();
    let mut next = 0u64;
    for batch in BATCHES {
        let window = Window::after(Duration::ZERO, duration);
        let mut recorder = Recorder::new()?;
        while !window.is_over() {
            let started = Instant::now();
            let result = commit_rows(&mut connection, batch, &mut next).await;
            let error = result.err().map(|e| format!("{e:#}"));
            let failed = error.is_some();
            recorder.record(&window, "commit", started, Instant::now(), error);
            if failed {
                break;
            }
        }
        results.push((batch, recorder));
    }
    connection.close().await.ok();
    Ok(results)
}

/// One transaction of `batch` order rows.
async fn commit_rows(
    connection: &mut SqliteConnection,
    batch: usize,
    next: &mut u64,
) -> anyhow::Result<()> {
    let mut tx = connection.begin().await?;
    for _ in 0..batch {
        *next += 1;
        let n = *next;
        sqlx::query(
            "INSERT INTO bench_orders (number, state, category_id, district_id, phone, title, \
             content, address, created_at, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(format!("2026112900{n:06}"))
        .bind("registered")
        .bind(i64::try_from(n % 96).unwrap_or(0))
        .bind(i64::try_from(n % 7).unwrap_or(0))
        .bind(format!("138{:08}", n % 100_000_000))
        .bind(format!("幸福里小区{}号楼路灯不亮", n % 30))
        .bind(CONTENT)
        .bind(format!("澜湖区湖滨街道湖滨社区幸福里小区{}号楼", n % 30))
        .bind("2026-11-29T08:30:00Z")
        .bind(1i64)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Removes the scratch database with its WAL and shared-memory files.
fn remove_database(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(name));
    }
}
