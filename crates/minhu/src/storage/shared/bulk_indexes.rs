// Part of the shared storage code (see rows.rs for how these files are compiled): the indexes a
// bulk load builds once at its end instead of entry by entry.
//
// A load larger than the city it goes into (`minhu gen` into a new city) first drops the
// non-unique indexes of the order tables, and creates them again when it ends: one sort per
// index instead of millions of inserts at random places in it. On PostgreSQL the search table's
// two GIN indexes are among them. Primary keys and unique indexes stay, so a load still cannot
// write a number twice. Each dropped index is written to `deferred_indexes`, with the statement
// that creates it, in the transaction that drops it; restoring one creates it and deletes its
// row in one transaction. A load that stops half-way leaves its rows there, and the next start
// of the store (`Store::migrate`) restores them.

/// The tables whose non-unique indexes a bulk load defers.
const DEFERRED_INDEX_TABLES: &str = "'orders', 'assignments', 'order_history', 'order_search'";

/// The memory PostgreSQL may sort an index in while it builds one (its default is 64 MB).
const INDEX_BUILD_MEMORY: &str = "1GB";

async fn defer_order_indexes_of(pool: &Pool) -> StoreResult<u64> {
    let list = if BACKEND_NAME == "sqlite" {
        format!(
            "SELECT name, sql AS definition FROM sqlite_master \
             WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ({DEFERRED_INDEX_TABLES}) \
             ORDER BY name"
        )
    } else {
        format!(
            "SELECT indexname AS name, indexdef AS definition FROM pg_indexes \
             WHERE schemaname = current_schema() AND tablename IN ({DEFERRED_INDEX_TABLES}) \
             ORDER BY indexname"
        )
    };
    let mut tx = begin_write(pool).await?;
    let rows = sqlx::query(AssertSqlSafe(list)).fetch_all(&mut *tx).await?;
    let mut deferred = 0;
    for row in &rows {
        let name: String = col(row, "name")?;
        let definition: String = col(row, "definition")?;
        if definition
            .trim_start()
            .to_ascii_uppercase()
            .starts_with("CREATE UNIQUE")
        {
            continue;
        }
        sqlx::query("INSERT INTO deferred_indexes (name, definition) VALUES ($1, $2)")
            .bind(&name)
            .bind(&definition)
            .execute(&mut *tx)
            .await?;
        sqlx::query(AssertSqlSafe(format!("DROP INDEX \"{name}\"")))
            .execute(&mut *tx)
            .await?;
        deferred += 1;
    }
    tx.commit().await?;
    Ok(deferred)
}

/// The sort memory of SQLite's index builds, in KiB (the write connection's cache during the
/// builds, which is also the largest run the sort keeps in memory). At a million orders 64 MiB
/// built the indexes in 9.8 s at a peak of 581 MB; 256 MiB took 10.1 s and 854 MB.
const SQLITE_INDEX_SORT_KIB: i64 = 64 * 1024;

async fn restore_deferred_indexes_of(pool: &Pool) -> StoreResult<u64> {
    let names: Vec<String> = sqlx::query_scalar("SELECT name FROM deferred_indexes ORDER BY name")
        .fetch_all(pool)
        .await?;
    if names.is_empty() || BACKEND_NAME != "sqlite" {
        return build_deferred_indexes(pool, names).await;
    }
    // SQLite sorts an index's keys in memory whole while the write connection keeps its
    // temporary files there (`temp_store = memory`, for its statement journals): ten million
    // orders' history index took the load's peak to 3.1 GiB. For the builds the sort writes
    // runs of at most `SQLITE_INDEX_SORT_KIB` to temporary files and merges them. The write pool
    // has one connection, so these settings are that connection's; they are set back even if a
    // build fails.
    let cache_size: i64 = sqlx::query_scalar("PRAGMA cache_size")
        .fetch_one(pool)
        .await?;
    let built = async {
        sqlx::query("PRAGMA temp_store = FILE")
            .execute(pool)
            .await?;
        sqlx::query(AssertSqlSafe(format!(
            "PRAGMA cache_size = -{SQLITE_INDEX_SORT_KIB}"
        )))
        .execute(pool)
        .await?;
        build_deferred_indexes(pool, names).await
    }
    .await;
    sqlx::query("PRAGMA temp_store = MEMORY")
        .execute(pool)
        .await?;
    sqlx::query(AssertSqlSafe(format!("PRAGMA cache_size = {cache_size}")))
        .execute(pool)
        .await?;
    built
}

/// Builds each of the deferred indexes `names` and deletes its row, one transaction each.
async fn build_deferred_indexes(pool: &Pool, names: Vec<String>) -> StoreResult<u64> {
    let mut restored = 0;
    for name in names {
        let mut tx = begin_write(pool).await?;
        // The row is taken before the index is built: of two app nodes starting at once, the
        // second waits on the first's row lock and then finds nothing to do.
        let definition: Option<String> =
            sqlx::query_scalar("DELETE FROM deferred_indexes WHERE name = $1 RETURNING definition")
                .bind(&name)
                .fetch_optional(&mut *tx)
                .await?;
        let Some(definition) = definition else {
            continue;
        };
        let started = std::time::Instant::now();
        if BACKEND_NAME == "postgres" {
            sqlx::query(AssertSqlSafe(format!(
                "SET LOCAL maintenance_work_mem = '{INDEX_BUILD_MEMORY}'"
            )))
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query(AssertSqlSafe(definition))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        tracing::info!(
            index = %name,
            ms = started.elapsed().as_millis(),
            "built an index a bulk load left out"
        );
        restored += 1;
    }
    Ok(restored)
}
