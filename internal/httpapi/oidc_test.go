package httpapi

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/dap-platform/dap/internal/app"
	"github.com/dap-platform/dap/internal/audit"
	"github.com/dap-platform/dap/internal/config"
	"github.com/dap-platform/dap/internal/engine"
	"github.com/dap-platform/dap/internal/mcpserver"
	"github.com/dap-platform/dap/internal/rbac"
	"github.com/dap-platform/dap/internal/testdb"
)

// fakeIssuer is a local OpenID provider speaking the real protocol:
// discovery document and JWKS over HTTP, RS256-signed JWTs.
type fakeIssuer struct {
	url       string
	key       *rsa.PrivateKey
	jwksFetch atomic.Int32
}

const testKid = "k1"

func newFakeIssuer(t *testing.T) *fakeIssuer {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	fi := &fakeIssuer{key: key}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{
			"issuer": fi.url, "jwks_uri": fi.url + "/keys",
			"authorization_endpoint": fi.url + "/authorize", "token_endpoint": fi.url + "/token",
			"id_token_signing_alg_values_supported": []string{"RS256"},
		})
	})
	mux.HandleFunc("GET /keys", func(w http.ResponseWriter, r *http.Request) {
		fi.jwksFetch.Add(1)
		writeJSON(w, http.StatusOK, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
			{Key: &key.PublicKey, KeyID: testKid, Algorithm: "RS256", Use: "sig"}}})
	})
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	fi.url = ts.URL
	return fi
}

