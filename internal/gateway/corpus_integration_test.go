package gateway_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dap-platform/dap/internal/engine"
	"github.com/dap-platform/dap/internal/engine/mysql"
	"github.com/dap-platform/dap/internal/engine/postgres"
	"github.com/dap-platform/dap/internal/engine/sqlite"
	"github.com/dap-platform/dap/internal/gateway"
	"github.com/dap-platform/dap/internal/guard"
	"github.com/dap-platform/dap/internal/testdb"
)

// snapshotter reads what must not change: every table's contents, the
// server's settings.
type snapshotter func(ctx context.Context) (map[string]string, error)

// TestCorpusAgainstRealServers sends the guard's whole public corpus
// through the gateway to a read-only target on each real server: reads must
// run, everything else must be refused before reaching the database; after
// the run every table, every server setting and the file system paths the
// attacks name are unchanged.
func TestCorpusAgainstRealServers(t *testing.T) {
	for _, d := range []engine.Dialect{engine.Postgres, engine.MySQL, engine.SQLite} {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			cases, err := guard.LoadCorpus(d)
			if err != nil {
				t.Fatal(err)
			}
			fixture, err := os.ReadFile(filepath.Join("..", "guard", "testdata", "corpus", "fixture_"+string(d)+".sql"))
			if err != nil {
				t.Fatal(err)
			}
			eng, snap := openWithFixture(t, d, string(fixture))
			gw := gateway.New([]*gateway.Target{{Name: "t", Engine: eng, Dialect: d, Access: engine.ReadOnly,
				Limits: engine.Limits{MaxRows: 50, Timeout: 2 * time.Second}}}, nil)
			defer gw.Close()

			paths := attackPaths(cases)
			existed := map[string]bool{}
			for _, p := range paths {
				if _, err := os.Stat(p); err == nil {
					existed[p] = true
				}
			}
			before, err := snap(ctx)
			if err != nil {
				t.Fatal(err)
			}
			ran, refused := 0, 0
			for _, c := range cases {
				_, err := gw.ExecuteSQL(ctx, "t", c.SQL, 0)
				switch {
				case c.Expect == "read":
					if err != nil {
						t.Errorf("line %d: read refused or failed: %v\n%s", c.Line, err, c.SQL)
					}
					ran++
				default:
					if !errors.Is(err, guard.ErrRefused) {
						t.Errorf("line %d: expected a refusal (%s), got %v\n%s", c.Line, c.Expect, err, c.SQL)
					}
					refused++
				}
			}
			after, err := snap(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range before {
				if after[k] != v {
					t.Errorf("%s changed during the corpus run: %q -> %q", k, v, after[k])
				}
			}
			for k := range after {
				if _, ok := before[k]; !ok {
					t.Errorf("%s appeared during the corpus run", k)
				}
			}
			for _, p := range paths {
				if _, err := os.Stat(p); err == nil && !existed[p] {
					t.Errorf("file %s was created by the corpus run", p)
				}
			}
			t.Logf("%s: %d statements, %d reads ran, %d refused, %d tables/settings unchanged, %d attack paths checked",
				d, len(cases), ran, refused, len(before), len(paths))
		})
	}
}

var pathRe = regexp.MustCompile(`'(/[A-Za-z0-9_./-]+)'`)

// attackPaths are the absolute file paths quoted in the corpus.
func attackPaths(cases []guard.CorpusCase) []string {
	seen := map[string]bool{}
	var out []string
	for _, c := range cases {
		for _, m := range pathRe.FindAllStringSubmatch(c.SQL, -1) {
			if !seen[m[1]] {
				seen[m[1]] = true
				out = append(out, m[1])
			}
		}
	}
	sort.Strings(out)
	return out
}

