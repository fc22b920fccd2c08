package httpapi

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	_ "modernc.org/sqlite"

	"github.com/dap-platform/dap/internal/app"
	"github.com/dap-platform/dap/internal/config"
	"github.com/dap-platform/dap/internal/correlation"
	"github.com/dap-platform/dap/internal/engine"
	"github.com/dap-platform/dap/internal/mcpserver"
	"github.com/dap-platform/dap/internal/testdb"
)

// password is a DSN password sentinel that must never reach a log line or
// a response.
const password = "S3cr3tPa55"

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

// liteTarget is a read-only target over a tiny SQLite file.
func liteTarget(t *testing.T) config.Target {
	t.Helper()
	path := filepath.Join(t.TempDir(), "lite.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TABLE customers (id integer PRIMARY KEY, name text); INSERT INTO customers VALUES (1, 'Ada'), (2, 'Bob')`); err != nil {
		t.Fatal(err)
	}
	return config.Target{Name: "lite", Engine: engine.SQLite, DSN: path, Access: engine.ReadOnly, MaxConnections: 2,
		MaxRows: 100, MaxResultBytes: engine.DefaultMaxBytes, StatementTimeout: 5 * time.Second}
}

// downTarget is a PostgreSQL target with a password, on a closed port.
func downTarget(t *testing.T, name string) config.Target {
	return config.Target{Name: name, Engine: engine.Postgres, Access: engine.ReadOnly, MaxConnections: 2,
		DSN: fmt.Sprintf("postgres://postgres:%s@127.0.0.1:%d/nowhere?connect_timeout=2", password, testdb.ClosedPort(t))}
}

type server struct {
	base string // http://127.0.0.1:port
	logs *syncBuffer
}

// start serves the targets with Serve on a free port, logging JSON at
// level into a buffer; the server is shut down, and must stop cleanly,
// when the test ends.
func start(t *testing.T, targets []config.Target, o Options, level slog.Level) *server {
	t.Helper()
	logs := &syncBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: level}))
	ctx, cancel := context.WithCancel(context.Background())
	gw, err := app.Build(ctx, &config.Config{Targets: targets}, log)
	if err != nil {
		t.Fatal(err)
	}
	o.Logger = log
	h := New(mcpserver.New(gw, mcpserver.Options{Version: "test", Logger: log}), gw, o)
	addrc := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, "127.0.0.1:0", h, log, func(a net.Addr) { addrc <- a }) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve ended with %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Serve did not stop within 10 s of cancel")
		}
		_ = gw.Close()
		if strings.Contains(logs.String(), password) {
			t.Errorf("the DSN password is in the log:\n%s", logs.String())
		}
	})
	select {
	case a := <-addrc:
		return &server{base: "http://" + a.String(), logs: logs}
	case err := <-done:
		t.Fatalf("Serve: %v", err)
	}
	return nil
}

type response struct {
	code int
	hdr  http.Header
	body string
}

func do(t *testing.T, method, url string, body io.Reader, hdr map[string]string) response {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	r := response{code: resp.StatusCode, hdr: resp.Header, body: string(b)}
	if id := r.hdr.Get(mcpserver.HeaderRequestID); !correlation.Valid(id) {
		t.Errorf("%s %s: response X-Request-Id %q is missing or invalid", method, url, id)
	}
	return r
}

