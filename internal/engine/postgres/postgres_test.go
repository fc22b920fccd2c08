package postgres

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dap-platform/dap/internal/engine"
	"github.com/dap-platform/dap/internal/testdb"
)

// TestPostgres runs every integration check against one throwaway
// database built once.
func TestPostgres(t *testing.T) {
	dsn := fixture(t)
	e := open(t, dsn, 6)
	admin, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatalf("admin connection: %v", err)
	}
	t.Cleanup(func() { _ = admin.Close(context.Background()) })

	t.Run("catalog", func(t *testing.T) { testCatalog(t, e) })
	t.Run("values", func(t *testing.T) { testValues(t, e) })
	t.Run("caps", func(t *testing.T) { testCaps(t, e, admin) })
	t.Run("timeout", func(t *testing.T) { testTimeout(t, e, admin) })
	t.Run("read-only", func(t *testing.T) { testReadOnly(t, e) })
	t.Run("writes", func(t *testing.T) { testWrites(t, e) })
	t.Run("hygiene", func(t *testing.T) { testHygiene(t, dsn) })
	t.Run("errors", func(t *testing.T) { testErrors(t, e) })
	t.Run("procedures", func(t *testing.T) { testProcedures(t, e) })
	t.Run("explain", func(t *testing.T) { testExplain(t, e) })
	t.Run("default schema", func(t *testing.T) {
		if got, err := e.DefaultSchema(context.Background()); err != nil || got != "public" {
			t.Errorf("DefaultSchema = %q, %v; want public", got, err)
		}
	})
	t.Run("server", func(t *testing.T) {
		ctx := context.Background()
		if err := e.Ping(ctx); err != nil {
			t.Fatalf("Ping: %v", err)
		}
		v, err := e.ServerVersion(ctx)
		if err != nil || !strings.HasPrefix(v, "PostgreSQL 1") || strings.Contains(v, "(") {
			t.Fatalf("ServerVersion = %q, %v; want like \"PostgreSQL 15.19\"", v, err)
		}
		if err := e.SelfTestReadOnly(ctx); err != nil {
			t.Fatalf("SelfTestReadOnly: %v", err)
		}
		if e.Dialect() != engine.Postgres {
			t.Fatalf("Dialect = %q", e.Dialect())
		}
	})
}

func query(t *testing.T, e *Engine, sql string, readOnly bool, lim engine.Limits, args ...any) *engine.Result {
	t.Helper()
	res, err := e.Query(context.Background(), engine.Query{SQL: sql, Args: args, ReadOnly: readOnly}, lim)
	if err != nil {
		t.Fatalf("Query(%q): %v", sql, err)
	}
	return res
}

