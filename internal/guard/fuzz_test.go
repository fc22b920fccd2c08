package guard

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	_ "modernc.org/sqlite"

	"github.com/dap-platform/dap/internal/engine"
	"github.com/dap-platform/dap/internal/testdb"
)

// seedCorpus adds every corpus statement of d as a fuzz seed.
func seedCorpus(f *testing.F, d engine.Dialect) []CorpusCase {
	f.Helper()
	cases, err := LoadCorpus(d)
	if err != nil {
		f.Fatal(err)
	}
	for _, c := range cases {
		f.Add(c.SQL)
	}
	return cases
}

// fuzzCheck asserts Check never panics, is deterministic, agrees with a
// Checker (hit and miss) and only returns well-formed outcomes.
func fuzzCheck(f *testing.F, d engine.Dialect) {
	seedCorpus(f, d)
	c := NewChecker(256)
	f.Fuzz(func(t *testing.T, sql string) {
		v1, e1 := Check(d, sql)
		v2, e2 := Check(d, sql)
		if v1 != v2 || fmt.Sprint(e1) != fmt.Sprint(e2) {
			t.Fatalf("Check is not deterministic for %q: %+v %v, then %+v %v", sql, v1, e1, v2, e2)
		}
		for range 2 {
			v3, e3 := c.Check(d, sql)
			if v1 != v3 || fmt.Sprint(e1) != fmt.Sprint(e3) {
				t.Fatalf("Checker differs from Check for %q: %+v %v, Check %+v %v", sql, v3, e3, v1, e1)
			}
		}
		if e1 != nil {
			var r *Refusal
			if !errors.As(e1, &r) || !errors.Is(e1, ErrRefused) || !strings.HasPrefix(e1.Error(), "refused: ") {
				t.Fatalf("error for %q is not a proper refusal: %v", sql, e1)
			}
			return
		}
		switch v1.Kind {
		case Read, Write, DDL, Admin:
		default:
			t.Fatalf("Check accepted %q with kind %q", sql, v1.Kind)
		}
		if v1.Statement == "" {
			t.Fatalf("verdict for %q names no statement: %+v", sql, v1)
		}
	})
}

func FuzzCheckPostgres(f *testing.F)  { fuzzCheck(f, engine.Postgres) }
func FuzzCheckMySQL(f *testing.F)     { fuzzCheck(f, engine.MySQL) }
func FuzzCheckSQLite(f *testing.F)    { fuzzCheck(f, engine.SQLite) }
func FuzzCheckSQLServer(f *testing.F) { fuzzCheck(f, engine.SQLServer) }

// splitFixture splits a fixture file into its statements (one a line).
func splitFixture(tb testing.TB, d engine.Dialect) []string {
	tb.Helper()
	fx, err := Fixture(d)
	if err != nil {
		tb.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(fx, "\n") {
		if l = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(l), ";")); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// pgReadOnly runs sql in BEGIN READ ONLY with a 200 ms statement
// timeout, reading every row, and rolls back.
func pgReadOnly(ctx context.Context, conn *pgx.Conn, sql string) error {
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly})
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // the rollback is the point
	if _, err := tx.Exec(ctx, "SET LOCAL statement_timeout = '200ms'"); err != nil {
		return fmt.Errorf("set timeout: %w", err)
	}
	rows, err := tx.Query(ctx, sql)
	if err != nil {
		return err
	}
	for rows.Next() {
	}
	rows.Close()
	return rows.Err()
}

