package app

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/dap-platform/dap/internal/accounts"
	"github.com/dap-platform/dap/internal/audit"
	"github.com/dap-platform/dap/internal/config"
	"github.com/dap-platform/dap/internal/engine"
	"github.com/dap-platform/dap/internal/engine/mysql"
	"github.com/dap-platform/dap/internal/engine/postgres"
	"github.com/dap-platform/dap/internal/engine/sqlite"
	"github.com/dap-platform/dap/internal/engine/sqlserver"
	"github.com/dap-platform/dap/internal/gateway"
	"github.com/dap-platform/dap/internal/repo"
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
	s, err := BuildServer(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	return s.Gateway, nil
}

// Server is what the transports need: the gateway and, when DAP has a
// repository, the accounts store (API keys) and the one audit appender
// that every record goes through. Closing the gateway closes them.
type Server struct {
	Gateway  *gateway.Gateway
	Accounts *accounts.Store // nil without a repository
	Auditor  *audit.Appender // nil without a repository
}

// BuildServer is Build, returning the accounts store and audit appender too.
func BuildServer(ctx context.Context, cfg *config.Config, log *slog.Logger) (*Server, error) {
	return build(ctx, cfg, log, OpenEngine)
}

// opener opens one target's engine; tests substitute it.
type opener func(ctx context.Context, t config.Target) (engine.Engine, error)

func build(ctx context.Context, cfg *config.Config, log *slog.Logger, open opener) (*Server, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	res := NewResolver(cfg)
	targets := make([]*gateway.Target, 0, len(cfg.Targets))
	for _, ct := range cfg.Targets {
		gt := &gateway.Target{
			Name: ct.Name, Description: ct.Description, Dialect: ct.Engine, Access: ct.Access,
			Limits: ct.Limits(), Procedures: ct.Procedures,
		}
		targets = append(targets, gt)
		rt, err := ResolveTarget(ctx, res, ct)
		if err != nil {
			gt.OpenErr = err
			log.Error("target not opened: its DSN reference did not resolve", "target", ct.Name, "error", err)
			continue
		}
		e, err := open(ctx, rt)
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
	srv := &Server{Gateway: gateway.New(targets, log)}
	if err := attachAudit(ctx, srv, cfg, log); err != nil {
		_ = srv.Gateway.Close()
		return nil, err
	}
	return srv, nil
}

// AuditKeyFile is the checkpoint signing key's file name under data_dir.
const AuditKeyFile = "audit.key"

// attachAudit opens DAP's repository (SQLite under data_dir, or the
// configured PostgreSQL), migrates it, and makes the gateway record every
// call there. A configuration with neither (only programmatic ones, such as
// tests) runs without an audit trail, and says so.
func attachAudit(ctx context.Context, srv *Server, cfg *config.Config, log *slog.Logger) error {
	gw := srv.Gateway
	if cfg.DataDir == "" && cfg.Repository == "" {
		log.Warn("no data_dir or repository: calls are not audited")
		return nil
	}
	r, key, err := OpenRepository(ctx, cfg)
	if err != nil {
		return err
	}
	a, err := audit.NewAppender(r, key, audit.Options{})
	if err != nil {
		_ = r.Close()
		return fmt.Errorf("audit trail: %w", err)
	}
	gw.UseAuditor(a, func(ctx context.Context) error {
		return errors.Join(a.Close(ctx), r.Close())
	})
	store, err := accounts.New(r, a)
	if err != nil {
		return fmt.Errorf("accounts: %w", err)
	}
	localUser := cfg.LocalUser
	if localUser == "" {
		localUser = config.DefaultLocalUser
	}
	authz, err := newPolicyAuthorizer(accounts.NewPolicyCache(store, 0), localUser, localRole(cfg))
	if err != nil {
		return err
	}
	gw.UseAuthorizer(authz)
	srv.Accounts, srv.Auditor = store, a
	return nil
}

// localRole is the configured role of the local identity.
func localRole(cfg *config.Config) string {
	if cfg.LocalRole != "" {
		return cfg.LocalRole
	}
	return DefaultLocalRole
}

// OpenRepository opens and migrates DAP's repository and loads (creating
// on first use) the audit signing key under data_dir.
func OpenRepository(ctx context.Context, cfg *config.Config) (*repo.Repo, ed25519.PrivateKey, error) {
	if cfg.DataDir == "" {
		return nil, nil, fmt.Errorf("data_dir is not set: it holds the audit signing key")
	}
	r, err := repo.Open(ctx, repo.Options{DataDir: cfg.DataDir, PostgresDSN: cfg.Repository})
	if err != nil {
		return nil, nil, fmt.Errorf("repository: %w", err)
	}
	if err := r.Migrate(ctx); err != nil {
		_ = r.Close()
		return nil, nil, fmt.Errorf("repository: %w", err)
	}
	key, err := audit.LoadOrCreateKey(filepath.Join(cfg.DataDir, AuditKeyFile))
	if err != nil {
		_ = r.Close()
		return nil, nil, fmt.Errorf("audit signing key: %w", err)
	}
	return r, key, nil
}
