package repo

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/dap-platform/dap/internal/testdb"
)

// backends opens one migrated-from-scratch repository per dialect.
func backends(t *testing.T) map[string]func(t *testing.T) *Repo {
	t.Helper()
	return map[string]func(t *testing.T) *Repo{
		DialectSQLite: func(t *testing.T) *Repo {
			r, err := Open(context.Background(), Options{DataDir: filepath.Join(t.TempDir(), "data")})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = r.Close() })
			return r
		},
		DialectPostgres: func(t *testing.T) *Repo {
			r, err := Open(context.Background(), Options{PostgresDSN: testdb.Postgres(t, "repo")})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = r.Close() })
			return r
		},
	}
}

func TestMigrate(t *testing.T) {
	ctx := context.Background()
	for name, open := range backends(t) {
		t.Run(name, func(t *testing.T) {
			r := open(t)
			if r.Dialect() != name {
				t.Fatalf("Dialect() = %q, want %q", r.Dialect(), name)
			}
			latest, err := r.LatestVersion()
			if err != nil || latest < 1 {
				t.Fatalf("LatestVersion() = %d, %v", latest, err)
			}
			if v, err := r.Version(ctx); err != nil || v != 0 {
				t.Fatalf("Version() before migrating = %d, %v; want 0", v, err)
			}
			for i := 0; i < 2; i++ { // the second run must be a no-op
				if err := r.Migrate(ctx); err != nil {
					t.Fatalf("Migrate #%d: %v", i+1, err)
				}
			}
			if v, err := r.Version(ctx); err != nil || v != latest {
				t.Fatalf("Version() after migrating = %d, %v; want %d", v, err, latest)
			}
			for _, table := range []string{"audit_events", "audit_checkpoints"} {
				var n int
				if err := r.DB().QueryRowContext(ctx, "SELECT count(*) FROM "+table).Scan(&n); err != nil {
					t.Errorf("table %s after migration: %v", table, err)
				}
			}
			// A repository from the future is refused with the documented message.
			future := latest + 2
			if _, err := r.DB().ExecContext(ctx, r.Rebind("INSERT INTO "+VersionTable+" (version_id, is_applied) VALUES (?, ?)"), future, true); err != nil {
				t.Fatal(err)
			}
			err = r.Migrate(ctx)
			want := "repository schema version " + itoa(future) + " is newer than this dap binary supports (" + itoa(latest) + "); upgrade dap"
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("Migrate on a newer repository: %v; want an error containing %q", err, want)
			}
		})
	}
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }

func TestOpenSQLitePragmas(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "nested", "repo.db")
	r, err := Open(ctx, Options{Path: path, DataDir: "/ignored-when-path-is-set"})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("SQLite file not created: %v", err)
	}
	tests := []struct {
		pragma string
		want   string
	}{
		{"journal_mode", "wal"},
		{"foreign_keys", "1"},
		{"synchronous", "1"}, // NORMAL
		{"busy_timeout", "10000"},
	}
	for _, tt := range tests {
		var got string
		if err := r.DB().QueryRowContext(ctx, "PRAGMA "+tt.pragma).Scan(&got); err != nil {
			t.Fatalf("PRAGMA %s: %v", tt.pragma, err)
		}
		if got != tt.want {
			t.Errorf("PRAGMA %s = %q, want %q", tt.pragma, got, tt.want)
		}
	}
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		opts    Options
		want    string
		secrets []string
	}{
		{"nothing configured", Options{}, "no repository configured", nil},
		{"unreachable postgres", Options{PostgresDSN: "postgres://dap:s3cr3tpw@127.0.0.1:1/dap?connect_timeout=2"}, "connect to PostgreSQL repository postgres://dap:xxxxx@127.0.0.1:1/dap", []string{"s3cr3tpw"}},
		{"malformed postgres", Options{PostgresDSN: "postgres://dap:s3cr3tpw@127.0.0.1:notaport/dap"}, "PostgreSQL repository DSN", []string{"s3cr3tpw"}},
		{"unwritable sqlite dir", Options{Path: "/proc/dap-cannot-create/dap.db"}, "create directory for SQLite repository /proc/dap-cannot-create/dap.db", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Open(ctx, tt.opts)
			if err == nil {
				_ = r.Close()
				t.Fatal("Open succeeded, want an error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
			for _, s := range tt.secrets {
				if strings.Contains(err.Error(), s) {
					t.Errorf("error %q leaks the password", err)
				}
			}
		})
	}
}

func TestRedactDSN(t *testing.T) {
	tests := []struct{ in, want string }{
		{"postgres://u:pw@h:5432/db?sslmode=disable", "postgres://u:xxxxx@h:5432/db?sslmode=disable"},
		{"postgres://u@h/db", "postgres://u@h/db"},
		{"postgres://u@h/db?password=pw", "postgres://u@h/db?password=xxxxx"},
		{"postgres://u:pw@h:notaport/db", "postgres://u:xxxxx@h:notaport/db"},
		{"host=h user=u password=pw dbname=d", "host=h user=u password=xxxxx dbname=d"},
	}
	for _, tt := range tests {
		if got := RedactDSN(tt.in); got != tt.want {
			t.Errorf("RedactDSN(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestRebind(t *testing.T) {
	tests := []struct{ in, want string }{
		{"SELECT 1", "SELECT 1"},
		{"SELECT * FROM t WHERE a = ? AND b = ?", "SELECT * FROM t WHERE a = $1 AND b = $2"},
		{"INSERT INTO t VALUES (?,?,?)", "INSERT INTO t VALUES ($1,$2,$3)"},
		{"SELECT '?' , ? FROM t", "SELECT '?' , $1 FROM t"},
		{"SELECT 'it''s ?', ?", "SELECT 'it''s ?', $1"},
		{`SELECT "odd?col", ? FROM t`, `SELECT "odd?col", $1 FROM t`},
		{"SELECT ? -- why?\n, ?", "SELECT $1 -- why?\n, $2"},
		{"SELECT /* a ? b */ ?", "SELECT /* a ? b */ $1"},
		{"SELECT 'unterminated ?", "SELECT 'unterminated ?"},
	}
	pg := &Repo{dialect: DialectPostgres}
	lite := &Repo{dialect: DialectSQLite}
	for _, tt := range tests {
		if got := pg.Rebind(tt.in); got != tt.want {
			t.Errorf("postgres Rebind(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if got := lite.Rebind(tt.in); got != tt.in {
			t.Errorf("sqlite Rebind(%q) = %q, want it unchanged", tt.in, got)
		}
	}
}
