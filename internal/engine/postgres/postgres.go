package postgres

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/dap-platform/dap/internal/engine"
)

// Defaults for a target.
const (
	defaultMaxConns       = 10
	defaultConnectTimeout = 5 * time.Second
)

// Engine is one PostgreSQL target.
type Engine struct {
	name string
	pool *pgxpool.Pool
	res  *engine.Resilience

	// typeNames caches names of OIDs pgx does not know (enums, domains,
	// composites, extension types), looked up once in pg_type.
	typeNames sync.Map // uint32 -> string
}

var (
	_ engine.Engine     = (*Engine)(nil)
	_ engine.SelfTester = (*Engine)(nil)
)

// Open prepares a target without connecting: a server that is down now is
// served with ErrUnavailable and recovers by itself. It fails only for a
// malformed DSN, and the error never repeats the DSN.
func Open(ctx context.Context, o engine.Options) (*Engine, error) {
	cfg, err := pgxpool.ParseConfig(o.DSN)
	if err != nil {
		return nil, fmt.Errorf("target %s: malformed PostgreSQL DSN (%s); want postgres://user@host:port/db or key=value pairs: %w",
			o.Name, parseReason(err), engine.ErrInvalid)
	}
	cfg.MaxConns = int32(defaultMaxConns)
	if o.MaxConns > 0 {
		cfg.MaxConns = int32(o.MaxConns)
	}
	cfg.MinConns = 0
	cc := cfg.ConnConfig
	if cc.ConnectTimeout == 0 {
		cc.ConnectTimeout = defaultConnectTimeout
	}
	// The simple protocol would let one text carry several statements
	// (the "COMMIT; DROP ..." escape). Exec mode keeps the extended
	// protocol without named statements, which is what a DSN asking for
	// the simple protocol (usually for pgbouncer) can live with.
	if cc.DefaultQueryExecMode == pgx.QueryExecModeSimpleProtocol {
		cc.DefaultQueryExecMode = pgx.QueryExecModeExec
	}
	if cc.DefaultQueryExecMode == pgx.QueryExecModeCacheStatement && cc.StatementCacheCapacity == 0 {
		cc.DefaultQueryExecMode = pgx.QueryExecModeExec
	}
	if cc.DefaultQueryExecMode == pgx.QueryExecModeCacheDescribe && cc.DescriptionCacheCapacity == 0 {
		cc.DefaultQueryExecMode = pgx.QueryExecModeExec
	}
	if _, ok := cc.RuntimeParams["application_name"]; !ok {
		cc.RuntimeParams["application_name"] = "dap"
	}
	cfg.AfterConnect = func(_ context.Context, c *pgx.Conn) error {
		registerTextTypes(c.TypeMap())
		return nil
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("target %s: create PostgreSQL pool: %s: %w", o.Name, parseReason(err), engine.ErrInvalid)
	}
	return &Engine{
		name: o.Name,
		pool: pool,
		res:  engine.NewResilience(o.Name, isTransient, engine.ResilienceOptions{}),
	}, nil
}

// parseReason is the cause of a DSN parse error without the DSN itself:
// pgconn's message quotes the (best-effort redacted) string and url.Error
// quotes it whole, password included.
func parseReason(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	var pce *pgconn.ParseConfigError
	if errors.As(err, &pce) {
		if inner := errors.Unwrap(pce); inner != nil {
			var ue *url.Error
			if errors.As(inner, &ue) {
				return ue.Err.Error()
			}
			if !strings.Contains(inner.Error(), pce.ConnString) {
				return inner.Error()
			}
		}
	}
	return "cannot parse it"
}

// Dialect implements engine.Engine.
func (e *Engine) Dialect() engine.Dialect { return engine.Postgres }

// acquire takes a pooled connection through the retry and breaker; only
// this step is retried, never a statement.
func (e *Engine) acquire(ctx context.Context) (*pgxpool.Conn, error) {
	var c *pgxpool.Conn
	err := e.res.Do(ctx, func(ctx context.Context) error {
		var err error
		c, err = e.pool.Acquire(ctx)
		return err
	})
	if err != nil {
		return nil, e.connectError(ctx, err)
	}
	return c, nil
}

// connectError maps a failed acquisition to an engine error kind.
func (e *Engine) connectError(ctx context.Context, err error) error {
	switch {
	case errors.Is(err, engine.ErrUnavailable), errors.Is(err, engine.ErrCanceled):
		return err
	case ctx.Err() != nil:
		return fmt.Errorf("target %s: waiting for a connection: %w", e.name, errors.Join(engine.ErrCanceled, ctx.Err()))
	}
	return fmt.Errorf("target %s: cannot connect to PostgreSQL: %s: %w", e.name, connectReason(err), engine.ErrUnavailable)
}

// Ping implements engine.Engine.
func (e *Engine) Ping(ctx context.Context) error {
	c, err := e.acquire(ctx)
	if err != nil {
		return err
	}
	defer c.Release()
	if err := c.Ping(ctx); err != nil {
		return e.mapError(ctx, err, 0, nil)
	}
	return nil
}

// ServerVersion implements engine.Engine. It reads the server_version
// parameter the server reported at connect time, so it costs no round-trip.
func (e *Engine) ServerVersion(ctx context.Context) (string, error) {
	c, err := e.acquire(ctx)
	if err != nil {
		return "", err
	}
	defer c.Release()
	v := c.Conn().PgConn().ParameterStatus("server_version")
	if v == "" {
		return "", fmt.Errorf("target %s: server did not report server_version", e.name)
	}
	// "15.19 (Debian 15.19-1.pgdg120+1)" -> "15.19"
	if i := strings.IndexByte(v, ' '); i > 0 {
		v = v[:i]
	}
	return "PostgreSQL " + v, nil
}

// Close implements engine.Engine.
func (e *Engine) Close() error {
	e.pool.Close()
	return nil
}
