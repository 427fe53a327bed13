-- Chinese full-text search of orders. The application cuts the texts into words (minhu-text:
-- jieba plus the domain dictionary) and stores them space-separated, in the same transaction as
-- the order, so an order is findable as soon as the request that saved it returns.
--   title_terms       number and title
--   body_terms        content, address and every reply
--   caller_terms      the caller's name (searched by centre roles only)
--   similarity_words  the content words used for repeat detection (重复件)
-- The 'simple' configuration only lower-cases and splits on the spaces, so each Chinese word
-- stays one lexeme; the generated tsvectors carry weights (title A, caller B, body D).
CREATE TABLE order_search (
    order_id         BIGINT PRIMARY KEY REFERENCES orders (id),
    title_terms      TEXT NOT NULL,
    body_terms       TEXT NOT NULL,
    caller_terms     TEXT NOT NULL,
    similarity_words TEXT NOT NULL,
    text_tsv         tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple', title_terms), 'A')
        || setweight(to_tsvector('simple', body_terms), 'D')
    ) STORED,
    full_tsv         tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple', title_terms), 'A')
        || setweight(to_tsvector('simple', caller_terms), 'B')
        || setweight(to_tsvector('simple', body_terms), 'D')
    ) STORED
);
CREATE INDEX order_search_text_tsv ON order_search USING gin (text_tsv);
CREATE INDEX order_search_full_tsv ON order_search USING gin (full_tsv);

-- Repeat detection looks for open orders in one street or community within a window.
CREATE INDEX orders_street_created ON orders (street_id, created_at);
