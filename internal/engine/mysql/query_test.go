package mysql

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/dap-platform/dap/internal/engine"
)

func TestValues(t *testing.T) {
	f := env(t)
	jsonWant := any(`{"a": [1, 2]}`) // MariaDB: JSON is LONGTEXT on the wire
	jsonType := "text"
	sc, tc, err := f.eng.acquire(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	release(sc, false)
	if !tc.flavour.mariaDB {
		jsonWant, jsonType = map[string]any{"a": []any{1.0, 2.0}}, "json"
	}
	tests := []struct {
		expr, typ string
		want      any
	}{
		{"dec_v", "decimal", "12345678901234.123456"},
		{"big_v", "bigint", "9007199254740993"},
		{"ubig_v", "unsigned bigint", "18446744073709551615"},
		{"int_v", "int", int64(-42)},
		{"bool_v", "tinyint", int64(1)},
		{"float_v", "float", 1.1},
		{"double_v", "double", 2.5},
		{"blob_v", "blob", "AP8Q"},
		{"varbin_v", "varbinary", "YWI="},
		{"bit_v", "bit", "BQ=="},
		{"text_v", "text", "héllo"},
		{"varchar_v", "varchar", "plain"},
		{"enum_v", "enum", "b"},
		{"set_v", "set", "x,y"},
		{"date_v", "date", "2024-01-31"},
		{"datetime_v", "datetime", "2024-01-31T10:20:30.123Z"},
		{"ts_v", "timestamp", "2024-01-31T10:20:30Z"},
		{"time_v", "time", "12:34:56"},
		{"year_v", "year", int64(2024)},
		{"json_v", jsonType, jsonWant},
		{"CAST(9007199254740993 AS UNSIGNED)", "unsigned bigint", "9007199254740993"},
		{"CAST(1.5 AS DECIMAL(4,2))", "decimal", "1.50"},
		{"CHAR_LENGTH(UUID())", "bigint", int64(36)},
		{"NULL", "null", nil},
	}
	// Without arguments the driver uses the text protocol, with them the
	// binary (prepared statement) protocol; both must convert the same.
	for _, proto := range []struct {
		name string
		sql  string
		args []any
	}{
		{"text", " FROM typed WHERE id = 1", nil},
		{"binary", " FROM typed WHERE id = ?", []any{1}},
	} {
		for _, tt := range tests {
			t.Run(proto.name+"/"+tt.expr, func(t *testing.T) {
				res, err := f.eng.Query(ctxT(t), engine.Query{SQL: "SELECT " + tt.expr + " AS v" + proto.sql, Args: proto.args, ReadOnly: true}, engine.Limits{})
				if err != nil {
					t.Fatal(err)
				}
				if len(res.Rows) != 1 {
					t.Fatalf("rows = %v", res.Rows)
				}
				if got := res.Rows[0][0]; !reflect.DeepEqual(got, tt.want) {
					t.Errorf("value = %#v, want %#v", got, tt.want)
				}
				if tt.typ != "null" && res.Columns[0].Type != tt.typ && !(tt.expr == "CHAR_LENGTH(UUID())" && res.Columns[0].Type == "int") {
					t.Errorf("type = %q, want %q", res.Columns[0].Type, tt.typ)
				}
			})
		}
	}
	// Every typed column is NULL in row 2.
	res, err := f.eng.Query(ctxT(t), engine.Query{SQL: "SELECT * FROM typed WHERE id = 2", ReadOnly: true}, engine.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range res.Rows[0][1:] {
		if v != nil {
			t.Errorf("column %s = %#v, want nil", res.Columns[i+1].Name, v)
		}
	}
}

func TestUUIDType(t *testing.T) {
	f := env(t)
	_, tc, err := f.eng.acquire(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	if !tc.flavour.mariaDB || !tc.flavour.atLeast(10, 7, 0) {
		t.Skipf("%s has no UUID column type", tc.flavour)
	}
	const u = "123e4567-e89b-12d3-a456-426614174000"
	res, err := f.eng.Query(ctxT(t), engine.Query{SQL: "SELECT CAST(? AS UUID) AS u", Args: []any{u}, ReadOnly: true}, engine.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows[0][0] != u {
		t.Errorf("uuid = %#v", res.Rows[0][0])
	}
}

func TestCaps(t *testing.T) {
	f := env(t)
	tests := []struct {
		name     string
		sql      string
		lim      engine.Limits
		rows     int
		by       string
		maxTime  time.Duration
		notAfter bool // the statement must not be running any more
	}{
		{"row cap", "SELECT id FROM big ORDER BY id", engine.Limits{MaxRows: 10}, 10, "max_rows", 2 * time.Second, true},
		{"just over the cap", "SELECT id FROM orders", engine.Limits{MaxRows: 3}, 3, "max_rows", time.Second, false},
		{"byte cap", "SELECT id, pad FROM big ORDER BY id", engine.Limits{MaxBytes: 1000}, 100, "max_result_bytes", 2 * time.Second, true},
		{"no cap", "SELECT id FROM orders", engine.Limits{MaxRows: 10}, 4, "", time.Second, false},
		// Each row takes 2 ms on the server: reading all 100k would take
		// minutes, so returning fast proves the rest was not read.
		{"slow rows", "SELECT id, SLEEP(0.002) AS s, REPEAT('x', 2000) AS pad FROM big", engine.Limits{MaxRows: 10}, 10, "max_rows", 3 * time.Second, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			res, err := f.eng.Query(ctxT(t), engine.Query{SQL: tt.sql, ReadOnly: true}, tt.lim)
			if err != nil {
				t.Fatal(err)
			}
			if took := time.Since(start); took > tt.maxTime {
				t.Errorf("took %v, want under %v", took, tt.maxTime)
			}
			if tt.by == "" && res.Truncated || tt.by != "" && (!res.Truncated || res.TruncatedBy != tt.by) {
				t.Errorf("truncated=%v by %q, want %q", res.Truncated, res.TruncatedBy, tt.by)
			}
			if tt.by == "max_result_bytes" {
				if len(res.Rows) == 0 || len(res.Rows) > tt.rows {
					t.Errorf("rows = %d, want 1..%d", len(res.Rows), tt.rows)
				}
			} else if len(res.Rows) != tt.rows {
				t.Errorf("rows = %d, want %d", len(res.Rows), tt.rows)
			}
			if res.Elapsed <= 0 {
				t.Error("Elapsed not set")
			}
			if tt.notAfter {
				waitGone(t, f, tt.sql)
			}
		})
	}
	// The pool still works after the kills.
	if _, err := f.eng.Query(ctxT(t), engine.Query{SQL: "SELECT 1", ReadOnly: true}, engine.Limits{}); err != nil {
		t.Fatal(err)
	}
}

// waitGone fails unless no server thread runs a statement containing text
// within a second (a kill takes effect at the server's next check).
func waitGone(t *testing.T, f *fixture, text string) {
	t.Helper()
	deadline := time.Now().Add(time.Second)
	for {
		var n int
		err := f.admin.QueryRowContext(ctxT(t),
			"SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO = ? AND COMMAND <> 'Sleep'", text).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("statement still running on the server: %s", text)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestTimeout(t *testing.T) {
	f := env(t)
	for _, readOnly := range []bool{true, false} {
		start := time.Now()
		_, err := f.eng.Query(ctxT(t), engine.Query{SQL: "SELECT SLEEP(5)", ReadOnly: readOnly}, engine.Limits{Timeout: 200 * time.Millisecond})
		took := time.Since(start)
		if !errors.Is(err, engine.ErrTimeout) || !strings.Contains(err.Error(), "200ms timeout") {
			t.Errorf("readOnly=%v: err = %v, want ErrTimeout naming the limit", readOnly, err)
		}
		if took > 2*time.Second {
			t.Errorf("readOnly=%v: took %v", readOnly, took)
		}
		waitGone(t, f, "SELECT SLEEP(5)")
	}
}

func TestCancelKillsOnServer(t *testing.T) {
	f := env(t)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	const q = "SELECT SLEEP(6)"
	start := time.Now()
	_, err := f.eng.Query(ctx, engine.Query{SQL: q, ReadOnly: true}, engine.Limits{Timeout: 30 * time.Second})
	if !errors.Is(err, engine.ErrCanceled) {
		t.Errorf("err = %v, want ErrCanceled", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("took %v", took)
	}
	waitGone(t, f, q)
}

func TestReadOnlyEnforcedByDatabase(t *testing.T) {
	f := env(t)
	tests := []string{
		"INSERT INTO customers (email) VALUES ('ro@example.com')",
		"UPDATE customers SET name = 'x'",
		"DELETE FROM orders",
		// DDL commits implicitly; the read-only session flag must still refuse it.
		"CREATE TABLE ro_escape (i INT)",
		"DROP VIEW big_orders",
		"CREATE DATABASE dap_ro_escape",
		"CREATE TEMPORARY TABLE ro_tmp (i INT)",
		"TRUNCATE TABLE orders",
	}
	for _, q := range tests {
		t.Run(q, func(t *testing.T) {
			_, err := f.eng.Query(ctxT(t), engine.Query{SQL: q, ReadOnly: true}, engine.Limits{})
			if !errors.Is(err, engine.ErrReadOnly) {
				t.Fatalf("err = %v, want ErrReadOnly", err)
			}
		})
	}
	var n int
	if err := f.admin.QueryRow(`SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()
AND TABLE_NAME IN ('ro_escape', 'big_orders')`).Scan(&n); err != nil || n != 1 {
		t.Errorf("tables after refused DDL: %d (%v), want only big_orders", n, err)
	}
	if err := f.admin.QueryRow("SELECT COUNT(*) FROM orders").Scan(&n); err != nil || n != 4 {
		t.Errorf("orders rows = %d (%v), want 4", n, err)
	}
	if err := f.admin.QueryRow("SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = 'dap_ro_escape'").Scan(&n); err != nil || n != 0 {
		t.Errorf("database created through a read-only call")
	}
}

func TestReadOnlyTarget(t *testing.T) {
	f := env(t)
	ro, err := Open(ctxT(t), engine.Options{Name: "ro", DSN: f.dsn, Access: engine.ReadOnly})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	// A read-only target runs even a write-mode request read-only.
	_, err = ro.Query(ctxT(t), engine.Query{SQL: "DELETE FROM orders"}, engine.Limits{})
	if !errors.Is(err, engine.ErrReadOnly) {
		t.Fatalf("err = %v, want ErrReadOnly", err)
	}
	if err := ro.SelfTestReadOnly(ctxT(t)); err != nil {
		t.Fatalf("self-test: %v", err)
	}
}

func TestSelfTestReadOnly(t *testing.T) {
	f := env(t)
	if err := f.eng.SelfTestReadOnly(ctxT(t)); err != nil {
		t.Fatal(err)
	}
}

func TestWriteAndSessionHygiene(t *testing.T) {
	f := env(t)
	// One connection, so a leak would be seen by the next call.
	e, err := Open(ctxT(t), engine.Options{Name: "hyg", DSN: f.dsn, Access: engine.Admin, MaxConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ctx := ctxT(t)
	res, err := e.Query(ctx, engine.Query{SQL: "UPDATE customers SET name = ? WHERE id IN (?, ?)", Args: []any{"Zed", 1, 2}}, engine.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if res.RowsAffected != 2 {
		t.Errorf("rows affected = %d, want 2", res.RowsAffected)
	}
	if _, err := e.Query(ctx, engine.Query{SQL: "UPDATE customers SET name = CASE id WHEN 1 THEN 'Ann' ELSE 'Bob' END WHERE id IN (1, 2)"}, engine.Limits{}); err != nil {
		t.Fatal(err)
	}
	// Write-mode statements that change the session.
	for _, q := range []string{"SET SESSION sql_mode = 'ANSI_QUOTES'", "SET @dap_leak = 42", "SET SESSION TRANSACTION READ ONLY"} {
		if _, err := e.Query(ctx, engine.Query{SQL: q}, engine.Limits{}); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	// A read-only statement that sets a user variable.
	if _, err := e.Query(ctx, engine.Query{SQL: "SELECT @dap_ro := 7", ReadOnly: true}, engine.Limits{}); err != nil {
		t.Fatal(err)
	}
	res, err = e.Query(ctx, engine.Query{SQL: "SELECT @dap_leak, @dap_ro, @@SESSION.sql_mode LIKE '%ANSI_QUOTES%', @@max_statement_time", ReadOnly: true},
		engine.Limits{Timeout: 1500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	row := res.Rows[0]
	if row[0] != nil || row[1] != nil || row[2] != int64(0) {
		t.Errorf("session state leaked into the pool: %v", row)
	}
	if s, ok := row[3].(string); ok && s != "1.500000" {
		t.Errorf("server-side timeout = %v, want 1.500000 s", row[3])
	}
	// After a write the pooled connection is read-only again for reads.
	if _, err := e.Query(ctx, engine.Query{SQL: "INSERT INTO customers (email) VALUES ('w@example.com')", ReadOnly: true}, engine.Limits{}); !errors.Is(err, engine.ErrReadOnly) {
		t.Errorf("err = %v, want ErrReadOnly", err)
	}
	// DDL in write mode works on a connection that was read-only before.
	if _, err := e.Query(ctx, engine.Query{SQL: "CREATE TABLE hyg_ddl (i INT)"}, engine.Limits{}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Query(ctx, engine.Query{SQL: "DROP TABLE hyg_ddl"}, engine.Limits{}); err != nil {
		t.Fatal(err)
	}
}

func TestDatabaseErrors(t *testing.T) {
	f := env(t)
	ctx := ctxT(t)
	_, err := f.eng.Query(ctx, engine.Query{SQL: "SELEC 1", ReadOnly: true}, engine.Limits{})
	var dbErr *engine.DBError
	if !errors.As(err, &dbErr) || dbErr.Code != "1064" {
		t.Errorf("syntax error = %v, want DBError 1064", err)
	}
	const secret = "ann@example.com"
	_, err = f.eng.Query(ctx, engine.Query{SQL: "INSERT INTO customers (email) VALUES (?)", Args: []any{secret}}, engine.Limits{})
	if !errors.As(err, &dbErr) || dbErr.Code != "1062" {
		t.Fatalf("duplicate = %v, want DBError 1062", err)
	}
	if strings.Contains(err.Error(), secret) {
		t.Errorf("error shows a bound value: %v", err)
	}
	_, err = f.eng.Query(ctx, engine.Query{SQL: "SELECT * FROM no_such_table", ReadOnly: true}, engine.Limits{})
	if !errors.As(err, &dbErr) || !strings.Contains(dbErr.Message, "no_such_table") {
		t.Errorf("missing table = %v", err)
	}
}

func TestServerVersionAndPing(t *testing.T) {
	f := env(t)
	v, err := f.eng.ServerVersion(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(v, "MariaDB ") && !strings.HasPrefix(v, "MySQL ") || strings.Count(v, ".") != 2 {
		t.Errorf("version = %q", v)
	}
	if err := f.eng.Ping(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if f.eng.Dialect() != engine.MySQL {
		t.Error("dialect")
	}
}
