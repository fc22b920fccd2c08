package secrets

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func mustKey(t *testing.T) []byte {
	t.Helper()
	k, err := GenerateMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestKeystoreRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keystore.json")
	key := mustKey(t)
	ks, err := OpenKeystore(path, key)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatalf("a new keystore must be written at once: %v", err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode = %04o, want 0600", fi.Mode().Perm())
	}
	values := map[string]string{
		"shop-dsn":    "postgres://app:s3cr3t-very-unique@db/shop",
		"prod/mysql":  "root:another-unique-pw@tcp(db)/x",
		"unicode.pwd": "пароль-ü-🔑",
		"binary":      "\x00\x01\xff",
	}
	for name, v := range values {
		if err := ks.Set(name, v); err != nil {
			t.Fatalf("Set(%q): %v", name, err)
		}
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range values {
		if bytes.Contains(raw, []byte(v)) {
			t.Fatalf("keystore file contains a plaintext value")
		}
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode after Set = %04o, want 0600", fi.Mode().Perm())
	}
	if leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".*tmp*")); len(leftovers) != 0 {
		t.Fatalf("temporary files left behind: %v", leftovers)
	}

	// Reopen: another process sees the same entries.
	ks2, err := OpenKeystore(path, key)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range values {
		got, err := ks2.Get(name)
		if err != nil || got != want {
			t.Fatalf("Get(%q) = %q, %v; want %q", name, got, err, want)
		}
	}
	list := ks2.List()
	if len(list) != len(values) || list[0].Name != "binary" || list[3].Name != "unicode.pwd" {
		t.Fatalf("List() = %+v, want 4 entries sorted by name", list)
	}
	for _, e := range list {
		if e.Created.IsZero() || !e.Rotated.IsZero() {
			t.Fatalf("entry %+v: want Created set and Rotated zero", e)
		}
	}

	// Replacing a value keeps Created and sets Rotated.
	if err := ks2.Set("shop-dsn", "new-value"); err != nil {
		t.Fatal(err)
	}
	for _, e := range ks2.List() {
		if e.Name == "shop-dsn" && e.Rotated.IsZero() {
			t.Fatalf("Rotated not set after replacing a value: %+v", e)
		}
	}
	if err := ks2.Delete("binary"); err != nil {
		t.Fatal(err)
	}
	if _, err := ks2.Get("binary"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after Delete: %v, want ErrNotFound", err)
	}
	if err := ks2.Delete("binary"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second Delete: %v, want ErrNotFound", err)
	}
	ks3, err := OpenKeystore(path, key)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := ks3.Get("shop-dsn"); got != "new-value" {
		t.Fatalf("after reopen Get = %q, want the replaced value", got)
	}
	if len(ks3.List()) != 3 {
		t.Fatalf("after reopen List = %+v, want 3 entries", ks3.List())
	}
}

func TestKeystoreWrongKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ks.json")
	ks, err := OpenKeystore(path, mustKey(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := ks.Set("a", "b"); err != nil {
		t.Fatal(err)
	}
	_, err = OpenKeystore(path, mustKey(t))
	if !errors.Is(err, ErrWrongMasterKey) || err.Error() != "keystore: master key does not open this keystore" {
		t.Fatalf("wrong key: %v", err)
	}
	// An empty keystore is bound to its key too.
	empty := filepath.Join(t.TempDir(), "empty.json")
	if _, err := OpenKeystore(empty, mustKey(t)); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenKeystore(empty, mustKey(t)); !errors.Is(err, ErrWrongMasterKey) {
		t.Fatalf("wrong key on an empty keystore: %v", err)
	}
	for _, n := range []int{0, 16, 31, 33, 64} {
		if _, err := OpenKeystore(path, make([]byte, n)); err == nil || !strings.Contains(err.Error(), "must be 32 bytes") {
			t.Fatalf("key of %d bytes: %v", n, err)
		}
	}
}

func TestKeystoreRotateMasterKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ks.json")
	oldKey, newKey := mustKey(t), mustKey(t)
	ks, err := OpenKeystore(path, oldKey)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"a", "b", "c"} {
		if err := ks.Set(n, "value-"+n); err != nil {
			t.Fatal(err)
		}
	}
	before := ks.List()
	if err := ks.RotateMasterKey(newKey); err != nil {
		t.Fatal(err)
	}
	// The same handle keeps working with the new key.
	if v, err := ks.Get("b"); err != nil || v != "value-b" {
		t.Fatalf("Get after rotation = %q, %v", v, err)
	}
	if _, err := OpenKeystore(path, oldKey); !errors.Is(err, ErrWrongMasterKey) {
		t.Fatalf("old key after rotation: %v, want ErrWrongMasterKey", err)
	}
	ks2, err := OpenKeystore(path, newKey)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"a", "b", "c"} {
		if v, err := ks2.Get(n); err != nil || v != "value-"+n {
			t.Fatalf("Get(%q) with new key = %q, %v", n, v, err)
		}
	}
	after := ks2.List()
	for i := range before {
		if !before[i].Created.Equal(after[i].Created) {
			t.Fatalf("rotation changed Created of %q", before[i].Name)
		}
	}
	if err := ks2.RotateMasterKey([]byte("short")); err == nil {
		t.Fatal("rotation to a short key succeeded")
	}
}

