// Package testdb gives tests real database servers: the DSNs of the local
// PostgreSQL and MariaDB (from DAP_TEST_POSTGRES_DSN / DAP_TEST_MYSQL_DSN,
// with local defaults) and throwaway databases on them. Under CI=true a
// server that cannot be reached fails the test; elsewhere it is skipped
// with the reason.
package testdb

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	mysqldrv "github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
)

// Local defaults, matching the servers started by .ci/run.
const (
	DefaultPostgresDSN = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	DefaultMySQLDSN    = "root@tcp(127.0.0.1:3306)/test"
)

// PostgresDSN returns the base PostgreSQL DSN after checking the server answers.
func PostgresDSN(tb testing.TB) string {
	tb.Helper()
	dsn := envOr("DAP_TEST_POSTGRES_DSN", DefaultPostgresDSN)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		unavailable(tb, "PostgreSQL", err)
		return ""
	}
	_ = conn.Close(ctx)
	return dsn
}

// MySQLDSN returns the base MySQL/MariaDB DSN after checking the server answers.
func MySQLDSN(tb testing.TB) string {
	tb.Helper()
	dsn := envOr("DAP_TEST_MYSQL_DSN", DefaultMySQLDSN)
	db, err := sql.Open("mysql", dsn)
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err = db.PingContext(ctx)
		cancel()
		_ = db.Close()
	}
	if err != nil {
		unavailable(tb, "MariaDB/MySQL", err)
		return ""
	}
	return dsn
}

// Postgres creates a throwaway database named after prefix and returns a
// DSN for it; the database is dropped when the test ends.
func Postgres(tb testing.TB, prefix string) string {
	tb.Helper()
	base := PostgresDSN(tb)
	name := uniqueName(prefix)
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		tb.Fatalf("testdb: connect: %v", err)
	}
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		_ = admin.Close(ctx)
		tb.Fatalf("testdb: create database %s: %v", name, err)
	}
	_ = admin.Close(ctx)
	tb.Cleanup(func() {
		c, err := pgx.Connect(ctx, base)
		if err != nil {
			return
		}
		defer c.Close(ctx)
		_, _ = c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatalf("testdb: DAP_TEST_POSTGRES_DSN must be a URL: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}

// MySQL creates a throwaway database named after prefix and returns a DSN
// for it; the database is dropped when the test ends.
func MySQL(tb testing.TB, prefix string) string {
	tb.Helper()
	base := MySQLDSN(tb)
	name := uniqueName(prefix)
	db, err := sql.Open("mysql", base)
	if err != nil {
		tb.Fatalf("testdb: open: %v", err)
	}
	defer db.Close()
	if _, err := db.Exec("CREATE DATABASE " + name); err != nil {
		tb.Fatalf("testdb: create database %s: %v", name, err)
	}
	tb.Cleanup(func() {
		d, err := sql.Open("mysql", base)
		if err != nil {
			return
		}
		defer d.Close()
		_, _ = d.Exec("DROP DATABASE IF EXISTS " + name)
	})
	cfg, err := mysqldrv.ParseDSN(base)
	if err != nil {
		tb.Fatalf("testdb: DAP_TEST_MYSQL_DSN: %v", err)
	}
	cfg.DBName = name
	return cfg.FormatDSN()
}

func uniqueName(prefix string) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	p := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' {
			return r
		}
		return '_'
	}, strings.ToLower(prefix))
	return fmt.Sprintf("dap_t_%s_%s", p, hex.EncodeToString(b[:]))
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func unavailable(tb testing.TB, what string, err error) {
	tb.Helper()
	if os.Getenv("CI") == "true" {
		tb.Fatalf("%s test server unreachable under CI=true (start it; see .ci/run): %v", what, err)
	}
	tb.Skipf("%s test server unreachable, skipping (set CI=true to make this fatal): %v", what, err)
}
