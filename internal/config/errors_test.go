package config

import (
	"errors"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestParseErrors: every rule, the exact message where the wording is
// part of the contract, and never the secret.
func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		yaml string
		want []string // each must appear as a whole line of the error
	}{
		// keys
		{"unknown top key", "listen: 127.0.0.1:1\nlisten_addr: x\n", []string{`dap.yaml:2: unknown key "listen_addr" (did you mean "listen"?)`}},
		{"unknown target key", target("    max_row: 5\n"), []string{`dap.yaml:5: targets[0]: unknown key "max_row" (did you mean "max_rows"?)`}},
		{"camel case key", target("    maxRows: 5\n"), []string{`dap.yaml:5: targets[0]: unknown key "maxRows" (did you mean "max_rows"?)`}},
		{"unknown key without a close match", target("    colour: red\n"), []string{`dap.yaml:5: targets[0]: unknown key "colour" (known keys: name, engine, dsn, dsn_file, access, max_rows, max_result_bytes, statement_timeout, max_connections, procedures, description)`}},
		{"key that is a connection string", "targets:\n  - name: a\n    engine: sqlite\n    dsn: x\n    postgres://u:" + secret + "@h/db: 1\n", []string{`dap.yaml:5: targets[0]: unknown key (value hidden: it looks like a connection string) (known keys: name, engine, dsn, dsn_file, access, max_rows, max_result_bytes, statement_timeout, max_connections, procedures, description)`}},
		{"duplicate top key", "listen: 127.0.0.1:1\nlisten: 127.0.0.1:2\n", []string{`dap.yaml:2: duplicate key "listen" (first at line 1)`}},
		{"duplicate target key", target("    dsn: y.db\n"), []string{`dap.yaml:5: targets[0]: duplicate key "dsn" (first at line 4)`}},
		{"non-scalar key", "[a]: 1\n", []string{"dap.yaml:1: keys must be plain names"}},

		// values
		{"bad access", target("    access: rw\n"), []string{`dap.yaml:5: targets[0].access: "rw" is not an access mode (want read-only, read-write or admin)`}},
		{"bad name", "targets:\n  - name: Shop DB\n    engine: sqlite\n    dsn: x\n", []string{`dap.yaml:2: targets[0].name: "Shop DB" is not a valid name (1-63 of a-z, 0-9, _ and -)`}},
		{"name too long", "targets:\n  - name: " + strings.Repeat("a", 64) + "\n    engine: sqlite\n    dsn: x\n", []string{`dap.yaml:2: targets[0].name: "` + strings.Repeat("a", 40) + `..." is not a valid name (1-63 of a-z, 0-9, _ and -)`}},
		{"name holding a DSN", "targets:\n  - name: postgres://u:" + secret + "@h\n    engine: sqlite\n    dsn: x\n", []string{"dap.yaml:2: targets[0].name: (value hidden: it looks like a connection string) is not a valid name (1-63 of a-z, 0-9, _ and -)"}},
		{"bad engine", "targets:\n  - name: a\n    engine: oracle\n    dsn: x\n", []string{`dap.yaml:3: targets[0].engine: "oracle" is not an engine (want postgres, mysql, sqlite or sqlserver)`}},
		{"duplicate name", "targets:\n  - name: shop\n    engine: sqlite\n    dsn: x\n  - name: b\n    engine: sqlite\n    dsn: x\n  - name: shop\n    engine: sqlite\n    dsn: y\n", []string{`dap.yaml:8: targets[2].name: duplicate target name "shop" (first defined at line 2)`}},
		{"max_rows not a number", target("    max_rows: ten\n"), []string{`dap.yaml:5: targets[0].max_rows: "ten" is not a whole number`}},
		{"max_rows zero", target("    max_rows: 0\n"), []string{"dap.yaml:5: targets[0].max_rows: 0 is out of range (1 to 1000000)"}},
		{"max_rows too many", target("    max_rows: 1000001\n"), []string{"dap.yaml:5: targets[0].max_rows: 1000001 is out of range (1 to 1000000)"}},
		{"max_rows float", target("    max_rows: 1e3\n"), []string{`dap.yaml:5: targets[0].max_rows: "1e3" is not a whole number`}},
		{"max_connections", target("    max_connections: 1001\n"), []string{"dap.yaml:5: targets[0].max_connections: 1001 is out of range (1 to 1000)"}},
		{"size syntax", target("    max_result_bytes: 4 apples\n"), []string{`dap.yaml:5: targets[0].max_result_bytes: "4 apples" is not a size (examples: 4MiB, 512KiB, 1MB, 1000000)`}},
		{"size too large", target("    max_result_bytes: 2GiB\n"), []string{`dap.yaml:5: targets[0].max_result_bytes: "2GiB" is out of range (1KiB to 1GiB)`}},
		{"size too small", target("    max_result_bytes: 100\n"), []string{`dap.yaml:5: targets[0].max_result_bytes: "100" is out of range (1KiB to 1GiB)`}},
		{"duration syntax", target("    statement_timeout: 30\n"), []string{`dap.yaml:5: targets[0].statement_timeout: "30" is not a duration (examples: 500ms, 30s, 2m, 1h30m)`}},
		{"duration too long", target("    statement_timeout: 25h\n"), []string{`dap.yaml:5: targets[0].statement_timeout: "25h" is out of range (1ms to 24h)`}},
		{"duration too short", target("    statement_timeout: 10us\n"), []string{`dap.yaml:5: targets[0].statement_timeout: "10us" is out of range (1ms to 24h)`}},
		{"procedure names", target("    procedures:\n      - a.b.c\n      - x;drop\n      - 1abc\n"), []string{
			`dap.yaml:6: targets[0].procedures[0]: "a.b.c" is not a procedure name (name or schema.name)`,
			`dap.yaml:7: targets[0].procedures[1]: "x;drop" is not a procedure name (name or schema.name)`,
			`dap.yaml:8: targets[0].procedures[2]: "1abc" is not a procedure name (name or schema.name)`}},
		{"procedures not a list", target("    procedures: p\n"), []string{"dap.yaml:5: targets[0].procedures: want a list such as [reporting.monthly_sales]"}},
		{"description too long", target("    description: " + strings.Repeat("é", 501) + "\n"), []string{"dap.yaml:5: targets[0].description: longer than 500 characters"}},
		{"listen without port", "listen: localhost\n", []string{`dap.yaml:1: listen: "localhost" is not host:port (example 127.0.0.1:8787)`}},
		{"listen bad port", "listen: localhost:http\n", []string{`dap.yaml:1: listen: "localhost:http" has a port that is not a number from 0 to 65535`}},
		{"auth not a mapping", "auth: yes\n", []string{"dap.yaml:1: auth: want a mapping of keys (key: value)"}},
		{"auth null", "auth:\n", []string{"dap.yaml:1: auth: has no value (remove the key to use the defaults)"}},
		{"auth unknown key", "auth:\n  require: true\n", []string{`dap.yaml:2: auth: unknown key "require" (did you mean "required"?)`}},
		{"auth required not a bool", "auth:\n  required: yes\n", []string{`dap.yaml:2: auth.required: "yes" is not true or false`}},
		{"auth required null", "auth:\n  required:\n", []string{"dap.yaml:2: auth.required: has no value (remove the key to use the default)"}},
		{"rate limit negative", "auth:\n  rate_limit:\n    requests_per_second: -1\n", []string{"dap.yaml:3: auth.rate_limit.requests_per_second: -1 is out of range (0 to 100000)"}},
		{"rate limit float", "auth:\n  rate_limit:\n    requests_per_second: 2.5\n", []string{`dap.yaml:3: auth.rate_limit.requests_per_second: "2.5" is not a whole number`}},
		{"burst too large", "auth:\n  rate_limit:\n    burst: 1000001\n", []string{"dap.yaml:3: auth.rate_limit.burst: 1000001 is out of range (0 to 1000000)"}},
		{"rate limit unknown key", "auth:\n  rate_limit:\n    rps: 5\n", []string{`dap.yaml:3: auth.rate_limit: unknown key "rps" (known keys: requests_per_second, burst)`}},
		{"oidc null", "auth:\n  oidc:\n", []string{"dap.yaml:2: auth.oidc: has no value (give issuer and audience, or remove the key)"}},
		{"oidc not a mapping", "auth:\n  oidc: https://idp\n", []string{"dap.yaml:2: auth.oidc: want a mapping of keys (key: value)"}},
		{"oidc no audience", "auth:\n  oidc:\n    issuer: https://idp.example.com\n", []string{"dap.yaml:3: auth.oidc: audience is missing (the aud the provider puts in tokens for DAP, e.g. api://dap)"}},
		{"oidc no issuer", "auth:\n  oidc:\n    audience: dap\n", []string{"dap.yaml:3: auth.oidc: issuer is missing (the provider's issuer URL, e.g. https://login.microsoftonline.com/TENANT/v2.0)"}},
		{"oidc http issuer", "auth:\n  oidc:\n    issuer: http://idp.example.com\n    audience: dap\n", []string{`dap.yaml:3: auth.oidc.issuer: must use https (plain http only on a loopback host)`}},
		{"oidc relative issuer", "auth:\n  oidc:\n    issuer: idp.example.com\n    audience: dap\n", []string{`dap.yaml:3: auth.oidc.issuer: want an absolute URL without query or fragment (e.g. https://idp.example.com/realms/dap)`}},
		{"oidc ftp issuer", "auth:\n  oidc:\n    issuer: ftp://idp.example.com\n    audience: dap\n", []string{`dap.yaml:3: auth.oidc.issuer: must use https`}},
		{"oidc empty claim", "auth:\n  oidc:\n    issuer: https://idp.example.com\n    audience: dap\n    user_claim: ''\n", []string{"dap.yaml:5: auth.oidc.user_claim: is empty"}},
		{"oidc unknown key", "auth:\n  oidc:\n    issuer: https://idp.example.com\n    audience: dap\n    client_id: x\n", []string{`dap.yaml:5: auth.oidc: unknown key "client_id" (known keys: issuer, audience, user_claim, groups_claim)`}},
		{"rate limit null", "auth:\n  rate_limit:\n", []string{"dap.yaml:2: auth.rate_limit: has no value (remove the key to use the defaults; requests_per_second: 0 disables the limit)"}},
		{"log level", "log_level: loud\n", []string{`dap.yaml:1: log_level: "loud" is not a level (want debug, info, warn or error)`}},
		{"null value", "listen:\n", []string{"dap.yaml:1: listen: has no value (remove the key to use the default)"}},
		{"list value", "listen: [a, b]\n", []string{"dap.yaml:1: listen: want a single value, not a list"}},
		{"mapping value", target("    access: {mode: admin}\n"), []string{"dap.yaml:5: targets[0].access: want a single value, not a mapping"}},
		{"explicit tag", target("    description: !!binary aGVsbG8=\n"), []string{"dap.yaml:5: targets[0].description: explicit YAML tags (!tag) are not supported; write a plain value"}},
		{"custom tag", "listen: !env LISTEN\n", []string{"dap.yaml:1: listen: explicit YAML tags (!tag) are not supported; write a plain value"}},

		// required keys and dsn / dsn_file
		{"missing keys", "targets:\n  - access: admin\n", []string{"dap.yaml:2: targets[0]: missing name", "dap.yaml:2: targets[0]: missing engine (postgres, mysql, sqlite or sqlserver)", "dap.yaml:2: targets[0]: missing dsn (or dsn_file)"}},
		{"dsn and dsn_file", "targets:\n  - name: a\n    engine: mysql\n    dsn: x/\n    dsn_file: secrets/crm.dsn\n", []string{"dap.yaml:2: targets[0]: give dsn or dsn_file, not both"}},
		{"dsn_file missing", "targets:\n  - name: a\n    engine: mysql\n    dsn_file: nope.dsn\n", []string{"dap.yaml:4: targets[0].dsn_file: cannot read nope.dsn: file does not exist"}},
		{"dsn_file empty", "targets:\n  - name: a\n    engine: mysql\n    dsn_file: /abs/empty.dsn\n", []string{"dap.yaml:4: targets[0].dsn_file: /abs/empty.dsn is empty"}},
		{"dsn_file bad content", "targets:\n  - name: a\n    engine: mysql\n    dsn_file: /abs/bad.dsn\n", []string{"dap.yaml:4: targets[0].dsn_file: the DSN in /abs/bad.dsn has no /dbname part; the MySQL driver wants user:pass@tcp(host:3306)/db (the database may be empty: .../)"}},
		{"dsn empty", "targets:\n  - name: a\n    engine: sqlite\n    dsn: ''\n", []string{"dap.yaml:4: targets[0].dsn: is empty"}},
		{"dsn empty after expansion", "targets:\n  - name: a\n    engine: sqlite\n    dsn: ${EMPTY}\n", []string{"dap.yaml:4: targets[0].dsn: is empty"}},
		{"postgres dsn neither form", "targets:\n  - name: a\n    engine: postgres\n    dsn: " + secret + "\n", []string{"dap.yaml:4: targets[0].dsn: is neither a postgres:// URL nor a key=value string (host=... user=... dbname=...)"}},
		{"postgres dsn bad URL", "targets:\n  - name: a\n    engine: postgres\n    dsn: postgres://u:" + secret + "@h:port/db\n", []string{"dap.yaml:4: targets[0].dsn: is not a valid postgres:// URL (percent-encode special characters such as @ : / ? # in the user name and password)"}},
		{"postgres dsn other scheme", "targets:\n  - name: a\n    engine: postgres\n    dsn: mysql://u:" + secret + "@h/db\n", []string{"dap.yaml:4: targets[0].dsn: has a URL scheme other than postgres:// or postgresql://"}},
		{"mysql dsn as URL", "targets:\n  - name: a\n    engine: mysql\n    dsn: mysql://u:" + secret + "@h/db\n", []string{"dap.yaml:4: targets[0].dsn: is a URL; the MySQL driver wants user:pass@tcp(host:3306)/db"}},
		{"sqlserver dsn", "targets:\n  - name: a\n    engine: sqlserver\n    dsn: " + secret + "\n", []string{"dap.yaml:4: targets[0].dsn: is neither a sqlserver:// URL nor a key=value string (server=...;user id=...;database=...)"}},
		{"sqlite dsn as URL", "targets:\n  - name: a\n    engine: sqlite\n    dsn: sqlite:///" + secret + ".db\n", []string{"dap.yaml:4: targets[0].dsn: is a URL; give a file path or a file: URI (file:/path/to/db.sqlite)"}},
		{"dsn with a line break", "targets:\n  - name: a\n    engine: postgres\n    dsn: ${BAD_DSN}\n", []string{"dap.yaml:4: targets[0].dsn: contains a control character (a line break inside the DSN?)"}},
		{"targets not a list", "targets: shop\n", []string{"dap.yaml:1: targets: want a list of targets (each starting with - name: ...)"}},
		{"target not a mapping", "targets:\n  - shop\n", []string{"dap.yaml:2: targets[0]: want a mapping of keys (name, engine, dsn ...)"}},

		// expansion
		{"unset variable", "targets:\n  - name: a\n    engine: mysql\n    dsn: ${NOPE}\n", []string{"dap.yaml:4: targets[0].dsn: environment variable NOPE is not set (use ${NOPE:-default} for a default)"}},
		{"bad variable name", "listen: ${1X}\n", []string{`dap.yaml:1: listen: ${1X}: "1X" is not a variable name (letters, digits and _)`}},
		{"bad variable name in a dsn", "targets:\n  - name: a\n    engine: postgres\n    dsn: postgres://u:" + secret + "${x@h/db}\n", []string{"dap.yaml:4: targets[0].dsn: a ${...} holds no valid variable name (want ${NAME} with letters, digits and _; write $$ for a literal $)"}},
		{"unterminated variable", "listen: ${X\n", []string{"dap.yaml:1: listen: unterminated ${ (want ${NAME} or ${NAME:-default}; write $$ for a literal $)"}},
		{"expanded value is not shown", "listen: ${LISTEN}\n", []string{`dap.yaml:1: listen: "${LISTEN}" (as expanded) has a port that is not a number from 0 to 65535`}},
		{"expanded value cannot inject YAML", "log_level: ${STRUCTURE}\n", []string{`dap.yaml:1: log_level: "${STRUCTURE}" (as expanded) is not a level (want debug, info, warn or error)`}},
		{"keys are not expanded", "${LISTEN}: x\n", []string{`dap.yaml:1: unknown key "${LISTEN}" (known keys: listen, log_level, data_dir, repository, local_user, local_role, auth, targets)`}},

		// hostile and broken files
		{"top level list", "- a\n- b\n", []string{"dap.yaml:1: the top level must be a mapping of keys (listen, log_level, targets)"}},
		{"top level scalar", "hello\n", []string{"dap.yaml:1: the top level must be a mapping of keys (listen, log_level, targets)"}},
		{"empty file", "", []string{"dap.yaml: the file is empty; see docs/configuration.md for an example"}},
		{"blank file", "  \n\n", []string{"dap.yaml: the file is empty; see docs/configuration.md for an example"}},
		{"only comments", "# dap\n", []string{"dap.yaml: the file is empty (only comments); see docs/configuration.md for an example"}},
		{"anchor and alias", "targets:\n  - &t {name: a, engine: sqlite, dsn: x}\n  - *t\n", []string{"dap.yaml:2: YAML anchors and aliases (& and *) are not supported in dap.yaml; write the values out"}},
		{"merge key", "targets:\n  - <<: {name: a}\n    engine: sqlite\n    dsn: x\n", []string{`dap.yaml:2: targets[0]: unknown key "<<" (known keys: name, engine, dsn, dsn_file, access, max_rows, max_result_bytes, statement_timeout, max_connections, procedures, description)`}},
		{"unknown alias", "listen: *" + secret + "\n", []string{"dap.yaml: not valid YAML: an alias (*name) refers to an unknown anchor; anchors and aliases are not supported in dap.yaml"}},
		{"billion laughs", billionLaughs, []string{"dap.yaml:1: YAML anchors and aliases (& and *) are not supported in dap.yaml; write the values out"}},
		{"second document", "listen: 127.0.0.1:1\n---\ntargets: []\n", []string{"dap.yaml:2: a second YAML document starts here (---); dap.yaml holds one document"}},
		{"syntax", "targets:\n  - name: a\n    engine: [\n", []string{"dap.yaml:3: not valid YAML: did not find expected node content"}},
		{"unclosed quote", "targets:\n  - name: a\n    dsn: \"postgres://u:" + secret + "@h\n", []string{"dap.yaml:3: not valid YAML: found unexpected end of stream"}},
		{"tabs", "targets:\n\t- name: a\n  \t  engine: sqlite\n", []string{"dap.yaml:2: indented with a tab; YAML indents with spaces only", "dap.yaml:3: indented with a tab; YAML indents with spaces only"}},
		{"binary", "listen: x\n\x00\x01\x02\xff", []string{"dap.yaml:2: the file contains a control character (0x00); dap.yaml must be a text file"}},
		{"not utf-8", "listen: x\n\n\xff\xfe\n", []string{"dap.yaml:3: the file is not UTF-8 text (byte 0xff); dap.yaml must be a UTF-8 text file"}},
		{"deep nesting", "targets: " + strings.Repeat("[", 20000) + "\n", []string{"dap.yaml: not valid YAML: exceeded max depth of 10000"}},
		{"too large", "# " + strings.Repeat("x", MaxFileBytes), []string{"dap.yaml: 1048578 bytes is over the 1048576-byte limit for a configuration file"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := parse(t, tc.yaml)
			if err == nil {
				t.Fatalf("no error; cfg = %+v", cfg)
			}
			lines := strings.Split(err.Error(), "\n")
			for _, w := range tc.want {
				if !contains(lines, w) {
					t.Errorf("error\n%s\nhas no line\n%s", err, w)
				}
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error leaks the secret: %s", err)
			}
			var e *Error
			if !errors.As(err, &e) || e.File != "dap.yaml" {
				t.Errorf("errors.As(*Error) = %v", e)
			}
		})
	}
}