// FuzzPostgresReadIsReadOnly runs whatever Check calls read inside a
// read-only transaction: if PostgreSQL refuses it as a write (SQLSTATE
// 25006), the guard called a write "read". Seeds (the corpus's reads)
// must also run without any error.
func FuzzPostgresReadIsReadOnly(f *testing.F) {
	cases := seedCorpus(f, engine.Postgres)
	dsn := testdb.Postgres(f, "guard_fuzz")
	ctx := context.Background()
	connect := func() *pgx.Conn {
		c, err := pgx.Connect(ctx, dsn)
		if err != nil {
			f.Fatalf("connect: %v", err)
		}
		return c
	}
	conn := connect()
	f.Cleanup(func() { conn.Close(ctx) })
	for _, s := range splitFixture(f, engine.Postgres) {
		if _, err := conn.Exec(ctx, s); err != nil {
			f.Fatalf("fixture %q: %v", s, err)
		}
	}
	for _, c := range cases {
		if c.Expect != "read" {
			continue
		}
		if err := pgReadOnly(ctx, conn, c.SQL); err != nil {
			f.Errorf("postgres.txt:%d: corpus read %q fails in a read-only transaction: %v", c.Line, c.SQL, err)
		}
	}
	f.Fuzz(func(t *testing.T, sql string) {
		v, err := Check(engine.Postgres, sql)
		if err != nil || v.Kind != Read {
			return
		}
		if conn.IsClosed() {
			conn = connect()
		}
		err = pgReadOnly(ctx, conn, sql)
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "25006" {
			t.Fatalf("guard called %q read (%+v) but PostgreSQL refused it as a write: %v", sql, v, err)
		}
	})
}

// FuzzSQLiteReadIsReadOnly runs whatever Check calls read on a mode=ro,
// query_only copy of the fixture: a "read" SQLite refuses as a write
// means the guard is wrong. Seeds (the corpus's reads) must run cleanly.
func FuzzSQLiteReadIsReadOnly(f *testing.F) {
	cases := seedCorpus(f, engine.SQLite)
	path := filepath.Join(f.TempDir(), "fixture.db")
	rw, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range splitFixture(f, engine.SQLite) {
		if _, err := rw.Exec(s); err != nil {
			f.Fatalf("fixture %q: %v", s, err)
		}
	}
	rw.Close()
	ro, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=query_only(1)")
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { ro.Close() })
	run := func(q string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		rows, err := ro.QueryContext(ctx, q)
		if err != nil {
			return err
		}
		for rows.Next() {
		}
		rows.Close()
		return rows.Err()
	}
	for _, c := range cases {
		if c.Expect != "read" {
			continue
		}
		if err := run(c.SQL); err != nil {
			f.Errorf("sqlite.txt:%d: corpus read %q fails on a read-only connection: %v", c.Line, c.SQL, err)
		}
	}
	f.Fuzz(func(t *testing.T, q string) {
		v, err := Check(engine.SQLite, q)
		if err != nil || v.Kind != Read {
			return
		}
		if err := run(q); err != nil && strings.Contains(err.Error(), "readonly database") {
			t.Fatalf("guard called %q read (%+v) but SQLite refused it as a write: %v", q, v, err)
		}
	})
}

// TestMySQLCorpusReadsRun runs the corpus's reads on MariaDB inside
// START TRANSACTION READ ONLY: each must succeed.
func TestMySQLCorpusReadsRun(t *testing.T) {
	dsn := testdb.MySQL(t, "guard")
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, s := range splitFixture(t, engine.MySQL) {
		if _, err := conn.ExecContext(ctx, s); err != nil {
			t.Fatalf("fixture %q: %v", s, err)
		}
	}
	cases, err := LoadCorpus(engine.MySQL)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		if c.Expect != "read" {
			continue
		}
		if _, err := conn.ExecContext(ctx, "START TRANSACTION READ ONLY"); err != nil {
			t.Fatal(err)
		}
		rows, err := conn.QueryContext(ctx, c.SQL)
		if err == nil {
			for rows.Next() {
			}
			rows.Close()
			err = rows.Err()
		}
		if err != nil {
			t.Errorf("mysql.txt:%d: corpus read %q fails in a read-only transaction: %v", c.Line, c.SQL, err)
		}
		if _, err := conn.ExecContext(ctx, "ROLLBACK"); err != nil {
			t.Fatal(err)
		}
	}
}
