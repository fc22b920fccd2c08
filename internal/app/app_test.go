package app

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dap-platform/dap/internal/config"
	"github.com/dap-platform/dap/internal/engine"
	"github.com/dap-platform/dap/internal/testdb"
)

// leaky wraps a real engine but claims its database accepted the
// self-test's write: the app must then refuse to serve the target.
type leaky struct{ engine.Engine }

func (leaky) SelfTestReadOnly(context.Context) error {
	return errors.New("the database accepted a write inside the read-only transaction")
}

func TestBuildServesRefusesAndDefers(t *testing.T) {
	ctx := context.Background()
	shop := filepath.Join(t.TempDir(), "shop.db")
	db, err := sql.Open("sqlite", shop)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT)"); err != nil {
		t.Fatal(err)
	}
	_ = db.Close()
	const secret = "S3cr3tPa55"
	cfg := &config.Config{Targets: []config.Target{
		{Name: "good", Engine: engine.SQLite, DSN: shop, Access: engine.ReadOnly},
		{Name: "leaky", Engine: engine.SQLite, DSN: shop, Access: engine.ReadOnly},
		{Name: "down", Engine: engine.Postgres, DSN: fmt.Sprintf("postgres://u:%s@127.0.0.1:%d/db?connect_timeout=1", secret, testdb.ClosedPort(t)), Access: engine.ReadOnly},
		{Name: "missing", Engine: engine.SQLite, DSN: filepath.Join(t.TempDir(), "nope.db"), Access: engine.ReadOnly},
	}}
	open := func(ctx context.Context, ct config.Target) (engine.Engine, error) {
		e, err := OpenEngine(ctx, ct)
		if err == nil && ct.Name == "leaky" {
			return leaky{e}, nil
		}
		return e, err
	}
	srv, err := build(ctx, cfg, slog.New(slog.DiscardHandler), open)
	if err != nil {
		t.Fatal(err)
	}
	gw := srv.Gateway
	defer gw.Close()
	infos := map[string]string{}
	for _, ti := range gw.Status(ctx) {
		infos[ti.Name] = fmt.Sprint(ti.Reachable, " ", ti.Error)
	}
	if !strings.HasPrefix(infos["good"], "true") {
		t.Errorf("good: %s", infos["good"])
	}
	if !strings.Contains(infos["leaky"], "self-test") {
		t.Errorf("leaky target must be refused with the self-test's reason: %s", infos["leaky"])
	}
	if _, err := gw.ExecuteSQL(ctx, "leaky", "SELECT 1", 0); err == nil || !errors.Is(err, engine.ErrUnavailable) {
		t.Errorf("a refused target must not run statements: %v", err)
	}
	if !strings.Contains(infos["missing"], "does not exist") {
		t.Errorf("missing file: %s", infos["missing"])
	}
	// A target that is down at start is listed, fails fast and clearly,
	// and never shows its password.
	_, err = gw.ExecuteSQL(ctx, "down", "SELECT 1", 0)
	if !errors.Is(err, engine.ErrUnavailable) {
		t.Errorf("down target: %v, want ErrUnavailable", err)
	}
	for name, msg := range infos {
		if strings.Contains(msg, secret) {
			t.Errorf("%s leaks the password: %s", name, msg)
		}
	}
	if err != nil && strings.Contains(err.Error(), secret) {
		t.Errorf("error leaks the password: %v", err)
	}
}