func testCatalog(t *testing.T, e *Engine) {
	ctx := context.Background()
	schemas, err := e.Schemas(ctx)
	if err != nil {
		t.Fatalf("Schemas: %v", err)
	}
	var names []string
	for _, s := range schemas {
		names = append(names, s.Name)
	}
	if !reflect.DeepEqual(names, []string{"public"}) {
		t.Errorf("Schemas = %v, want [public] (no system schemas)", names)
	}

	for _, schema := range []string{"", "public"} {
		tables, err := e.Tables(ctx, schema)
		if err != nil {
			t.Fatalf("Tables(%q): %v", schema, err)
		}
		got := map[string]engine.Table{}
		for _, tb := range tables {
			got[tb.Name] = tb
		}
		cases := []struct {
			name, kind, comment string
			minRows, maxRows    int64
		}{
			{"customers", "table", "People who buy", 1000, 1000},
			{"orders", "table", "One row per order", 90000, 110000},
			{"big_orders", "view", "", -1, -1},
		}
		for _, c := range cases {
			tb, ok := got[c.name]
			if !ok {
				t.Fatalf("Tables(%q) misses %s: %+v", schema, c.name, tables)
			}
			if tb.Schema != "public" || tb.Kind != c.kind || tb.Comment != c.comment || tb.RowEstimate < c.minRows || tb.RowEstimate > c.maxRows {
				t.Errorf("Tables(%q) %s = %+v, want kind %s comment %q rows in [%d,%d]", schema, c.name, tb, c.kind, c.comment, c.minRows, c.maxRows)
			}
		}
	}
	if tables, err := e.Tables(ctx, "nosuchschema"); err != nil || len(tables) != 0 {
		t.Errorf("Tables(nosuchschema) = %v, %v; want none", tables, err)
	}

	orders, err := e.Describe(ctx, "", "orders")
	if err != nil {
		t.Fatalf("Describe orders: %v", err)
	}
	wantCols := []engine.ColumnInfo{
		{Name: "id", Type: "bigint", Position: 1},
		{Name: "customer_id", Type: "integer", Position: 2},
		{Name: "amount", Type: "numeric(12,2)", Position: 3},
		{Name: "status", Type: "text", Default: ptr("'new'::text"), Position: 4},
		{Name: "created_at", Type: "timestamp without time zone", Position: 5},
	}
	if !reflect.DeepEqual(orders.Columns, wantCols) {
		t.Errorf("orders columns =\n%+v\nwant\n%+v", orders.Columns, wantCols)
	}
	if !reflect.DeepEqual(orders.PrimaryKey, []string{"id"}) || orders.Comment != "One row per order" || orders.Kind != "table" {
		t.Errorf("orders pk/comment/kind = %v %q %q", orders.PrimaryKey, orders.Comment, orders.Kind)
	}
	if len(orders.Indexes) != 2 || orders.Indexes[0].Name != "orders_pkey" || !orders.Indexes[0].Primary ||
		orders.Indexes[1].Name != "orders_customer_idx" || orders.Indexes[1].Unique || orders.Indexes[1].Method != "btree" ||
		!reflect.DeepEqual(orders.Indexes[1].Columns, []string{"customer_id"}) || !strings.Contains(orders.Indexes[1].Definition, "CREATE INDEX orders_customer_idx") {
		t.Errorf("orders indexes = %+v", orders.Indexes)
	}
	wantFK := engine.ForeignKey{Name: "orders_customer_id_fkey", Schema: "public", Table: "orders", Columns: []string{"customer_id"},
		RefSchema: "public", RefTable: "customers", RefColumns: []string{"id"}, OnDelete: "CASCADE", OnUpdate: "NO ACTION"}
	if len(orders.ForeignKeys) != 1 || !reflect.DeepEqual(orders.ForeignKeys[0], wantFK) || len(orders.ReferencedBy) != 0 {
		t.Errorf("orders FKs = %+v, referenced by %+v", orders.ForeignKeys, orders.ReferencedBy)
	}

	customers, err := e.Describe(ctx, "public", "customers")
	if err != nil {
		t.Fatalf("Describe customers: %v", err)
	}
	if len(customers.ReferencedBy) != 1 || !reflect.DeepEqual(customers.ReferencedBy[0], wantFK) || len(customers.ForeignKeys) != 0 {
		t.Errorf("customers referenced by %+v, FKs %+v", customers.ReferencedBy, customers.ForeignKeys)
	}
	if c := customers.Columns[2]; c.Name != "email" || c.Comment != "Contact address" || !c.Nullable {
		t.Errorf("customers.email = %+v", c)
	}
	if ix := customers.Indexes[1]; !ix.Unique || ix.Primary || ix.Name != "customers_email_key" {
		t.Errorf("customers unique index = %+v", ix)
	}

	view, err := e.Describe(ctx, "public", "big_orders")
	if err != nil {
		t.Fatalf("Describe big_orders: %v", err)
	}
	if view.Kind != "view" || !strings.Contains(view.Definition, "amount > 900") || len(view.Columns) != 3 {
		t.Errorf("view = %+v", view)
	}

	for _, c := range [][2]string{{"", "nosuch"}, {"public", "nosuch"}, {"nosuchschema", "orders"}} {
		_, err := e.Describe(ctx, c[0], c[1])
		if !errors.Is(err, engine.ErrNotFound) || !strings.Contains(err.Error(), c[1]) {
			t.Errorf("Describe(%q, %q) error = %v, want ErrNotFound naming it", c[0], c[1], err)
		}
	}

	routines, err := e.Routines(ctx, "")
	if err != nil {
		t.Fatalf("Routines: %v", err)
	}
	want := []engine.Routine{
		{Schema: "public", Name: "add_note", Kind: "procedure", Volatile: "volatile", Params: []engine.Param{
			{Name: "p_note", Type: "text", Mode: "in", Position: 1},
			{Name: "p_id", Type: "integer", Mode: "inout", Position: 2, HasDefault: true},
		}},
		{Schema: "public", Name: "customer_orders", Kind: "function", Volatile: "stable", Returns: "TABLE(order_id bigint, amount numeric)", Params: []engine.Param{
			{Name: "p_customer", Type: "integer", Mode: "in", Position: 1},
		}},
		{Schema: "public", Name: "customer_total", Kind: "function", Volatile: "stable", Returns: "numeric", Comment: "Sum of a customer's orders", Params: []engine.Param{
			{Name: "p_customer", Type: "integer", Mode: "in", Position: 1},
			{Name: "p_min", Type: "numeric", Mode: "in", Position: 2, HasDefault: true},
		}},
	}
	if !reflect.DeepEqual(routines, want) {
		t.Errorf("Routines =\n%+v\nwant\n%+v", routines, want)
	}
	if r, err := e.Routines(ctx, "public"); err != nil || len(r) != 3 {
		t.Errorf("Routines(public) = %d, %v", len(r), err)
	}
}

