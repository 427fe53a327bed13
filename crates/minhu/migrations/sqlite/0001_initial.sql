-- minhu initial schema (SQLite). Keep table and column names identical to
-- migrations/postgres/0001_initial.sql: the storage code is shared and a test compares them.
--
-- Conventions: timestamps are INTEGER milliseconds since the Unix epoch (UTC); calendar dates are
-- TEXT 'YYYY-MM-DD'; enums are TEXT codes; booleans are INTEGER 0/1; enum lists are
-- comma-separated codes; free-text lists and history details are JSON text.

CREATE TABLE units (
    id                INTEGER PRIMARY KEY,
    code              TEXT    NOT NULL UNIQUE,
    name              TEXT    NOT NULL,
    kind              TEXT    NOT NULL,
    parent_id         INTEGER REFERENCES units (id),
    path              TEXT    NOT NULL,
    is_dispatch_point INTEGER NOT NULL DEFAULT 0,
    active            INTEGER NOT NULL DEFAULT 1,
    created_at        INTEGER NOT NULL
);
CREATE INDEX units_parent_id ON units (parent_id);
CREATE INDEX units_path ON units (path);

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    username      TEXT    NOT NULL UNIQUE,
    display_name  TEXT    NOT NULL,
    unit_id       INTEGER NOT NULL REFERENCES units (id),
    roles         TEXT    NOT NULL,
    active        INTEGER NOT NULL DEFAULT 1,
    password_hash TEXT    NOT NULL,
    created_at    INTEGER NOT NULL
);
CREATE INDEX users_unit_id ON users (unit_id);