// tamper edits one entry of the file on disk.
func tamper(t *testing.T, path string, edit func(entries map[string]*ksEntry)) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var f ksFile
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	edit(f.Entries)
	out, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, out, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestKeystoreTampered(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(map[string]*ksEntry)
		entry string
	}{
		{"flipped ciphertext byte", func(m map[string]*ksEntry) { m["db"].Ciphertext[0] ^= 1 }, "db"},
		{"flipped tag byte", func(m map[string]*ksEntry) { c := m["db"].Ciphertext; c[len(c)-1] ^= 0x80 }, "db"},
		{"flipped nonce", func(m map[string]*ksEntry) { m["db"].Nonce[3] ^= 1 }, "db"},
		{"short nonce (would panic in AES-GCM)", func(m map[string]*ksEntry) { m["db"].Nonce = m["db"].Nonce[:5] }, "db"},
		{"truncated ciphertext", func(m map[string]*ksEntry) { m["db"].Ciphertext = m["db"].Ciphertext[:3] }, "db"},
		{"swapped between names", func(m map[string]*ksEntry) {
			m["db"].sealed, m["other"].sealed = m["other"].sealed, m["db"].sealed
		}, "db"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "ks.json")
			key := mustKey(t)
			ks, err := OpenKeystore(path, key)
			if err != nil {
				t.Fatal(err)
			}
			if err := ks.Set("db", "the-db-secret"); err != nil {
				t.Fatal(err)
			}
			if err := ks.Set("other", "the-other-secret"); err != nil {
				t.Fatal(err)
			}
			tamper(t, path, tt.edit)
			ks2, err := OpenKeystore(path, key)
			if err != nil {
				t.Fatalf("opening a keystore with one bad entry: %v", err)
			}
			_, err = ks2.Get(tt.entry)
			if !errors.Is(err, ErrTampered) || !strings.Contains(err.Error(), `"`+tt.entry+`"`) {
				t.Fatalf("Get(%q) = %v, want ErrTampered naming the entry", tt.entry, err)
			}
			before, _ := os.ReadFile(path)
			if err := ks2.RotateMasterKey(mustKey(t)); !errors.Is(err, ErrTampered) {
				t.Fatalf("rotation over a tampered entry: %v, want ErrTampered", err)
			}
			after, _ := os.ReadFile(path)
			if !bytes.Equal(before, after) {
				t.Fatal("a failed rotation changed the file")
			}
		})
	}
}

func TestKeystoreGarbageFiles(t *testing.T) {
	key := mustKey(t)
	dir := t.TempDir()
	huge := filepath.Join(dir, "huge")
	f, err := os.Create(huge)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(maxKeystore + 1); err != nil { // sparse: cheap to create
		t.Fatal(err)
	}
	f.Close()
	tests := []struct {
		name, content, want string
	}{
		{"not json", "\x00\x01garbage", "invalid JSON"},
		{"empty file", "", "invalid JSON"},
		{"other json", `{"hello":"world"}`, "not a DAP keystore version 1"},
		{"future version", `{"format":"dap-keystore","version":2}`, "version 2"},
		{"no check value", `{"format":"dap-keystore","version":1}`, "master key does not open"},
		{"wrong types", `{"format":"dap-keystore","version":1,"entries":{"a":{"nonce":"!!"}}}`, "invalid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "_"))
			if err := os.WriteFile(p, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := OpenKeystore(p, key); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("OpenKeystore = %v, want error containing %q", err, tt.want)
			}
		})
	}
	if _, err := OpenKeystore(huge, key); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("huge keystore: %v", err)
	}
	if _, err := OpenKeystore(filepath.Join(dir, "missing-dir", "ks.json"), key); err == nil {
		t.Fatal("creating a keystore in a missing directory succeeded")
	}
}

