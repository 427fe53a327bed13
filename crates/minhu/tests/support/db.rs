//! Test databases, each independent of every other so that tests run in parallel: SQLite in a
//! temporary folder, PostgreSQL in a fresh database that is dropped afterwards. Both are migrated.
//!
//! PostgreSQL is found at `MINHU_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`); set `MINHU_TEST_SKIP_POSTGRES=1` to test on
//! SQLite only. An unreachable server is a test failure, never a silent skip.
#![allow(clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use minhu::storage::{PgStore, SqliteStore, Store};
use sqlx::Connection as _;

/// The default server for PostgreSQL tests.
pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// Which database a [`TestDb`] runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }
}

/// A migrated, empty database of its own, removed when dropped.
pub struct TestDb {
    pub store: Arc<dyn Store>,
    /// The URL the store was opened with (a second store can be opened on it).
    pub url: String,
    pub backend: Backend,
    _guard: Guard,
}

impl TestDb {
    /// The app on this database, with the default configuration but for its URL.
    pub fn app(&self) -> minhu::service::App {
        let config = minhu::config::Config {
            database_url: self.url.clone(),
            ..minhu::config::Config::default()
        };
        minhu::service::App::new(self.store.clone(), config)
    }
}

impl std::fmt::Debug for TestDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestDb")
            .field("backend", &self.backend)
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

/// What removes the database afterwards.
enum Guard {
    /// The temporary folder holding the SQLite file; removed on drop.
    Sqlite {
        _dir: tempfile::TempDir,
    },
    Postgres {
        _database: PgDatabaseGuard,
    },
}

/// Drops a PostgreSQL test database (forcing its connections closed) when dropped.
struct PgDatabaseGuard {
    admin_url: String,
    name: String,
}

impl Drop for PgDatabaseGuard {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        // Drop may run inside or outside a runtime: use a thread with a runtime of its own and
        // wait for it, ignoring every error (a leftover database is harmless).
        let _ = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async move {
                if let Ok(mut conn) = sqlx::PgConnection::connect(&admin_url).await {
                    let sql = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
                    let _ = sqlx::query(sqlx::AssertSqlSafe(sql))
                        .execute(&mut conn)
                        .await;
                    let _ = conn.close().await;
                }
            });
        })
        .join();
    }
}

/// A name no other test (in this or another process) uses.
fn unique_suffix() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mixed = (nanos as u64)
        ^ (u64::from(std::process::id()) << 40)
        ^ count.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    format!("{mixed:016x}{count:x}")
}

/// A migrated SQLite database in a temporary folder.
pub async fn sqlite() -> TestDb {
    let (dir, url, store) = sqlite_store().await;
    TestDb {
        store,
        url,
        backend: Backend::Sqlite,
        _guard: Guard::Sqlite { _dir: dir },
    }
}

/// A migrated SQLite store in a temporary folder (kept while the folder guard lives), with its
/// URL, as its own type: for what only SQLite has, such as the group commit's counters.
pub async fn sqlite_store() -> (tempfile::TempDir, String, Arc<SqliteStore>) {
    let dir = tempfile::tempdir().expect("create a temporary folder");
    let url = format!("sqlite://{}/minhu.db", dir.path().display());
    let store = SqliteStore::connect(&url)
        .await
        .unwrap_or_else(|err| panic!("open the SQLite test database {url}: {err:#}"));
    store
        .migrate()
        .await
        .expect("migrate the SQLite test database");
    (dir, url, Arc::new(store))
}

/// The server URL PostgreSQL tests use.
#[must_use]
pub fn postgres_admin_url() -> String {
    std::env::var("MINHU_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_owned())
}

/// Whether PostgreSQL tests are switched off (`MINHU_TEST_SKIP_POSTGRES=1`).
#[must_use]
pub fn postgres_skipped() -> bool {
    std::env::var("MINHU_TEST_SKIP_POSTGRES").is_ok_and(|v| v == "1" || v == "true")
}

/// A migrated PostgreSQL database of its own, created on the test server. Panics, saying how to
/// start a server, if it cannot be reached.
pub async fn postgres() -> TestDb {
    let admin_url = postgres_admin_url();
    let mut admin = sqlx::PgConnection::connect(&admin_url)
        .await
        .unwrap_or_else(|err| {
            panic!(
                "PostgreSQL is not reachable at {admin_url}: {err}\n\
                 The tests need a PostgreSQL server (user with CREATEDB, trust or password in the \
                 URL). Start one, e.g. `pg_ctlcluster 15 main start` or `docker run -d -p \
                 5432:5432 -e POSTGRES_HOST_AUTH_METHOD=trust postgres:16`, or point \
                 MINHU_TEST_POSTGRES_URL at one; MINHU_TEST_SKIP_POSTGRES=1 tests SQLite only."
            )
        });
    let name = format!("minhu_test_{}", unique_suffix());
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
        .execute(&mut admin)
        .await
        .unwrap_or_else(|err| panic!("create the PostgreSQL test database {name}: {err}"));
    let _ = admin.close().await;
    let guard = PgDatabaseGuard {
        admin_url: admin_url.clone(),
        name: name.clone(),
    };

    let mut url = url::Url::parse(&admin_url).expect("MINHU_TEST_POSTGRES_URL is a URL");
    url.set_path(&format!("/{name}"));
    let url = url.to_string();
    let store = PgStore::connect(&url)
        .await
        .unwrap_or_else(|err| panic!("open the PostgreSQL test database {name}: {err:#}"));
    store
        .migrate()
        .await
        .expect("migrate the PostgreSQL test database");
    TestDb {
        store: Arc::new(store),
        url,
        backend: Backend::Postgres,
        _guard: Guard::Postgres { _database: guard },
    }
}

/// One database per backend: SQLite always, PostgreSQL unless `MINHU_TEST_SKIP_POSTGRES=1`.
pub async fn all_backends() -> Vec<TestDb> {
    let mut dbs = vec![sqlite().await];
    if !postgres_skipped() {
        dbs.push(postgres().await);
    }
    dbs
}
