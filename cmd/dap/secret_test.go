package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dap-platform/dap/internal/testdb"
)

// runDap runs one dap command in-process with stdin and returns its output.
func runDap(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	out := &syncBuffer{}
	cmd := newRoot(out, out)
	cmd.SetIn(strings.NewReader(stdin))
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(context.Background())
	return out.String(), err
}

// TestSecretReferences: a DSN kept in DAP's keystore (keystore:NAME) or in
// the environment (env:NAME) opens the target; `dap secret list` never
// shows values; a missing entry or a wrong master key is reported by
// `dap check` without any secret.
func TestSecretReferences(t *testing.T) {
	pgDSN := testdb.PostgresDSN(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "state")

	keyOut, err := runDap(t, "", "secret", "generate-key")
	if err != nil {
		t.Fatal(err)
	}
	key := strings.TrimSpace(keyOut)
	if b, err := base64.StdEncoding.DecodeString(key); err != nil || len(b) != 32 {
		t.Fatalf("generate-key printed %q", keyOut)
	}
	t.Setenv("DAP_MASTER_KEY", key)
	t.Setenv("DAP_MASTER_KEY_FILE", "")
	if out, err := runDap(t, pgDSN+"\n", "secret", "set", "shop", "--data-dir", data); err != nil || !strings.Contains(out, "keystore:shop") {
		t.Fatalf("secret set: %v %s", err, out)
	}
	out, err := runDap(t, "", "secret", "list", "--data-dir", data)
	if err != nil || !strings.Contains(out, "shop") || strings.Contains(out, pgDSN) {
		t.Fatalf("secret list: %v\n%s", err, out)
	}
	raw, err := os.ReadFile(filepath.Join(data, "keystore.json"))
	if err != nil || strings.Contains(string(raw), pgDSN) || strings.Contains(string(raw), "127.0.0.1") {
		t.Fatalf("keystore file holds the plaintext DSN (or is unreadable: %v)", err)
	}

	t.Setenv("DAP_TEST_REF_DSN", pgDSN)
	cfg := filepath.Join(dir, "dap.yaml")
	write := func(body string) {
		if err := os.WriteFile(cfg, []byte(fmt.Sprintf("data_dir: %s\ntargets:\n%s", data, body)), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("  - {name: fromks, engine: postgres, dsn: \"keystore:shop\"}\n  - {name: fromenv, engine: postgres, dsn: \"env:DAP_TEST_REF_DSN\"}\n")
	out, err = runDap(t, "", "check", "--config", cfg)
	if err != nil || strings.Count(out, " ok") < 2 || !strings.Contains(out, "secret provider keystore: ok") {
		t.Fatalf("check with references: %v\n%s", err, out)
	}

	write("  - {name: missing, engine: postgres, dsn: \"keystore:nope\"}\n")
	out, err = runDap(t, "", "check", "--config", cfg)
	if err == nil || !strings.Contains(out, "keystore:nope") {
		t.Fatalf("check with a missing entry: %v\n%s", err, out)
	}

	t.Setenv("DAP_MASTER_KEY", base64.StdEncoding.EncodeToString(make([]byte, 32)))
	write("  - {name: fromks, engine: postgres, dsn: \"keystore:shop\"}\n")
	out, err = runDap(t, "", "check", "--config", cfg)
	if err == nil || !strings.Contains(out, "master key") {
		t.Fatalf("check with a wrong master key: %v\n%s", err, out)
	}
	if strings.Contains(out, pgDSN) || strings.Contains(out, key) {
		t.Fatalf("check output leaks a secret:\n%s", out)
	}
}