func ptr(s string) *string { return &s }

func testValues(t *testing.T, e *Engine) {
	cases := []struct {
		name, expr string
		want       any
		typ        string
	}{
		{"numeric exact", "123456789012345678901234.500::numeric", "123456789012345678901234.500", "numeric"},
		{"numeric scale", "1.5::numeric(10,2)", "1.50", "numeric"},
		{"numeric negative small", "-0.0012::numeric", "-0.0012", "numeric"},
		{"numeric NaN", "'NaN'::numeric", "NaN", "numeric"},
		{"bigint beyond 2^53", "9007199254740993::int8", "9007199254740993", "int8"},
		{"bigint safe", "42::int8", int64(42), "int8"},
		{"int4", "7::int4", int64(7), "int4"},
		{"float8", "1.5::float8", 1.5, "float8"},
		{"float NaN", "'NaN'::float8", "NaN", "float8"},
		{"bool", "true", true, "bool"},
		{"bytea", `'\xdeadbeef'::bytea`, "3q2+7w==", "bytea"},
		{"text stays text", "'héllo'::text", "héllo", "text"},
		{"varchar", "'abc'::varchar(5)", "abc", "varchar"},
		{"date", "'2024-01-31'::date", "2024-01-31", "date"},
		{"date infinity", "'infinity'::date", "infinity", "date"},
		{"timestamp no tz", "'2024-01-31 12:34:56.5'::timestamp", "2024-01-31T12:34:56.5", "timestamp"},
		{"timestamptz", "'2024-01-31 12:34:56+02'::timestamptz", "2024-01-31T10:34:56Z", "timestamptz"},
		{"uuid", "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "uuid"},
		{"json", `'{"a": [1, "x", null]}'::json`, map[string]any{"a": []any{1.0, "x", nil}}, "json"},
		{"jsonb", `'{"b": true}'::jsonb`, map[string]any{"b": true}, "jsonb"},
		{"interval", "interval '1 day 2 hours'", "1 day 02:00:00", "interval"},
		{"inet", "'10.0.0.1'::inet", "10.0.0.1", "inet"},
		{"cidr", "'10.0.0.0/8'::cidr", "10.0.0.0/8", "cidr"},
		{"macaddr", "'08:00:2b:01:02:03'::macaddr", "08:00:2b:01:02:03", "macaddr"},
		{"tsvector", "'a fat cat'::tsvector", "'a' 'cat' 'fat'", "tsvector"},
		{"range", "int4range(1, 5)", "[1,5)", "int4range"},
		{"time", "'12:34:56'::time", "12:34:56", "time"},
		{"money", "12.5::money", "$12.50", "money"},
		{"enum (unknown to pgx)", "'happy'::mood", "happy", "mood"},
		{"int array", "ARRAY[1, NULL, 3]::int4[]", []any{int64(1), nil, int64(3)}, "_int4"},
		{"numeric array", "ARRAY[1.10, 2]::numeric[]", []any{"1.10", "2"}, "_numeric"},
		{"date array", "ARRAY['2024-01-31'::date]", []any{"2024-01-31"}, "_date"},
		{"interval array", "ARRAY[interval '1 hour']", []any{"01:00:00"}, "_interval"},
		{"NULL", "NULL::text", nil, "text"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := query(t, e, "SELECT "+c.expr+" AS v", true, engine.Limits{})
			if len(res.Rows) != 1 || len(res.Columns) != 1 {
				t.Fatalf("got %+v", res)
			}
			if got := res.Rows[0][0]; !reflect.DeepEqual(got, c.want) {
				t.Errorf("value = %#v, want %#v", got, c.want)
			}
			if res.Columns[0].Type != c.typ {
				t.Errorf("type = %q, want %q", res.Columns[0].Type, c.typ)
			}
		})
	}
	// bound arguments of several types round-trip
	res := query(t, e, "SELECT $1::int4 + 1, $2::text, $3::numeric", true, engine.Limits{}, 41, "x", "1.25")
	if !reflect.DeepEqual(res.Rows[0], []any{int64(42), "x", "1.25"}) {
		t.Errorf("bound args = %#v", res.Rows[0])
	}
}

