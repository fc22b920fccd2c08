package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"regexp"
	"strings"
	"sync"
	"time"

	msqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/dap-platform/dap/internal/engine"
)

// defaultMaxConns is the pool size when Options.MaxConns is zero.
const defaultMaxConns = 10

// Engine is one SQLite target: a read-only pool used for every read-only
// statement and catalog query, and for read-write and admin targets a
// read-write pool.
type Engine struct {
	name   string
	access engine.Access
	path   string
	res    *engine.Resilience
	ro     *sql.DB
	rw     *sql.DB // nil on read-only targets

	closeOnce sync.Once
	closeErr  error
}

var (
	_ engine.Engine     = (*Engine)(nil)
	_ engine.SelfTester = (*Engine)(nil)
)

// errMissingFile marks a database file that is not there (yet): a
// transient condition for the breaker, like a server that is down.
var errMissingFile = errors.New("database file does not exist")

// Open prepares the target without touching the file beyond a stat: it
// fails for a malformed DSN and, on read-only targets, for a database file
// that does not exist (opening it would otherwise create an empty one).
func Open(ctx context.Context, o engine.Options) (*Engine, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("open sqlite target %s: %w", o.Name, err)
	}
	d, err := parseDSN(o.DSN)
	if err != nil {
		return nil, fmt.Errorf("open sqlite target %s: %w", o.Name, err)
	}
	if o.Access == "" {
		o.Access = engine.ReadOnly
	}
	if o.Access == engine.ReadOnly {
		if _, err := os.Stat(d.path); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("open sqlite target %s: database file %s does not exist (a read-only target never creates one): %w", o.Name, d.path, engine.ErrNotFound)
		}
	}
	maxConns := o.MaxConns
	if maxConns <= 0 {
		maxConns = defaultMaxConns
	}
	roBase, err := msqlite.NewConnector(d.readOnlyDSN())
	if err != nil {
		return nil, fmt.Errorf("open sqlite target %s: malformed DSN parameters: %w", o.Name, engine.ErrInvalid)
	}
	e := &Engine{name: o.Name, access: o.Access, path: d.path}
	e.ro = sql.OpenDB(roConnector{base: roBase})
	e.ro.SetMaxOpenConns(maxConns)
	e.ro.SetMaxIdleConns(maxConns)
	e.ro.SetConnMaxIdleTime(5 * time.Minute)
	if o.Access != engine.ReadOnly {
		rwBase, err := msqlite.NewConnector(d.readWriteDSN())
		if err != nil {
			_ = e.ro.Close()
			return nil, fmt.Errorf("open sqlite target %s: malformed DSN parameters: %w", o.Name, engine.ErrInvalid)
		}
		e.rw = sql.OpenDB(rwBase)
		e.rw.SetMaxOpenConns(maxConns)
		// Write connections are discarded after each statement (session
		// hygiene), so keeping idle ones buys nothing.
		e.rw.SetMaxIdleConns(0)
	}
	e.res = engine.NewResilience(o.Name, isTransient, engine.ResilienceOptions{})
	return e, nil
}

// Dialect is engine.SQLite.
func (e *Engine) Dialect() engine.Dialect { return engine.SQLite }

// Close closes both pools.
func (e *Engine) Close() error {
	e.closeOnce.Do(func() {
		errs := []error{e.ro.Close()}
		if e.rw != nil {
			errs = append(errs, e.rw.Close())
		}
		e.closeErr = errors.Join(errs...)
	})
	return e.closeErr
}

// Ping opens (or reuses) a read-only connection through the breaker.
func (e *Engine) Ping(ctx context.Context) error {
	c, err := e.acquire(ctx, e.ro)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.PingContext(ctx); err != nil {
		return e.mapErr(ctx, nil, err, 0)
	}
	return nil
}

// ServerVersion returns "SQLite " + sqlite_version().
func (e *Engine) ServerVersion(ctx context.Context) (string, error) {
	c, err := e.acquire(ctx, e.ro)
	if err != nil {
		return "", err
	}
	defer c.Close()
	var v string
	if err := c.QueryRowContext(ctx, "SELECT sqlite_version()").Scan(&v); err != nil {
		return "", e.mapErr(ctx, c, err, 0)
	}
	return "SQLite " + v, nil
}