func TestHealthAndRoutes(t *testing.T) {
	s := start(t, []config.Target{liteTarget(t)}, Options{}, slog.LevelDebug)
	tests := []struct {
		method, path string
		code         int
		body         string
	}{
		{"GET", "/healthz", 200, `{"status":"ok"}` + "\n"},
		{"HEAD", "/healthz", 200, ""},
		{"POST", "/healthz", 405, ""},
		{"GET", "/nothing-here", 404, ""},
		{"GET", "/mcp", 400, ""}, // no session, no Accept: event-stream
	}
	for _, tc := range tests {
		t.Run(tc.method+tc.path, func(t *testing.T) {
			r := do(t, tc.method, s.base+tc.path, nil, nil)
			if r.code != tc.code || (tc.body != "" && r.body != tc.body) {
				t.Fatalf("%d %q, want %d %q", r.code, r.body, tc.code, tc.body)
			}
			if tc.body != "" && r.hdr.Get("Content-Type") != "application/json" {
				t.Errorf("content type %q", r.hdr.Get("Content-Type"))
			}
		})
	}
	// The access log names each request at debug level with its id.
	if !strings.Contains(s.logs.String(), `"msg":"http request"`) || !strings.Contains(s.logs.String(), `"path":"/healthz"`) {
		t.Errorf("no access log lines:\n%s", s.logs.String())
	}
}

func TestReadyz(t *testing.T) {
	type target struct {
		Name      string `json:"name"`
		Reachable bool   `json:"reachable"`
		Version   string `json:"server_version"`
		Error     string `json:"error"`
	}
	tests := []struct {
		name      string
		targets   func(t *testing.T) []config.Target
		code      int
		status    string
		reachable map[string]bool
	}{
		{"all reachable", func(t *testing.T) []config.Target { return []config.Target{liteTarget(t)} },
			200, "ready", map[string]bool{"lite": true}},
		{"one of two down", func(t *testing.T) []config.Target { return []config.Target{liteTarget(t), downTarget(t, "down")} },
			200, "ready", map[string]bool{"lite": true, "down": false}},
		{"every target down", func(t *testing.T) []config.Target {
			return []config.Target{downTarget(t, "down"), downTarget(t, "down2")}
		}, 503, "no target reachable", map[string]bool{"down": false, "down2": false}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := start(t, tc.targets(t), Options{}, slog.LevelInfo)
			r := do(t, "GET", s.base+"/readyz", nil, nil)
			var got struct {
				Status  string   `json:"status"`
				Targets []target `json:"targets"`
			}
			if err := json.Unmarshal([]byte(r.body), &got); err != nil {
				t.Fatalf("%d %q: %v", r.code, r.body, err)
			}
			if r.code != tc.code || got.Status != tc.status || len(got.Targets) != len(tc.reachable) {
				t.Fatalf("%d %+v, want %d %q with %d targets", r.code, got, tc.code, tc.status, len(tc.reachable))
			}
			for _, tg := range got.Targets {
				want, ok := tc.reachable[tg.Name]
				if !ok || tg.Reachable != want {
					t.Errorf("target %+v, want reachable %v", tg, want)
				}
				if tg.Reachable && tg.Version == "" {
					t.Errorf("reachable target %s has no server version", tg.Name)
				}
				if !tg.Reachable && tg.Error == "" {
					t.Errorf("unreachable target %s gives no reason", tg.Name)
				}
			}
			if strings.Contains(r.body, password) {
				t.Errorf("readyz shows the DSN password: %s", r.body)
			}
		})
	}
}

// idTransport sets X-Request-Id on every request and remembers the id
// the server answered the tools/call request with.
type idTransport struct {
	send string
	mu   sync.Mutex
	got  string
}

func (it *idTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set(mcpserver.HeaderRequestID, it.send)
	isCall := false
	if r.Body != nil {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, err
		}
		isCall = bytes.Contains(b, []byte(`"tools/call"`))
		r.Body = io.NopCloser(bytes.NewReader(b))
	}
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err == nil && isCall {
		it.mu.Lock()
		it.got = resp.Header.Get(mcpserver.HeaderRequestID)
		it.mu.Unlock()
	}
	return resp, err
}