// activeLike reports whether a backend other than admin's runs a
// statement containing marker; it polls briefly, since a backend takes a
// moment to notice a cancel or a closed socket.
func stillRunning(t *testing.T, admin *pgx.Conn, marker string) bool {
	t.Helper()
	for range 100 {
		var n int
		err := admin.QueryRow(context.Background(),
			"SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND pid <> pg_backend_pid() AND query LIKE '%' || $1 || '%'", marker).Scan(&n)
		if err != nil {
			t.Fatalf("pg_stat_activity: %v", err)
		}
		if n == 0 {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
	return true
}

func testCaps(t *testing.T, e *Engine, admin *pgx.Conn) {
	res := query(t, e, "SELECT id FROM orders ORDER BY id", true, engine.Limits{MaxRows: 10})
	if len(res.Rows) != 10 || !res.Truncated || res.TruncatedBy != "max_rows" || res.Rows[9][0] != int64(10) {
		t.Errorf("row cap: %d rows, truncated %v by %q", len(res.Rows), res.Truncated, res.TruncatedBy)
	}
	res = query(t, e, "SELECT id, status FROM orders ORDER BY id", true, engine.Limits{MaxBytes: 1000})
	if len(res.Rows) == 0 || len(res.Rows) >= 100 || !res.Truncated || res.TruncatedBy != "max_result_bytes" {
		t.Errorf("byte cap: %d rows, truncated %v by %q", len(res.Rows), res.Truncated, res.TruncatedBy)
	}
	res = query(t, e, "SELECT id FROM orders WHERE id <= 5", true, engine.Limits{MaxRows: 5})
	if len(res.Rows) != 5 || res.Truncated {
		t.Errorf("exactly max rows: %d rows, truncated %v", len(res.Rows), res.Truncated)
	}
	// A result just past the cap is drained and the connection kept:
	// the next call must still work on the same pool.
	res = query(t, e, "SELECT id FROM orders WHERE id <= 20", true, engine.Limits{MaxRows: 10})
	if len(res.Rows) != 10 || !res.Truncated {
		t.Errorf("small overshoot: %d rows, truncated %v", len(res.Rows), res.Truncated)
	}

	// 100k orders x 1000 = 100M rows: reading them all would take
	// minutes. The capped call must return at once and the server must
	// stop the statement.
	const marker = "dap_cap_marker"
	start := time.Now()
	res = query(t, e, "SELECT o.id, o.status, g /* "+marker+" */ FROM orders o CROSS JOIN generate_series(1, 1000) g", true, engine.Limits{MaxRows: 10})
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("capped 100M-row select took %v", el)
	}
	if len(res.Rows) != 10 || !res.Truncated {
		t.Errorf("huge select: %d rows, truncated %v", len(res.Rows), res.Truncated)
	}
	if stillRunning(t, admin, marker) {
		t.Errorf("the capped statement still runs on the server")
	}
	// and the pool recovers
	if res := query(t, e, "SELECT 1", true, engine.Limits{}); len(res.Rows) != 1 {
		t.Errorf("after abandon: %+v", res)
	}
}

func testTimeout(t *testing.T, e *Engine, admin *pgx.Conn) {
	ctx := context.Background()
	const marker = "dap_timeout_marker"
	for _, readOnly := range []bool{true, false} {
		start := time.Now()
		_, err := e.Query(ctx, engine.Query{SQL: "SELECT pg_sleep(5) /* " + marker + " */", ReadOnly: readOnly}, engine.Limits{Timeout: 200 * time.Millisecond})
		if !errors.Is(err, engine.ErrTimeout) || !strings.Contains(err.Error(), "200ms") {
			t.Errorf("readOnly=%v: err = %v, want ErrTimeout naming 200ms", readOnly, err)
		}
		if el := time.Since(start); el > 1500*time.Millisecond {
			t.Errorf("readOnly=%v: timeout took %v", readOnly, el)
		}
		if stillRunning(t, admin, marker) {
			t.Errorf("readOnly=%v: pg_sleep still runs on the server", readOnly)
		}
	}

	// a caller giving up cancels the statement on the server
	const marker2 = "dap_cancel_marker"
	cctx, cancel := context.WithCancel(ctx)
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	_, err := e.Query(cctx, engine.Query{SQL: "SELECT pg_sleep(5) /* " + marker2 + " */", ReadOnly: true}, engine.Limits{})
	if !errors.Is(err, engine.ErrCanceled) {
		t.Errorf("caller cancel: err = %v, want ErrCanceled", err)
	}
	if el := time.Since(start); el > 1500*time.Millisecond {
		t.Errorf("caller cancel took %v", el)
	}
	if stillRunning(t, admin, marker2) {
		t.Errorf("cancelled pg_sleep still runs on the server")
	}
}

func testReadOnly(t *testing.T, e *Engine) {
	ctx := context.Background()
	writes := []string{
		"INSERT INTO scratch (note) VALUES ('ro')",
		"UPDATE orders SET status = 'x' WHERE id = 1",
		"DELETE FROM orders WHERE id = 1",
		"CREATE TABLE evil (x int)",
		"CREATE TEMP TABLE evil (x int)",
		"WITH d AS (DELETE FROM orders WHERE id = 1 RETURNING id) SELECT * FROM d",
		"SELECT nextval('scratch_id_seq')",
	}
	for _, sql := range writes {
		_, err := e.Query(ctx, engine.Query{SQL: sql, ReadOnly: true}, engine.Limits{})
		if !errors.Is(err, engine.ErrReadOnly) {
			t.Errorf("%s: err = %v, want ErrReadOnly from the database", sql, err)
		}
	}
	// Several statements in one text cannot run (extended protocol).
	_, err := e.Query(ctx, engine.Query{SQL: "COMMIT; DELETE FROM orders WHERE id = 1", ReadOnly: true}, engine.Limits{})
	var dbe *engine.DBError
	if !errors.As(err, &dbe) || dbe.Code != "42601" {
		t.Errorf("multi-statement: err = %v, want syntax error 42601", err)
	}
	// A setting flipped from a read-only SELECT dies with its rollback.
	for range 12 { // more calls than pooled connections
		query(t, e, "SELECT set_config('default_transaction_read_only', 'off', false), set_config('work_mem', '1234kB', false)", true, engine.Limits{})
	}
	for range 12 {
		res := query(t, e, "SELECT current_setting('work_mem')", true, engine.Limits{})
		if res.Rows[0][0] == "1234kB" {
			t.Fatalf("a read-only call's set_config leaked into the pool")
		}
	}
	if res := query(t, e, "SELECT count(*) FROM orders WHERE id = 1", true, engine.Limits{}); res.Rows[0][0] != int64(1) {
		t.Errorf("order 1 was deleted through a read-only call")
	}
}

func testWrites(t *testing.T, e *Engine) {
	res := query(t, e, "INSERT INTO scratch (note) SELECT 'w' || g FROM generate_series(1, 3) g", false, engine.Limits{})
	if res.RowsAffected != 3 {
		t.Errorf("insert RowsAffected = %d, want 3", res.RowsAffected)
	}
	res = query(t, e, "UPDATE scratch SET note = $1 WHERE note LIKE 'w%' RETURNING id", false, engine.Limits{MaxRows: 1}, "updated")
	if res.RowsAffected != 3 || len(res.Rows) != 1 || !res.Truncated {
		t.Errorf("update returning: affected %d, rows %d, truncated %v", res.RowsAffected, len(res.Rows), res.Truncated)
	}
	res = query(t, e, "SELECT count(*) FROM scratch WHERE note = 'updated'", true, engine.Limits{})
	if res.Rows[0][0] != int64(3) {
		t.Errorf("committed rows = %v, want 3", res.Rows[0][0])
	}
	// a failing write is rolled back and the connection stays usable
	_, err := e.Query(context.Background(), engine.Query{SQL: "INSERT INTO orders (id, customer_id, amount, created_at) VALUES (1, 1, 1, now())"}, engine.Limits{})
	var dbe *engine.DBError
	if !errors.As(err, &dbe) || dbe.Code != "23505" {
		t.Errorf("duplicate key: err = %v, want DBError 23505", err)
	}
	query(t, e, "DELETE FROM scratch WHERE note = 'updated'", false, engine.Limits{})
}

func testHygiene(t *testing.T, dsn string) {
	e := open(t, dsn, 1) // one connection: every call reuses it
	query(t, e, "SELECT set_config('search_path', 'nowhere', false)", false, engine.Limits{})
	query(t, e, "SET work_mem = '4321kB'", false, engine.Limits{})
	query(t, e, "CREATE TEMP TABLE leftover (x int)", false, engine.Limits{})
	query(t, e, "SELECT pg_advisory_lock(42)", false, engine.Limits{})
	res := query(t, e, "SELECT current_setting('search_path'), current_setting('work_mem'), to_regclass('pg_temp.leftover') IS NULL, (SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid())", true, engine.Limits{})
	row := res.Rows[0]
	if row[0] == "nowhere" || row[1] == "4321kB" || row[2] != true || row[3] != int64(0) {
		t.Errorf("session state leaked to the next pooled call: %v", row)
	}
	// the cleared statement cache must not break later calls
	for range 3 {
		query(t, e, "SELECT id FROM orders WHERE id = $1", true, engine.Limits{}, 7)
		query(t, e, "SELECT 1", false, engine.Limits{})
	}
}

func testErrors(t *testing.T, e *Engine) {
	ctx := context.Background()
	cases := []struct {
		name, sql string
		args      []any
		code      string
		secret    string
	}{
		{"syntax", "SELEC 1", nil, "42601", ""},
		{"missing table", "SELECT * FROM nosuch", nil, "42P01", ""},
		{"bound value not echoed", "SELECT $1::int", []any{"not-a-number-secret"}, "22P02", "not-a-number-secret"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := e.Query(ctx, engine.Query{SQL: c.sql, Args: c.args, ReadOnly: true}, engine.Limits{})
			var dbe *engine.DBError
			if !errors.As(err, &dbe) || dbe.Code != c.code {
				t.Fatalf("err = %v, want DBError %s", err, c.code)
			}
			if c.secret != "" && strings.Contains(err.Error(), c.secret) {
				t.Errorf("error echoes a bound value: %v", err)
			}
		})
	}
	// the pool survives errors
	query(t, e, "SELECT 1", true, engine.Limits{})
}

