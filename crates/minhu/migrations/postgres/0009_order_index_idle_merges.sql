-- Nothing to change here: SQLite's 0009_order_index_idle_merges.sql tunes when FTS5 merges the
-- segments of its order index, and PostgreSQL's GIN indexes have no such setting to match. The
-- file keeps the two folders' versions in step.
SELECT 1;
