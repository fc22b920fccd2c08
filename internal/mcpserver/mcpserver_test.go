package mcpserver

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	_ "modernc.org/sqlite"

	"github.com/dap-platform/dap/internal/app"
	"github.com/dap-platform/dap/internal/config"
	"github.com/dap-platform/dap/internal/engine"
	"github.com/dap-platform/dap/internal/gateway"
	"github.com/dap-platform/dap/internal/guard"
)

// liteFile writes a tiny SQLite database: customers with awkward cell
// values (tabs, newlines, NULL, multi-byte text).
func liteFile(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "lite.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, s := range []string{
		`CREATE TABLE customers (id integer PRIMARY KEY, name text NOT NULL, note text)`,
		`INSERT INTO customers VALUES (1, 'Ada', 'likes	tabs'), (2, 'Bob', NULL), (3, 'Céline', 'two
lines')`,
	} {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	return path
}

// connect serves a gateway over one SQLite target through in-memory
// transports and returns the client session.
func connect(t *testing.T) *mcp.ClientSession {
	t.Helper()
	ctx := context.Background()
	cfg := &config.Config{Targets: []config.Target{{
		Name: "lite", Engine: engine.SQLite, DSN: liteFile(t), Access: engine.ReadOnly, MaxConnections: 2,
		MaxRows: 100, MaxResultBytes: engine.DefaultMaxBytes, StatementTimeout: 5 * time.Second,
	}}}
	gw, err := app.Build(ctx, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = gw.Close() })
	srv := New(gw, Options{Version: "test"})
	ct, st := mcp.NewInMemoryTransports()
	ss, err := srv.Connect(ctx, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ss.Close() })
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "mcpserver-test", Version: "1"}, nil).Connect(ctx, ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cs.Close() })
	return cs
}

func resultText(r *mcp.CallToolResult) string {
	var b strings.Builder
	for _, c := range r.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}

func TestToolArgumentErrors(t *testing.T) {
	s := connect(t)
	huge := "SELECT 1 -- " + strings.Repeat("x", 1<<20)
	tests := []struct {
		name string
		tool string
		args any
		want []string // all must appear, case-insensitive
	}{
		{"unknown field", "execute_sql", map[string]any{"target": "lite", "sql": "SELECT 1", "bogus_field": 1}, []string{"arguments of execute_sql", "bogus_field"}},
		{"wrong type", "execute_sql", map[string]any{"target": "lite", "sql": "SELECT 1", "max_rows": "ten"}, []string{"arguments of execute_sql", "max_rows"}},
		{"wrong type, huge value", "execute_sql", map[string]any{"target": "lite", "sql": "SELECT 1", "max_rows": strings.Repeat("z", 100_000)}, []string{"arguments of execute_sql", "max_rows"}},
		{"missing target", "execute_sql", map[string]any{"sql": "SELECT 1"}, []string{"arguments of execute_sql", "target"}},
		{"missing target list_tables", "list_tables", map[string]any{}, []string{"arguments of list_tables", "target"}},
		{"null target", "describe_table", map[string]any{"target": nil, "table": "customers"}, []string{"arguments of describe_table", "target"}},
		{"empty sql", "execute_sql", map[string]any{"target": "lite", "sql": ""}, []string{"empty sql"}},
		{"blank sql", "execute_sql", map[string]any{"target": "lite", "sql": " \n\t "}, []string{"empty sql"}},
		{"sql over 1 MiB", "execute_sql", map[string]any{"target": "lite", "sql": huge}, []string{"over the 1048576-byte limit"}},
		{"explain sql over 1 MiB", "explain_query", map[string]any{"target": "lite", "sql": huge}, []string{"1048576 bytes"}},
		{"negative max_rows", "execute_sql", map[string]any{"target": "lite", "sql": "SELECT 1", "max_rows": -1}, []string{"max_rows"}},
		{"arguments over 2 MiB", "execute_sql", map[string]any{"target": "lite", "sql": strings.Repeat("y", 3<<20)}, []string{"over the 2097152-byte limit"}},
		{"unknown target", "list_schemas", map[string]any{"target": "nope"}, []string{"unknown target", "lite", "list_targets"}},
		{"args not an object", "execute_procedure", map[string]any{"target": "lite", "procedure": "p", "args": []any{1, 2}}, []string{"arguments of execute_procedure", "args"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := s.CallTool(context.Background(), &mcp.CallToolParams{Name: tc.tool, Arguments: tc.args})
			if err != nil {
				t.Fatalf("protocol error, want an isError result: %v", err)
			}
			text := resultText(res)
			if !res.IsError {
				t.Fatalf("succeeded, want an error: %.200s", text)
			}
			for _, w := range tc.want {
				if !strings.Contains(strings.ToLower(text), strings.ToLower(w)) {
					t.Errorf("error %.300q does not mention %q", text, w)
				}
			}
			id, _ := res.Meta["correlation_id"].(string)
			if id == "" || !strings.HasSuffix(text, "(correlation id "+id+")") {
				t.Errorf("error %.300q does not end with the correlation id %q from _meta", text, id)
			}
			if len(text) > 4000 {
				t.Errorf("error text is %d bytes; it should not echo the arguments back", len(text))
			}
		})
	}
	// The session still serves after all that.
	res, err := s.CallTool(context.Background(), &mcp.CallToolParams{Name: "execute_sql", Arguments: map[string]any{"target": "lite", "sql": "SELECT count(*) AS n FROM customers"}})
	if err != nil || res.IsError {
		t.Fatalf("after the errors: %v %s", err, resultText(res))
	}
	if !strings.Contains(resultText(res), "n\n3\n") {
		t.Errorf("count text: %q", resultText(res))
	}
}