func testProcedures(t *testing.T, e *Engine) {
	ctx := context.Background()
	routines, err := e.Routines(ctx, "public")
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]engine.Routine{}
	for _, r := range routines {
		byName[r.Name] = r
	}
	res, err := e.CallProcedure(ctx, byName["customer_total"], []any{int32(7), "100"}, true, engine.Limits{})
	if err != nil {
		t.Fatalf("customer_total: %v", err)
	}
	var want string
	if err := e.readTx(ctx, engine.Limits{}, func(ctx context.Context, tx pgx.Tx) error {
		return tx.QueryRow(ctx, "SELECT sum(amount)::text FROM orders WHERE customer_id = 7 AND amount >= 100").Scan(&want)
	}); err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != 1 || res.Rows[0][0] != want {
		t.Errorf("customer_total = %+v, want %s", res.Rows, want)
	}
	res, err = e.CallProcedure(ctx, byName["customer_orders"], []any{int32(3)}, true, engine.Limits{MaxRows: 5})
	if err != nil || len(res.Rows) != 5 || !res.Truncated || res.Columns[0].Name != "order_id" {
		t.Errorf("customer_orders = %+v, %v", res, err)
	}
	_, err = e.CallProcedure(ctx, byName["add_note"], []any{"from ro", nil}, true, engine.Limits{})
	if !errors.Is(err, engine.ErrReadOnly) {
		t.Errorf("writing procedure, read-only: err = %v, want ErrReadOnly", err)
	}
	res, err = e.CallProcedure(ctx, byName["add_note"], []any{"from rw", nil}, false, engine.Limits{})
	if err != nil || len(res.Rows) != 1 || res.Columns[0].Name != "p_id" || res.Rows[0][0] == nil {
		t.Errorf("add_note = %+v, %v", res, err)
	}
	if _, err := e.CallProcedure(ctx, byName["add_note"], []any{"x", nil, 3}, false, engine.Limits{}); !errors.Is(err, engine.ErrInvalid) {
		t.Errorf("too many arguments: err = %v, want ErrInvalid", err)
	}
	// A trailing parameter with a default may be left out (named notation).
	res, err = e.CallProcedure(ctx, byName["add_note"], []any{"defaulted id"}, false, engine.Limits{})
	if err != nil || len(res.Rows) != 1 || res.Rows[0][0] == nil {
		t.Errorf("add_note with the default: %+v, %v", res, err)
	}
	res, err = e.CallProcedure(ctx, byName["customer_total"], []any{int32(3)}, true, engine.Limits{})
	if err != nil || len(res.Rows) != 1 {
		t.Errorf("customer_total with the default: %+v, %v", res, err)
	}
	if _, err := e.CallProcedure(ctx, byName["customer_orders"], []any{}, true, engine.Limits{}); !errors.Is(err, engine.ErrInvalid) {
		t.Errorf("missing argument without default: err = %v, want ErrInvalid", err)
	}
}