CREATE TABLE api_tokens (
    token_hash TEXT    PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX api_tokens_user_id ON api_tokens (user_id);
CREATE INDEX api_tokens_expires_at ON api_tokens (expires_at);

CREATE TABLE login_failures (
    id       INTEGER PRIMARY KEY,
    username TEXT    NOT NULL,
    address  TEXT    NOT NULL,
    at       INTEGER NOT NULL
);
CREATE INDEX login_failures_username_at ON login_failures (username, at);
CREATE INDEX login_failures_address_at ON login_failures (address, at);

CREATE TABLE categories (
    id        INTEGER PRIMARY KEY,
    code      TEXT    NOT NULL UNIQUE,
    name      TEXT    NOT NULL,
    parent_id INTEGER REFERENCES categories (id),
    level     INTEGER NOT NULL,
    path      TEXT    NOT NULL,
    active    INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX categories_parent_id ON categories (parent_id);
CREATE INDEX categories_path ON categories (path);

CREATE TABLE policy_rules (
    id          INTEGER PRIMARY KEY,
    category_id INTEGER REFERENCES categories (id),
    order_type  TEXT,
    urgency     TEXT,
    step        TEXT    NOT NULL,
    amount      INTEGER NOT NULL,
    unit        TEXT    NOT NULL
);
CREATE INDEX policy_rules_category_id ON policy_rules (category_id);

CREATE TABLE calendar_days (
    day  TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    name TEXT NOT NULL
);

CREATE TABLE dispatch_catalogue (
    id          INTEGER PRIMARY KEY,
    category_id INTEGER NOT NULL REFERENCES categories (id),
    district_id INTEGER,
    unit_id     INTEGER NOT NULL REFERENCES units (id),
    note        TEXT
);
CREATE INDEX dispatch_catalogue_category_id ON dispatch_catalogue (category_id);
CREATE INDEX dispatch_catalogue_unit_id ON dispatch_catalogue (unit_id);

CREATE TABLE order_number_sequences (
    day        TEXT    PRIMARY KEY,
    last_value INTEGER NOT NULL
);

CREATE TABLE orders (
    id                      INTEGER PRIMARY KEY,
    number                  TEXT    NOT NULL,
    version                 INTEGER NOT NULL,
    channel                 TEXT    NOT NULL,
    created_at              INTEGER NOT NULL,
    created_by              INTEGER NOT NULL,
    updated_at              INTEGER NOT NULL,
    citizen_name            TEXT,
    citizen_phone           TEXT    NOT NULL,
    citizen_contact_phone   TEXT,
    citizen_gender          TEXT,
    citizen_enterprise_name TEXT,
    citizen_confidential    INTEGER NOT NULL DEFAULT 0,
    citizen_tags            TEXT    NOT NULL DEFAULT '',
    order_type              TEXT    NOT NULL,
    category_id             INTEGER NOT NULL REFERENCES categories (id),
    title                   TEXT    NOT NULL,
    content                 TEXT    NOT NULL,
    tags                    TEXT    NOT NULL DEFAULT '[]',
    urgency                 TEXT    NOT NULL,
    district_id             INTEGER,
    street_id               INTEGER,
    community_id            INTEGER,
    address                 TEXT    NOT NULL,
    longitude               REAL,
    latitude                REAL,
    state                   TEXT    NOT NULL,
    dispatch_deadline_at    INTEGER NOT NULL,
    deadline_start_at       INTEGER,
    deadline_at             INTEGER,
    yellow_at               INTEGER,
    visit_deadline_at       INTEGER,
    reply                   TEXT,
    knowledge_entry_id      INTEGER,
    transfer_line           TEXT,
    legal_channel           TEXT,
    terminal_note           TEXT,
    parent_order_id         INTEGER REFERENCES orders (id),
    closed_at               INTEGER,
    solved                  TEXT,
    satisfaction            TEXT,
    visited_at              INTEGER,
    redo_count              INTEGER NOT NULL DEFAULT 0,
    urge_count              INTEGER NOT NULL DEFAULT 0,
    supervision_count       INTEGER NOT NULL DEFAULT 0,
    escalation              TEXT,
    leader_instruction      TEXT,
    appeal                  TEXT,
    evaluation_excluded     INTEGER NOT NULL DEFAULT 0,
    lead_unit_id            INTEGER REFERENCES units (id)
);
CREATE UNIQUE INDEX orders_number ON orders (number);
CREATE INDEX orders_created_at ON orders (created_at);
CREATE INDEX orders_state_created_at ON orders (state, created_at);
CREATE INDEX orders_citizen_phone ON orders (citizen_phone);
CREATE INDEX orders_category_id ON orders (category_id);
CREATE INDEX orders_district_id ON orders (district_id);
CREATE INDEX orders_lead_unit_id ON orders (lead_unit_id);
CREATE INDEX orders_deadline_at ON orders (deadline_at);
CREATE INDEX orders_parent_order_id ON orders (parent_order_id);

CREATE TABLE assignments (
    id                       INTEGER PRIMARY KEY,
    order_id                 INTEGER NOT NULL REFERENCES orders (id),
    unit_id                  INTEGER NOT NULL REFERENCES units (id),
    role                     TEXT    NOT NULL,
    state                    TEXT    NOT NULL,
    parent_assignment_id     INTEGER REFERENCES assignments (id),
    dispatched_at            INTEGER NOT NULL,
    dispatched_by            INTEGER NOT NULL,
    sign_deadline_at         INTEGER NOT NULL,
    return_deadline_at       INTEGER NOT NULL,
    handle_start_at          INTEGER NOT NULL,
    handle_deadline_at       INTEGER NOT NULL,
    signed_at                INTEGER,
    signed_by                INTEGER,
    reply                    TEXT,
    replied_at               INTEGER,
    replied_by               INTEGER,
    return_reason            TEXT,
    ext_days                 INTEGER,
    ext_reason               TEXT,
    ext_requested_at         INTEGER,
    ext_requested_by         INTEGER,
    ext_proposed_deadline_at INTEGER,
    extension_count          INTEGER NOT NULL DEFAULT 0,
    urge_count               INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX assignments_order_id ON assignments (order_id);
CREATE INDEX assignments_unit_id_state ON assignments (unit_id, state);
CREATE INDEX assignments_parent_assignment_id ON assignments (parent_assignment_id);

CREATE TABLE order_history (
    id            INTEGER PRIMARY KEY,
    order_id      INTEGER NOT NULL REFERENCES orders (id),
    at            INTEGER NOT NULL,
    actor_id      INTEGER NOT NULL,
    actor_unit_id INTEGER NOT NULL,
    action        TEXT    NOT NULL,
    from_state    TEXT,
    to_state      TEXT    NOT NULL,
    unit_id       INTEGER,
    text          TEXT,
    details       TEXT    NOT NULL
);
CREATE INDEX order_history_order_id_id ON order_history (order_id, id);

CREATE TABLE audit_log (
    id      INTEGER PRIMARY KEY,
    at      INTEGER NOT NULL,
    user_id INTEGER,
    action  TEXT    NOT NULL,
    target  TEXT    NOT NULL,
    detail  TEXT,
    address TEXT
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_user_id ON audit_log (user_id);
