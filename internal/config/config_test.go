package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/dap-platform/dap/internal/engine"
)

func TestParseValid(t *testing.T) {
	cfg, err := parse(t, `
listen: 0.0.0.0:9000
log_level: debug
targets:
  - name: shop
    engine: postgres
    dsn: ${PG_DSN}
    access: read-write
    max_rows: ${ROWS}
    max_result_bytes: 512KiB
    statement_timeout: 1500ms
    max_connections: 4
    procedures: [reporting.monthly_sales, ping, "a$b.c_1"]
    description: the shop
  - name: crm
    engine: mysql
    dsn_file: secrets/crm.dsn
    access: admin
    max_rows: 1_000_000
  - name: lite_1-x
    engine: sqlite
    dsn: ${MISSING:-/tmp/x.db}$$
    procedures: []
`)
	if err != nil {
		t.Fatal(err)
	}
	want := &Config{Listen: "0.0.0.0:9000", LogLevel: "debug", Path: "dap.yaml", DataDir: "dap-data", LocalUser: "local", Auth: defaultAuth(), Targets: []Target{
		{Name: "shop", Engine: engine.Postgres, DSN: "postgres://u:" + secret + "@h/db", Access: engine.ReadWrite,
			MaxRows: 50, MaxResultBytes: 512 << 10, StatementTimeout: 1500 * time.Millisecond, MaxConnections: 4,
			Procedures: []string{"reporting.monthly_sales", "ping", "a$b.c_1"}, Description: "the shop", Line: 5},
		{Name: "crm", Engine: engine.MySQL, DSN: "u:" + secret + "@tcp(h:3306)/crm", Access: engine.Admin,
			MaxRows: 1_000_000, MaxResultBytes: engine.DefaultMaxBytes, StatementTimeout: engine.DefaultTimeout,
			MaxConnections: DefaultMaxConnections, Line: 15},
		{Name: "lite_1-x", Engine: engine.SQLite, DSN: "/tmp/x.db$", Access: engine.ReadOnly,
			MaxRows: engine.DefaultMaxRows, MaxResultBytes: engine.DefaultMaxBytes, StatementTimeout: engine.DefaultTimeout,
			MaxConnections: DefaultMaxConnections, Line: 20},
	}}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("got  %+v\nwant %+v", cfg, want)
	}
	if l := cfg.Targets[0].Limits(); l != (engine.Limits{MaxRows: 50, MaxBytes: 512 << 10, Timeout: 1500 * time.Millisecond}) {
		t.Errorf("Limits = %+v", l)
	}
	if l := (Target{}).Limits(); l != (engine.Limits{}).WithDefaults() {
		t.Errorf("zero Target Limits = %+v, want the engine defaults", l)
	}
}

func TestParseMinimalFiles(t *testing.T) {
	for _, tc := range []struct{ name, yaml string }{
		{"empty list", "targets: []\n"},
		{"null list", "targets:\n"},
		{"empty mapping", "{}\n"},
		{"comment and listen default", "# nothing yet\nlog_level: info\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := parse(t, tc.yaml)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Listen != DefaultListen || cfg.LogLevel != DefaultLogLevel || len(cfg.Targets) != 0 || cfg.Path != "dap.yaml" {
				t.Errorf("cfg = %+v", cfg)
			}
		})
	}
}

func TestDSNFileRelativeToConfig(t *testing.T) {
	cfg, err := Parse([]byte("targets:\n  - name: a\n    engine: sqlite\n    dsn_file: secrets/x.db\n"), "conf/dap.yaml", env(nil), files(testFiles))
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Targets[0].DSN; got != "/var/lib/x.db" {
		t.Errorf("DSN = %q, want the file's content without the trailing CRLF", got)
	}
}