// billionLaughs is the classic alias bomb: nine levels of ten aliases.
var billionLaughs = func() string {
	var b strings.Builder
	b.WriteString("a0: &a0 [lol]\n")
	for i := 1; i <= 9; i++ {
		b.WriteString("a" + strconv.Itoa(i) + ": &a" + strconv.Itoa(i) + " [")
		for j := 0; j < 10; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("*a" + strconv.Itoa(i-1))
		}
		b.WriteString("]\n")
	}
	return b.String()
}()

func TestAllErrorsReportedInLineOrder(t *testing.T) {
	_, err := parse(t, `log_level: loud
targets:
  - name: a
    engine: x
    dsn: ${PG_DSN}
    access: rw
  - name: a
    engine: sqlite
    dsn: y
    max_row: 3
bogus: 1
`)
	if err == nil {
		t.Fatal("no error")
	}
	want := []string{
		`dap.yaml:1: log_level: "loud" is not a level (want debug, info, warn or error)`,
		`dap.yaml:4: targets[0].engine: "x" is not an engine (want postgres, mysql, sqlite or sqlserver)`,
		`dap.yaml:6: targets[0].access: "rw" is not an access mode (want read-only, read-write or admin)`,
		`dap.yaml:7: targets[1].name: duplicate target name "a" (first defined at line 3)`,
		`dap.yaml:10: targets[1]: unknown key "max_row" (did you mean "max_rows"?)`,
		`dap.yaml:11: unknown key "bogus" (known keys: listen, log_level, data_dir, repository, local_user, local_role, auth, targets)`,
	}
	if got := err.Error(); got != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", got, strings.Join(want, "\n"))
	}
}

func TestErrorCountIsBounded(t *testing.T) {
	var b strings.Builder
	for i := 0; i < 250; i++ {
		b.WriteString("k" + strconv.Itoa(i) + ": 1\n")
	}
	_, err := parse(t, b.String())
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != maxErrors+1 || lines[maxErrors] != "dap.yaml: 150 more problems not shown; fix the ones above first" {
		t.Errorf("%d lines, last %q", len(lines), lines[len(lines)-1])
	}
	if !regexp.MustCompile(`^dap\.yaml:1: unknown key "k0"`).MatchString(lines[0]) {
		t.Errorf("first line %q", lines[0])
	}
}
