//! The order index's merges, done by the group committer while nothing waits to be committed.
//!
//! FTS5 writes each commit's new terms as a segment of its own and merges segments into larger
//! ones as they gather on a level (`automerge`: once sixteen share one, migration 0008). A
//! commit that finds a level holding `crisismerge` segments merges the whole level there and
//! then, and the level above too if that one fills in turn. SQLite's default `crisismerge` is
//! sixteen, the same as the `automerge` set here, so every merge was one of these: a level's
//! sixteen segments merged in the commit that brought the sixteenth, and each level up in the
//! same commit as it filled. The higher the level the rarer, and the larger: at ten million
//! orders one registration's commit merged an upper level of the index and every registration
//! waited more than 30 s behind it (docs/bench/city-scale-rounds-9-to-10.md). A centre's
//! index grows that way over the years too: the levels that fill once a month or once a year
//! are the largest.
//!
//! Migration 0009 puts `crisismerge` at 64, so a full level is merged a few pages at a time
//! instead: by FTS5's incremental merges (each commit does work in proportion to what it wrote)
//! and here. Once nothing has come to the committer for 10 ms (`IDLE_BEFORE_MERGE` in
//! `group_commit.rs`), it merges [`IDLE_MERGE_PAGES`] pages in a transaction of its own, and again
//! while the queue stays empty and FTS5 still finds work (`'merge'` with a positive count:
//! continue the merge under way, or start one on a level of sixteen, `usermerge`). A request that
//! arrives meanwhile waits for one step at most. A step stops only between terms, so one that
//! reaches a term found in most orders rewrites that term's whole list: at ten million orders,
//! while the largest level was merged, steps took 30–100 ms on average and a request waited up
//! to about a second. Under a real centre's load the committer is idle nearly all
//! the time, and the index stays merged without a commit doing more than its share; under a
//! benchmark's full load FTS5's own steps do the merging, and `crisismerge` bounds the segments a
//! level gathers.

use super::direct_write::DirectWriter;
use super::{ArgList, StoreResult, WriteTx};

/// Pages of merged index (about 4 KB each) one idle step writes at most: long enough that the
/// step's own commit is a small part of it, short enough that a request arriving meanwhile
/// hardly notices.
const IDLE_MERGE_PAGES: i64 = 128;

/// FTS5's command to merge up to `?1` pages of the order index.
const MERGE_STEP_SQL: &str = "INSERT INTO order_fts (order_fts, rank) VALUES ('merge', ?1)";

/// Merges up to [`IDLE_MERGE_PAGES`] pages of the order index in a transaction of its own.
/// Answers whether FTS5 merged anything: its total of changed rows rises by 2 or more when it
/// did, as its documentation says to test.
pub(super) async fn merge_step(writer: &mut DirectWriter) -> StoreResult<bool> {
    let mut tx = writer.begin().await?;
    let before = tx.total_changes();
    let args: ArgList = vec![rusqlite::types::Value::Integer(IDLE_MERGE_PAGES)];
    tx.execute(MERGE_STEP_SQL, args, true).await?;
    let merged = tx.total_changes().saturating_sub(before) >= 2;
    tx.commit()?;
    Ok(merged)
}
