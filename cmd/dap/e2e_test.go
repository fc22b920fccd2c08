package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/dap-platform/dap/internal/demo"
	"github.com/dap-platform/dap/internal/testdb"
)

// The test binary doubles as the dap binary for the stdio end-to-end test:
// started with DAP_E2E_MAIN=1 it runs main() on its arguments.
func TestMain(m *testing.M) {
	if os.Getenv("DAP_E2E_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	dir, err := os.MkdirTemp("", "dap-e2e-demo-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	sharedDemoDir = dir
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// The demo database is generated once per test binary (it takes seconds
// under the race detector) and shared read-only by the tests.
var (
	sharedDemoDir  string
	sharedDemoOnce sync.Once
	sharedDemoPath string
	sharedDemoErr  error
)

func demoDB(t *testing.T) string {
	t.Helper()
	sharedDemoOnce.Do(func() {
		sharedDemoPath, _, sharedDemoErr = demo.Ensure(context.Background(), filepath.Join(sharedDemoDir, "demo"))
	})
	if sharedDemoErr != nil {
		t.Fatalf("demo: %v", sharedDemoErr)
	}
	return sharedDemoPath
}

// syncBuffer is a bytes.Buffer safe for a command writing while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

const pgFixture = `
CREATE TABLE customers (id serial PRIMARY KEY, name text NOT NULL, email text UNIQUE, created_at timestamptz NOT NULL DEFAULT now());
COMMENT ON TABLE customers IS 'people who buy';
CREATE TABLE orders (id serial PRIMARY KEY, customer_id int NOT NULL REFERENCES customers(id), total numeric(12,2) NOT NULL, created_at date NOT NULL);
CREATE INDEX orders_customer ON orders(customer_id);
INSERT INTO customers(name, email) SELECT 'name ' || g, 'c' || g || '@example.com' FROM generate_series(1, 50) g;
INSERT INTO orders(customer_id, total, created_at) SELECT 1 + g % 50, (g * 1.25)::numeric(12,2), DATE '2024-01-01' + g % 300 FROM generate_series(1, 500) g;
CREATE FUNCTION order_count(cust int, since date DEFAULT '2000-01-01') RETURNS bigint LANGUAGE sql STABLE AS $$ SELECT count(*) FROM orders WHERE customer_id = cust AND created_at >= since $$;
CREATE FUNCTION wipe() RETURNS void LANGUAGE sql AS $$ DELETE FROM orders $$;
ANALYZE;
`

var mysqlFixture = []string{
	`CREATE TABLE customers (id int AUTO_INCREMENT PRIMARY KEY, name varchar(100) NOT NULL, email varchar(200) UNIQUE, created_at datetime NOT NULL DEFAULT CURRENT_TIMESTAMP) COMMENT='people who buy'`,
	`CREATE TABLE orders (id int AUTO_INCREMENT PRIMARY KEY, customer_id int NOT NULL, total decimal(12,2) NOT NULL, created_at date NOT NULL, KEY orders_customer (customer_id), CONSTRAINT orders_fk FOREIGN KEY (customer_id) REFERENCES customers(id))`,
	`INSERT INTO customers(name, email) WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n+1 FROM g WHERE n < 50) SELECT CONCAT('name ', n), CONCAT('c', n, '@example.com') FROM g`,
	`INSERT INTO orders(customer_id, total, created_at) WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n+1 FROM g WHERE n < 500) SELECT 1 + n % 50, n * 1.25, DATE '2024-01-01' + INTERVAL (n % 300) DAY FROM g`,
	`CREATE PROCEDURE order_count(IN cust int) READS SQL DATA SELECT count(*) AS n FROM orders WHERE customer_id = cust`,
	`ANALYZE TABLE customers, orders`,
}

type estate struct {
	configPath string
	pgDSN      string
	myDSN      string
}

// setupEstate builds one PostgreSQL database, one MariaDB database and the
// SQLite demo, and a dap.yaml naming all of them (the PostgreSQL database
// twice: read-only and read-write).
func setupEstate(t *testing.T) estate {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	pgDSN := testdb.Postgres(t, "e2e")
	c, err := pgx.Connect(ctx, pgDSN)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(ctx, pgFixture); err != nil {
		t.Fatalf("postgres fixture: %v", err)
	}
	_ = c.Close(ctx)
	myDSN := testdb.MySQL(t, "e2e")
	db, err := sql.Open("mysql", myDSN)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range mysqlFixture {
		if _, err := db.ExecContext(ctx, s); err != nil {
			t.Fatalf("mysql fixture %q: %v", s, err)
		}
	}
	_ = db.Close()
	shop := demoDB(t)
	t.Setenv("E2E_PG_DSN", pgDSN)
	t.Setenv("E2E_MY_DSN", myDSN)
	cfg := fmt.Sprintf(`listen: 127.0.0.1:0
targets:
  - name: pg
    engine: postgres
    dsn: ${E2E_PG_DSN}
    max_rows: 100
    procedures: [public.order_count]
  - name: pgrw
    engine: postgres
    dsn: ${E2E_PG_DSN}
    access: read-write
  - name: maria
    engine: mysql
    dsn: ${E2E_MY_DSN}
    procedures: [order_count]
  - name: shop
    engine: sqlite
    dsn: %s
    statement_timeout: 5s
# The suite calls back to back, faster than any assistant: no rate limit.
auth:
  rate_limit: {requests_per_second: 0}
`, shop)
	path := filepath.Join(dir, "dap.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return estate{configPath: path, pgDSN: pgDSN, myDSN: myDSN}
}

var urlRe = regexp.MustCompile(`http://127\.0\.0\.1:\d+/mcp`)

// startServe runs `dap serve` in-process and returns the MCP URL.
func startServe(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out, errOut := &syncBuffer{}, &syncBuffer{}
	cmd := newRoot(out, errOut)
	cmd.SetArgs(args)
	done := make(chan error, 1)
	go func() { done <- cmd.ExecuteContext(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve ended with %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("serve did not stop within 15 s")
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if u := urlRe.FindString(out.String() + errOut.String()); u != "" {
			return u
		}
		select {
		case err := <-done:
			t.Fatalf("serve ended early: %v\nstderr: %s", err, errOut.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("serve printed no URL; stderr: %s", errOut.String())
	return ""
}

func connectHTTP(t *testing.T, url string) *mcp.ClientSession {
	t.Helper()
	client := mcp.NewClient(&mcp.Implementation{Name: "dap-e2e", Version: "1"}, nil)
	s, err := client.Connect(context.Background(), &mcp.StreamableClientTransport{Endpoint: url}, nil)
	if err != nil {
		t.Fatalf("connect %s: %v", url, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// call runs a tool and returns its result, its structured content decoded
// into a map, and its text.
func call(t *testing.T, s *mcp.ClientSession, tool string, args map[string]any) (*mcp.CallToolResult, map[string]any, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := s.CallTool(ctx, &mcp.CallToolParams{Name: tool, Arguments: args})
	if err != nil {
		t.Fatalf("%s(%v): protocol error %v", tool, args, err)
	}
	var text strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			text.WriteString(tc.Text)
		}
	}
	var m map[string]any
	if res.StructuredContent != nil {
		b, _ := json.Marshal(res.StructuredContent)
		_ = json.Unmarshal(b, &m)
	}
	if id, _ := res.Meta["correlation_id"].(string); id == "" {
		t.Errorf("%s: result has no correlation_id in _meta", tool)
	}
	return res, m, text.String()
}

func mustOK(t *testing.T, s *mcp.ClientSession, tool string, args map[string]any) (map[string]any, string) {
	t.Helper()
	res, m, text := call(t, s, tool, args)
	if res.IsError {
		t.Fatalf("%s(%v) failed: %s", tool, args, text)
	}
	return m, text
}

func mustFail(t *testing.T, s *mcp.ClientSession, tool string, args map[string]any, wantParts ...string) string {
	t.Helper()
	res, _, text := call(t, s, tool, args)
	if !res.IsError {
		t.Fatalf("%s(%v) succeeded, want an error containing %q: %s", tool, args, wantParts, text)
	}
	for _, p := range wantParts {
		if !strings.Contains(strings.ToLower(text), strings.ToLower(p)) {
			t.Errorf("%s(%v) error %q does not mention %q", tool, args, text, p)
		}
	}
	if !strings.Contains(text, "correlation id") {
		t.Errorf("error text has no correlation id: %q", text)
	}
	return text
}

func TestServeAllToolsOnAllEngines(t *testing.T) {
	est := setupEstate(t)
	url := startServe(t, "serve", "--config", est.configPath, "--log-level", "warn")
	s := connectHTTP(t, url)
	exerciseTools(t, s, est)
}

func TestStdioTransport(t *testing.T) {
	est := setupEstate(t)
	cmd := exec.Command(os.Args[0], "mcp", "--config", est.configPath, "--log-level", "warn")
	cmd.Env = append(os.Environ(), "DAP_E2E_MAIN=1")
	var stderr syncBuffer
	cmd.Stderr = &stderr
	client := mcp.NewClient(&mcp.Implementation{Name: "dap-e2e-stdio", Version: "1"}, nil)
	s, err := client.Connect(context.Background(), &mcp.CommandTransport{Command: cmd}, nil)
	if err != nil {
		t.Fatalf("connect over stdio: %v (stderr: %s)", err, stderr.String())
	}
	defer s.Close()
	m, _ := mustOK(t, s, "list_targets", nil)
	if n := len(m["targets"].([]any)); n != 4 {
		t.Fatalf("stdio list_targets: %d targets, want 4", n)
	}
	m, _ = mustOK(t, s, "execute_sql", map[string]any{"target": "shop", "sql": "SELECT count(*) AS n FROM customers"})
	if n := m["rows"].([]any)[0].([]any)[0].(float64); n < 9000 {
		t.Fatalf("stdio: demo has %v customers, want about 10,000", n)
	}
	mustFail(t, s, "execute_sql", map[string]any{"target": "pg", "sql": "DELETE FROM orders"}, "refused", "write")
}

// exerciseTools answers every tool on every engine.
func exerciseTools(t *testing.T, s *mcp.ClientSession, est estate) {
	ctx := context.Background()
	tools, err := s.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"list_targets": false, "list_schemas": false, "list_tables": false, "describe_table": false,
		"execute_sql": false, "explain_query": false, "execute_procedure": false, "list_procedures": false}
	for _, tl := range tools.Tools {
		if _, ok := want[tl.Name]; ok {
			want[tl.Name] = true
			if tl.Description == "" || tl.InputSchema == nil {
				t.Errorf("tool %s lacks a description or input schema", tl.Name)
			}
		}
	}
	for n, seen := range want {
		if !seen {
			t.Errorf("tool %s is not listed", n)
		}
	}

	m, text := mustOK(t, s, "list_targets", nil)
	for _, tv := range m["targets"].([]any) {
		ti := tv.(map[string]any)
		if ti["reachable"] != true {
			t.Errorf("target %v not reachable: %v", ti["name"], ti["error"])
		}
	}
	if !strings.Contains(text, "pg: postgres, read-only") {
		t.Errorf("list_targets text: %q", text)
	}

	for _, target := range []string{"pg", "maria", "shop"} {
		t.Run(target, func(t *testing.T) {
			m, _ := mustOK(t, s, "list_schemas", map[string]any{"target": target})
			if len(m["schemas"].([]any)) == 0 {
				t.Errorf("no schemas")
			}
			m, _ = mustOK(t, s, "list_tables", map[string]any{"target": target, "pattern": "order*"})
			names := map[string]bool{}
			for _, tv := range m["tables"].([]any) {
				names[tv.(map[string]any)["name"].(string)] = true
			}
			if !names["orders"] || names["customers"] {
				t.Errorf("list_tables order*: %v", names)
			}
			m, text := mustOK(t, s, "describe_table", map[string]any{"target": target, "table": "orders"})
			if len(m["columns"].([]any)) < 4 || len(m["foreign_keys"].([]any)) != 1 {
				t.Errorf("describe orders: %s", text)
			}
			m, _ = mustOK(t, s, "describe_table", map[string]any{"target": target, "table": "customers"})
			if len(m["referenced_by"].([]any)) == 0 {
				t.Errorf("customers should be referenced by orders")
			}
			mustFail(t, s, "describe_table", map[string]any{"target": target, "table": "no_such_table"}, "not found")

			m, _ = mustOK(t, s, "execute_sql", map[string]any{"target": target, "sql": "SELECT id, customer_id FROM orders ORDER BY id", "max_rows": 7})
			if m["row_count"].(float64) != 7 || m["truncated"] != true || m["statement_kind"] != "read" {
				t.Errorf("capped select: %v rows, truncated %v, kind %v", m["row_count"], m["truncated"], m["statement_kind"])
			}
			mustFail(t, s, "execute_sql", map[string]any{"target": target, "sql": "DELETE FROM orders"}, "refused", "write")
			mustFail(t, s, "execute_sql", map[string]any{"target": target, "sql": "SELECT 1; DROP TABLE orders"}, "refused")
			mustFail(t, s, "execute_sql", map[string]any{"target": target, "sql": "COMMIT"}, "refused")
			mustFail(t, s, "execute_sql", map[string]any{"target": target, "sql": "SELEC 1"}, "refused")

			m, text = mustOK(t, s, "explain_query", map[string]any{"target": target, "sql": "SELECT * FROM orders WHERE customer_id = 3"})
			if m["plan"] == nil || m["summary"] == nil {
				t.Errorf("explain: %s", text)
			}
			mustOK(t, s, "explain_query", map[string]any{"target": target, "sql": "SELECT count(*) FROM orders", "analyze": true})
			mustFail(t, s, "explain_query", map[string]any{"target": target, "sql": "DELETE FROM orders", "analyze": true}, "refused", "analyze")
		})
	}
	mustFail(t, s, "execute_sql", map[string]any{"target": "nope", "sql": "SELECT 1"}, "unknown target", "list_targets")

	// Procedures: allow-listed with validated arguments; others forbidden.
	m, _ = mustOK(t, s, "list_procedures", map[string]any{"target": "pg"})
	if len(m["procedures"].([]any)) != 1 {
		t.Errorf("pg list_procedures: %v", m)
	}
	m, _ = mustOK(t, s, "execute_procedure", map[string]any{"target": "pg", "procedure": "order_count", "args": map[string]any{"cust": 3}})
	if got := m["rows"].([]any)[0].([]any)[0]; fmt.Sprint(got) != "10" {
		t.Errorf("pg order_count(3) = %v, want 10", got)
	}
	mustFail(t, s, "execute_procedure", map[string]any{"target": "pg", "procedure": "order_count", "args": map[string]any{"cust": "3; DROP TABLE orders"}}, "want an integer")
	mustFail(t, s, "execute_procedure", map[string]any{"target": "pg", "procedure": "wipe"}, "allow-list")
	m, _ = mustOK(t, s, "execute_procedure", map[string]any{"target": "maria", "procedure": "order_count", "args": map[string]any{"cust": 3}})
	if got := m["rows"].([]any)[0].([]any)[0]; fmt.Sprint(got) != "10" {
		t.Errorf("maria order_count(3) = %v, want 10", got)
	}

	// A read-write target runs writes and still refuses DDL.
	m, _ = mustOK(t, s, "execute_sql", map[string]any{"target": "pgrw", "sql": "UPDATE customers SET name = 'renamed' WHERE id = 1"})
	if m["rows_affected"].(float64) != 1 || m["statement_kind"] != "write" {
		t.Errorf("update on read-write: %v", m)
	}
	mustFail(t, s, "execute_sql", map[string]any{"target": "pgrw", "sql": "DROP TABLE orders"}, "refused", "ddl")

	// Resources: a schema overview per target and the table template.
	rl, err := s.ListResources(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rl.Resources) != 4 {
		t.Errorf("resources: %d, want 4", len(rl.Resources))
	}
	rr, err := s.ReadResource(ctx, &mcp.ReadResourceParams{URI: "dap://pg/schema"})
	if err != nil || !strings.Contains(rr.Contents[0].Text, "| orders |") {
		t.Errorf("read dap://pg/schema: %v %v", err, rr)
	}
	rr, err = s.ReadResource(ctx, &mcp.ReadResourceParams{URI: "dap://maria/tables/customers"})
	if err != nil || !strings.Contains(rr.Contents[0].Text, `"email"`) {
		t.Errorf("read table template: %v %v", err, rr)
	}

	// Nothing was changed by the refused statements.
	c, err := pgx.Connect(ctx, est.pgDSN)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	var n int
	if err := c.QueryRow(ctx, "SELECT count(*) FROM orders").Scan(&n); err != nil || n != 500 {
		t.Errorf("orders after the run: %d (%v), want 500", n, err)
	}
}
