package config

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dap-platform/dap/internal/engine"
)

const secret = "S3cr3tPa55"

func env(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
}

func files(fs map[string]string) func(string) ([]byte, error) {
	return func(p string) ([]byte, error) {
		if v, ok := fs[p]; ok {
			return []byte(v), nil
		}
		return nil, &os.PathError{Op: "open", Path: p, Err: os.ErrNotExist}
	}
}

func parse(t *testing.T, yaml string) (*Config, error) {
	t.Helper()
	return Parse([]byte(yaml), "dap.yaml",
		env(map[string]string{"PG_DSN": "postgres://u:" + secret + "@h/db", "EMPTY": "", "ROWS": "50"}),
		files(map[string]string{"secrets/crm.dsn": "u:" + secret + "@tcp(h:3306)/crm\n", "/abs/empty.dsn": "\n"}))
}

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
    procedures: [reporting.monthly_sales, ping]
    description: the shop
  - name: crm
    engine: mysql
    dsn_file: secrets/crm.dsn
  - name: lite
    engine: sqlite
    dsn: ${MISSING:-/tmp/x.db}$$
`)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Listen != "0.0.0.0:9000" || cfg.LogLevel != "debug" || len(cfg.Targets) != 3 {
		t.Fatalf("cfg = %+v", cfg)
	}
	shop := cfg.Targets[0]
	want := Target{Name: "shop", Engine: engine.Postgres, DSN: "postgres://u:" + secret + "@h/db", Access: engine.ReadWrite,
		MaxRows: 50, MaxResultBytes: 512 << 10, StatementTimeout: 1500 * time.Millisecond, MaxConnections: 4,
		Procedures: []string{"reporting.monthly_sales", "ping"}, Description: "the shop", Line: 5}
	if shop.Name != want.Name || shop.Engine != want.Engine || shop.DSN != want.DSN || shop.Access != want.Access ||
		shop.MaxRows != want.MaxRows || shop.MaxResultBytes != want.MaxResultBytes || shop.StatementTimeout != want.StatementTimeout ||
		shop.MaxConnections != want.MaxConnections || strings.Join(shop.Procedures, ",") != strings.Join(want.Procedures, ",") ||
		shop.Description != want.Description || shop.Line != want.Line {
		t.Errorf("shop = %+v\nwant %+v", shop, want)
	}
	crm := cfg.Targets[1]
	if crm.DSN != "u:"+secret+"@tcp(h:3306)/crm" || crm.Access != engine.ReadOnly || crm.MaxRows != engine.DefaultMaxRows ||
		crm.MaxResultBytes != engine.DefaultMaxBytes || crm.StatementTimeout != engine.DefaultTimeout || crm.MaxConnections != DefaultMaxConnections {
		t.Errorf("crm defaults = %+v", crm)
	}
	if cfg.Targets[2].DSN != "/tmp/x.db$" {
		t.Errorf("default and $$ expansion: %q", cfg.Targets[2].DSN)
	}
	if l := shop.Limits(); l.MaxRows != 50 || l.MaxBytes != 512<<10 || l.Timeout != 1500*time.Millisecond {
		t.Errorf("Limits = %+v", l)
	}
}

func TestParseDefaultsAndEmpty(t *testing.T) {
	cfg, err := parse(t, "targets: []\n")
	if err != nil || cfg.Listen != DefaultListen || cfg.LogLevel != "info" || len(cfg.Targets) != 0 {
		t.Fatalf("cfg = %+v, err = %v", cfg, err)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		yaml string
		want []string // each must appear, with its line
	}{
		{"unknown top key", "listen: 127.0.0.1:1\nlisten_addr: x\n", []string{`dap.yaml:2: unknown key "listen_addr" (did you mean "listen"?)`}},
		{"unknown target key with suggestion", "targets:\n  - name: a\n    engine: sqlite\n    dsn: x\n    max_row: 5\n", []string{`dap.yaml:5: targets[0]: unknown key "max_row" (did you mean "max_rows"?)`}},
		{"bad access", "targets:\n  - name: a\n    engine: sqlite\n    dsn: x\n    access: rw\n", []string{`dap.yaml:5: targets[0].access: "rw" is not an access mode (want read-only, read-write or admin)`}},
		{"duplicate name", "targets:\n  - name: a\n    engine: sqlite\n    dsn: x\n  - name: a\n    engine: sqlite\n    dsn: y\n", []string{`dap.yaml:5: targets[1].name: duplicate target name "a" (first defined at line 2)`}},
		{"bad name", "targets:\n  - name: Shop DB\n    engine: sqlite\n    dsn: x\n", []string{`dap.yaml:2: targets[0].name: "Shop DB" is not a valid name`}},
		{"bad engine", "targets:\n  - name: a\n    engine: oracle\n    dsn: x\n", []string{`dap.yaml:3: targets[0].engine: "oracle" is not an engine`}},
		{"missing fields", "targets:\n  - access: admin\n", []string{"dap.yaml:2: targets[0]: missing name", "dap.yaml:2: targets[0]: missing engine", "dap.yaml:2: targets[0]: missing dsn"}},
		{"dsn and dsn_file", "targets:\n  - name: a\n    engine: mysql\n    dsn: x\n    dsn_file: secrets/crm.dsn\n", []string{"dap.yaml:2: targets[0]: give dsn or dsn_file, not both"}},
		{"dsn_file missing", "targets:\n  - name: a\n    engine: mysql\n    dsn_file: nope.dsn\n", []string{"dap.yaml:4: targets[0].dsn_file: cannot read nope.dsn: file does not exist"}},
		{"dsn_file empty", "targets:\n  - name: a\n    engine: mysql\n    dsn_file: /abs/empty.dsn\n", []string{"dap.yaml:4: targets[0].dsn_file: /abs/empty.dsn is empty"}},
		{"unset variable", "targets:\n  - name: a\n    engine: mysql\n    dsn: ${NOPE}\n", []string{"dap.yaml:4: targets[0].dsn: environment variable NOPE is not set"}},
		{"bad variable name", "listen: ${1X}\n", []string{`dap.yaml:1: listen: ${1X}: "1X" is not a variable name`}},
		{"unterminated variable", "listen: ${X\n", []string{"dap.yaml:1: listen: unterminated ${"}},
		{"numbers", "targets:\n  - name: a\n    engine: sqlite\n    dsn: x\n    max_rows: ten\n    max_connections: 0\n", []string{`dap.yaml:5: targets[0].max_rows: "ten" is not a whole number`, "dap.yaml:6: targets[0].max_connections: 0 is out of range (1 to 1000)"}},
		{"sizes and durations", "targets:\n  - name: a\n    engine: sqlite\n    dsn: x\n    max_result_bytes: 4 apples\n    statement_timeout: forever\n", []string{`dap.yaml:5: targets[0].max_result_bytes: "4 apples" is not a size`, `dap.yaml:6: targets[0].statement_timeout: "forever" is not a duration`}},
		{"ranges", "targets:\n  - name: a\n    engine: sqlite\n    dsn: x\n    max_result_bytes: 2GiB\n    statement_timeout: 48h\n", []string{"dap.yaml:5: targets[0].max_result_bytes: 2GiB is out of range", "dap.yaml:6: targets[0].statement_timeout: 48h is out of range"}},
		{"procedure names", "targets:\n  - name: a\n    engine: sqlite\n    dsn: x\n    procedures: [\"a.b.c\", \"x;drop\"]\n", []string{`targets[0].procedures[0]: "a.b.c" is not a procedure name`, `targets[0].procedures[1]: "x;drop" is not a procedure name`}},
		{"procedures not a list", "targets:\n  - name: a\n    engine: sqlite\n    dsn: x\n    procedures: p\n", []string{"dap.yaml:5: targets[0].procedures: want a list"}},
		{"listen", "listen: localhost\n", []string{`dap.yaml:1: listen: "localhost" is not host:port`}},
		{"log level", "log_level: loud\n", []string{`dap.yaml:1: log_level: "loud" is not a level`}},
		{"duplicate key", "listen: 127.0.0.1:1\nlisten: 127.0.0.1:2\n", []string{"dap.yaml:2: listen: duplicate key (first at line 1)"}},
		{"targets not a list", "targets: shop\n", []string{"dap.yaml:1: targets: want a list"}},
		{"target not a mapping", "targets:\n  - shop\n", []string{"dap.yaml:2: targets[0]: want a mapping"}},
		{"top not a mapping", "- a\n- b\n", []string{"dap.yaml:1: the top level must be a mapping"}},
		{"empty file", "", []string{"dap.yaml: the file is empty"}},
		{"aliases", "x: &a [1]\ntargets: *a\n", []string{"dap.yaml:1: YAML anchors and aliases"}},
		{"syntax", "targets:\n  - name: a\n   engine: [\n", []string{"dap.yaml: not valid YAML"}},
		{"tabs", "targets:\n\t- name: a\n", []string{"dap.yaml: not valid YAML"}},
		{"binary", "\x00\x01\x02\xff", []string{"dap.yaml:"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := parse(t, tc.yaml)
			if err == nil {
				t.Fatalf("no error; cfg = %+v", cfg)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error\n%s\ndoes not contain\n%s", err, w)
				}
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error leaks the secret: %s", err)
			}
		})
	}
}

func TestAllErrorsReportedInLineOrder(t *testing.T) {
	_, err := parse(t, "log_level: loud\ntargets:\n  - name: a\n    engine: x\n    dsn: ${PG_DSN}\n    access: rw\n  - name: a\n    engine: sqlite\n    dsn: y\n")
	if err == nil {
		t.Fatal("no error")
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != 4 {
		t.Fatalf("want 4 errors, got:\n%s", err)
	}
	re := regexp.MustCompile(`^dap\.yaml:(\d+):`)
	last := 0
	for _, l := range lines {
		m := re.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("line without file:line: %q", l)
		}
		n := 0
		for _, c := range m[1] {
			n = n*10 + int(c-'0')
		}
		if n < last {
			t.Errorf("errors not in line order: %s", err)
		}
		last = n
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "crm.dsn"), []byte("u:"+secret+"@tcp(h)/db\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "dap.yaml")
	if err := os.WriteFile(path, []byte("targets:\n  - name: crm\n    engine: mysql\n    dsn_file: crm.dsn\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path)
	if err != nil || cfg.Targets[0].DSN != "u:"+secret+"@tcp(h)/db" || cfg.Path != path {
		t.Fatalf("Load: %+v, %v", cfg, err)
	}
	if _, err := Load(filepath.Join(dir, "missing.yaml")); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, []byte("# "+strings.Repeat("x", MaxFileBytes)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(big); err == nil || !strings.Contains(err.Error(), "over the") {
		t.Errorf("big file: %v", err)
	}
}

// TestDocumentedExampleParses keeps docs/configuration.md honest.
func TestDocumentedExampleParses(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "configuration.md"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(doc)
	start := strings.Index(s, "```yaml\n")
	end := strings.Index(s[start+8:], "```")
	if start < 0 || end < 0 {
		t.Fatal("no yaml block in docs/configuration.md")
	}
	example := s[start+8 : start+8+end]
	cfg, err := Parse([]byte(example), "docs/dap.yaml", env(map[string]string{"SHOP_DSN": "postgres://x@h/db"}),
		files(map[string]string{"docs/secrets/crm.dsn": "u:p@tcp(h)/crm"}))
	if err != nil {
		t.Fatalf("documented example: %v", err)
	}
	if len(cfg.Targets) != 4 || cfg.Targets[3].DSN != "sqlserver://dap_reader@erp.internal:1433?database=erp" {
		t.Errorf("example parsed as %+v", cfg.Targets)
	}
}

