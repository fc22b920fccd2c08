package mysql

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"strings"
	"time"

	mysqldrv "github.com/go-sql-driver/mysql"

	"github.com/dap-platform/dap/internal/engine"
)

const (
	defaultMaxConns = 10
	dialTimeout     = 5 * time.Second
	// writeTimeout bounds one socket write; reads are bounded by each
	// statement's context instead, because a statement may legitimately
	// send nothing for up to its own timeout.
	writeTimeout = 30 * time.Second
	// grace is how long after the server-side timeout the client gives up
	// and kills the statement itself, in case the server timeout did not fire.
	grace = 2 * time.Second
	// catalogTimeout bounds catalog and version queries.
	catalogTimeout = engine.DefaultTimeout
)

// Engine is one MySQL or MariaDB target.
type Engine struct {
	name   string
	access engine.Access
	dbName string           // the DSN's database, the default schema
	base   driver.Connector // the plain driver connector, also used for KILL QUERY side connections
	db     *sql.DB
	res    *engine.Resilience
}

var (
	_ engine.Engine     = (*Engine)(nil)
	_ engine.SelfTester = (*Engine)(nil)
)

// Open prepares a target without connecting: a server that is down now is
// reported by each call and recovers by itself. It fails only for a
// malformed DSN, and then never echoes the DSN or its password.
func Open(_ context.Context, o engine.Options) (*Engine, error) {
	cfg, err := parseConfig(o.DSN)
	if err != nil {
		return nil, fmt.Errorf("target %s: %w", o.Name, err)
	}
	base, err := mysqldrv.NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("target %s: invalid MySQL DSN settings: %s: %w", o.Name, redactDSN(err.Error(), o.DSN), engine.ErrInvalid)
	}
	n := o.MaxConns
	if n <= 0 {
		n = defaultMaxConns
	}
	db := sql.OpenDB(&connector{base: base})
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	db.SetConnMaxIdleTime(5 * time.Minute)
	db.SetConnMaxLifetime(30 * time.Minute)
	e := &Engine{name: o.Name, access: o.Access, dbName: cfg.DBName, base: base, db: db}
	e.res = engine.NewResilience(o.Name, isTransient, engine.ResilienceOptions{})
	return e, nil
}

// parseConfig parses the DSN and forces the settings DAP relies on.
func parseConfig(dsn string) (*mysqldrv.Config, error) {
	cfg, err := mysqldrv.ParseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("invalid MySQL DSN (%s); expected user:password@tcp(host:3306)/dbname?param=value: %w",
			redactDSN(err.Error(), dsn), engine.ErrInvalid)
	}
	// One statement per call: several would allow "COMMIT; DROP ..." escapes.
	cfg.MultiStatements = false
	// Server-side prepared statements: values are never spliced into SQL text.
	cfg.InterpolateParams = false
	cfg.ParseTime = true
	// LOAD DATA LOCAL INFILE would let the server read the gateway's files.
	cfg.AllowAllFiles = false
	if cfg.Timeout <= 0 || cfg.Timeout > dialTimeout {
		cfg.Timeout = dialTimeout
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = writeTimeout
	}
	if cfg.Loc == nil {
		cfg.Loc = time.UTC
	}
	if cfg.Params == nil {
		cfg.Params = map[string]string{}
	}
	// TIMESTAMP values are sent in the session time zone and parsed in
	// cfg.Loc; make them agree so instants come out right.
	if _, set := cfg.Params["time_zone"]; !set && cfg.Loc == time.UTC {
		cfg.Params["time_zone"] = "'+00:00'"
	}
	return cfg, nil
}

// redactDSN removes the DSN and its password from a message.
func redactDSN(msg, dsn string) string {
	if dsn != "" {
		msg = strings.ReplaceAll(msg, dsn, "<dsn>")
	}
	if at := strings.LastIndex(dsn, "@"); at > 0 {
		if colon := strings.Index(dsn[:at], ":"); colon >= 0 && colon+1 < at {
			msg = strings.ReplaceAll(msg, dsn[colon+1:at], "***")
		}
	}
	return msg
}

// Dialect implements engine.Engine.
func (e *Engine) Dialect() engine.Dialect { return engine.MySQL }

// Close closes the pool.
func (e *Engine) Close() error { return e.db.Close() }

// acquire takes a pooled connection through the retry and breaker. Only
// this step is retried; statements never are.
func (e *Engine) acquire(ctx context.Context) (*sql.Conn, *trackedConn, error) {
	var sc *sql.Conn
	err := e.res.Do(ctx, func(ctx context.Context) error {
		c, err := e.db.Conn(ctx)
		if err != nil {
			return err
		}
		sc = c
		return nil
	})
	if err != nil {
		return nil, nil, e.connectError(ctx, err)
	}
	var tc *trackedConn
	_ = sc.Raw(func(dc any) error {
		tc, _ = dc.(*trackedConn)
		return nil
	})
	if tc == nil {
		_ = sc.Close()
		return nil, nil, fmt.Errorf("target %s: unexpected driver connection type: %w", e.name, engine.ErrUnavailable)
	}
	return sc, tc, nil
}

// release returns a connection to the pool, or closes it when discard is
// set (its session may carry state a statement changed).
func release(sc *sql.Conn, discard bool) {
	if discard {
		// Returning driver.ErrBadConn from Raw makes database/sql close
		// the driver connection instead of pooling it.
		_ = sc.Raw(func(any) error { return driver.ErrBadConn })
	}
	_ = sc.Close()
}

// Ping checks reachability through the breaker.
func (e *Engine) Ping(ctx context.Context) error {
	sc, _, err := e.acquire(ctx)
	if err != nil {
		return err
	}
	defer release(sc, false)
	if err := sc.PingContext(ctx); err != nil {
		return fmt.Errorf("target %s: ping: %w", e.name, e.mapError(ctx, nil, err, engine.Limits{}, nil))
	}
	return nil
}

// ServerVersion returns e.g. "MariaDB 10.11.19" or "MySQL 8.0.36".
func (e *Engine) ServerVersion(ctx context.Context) (string, error) {
	sc, tc, err := e.acquire(ctx)
	if err != nil {
		return "", err
	}
	release(sc, false)
	return tc.flavour.String(), nil
}
