package gateway_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"

	"github.com/dap-platform/dap/internal/audit"
	"github.com/dap-platform/dap/internal/engine"
	"github.com/dap-platform/dap/internal/engine/sqlite"
	"github.com/dap-platform/dap/internal/gateway"
	"github.com/dap-platform/dap/internal/repo"
)

// TestAuditFailsClosed: when the audit trail cannot be written, a read's
// result is withheld and a write never reaches the database.
func TestAuditFailsClosed(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "t.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT); INSERT INTO t(name) VALUES ('a')"); err != nil {
		t.Fatal(err)
	}
	eng, err := sqlite.Open(ctx, engine.Options{Name: "t", DSN: path, Access: engine.ReadWrite})
	if err != nil {
		t.Fatal(err)
	}
	r, err := repo.Open(ctx, repo.Options{DataDir: filepath.Join(dir, "state")})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	key, err := audit.LoadOrCreateKey(filepath.Join(dir, "state", "audit.key"))
	if err != nil {
		t.Fatal(err)
	}
	a, err := audit.NewAppender(r, key, audit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	gw := gateway.New([]*gateway.Target{{Name: "t", Engine: eng, Dialect: engine.SQLite, Access: engine.ReadWrite}}, nil)
	gw.UseAuditor(a, func(ctx context.Context) error { return a.Close(ctx) })
	defer gw.Close()

	if _, err := gw.ExecuteSQL(ctx, "t", "SELECT name FROM t", 0); err != nil {
		t.Fatalf("with a working audit trail: %v", err)
	}
	// The repository goes away under the appender.
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	out, err := gw.ExecuteSQL(ctx, "t", "SELECT name FROM t", 0)
	if !errors.Is(err, gateway.ErrAuditUnavailable) || out != nil {
		t.Fatalf("read without an audit trail: %v, %v; want ErrAuditUnavailable and no result", out, err)
	}
	if _, err := gw.ExecuteSQL(ctx, "t", "DELETE FROM t", 0); !errors.Is(err, gateway.ErrAuditUnavailable) {
		t.Fatalf("write without an audit trail: %v", err)
	}
	var n int
	if err := db.QueryRow("SELECT count(*) FROM t").Scan(&n); err != nil || n != 1 {
		t.Fatalf("the write reached the database: %d rows (%v)", n, err)
	}
	_ = db.Close()
}