func TestKeystoreSetValidation(t *testing.T) {
	ks, err := OpenKeystore(filepath.Join(t.TempDir(), "ks.json"), mustKey(t))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, value, want string
	}{
		{"", "v", "1-128"},
		{"a b", "v", "letters, digits"},
		{"/x", "v", "do not start"},
		{"big", strings.Repeat("x", MaxSecretSize+1), "larger than"},
	}
	for _, tt := range tests {
		if err := ks.Set(tt.name, tt.value); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Fatalf("Set(%q) = %v, want error containing %q", tt.name, err, tt.want)
		}
	}
	if err := ks.Set("max", strings.Repeat("x", MaxSecretSize)); err != nil {
		t.Fatalf("a value of exactly MaxSecretSize: %v", err)
	}
	if len(ks.List()) != 1 {
		t.Fatalf("failed Sets changed the keystore: %+v", ks.List())
	}
}

func TestLoadMasterKey(t *testing.T) {
	key := mustKey(t)
	b64 := base64.StdEncoding.EncodeToString(key)
	dir := t.TempDir()
	write := func(name string, data []byte, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	b64File := write("b64", []byte(b64+"\n"), 0o600)
	rawFile := write("raw", key, 0o400)
	looseFile := write("loose", []byte(b64), 0o644)
	shortFile := write("short", []byte(base64.StdEncoding.EncodeToString(key[:16])), 0o600)

	tests := []struct {
		name        string
		env         map[string]string
		wantErr     string
		wantWarning bool
	}{
		{"env base64", map[string]string{EnvMasterKey: b64}, "", false},
		{"env url base64 unpadded", map[string]string{EnvMasterKey: base64.RawURLEncoding.EncodeToString(key)}, "", false},
		{"file base64", map[string]string{EnvMasterKeyFile: b64File}, "", false},
		{"file raw bytes", map[string]string{EnvMasterKeyFile: rawFile}, "", false},
		{"file readable by others", map[string]string{EnvMasterKeyFile: looseFile}, "", true},
		{"both", map[string]string{EnvMasterKey: b64, EnvMasterKeyFile: b64File}, "set only one", false},
		{"none", map[string]string{}, "no master key", false},
		{"not base64", map[string]string{EnvMasterKey: "%%%"}, "not valid base64", false},
		{"short", map[string]string{EnvMasterKey: base64.StdEncoding.EncodeToString(key[:16])}, "32 bytes, got 16", false},
		{"short file", map[string]string{EnvMasterKeyFile: shortFile}, "32 bytes, got 16", false},
		{"missing file", map[string]string{EnvMasterKeyFile: filepath.Join(dir, "nope")}, "no such file", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, warning, err := LoadMasterKey(func(k string) (string, bool) { v, ok := tt.env[k]; return v, ok })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), b64) {
					t.Fatal("error message contains the key")
				}
				return
			}
			if err != nil || !bytes.Equal(got, key) {
				t.Fatalf("LoadMasterKey = %x, %v", got, err)
			}
			if (warning != "") != tt.wantWarning || (tt.wantWarning && !strings.Contains(warning, "chmod 600")) {
				t.Fatalf("warning = %q, want warning: %v", warning, tt.wantWarning)
			}
		})
	}
}

func TestKeystoreConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ks.json")
	ks, err := OpenKeystore(path, mustKey(t))
	if err != nil {
		t.Fatal(err)
	}
	const workers = 8
	errs := make(chan error, workers)
	for w := range workers {
		go func() {
			name := "entry-" + string(rune('a'+w))
			for i := range 5 {
				v := name + "-value-" + string(rune('0'+i))
				if err := ks.Set(name, v); err != nil {
					errs <- err
					return
				}
				if got, err := ks.Get(name); err != nil || got != v {
					errs <- errors.New("Get after Set returned a different value")
					return
				}
				_ = ks.List()
			}
			errs <- nil
		}()
	}
	for range workers {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if n := len(ks.List()); n != workers {
		t.Fatalf("%d entries, want %d", n, workers)
	}
}

func FuzzOpenKeystore(f *testing.F) {
	key := make([]byte, MasterKeySize)
	dir := f.TempDir()
	ks, err := OpenKeystore(filepath.Join(dir, "seed.json"), key)
	if err != nil {
		f.Fatal(err)
	}
	if err := ks.Set("a", "b"); err != nil {
		f.Fatal(err)
	}
	seed, err := os.ReadFile(filepath.Join(dir, "seed.json"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte(`{"format":"dap-keystore","version":1,"entries":{"a":{"nonce":"","ciphertext":""}}}`))
	f.Add([]byte("\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(t.TempDir(), "ks.json")
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		// Any input either fails cleanly or opens; no panics.
		ks, err := OpenKeystore(p, key)
		if err != nil {
			return
		}
		for _, e := range ks.List() {
			if _, err := ks.Get(e.Name); err != nil && !errors.Is(err, ErrTampered) {
				t.Fatalf("Get(%q) on a fuzzed file: %v", e.Name, err)
			}
		}
	})
}
