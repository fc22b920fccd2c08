package mysql

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	mysqldrv "github.com/go-sql-driver/mysql"

	"github.com/dap-platform/dap/internal/engine"
	"github.com/dap-platform/dap/internal/testdb"
)

const secretPassword = "s3cr3t-Pa55word"

func TestDownTargetAndBreaker(t *testing.T) {
	dsn := "dap:" + secretPassword + "@tcp(" + testdb.ClosedAddr(t) + ")/shop"
	e, err := Open(context.Background(), engine.Options{Name: "down", DSN: dsn})
	if err != nil {
		t.Fatalf("Open must not fail for a down server: %v", err)
	}
	defer e.Close()
	calls := []func(ctx context.Context) error{
		func(ctx context.Context) error {
			_, err := e.Query(ctx, engine.Query{SQL: "SELECT 1", ReadOnly: true}, engine.Limits{})
			return err
		},
		e.Ping,
		func(ctx context.Context) error { _, err := e.Tables(ctx, ""); return err },
		func(ctx context.Context) error { _, err := e.ServerVersion(ctx); return err },
	}
	start := time.Now()
	err = calls[0](ctxT(t))
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("first call took %v, want under 2s", took)
	}
	if !errors.Is(err, engine.ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
	t.Logf("down target: %v", err)
	if strings.Contains(err.Error(), secretPassword) {
		t.Errorf("error shows the password: %v", err)
	}
	for i := 0; !strings.Contains(err.Error(), "circuit breaker open"); i++ {
		if i > 10 {
			t.Fatalf("breaker never opened; last error: %v", err)
		}
		err = calls[i%len(calls)](ctxT(t))
		if !errors.Is(err, engine.ErrUnavailable) || strings.Contains(err.Error(), secretPassword) {
			t.Fatalf("err = %v", err)
		}
	}
	for _, call := range calls {
		start = time.Now()
		err := call(ctxT(t))
		if took := time.Since(start); took > 50*time.Millisecond {
			t.Errorf("call with the breaker open took %v, want under 50ms", took)
		}
		if !errors.Is(err, engine.ErrUnavailable) {
			t.Errorf("err = %v, want ErrUnavailable", err)
		}
	}
}

func TestDSNErrorsHidePassword(t *testing.T) {
	tests := []struct {
		name string
		dsn  string
	}{
		{"missing slash", "dap:" + secretPassword + "@tcp(127.0.0.1:3306)"},
		{"unterminated address", "dap:" + secretPassword + "@tcp(127.0.0.1:3306/db"},
		{"bad bool param", "dap:" + secretPassword + "@tcp(127.0.0.1:3306)/db?parseTime=" + secretPassword},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Open(context.Background(), engine.Options{Name: "bad", DSN: tt.dsn})
			if !errors.Is(err, engine.ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
			t.Logf("%v", err)
			if strings.Contains(err.Error(), secretPassword) || strings.Contains(err.Error(), tt.dsn) {
				t.Errorf("error echoes the DSN or password: %v", err)
			}
		})
	}
}