func TestRequestID(t *testing.T) {
	s := start(t, []config.Target{liteTarget(t)}, Options{}, slog.LevelInfo)
	long := strings.Repeat("a", 100)
	tests := []struct {
		name, send string
		kept       bool
	}{
		{"none", "", false},
		{"valid", "client-id_1.2", true},
		{"64 characters", strings.Repeat("b", 64), true},
		{"100 characters", long, false},
		{"space", "two words", false},
		{"quote", `x"}{"level":"ERROR`, false},
		{"non-ASCII", "idé", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hdr := map[string]string{}
			if tc.send != "" {
				hdr[mcpserver.HeaderRequestID] = tc.send
			}
			got := do(t, "GET", s.base+"/healthz", nil, hdr).hdr.Get(mcpserver.HeaderRequestID)
			if (got == tc.send) != tc.kept {
				t.Errorf("sent %q, got %q; want kept=%v", tc.send, got, tc.kept)
			}
		})
	}

	// A header folded over two lines (a newline inside the value) is
	// refused or replaced, never adopted.
	t.Run("newline", func(t *testing.T) {
		conn, err := net.Dial("tcp", strings.TrimPrefix(s.base, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
		fmt.Fprintf(conn, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Request-Id: abc\r\n def\r\nConnection: close\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if id := resp.Header.Get(mcpserver.HeaderRequestID); strings.Contains(id, "abc") || strings.Contains(id, "def") {
			t.Errorf("folded id adopted as %q", id)
		}
		if resp.StatusCode >= 500 {
			t.Errorf("status %d", resp.StatusCode)
		}
	})

	// The id reaches the tool result's _meta and the log line of the call.
	for _, tc := range []struct {
		name, send string
		kept       bool
	}{{"tool call with a valid id", "trace-7.abc_Z", true}, {"tool call with a too long id", long, false}} {
		t.Run(tc.name, func(t *testing.T) {
			it := &idTransport{send: tc.send}
			cs, err := mcp.NewClient(&mcp.Implementation{Name: "t", Version: "1"}, nil).Connect(context.Background(),
				&mcp.StreamableClientTransport{Endpoint: s.base + "/mcp", HTTPClient: &http.Client{Transport: it}}, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer cs.Close()
			res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "execute_sql",
				Arguments: map[string]any{"target": "lite", "sql": "SELECT name FROM customers ORDER BY id"}})
			if err != nil || res.IsError {
				t.Fatalf("%v %+v", err, res)
			}
			metaID, _ := res.Meta["correlation_id"].(string)
			it.mu.Lock()
			hdrID := it.got
			it.mu.Unlock()
			if metaID != hdrID || (metaID == tc.send) != tc.kept || !correlation.Valid(metaID) {
				t.Errorf("sent %q: _meta.correlation_id %q, response header %q", tc.send, metaID, hdrID)
			}
			if !strings.Contains(s.logs.String(), `"correlation_id":"`+metaID+`"`) {
				t.Errorf("no log line with correlation id %s", metaID)
			}
			// A refused call carries the id in its text, too.
			res, err = cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "execute_sql",
				Arguments: map[string]any{"target": "lite", "sql": "DELETE FROM customers"}})
			if err != nil || !res.IsError {
				t.Fatalf("DELETE: %v %+v", err, res)
			}
			if tc.kept && !strings.Contains(res.Content[0].(*mcp.TextContent).Text, "(correlation id "+tc.send+")") {
				t.Errorf("refusal text lacks the client's id: %q", res.Content[0].(*mcp.TextContent).Text)
			}
		})
	}
}

