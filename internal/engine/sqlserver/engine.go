package sqlserver

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"time"

	mssql "github.com/microsoft/go-mssqldb"

	"github.com/dap-platform/dap/internal/engine"
)

// defaultMaxConns is the pool size when Options.MaxConns is zero.
const defaultMaxConns = 10

// connectAttemptTimeout bounds one connection attempt so a black-holed
// host fails (and is retried, then trips the breaker) instead of hanging
// for the driver's 15 s dial timeout times the retries.
const connectAttemptTimeout = 5 * time.Second

// Engine is one SQL Server target.
type Engine struct {
	name     string
	db       *sql.DB
	res      *engine.Resilience
	password string // only to redact it from driver messages
	guidConv bool   // DSN "guid conversion=true": GUID bytes arrive in canonical order
}

var (
	_ engine.Engine     = (*Engine)(nil)
	_ engine.SelfTester = (*Engine)(nil)
)

// Open validates the DSN and prepares a lazily connecting pool. It does not
// contact the server: a target that is down now is served with
// ErrUnavailable and recovers by itself. It fails only for a malformed DSN,
// with an error that never carries the DSN or its password.
func Open(ctx context.Context, o engine.Options) (*Engine, error) {
	_ = ctx // nothing to do before the first statement
	cfg, err := parseDSN(o.Name, o.DSN)
	if err != nil {
		return nil, err
	}
	n := o.MaxConns
	if n <= 0 {
		n = defaultMaxConns
	}
	db := sql.OpenDB(mssql.NewConnectorConfig(cfg))
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	db.SetConnMaxIdleTime(5 * time.Minute)
	return &Engine{
		name:     o.Name,
		db:       db,
		res:      engine.NewResilience(o.Name, isTransient, engine.ResilienceOptions{}),
		password: cfg.Password,
		guidConv: cfg.Encoding.GuidConversion,
	}, nil
}

// Dialect returns engine.SQLServer.
func (e *Engine) Dialect() engine.Dialect { return engine.SQLServer }

// Close closes the pool.
func (e *Engine) Close() error { return e.db.Close() }

// BreakerState is the connect breaker's state: closed, open or half-open.
func (e *Engine) BreakerState() string { return e.res.State() }

// conn takes a pooled connection (dialling and logging in if needed)
// through the retry and breaker. Only this step is retried.
func (e *Engine) conn(ctx context.Context) (*sql.Conn, error) {
	var c *sql.Conn
	err := e.res.Do(ctx, func(ctx context.Context) error {
		actx, cancel := context.WithTimeout(ctx, connectAttemptTimeout)
		defer cancel()
		cc, err := e.db.Conn(actx)
		if err != nil {
			return err
		}
		c = cc
		return nil
	})
	if err == nil {
		return c, nil
	}
	if errors.Is(err, engine.ErrUnavailable) || errors.Is(err, engine.ErrCanceled) {
		return nil, err
	}
	var me mssql.Error
	if errors.As(err, &me) && loginNumbers[me.Number] {
		return nil, fmt.Errorf("target %s: SQL Server refused the login (check the user, password and database in the DSN): %s: %w",
			e.name, redact(me.Message, e.password), engine.ErrUnavailable)
	}
	return nil, fmt.Errorf("target %s: cannot connect to SQL Server: %s: %w", e.name, redact(err.Error(), e.password), engine.ErrUnavailable)
}

// discard closes c without returning it to the pool, so no session state
// it may carry (SET options, SHOWPLAN mode, temp tables) can reach a later
// caller.
func discard(c *sql.Conn) {
	_ = c.Raw(func(any) error { return driver.ErrBadConn })
	_ = c.Close()
}

// Ping checks reachability through the breaker.
func (e *Engine) Ping(ctx context.Context) error {
	c, err := e.conn(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.PingContext(ctx); err != nil {
		return mapError(ctx, err, engine.DefaultTimeout, "target "+e.name+": ping", []string{e.password})
	}
	return nil
}

// versionSQL reads the product version and edition.
const versionSQL = `SELECT CAST(SERVERPROPERTY('ProductVersion') AS nvarchar(128)) AS product_version,
       CAST(SERVERPROPERTY('Edition') AS nvarchar(128)) AS edition`

// ServerVersion returns e.g. "SQL Server 16.0.4135.4 (Developer Edition (64-bit))".
func (e *Engine) ServerVersion(ctx context.Context) (string, error) {
	var version, edition sql.NullString
	err := e.withConn(ctx, engine.Limits{}, "server version", func(ctx context.Context, c *sql.Conn) error {
		return c.QueryRowContext(ctx, versionSQL).Scan(&version, &edition)
	})
	if err != nil {
		return "", err
	}
	return formatVersion(version.String, edition.String), nil
}

func formatVersion(version, edition string) string {
	s := "SQL Server " + version
	if edition != "" {
		s += " (" + edition + ")"
	}
	return s
}

// withConn runs f on a pooled connection under lim.Timeout, mapping errors.
// For short catalog reads that need no transaction.
func (e *Engine) withConn(ctx context.Context, lim engine.Limits, what string, f func(ctx context.Context, c *sql.Conn) error) error {
	lim = lim.WithDefaults()
	c, err := e.conn(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	qctx, cancel := context.WithTimeout(ctx, lim.Timeout)
	defer cancel()
	if err := f(qctx, c); err != nil {
		return mapError(qctx, err, lim.Timeout, "target "+e.name+": "+what, []string{e.password})
	}
	return nil
}
