package config

import (
	"os"
	"testing"
)

// secret is the sentinel password: no error message may ever contain it.
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

// testEnv and testFiles are the environment and files every table test
// sees; several of them carry the secret.
var (
	testEnv = map[string]string{
		"PG_DSN":    "postgres://u:" + secret + "@h/db",
		"BAD_DSN":   "host=h\npassword=" + secret,
		"EMPTY":     "",
		"ROWS":      "50",
		"LISTEN":    "127.0.0.1:" + secret,
		"STRUCTURE": "x: {y: 1}\n- z",
	}
	testFiles = map[string]string{
		"secrets/crm.dsn":   "u:" + secret + "@tcp(h:3306)/crm\n",
		"/abs/empty.dsn":    "\n",
		"/abs/bad.dsn":      "u:" + secret + "@tcp(h:3306)\n",
		"conf/secrets/x.db": "/var/lib/x.db\r\n",
	}
)

func parse(t testing.TB, yaml string) (*Config, error) {
	t.Helper()
	return Parse([]byte(yaml), "dap.yaml", env(testEnv), files(testFiles))
}

// target wraps lines of a target's keys into a file with one target that
// is otherwise valid, so each test names only what it is about.
func target(extra string) string {
	return "targets:\n  - name: a\n    engine: sqlite\n    dsn: x.db\n" + extra
}
