package app

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dap-platform/dap/internal/accounts"
	"github.com/dap-platform/dap/internal/audit"
	"github.com/dap-platform/dap/internal/config"
	"github.com/dap-platform/dap/internal/engine"
	"github.com/dap-platform/dap/internal/gateway"
)

// TestRoleBasedAccess: grants in the repository decide every call, capped
// by the target's access mode; refusals are audited; the local identity
// has its configured role.
func TestRoleBasedAccess(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	shop := filepath.Join(dir, "shop.db")
	db, err := sql.Open("sqlite", shop)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT); INSERT INTO t(name) VALUES ('a')"); err != nil {
		t.Fatal(err)
	}
	_ = db.Close()
	cfg := &config.Config{DataDir: filepath.Join(dir, "state"), LocalUser: "local", Targets: []config.Target{
		{Name: "ro", Engine: engine.SQLite, DSN: shop, Access: engine.ReadOnly},
		{Name: "rw", Engine: engine.SQLite, DSN: shop, Access: engine.ReadWrite},
	}}

	// Grants are made the way `dap role assign` makes them.
	r, key, err := OpenRepository(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	a, err := audit.NewAppender(r, key, audit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	store, err := accounts.New(r, a)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range []struct{ user, role string }{{"dev@example.com", "Developer"}, {"dba@example.com", "DBA"}, {"aud@example.com", "Auditor"}} {
		if _, err := store.Assign(ctx, "test", g.user, g.role, nil, time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	expires := time.Now().Add(100 * time.Millisecond)
	if _, err := store.Assign(ctx, "test", "old@example.com", "DBA", nil, expires); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(ctx); err != nil {
		t.Fatal(err)
	}
	_ = r.Close()

	gw, err := Build(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer gw.Close()
	time.Sleep(time.Until(expires)) // the grant lapses
	as := func(user string) context.Context { return gateway.WithCaller(ctx, gateway.Caller{User: user}) }
	for _, tc := range []struct {
		user, target, sql string
		allowed           bool
		why               string
	}{
		{"dev@example.com", "rw", "SELECT name FROM t", true, ""},
		{"dev@example.com", "rw", "UPDATE t SET name = 'dev'", false, "QueryWrite"},
		{"dba@example.com", "rw", "UPDATE t SET name = 'dba'", true, ""},
		{"dba@example.com", "ro", "SELECT name FROM t", true, ""},
		{"aud@example.com", "ro", "SELECT name FROM t", false, "QueryRead"},
		{"old@example.com", "rw", "SELECT name FROM t", false, ""},
		{"nobody@example.com", "ro", "SELECT name FROM t", false, ""},
		{"", "ro", "SELECT name FROM t", false, "identity"},
		{"local", "rw", "UPDATE t SET name = 'local'", true, ""},
	} {
		_, err := gw.ExecuteSQL(as(tc.user), tc.target, tc.sql, 0)
		if tc.allowed != (err == nil) {
			t.Errorf("%s on %s: %q -> %v, want allowed=%v", tc.user, tc.target, tc.sql, err, tc.allowed)
			continue
		}
		if !tc.allowed && (!errors.Is(err, gateway.ErrForbidden) || !strings.Contains(err.Error(), tc.why)) {
			t.Errorf("%s on %s: refusal %v should be forbidden and mention %q", tc.user, tc.target, err, tc.why)
		}
	}
	ts, err := gw.ListTargets(as("aud@example.com"))
	if err != nil || len(ts) != 0 {
		t.Errorf("an auditor lists %d targets (%v), want none", len(ts), err)
	}
	ts, err = gw.ListTargets(as("dev@example.com"))
	if err != nil || len(ts) != 2 {
		t.Errorf("a developer lists %d targets (%v), want 2", len(ts), err)
	}
	_ = gw.Close()

	// The refusals are in the audit trail.
	r, _, err = OpenRepository(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var n int
	if err := r.DB().QueryRow(`SELECT count(*) FROM audit_events WHERE user_name = 'dev@example.com' AND success = 0 AND error LIKE '%forbidden%'`).Scan(&n); err != nil || n != 1 {
		t.Errorf("the developer's refused write: %d audit records (%v), want 1", n, err)
	}
}
