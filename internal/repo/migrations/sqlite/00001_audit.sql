-- +goose Up
-- The tamper-evident audit trail (see internal/audit). Times are TEXT in
-- the fixed UTC form 2006-01-02T15:04:05.000000Z so they sort as text and
-- keep exactly the microseconds the hash covers.
CREATE TABLE audit_events (
    id             INTEGER PRIMARY KEY,
    event_time     TEXT    NOT NULL,
    event_type     TEXT    NOT NULL,
    user_name      TEXT    NOT NULL DEFAULT '',
    session_id     TEXT    NOT NULL DEFAULT '',
    client_addr    TEXT    NOT NULL DEFAULT '',
    application    TEXT    NOT NULL DEFAULT '',
    object_type    TEXT    NOT NULL DEFAULT '',
    object_name    TEXT    NOT NULL DEFAULT '',
    action         TEXT    NOT NULL DEFAULT '',
    old_value      TEXT,
    new_value      TEXT,
    success        INTEGER NOT NULL,
    error          TEXT    NOT NULL DEFAULT '',
    duration_ms    INTEGER NOT NULL DEFAULT 0,
    data_class     TEXT    NOT NULL DEFAULT '',
    target         TEXT    NOT NULL DEFAULT '',
    statement_kind TEXT    NOT NULL DEFAULT '',
    rows_returned  INTEGER NOT NULL DEFAULT 0,
    correlation_id TEXT    NOT NULL DEFAULT '',
    sql_text       TEXT    NOT NULL DEFAULT '',
    prev_hash      BLOB    NOT NULL,
    hash           BLOB    NOT NULL
);
CREATE INDEX audit_events_time ON audit_events (event_time);
CREATE INDEX audit_events_user_time ON audit_events (user_name, event_time);

-- Signed checkpoints over the chain's head.
CREATE TABLE audit_checkpoints (
    id           INTEGER PRIMARY KEY,
    record_count INTEGER NOT NULL,
    head_id      INTEGER NOT NULL UNIQUE,
    head_hash    BLOB    NOT NULL,
    created_at   TEXT    NOT NULL,
    key_id       TEXT    NOT NULL,
    signature    BLOB    NOT NULL
);

-- +goose Down
DROP TABLE audit_checkpoints;
DROP TABLE audit_events;