// session opens an MCP session by hand and returns its id.
func session(t *testing.T, base string) string {
	t.Helper()
	hdr := map[string]string{"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
	r := do(t, "POST", base+"/mcp", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-03-26","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`), hdr)
	id := r.hdr.Get("Mcp-Session-Id")
	if r.code != 200 || id == "" {
		t.Fatalf("initialize: %d %q", r.code, r.body)
	}
	hdr["Mcp-Session-Id"] = id
	if r := do(t, "POST", base+"/mcp", strings.NewReader(`{"jsonrpc":"2.0","method":"notifications/initialized"}`), hdr); r.code != 202 {
		t.Fatalf("initialized: %d %q", r.code, r.body)
	}
	return id
}

func batch(n int, msg string) string {
	var b strings.Builder
	b.WriteByte('[')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, msg, i+100)
	}
	b.WriteByte(']')
	return b.String()
}

// stillServes proves the server answers a real MCP client.
func stillServes(t *testing.T, base string) {
	t.Helper()
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "t", Version: "1"}, nil).Connect(context.Background(),
		&mcp.StreamableClientTransport{Endpoint: base + "/mcp"}, nil)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer cs.Close()
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "execute_sql",
		Arguments: map[string]any{"target": "lite", "sql": "SELECT count(*) FROM customers"}})
	if err != nil || res.IsError {
		t.Fatalf("call: %v %+v", err, res)
	}
}

func TestBodyLimit(t *testing.T) {
	const limit = 64 << 10
	s := start(t, []config.Target{liteTarget(t)}, Options{MaxBodyBytes: limit}, slog.LevelInfo)
	sess := session(t, s.base)
	hdr := map[string]string{"Content-Type": "application/json", "Accept": "application/json, text/event-stream", "Mcp-Session-Id": sess}
	ping := `{"jsonrpc":"2.0","id":7,"method":"ping"}`
	tests := []struct {
		name string
		body func() io.Reader
		code int
	}{
		{"with Content-Length", func() io.Reader { return strings.NewReader(ping + strings.Repeat(" ", limit)) }, 413},
		{"chunked", func() io.Reader { return io.MultiReader(strings.NewReader(ping + strings.Repeat(" ", limit))) }, 413},
		{"tool call over the limit", func() io.Reader {
			return strings.NewReader(`{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"execute_sql","arguments":{"target":"lite","sql":"SELECT '` + strings.Repeat("x", limit) + `'"}}}`)
		}, 413},
		{"exactly at the limit", func() io.Reader { return strings.NewReader(ping + strings.Repeat(" ", limit-len(ping))) }, 200},
		{"chunked at the limit", func() io.Reader {
			return io.MultiReader(strings.NewReader(ping + strings.Repeat(" ", limit-len(ping))))
		}, 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, "POST", s.base+"/mcp", tc.body(), hdr)
			if r.code != tc.code {
				t.Fatalf("%d %.200q, want %d", r.code, r.body, tc.code)
			}
			if tc.code == 413 {
				id := r.hdr.Get(mcpserver.HeaderRequestID)
				if !strings.Contains(r.body, fmt.Sprintf("over the %d-byte limit", limit)) || !strings.Contains(r.body, "(correlation id "+id+")") {
					t.Errorf("413 body %q does not name the limit and correlation id %s", r.body, id)
				}
			}
		})
	}
	stillServes(t, s.base)
}

func TestHostileRequests(t *testing.T) {
	s := start(t, []config.Target{liteTarget(t)}, Options{}, slog.LevelInfo)
	sess := session(t, s.base)
	call := `{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"execute_sql","arguments":{"target":"lite","sql":"SELECT 1"}}}`
	tests := []struct {
		name        string
		contentType string
		body        string
		want        string // in the answer
	}{
		{"malformed JSON", "application/json", `{"jsonrpc":"2.0","id":1,"method":`, "malformed"},
		{"not JSON at all", "application/json", "hello", "malformed"},
		{"empty body", "application/json", "", "body"},
		{"batch of 10000 pings", "application/json", batch(10000, `{"jsonrpc":"2.0","id":%d,"method":"ping"}`), "at most 100"},
		{"batch of 10000 tool calls", "application/json", batch(10000, call), "at most 100"},
		{"101 messages", "application/json", batch(101, call), "at most 100"},
		{"100k nested arrays", "application/json", strings.Repeat("[", 100_000), "nesting depth"},
		{"100k nested objects", "application/json", strings.Repeat(`{"a":`, 100_000), "nesting depth"},
		{"nested params", "application/json", `{"jsonrpc":"2.0","id":1,"method":"ping","params":` + strings.Repeat("[", 100_000) + `}`, ""},
		{"text/plain", "text/plain", `{"jsonrpc":"2.0","id":1,"method":"ping"}`, "Content-Type"},
		{"no content type", "", `{"jsonrpc":"2.0","id":1,"method":"ping"}`, "Content-Type"},
		{"form", "application/x-www-form-urlencoded", "a=1&b=2", "Content-Type"},
		{"unknown method", "application/json", `{"jsonrpc":"2.0","id":1,"method":"no/such"}`, ""},
		{"response without request", "application/json", `{"jsonrpc":"2.0","id":99,"result":{}}`, ""},
	}
	for _, withSession := range []bool{false, true} {
		for _, tc := range tests {
			t.Run(fmt.Sprintf("%s/session=%v", tc.name, withSession), func(t *testing.T) {
				hdr := map[string]string{"Accept": "application/json, text/event-stream"}
				if tc.contentType != "" {
					hdr["Content-Type"] = tc.contentType
				}
				if withSession {
					hdr["Mcp-Session-Id"] = sess
				}
				r := do(t, "POST", s.base+"/mcp", strings.NewReader(tc.body), hdr)
				// A JSON-RPC error inside a 200 is a clean answer too, for
				// messages that are well-formed but wrong.
				clean := r.code >= 400 && r.code < 500
				if !clean && r.code == 200 && tc.want == "" {
					var m map[string]any
					clean = json.Unmarshal([]byte(r.body), &m) == nil && m["error"] != nil
				}
				if !clean && !(r.code == 202 && tc.name == "response without request") {
					t.Fatalf("%d %.300q, want a 4xx", r.code, r.body)
				}
				if tc.want != "" && !strings.Contains(r.body, tc.want) {
					t.Errorf("answer %.300q does not mention %q", r.body, tc.want)
				}
			})
		}
	}
	// An unknown session and an unknown method are 4xx.
	hdr := map[string]string{"Content-Type": "application/json", "Accept": "application/json, text/event-stream", "Mcp-Session-Id": "no-such-session"}
	if r := do(t, "POST", s.base+"/mcp", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"ping"}`), hdr); r.code != 404 {
		t.Errorf("unknown session: %d %q", r.code, r.body)
	}
	if r := do(t, "PUT", s.base+"/mcp", strings.NewReader("{}"), hdr); r.code != 405 {
		t.Errorf("PUT: %d %q", r.code, r.body)
	}

	// Small batches still work (clients of MCP 2025-03-26 may batch).
	hdr["Mcp-Session-Id"] = sess
	r := do(t, "POST", s.base+"/mcp", strings.NewReader(batch(3, `{"jsonrpc":"2.0","id":%d,"method":"ping"}`)), hdr)
	var answers []map[string]any
	if err := json.Unmarshal([]byte(r.body), &answers); r.code != 200 || err != nil || len(answers) != 3 {
		t.Errorf("batch of 3 pings: %d %q", r.code, r.body)
	}
	if strings.Contains(s.logs.String(), "panic") {
		t.Errorf("a request panicked:\n%s", s.logs.String())
	}
	stillServes(t, s.base)
}

