-- FTS5 merges a full level of the order index a few pages at a time, not in one commit.
--
-- With `crisismerge` at its default of sixteen, the same as the `automerge` of 0008, a commit that
-- brought a level its sixteenth segment merged the whole level at once, and the level above too
-- when that filled in turn. The rarer such a level, the larger: at ten million orders one
-- registration's commit merged an upper level of the index while every other registration waited
-- more than 30 s (docs/BENCHMARKS.md, ninth and tenth rounds). At 64, a level of sixteen is merged
-- by FTS5's incremental merges (work in proportion to what each commit writes) and by the group
-- committer's steps while nothing waits (src/storage/sqlite/index_merge.rs), whose `'merge'`
-- command starts a merge on a level of `usermerge` segments: sixteen, as `automerge`. SQLite's
-- alone: PostgreSQL's GIN index has no such setting to match.
INSERT INTO order_fts (order_fts, rank) VALUES ('crisismerge', 64);
INSERT INTO order_fts (order_fts, rank) VALUES ('usermerge', 16);