func TestRedactDSN(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"postgres://u:" + secret + "@h:5432/db?sslmode=disable", "postgres://u:xxxxx@h:5432/db?sslmode=disable"},
		{"postgres://u@h/db", "postgres://u@h/db"},
		{"postgres://h/db?password=" + secret, "postgres://h/db?password=xxxxx"},
		{"host=h user=u password=" + secret + " dbname=d", "host=h user=u password=xxxxx dbname=d"},
		{"host=h password='a b " + secret + "' dbname=d", "host=h password=xxxxx dbname=d"},
		{"Server=h;User Id=u;Pwd=" + secret + ";", "Server=h;User Id=u;Pwd=xxxxx;"},
		{"u:" + secret + "@tcp(h:3306)/db?parseTime=true", "u:xxxxx@tcp(h:3306)/db?parseTime=true"},
		{"u:p:" + secret + "@unix(/s)/db", "u:xxxxx@unix(/s)/db"},
		{"sqlserver://u:" + secret + "@h:1433?database=d", "sqlserver://u:xxxxx@h:1433?database=d"},
		{"/var/lib/x.db", "/var/lib/x.db"},
	} {
		got := RedactDSN(tc.in)
		if got != tc.want {
			t.Errorf("RedactDSN(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if strings.Contains(got, secret) {
			t.Errorf("RedactDSN(%q) leaks the secret", tc.in)
		}
	}
}

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		err  bool
	}{
		{"4MiB", 4 << 20, false}, {"512KiB", 512 << 10, false}, {"1MB", 1_000_000, false}, {"1000000", 1_000_000, false},
		{"1 GiB", 1 << 30, false}, {"10b", 10, false}, {"-1", 0, true}, {"1.5MiB", 0, true}, {"MiB", 0, true}, {"99999999999999999999GiB", 0, true},
	} {
		got, err := ParseSize(tc.in)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("ParseSize(%q) = %d, %v", tc.in, got, err)
		}
	}
}
