// Package sqlserver is the SQL Server adapter: it implements engine.Engine
// and engine.SelfTester over database/sql with the go-mssqldb driver
// ("sqlserver" dialect, @p1.. placeholders).
//
// Files: engine.go (Open, pool, breaker-guarded connection acquisition,
// Ping, ServerVersion), dsn.go (DSN validation and password redaction),
// query.go (Query: the read-only and write transactions, streaming into the
// capped collector), values.go (driver values to JSON-safe values),
// errors.go (mssql.Error numbers to engine error kinds), catalog.go
// (schemas, tables, describe, routines over the sys catalog views),
// defaults.go (parameter defaults read from module text with the T-SQL
// parser, since sys.parameters only knows them for CLR routines),
// explain.go (SHOWPLAN_XML / STATISTICS XML and the plan summary),
// procedure.go (identifier quoting and EXEC / SELECT call text),
// selftest.go (SelfTestReadOnly).
//
// Read-only enforcement. SQL Server has no READ ONLY transaction. A read
// runs on one pooled connection as: a batch "SET TRANSACTION ISOLATION
// LEVEL READ COMMITTED; SET LOCK_TIMEOUT <timeout ms>; SET XACT_ABORT ON",
// then a driver transaction (TDS BEGIN TRANSACTION), the statement, and
// always ROLLBACK, so anything a read somehow changed is undone. That is a
// safety net, not a barrier: the real barriers are the guard (the T-SQL
// parser's one-statement, read-only classification) plus a least-privilege
// login (db_datareader only). For availability-group secondaries use
// ApplicationIntent=ReadOnly in the DSN, which makes the database itself
// refuse writes (error 3906, mapped to engine.ErrReadOnly).
//
// Timeouts. SQL Server has no server-side statement timeout setting; the
// statement runs under a context deadline of lim.Timeout and go-mssqldb
// sends a TDS attention packet when the context ends, which makes the
// server abort the statement (and, with XACT_ABORT ON, roll back the
// transaction). LOCK_TIMEOUT bounds lock waits on the server itself
// (error 1222, mapped to engine.ErrTimeout).
//
// Session hygiene. database/sql calls the driver's ResetSession before a
// pooled connection is reused, and go-mssqldb then sets the TDS
// RESETCONNECTION flag on the next request, so the server resets SET
// options, temp tables, the database context and the isolation level (the
// sp_reset_connection semantics). On top of that, every connection that
// ran a non-read-only statement, an EXPLAIN (SHOWPLAN / STATISTICS XML
// mode) or a self-test is discarded instead of returned to the pool.
//
// Unverified. No SQL Server can run where this was written (no Docker
// engine, no TDS server package), so everything that needs a live server
// is untested here: the transactions and rollback, streaming and
// cancellation by attention, the write path with row counts
// (sqlexp.ReturnMessage), the catalog queries' results, EXPLAIN output
// capture and self-test outcomes. What is tested without a server: DSN
// validation and redaction, identifier quoting, the call text, value
// conversion, showplan XML parsing, error mapping, that the catalog SQL
// parses as T-SQL and uses the expected placeholders, and that a down
// target fails fast with engine.ErrUnavailable and opens the breaker.
package sqlserver
