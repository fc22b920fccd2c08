// Package mysql is the MySQL and MariaDB adapter (go-sql-driver/mysql over
// database/sql). The flavour (MySQL or MariaDB) and its version are read
// once per connection, right after it is opened.
//
// Files:
//   - engine.go: Open (DSN parsing with forced safe settings), the pool,
//     connection acquisition through the retry and breaker, Ping,
//     ServerVersion, Close.
//   - conn.go: the driver connector wrapper that records each connection's
//     id, flavour and the session settings DAP applied to it.
//   - session.go: the transaction runner every statement goes through
//     (server-side timeout, read-only or read-write transaction, KILL QUERY
//     on cancel, connection discard for session hygiene) and streaming into
//     the capped collector.
//   - query.go: Query and SelfTestReadOnly.
//   - values.go: conversion of driver values to JSON-safe ones by column type.
//   - errors.go: error mapping to the engine error kinds, transient-error
//     classification for the breaker, redaction of bound values.
//   - catalog.go: Schemas, Tables, Describe, Routines from information_schema.
//   - procedure.go: CallProcedure.
//   - explain.go: Explain and the plan summary.
//
// Read-only enforcement: every read runs on a connection whose session is
// set to read-only (tx_read_only / transaction_read_only) with a server-side
// statement timeout, inside START TRANSACTION READ ONLY ... ROLLBACK. The
// session flag matters: MySQL and MariaDB commit implicitly before DDL, which
// would otherwise end the read-only transaction and run the DDL in
// autocommit mode; with the session flag the DDL is refused as well.
//
// Session hygiene: the driver cannot send COM_RESET_CONNECTION, so a
// connection whose session may have been changed by a statement (every
// write-mode statement, every procedure call, and reads whose text could
// touch session state: user variables, SET, USE, locks) is discarded
// instead of returned to the pool. The session settings DAP applies itself
// (timeout, read-only flag) are tracked per connection and re-sent only
// when they change.
package mysql
