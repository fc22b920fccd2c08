package guard

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/dap-platform/dap/internal/engine"
)

func TestAllowedBy(t *testing.T) {
	kinds := []Kind{Read, Write, DDL, Admin, Tx, Unknown}
	want := map[engine.Access][]Kind{
		engine.ReadOnly:  {Read},
		engine.ReadWrite: {Read, Write},
		engine.Admin:     {Read, Write, DDL, Admin},
		"bogus":          nil,
	}
	for a, allowed := range want {
		for _, k := range kinds {
			exp := false
			for _, x := range allowed {
				exp = exp || x == k
			}
			if got := k.AllowedBy(a); got != exp {
				t.Errorf("%s.AllowedBy(%s) = %v, want %v", k, a, got, exp)
			}
		}
	}
}

func TestRefusalMessages(t *testing.T) {
	tests := []struct {
		name   string
		d      engine.Dialect
		sql    string
		access engine.Access // "" means: the refusal comes from Check
		want   string
	}{
		{"kind not allowed", engine.Postgres, "SELECT pg_terminate_backend(1)", engine.ReadOnly,
			`refused: statement kind "admin" (construct: function pg_terminate_backend) is not allowed on a read-only target: pg_terminate_backend ends another session`},
		{"write on read-only", engine.Postgres, "WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d", engine.ReadOnly,
			`refused: statement kind "write" (construct: data-modifying CTE (DELETE)) is not allowed on a read-only target`},
		{"ddl on read-write", engine.MySQL, "DROP TABLE t", engine.ReadWrite,
			`refused: statement kind "ddl" is not allowed on a read-write target`},
		{"stacked", engine.Postgres, "SELECT 1; DROP TABLE t", "",
			`refused: 2 statements found; send exactly one statement per call`},
		{"no statement", engine.SQLite, " -- nothing", "",
			`refused: no statement found; send exactly one statement per call`},
		{"commit", engine.Postgres, "COMMIT", "",
			`refused: transaction control (COMMIT) - DAP owns the transaction`},
		{"parse", engine.Postgres, "SELEC 1", "",
			`refused: cannot parse as PostgreSQL: syntax error at or near "SELEC" (position 1)`},
		{"unknown dialect", "oracle", "SELECT 1", "",
			`refused: unknown dialect "oracle"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, err := Check(tc.d, tc.sql)
			if tc.access != "" {
				if err != nil {
					t.Fatalf("Check: %v", err)
				}
				err = Permit(v, tc.access)
			}
			if err == nil {
				t.Fatalf("no refusal for %q", tc.sql)
			}
			if !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("error\n got %s\nwant prefix %s", err, tc.want)
			}
			var r *Refusal
			if !errors.As(err, &r) || !errors.Is(err, ErrRefused) {
				t.Errorf("%v is not a *Refusal wrapping ErrRefused", err)
			}
		})
	}
}

func TestPermitAllows(t *testing.T) {
	tests := []struct {
		d   engine.Dialect
		sql string
		a   engine.Access
	}{
		{engine.Postgres, "SELECT * FROM t", engine.ReadOnly},
		{engine.Postgres, "UPDATE t SET name = 'x'", engine.ReadWrite},
		{engine.MySQL, "CREATE TABLE x (id INT)", engine.Admin},
		{engine.SQLite, "PRAGMA writable_schema = 1", engine.Admin},
		{engine.SQLServer, "SELECT 1", engine.ReadOnly},
	}
	for _, tc := range tests {
		v, err := Check(tc.d, tc.sql)
		if err != nil {
			t.Fatalf("%s %q: %v", tc.d, tc.sql, err)
		}
		if err := Permit(v, tc.a); err != nil {
			t.Errorf("%s %q on %s: %v", tc.d, tc.sql, tc.a, err)
		}
	}
}

func TestVerdictDetails(t *testing.T) {
	tests := []struct {
		d                    engine.Dialect
		sql                  string
		kind                 Kind
		statement, construct string
	}{
		{engine.Postgres, "SELECT * FROM pg_read_file('/etc/passwd')", Admin, "SELECT", "function pg_read_file"},
		{engine.Postgres, "SELECT * FROM t FOR UPDATE", Write, "SELECT", "SELECT ... FOR UPDATE"},
		{engine.Postgres, "SELECT * INTO x FROM t", DDL, "SELECT", "SELECT ... INTO"},
		{engine.Postgres, "EXPLAIN ANALYZE INSERT INTO t VALUES (1, 'a')", Write, "EXPLAIN", "EXPLAIN ANALYZE of INSERT"},
		{engine.Postgres, "CREATE TABLE x (id int)", DDL, "CREATE TABLE", ""},
		{engine.Postgres, "DROP MATERIALIZED VIEW mv", DDL, "DROP MATERIALIZED VIEW", ""},
		{engine.Postgres, "COPY t TO PROGRAM 'x'", Admin, "COPY", "COPY ... PROGRAM"},
		{engine.MySQL, "SELECT * FROM t INTO OUTFILE '/tmp/x'", Admin, "SELECT", "INTO OUTFILE"},
		{engine.MySQL, "SELECT * FROM t LOCK IN SHARE MODE", Write, "SELECT", "SELECT ... FOR SHARE"},
		{engine.MySQL, "DESCRIBE t", Read, "DESCRIBE", ""},
		{engine.MySQL, "REPLACE INTO t VALUES (1, 'a')", Write, "REPLACE", ""},
		{engine.SQLite, "PRAGMA table_info(t)", Read, "PRAGMA", ""},
		{engine.SQLite, "PRAGMA writable_schema=1", Admin, "PRAGMA", "PRAGMA writable_schema="},
		{engine.SQLite, "VACUUM INTO '/tmp/x'", Admin, "VACUUM", "VACUUM INTO"},
		{engine.SQLite, "WITH a AS (SELECT 1) DELETE FROM t", Write, "DELETE", ""},
		{engine.SQLite, "CREATE UNIQUE INDEX i ON t (id)", DDL, "CREATE UNIQUE INDEX", ""},
		{engine.SQLServer, "SELECT * INTO x FROM t", DDL, "SELECT", "SELECT ... INTO"},
		{engine.SQLServer, "SELECT * FROM OPENQUERY(s, 'x')", Admin, "SELECT", "OPENQUERY"},
	}
	for _, tc := range tests {
		v, err := Check(tc.d, tc.sql)
		if err != nil {
			t.Errorf("%s %q: %v", tc.d, tc.sql, err)
			continue
		}
		if v.Kind != tc.kind || v.Statement != tc.statement || v.Construct != tc.construct {
			t.Errorf("%s %q: got %+v, want kind %s statement %q construct %q", tc.d, tc.sql, v, tc.kind, tc.statement, tc.construct)
		}
		if v.Construct != "" && v.Reason == "" {
			t.Errorf("%s %q: construct %q without a reason", tc.d, tc.sql, v.Construct)
		}
	}
}

func TestSQLiteTokenizer(t *testing.T) {
	tests := []struct {
		sql   string
		stmts int
		err   bool
	}{
		{"SELECT 1", 1, false},
		{"SELECT 'a;b'; SELECT \"c;d\"", 2, false},
		{"SELECT [x;y], `z;w`", 1, false},
		{"SELECT 'it''s;'", 1, false},
		{"SELECT 1 -- ;\n", 1, false},
		{"SELECT 1 /* ; */", 1, false},
		{"SELECT 1 /* ; ", 1, false},
		{";;; ;", 0, false},
		{"SELECT x'0a;'", 1, false},
		{"SELECT 'open", 0, true},
		{"SELECT \"open", 0, true},
		{"SELECT [open", 0, true},
		{"SELECT `open", 0, true},
		{"SELECT x'open", 0, true},
	}
	for _, tc := range tests {
		stmts, err := sqliteTokenize(tc.sql)
		if (err != nil) != tc.err || len(stmts) != tc.stmts {
			t.Errorf("sqliteTokenize(%q) = %d statements, err %v; want %d, err %v", tc.sql, len(stmts), err, tc.stmts, tc.err)
		}
	}
}

func TestCheckerMatchesCheck(t *testing.T) {
	c := NewChecker(4)
	for _, d := range allDialects {
		cases, err := LoadCorpus(d)
		if err != nil {
			t.Fatal(err)
		}
		for _, cc := range cases {
			for range 2 { // miss, then (maybe) hit
				v1, e1 := Check(d, cc.SQL)
				v2, e2 := c.Check(d, cc.SQL)
				if v1 != v2 || fmt.Sprint(e1) != fmt.Sprint(e2) {
					t.Fatalf("%s %q: Check %+v %v, Checker %+v %v", d, cc.SQL, v1, e1, v2, e2)
				}
			}
		}
	}
	if n := c.Len(); n != 4 {
		t.Errorf("Checker holds %d verdicts, want its bound 4", n)
	}
}

func TestCheckerLRU(t *testing.T) {
	c := NewChecker(2)
	a, b, x := "SELECT 1", "SELECT 2", "SELECT 3"
	c.Check(engine.SQLite, a)
	c.Check(engine.SQLite, b)
	c.Check(engine.SQLite, a) // a is now most recent; b is evicted next
	c.Check(engine.SQLite, x)
	c.mu.Lock()
	_, hasA := c.index[cacheKey{engine.SQLite, a}]
	_, hasB := c.index[cacheKey{engine.SQLite, b}]
	_, hasX := c.index[cacheKey{engine.SQLite, x}]
	c.mu.Unlock()
	if !hasA || hasB || !hasX {
		t.Errorf("after a, b, a, x with size 2: has a=%v b=%v x=%v, want true false true", hasA, hasB, hasX)
	}
	// The same text under another dialect is another entry.
	if _, err := c.Check(engine.Postgres, a); err != nil {
		t.Fatal(err)
	}
	// Huge texts are checked but not cached.
	huge := "SELECT '" + strings.Repeat("x", maxCachedSQL) + "'"
	if v, err := c.Check(engine.SQLite, huge); err != nil || v.Kind != Read {
		t.Fatalf("huge: %+v %v", v, err)
	}
	c.mu.Lock()
	_, cached := c.index[cacheKey{engine.SQLite, huge}]
	c.mu.Unlock()
	if cached {
		t.Error("a text longer than maxCachedSQL was cached")
	}
}

func TestCheckerConcurrent(t *testing.T) {
	c := NewChecker(8)
	sqls := []string{"SELECT 1", "SELECT 2", "DELETE FROM t", "SELECT 1; SELECT 2", "SELECT * FROM t FOR UPDATE", "SELECT sleep(1)"}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				d := allDialects[(g+i)%len(allDialects)]
				sql := sqls[i%len(sqls)]
				v1, e1 := c.Check(d, sql)
				v2, e2 := Check(d, sql)
				if v1 != v2 || fmt.Sprint(e1) != fmt.Sprint(e2) {
					t.Errorf("%s %q: Checker %+v %v, Check %+v %v", d, sql, v1, e1, v2, e2)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestCheckerHitDoesNotAllocate(t *testing.T) {
	c := NewChecker(16)
	const sql = "SELECT id, name FROM customers WHERE id BETWEEN $1 AND $2"
	if _, err := c.Check(engine.Postgres, sql); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() { _, _ = c.Check(engine.Postgres, sql) }); n != 0 {
		t.Errorf("cache hit allocates %v times, want 0", n)
	}
}
