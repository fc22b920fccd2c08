-- +goose Up
-- The tamper-evident audit trail (see internal/audit), partitioned by month
-- on event time. Partitions are created on demand by the appender, under
-- the same advisory lock that serializes appends. old_value/new_value are
-- TEXT, not jsonb: jsonb would reorder keys and break the hashes.
CREATE TABLE audit_events (
    id             BIGINT      NOT NULL,
    event_time     TIMESTAMPTZ NOT NULL,
    event_type     TEXT        NOT NULL,
    user_name      TEXT        NOT NULL DEFAULT '',
    session_id     TEXT        NOT NULL DEFAULT '',
    client_addr    TEXT        NOT NULL DEFAULT '',
    application    TEXT        NOT NULL DEFAULT '',
    object_type    TEXT        NOT NULL DEFAULT '',
    object_name    TEXT        NOT NULL DEFAULT '',
    action         TEXT        NOT NULL DEFAULT '',
    old_value      TEXT,
    new_value      TEXT,
    success        BOOLEAN     NOT NULL,
    error          TEXT        NOT NULL DEFAULT '',
    duration_ms    BIGINT      NOT NULL DEFAULT 0,
    data_class     TEXT        NOT NULL DEFAULT '',
    target         TEXT        NOT NULL DEFAULT '',
    statement_kind TEXT        NOT NULL DEFAULT '',
    rows_returned  BIGINT      NOT NULL DEFAULT 0,
    correlation_id TEXT        NOT NULL DEFAULT '',
    sql_text       TEXT        NOT NULL DEFAULT '',
    prev_hash      BYTEA       NOT NULL,
    hash           BYTEA       NOT NULL,
    PRIMARY KEY (id, event_time)
) PARTITION BY RANGE (event_time);
CREATE INDEX audit_events_time ON audit_events (event_time);
CREATE INDEX audit_events_user_time ON audit_events (user_name, event_time);

-- Signed checkpoints over the chain's head.
CREATE TABLE audit_checkpoints (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    record_count BIGINT      NOT NULL,
    head_id      BIGINT      NOT NULL UNIQUE,
    head_hash    BYTEA       NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    key_id       TEXT        NOT NULL,
    signature    BYTEA       NOT NULL
);

-- +goose Down
DROP TABLE audit_checkpoints;
DROP TABLE audit_events;
