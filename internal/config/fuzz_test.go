package config

import (
	"strings"
	"testing"
)

// FuzzParse: no input panics, and no error ever contains the DSN's secret
// (whether it came from the file, a variable or a dsn_file).
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"targets:\n  - name: a\n    engine: postgres\n    dsn: postgres://u:" + secret + "@h/db\n",
		"targets:\n  - name: a\n    engine: postgres\n    dsn: ${PG_DSN}\n    access: rw\n",
		"targets:\n  - name: a\n    engine: mysql\n    dsn_file: secrets/crm.dsn\n    max_rows: x\n",
		"targets:\n  - {name: a, engine: sqlite, dsn: \"" + secret + "\", max_result_bytes: " + secret + "}\n",
		"listen: ${X:-" + secret + "}\n",
		"x: &a [*a]\n",
		"targets: [[[[[]]]]]\n",
		"\t\x00",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data string) {
		cfg, err := parse(t, data)
		if err == nil {
			if cfg == nil {
				t.Fatal("nil config without error")
			}
			return
		}
		msg := err.Error()
		// A value the input wrote in a non-secret key may be echoed; the
		// secret must only leak if the input put it in such a key itself.
		if strings.Contains(msg, secret) && !secretInNonDSNKey(data) {
			t.Fatalf("error leaks the secret:\n%s\ninput:\n%q", msg, data)
		}
	})
}

// secretInNonDSNKey reports whether the input itself wrote the sentinel
// where DAP may echo it (in any key other than dsn), in which case an
// error quoting that value is fine.
func secretInNonDSNKey(data string) bool {
	for _, line := range strings.Split(data, "\n") {
		if !strings.Contains(line, secret) {
			continue
		}
		t := strings.TrimLeft(line, " -\t{")
		if !strings.HasPrefix(t, "dsn:") || strings.Count(line, ":") > 2 || strings.Contains(line, ",") {
			return true
		}
	}
	return false
}
