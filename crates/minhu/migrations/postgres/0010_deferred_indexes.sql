-- Indexes a bulk load (`minhu gen` into a city smaller than the load) dropped so as to build
-- each once when it ends, with the statement that creates it again. A row left here means a
-- load stopped before its end: the next start of the store creates the index and deletes the
-- row (storage/shared/bulk_indexes.rs). Keep identical to the other backend's file.
CREATE TABLE deferred_indexes (
    name       TEXT PRIMARY KEY,
    definition TEXT NOT NULL
);
