-- Attachments (附件) of an action, e.g. the photos and scans a unit sends with its reply
-- (办结反馈). The bytes live in the database, the only stateful part (several app nodes may share
-- one PostgreSQL). Each belongs to the history event of the action that brought it, written in
-- the same transaction; like the history, rows are never updated.
CREATE TABLE order_attachments (
    id           INTEGER PRIMARY KEY,
    order_id     INTEGER NOT NULL REFERENCES orders (id),
    history_id   INTEGER NOT NULL REFERENCES order_history (id),
    uploaded_by  INTEGER NOT NULL REFERENCES users (id),
    unit_id      INTEGER NOT NULL REFERENCES units (id),
    file_name    TEXT    NOT NULL,
    content_type TEXT    NOT NULL,
    size_bytes   INTEGER NOT NULL,
    sha256       TEXT    NOT NULL,
    content      BLOB    NOT NULL,
    created_at   INTEGER NOT NULL
);
CREATE INDEX order_attachments_order_id ON order_attachments (order_id, id);
