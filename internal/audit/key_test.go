package audit

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadOrCreateKey(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "keys", "audit.key")
	k1, err := LoadOrCreateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %o, want 600", st.Mode().Perm())
	}
	k2, err := LoadOrCreateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(k1, k2) {
		t.Fatal("reloading the key file gave a different key")
	}
	if id := KeyID(pubOf(k1)); len(id) != 16 {
		t.Fatalf("KeyID = %q, want 16 hex digits", id)
	}

	tests := []struct {
		name  string
		setup func(t *testing.T) string
		want  string
	}{
		{"readable by others", func(t *testing.T) string {
			p := filepath.Join(t.TempDir(), "k")
			data, _ := os.ReadFile(path)
			if err := os.WriteFile(p, data, 0o644); err != nil {
				t.Fatal(err)
			}
			return p
		}, "must be readable by its owner only"},
		{"not PEM", func(t *testing.T) string {
			p := filepath.Join(t.TempDir(), "k")
			if err := os.WriteFile(p, []byte("garbage"), 0o600); err != nil {
				t.Fatal(err)
			}
			return p
		}, `is not a PEM "PRIVATE KEY"`},
		{"directory cannot be created", func(t *testing.T) string {
			p := filepath.Join(t.TempDir(), "file")
			if err := os.WriteFile(p, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			return filepath.Join(p, "audit.key")
		}, "audit.key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadOrCreateKey(tt.setup(t))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("LoadOrCreateKey error %v, want one containing %q", err, tt.want)
			}
		})
	}
}