func TestWrongPasswordHidden(t *testing.T) {
	f := env(t)
	cfg, err := mysqldrv.ParseDSN(f.dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.User, cfg.Passwd = "dap_no_such_user", secretPassword
	e, err := Open(ctxT(t), engine.Options{Name: "wrongpw", DSN: cfg.FormatDSN()})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	_, err = e.Query(ctxT(t), engine.Query{SQL: "SELECT 1", ReadOnly: true}, engine.Limits{})
	if !errors.Is(err, engine.ErrUnavailable) || !strings.Contains(err.Error(), "Access denied") {
		t.Fatalf("err = %v, want ErrUnavailable saying access was denied", err)
	}
	t.Logf("%v", err)
	if strings.Contains(err.Error(), secretPassword) {
		t.Errorf("error shows the password: %v", err)
	}
}

func TestParseConfigForcesSafeSettings(t *testing.T) {
	cfg, err := parseConfig("u:p@tcp(db:3306)/shop?multiStatements=true&interpolateParams=true&allowAllFiles=true&timeout=1m")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MultiStatements || cfg.InterpolateParams || cfg.AllowAllFiles || !cfg.ParseTime || cfg.Timeout != dialTimeout ||
		cfg.WriteTimeout == 0 || cfg.Params["time_zone"] != "'+00:00'" {
		t.Errorf("config not forced: %+v", cfg)
	}
}

func TestFlavour(t *testing.T) {
	tests := []struct {
		version, human, roSQL string
	}{
		{"10.11.19-MariaDB-0+deb12u1", "MariaDB 10.11.19", "SET SESSION max_statement_time=0.250000, SESSION tx_read_only=1"},
		{"11.4.2-MariaDB", "MariaDB 11.4.2", "SET SESSION max_statement_time=0.250000, SESSION transaction_read_only=1"},
		{"8.0.36", "MySQL 8.0.36", "SET SESSION max_execution_time=250, SESSION transaction_read_only=1"},
		{"5.7.12-log", "MySQL 5.7.12", "SET SESSION max_execution_time=250, SESSION tx_read_only=1"},
	}
	for _, tt := range tests {
		f := parseFlavour(tt.version)
		if f.String() != tt.human {
			t.Errorf("%s: human = %q, want %q", tt.version, f.String(), tt.human)
		}
		if got := f.sessionSQL(true, 250*time.Millisecond); got != tt.roSQL {
			t.Errorf("%s: session SQL = %q, want %q", tt.version, got, tt.roSQL)
		}
	}
}

func TestMayChangeSession(t *testing.T) {
	tests := []struct {
		sql  string
		want bool
	}{
		{"SELECT id FROM orders", false},
		{"SELECT offset, reset_at, settings FROM t", false},
		{"SELECT @x := 1", true},
		{"SELECT 1 INTO @v", true},
		{"SELECT @@sql_mode", true},
		{"SET sql_mode = ''", true},
		{"select GET_LOCK('a', 0)", true},
		{"USE other", true},
		{"SELECT * FROM t LOCK IN SHARE MODE", true},
	}
	for _, tt := range tests {
		if got := mayChangeSession(tt.sql); got != tt.want {
			t.Errorf("mayChangeSession(%q) = %v, want %v", tt.sql, got, tt.want)
		}
	}
}

func TestRedactArgs(t *testing.T) {
	tests := []struct {
		number uint16
		msg    string
		args   []any
		want   string
	}{
		{1062, "Duplicate entry 'ann@example.com-7' for key 'uq'", nil, "Duplicate entry '?' for key 'uq'"},
		{1366, "Incorrect integer value: 'abc' for column `x`", []any{"abc"}, "Incorrect integer value: '?' for column `x`"},
		{1406, "Data too long for column 'name' at row 1", []any{"Alexandra"}, "Data too long for column 'name' at row 1"},
		{1292, "Truncated incorrect DOUBLE value: 'secret-token'", []any{[]byte("secret-token")}, "Truncated incorrect DOUBLE value: '?'"},
	}
	for _, tt := range tests {
		if got := redactArgs(tt.number, tt.msg, tt.args); got != tt.want {
			t.Errorf("redactArgs(%q) = %q, want %q", tt.msg, got, tt.want)
		}
	}
}

func TestIsTransient(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{&mysqldrv.MySQLError{Number: 1040, Message: "Too many connections"}, true},
		{&mysqldrv.MySQLError{Number: 1045, Message: "Access denied"}, false},
		{&mysqldrv.MySQLError{Number: 1064, Message: "syntax"}, false},
		{&net.OpError{Op: "dial", Err: errors.New("connection refused")}, true},
		{mysqldrv.ErrInvalidConn, true},
		{context.Canceled, false},
		{nil, false},
	}
	for _, tt := range tests {
		if got := isTransient(tt.err); got != tt.want {
			t.Errorf("isTransient(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}
