package config

import (
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// FuzzParse: no input panics, a nil error comes with a Config, every
// message line is positioned in the file, and no message contains the
// secret, whether it reached a DSN through the file itself, a variable
// (every variable but UNSET holds it) or a dsn_file (every file does).
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"targets:\n  - name: a\n    engine: postgres\n    dsn: postgres://u:" + secret + "@h/db\n",
		"targets:\n  - name: a\n    engine: postgres\n    dsn: " + secret + "\n",
		"targets:\n  - name: a\n    engine: mysql\n    dsn: mysql://u:" + secret + "@h:x/db\n",
		"targets:\n  - name: a\n    engine: postgres\n    dsn: \"postgres://u:" + secret + "${x@h}/db\"\n",
		"targets:\n  - name: a\n    engine: postgres\n    dsn: ${PG_DSN}\n    access: rw\n",
		"targets:\n  - name: a\n    engine: mysql\n    dsn_file: secrets/crm.dsn\n    max_rows: x\n",
		"targets:\n  - name: a\n    engine: sqlserver\n    dsn_file: missing.dsn\n",
		"targets:\n  - {name: a, engine: sqlite, dsn: \"" + secret + "\", max_result_bytes: ${X}}\n",
		"listen: ${X:-127.0.0.1:1}\nlog_level: ${LEVEL}\n",
		"listen: ${UNSET}\ntargets:\n  - name: ${NAME}\n    engine: ${E}\n    dsn: ${D}\n    procedures: [${P}]\n    statement_timeout: ${T}\n",
		"x: &a [*a]\n",
		"targets: [[[[[]]]]]\n",
		"listen: 127.0.0.1:1\n---\nlisten: x\n",
		"targets:\n\t- name: a\n",
		"\t\x00",
		"\xff\xfe",
	} {
		f.Add(seed)
	}
	lookup := func(k string) (string, bool) {
		if k == "UNSET" {
			return "", false
		}
		return "postgres://u:" + secret + "@h/db", true
	}
	readFile := func(p string) ([]byte, error) {
		if strings.Contains(p, "missing") {
			return files(nil)(p)
		}
		return []byte("u:" + secret + "@tcp(h)\n"), nil
	}
	f.Fuzz(func(t *testing.T, data string) {
		type res struct {
			cfg *Config
			err error
		}
		ch := make(chan res, 1)
		go func() { c, e := Parse([]byte(data), "dap.yaml", lookup, readFile); ch <- res{c, e} }()
		var r res
		select {
		case r = <-ch:
		case <-time.After(10 * time.Second): // a hang is a finding too
			t.Fatalf("SLOW INPUT %d bytes: %q", len(data), data)
		}
		cfg, err := r.cfg, r.err
		if err == nil {
			if cfg == nil {
				t.Fatal("nil config without error")
			}
			return
		}
		msg := err.Error()
		for _, l := range strings.Split(msg, "\n") {
			if !strings.HasPrefix(l, "dap.yaml:") {
				t.Fatalf("message line without the file name: %q", l)
			}
		}
		if strings.Contains(msg, secret) && !secretOutsideDSN(data) {
			t.Fatalf("error leaks the secret:\n%s\ninput:\n%q", msg, data)
		}
	})
}

// secretOutsideDSN reports whether the input itself wrote the sentinel in
// a scalar that is not the value of a dsn key (a name, a description, a
// key ...), where an error may legitimately quote it.
func secretOutsideDSN(data string) bool {
	var doc yaml.Node
	if yaml.Unmarshal([]byte(data), &doc) != nil {
		return false
	}
	found := false
	var walk func(n *yaml.Node, dsnValue bool)
	walk = func(n *yaml.Node, dsnValue bool) {
		if n.Kind == yaml.ScalarNode && strings.Contains(n.Value, secret) && !dsnValue {
			found = true
		}
		for i, c := range n.Content {
			isDSN := n.Kind == yaml.MappingNode && i%2 == 1 && n.Content[i-1].Value == "dsn"
			walk(c, isDSN)
		}
	}
	walk(&doc, false)
	return found
}
