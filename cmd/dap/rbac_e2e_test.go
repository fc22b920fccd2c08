package main

import (
	"context"
	"database/sql"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// bearer adds an API key to every request.
type bearer struct {
	key  string
	next http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.key)
	return b.next.RoundTrip(r)
}

func connectAs(t *testing.T, url, key string) *mcp.ClientSession {
	t.Helper()
	client := mcp.NewClient(&mcp.Implementation{Name: "dap-rbac-e2e", Version: "1"}, nil)
	s, err := client.Connect(context.Background(), &mcp.StreamableClientTransport{Endpoint: url,
		HTTPClient: &http.Client{Transport: bearer{key: key, next: http.DefaultTransport}}}, nil)
	if err != nil {
		t.Fatalf("connect with a key: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// TestDeveloperWriteRefusedDBAWriteAllowed: over MCP with API keys made
// by `dap key create`, a Developer's write on a read-write target is
// refused and audited, a DBA's succeeds and is audited, and the audit
// trail verifies.
func TestDeveloperWriteRefusedDBAWriteAllowed(t *testing.T) {
	est := setupEstate(t)
	keys := map[string]string{}
	for _, u := range []struct{ user, role string }{{"dev@example.com", "Developer"}, {"dba@example.com", "DBA"}} {
		if out, err := runDap(t, "", "user", "add", u.user, "--config", est.configPath); err != nil {
			t.Fatalf("user add: %v %s", err, out)
		}
		if out, err := runDap(t, "", "role", "assign", u.user, u.role, "--config", est.configPath); err != nil {
			t.Fatalf("role assign: %v %s", err, out)
		}
		out := &syncBuffer{}
		cmd := newRoot(out, &syncBuffer{})
		cmd.SetArgs([]string{"key", "create", "--user", u.user, "--config", est.configPath})
		if err := cmd.ExecuteContext(context.Background()); err != nil {
			t.Fatalf("key create: %v", err)
		}
		keys[u.user] = strings.TrimSpace(out.String())
	}
	url := startServe(t, "serve", "--config", est.configPath, "--log-level", "warn")
	dev := connectAs(t, url, keys["dev@example.com"])
	dba := connectAs(t, url, keys["dba@example.com"])

	mustOK(t, dev, "execute_sql", map[string]any{"target": "pgrw", "sql": "SELECT count(*) FROM customers"})
	refused := mustFail(t, dev, "execute_sql", map[string]any{"target": "pgrw", "sql": "UPDATE customers SET name = 'dev' WHERE id = 3"}, "forbidden", "QueryWrite")
	m, _ := mustOK(t, dba, "execute_sql", map[string]any{"target": "pgrw", "sql": "UPDATE customers SET name = 'dba' WHERE id = 3"})
	if m["rows_affected"].(float64) != 1 {
		t.Errorf("DBA update: %v", m)
	}
	// A bad key is refused before MCP.
	client := mcp.NewClient(&mcp.Implementation{Name: "bad", Version: "1"}, nil)
	if _, err := client.Connect(context.Background(), &mcp.StreamableClientTransport{Endpoint: url,
		HTTPClient: &http.Client{Transport: bearer{key: "dap_notakey", next: http.DefaultTransport}}}, nil); err == nil {
		t.Error("a bad key connected")
	}

	out, err := runDap(t, "", "audit", "verify", "--config", est.configPath)
	if err != nil || !strings.Contains(out, "intact") {
		t.Fatalf("audit verify: %v\n%s", err, out)
	}
	db := openAuditDB(t, filepath.Join(filepath.Dir(est.configPath), "dap-data", "dap.db"))
	count := func(q string, args ...any) int {
		var n int
		if err := db.QueryRow(q, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(`SELECT count(*) FROM audit_events WHERE user_name = 'dev@example.com' AND action = 'execute_sql' AND success = 0 AND statement_kind = 'write'`); n != 1 {
		t.Errorf("developer's refused write: %d records (refusal was %q)", n, refused)
	}
	if n := count(`SELECT count(*) FROM audit_events WHERE user_name = 'dba@example.com' AND action = 'execute_sql' AND success = 1 AND statement_kind = 'write' AND rows_returned = 1`); n != 1 {
		t.Errorf("DBA's write: %d records", n)
	}
	if n := count(`SELECT count(*) FROM audit_events WHERE event_type = 'auth_failure'`); n < 1 {
		t.Errorf("bad key: %d auth_failure records", n)
	}
}

func openAuditDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}