// claims are a token's standard claims for user, valid for an hour.
func (fi *fakeIssuer) claims(user string) map[string]any {
	now := time.Now()
	return map[string]any{"iss": fi.url, "aud": "api://dap", "sub": "sub-" + user, "email": user,
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
}

// sign returns claims as a compact JWS signed RS256 with key under kid.
func sign(t *testing.T, key *rsa.PrivateKey, kid string, claims map[string]any) string {
	t.Helper()
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: kid}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := s.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// unsigned returns claims as a JWT with alg none.
func unsigned(claims map[string]any) string {
	enc := base64.RawURLEncoding
	h, _ := json.Marshal(map[string]string{"alg": "none", "typ": "JWT", "kid": testKid})
	p, _ := json.Marshal(claims)
	return enc.EncodeToString(h) + "." + enc.EncodeToString(p) + "."
}

// oidcFixture is a read-write SQLite target behind a gateway auditing to
// a real repository, grants for identity-provider users and groups, and
// DAP's handler with OIDC pointing at a fake issuer.
type oidcFixture struct {
	authFixture
	idp  *fakeIssuer
	base string
}

func newOIDCFixture(t *testing.T) *oidcFixture {
	t.Helper()
	ctx := context.Background()
	target := liteTarget(t)
	target.Access = engine.ReadWrite
	cfg := &config.Config{Targets: []config.Target{target}, DataDir: t.TempDir(), LocalUser: "local"}
	r, a, st := openAccounts(t, cfg)
	// Grants come before the gateway, which caches the policy.
	if _, err := st.CreateRole(ctx, "admin", "MFAWriter", "writes with a second factor", []string{string(rbac.QueryRead), string(rbac.QueryWrite)}, true); err != nil {
		t.Fatal(err)
	}
	for _, g := range []struct{ subject, role string }{
		{"alice@example.com", rbac.Developer},
		{"group:dba-team", rbac.DBA},
		{"erin@example.com", "MFAWriter"},
	} {
		if _, err := st.Assign(ctx, "admin", g.subject, g.role, []string{"lite"}, time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.CreateUser(ctx, "admin", "bob", "bob"); err != nil {
		t.Fatal(err)
	}
	bobKey, _, err := st.CreateKey(ctx, "admin", "bob", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Assign(ctx, "admin", "bob", rbac.Developer, nil, time.Time{}); err != nil {
		t.Fatal(err)
	}
	gw, err := app.Build(ctx, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = gw.Close() })
	fx := &oidcFixture{authFixture: authFixture{gw: gw, store: st, auditor: a, db: r.DB(), keys: map[string]string{"bob": bobKey}}, idp: newFakeIssuer(t)}
	fx.base = fx.serve(t, Options{AuthRequired: true, LocalUser: "local",
		OIDC: OIDC(config.OIDC{Issuer: fx.idp.url, Audience: "api://dap", UserClaim: "email", GroupsClaim: "groups"})})
	return fx
}

// callSQL connects with token and runs sql on the target; it returns the
// result and the call's correlation id.
func callSQL(t *testing.T, base, token, sql string) (*mcp.CallToolResult, string) {
	t.Helper()
	ctx := context.Background()
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "t", Version: "1"}, nil).Connect(ctx,
		&mcp.StreamableClientTransport{Endpoint: base + "/mcp", HTTPClient: &http.Client{Transport: bearer{token}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "execute_sql", Arguments: map[string]any{"target": "lite", "sql": sql}})
	if err != nil {
		t.Fatal(err)
	}
	return res, res.Meta["correlation_id"].(string)
}

// toolRecord is the tool_call audit record of a correlation id.
func (fx *oidcFixture) toolRecord(t *testing.T, id string) auditRow {
	t.Helper()
	for _, e := range fx.events(t, audit.TypeToolCall) {
		if e.corr == id {
			return e
		}
	}
	t.Fatalf("no tool_call audit record with correlation id %s", id)
	return auditRow{}
}

func TestOIDCTokens(t *testing.T) {
	fx := newOIDCFixture(t)
	idp := fx.idp
	const insert = "INSERT INTO customers (name) VALUES ('Cy')"

	t.Run("tool calls", func(t *testing.T) {
		withGroups := func(user string, groups any) map[string]any {
			c := idp.claims(user)
			c["groups"] = groups
			return c
		}
		withAMR := func(user string, amr ...string) map[string]any {
			c := idp.claims(user)
			c["amr"] = amr
			return c
		}
		noEmail := idp.claims("")
		delete(noEmail, "email")
		noEmail["preferred_username"] = "alice@example.com"
		for _, tc := range []struct {
			name, token, sql, user string
			allowed                bool
		}{
			{"email user reads", sign(t, idp.key, testKid, idp.claims("alice@example.com")), "SELECT name FROM customers", "alice@example.com", true},
			{"preferred_username when no email", sign(t, idp.key, testKid, noEmail), "SELECT name FROM customers", "alice@example.com", true},
			{"Developer may not write", sign(t, idp.key, testKid, idp.claims("alice@example.com")), insert, "alice@example.com", false},
			{"no grant at all", sign(t, idp.key, testKid, idp.claims("frank@example.com")), "SELECT 1", "frank@example.com", false},
			{"group dba-team writes", sign(t, idp.key, testKid, withGroups("gina@example.com", []string{"staff", "dba-team"})), insert, "gina@example.com", true},
			{"groups as one string", sign(t, idp.key, testKid, withGroups("gina@example.com", "dba-team")), insert, "gina@example.com", true},
			{"another group may not", sign(t, idp.key, testKid, withGroups("hal@example.com", []string{"staff"})), insert, "hal@example.com", false},
			{"MFA role without amr", sign(t, idp.key, testKid, idp.claims("erin@example.com")), insert, "erin@example.com", false},
			{"MFA role with amr pwd only", sign(t, idp.key, testKid, withAMR("erin@example.com", "pwd")), insert, "erin@example.com", false},
			{"MFA role with amr mfa", sign(t, idp.key, testKid, withAMR("erin@example.com", "pwd", "mfa")), insert, "erin@example.com", true},
			{"MFA role with amr hwk", sign(t, idp.key, testKid, withAMR("erin@example.com", "hwk")), insert, "erin@example.com", true},
			{"API keys still work", fx.keys["bob"], "SELECT name FROM customers", "bob", true},
		} {
			t.Run(tc.name, func(t *testing.T) {
				res, id := callSQL(t, fx.base, tc.token, tc.sql)
				if res.IsError == tc.allowed {
					t.Fatalf("IsError = %v, want allowed=%v: %+v", res.IsError, tc.allowed, res.Content)
				}
				if !tc.allowed && !strings.Contains(contentText(res), "denied") {
					t.Errorf("refusal does not explain itself: %s", contentText(res))
				}
				rec := fx.toolRecord(t, id)
				if rec.user != tc.user || rec.success != tc.allowed {
					t.Errorf("audited as user %q success %v, want %q %v", rec.user, rec.success, tc.user, tc.allowed)
				}
			})
		}
	})

	t.Run("refusals", func(t *testing.T) {
		other, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		with := func(k string, v any) map[string]any {
			c := idp.claims("alice@example.com")
			c[k] = v
			return c
		}
		for _, tc := range []struct{ name, token, reason string }{
			{"wrong audience", sign(t, idp.key, testKid, with("aud", "api://other")), "audience"},
			{"wrong issuer", sign(t, idp.key, testKid, with("iss", "https://evil.example.com")), "issued by a different provider"},
			{"expired", sign(t, idp.key, testKid, with("exp", time.Now().Add(-time.Minute).Unix())), "expired"},
			{"bad signature", sign(t, other, testKid, idp.claims("alice@example.com")), "signature"},
			{"unknown kid", sign(t, other, "k2", idp.claims("alice@example.com")), "signature"},
			{"alg none", unsigned(idp.claims("alice@example.com")), "malformed"},
			{"not a JWT", "ghp_SomeOtherSecret123", "malformed"},
			{"claims the local identity", sign(t, idp.key, testKid, with("email", "local")), "local identity"},
			{"groups not strings", sign(t, idp.key, testKid, with("groups", []int{1})), "groups"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := initialize(t, fx.base, tc.token)
				if r.code != http.StatusUnauthorized || !strings.Contains(r.hdr.Get("WWW-Authenticate"), MetadataPath) {
					t.Fatalf("%d WWW-Authenticate %q %q, want 401", r.code, r.hdr.Get("WWW-Authenticate"), r.body)
				}
				id := r.hdr.Get(mcpserver.HeaderRequestID)
				if !strings.Contains(r.body, id) {
					t.Errorf("body %q lacks the correlation id", r.body)
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
				if rec.success || rec.object != "" || !strings.Contains(rec.errText, tc.reason) {
					t.Errorf("audit record %+v, want reason containing %q and no token", *rec, tc.reason)
				}
			})
		}
		if strings.Contains(fx.allAuditText(t), "eyJ") {
			t.Errorf("the audit trail holds a token")
		}
	})

	t.Run("JWKS cached", func(t *testing.T) {
		before := idp.jwksFetch.Load()
		for range 3 {
			if r := initialize(t, fx.base, sign(t, idp.key, testKid, idp.claims("alice@example.com"))); r.code != http.StatusOK {
				t.Fatalf("%d %s", r.code, r.body)
			}
		}
		if n := idp.jwksFetch.Load() - before; n != 0 {
			t.Errorf("JWKS fetched %d times for tokens with a known kid, want 0 (cached)", n)
		}
	})

	t.Run("protected resource metadata names the issuer", func(t *testing.T) {
		r := do(t, "GET", fx.base+MetadataPath, nil, nil)
		var md struct {
			AuthServers []string `json:"authorization_servers"`
		}
		if err := json.Unmarshal([]byte(r.body), &md); err != nil || len(md.AuthServers) != 1 || md.AuthServers[0] != idp.url {
			t.Errorf("metadata %s (%v), want authorization_servers [%s]", r.body, err, idp.url)
		}
	})
}

func TestOIDCProviderDown(t *testing.T) {
	fx := newAuthFixture(t)
	base := fx.serve(t, Options{AuthRequired: true, OIDC: OIDC{Issuer: "http://127.0.0.1:" + strconv.Itoa(testdb.ClosedPort(t)), Audience: "api://dap"}})
	idp := newFakeIssuer(t)
	r := initialize(t, base, sign(t, idp.key, testKid, idp.claims("alice@example.com")))
	if r.code != http.StatusInternalServerError || strings.Contains(r.body, "127.0.0.1") {
		t.Errorf("%d %q, want 500 naming no internals", r.code, r.body)
	}
	if r := initialize(t, base, fx.keys["alice"]); r.code != http.StatusOK {
		t.Errorf("API key while the provider is down: %d %s", r.code, r.body)
	}
}

func TestStringList(t *testing.T) {
	for _, tc := range []struct {
		in   any
		want []string
		ok   bool
	}{
		{nil, nil, true},
		{"a", []string{"a"}, true},
		{[]any{"a", "b"}, []string{"a", "b"}, true},
		{[]any{}, []string{}, true},
		{[]any{"a", 1.0}, nil, false},
		{true, nil, false},
		{map[string]any{}, nil, false},
	} {
		got, err := stringList(tc.in)
		if (err == nil) != tc.ok || strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("stringList(%v) = %v, %v; want %v ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func contentText(res *mcp.CallToolResult) string {
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}
