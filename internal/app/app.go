package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/dap-platform/dap/internal/config"
	"github.com/dap-platform/dap/internal/engine"
	"github.com/dap-platform/dap/internal/engine/mysql"
	"github.com/dap-platform/dap/internal/engine/postgres"
	"github.com/dap-platform/dap/internal/engine/sqlite"
	"github.com/dap-platform/dap/internal/engine/sqlserver"
	"github.com/dap-platform/dap/internal/gateway"
)

// OpenEngine opens the adapter for one target. This is the one place that
// maps engine names to adapters.
func OpenEngine(ctx context.Context, t config.Target) (engine.Engine, error) {
	o := engine.Options{Name: t.Name, DSN: t.DSN, Access: t.Access, MaxConns: t.MaxConnections}
	switch t.Engine {
	case engine.Postgres:
		return postgres.Open(ctx, o)
	case engine.MySQL:
		return mysql.Open(ctx, o)
	case engine.SQLite:
		return sqlite.Open(ctx, o)
	case engine.SQLServer:
		return sqlserver.Open(ctx, o)
	}
	return nil, fmt.Errorf("target %s: engine %q has no adapter", t.Name, t.Engine)
}

// Build opens every target and returns the gateway. A target that cannot
// be opened (bad DSN) or that failed its read-only self-test is still
// listed, with the reason, and refuses every call; a target that is down
// is served and recovers by itself.
func Build(ctx context.Context, cfg *config.Config, log *slog.Logger) (*gateway.Gateway, error) {
	return build(ctx, cfg, log, OpenEngine)
}

// opener opens one target's engine; tests substitute it.
type opener func(ctx context.Context, t config.Target) (engine.Engine, error)

func build(ctx context.Context, cfg *config.Config, log *slog.Logger, open opener) (*gateway.Gateway, error) {
	targets := make([]*gateway.Target, 0, len(cfg.Targets))
	for _, ct := range cfg.Targets {
		gt := &gateway.Target{
			Name: ct.Name, Description: ct.Description, Dialect: ct.Engine, Access: ct.Access,
			Limits: ct.Limits(), Procedures: ct.Procedures,
		}
		targets = append(targets, gt)
		e, err := open(ctx, ct)
		if err != nil {
			gt.OpenErr = err
			log.Error("target not opened", "target", ct.Name, "engine", ct.Engine, "error", err)
			continue
		}
		if ct.Access != engine.ReadOnly {
			gt.Engine = e
			continue
		}
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err = SelfTest(sctx, e)
		cancel()
		switch {
		case err == nil:
			gt.Engine = e
		case errors.Is(err, engine.ErrUnavailable) || errors.Is(err, engine.ErrCanceled) || errors.Is(err, context.DeadlineExceeded):
			log.Warn("target unreachable at start; the read-only self-test runs when it answers", "target", ct.Name, "error", err)
			gt.Engine = deferSelfTest(e)
		default:
			_ = e.Close()
			gt.OpenErr = err
			log.Error("target refused: read-only self-test failed", "target", ct.Name, "error", err)
		}
	}
	return gateway.New(targets, log), nil
}
