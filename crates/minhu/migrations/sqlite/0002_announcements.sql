-- System announcements (系统公告) shown on every desk, newest first.
CREATE TABLE announcements (
    id           INTEGER PRIMARY KEY,
    title        TEXT    NOT NULL,
    body         TEXT    NOT NULL,
    published_at INTEGER NOT NULL,
    created_by   INTEGER REFERENCES users (id)
);
CREATE INDEX announcements_published_at ON announcements (published_at);
