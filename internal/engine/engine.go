package engine

import (
	"context"
	"fmt"
	"time"
)

// Dialect names a SQL dialect and so the adapter that speaks it.
type Dialect string

// The dialects DAP speaks.
const (
	Postgres  Dialect = "postgres"
	MySQL     Dialect = "mysql"
	SQLite    Dialect = "sqlite"
	SQLServer Dialect = "sqlserver"
)

// ParseDialect accepts the engine names used in configuration.
func ParseDialect(s string) (Dialect, error) {
	switch Dialect(s) {
	case Postgres, MySQL, SQLite, SQLServer:
		return Dialect(s), nil
	}
	return "", fmt.Errorf("unknown engine %q (want postgres, mysql, sqlite or sqlserver)", s)
}

// Access is a target's access mode: the most a statement may do there.
type Access string

// Access modes, from least to most.
const (
	ReadOnly  Access = "read-only"
	ReadWrite Access = "read-write"
	Admin     Access = "admin"
)

// ParseAccess accepts the access modes used in configuration.
func ParseAccess(s string) (Access, error) {
	switch Access(s) {
	case ReadOnly, ReadWrite, Admin:
		return Access(s), nil
	}
	return "", fmt.Errorf("unknown access mode %q (want read-only, read-write or admin)", s)
}

// Limits bound one statement. Zero values mean "use the defaults".
type Limits struct {
	MaxRows  int           // rows returned before the result is cut
	MaxBytes int64         // approximate bytes of converted values before the result is cut
	Timeout  time.Duration // enforced by the server (statement_timeout, max_execution_time ...)
}

// Default limits, as documented in docs/configuration.md.
const (
	DefaultMaxRows  = 1000
	DefaultMaxBytes = 4 << 20
	DefaultTimeout  = 30 * time.Second
)

// WithDefaults fills zero fields with the defaults.
func (l Limits) WithDefaults() Limits {
	if l.MaxRows <= 0 {
		l.MaxRows = DefaultMaxRows
	}
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	if l.Timeout <= 0 {
		l.Timeout = DefaultTimeout
	}
	return l
}

// Query is one statement for an adapter to run. The guard has already
// checked SQL; the adapter adds the database-side enforcement.
type Query struct {
	SQL  string
	Args []any // bound parameters, never spliced into SQL
	// ReadOnly asks the adapter to run the statement inside an
	// engine-enforced read-only transaction (BEGIN READ ONLY, START
	// TRANSACTION READ ONLY, a query_only connection with an authorizer).
	ReadOnly bool
}

// Options configure an adapter when it is opened.
type Options struct {
	Name     string // target name, for errors and logs
	DSN      string // secret: never log or return it
	Access   Access
	MaxConns int // pool size; 0 means the adapter's default
	// Logger-free on purpose: adapters return errors, the gateway logs.
}

// Engine is one configured target. Adapters implement it; the gateway
// uses it. Every method honours ctx cancellation and, where the database
// supports it, cancels the running statement on the server.
type Engine interface {
	Dialect() Dialect
	// Ping checks reachability through the breaker.
	Ping(ctx context.Context) error
	// ServerVersion returns the server's version string (e.g. "PostgreSQL 15.19").
	ServerVersion(ctx context.Context) (string, error)
	Catalog
	// Query runs one statement, streaming rows into a capped Result.
	Query(ctx context.Context, q Query, lim Limits) (*Result, error)
	// Explain returns the plan of one statement. analyze executes it; the
	// gateway only asks for it on reads, and the adapter runs it read-only.
	Explain(ctx context.Context, sql string, analyze bool, lim Limits) (*Plan, error)
	// CallProcedure runs a catalog routine with bound arguments (already
	// validated against r.Params by the gateway).
	CallProcedure(ctx context.Context, r Routine, args []any, readOnly bool, lim Limits) (*Result, error)
	Close() error
}

// SelfTester is implemented by adapters that can prove a read-only target
// really refuses writes: a harmless write in a rolled-back transaction
// must fail. Returns nil when the database refused the write.
type SelfTester interface {
	SelfTestReadOnly(ctx context.Context) error
}