func TestResourceErrors(t *testing.T) {
	s := connect(t)
	ctx := context.Background()
	for _, uri := range []string{
		"dap://nope/schema",
		"dap://lite/nothing",
		"dap://lite/tables/",
		"dap://lite/tables/no_such_table",
		"dap://nope/tables/customers",
		"dap://lite/tables/%zz",
		"dap://",
		"file:///etc/passwd",
	} {
		t.Run(uri, func(t *testing.T) {
			res, err := s.ReadResource(ctx, &mcp.ReadResourceParams{URI: uri})
			if err == nil {
				t.Fatalf("read succeeded, want an error: %+v", res)
			}
		})
	}
	res, err := s.ReadResource(ctx, &mcp.ReadResourceParams{URI: "dap://lite/tables/customers"})
	if err != nil || !strings.Contains(res.Contents[0].Text, `"note"`) {
		t.Fatalf("valid read after the errors: %v %+v", err, res)
	}
	res, err = s.ReadResource(ctx, &mcp.ReadResourceParams{URI: "dap://lite/schema"})
	if err != nil || !strings.Contains(res.Contents[0].Text, "| customers |") {
		t.Fatalf("schema overview: %v %+v", err, res)
	}
}

// A tool result's text and structured content agree with the database,
// including the awkward cells.
func TestExecuteSQLRendering(t *testing.T) {
	s := connect(t)
	res, err := s.CallTool(context.Background(), &mcp.CallToolParams{Name: "execute_sql",
		Arguments: map[string]any{"target": "lite", "sql": "SELECT id, name, note FROM customers ORDER BY id"}})
	if err != nil || res.IsError {
		t.Fatalf("%v %s", err, resultText(res))
	}
	want := "id\tname\tnote\n1\tAda\tlikes tabs\n2\tBob\tNULL\n3\tCéline\ttwo lines\n"
	if text := resultText(res); !strings.HasSuffix(text, want) || !strings.HasPrefix(text, "SELECT (read): 3 row(s) in ") {
		t.Errorf("text:\n%s\nwant it to end with:\n%s", text, want)
	}
	b, _ := json.Marshal(res.StructuredContent)
	var out gateway.ExecResult
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if out.RowCount != 3 || out.Rows[0][2] != "likes\ttabs" || out.Rows[1][2] != nil {
		t.Errorf("structured content changed the values: %s", b)
	}
}

