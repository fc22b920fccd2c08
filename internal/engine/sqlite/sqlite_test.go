package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/dap-platform/dap/internal/engine"
)

// fixturePath is the package's shared database file, built once in TestMain.
var fixturePath string

const fixtureSQL = `
CREATE TABLE customers (
	id INTEGER PRIMARY KEY,
	name TEXT NOT NULL,
	email TEXT UNIQUE,
	created DATE DEFAULT (date('now'))
);
CREATE TABLE orders (
	id INTEGER PRIMARY KEY,
	customer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
	total NUMERIC,
	placed_at DATETIME
);
CREATE INDEX orders_customer_idx ON orders(customer_id);
CREATE VIEW customer_totals AS SELECT c.id, c.name, sum(o.total) AS total FROM customers c JOIN orders o ON o.customer_id = c.id GROUP BY c.id, c.name;
CREATE TABLE big (id INTEGER PRIMARY KEY, v TEXT);
WITH RECURSIVE s(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM s WHERE x < 100000)
INSERT INTO big (id, v) SELECT x, 'row-' || x FROM s;
INSERT INTO customers (id, name, email, created) VALUES (1, 'Ada', 'ada@example.com', '2024-01-31'), (2, 'Bob', 'bob@example.com', '2023-05-01');
INSERT INTO orders (id, customer_id, total, placed_at) VALUES (1, 1, 10.5, '2024-02-01 10:00:00'), (2, 1, 4, '2024-02-02 11:30:00'), (3, 2, 7.25, '2024-03-01 09:00:00');
CREATE TABLE types (
	id INTEGER PRIMARY KEY, n NUMERIC, d DECIMAL(10,2), big INTEGER, b BLOB, t TEXT, tb TEXT,
	dt DATE, ts DATETIME, tstz TIMESTAMP, u UUID, j JSON, flag BOOLEAN, f REAL, nul TEXT
);
INSERT INTO types VALUES (1, 12.5, 3, 9007199254740993, x'00ff10', 'héllo', CAST('as blob' AS BLOB),
	'2024-01-31', '2024-01-31 13:45:00', '2024-01-31T13:45:00+02:00', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
	'{"a":[1,2]}', 1, 1.25, NULL);
CREATE TABLE scratch (id INTEGER PRIMARY KEY, v TEXT);
ANALYZE customers; ANALYZE orders; ANALYZE big;
`

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "dap-sqlite-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fixturePath = filepath.Join(dir, "fixture.db")
	if err := buildFixture(fixturePath); err != nil {
		fmt.Fprintln(os.Stderr, "build fixture:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func buildFixture(path string) error {
	db, err := sql.Open("sqlite", path)
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.Exec(fixtureSQL)
	return err
}

func openEngine(t *testing.T, access engine.Access) *Engine {
	t.Helper()
	e, err := Open(context.Background(), engine.Options{Name: "fx", DSN: fixturePath, Access: access, MaxConns: 4})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func TestOpenRefusesBadDSNs(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope.db")
	cases := []struct {
		name, dsn string
		access    engine.Access
		want      error
		text      string
	}{
		{"empty", "", engine.ReadOnly, engine.ErrInvalid, "empty"},
		{"memory", ":memory:", engine.ReadWrite, engine.ErrInvalid, "in-memory"},
		{"memory uri", "file::memory:?cache=shared", engine.ReadWrite, engine.ErrInvalid, "in-memory"},
		{"mode memory", "file:x.db?mode=memory", engine.ReadWrite, engine.ErrInvalid, "mode=memory"},
		{"remote host", "file://db.example.com/x.db", engine.ReadOnly, engine.ErrInvalid, "remote host"},
		{"missing read-only", missing + "?_key=hunter2", engine.ReadOnly, engine.ErrNotFound, "does not exist"},
		{"bad query", fixturePath + "?_key=hunter2&x=%zz", engine.ReadOnly, engine.ErrInvalid, "malformed query"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e, err := Open(context.Background(), engine.Options{Name: "t", DSN: tc.dsn, Access: tc.access})
			if err == nil {
				e.Close()
				t.Fatalf("Open(%q) succeeded, want error", tc.dsn)
			}
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.text) {
				t.Fatalf("Open(%q) = %v, want %v containing %q", tc.dsn, err, tc.want, tc.text)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Fatalf("error leaks a DSN secret: %v", err)
			}
		})
	}
}