func TestPanicRecovery(t *testing.T) {
	var logs syncBuffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	h := chain(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }), log, 1<<10)
	srv := &http.Server{Handler: h}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	r := do(t, "GET", "http://"+ln.Addr().String()+"/x", nil, nil)
	id := r.hdr.Get(mcpserver.HeaderRequestID)
	if r.code != 500 || !strings.Contains(r.body, "internal error (correlation id "+id+")") {
		t.Errorf("%d %q", r.code, r.body)
	}
	if !strings.Contains(logs.String(), `"msg":"panic serving request"`) || !strings.Contains(logs.String(), id) {
		t.Errorf("panic not logged with its id:\n%s", logs.String())
	}
}

func TestServeListenError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	err = Serve(context.Background(), ln.Addr().String(), http.NotFoundHandler(), slog.New(slog.DiscardHandler), nil)
	if err == nil || !strings.Contains(err.Error(), "listen on "+ln.Addr().String()) {
		t.Errorf("Serve on a busy address: %v", err)
	}
}

// TestLogHygiene runs calls on a PostgreSQL target with an info-level JSON
// log and checks what the log holds: the correlation ids, and none of the
// DSN password, SQL literal values, procedure argument values or result
// cells.
func TestLogHygiene(t *testing.T) {
	ctx := context.Background()
	base := testdb.Postgres(t, "httpapi")
	c, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Exec(ctx, `
CREATE TABLE secrets (id int PRIMARY KEY, v text NOT NULL);
INSERT INTO secrets VALUES (1, 'CellSentinel55');
CREATE FUNCTION greet(label text) RETURNS text LANGUAGE sql STABLE AS $$ SELECT 'hello ' || label $$;
CREATE FUNCTION twice(n int) RETURNS int LANGUAGE sql STABLE AS $$ SELECT n * 2 $$;`)
	_ = c.Close(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Trust authentication ignores the password, so the sentinel is in a
	// DSN that works.
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(u.User.Username(), password)
	pg := config.Target{Name: "pg", Engine: engine.Postgres, DSN: u.String(), Access: engine.ReadOnly, MaxConnections: 2,
		MaxRows: 100, MaxResultBytes: engine.DefaultMaxBytes, StatementTimeout: 5 * time.Second,
		Procedures: []string{"greet", "twice"}}
	s := start(t, []config.Target{pg, downTarget(t, "down")}, Options{}, slog.LevelInfo)

	cs, err := mcp.NewClient(&mcp.Implementation{Name: "t", Version: "1"}, nil).Connect(ctx, &mcp.StreamableClientTransport{Endpoint: s.base + "/mcp"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	calls := []struct {
		tool    string
		args    map[string]any
		isError bool
	}{
		{"execute_sql", map[string]any{"target": "pg", "sql": "SELECT 'SqlLiteral77' AS a, v FROM secrets WHERE v <> 'SqlLiteral78'"}, false},
		{"execute_sql", map[string]any{"target": "pg", "sql": "DELETE FROM secrets WHERE v = 'RefusedLiteral88'"}, true},
		{"execute_sql", map[string]any{"target": "pg", "sql": "SELECT no_such_column FROM secrets WHERE v <> 'FailingLiteral66'"}, true},
		{"execute_procedure", map[string]any{"target": "pg", "procedure": "greet", "args": map[string]any{"label": "ProcArgSentinel99"}}, false},
		{"execute_procedure", map[string]any{"target": "pg", "procedure": "twice", "args": map[string]any{"n": "BadArgSentinel44"}}, true},
		{"explain_query", map[string]any{"target": "pg", "sql": "SELECT * FROM secrets WHERE v = 'ExplainLiteral33'", "analyze": true}, false},
		{"execute_sql", map[string]any{"target": "down", "sql": "SELECT 'DownLiteral22'"}, true},
		{"list_targets", nil, false},
	}
	var ids []string
	for _, c := range calls {
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: c.tool, Arguments: c.args})
		if err != nil {
			t.Fatalf("%s: %v", c.tool, err)
		}
		if res.IsError != c.isError {
			t.Fatalf("%s(%v): isError %v, want %v: %+v", c.tool, c.args, res.IsError, c.isError, res.Content)
		}
		if c.tool != "list_targets" { // list_targets only pings: no log line
			ids = append(ids, res.Meta["correlation_id"].(string))
		}
	}
	logs := s.logs.String()
	for _, id := range ids {
		if !strings.Contains(logs, `"correlation_id":"`+id+`"`) {
			t.Errorf("log has no line with correlation id %s", id)
		}
	}
	for _, secret := range []string{password, "SqlLiteral77", "SqlLiteral78", "RefusedLiteral88", "FailingLiteral66",
		"CellSentinel55", "ProcArgSentinel99", "BadArgSentinel44", "ExplainLiteral33", "DownLiteral22"} {
		if strings.Contains(logs, secret) {
			t.Errorf("log contains %q:\n%s", secret, logs)
		}
	}
	if !strings.Contains(logs, `"level":"WARN"`) {
		t.Errorf("refused calls left no warning:\n%s", logs)
	}
}
