//! The order index's merges on SQLite: registrations one after another each leave a segment of
//! FTS5's index, and with `crisismerge` at 64 (migration 0009) nothing inside a commit merges a
//! level of sixteen at once; the group committer merges them while nothing waits
//! (`storage/sqlite/index_merge.rs`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::time::{Duration, Instant};

use minhu::storage::Store;

use crate::support::builders::{day, lamp_order, register_event, seed_org};
use crate::support::db;

/// Registrations made one after the other: each is a commit of its own, and a segment.
const ONE_BY_ONE: usize = 48;

/// The number of segments on each level of the order index, read from its structure record
/// (FTS5's `%_data` row 10: a cookie, an optional version marker, then varints).
fn segments_per_level(database: &Path) -> Vec<u64> {
    let connection = rusqlite::Connection::open(database).unwrap();
    let block: Vec<u8> = connection
        .query_row(
            "SELECT block FROM order_fts_data WHERE id = 10",
            [],
            |row| row.get(0),
        )
        .unwrap();
    let mut at = 4;
    let version_two = block[4..8] == [0xff, 0x00, 0x00, 0x01];
    if version_two {
        at += 4;
    }
    let mut varint = || {
        let mut value = 0u64;
        for k in 0..9 {
            let byte = block[at];
            at += 1;
            if k == 8 {
                return (value << 8) | u64::from(byte);
            }
            value = (value << 7) | u64::from(byte & 0x7f);
            if byte & 0x80 == 0 {
                break;
            }
        }
        value
    };
    let levels = varint();
    let _segments = varint();
    let _write_counter = varint();
    let per_segment = if version_two { 8 } else { 3 };
    (0..levels)
        .map(|_| {
            let _merging = varint();
            let segments = varint();
            for _ in 0..segments * per_segment {
                varint();
            }
            segments
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_order_index_is_merged_while_the_committer_is_idle_on_sqlite() {
    let (dir, _, store) = db::sqlite_store().await;
    let database = dir.path().join("minhu.db");
    let settings = rusqlite::Connection::open(&database).unwrap();
    let setting = |name: &str| -> i64 {
        settings
            .query_row(
                "SELECT v FROM order_fts_config WHERE k = ?1",
                [name],
                |row| row.get(0),
            )
            .unwrap()
    };
    assert_eq!(setting("automerge"), 16);
    assert_eq!(setting("crisismerge"), 64);
    assert_eq!(setting("usermerge"), 16);

    let org = seed_org(store.as_ref()).await;
    for i in 0..ONE_BY_ONE {
        let mut draft = lamp_order(&org);
        draft.title = format!("路灯不亮 第{i}号");
        store
            .create_order(&draft, &[register_event(&draft, &org)], day("2026-11-28"))
            .await
            .unwrap();
    }
    assert!(store.group_commit_stats().commits >= u64::try_from(ONE_BY_ONE).unwrap());

    // The last commit's step may still be running: wait for the structure to settle.
    let deadline = Instant::now() + Duration::from_secs(10);
    let levels = loop {
        let levels = segments_per_level(&database);
        if levels.iter().all(|&segments| segments < 16) || Instant::now() > deadline {
            break levels;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let total: u64 = levels.iter().sum();
    assert!(
        levels.iter().all(|&segments| segments < 16),
        "no level keeps sixteen segments: {levels:?}"
    );
    assert!(
        total < u64::try_from(ONE_BY_ONE).unwrap() / 2,
        "the {ONE_BY_ONE} segments were merged: {levels:?}"
    );
    assert!(
        store.group_commit_stats().idle_merges >= 1,
        "{:?}",
        store.group_commit_stats()
    );
}
