// Package sqlite is the SQLite adapter (modernc.org/sqlite, no cgo).
//
// Every read-only statement and every catalog query runs on a read-only
// pool whose connections are opened with mode=ro and query_only(1) and
// carry an SQLite authorizer that denies, at prepare time, anything but
// reading: writes, schema changes, ATTACH, transaction control, PRAGMAs
// outside a small introspection list and side-effecting functions.
// Read-write and admin targets also get a read-write pool; a connection
// that ran a write is closed rather than pooled, so no PRAGMA or temp
// table outlives its statement. Timeouts are SQLite interrupts fired by
// the statement's context deadline.
//
// Files: sqlite.go (Engine, Open, pools, connect under the breaker, error
// mapping), dsn.go (DSN parsing and the two pools' URIs), authorizer.go
// (the read-only policy and the connector that installs it), query.go
// (Query, value conversion, Explain, CallProcedure, SelfTestReadOnly),
// catalog.go (schemas, tables, Describe, row estimates, routines).
package sqlite