func TestParseDSN(t *testing.T) {
	cases := []struct {
		dsn, path, ro string
	}{
		{"./shop.db", "./shop.db", "file:./shop.db?_pragma=busy_timeout%285000%29&_pragma=query_only%281%29&mode=ro"},
		{"file:/data/x.db?cache=private&_pragma=journal_mode(WAL)", "/data/x.db", "file:/data/x.db?_pragma=busy_timeout%285000%29&_pragma=query_only%281%29&cache=private&mode=ro"},
		{"file:///data/a%20b.db?mode=rw", "/data/a b.db", "file:/data/a b.db?_pragma=busy_timeout%285000%29&_pragma=query_only%281%29&mode=ro"},
		{"/x/we?ird#.db", "/x/we", "file:/x/we?_pragma=busy_timeout%285000%29&_pragma=query_only%281%29&ird%23.db=&mode=ro"},
		{"file:/x/q%3fa.db?_pragma=busy_timeout(100)", "/x/q?a.db", "file:/x/q%3fa.db?_pragma=busy_timeout%28100%29&_pragma=query_only%281%29&mode=ro"},
	}
	for _, tc := range cases {
		d, err := parseDSN(tc.dsn)
		if err != nil {
			t.Fatalf("parseDSN(%q): %v", tc.dsn, err)
		}
		if d.path != tc.path {
			t.Errorf("parseDSN(%q).path = %q, want %q", tc.dsn, d.path, tc.path)
		}
		if got := d.readOnlyDSN(); got != tc.ro {
			t.Errorf("readOnlyDSN(%q) = %q, want %q", tc.dsn, got, tc.ro)
		}
		if rw := d.readWriteDSN(); strings.Contains(rw, "query_only") || strings.Contains(rw, "mode=ro") || !strings.Contains(rw, "_txlock=immediate") {
			t.Errorf("readWriteDSN(%q) = %q", tc.dsn, rw)
		}
	}
}

func TestServerVersionAndPing(t *testing.T) {
	e := openEngine(t, engine.ReadOnly)
	ctx := context.Background()
	if err := e.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	v, err := e.ServerVersion(ctx)
	if err != nil || !strings.HasPrefix(v, "SQLite 3.") {
		t.Fatalf("ServerVersion = %q, %v", v, err)
	}
	if e.Dialect() != engine.SQLite {
		t.Fatalf("Dialect = %v", e.Dialect())
	}
}