func openWithFixture(t *testing.T, d engine.Dialect, fixture string) (engine.Engine, snapshotter) {
	t.Helper()
	ctx := context.Background()
	switch d {
	case engine.Postgres:
		dsn := testdb.Postgres(t, "corpus")
		c, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Exec(ctx, fixture); err != nil {
			t.Fatalf("fixture: %v", err)
		}
		_ = c.Close(ctx)
		e, err := postgres.Open(ctx, engine.Options{Name: "t", DSN: dsn, Access: engine.ReadOnly})
		if err != nil {
			t.Fatal(err)
		}
		return e, func(ctx context.Context) (map[string]string, error) {
			c, err := pgx.Connect(ctx, dsn)
			if err != nil {
				return nil, err
			}
			defer c.Close(ctx)
			out := map[string]string{}
			rows, err := c.Query(ctx, `SELECT c.relkind::text || ' ' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
				WHERE n.nspname = 'public' AND c.relkind IN ('r','v','m','S') ORDER BY 1`)
			if err != nil {
				return nil, err
			}
			names, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				return nil, err
			}
			for _, n := range names {
				kind, tbl, _ := strings.Cut(n, " ")
				var sum string
				q := fmt.Sprintf(`SELECT coalesce(md5(string_agg(x::text, ',' ORDER BY x::text)), 'empty') FROM %s x`, pgx.Identifier{tbl}.Sanitize())
				if kind == "S" {
					q = fmt.Sprintf(`SELECT last_value::text || ':' || is_called::text FROM %s`, pgx.Identifier{tbl}.Sanitize())
				}
				if err := c.QueryRow(ctx, q).Scan(&sum); err != nil {
					return nil, fmt.Errorf("checksum %s: %w", tbl, err)
				}
				out[n] = sum
			}
			// Server-wide settings (a fresh session sees only persistent changes).
			rows, err = c.Query(ctx, `SELECT name, coalesce(setting, '') FROM pg_settings WHERE context NOT IN ('user', 'superuser') OR source NOT IN ('session', 'client')`)
			if err != nil {
				return nil, err
			}
			for rows.Next() {
				var k, v string
				if err := rows.Scan(&k, &v); err != nil {
					return nil, err
				}
				out["setting "+k] = v
			}
			rows.Close()
			var roles, dbs string
			if err := c.QueryRow(ctx, `SELECT string_agg(rolname, ',' ORDER BY rolname) FROM pg_roles`).Scan(&roles); err != nil {
				return nil, err
			}
			if err := c.QueryRow(ctx, `SELECT string_agg(datname, ',' ORDER BY datname) FROM pg_database WHERE datname NOT LIKE 'dap\_t\_%'`).Scan(&dbs); err != nil {
				return nil, err
			}
			out["roles"], out["databases"] = roles, dbs
			return out, rows.Err()
		}
	case engine.MySQL:
		dsn := testdb.MySQL(t, "corpus")
		db, err := sql.Open("mysql", dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		for _, stmt := range splitFixture(fixture) {
			if _, err := db.ExecContext(ctx, stmt); err != nil {
				t.Fatalf("fixture %q: %v", stmt, err)
			}
		}
		e, err := mysql.Open(ctx, engine.Options{Name: "t", DSN: dsn, Access: engine.ReadOnly})
		if err != nil {
			t.Fatal(err)
		}
		return e, func(ctx context.Context) (map[string]string, error) {
			out := map[string]string{}
			rows, err := db.QueryContext(ctx, `SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() ORDER BY 1`)
			if err != nil {
				return nil, err
			}
			var names []string
			for rows.Next() {
				var n string
				if err := rows.Scan(&n); err != nil {
					return nil, err
				}
				names = append(names, n)
			}
			rows.Close()
			for _, n := range names {
				var tbl, sum sql.NullString
				if err := db.QueryRowContext(ctx, "CHECKSUM TABLE `"+n+"` EXTENDED").Scan(&tbl, &sum); err != nil {
					return nil, fmt.Errorf("checksum %s: %w", n, err)
				}
				out["table "+n] = sum.String
			}
			rows, err = db.QueryContext(ctx, `SHOW GLOBAL VARIABLES`)
			if err != nil {
				return nil, err
			}
			for rows.Next() {
				var k, v string
				if err := rows.Scan(&k, &v); err != nil {
					return nil, err
				}
				switch k { // counters and clocks that move by themselves
				case "timestamp", "gtid_binlog_pos", "gtid_current_pos", "gtid_binlog_state", "pseudo_thread_id", "rand_seed1", "rand_seed2", "last_insert_id", "insert_id", "identity", "warning_count", "error_count", "in_transaction", "thread_pool_idle_timeout":
					continue
				}
				out["global "+k] = v
			}
			rows.Close()
			var users, dbs string
			if err := db.QueryRowContext(ctx, `SELECT GROUP_CONCAT(CONCAT(user,'@',host) ORDER BY user, host) FROM mysql.user`).Scan(&users); err != nil {
				return nil, err
			}
			if err := db.QueryRowContext(ctx, `SELECT GROUP_CONCAT(schema_name ORDER BY schema_name) FROM information_schema.schemata WHERE schema_name NOT LIKE 'dap\_t\_%'`).Scan(&dbs); err != nil {
				return nil, err
			}
			out["users"], out["databases"] = users, dbs
			return out, nil
		}
	case engine.SQLite:
		dir := t.TempDir()
		path := filepath.Join(dir, "corpus.db")
		db, err := sql.Open("sqlite", path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, fixture); err != nil {
			t.Fatalf("fixture: %v", err)
		}
		_ = db.Close()
		e, err := sqlite.Open(ctx, engine.Options{Name: "t", DSN: path, Access: engine.ReadOnly})
		if err != nil {
			t.Fatal(err)
		}
		return e, func(ctx context.Context) (map[string]string, error) {
			out := map[string]string{}
			entries, err := os.ReadDir(dir)
			if err != nil {
				return nil, err
			}
			for _, en := range entries {
				b, err := os.ReadFile(filepath.Join(dir, en.Name()))
				if err != nil {
					return nil, err
				}
				if strings.HasSuffix(en.Name(), "-shm") || strings.HasSuffix(en.Name(), "-wal") {
					// Shared-memory and WAL files change with readers; the
					// database's contents are checked through the main file.
					out["file "+en.Name()] = "present"
					continue
				}
				out["file "+en.Name()] = fmt.Sprintf("%x", len(b)) + ":" + checksum(b)
			}
			return out, nil
		}
	}
	t.Fatalf("no fixture for %s", d)
	return nil, nil
}

func checksum(b []byte) string {
	var h uint64 = 14695981039346656037
	for _, c := range b {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return fmt.Sprintf("%016x", h)
}

// splitFixture splits a MySQL fixture on statement-ending semicolons at
// line ends (the fixture holds no procedures with bodies).
func splitFixture(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ";\n") {
		var keep []string
		for _, line := range strings.Split(part, "\n") {
			if !strings.HasPrefix(strings.TrimSpace(line), "--") {
				keep = append(keep, line)
			}
		}
		if p := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(strings.Join(keep, "\n")), ";")); p != "" {
			out = append(out, p)
		}
	}
	return out
}