func TestTargetPrintsWithoutPassword(t *testing.T) {
	cfg, err := parse(t, "targets:\n  - name: shop\n    engine: postgres\n    dsn: ${PG_DSN}\n")
	if err != nil {
		t.Fatal(err)
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		out := fmt.Sprintf(verb, cfg)
		if strings.Contains(out, secret) || !strings.Contains(out, "shop") {
			t.Errorf("Sprintf(%q, cfg) = %s", verb, out)
		}
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("crm.dsn", "u:"+secret+"@tcp(h)/db\n")
	path := write("dap.yaml", "targets:\n  - name: crm\n    engine: mysql\n    dsn_file: crm.dsn\n")
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Targets[0].DSN != "u:"+secret+"@tcp(h)/db" || cfg.Path != path {
		t.Errorf("Load = %+v", cfg)
	}

	t.Run("environment", func(t *testing.T) {
		t.Setenv("DAP_TEST_LISTEN", "127.0.0.1:9999")
		cfg, err := Load(write("env.yaml", "listen: ${DAP_TEST_LISTEN}\n"))
		if err != nil || cfg.Listen != "127.0.0.1:9999" {
			t.Errorf("Load = %+v, %v", cfg, err)
		}
	})
	t.Run("missing file", func(t *testing.T) {
		if _, err := Load(filepath.Join(dir, "missing.yaml")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("err = %v, want os.ErrNotExist", err)
		}
	})
	t.Run("too large", func(t *testing.T) {
		big := write("big.yaml", "# "+strings.Repeat("x", MaxFileBytes)+"\n")
		if _, err := Load(big); err == nil || !strings.Contains(err.Error(), "over the 1048576-byte limit") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("large dsn_file", func(t *testing.T) {
		write("big.dsn", strings.Repeat("x", maxDSNFileBytes+1))
		_, err := Load(write("bigdsn.yaml", "targets:\n  - name: a\n    engine: sqlite\n    dsn_file: big.dsn\n"))
		if err == nil || !strings.Contains(err.Error(), "bigdsn.yaml:4: targets[0].dsn_file: cannot read") {
			t.Errorf("err = %v", err)
		}
	})
}

// TestDocumentedExampleParses keeps docs/configuration.md honest: its
// yaml block is the complete example and must load as documented.
func TestDocumentedExampleParses(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "configuration.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "```yaml\n")
	example, _, closed := strings.Cut(rest, "```")
	if !ok || !closed {
		t.Fatal("no ```yaml block in docs/configuration.md")
	}
	cfg, err := Parse([]byte(example), "/etc/dap/dap.yaml", env(map[string]string{"SHOP_DSN": "postgres://dap_reader:pw@db:5432/shop"}),
		files(map[string]string{"/etc/dap/secrets/crm.dsn": "dap_writer:pw@tcp(crm:3306)/crm\n"}))
	if err != nil {
		t.Fatalf("documented example: %v", err)
	}
	if cfg.Listen != DefaultListen || cfg.LogLevel != DefaultLogLevel || len(cfg.Targets) != 4 {
		t.Fatalf("example parsed as %+v", cfg)
	}
	shop := cfg.Targets[0]
	if shop.Access != engine.ReadOnly || shop.MaxRows != engine.DefaultMaxRows || shop.MaxResultBytes != engine.DefaultMaxBytes ||
		shop.StatementTimeout != engine.DefaultTimeout || shop.MaxConnections != DefaultMaxConnections || len(shop.Procedures) != 1 || shop.Description == "" {
		t.Errorf("the example's first target should spell out the defaults: %+v", shop)
	}
	if cfg.Targets[1].DSN != "dap_writer:pw@tcp(crm:3306)/crm" || cfg.Targets[3].DSN != "sqlserver://dap_reader@erp.internal:1433?database=erp" {
		t.Errorf("example targets: %+v", cfg.Targets)
	}
}

func TestStateKeys(t *testing.T) {
	for _, tc := range []struct {
		name, yaml, wantDir, wantRepo, wantUser, errPart string
	}{
		{name: "defaults", yaml: "targets: []\n", wantDir: "etc/dap-data", wantUser: "local"},
		{name: "relative dir", yaml: "data_dir: state\n", wantDir: "etc/state", wantUser: "local"},
		{name: "absolute dir", yaml: "data_dir: /var/lib/dap\nlocal_user: alice@example.com\n", wantDir: "/var/lib/dap", wantUser: "alice@example.com"},
		{name: "postgres repository", yaml: "repository: postgres://dap:pw@db/dap\n", wantDir: "etc/dap-data", wantRepo: "postgres://dap:pw@db/dap", wantUser: "local"},
		{name: "bad repository", yaml: "repository: mysql://x:S3cr3tPa55@h/db\n", errPart: "repository: want a PostgreSQL URL"},
		{name: "bad user", yaml: "local_user: \"a b\"\n", errPart: "local_user:"},
		{name: "empty dir", yaml: "data_dir: \"\"\n", errPart: "data_dir: is empty"},
		{name: "bad local role", yaml: "local_role: Superuser\n", errPart: "local_role: \"Superuser\" is not a built-in role"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Parse([]byte(tc.yaml), "etc/dap.yaml", func(string) (string, bool) { return "", false }, nil)
			if tc.errPart != "" {
				if err == nil || !strings.Contains(err.Error(), tc.errPart) || strings.Contains(err.Error(), "S3cr3tPa55") {
					t.Fatalf("err = %v, want %q without the password", err, tc.errPart)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.DataDir != tc.wantDir || cfg.Repository != tc.wantRepo || cfg.LocalUser != tc.wantUser {
				t.Errorf("got dir %q repo %q user %q", cfg.DataDir, cfg.Repository, cfg.LocalUser)
			}
			if printed := fmt.Sprintf("%v %+v %#v %v", *cfg, *cfg, *cfg, cfg); strings.Contains(printed, ":pw@") {
				t.Errorf("printing the config leaks the repository password: %s", printed)
			}
		})
	}
}

func TestSecretReferenceDSNs(t *testing.T) {
	for _, tc := range []struct {
		dsn, engine string
		ok          bool
	}{
		{"keystore:shop", "postgres", true},
		{"env:SHOP_DSN", "mysql", true},
		{"vault://secret/db/shop#dsn", "postgres", true},
		{"azure-keyvault://myvault/shop-dsn", "sqlserver", true},
		{"file:/run/secrets/shop", "postgres", true},
		{"file:/data/shop.db", "sqlite", true}, // SQLite's own URI form
		{"vault://", "postgres", false},
	} {
		_, err := Parse([]byte("targets:\n  - {name: a, engine: "+tc.engine+", dsn: \""+tc.dsn+"\"}\n"), "dap.yaml",
			func(string) (string, bool) { return "", false }, nil)
		if (err == nil) != tc.ok {
			t.Errorf("dsn %q (%s): err = %v, want ok=%v", tc.dsn, tc.engine, err, tc.ok)
		}
	}
}

func TestParseAuth(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       Auth
	}{
		{"defaults", "listen: 127.0.0.1:1\n", Auth{RateLimit: RateLimit{RequestsPerSecond: 20, Burst: 40}}},
		{"required", "auth:\n  required: true\n", Auth{Required: true, RateLimit: RateLimit{RequestsPerSecond: 20, Burst: 40}}},
		{"not required", "auth:\n  required: false\n", Auth{RateLimit: RateLimit{RequestsPerSecond: 20, Burst: 40}}},
		{"rate limit", "auth:\n  rate_limit: {requests_per_second: 5, burst: 10}\n", Auth{RateLimit: RateLimit{RequestsPerSecond: 5, Burst: 10}}},
		{"rate limit disabled", "auth:\n  required: true\n  rate_limit:\n    requests_per_second: 0\n", Auth{Required: true, RateLimit: RateLimit{RequestsPerSecond: 0, Burst: 40}}},
		{"only burst", "auth:\n  rate_limit:\n    burst: 1_000\n", Auth{RateLimit: RateLimit{RequestsPerSecond: 20, Burst: 1000}}},
		{"oidc defaults", "auth:\n  oidc:\n    issuer: https://login.example.com/t/v2.0\n    audience: api://dap\n",
			Auth{RateLimit: RateLimit{RequestsPerSecond: 20, Burst: 40}, OIDC: OIDC{Issuer: "https://login.example.com/t/v2.0", Audience: "api://dap", UserClaim: "email", GroupsClaim: "groups"}}},
		{"oidc claims", "auth:\n  oidc: {issuer: 'http://127.0.0.1:9000/realms/dap', audience: dap, user_claim: upn, groups_claim: roles}\n",
			Auth{RateLimit: RateLimit{RequestsPerSecond: 20, Burst: 40}, OIDC: OIDC{Issuer: "http://127.0.0.1:9000/realms/dap", Audience: "dap", UserClaim: "upn", GroupsClaim: "roles"}}},
		{"oidc localhost http", "auth:\n  oidc:\n    issuer: http://localhost:8080\n    audience: dap\n",
			Auth{RateLimit: RateLimit{RequestsPerSecond: 20, Burst: 40}, OIDC: OIDC{Issuer: "http://localhost:8080", Audience: "dap", UserClaim: "email", GroupsClaim: "groups"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := parse(t, tc.yaml)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Auth != tc.want {
				t.Errorf("Auth = %+v, want %+v", cfg.Auth, tc.want)
			}
		})
	}
}

func TestLocalRole(t *testing.T) {
	cfg, err := Parse([]byte("local_role: developer\n"), "dap.yaml", func(string) (string, bool) { return "", false }, nil)
	if err != nil || cfg.LocalRole != "Developer" {
		t.Fatalf("local_role developer: %q, %v", cfg.LocalRole, err)
	}
	cfg, err = Parse([]byte("targets: []\n"), "dap.yaml", func(string) (string, bool) { return "", false }, nil)
	if err != nil || cfg.LocalRole != "" {
		t.Fatalf("default local_role: %q, %v", cfg.LocalRole, err)
	}
}