// acquire takes a connection from p under retry and breaker. The file is
// stat'ed first: an open connection keeps working on a deleted file, which
// would hide that the target is gone. The read-write pool may create the
// file (mode=rwc), so only the read-only pool requires it.
func (e *Engine) acquire(ctx context.Context, p *sql.DB) (*sql.Conn, error) {
	var conn *sql.Conn
	err := e.res.Do(ctx, func(ctx context.Context) error {
		if p == e.ro {
			if _, err := os.Stat(e.path); errors.Is(err, fs.ErrNotExist) {
				return errMissingFile
			}
		}
		c, err := p.Conn(ctx)
		if err != nil {
			return err
		}
		conn = c
		return nil
	})
	if err == nil {
		return conn, nil
	}
	switch {
	case errors.Is(err, engine.ErrUnavailable), errors.Is(err, engine.ErrCanceled):
		return nil, err
	case errors.Is(err, errMissingFile):
		return nil, fmt.Errorf("target %s: database file %s does not exist: %w", e.name, e.path, engine.ErrUnavailable)
	}
	return nil, fmt.Errorf("target %s: open database file %s: %s: %w", e.name, e.path, errText(err), engine.ErrUnavailable)
}

// isTransient says which connect failures are worth retrying and count
// against the breaker: a missing or unopenable file (a volume not mounted
// yet, a file being replaced), locks and I/O errors. Not a file that is
// not a database, not an authorization failure.
func isTransient(err error) bool {
	if errors.Is(err, errMissingFile) {
		return true
	}
	var se *msqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_PROTOCOL:
			return true
		}
	}
	return false
}

// codeSuffix is the " (1)" result code modernc appends to messages.
var codeSuffix = regexp.MustCompile(`\s*\(\d+\)(\s*\(SQLITE_[A-Z]+\))?$`)

// errText is a driver error's message without modernc's numeric code
// suffix; SQLite messages carry no DSN and no bound values.
func errText(err error) string {
	return codeSuffix.ReplaceAllString(strings.TrimSpace(err.Error()), "")
}

// mapErr turns a statement error into one of the engine's kinds. c, when
// not nil, is the connection the statement ran on (read-only pool), asked
// what the authorizer refused. timeout is the limit in force, for messages.
func (e *Engine) mapErr(ctx context.Context, c *sql.Conn, err error, timeout time.Duration) error {
	if err == nil {
		return nil
	}
	if ctx.Err() != nil && errors.Is(ctx.Err(), context.Canceled) {
		return fmt.Errorf("target %s: statement canceled by the caller: %w", e.name, engine.ErrCanceled)
	}
	var se *msqlite.Error
	isSE := errors.As(err, &se)
	if errors.Is(err, context.DeadlineExceeded) || (isSE && se.Code()&0xff == sqlite3.SQLITE_INTERRUPT) {
		if timeout > 0 {
			return fmt.Errorf("target %s: statement exceeded the %s timeout and was interrupted: %w", e.name, timeout, engine.ErrTimeout)
		}
		return fmt.Errorf("target %s: statement interrupted at its deadline: %w", e.name, engine.ErrTimeout)
	}
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("target %s: statement canceled: %w", e.name, engine.ErrCanceled)
	}
	if !isSE {
		if errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) {
			return fmt.Errorf("target %s: connection lost: %w", e.name, engine.ErrUnavailable)
		}
		return fmt.Errorf("target %s: %w", e.name, &engine.DBError{Message: errText(err)})
	}
	// The authorizer's record is taken on every error, so a denial never
	// lingers into a later statement's message.
	what := ""
	if c != nil {
		_ = c.Raw(func(dc any) error {
			if rc, ok := dc.(*roConn); ok {
				what = rc.takeDenial()
			}
			return nil
		})
	}
	code := se.Code() & 0xff
	// A denied function surfaces as SQLITE_ERROR "not authorized to use function".
	if code == sqlite3.SQLITE_AUTH || (what != "" && strings.Contains(err.Error(), "not authorized")) {
		if what == "" {
			what = "the statement"
		}
		return fmt.Errorf("target %s: the database refused a write on a read-only target: %s is not allowed on a read-only connection: %w", e.name, what, engine.ErrReadOnly)
	}
	switch code {
	case sqlite3.SQLITE_READONLY:
		return fmt.Errorf("target %s: the database refused a write on a read-only target (%s): %w", e.name, errText(err), engine.ErrReadOnly)
	case sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT:
		return fmt.Errorf("target %s: database file %s unusable (%s): %w", e.name, e.path, errText(err), engine.ErrUnavailable)
	}
	return fmt.Errorf("target %s: %w", e.name, &engine.DBError{Code: codeName(se.Code()), Message: errText(err)})
}

// codeName is the SQLite primary result code's name, e.g. SQLITE_CONSTRAINT.
func codeName(code int) string {
	if s, ok := msqlite.ErrorCodeString[code&0xff]; ok {
		if i := strings.LastIndex(s, "("); i >= 0 && strings.HasSuffix(s, ")") {
			return s[i+1 : len(s)-1]
		}
	}
	return fmt.Sprintf("SQLITE_%d", code)
}