func testExplain(t *testing.T, e *Engine) {
	ctx := context.Background()
	p, err := e.Explain(ctx, "SELECT * FROM orders WHERE status = 'paid'", false, engine.Limits{})
	if err != nil {
		t.Fatalf("Explain: %v", err)
	}
	s := p.Summary
	if p.Format != "json" || p.Raw == nil || s.TotalCost <= 0 || s.EstimatedRows <= 0 || s.ActualMs != 0 {
		t.Errorf("plan = %+v", p)
	}
	if len(s.Scans) != 1 || s.Scans[0].Table != "public.orders" || !s.Scans[0].Large || s.Scans[0].EstimatedRows <= 0 {
		t.Errorf("scans = %+v", s.Scans)
	}
	p, err = e.Explain(ctx, "SELECT c.name FROM customers c JOIN orders o ON o.customer_id = c.id WHERE o.amount > 990", true, engine.Limits{})
	if err != nil {
		t.Fatalf("Explain analyze: %v", err)
	}
	if p.Summary.ActualMs <= 0 || len(p.Summary.Scans) == 0 || p.Summary.Scans[0].Table != "public.orders" {
		t.Errorf("analyze summary = %+v", p.Summary)
	}
	p, err = e.Explain(ctx, "SELECT * FROM orders WHERE id = 5", false, engine.Limits{})
	if err != nil || len(p.Summary.Scans) != 0 {
		t.Errorf("index lookup: %+v, %v", p, err)
	}
	if _, err := e.Explain(ctx, "DELETE FROM orders WHERE id = 2", true, engine.Limits{}); !errors.Is(err, engine.ErrReadOnly) {
		t.Errorf("EXPLAIN ANALYZE of a write: err = %v, want ErrReadOnly", err)
	}
}

