-- Chinese full-text search of orders. The application cuts the texts into words (minhu-text:
-- jieba plus the domain dictionary) and stores them space-separated, in the same transaction as
-- the order, so an order is findable as soon as the request that saved it returns.
--   title_terms       number and title
--   body_terms        content, address and every reply
--   caller_terms      the caller's name (searched by centre roles only)
--   similarity_words  the content words used for repeat detection (重复件)
CREATE TABLE order_search (
    order_id         INTEGER PRIMARY KEY REFERENCES orders (id),
    title_terms      TEXT NOT NULL,
    body_terms       TEXT NOT NULL,
    caller_terms     TEXT NOT NULL,
    similarity_words TEXT NOT NULL
);

-- The FTS5 index over those columns (external content: the words are stored once, in
-- order_search). unicode61 splits on the spaces and keeps each Chinese word whole.
CREATE VIRTUAL TABLE order_fts USING fts5 (
    title_terms,
    body_terms,
    caller_terms,
    content = 'order_search',
    content_rowid = 'order_id',
    tokenize = 'unicode61 remove_diacritics 0'
);

CREATE TRIGGER order_search_after_insert AFTER INSERT ON order_search BEGIN
    INSERT INTO order_fts (rowid, title_terms, body_terms, caller_terms)
    VALUES (new.order_id, new.title_terms, new.body_terms, new.caller_terms);
END;

CREATE TRIGGER order_search_after_delete AFTER DELETE ON order_search BEGIN
    INSERT INTO order_fts (order_fts, rowid, title_terms, body_terms, caller_terms)
    VALUES ('delete', old.order_id, old.title_terms, old.body_terms, old.caller_terms);
END;

CREATE TRIGGER order_search_after_update AFTER UPDATE ON order_search BEGIN
    INSERT INTO order_fts (order_fts, rowid, title_terms, body_terms, caller_terms)
    VALUES ('delete', old.order_id, old.title_terms, old.body_terms, old.caller_terms);
    INSERT INTO order_fts (rowid, title_terms, body_terms, caller_terms)
    VALUES (new.order_id, new.title_terms, new.body_terms, new.caller_terms);
END;

-- Repeat detection looks for open orders in one street or community within a window.
CREATE INDEX orders_street_created ON orders (street_id, created_at);
