package httpapi

import (
	"context"
	"database/sql"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/dap-platform/dap/internal/accounts"
	"github.com/dap-platform/dap/internal/app"
	"github.com/dap-platform/dap/internal/audit"
	"github.com/dap-platform/dap/internal/config"
	"github.com/dap-platform/dap/internal/gateway"
	"github.com/dap-platform/dap/internal/mcpserver"
	"github.com/dap-platform/dap/internal/rbac"
	"github.com/dap-platform/dap/internal/repo"
)

// authFixture is a gateway over a tiny SQLite target that audits to a real
// SQLite repository, and an accounts store and appender on that
// repository, as `dap serve` wires them.
type authFixture struct {
	gw      *gateway.Gateway
	store   *accounts.Store
	auditor *audit.Appender
	db      *sql.DB
	keys    map[string]string // name -> plaintext key
}

func newAuthFixture(t *testing.T) *authFixture {
	t.Helper()
	ctx := context.Background()
	cfg := &config.Config{Targets: []config.Target{liteTarget(t)}, DataDir: t.TempDir()}
	r, a, st := openAccounts(t, cfg)
	fx := &authFixture{store: st, auditor: a, db: r.DB(), keys: map[string]string{}}
	for _, u := range []string{"alice", "bob", "carol", "dave"} {
		if _, err := st.CreateUser(ctx, "admin", u, u); err != nil {
			t.Fatal(err)
		}
		// Grants come before the gateway, which caches the policy.
		if _, err := st.Assign(ctx, "admin", u, rbac.Developer, []string{"lite"}, time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	mk := func(name, user string) accounts.KeyInfo {
		k, info, err := st.CreateKey(ctx, "admin", user, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		fx.keys[name] = k
		return info
	}
	mk("alice", "alice")
	mk("bob", "bob")
	revoked := mk("revoked", "alice")
	if err := st.RevokeKey(ctx, "admin", revoked.ID); err != nil {
		t.Fatal(err)
	}
	// The store refuses to create an expired key; age one instead.
	expired := mk("expired", "carol")
	if _, err := fx.db.Exec(`UPDATE api_keys SET expires_at = ? WHERE id = ?`, time.Now().Add(-time.Hour).UnixMicro(), expired.ID); err != nil {
		t.Fatal(err)
	}
	mk("disabled", "dave")
	if err := st.DisableUser(ctx, "admin", "dave"); err != nil {
		t.Fatal(err)
	}
	gw, err := app.Build(ctx, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = gw.Close() })
	fx.gw = gw
	return fx
}

// serve starts an httptest server (on loopback) over New with o.
func (fx *authFixture) serve(t *testing.T, o Options) string {
	t.Helper()
	o.Keys, o.Auditor = fx.store, fx.auditor
	srv := mcpserver.New(fx.gw, mcpserver.Options{Version: "test", LocalUser: "local"})
	ts := httptest.NewServer(New(srv, fx.gw, o))
	t.Cleanup(ts.Close)
	return ts.URL
}

type auditRow struct {
	typ, user, object, errText, corr, client string
	success                                  bool
}

// events reads the audit records of a type, as stored.
func (fx *authFixture) events(t *testing.T, typ string) []auditRow {
	t.Helper()
	rows, err := fx.db.Query(`SELECT event_type, user_name, object_name, error, correlation_id, client_addr, success FROM audit_events WHERE event_type = ? ORDER BY id`, typ)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []auditRow
	for rows.Next() {
		var r auditRow
		if err := rows.Scan(&r.typ, &r.user, &r.object, &r.errText, &r.corr, &r.client, &r.success); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// allAuditText is every text column of the trail, to look for leaked keys.
func (fx *authFixture) allAuditText(t *testing.T) string {
	t.Helper()
	rows, err := fx.db.Query(`SELECT event_type || user_name || object_name || action || error || client_addr || application || COALESCE(old_value, '') || COALESCE(new_value, '') FROM audit_events`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		b.WriteString(s + "\n")
	}
	return b.String()
}

const initBody = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`

// initialize POSTs an MCP initialize with an optional key.
func initialize(t *testing.T, base, key string) response {
	t.Helper()
	hdr := map[string]string{"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
	if key != "" {
		hdr["Authorization"] = "Bearer " + key
	}
	return do(t, "POST", base+"/mcp", strings.NewReader(initBody), hdr)
}

type bearer struct{ key string }

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	if b.key != "" {
		r.Header.Set("Authorization", "Bearer "+b.key)
	}
	return http.DefaultTransport.RoundTrip(r)
}

// callTool connects with key (none when empty) and runs one query; it
// returns the call's correlation id.
func callTool(t *testing.T, base, key string) string {
	t.Helper()
	ctx := context.Background()
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "t", Version: "1"}, nil).Connect(ctx,
		&mcp.StreamableClientTransport{Endpoint: base + "/mcp", HTTPClient: &http.Client{Transport: bearer{key}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "execute_sql",
		Arguments: map[string]any{"target": "lite", "sql": "SELECT name FROM customers ORDER BY id"}})
	if err != nil || res.IsError {
		t.Fatalf("execute_sql: %v %+v", err, res)
	}
	return res.Meta["correlation_id"].(string)
}

func TestAuthentication(t *testing.T) {
	fx := newAuthFixture(t)
	optional := fx.serve(t, Options{})
	required := fx.serve(t, Options{AuthRequired: true})

	t.Run("tool calls record the caller", func(t *testing.T) {
		for _, tc := range []struct {
			name, base, key, user string
		}{
			{"no key on loopback, auth optional", optional, "", "local"},
			{"alice's key, auth optional", optional, fx.keys["alice"], "alice"},
			{"alice's key, auth required", required, fx.keys["alice"], "alice"},
			{"bob's key, auth required", required, fx.keys["bob"], "bob"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				id := callTool(t, tc.base, tc.key)
				var found bool
				for _, e := range fx.events(t, audit.TypeToolCall) {
					if e.corr == id {
						found = true
						if e.user != tc.user || !e.success {
							t.Errorf("tool call %s recorded as user %q success %v, want %q", id, e.user, e.success, tc.user)
						}
					}
				}
				if !found {
					t.Errorf("no tool_call audit record with correlation id %s", id)
				}
			})
		}
	})

	t.Run("refusals", func(t *testing.T) {
		unknown := accounts.KeyPrefix + strings.Repeat("a", accounts.KeyLen-len(accounts.KeyPrefix))
		for _, tc := range []struct {
			name, base, key string
			prefix, reason  string // expected in the audit record
		}{
			{"no key, auth required", required, "", "", "no API key"},
			{"malformed key", optional, "dap_short", "dap_short", "malformed"},
			{"unknown key", required, unknown, unknown[:12], "unknown API key"},
			{"revoked key", required, fx.keys["revoked"], fx.keys["revoked"][:12], "revoked"},
			{"expired key", optional, fx.keys["expired"], fx.keys["expired"][:12], "expired"},
			{"disabled user", required, fx.keys["disabled"], fx.keys["disabled"][:12], "user disabled"},
			{"not a DAP key", required, "ghp_SomeOtherSecret123", "", "unknown API key"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := initialize(t, tc.base, tc.key)
				want := `Bearer resource_metadata="` + tc.base + MetadataPath + `"`
				if r.code != http.StatusUnauthorized || r.hdr.Get("WWW-Authenticate") != want {
					t.Fatalf("%d WWW-Authenticate %q %q, want 401 with %s", r.code, r.hdr.Get("WWW-Authenticate"), r.body, want)
				}
				id := r.hdr.Get(mcpserver.HeaderRequestID)
				if tc.key != "" && (!strings.Contains(r.body, id) || strings.Contains(r.body, "accounts") || strings.Contains(r.body, "sqlite")) {
					t.Errorf("body %q: want a short message with the correlation id and no internals", r.body)
				}
				var rec *auditRow
				for _, e := range fx.events(t, audit.TypeAuthFailure) {
					if e.corr == id {
						rec = &e
					}
				}
				if rec == nil {
					t.Fatalf("no auth_failure audit record with correlation id %s", id)
				}
				if rec.success || rec.object != tc.prefix || !strings.Contains(rec.errText, tc.reason) || !strings.HasPrefix(rec.client, "127.0.0.1:") {
					t.Errorf("audit record %+v, want key prefix %q, reason containing %q, a client address", *rec, tc.prefix, tc.reason)
				}
			})
		}
		text := fx.allAuditText(t)
		for name, k := range fx.keys {
			if strings.Contains(text, k) {
				t.Errorf("the audit trail holds the %s key", name)
			}
		}
		for _, k := range []string{unknown, "ghp_SomeOtherSecret123"} {
			if strings.Contains(text, k) {
				t.Errorf("the audit trail holds the presented key %s", k)
			}
		}
	})

	t.Run("health stays open", func(t *testing.T) {
		for _, p := range []string{"/healthz", "/readyz"} {
			if r := do(t, "GET", required+p, nil, nil); r.code != http.StatusOK {
				t.Errorf("%s: %d %s", p, r.code, r.body)
			}
		}
	})

	t.Run("protected resource metadata", func(t *testing.T) {
		r := do(t, "GET", required+MetadataPath, nil, nil)
		var md struct {
			Resource     string   `json:"resource"`
			Methods      []string `json:"bearer_methods_supported"`
			Name         string   `json:"resource_name"`
			AuthServers  []string `json:"authorization_servers"`
			ScopesOffers []string `json:"scopes_supported"`
		}
		if err := json.Unmarshal([]byte(r.body), &md); err != nil || r.code != http.StatusOK {
			t.Fatalf("%d %q: %v", r.code, r.body, err)
		}
		if md.Resource != required+"/mcp" || len(md.Methods) != 1 || md.Methods[0] != "header" || md.Name != "DAP" || len(md.AuthServers) != 0 {
			t.Errorf("metadata %+v", md)
		}
	})
}

func TestRateLimitPerIdentity(t *testing.T) {
	fx := newAuthFixture(t)
	// A bucket that refills once in 100 s: the burst is all there is.
	base := fx.serve(t, Options{AuthRequired: true, RequestsPerSecond: 0.01, Burst: 3})
	for i := range 3 {
		if r := initialize(t, base, fx.keys["alice"]); r.code != http.StatusOK {
			t.Fatalf("alice's request %d: %d %s", i+1, r.code, r.body)
		}
	}
	r := initialize(t, base, fx.keys["alice"])
	if r.code != http.StatusTooManyRequests {
		t.Fatalf("alice's 4th request: %d %s, want 429", r.code, r.body)
	}
	if s, err := strconv.Atoi(r.hdr.Get("Retry-After")); err != nil || s < 1 || s > 100 {
		t.Errorf("Retry-After %q, want 1 to 100 seconds", r.hdr.Get("Retry-After"))
	}
	if id := r.hdr.Get(mcpserver.HeaderRequestID); !strings.Contains(r.body, id) {
		t.Errorf("429 body %q lacks the correlation id %s", r.body, id)
	}
	if r := initialize(t, base, fx.keys["bob"]); r.code != http.StatusOK {
		t.Errorf("bob is limited by alice's use: %d %s", r.code, r.body)
	}
	if r := do(t, "GET", base+"/healthz", nil, nil); r.code != http.StatusOK {
		t.Errorf("healthz is rate limited: %d", r.code)
	}
}

func TestLimiterMemoryIsBounded(t *testing.T) {
	l := newLimiter(10, 2) // refills in 200 ms, kept at least 1 s
	now := time.Unix(1000, 0)
	for i := range maxBuckets + 50 {
		if ok, _ := l.allow("user"+strconv.Itoa(i), now); !ok {
			t.Fatalf("a new identity's first request was limited")
		}
	}
	if n := len(l.buckets); n > maxBuckets {
		t.Fatalf("%d buckets, want at most %d", n, maxBuckets)
	}
	// Once idle long enough to have refilled, buckets are swept.
	l.allow("late", now.Add(sweepEvery+time.Second))
	if n := len(l.buckets); n != 1 {
		t.Errorf("%d buckets after the idle sweep, want 1", n)
	}
	for _, tc := range []struct {
		rps   float64
		burst int
	}{{0, 10}, {5, 0}, {-1, 3}} {
		if newLimiter(tc.rps, tc.burst) != nil {
			t.Errorf("newLimiter(%v, %d) limits; 0 disables", tc.rps, tc.burst)
		}
	}
}

func TestCheckExposure(t *testing.T) {
	tests := []struct {
		listen   string
		required bool
		ok       bool
	}{
		{"127.0.0.1:8787", false, true},
		{"127.0.0.2:8787", false, true},
		{"[::1]:8787", false, true},
		{"localhost:8787", false, true},
		{"LocalHost:0", false, true},
		{":8787", false, false},
		{"0.0.0.0:8787", false, false},
		{"[::]:8787", false, false},
		{"10.0.0.5:8787", false, false},
		{"dap.example.com:8787", false, false},
		{"localhost.example.com:8787", false, false},
		{"not an address", false, false},
		{"0.0.0.0:8787", true, true},
		{":8787", true, true},
	}
	for _, tc := range tests {
		err := CheckExposure(tc.listen, tc.required)
		if (err == nil) != tc.ok {
			t.Errorf("CheckExposure(%q, required=%v) = %v, want ok=%v", tc.listen, tc.required, err, tc.ok)
		}
		if err != nil && !strings.Contains(err.Error(), "required: true") {
			t.Errorf("the refusal does not say how to fix it: %v", err)
		}
	}
}

// openAccounts opens cfg's repository with an audit appender and an
// accounts store over it, closed when the test ends.
func openAccounts(t *testing.T, cfg *config.Config) (*repo.Repo, *audit.Appender, *accounts.Store) {
	t.Helper()
	r, key, err := app.OpenRepository(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	a, err := audit.NewAppender(r, key, audit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	st, err := accounts.New(r, a)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = a.Close(context.Background())
		_ = r.Close()
	})
	return r, a, st
}