func TestDownTarget(t *testing.T) {
	const password = "s3cr3t-PW-never-shown"
	dsn := "postgres://dap:" + password + "@" + testdb.ClosedAddr(t) + "/db?sslmode=disable"
	e, err := Open(context.Background(), engine.Options{Name: "down", DSN: dsn})
	if err != nil {
		t.Fatalf("Open must not fail for a down server: %v", err)
	}
	defer e.Close()
	ctx := context.Background()
	start := time.Now()
	_, err = e.Query(ctx, engine.Query{SQL: "SELECT 1", ReadOnly: true}, engine.Limits{})
	if !errors.Is(err, engine.ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("first failure took %v", el)
	}
	errs := []error{err}
	for range 5 {
		if e.res.State() == "open" {
			break
		}
		_, err := e.Tables(ctx, "")
		errs = append(errs, err)
	}
	if e.res.State() != "open" {
		t.Fatalf("breaker state = %s after repeated failures", e.res.State())
	}
	start = time.Now()
	err = e.Ping(ctx)
	if !errors.Is(err, engine.ErrUnavailable) || !strings.Contains(err.Error(), "circuit breaker open") {
		t.Errorf("with breaker open: err = %v", err)
	}
	if el := time.Since(start); el > 50*time.Millisecond {
		t.Errorf("open breaker answered in %v, want < 50ms", el)
	}
	errs = append(errs, err)
	_, err = e.ServerVersion(ctx)
	errs = append(errs, err)
	for _, err := range errs {
		if err == nil || strings.Contains(err.Error(), password) {
			t.Errorf("error missing or shows the password: %v", err)
		}
	}
}

func TestOpenMalformedDSN(t *testing.T) {
	const password = "s3cr3t-PW-never-shown"
	for _, dsn := range []string{
		"postgres://dap:" + password + "@127.0.0.1:notaport/db",
		"postgres://dap:" + password + "@[::1/db",
		"host=127.0.0.1 password=" + password + " port=abc",
	} {
		_, err := Open(context.Background(), engine.Options{Name: "bad", DSN: dsn})
		if !errors.Is(err, engine.ErrInvalid) {
			t.Errorf("Open(malformed) err = %v, want ErrInvalid", err)
			continue
		}
		if strings.Contains(err.Error(), password) || strings.Contains(err.Error(), "127.0.0.1") {
			t.Errorf("error echoes the DSN: %v", err)
		}
	}
}
