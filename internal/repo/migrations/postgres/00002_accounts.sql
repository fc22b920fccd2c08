-- +goose Up
-- Identities, custom roles, grants and API keys (see internal/accounts).
-- Times are BIGINT Unix microseconds (UTC) in both dialects, so that the
-- schema and the code reading it are the same for SQLite and PostgreSQL.
-- "pending" rows were written but their audit record is not yet durable:
-- they never count (no rights, no authentication) until activated.
CREATE TABLE users (
    name         TEXT    PRIMARY KEY,
    display_name TEXT    NOT NULL DEFAULT '',
    created_at   BIGINT  NOT NULL,
    disabled     BOOLEAN NOT NULL DEFAULT FALSE
);

-- Custom roles, and overrides (description, require_mfa) of built-in
-- roles, whose permissions are fixed in code and never stored.
CREATE TABLE roles (
    id          BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        TEXT    NOT NULL,
    description TEXT    NOT NULL DEFAULT '',
    require_mfa BOOLEAN NOT NULL DEFAULT FALSE,
    created_at  BIGINT  NOT NULL,
    updated_at  BIGINT  NOT NULL
);
CREATE UNIQUE INDEX roles_name ON roles (lower(name));

CREATE TABLE role_permissions (
    role_id    BIGINT NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    permission TEXT   NOT NULL,
    PRIMARY KEY (role_id, permission)
);

-- A grant's subject is a user name or "group:<name>"; targets is a JSON
-- array of target names, empty for all targets.
CREATE TABLE grants (
    id         BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    subject    TEXT    NOT NULL,
    role       TEXT    NOT NULL,
    targets    TEXT    NOT NULL DEFAULT '[]',
    expires_at BIGINT,
    granted_by TEXT    NOT NULL,
    granted_at BIGINT  NOT NULL,
    pending    BOOLEAN NOT NULL DEFAULT TRUE
);
CREATE INDEX grants_subject ON grants (subject);
CREATE INDEX grants_role ON grants (lower(role));

-- API keys: only the SHA-256 of the full key is stored.
CREATE TABLE api_keys (
    id           BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    prefix       TEXT    NOT NULL,
    key_hash     BYTEA   NOT NULL UNIQUE,
    user_name    TEXT    NOT NULL REFERENCES users (name),
    created_at   BIGINT  NOT NULL,
    last_used_at BIGINT,
    expires_at   BIGINT,
    revoked_at   BIGINT,
    pending      BOOLEAN NOT NULL DEFAULT TRUE
);
CREATE INDEX api_keys_user ON api_keys (user_name);

-- +goose Down
DROP TABLE api_keys;
DROP TABLE grants;
DROP TABLE role_permissions;
DROP TABLE roles;
DROP TABLE users;
