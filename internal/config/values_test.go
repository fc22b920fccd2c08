package config

import (
	"testing"

	"github.com/dap-platform/dap/internal/engine"
)

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		err  bool
	}{
		{"4MiB", 4 << 20, false}, {"512KiB", 512 << 10, false}, {"1MB", 1_000_000, false}, {"1000000", 1_000_000, false},
		{"1GiB", 1 << 30, false}, {"1 GiB", 1 << 30, false}, {"2gb", 2_000_000_000, false}, {"10b", 10, false}, {"8kb", 8000, false},
		{"0", 0, false}, {"-1", 0, true}, {"1.5MiB", 0, true}, {"MiB", 0, true}, {"", 0, true}, {"4 apples", 0, true},
		{"99999999999999999999GiB", 0, true}, {"9999999999GiB", 0, true}, {"1TiB", 0, true},
	} {
		got, err := ParseSize(tc.in)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("ParseSize(%q) = %d, %v", tc.in, got, err)
		}
	}
}

// TestCheckDSNAcceptsEveryDocumentedForm guards against a sanity check
// that refuses a DSN the driver would take.
func TestCheckDSNAcceptsEveryDocumentedForm(t *testing.T) {
	for _, tc := range []struct {
		d   engine.Dialect
		dsn string
	}{
		{engine.Postgres, "postgres://u:p@h:5432/db?sslmode=verify-full"},
		{engine.Postgres, "postgresql://u@h1:5432,h2:5432/db"},
		{engine.Postgres, "host=db user=dap dbname=shop"},
		{engine.Postgres, "host=/var/run/postgresql dbname=shop"},
		{engine.MySQL, "u:p@tcp(h:3306)/db?tls=true"},
		{engine.MySQL, "u@unix(/run/mysqld/mysqld.sock)/db"},
		{engine.MySQL, "/db"},
		{engine.MySQL, "u:p@tcp(h:3306)/"},
		{engine.SQLite, "/var/lib/x.db"},
		{engine.SQLite, "./shop.db"},
		{engine.SQLite, "file:/var/lib/x.db?_pragma=busy_timeout(5000)"},
		{engine.SQLite, "file:///var/lib/x.db"},
		{engine.SQLServer, "sqlserver://u:p@h:1433?database=db"},
		{engine.SQLServer, "server=h;user id=u;password=p;database=db"},
		{engine.SQLServer, "odbc:server=h;user id=u;password={p;x};database=db"},
	} {
		if why := checkDSN(tc.d, tc.dsn); why != "" {
			t.Errorf("checkDSN(%s, %q) = %q, want accepted", tc.d, tc.dsn, why)
		}
	}
}

func TestSuggest(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"max_row", "max_rows"}, {"maxRows", "max_rows"}, {"max-rows", "max_rows"}, {"MAX_ROWS", "max_rows"},
		{"dsnfile", "dsn_file"}, {"engin", "engine"}, {"acess", "access"}, {"statement_timeout_ms", "statement_timeout"},
		{"descr", "description"}, {"colour", ""}, {"x", ""},
	} {
		if got := suggest(tc.in, targetKeys); got != tc.want {
			t.Errorf("suggest(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
