// Package postgres is the PostgreSQL adapter: a pgxpool-backed
// engine.Engine and engine.SelfTester.
//
// Files: postgres.go (Open, the pool, connection acquisition through the
// retry and circuit breaker, Ping, ServerVersion, Close), query.go (the
// one-batch read-only or read-write transaction that runs a statement and
// streams its rows under the caps, session hygiene), errors.go (mapping
// pgx/pgconn errors to the engine error kinds), values.go (type names and
// value conversion to JSON-safe forms, text-only codecs for exotic types),
// catalog.go (schemas, tables, describe, routines from pg_catalog),
// explain.go (EXPLAIN (FORMAT JSON) and its summary), routine.go
// (CallProcedure), selftest.go (SelfTestReadOnly).
//
// Every statement goes through pgx's extended protocol (never the simple
// protocol), so a statement text can only ever hold one statement.
package postgres