func TestCatalog(t *testing.T) {
	e := openEngine(t, engine.ReadOnly)
	ctx := context.Background()

	schemas, err := e.Schemas(ctx)
	if err != nil || len(schemas) != 1 || schemas[0].Name != "main" {
		t.Fatalf("Schemas = %v, %v", schemas, err)
	}

	tables, err := e.Tables(ctx, "")
	if err != nil {
		t.Fatalf("Tables: %v", err)
	}
	got := map[string]engine.Table{}
	for _, tb := range tables {
		if strings.HasPrefix(tb.Name, "sqlite_") {
			t.Errorf("internal table listed: %s", tb.Name)
		}
		got[tb.Name] = tb
	}
	wantTables := []struct {
		name, kind string
		est        int64
	}{
		{"customers", "table", 2}, // sqlite_stat1
		{"big", "table", 100000},  // sqlite_stat1
		{"types", "table", 1},     // no statistics: max(rowid)
		{"scratch", "table", 0},   // empty, no statistics
		{"customer_totals", "view", -1},
	}
	for _, w := range wantTables {
		tb, ok := got[w.name]
		if !ok || tb.Kind != w.kind || tb.RowEstimate != w.est || tb.Schema != "main" {
			t.Errorf("table %s = %+v (present %v), want kind %s estimate %d", w.name, tb, ok, w.kind, w.est)
		}
	}
	if _, err := e.Tables(ctx, "nosuch"); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("Tables(nosuch) = %v, want ErrNotFound", err)
	}

	orders, err := e.Describe(ctx, "", "orders")
	if err != nil {
		t.Fatalf("Describe orders: %v", err)
	}
	if orders.Kind != "table" || orders.RowEstimate != 3 || len(orders.Columns) != 4 {
		t.Fatalf("orders = %+v", orders)
	}
	c1 := orders.Columns[1]
	if c1.Name != "customer_id" || c1.Type != "integer" || c1.Nullable || c1.Position != 2 {
		t.Errorf("orders.customer_id = %+v", c1)
	}
	if orders.Columns[0].Nullable {
		t.Errorf("INTEGER PRIMARY KEY reported nullable")
	}
	if fmt.Sprint(orders.PrimaryKey) != "[id]" {
		t.Errorf("orders primary key = %v", orders.PrimaryKey)
	}
	if len(orders.Indexes) != 1 || orders.Indexes[0].Name != "orders_customer_idx" || fmt.Sprint(orders.Indexes[0].Columns) != "[customer_id]" ||
		orders.Indexes[0].Unique || !strings.Contains(orders.Indexes[0].Definition, "CREATE INDEX") {
		t.Errorf("orders indexes = %+v", orders.Indexes)
	}
	if len(orders.ForeignKeys) != 1 {
		t.Fatalf("orders foreign keys = %+v", orders.ForeignKeys)
	}
	fk := orders.ForeignKeys[0]
	if fk.Table != "orders" || fk.RefTable != "customers" || fmt.Sprint(fk.Columns) != "[customer_id]" || fmt.Sprint(fk.RefColumns) != "[id]" || fk.OnDelete != "CASCADE" {
		t.Errorf("orders fk = %+v", fk)
	}

	cust, err := e.Describe(ctx, "main", "CUSTOMERS")
	if err != nil {
		t.Fatalf("Describe customers: %v", err)
	}
	if cust.Name != "customers" || len(cust.ReferencedBy) != 1 || cust.ReferencedBy[0].Table != "orders" || fmt.Sprint(cust.ReferencedBy[0].RefColumns) != "[id]" {
		t.Errorf("customers referenced by = %+v", cust.ReferencedBy)
	}
	var email *engine.Index
	for i := range cust.Indexes {
		if fmt.Sprint(cust.Indexes[i].Columns) == "[email]" {
			email = &cust.Indexes[i]
		}
	}
	if email == nil || !email.Unique || email.Primary {
		t.Errorf("customers unique email index = %+v", cust.Indexes)
	}
	if d := cust.Columns[3].Default; d == nil || *d != "date('now')" {
		t.Errorf("customers.created default = %v", d)
	}
	if cust.Columns[1].Nullable || !cust.Columns[2].Nullable {
		t.Errorf("customers nullability = %+v", cust.Columns)
	}

	view, err := e.Describe(ctx, "", "customer_totals")
	if err != nil {
		t.Fatalf("Describe view: %v", err)
	}
	if view.Kind != "view" || !strings.Contains(view.Definition, "CREATE VIEW customer_totals") || len(view.Columns) != 3 {
		t.Errorf("view = %+v", view)
	}

	_, err = e.Describe(ctx, "", "nosuch")
	if !errors.Is(err, engine.ErrNotFound) || !strings.Contains(err.Error(), "nosuch") {
		t.Errorf("Describe(nosuch) = %v, want ErrNotFound naming the table", err)
	}

	routines, err := e.Routines(ctx, "")
	if err != nil || routines == nil || len(routines) != 0 {
		t.Errorf("Routines = %#v, %v; want an empty list", routines, err)
	}
}

