-- The knowledge base (知识库): entries agents answer callers from, every version of each entry,
-- the append-only history of what was done to them, and the search documents of the live
-- content. Keep table and column names identical to migrations/postgres/0005_knowledge.sql.
--
-- An entry row holds what is live: the content of its published version, or of its latest
-- version while none is published (see minhu-domain's knowledge module). `revision` is bumped on
-- every change of content or state (optimistic locking); the counters are added to in place and
-- leave it alone.
CREATE TABLE knowledge_entries (
    id                INTEGER PRIMARY KEY,
    revision          INTEGER NOT NULL,
    category_id       INTEGER NOT NULL REFERENCES categories (id),
    title             TEXT    NOT NULL,
    body              TEXT    NOT NULL,
    keywords          TEXT    NOT NULL,
    source_unit_id    INTEGER NOT NULL REFERENCES units (id),
    visibility        TEXT    NOT NULL,
    is_temporary      INTEGER NOT NULL,
    effective_from    INTEGER NOT NULL,
    expires_at        INTEGER,
    state             TEXT    NOT NULL,
    published_version INTEGER,
    latest_version    INTEGER NOT NULL,
    used_count        INTEGER NOT NULL DEFAULT 0,
    helpful_count     INTEGER NOT NULL DEFAULT 0,
    created_by        INTEGER NOT NULL REFERENCES users (id),
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
);
CREATE INDEX knowledge_entries_category_id ON knowledge_entries (category_id);
CREATE INDEX knowledge_entries_state ON knowledge_entries (state, is_temporary, updated_at);
CREATE INDEX knowledge_entries_source_unit_id ON knowledge_entries (source_unit_id);

-- Every version of every entry (drafts are changed in place; a submitted, reviewed or published
-- version is never deleted).
CREATE TABLE knowledge_versions (
    entry_id       INTEGER NOT NULL REFERENCES knowledge_entries (id),
    version        INTEGER NOT NULL,
    category_id    INTEGER NOT NULL REFERENCES categories (id),
    title          TEXT    NOT NULL,
    body           TEXT    NOT NULL,
    keywords       TEXT    NOT NULL,
    source_unit_id INTEGER NOT NULL REFERENCES units (id),
    visibility     TEXT    NOT NULL,
    is_temporary   INTEGER NOT NULL,
    effective_from INTEGER NOT NULL,
    expires_at     INTEGER,
    state          TEXT    NOT NULL,
    author_id      INTEGER NOT NULL REFERENCES users (id),
    author_unit_id INTEGER NOT NULL,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    submitted_at   INTEGER,
    review_note    TEXT,
    reviewer_id    INTEGER,
    reviewed_at    INTEGER,
    PRIMARY KEY (entry_id, version)
);
-- The review queue (待审核) looks for versions in review.
CREATE INDEX knowledge_versions_state ON knowledge_versions (state);

-- Append-only: nothing updates or deletes these rows.
CREATE TABLE knowledge_events (
    id            INTEGER PRIMARY KEY,
    entry_id      INTEGER NOT NULL REFERENCES knowledge_entries (id),
    version       INTEGER NOT NULL,
    at            INTEGER NOT NULL,
    actor_id      INTEGER NOT NULL,
    actor_unit_id INTEGER NOT NULL,
    action        TEXT    NOT NULL,
    from_state    TEXT,
    to_state      TEXT    NOT NULL,
    text          TEXT,
    details       TEXT    NOT NULL
);
CREATE INDEX knowledge_events_entry_id_id ON knowledge_events (entry_id, id);

-- The words of the live content (title, keywords, body) of each published entry, cut by the
-- application like order_search and written in the transaction that publishes the entry; an
-- entry that is not published has no row, so only what agents may read is ever found.
CREATE TABLE knowledge_search (
    entry_id      INTEGER PRIMARY KEY REFERENCES knowledge_entries (id),
    title_terms   TEXT NOT NULL,
    keyword_terms TEXT NOT NULL,
    body_terms    TEXT NOT NULL
);

CREATE VIRTUAL TABLE knowledge_fts USING fts5 (
    title_terms,
    keyword_terms,
    body_terms,
    content = 'knowledge_search',
    content_rowid = 'entry_id',
    tokenize = 'unicode61 remove_diacritics 0'
);

CREATE TRIGGER knowledge_search_after_insert AFTER INSERT ON knowledge_search BEGIN
    INSERT INTO knowledge_fts (rowid, title_terms, keyword_terms, body_terms)
    VALUES (new.entry_id, new.title_terms, new.keyword_terms, new.body_terms);
END;

CREATE TRIGGER knowledge_search_after_delete AFTER DELETE ON knowledge_search BEGIN
    INSERT INTO knowledge_fts (knowledge_fts, rowid, title_terms, keyword_terms, body_terms)
    VALUES ('delete', old.entry_id, old.title_terms, old.keyword_terms, old.body_terms);
END;

CREATE TRIGGER knowledge_search_after_update AFTER UPDATE ON knowledge_search BEGIN
    INSERT INTO knowledge_fts (knowledge_fts, rowid, title_terms, keyword_terms, body_terms)
    VALUES ('delete', old.entry_id, old.title_terms, old.keyword_terms, old.body_terms);
    INSERT INTO knowledge_fts (rowid, title_terms, keyword_terms, body_terms)
    VALUES (new.entry_id, new.title_terms, new.keyword_terms, new.body_terms);
END;
