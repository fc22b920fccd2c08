// Package repo is DAP's own database: the repository that holds DAP's
// state (audit trail now; identities, roles and metrics in later
// migrations). It is SQLite by default (a single file, WAL) or PostgreSQL
// when several DAP instances share one estate.
//
// Files:
//   - repo.go: Options, Open, Repo (Dialect, DB, Close) and DSN redaction.
//   - migrate.go: goose migrations embedded per dialect and Migrate, which
//     refuses a repository newer than this binary.
//   - rebind.go: Rebind turns '?' placeholders into '$n' for PostgreSQL.
//   - migrations/sqlite/*.sql, migrations/postgres/*.sql: the schema, with
//     the same version numbers in both dialects.
package repo