func TestRenderExec(t *testing.T) {
	cols := []engine.Column{{Name: "id"}, {Name: "v"}}
	many := make([][]any, 25)
	for i := range many {
		many[i] = []any{i + 1, fmt.Sprintf("r%d", i+1)}
	}
	tests := []struct {
		name     string
		in       gateway.ExecResult
		want     []string // lines, in order, after the header line
		header   []string // parts of the header line
		notInAll []string
	}{
		{
			name: "awkward cells",
			in: gateway.ExecResult{Statement: "SELECT", StatementKind: "read", RowCount: 4, ElapsedMs: 1.25, Columns: cols,
				Rows: [][]any{
					{1, "a\tb"}, {2, "line1\nline2\r\nline3"}, {3, nil}, {4, map[string]any{"k": "x\ny"}},
				}},
			header: []string{"SELECT (read): 4 row(s) in 1.2 ms"},
			want:   []string{"id\tv", "1\ta b", "2\tline1 line2  line3", "3\tNULL", "4\t" + `{"k":"x\ny"}`},
		},
		{
			name: "column names with tabs and newlines stay one TSV line",
			in: gateway.ExecResult{Statement: "SELECT", StatementKind: "read", RowCount: 1,
				Columns: []engine.Column{{Name: "a\tb"}, {Name: "c\nd"}}, Rows: [][]any{{1, 2}}},
			want: []string{"a b\tc d", "1\t2"},
		},
		{
			name: "truncated",
			in: gateway.ExecResult{Statement: "SELECT", StatementKind: "read", RowCount: 2, Truncated: true, TruncatedBy: "max_rows",
				Columns: cols, Rows: [][]any{{1, "x"}, {2, "y"}}},
			header: []string{"2 row(s)", "TRUNCATED by max_rows - filter, aggregate or add LIMIT"},
			want:   []string{"id\tv", "1\tx", "2\ty"},
		},
		{
			name:   "20-row text limit",
			in:     gateway.ExecResult{Statement: "SELECT", StatementKind: "read", RowCount: 25, Columns: cols, Rows: many},
			header: []string{"25 row(s)"},
			want: append(append([]string{"id\tv"}, func() []string {
				var l []string
				for i := 1; i <= 20; i++ {
					l = append(l, fmt.Sprintf("%d\tr%d", i, i))
				}
				return l
			}()...), "... 5 more row(s) in structured content"),
			notInAll: []string{"r21", "r25"},
		},
		{
			name:   "write without columns",
			in:     gateway.ExecResult{Statement: "UPDATE", StatementKind: "write", RowsAffected: 3, Columns: []engine.Column{}, Rows: [][]any{}},
			header: []string{"UPDATE (write): 0 row(s)", "3 row(s) affected"},
		},
		{
			name: "long cell clipped",
			in: gateway.ExecResult{Statement: "SELECT", StatementKind: "read", RowCount: 1, Columns: cols[:1],
				Rows: [][]any{{strings.Repeat("é", 100)}}},
			want: []string{"id", strings.Repeat("é", textCellMax/2) + "..."},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := renderExec(&tc.in)
			lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
			for _, h := range tc.header {
				if !strings.Contains(lines[0], h) {
					t.Errorf("header %q lacks %q", lines[0], h)
				}
			}
			if strings.Contains(lines[0], "TRUNCATED") != tc.in.Truncated {
				t.Errorf("header %q: truncation notice must appear exactly when truncated", lines[0])
			}
			if got, want := strings.Join(lines[1:], "\n"), strings.Join(tc.want, "\n"); got != want {
				t.Errorf("body:\n%s\nwant:\n%s", got, want)
			}
			for _, no := range tc.notInAll {
				if strings.Contains(got, no) {
					t.Errorf("rendering contains %q, beyond the text row limit", no)
				}
			}
			// Every data line has as many fields as there are columns.
			if n := len(tc.in.Columns); n > 0 {
				for _, l := range lines[1:] {
					if strings.HasPrefix(l, "... ") {
						continue
					}
					if f := strings.Count(l, "\t") + 1; f != n {
						t.Errorf("line %q has %d fields, want %d", l, f, n)
					}
				}
			}
		})
	}
}

func TestClip(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"abcdefghijk", 10, "abcdefghij..."},
		{"ééééé", 3, "é..."},   // 2-byte runes: byte 3 is inside the second é
		{"ééééé", 4, "éé..."},  // on a boundary
		{"日本語テキスト", 4, "日..."}, // 3-byte runes
		{"日本語テキスト", 2, "..."},  // not even one rune fits
		{"😀😀", 5, "😀..."},      // 4-byte rune
		{"aé", 0, "..."},
	}
	for _, tc := range tests {
		got := clip(tc.in, tc.n)
		if got != tc.want {
			t.Errorf("clip(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
		if !utf8.ValidString(got) {
			t.Errorf("clip(%q, %d) = %q is not valid UTF-8", tc.in, tc.n, got)
		}
	}
}

func TestDescribeError(t *testing.T) {
	tests := []struct {
		err      error
		kind     string
		contains string
	}{
		{fmt.Errorf("x: %w", guard.ErrRefused), "refused", "x"},
		{fmt.Errorf("%w: not on the list", gateway.ErrForbidden), "forbidden", "not on the list"},
		{fmt.Errorf("%w \"q\"", gateway.ErrUnknownTarget), "not_found", "call list_targets"},
		{fmt.Errorf("table t: %w", engine.ErrNotFound), "not_found", "table t"},
		{fmt.Errorf("slow: %w", engine.ErrTimeout), "timeout", "explain_query"},
		{fmt.Errorf("w: %w", engine.ErrReadOnly), "refused", "read-only target"},
		{fmt.Errorf("down: %w", engine.ErrUnavailable), "unavailable", "down"},
		{fmt.Errorf("%w: bad", engine.ErrInvalid), "invalid", "bad"},
		{context.Canceled, "canceled", "canceled"},
		{&engine.DBError{Code: "42P01", Message: "relation \"zz\" does not exist"}, "database_error", "database error"},
		{errors.New("other"), "error", "other"},
	}
	for _, tc := range tests {
		res := errorResult("ID123", tc.err)
		text := resultText(res)
		if !res.IsError || res.Meta["error_kind"] != tc.kind || res.Meta["correlation_id"] != "ID123" {
			t.Errorf("%v: isError %v, meta %v; want kind %s", tc.err, res.IsError, res.Meta, tc.kind)
		}
		if !strings.Contains(text, tc.contains) || !strings.HasSuffix(text, "(correlation id ID123)") {
			t.Errorf("%v: text %q, want it to contain %q and end with the correlation id", tc.err, text, tc.contains)
		}
	}
}