func TestTypeConversion(t *testing.T) {
	e := openEngine(t, engine.ReadOnly)
	cases := []struct {
		col, typ string
		want     any
	}{
		{"n", "numeric", 12.5},
		{"d", "decimal(10,2)", int64(3)},
		{"big", "integer", "9007199254740993"},
		{"b", "blob", "AP8Q"},
		{"t", "text", "héllo"},
		{"tb", "text", "as blob"},
		{"dt", "date", "2024-01-31"},
		{"ts", "datetime", "2024-01-31T13:45:00Z"},
		{"tstz", "timestamp", "2024-01-31T13:45:00+02:00"},
		{"u", "uuid", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"},
		{"j", "json", `{"a":[1,2]}`},
		{"flag", "boolean", int64(1)},
		{"f", "real", 1.25},
		{"nul", "text", nil},
		{"id + 0.5", "", 1.5},
		{"0.0/0", "", nil}, // SQLite yields NULL, not NaN
	}
	for _, tc := range cases {
		t.Run(tc.col, func(t *testing.T) {
			res, err := e.Query(context.Background(), engine.Query{SQL: "SELECT " + tc.col + " FROM types WHERE id = ?", Args: []any{1}, ReadOnly: true}, engine.Limits{})
			if err != nil {
				t.Fatalf("Query: %v", err)
			}
			if res.Columns[0].Type != tc.typ {
				t.Errorf("type = %q, want %q", res.Columns[0].Type, tc.typ)
			}
			if got := res.Rows[0][0]; fmt.Sprintf("%T %v", got, got) != fmt.Sprintf("%T %v", tc.want, tc.want) {
				t.Errorf("value = %T %v, want %T %v", got, got, tc.want, tc.want)
			}
		})
	}
}

func TestCaps(t *testing.T) {
	e := openEngine(t, engine.ReadOnly)
	ctx := context.Background()
	start := time.Now()
	// 10^10 rows: the result only comes back if reading stops at the cap.
	res, err := e.Query(ctx, engine.Query{SQL: "SELECT a.id, b.v FROM big a, big b", ReadOnly: true}, engine.Limits{MaxRows: 10})
	if err != nil {
		t.Fatalf("Query: %v", err)
	}
	if len(res.Rows) != 10 || !res.Truncated || res.TruncatedBy != "max_rows" || res.Elapsed <= 0 {
		t.Fatalf("rows=%d truncated=%v by=%q elapsed=%v", len(res.Rows), res.Truncated, res.TruncatedBy, res.Elapsed)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("capped query took %v; the cursor was read past the cap", d)
	}

	res, err = e.Query(ctx, engine.Query{SQL: "SELECT id, v FROM big", ReadOnly: true}, engine.Limits{MaxBytes: 1000})
	if err != nil {
		t.Fatalf("Query: %v", err)
	}
	if !res.Truncated || res.TruncatedBy != "max_result_bytes" || len(res.Rows) == 0 || len(res.Rows) > 100 {
		t.Fatalf("byte cap: rows=%d truncated=%v by=%q", len(res.Rows), res.Truncated, res.TruncatedBy)
	}

	res, err = e.Query(ctx, engine.Query{SQL: "SELECT id FROM big WHERE id <= 10", ReadOnly: true}, engine.Limits{MaxRows: 10})
	if err != nil || len(res.Rows) != 10 || res.Truncated {
		t.Fatalf("exactly max rows: rows=%d truncated=%v err=%v", len(res.Rows), res.Truncated, err)
	}
}

func TestTimeout(t *testing.T) {
	e := openEngine(t, engine.ReadWrite)
	const endless = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c) SELECT count(*) FROM c"
	for _, ro := range []bool{true, false} {
		start := time.Now()
		_, err := e.Query(context.Background(), engine.Query{SQL: endless, ReadOnly: ro}, engine.Limits{Timeout: 200 * time.Millisecond})
		d := time.Since(start)
		if !errors.Is(err, engine.ErrTimeout) || !strings.Contains(err.Error(), "200ms") {
			t.Fatalf("readOnly=%v: err = %v, want ErrTimeout naming the limit", ro, err)
		}
		if d > 2*time.Second {
			t.Errorf("readOnly=%v: timeout took %v", ro, d)
		}
	}
	// The interrupted connection is usable again: the statement is gone.
	if _, err := e.Query(context.Background(), engine.Query{SQL: "SELECT 1", ReadOnly: true}, engine.Limits{}); err != nil {
		t.Fatalf("query after timeout: %v", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	_, err := e.Query(ctx, engine.Query{SQL: endless, ReadOnly: true}, engine.Limits{})
	if !errors.Is(err, engine.ErrCanceled) {
		t.Fatalf("canceled caller: err = %v, want ErrCanceled", err)
	}
}

func TestReadOnlyEnforcedByDatabase(t *testing.T) {
	// The read-write engine's read-only path: the pool, not the target's
	// access mode, must refuse.
	e := openEngine(t, engine.ReadWrite)
	cases := []struct{ name, sql, why string }{
		{"insert", "INSERT INTO scratch (v) VALUES ('x')", "INSERT"},
		{"update", "UPDATE customers SET name = 'x'", "UPDATE"},
		{"delete", "DELETE FROM orders", "DELETE"},
		{"insert returning", "INSERT INTO scratch (v) VALUES ('x') RETURNING id", "INSERT"},
		{"cte write", "WITH x AS (SELECT 1) DELETE FROM scratch", "DELETE"},
		{"create temp", "CREATE TEMP TABLE tt(x)", "schema change"},
		{"create", "CREATE TABLE t2(x)", "schema change"},
		{"drop", "DROP TABLE scratch", "schema change"},
		{"attach", "ATTACH DATABASE '/tmp/dap-evil.db' AS evil", "ATTACH"},
		{"pragma flip", "PRAGMA query_only = 0", "PRAGMA query_only with a value"},
		{"pragma write", "PRAGMA user_version = 7", "PRAGMA user_version with a value"},
		{"pragma other", "PRAGMA writable_schema", "PRAGMA writable_schema"},
		{"load_extension", "SELECT load_extension('/tmp/x.so')", "load_extension"},
		{"begin", "BEGIN", "transaction"},
		{"commit escape", "COMMIT; DELETE FROM orders", "transaction"},
		{"savepoint", "SAVEPOINT s", "SAVEPOINT"},
		{"analyze", "ANALYZE", "ANALYZE"},
		{"vacuum into", "VACUUM INTO '/tmp/dap-copy.db'", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.Query(context.Background(), engine.Query{SQL: tc.sql, ReadOnly: true}, engine.Limits{})
			if !errors.Is(err, engine.ErrReadOnly) {
				t.Fatalf("%s: err = %v, want ErrReadOnly", tc.sql, err)
			}
			if !strings.Contains(err.Error(), "refused a write on a read-only target") || !strings.Contains(err.Error(), tc.why) {
				t.Errorf("%s: message %q lacks %q", tc.sql, err, tc.why)
			}
		})
	}
	var n int
	res, err := e.Query(context.Background(), engine.Query{SQL: "SELECT count(*) FROM orders", ReadOnly: true}, engine.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if n = int(res.Rows[0][0].(int64)); n != 3 {
		t.Fatalf("orders changed by refused statements: %d rows", n)
	}
	// Introspection pragmas stay allowed.
	if _, err := e.Query(context.Background(), engine.Query{SQL: "PRAGMA table_info(orders)", ReadOnly: true}, engine.Limits{}); err != nil {
		t.Errorf("PRAGMA table_info refused: %v", err)
	}

	ro := openEngine(t, engine.ReadOnly)
	if _, err := ro.Query(context.Background(), engine.Query{SQL: "INSERT INTO scratch (v) VALUES ('x')"}, engine.Limits{}); !errors.Is(err, engine.ErrReadOnly) {
		t.Errorf("write on a read-only target = %v, want ErrReadOnly", err)
	}
}

func TestWritesAndSessionHygiene(t *testing.T) {
	e := openEngine(t, engine.ReadWrite)
	ctx := context.Background()
	res, err := e.Query(ctx, engine.Query{SQL: "INSERT INTO scratch (v) VALUES (?), (?)", Args: []any{"a", "b"}}, engine.Limits{})
	if err != nil || res.RowsAffected != 2 {
		t.Fatalf("insert: %+v %v", res, err)
	}
	res, err = e.Query(ctx, engine.Query{SQL: "UPDATE scratch SET v = 'c' WHERE v = 'a' RETURNING id, v"}, engine.Limits{})
	if err != nil || res.RowsAffected != 1 || len(res.Rows) != 1 || res.Rows[0][1] != "c" {
		t.Fatalf("update returning: %+v %v", res, err)
	}
	res, err = e.Query(ctx, engine.Query{SQL: "CREATE TABLE IF NOT EXISTS scratch2 (x)"}, engine.Limits{})
	if err != nil || res.RowsAffected != 0 {
		t.Fatalf("ddl: %+v %v", res, err)
	}
	_, err = e.Query(ctx, engine.Query{SQL: "INSERT INTO scratch (id, v) VALUES (1, 'dup'), (1, 'dup')"}, engine.Limits{})
	var dbe *engine.DBError
	if !errors.As(err, &dbe) || dbe.Code != "SQLITE_CONSTRAINT" || strings.Contains(dbe.Message, "dup") {
		t.Fatalf("constraint error = %v", err)
	}

	// Session state a write-mode statement changes must not reach the
	// next pooled call: PRAGMA settings and temp tables.
	for range 3 {
		if _, err := e.Query(ctx, engine.Query{SQL: "PRAGMA cache_size = 1234"}, engine.Limits{}); err != nil {
			t.Fatalf("pragma: %v", err)
		}
		res, err = e.Query(ctx, engine.Query{SQL: "PRAGMA cache_size"}, engine.Limits{})
		if err != nil || res.Rows[0][0] == int64(1234) {
			t.Fatalf("cache_size leaked into the next call: %+v %v", res, err)
		}
	}
	if _, err := e.Query(ctx, engine.Query{SQL: "CREATE TEMP TABLE leak (x)"}, engine.Limits{}); err != nil {
		t.Fatalf("temp table: %v", err)
	}
	if _, err := e.Query(ctx, engine.Query{SQL: "SELECT * FROM temp.leak"}, engine.Limits{}); err == nil {
		t.Fatalf("temp table survived into the next call")
	}
}

func TestSelfTestReadOnly(t *testing.T) {
	for _, a := range []engine.Access{engine.ReadOnly, engine.ReadWrite} {
		if err := openEngine(t, a).SelfTestReadOnly(context.Background()); err != nil {
			t.Errorf("%s: SelfTestReadOnly = %v", a, err)
		}
	}
}

func TestCallProcedure(t *testing.T) {
	e := openEngine(t, engine.ReadWrite)
	_, err := e.CallProcedure(context.Background(), engine.Routine{Schema: "main", Name: "p"}, []any{1}, true, engine.Limits{})
	if !errors.Is(err, engine.ErrInvalid) || !strings.Contains(err.Error(), "no stored procedures") {
		t.Fatalf("CallProcedure = %v", err)
	}
}

func TestExplain(t *testing.T) {
	e := openEngine(t, engine.ReadOnly)
	ctx := context.Background()
	cases := []struct {
		name, sql string
		scans     []string
		large     bool
	}{
		{"full scan alias", "SELECT * FROM big AS b WHERE v = 'row-5'", []string{"big"}, true},
		{"join", "SELECT * FROM customers c JOIN orders o ON o.customer_id = c.id", []string{"orders"}, false}, // the planner scans the smaller side
		{"index search", "SELECT * FROM big WHERE id = 5", nil, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := e.Explain(ctx, tc.sql, false, engine.Limits{})
			if err != nil {
				t.Fatalf("Explain: %v", err)
			}
			if p.Format != "text" || len(p.Raw.([]any)) == 0 || p.Summary.ActualMs != 0 {
				t.Fatalf("plan = %+v", p)
			}
			var got []string
			for _, s := range p.Summary.Scans {
				got = append(got, s.Table)
				if s.Large != tc.large {
					t.Errorf("scan %+v large, want %v", s, tc.large)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.scans) {
				t.Errorf("scans = %v, want %v (plan %v)", got, tc.scans, p.Raw)
			}
		})
	}
	p, err := e.Explain(ctx, "SELECT count(*) FROM big WHERE v LIKE '%9'", true, engine.Limits{})
	if err != nil || p.Summary.ActualMs <= 0 || p.Summary.Scans[0].EstimatedRows != 100000 || p.Summary.EstimatedRows != 100000 {
		t.Fatalf("analyze: %+v %v", p, err)
	}
	if _, err := e.Explain(ctx, "DELETE FROM orders", true, engine.Limits{}); !errors.Is(err, engine.ErrReadOnly) {
		t.Fatalf("explain analyze of a write = %v, want ErrReadOnly", err)
	}
	if _, err := e.Explain(ctx, "SELECT 1; DELETE FROM orders", false, engine.Limits{}); !errors.Is(err, engine.ErrReadOnly) {
		t.Fatalf("explain with a trailing write = %v, want ErrReadOnly", err)
	}
	if _, err := e.Explain(ctx, "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c) SELECT count(*) FROM c", true, engine.Limits{Timeout: 100 * time.Millisecond}); !errors.Is(err, engine.ErrTimeout) {
		t.Fatalf("explain analyze timeout = %v", err)
	}
}

func TestDownTargetAndBreaker(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "gone.db")
	if err := buildSmall(path); err != nil {
		t.Fatal(err)
	}
	e, err := Open(context.Background(), engine.Options{Name: "gone", DSN: "file:" + path + "?_key=hunter2", Access: engine.ReadOnly})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer e.Close()
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	start := time.Now()
	_, err = e.Query(ctx, engine.Query{SQL: "SELECT 1", ReadOnly: true}, engine.Limits{})
	if !errors.Is(err, engine.ErrUnavailable) || !strings.Contains(err.Error(), "does not exist") || time.Since(start) > 2*time.Second {
		t.Fatalf("first call: %v after %v", err, time.Since(start))
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("error leaks the DSN: %v", err)
	}
	// Each call retries; the breaker opens within a few failed calls.
	for range 3 {
		if _, err := e.Tables(ctx, ""); !errors.Is(err, engine.ErrUnavailable) {
			t.Fatalf("call: %v", err)
		}
	}
	start = time.Now()
	_, err = e.Query(ctx, engine.Query{SQL: "SELECT 1", ReadOnly: true}, engine.Limits{})
	if d := time.Since(start); !errors.Is(err, engine.ErrUnavailable) || d > 50*time.Millisecond {
		t.Fatalf("breaker open: %v after %v", err, d)
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("error leaks the DSN: %v", err)
	}
}

func buildSmall(path string) error {
	db, err := sql.Open("sqlite", path)
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.Exec("CREATE TABLE t (x)")
	return err
}
