package secrets

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

// assertNoLeak fails when an error message contains any of the secrets.
func assertNoLeak(t *testing.T, err error, secrets ...string) {
	t.Helper()
	if err == nil {
		return
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(err.Error(), s) {
			t.Fatalf("error %q leaks a secret", err)
		}
	}
}

func TestResolveLocal(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	pw := write("pw", "file-secret-1\r\n\n", 0o600)
	inner := write("inner", "  spaced value \t", 0o600)
	empty := write("empty", "\n", 0o600)
	huge := filepath.Join(dir, "huge")
	if f, err := os.Create(huge); err != nil {
		t.Fatal(err)
	} else {
		if err := f.Truncate(MaxSecretSize + 1); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	env := newFakeEnv(map[string]string{"DB_PW": "env-secret-1", "EMPTY": ""})
	r := NewResolver(Options{LookupEnv: env.Lookup})

	tests := []struct {
		in, want string
		wantErr  error
		errHas   string
	}{
		{in: "postgres://app:pw@db:5432/shop?sslmode=require", want: "postgres://app:pw@db:5432/shop?sslmode=require"},
		{in: "file:shop.db?mode=ro", want: "file:shop.db?mode=ro"},
		{in: "", want: ""},
		{in: "env:DB_PW", want: "env-secret-1"},
		{in: "env:NOPE", wantErr: ErrNotFound, errHas: "secrets: env:NOPE: environment variable NOPE is not set"},
		{in: "env:EMPTY", wantErr: ErrNotFound, errHas: "empty"},
		{in: "env:1X", wantErr: ErrInvalidRef},
		{in: "file:" + pw, want: "file-secret-1"},
		{in: "file:" + inner, want: "  spaced value \t"},
		{in: "file:" + empty, wantErr: ErrNotFound, errHas: "empty"},
		{in: "file:" + dir + "/missing", wantErr: ErrNotFound, errHas: "file:" + dir + "/missing"},
		{in: "file:" + huge, errHas: "larger than"},
		{in: "file:" + dir, errHas: "file:" + dir},
		{in: "keystore:x", wantErr: ErrInvalidRef, errHas: "no keystore is configured"},
	}
	for _, tt := range tests {
		t.Run(quoteShort(tt.in), func(t *testing.T) {
			got, err := r.Resolve(context.Background(), tt.in)
			if tt.wantErr == nil && tt.errHas == "" {
				if err != nil || got != tt.want {
					t.Fatalf("Resolve = %q, %v; want %q", got, err, tt.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("Resolve = %q, want an error", got)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.errHas) {
				t.Fatalf("err = %q, want it to contain %q", err, tt.errHas)
			}
		})
	}
}

func TestFilePermissionWarning(t *testing.T) {
	dir := t.TempDir()
	loose := filepath.Join(dir, "loose")
	if err := os.WriteFile(loose, []byte("v\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(loose, 0o644); err != nil {
		t.Fatal(err)
	}
	r := NewResolver(Options{})
	if v, err := r.Resolve(context.Background(), "file:"+loose); err != nil || v != "v" {
		t.Fatalf("a group/world-readable file must still resolve: %q, %v", v, err)
	}
	h := r.Health(context.Background())
	if len(h) != 1 || h[0].Provider != SchemeFile || !h[0].OK || len(h[0].Warnings) != 1 ||
		!strings.Contains(h[0].Warnings[0], "mode 0644") {
		t.Fatalf("Health = %+v, want file OK with a mode warning", h)
	}
	if err := os.Chmod(loose, 0o600); err != nil {
		t.Fatal(err)
	}
	if h := r.Health(context.Background()); len(h[0].Warnings) != 0 {
		t.Fatalf("warning survived chmod 600: %+v", h)
	}
}

func TestResolveCacheTTLAndInvalidate(t *testing.T) {
	clock := &fakeClock{now: t0}
	env := newFakeEnv(map[string]string{"PW": "v1"})
	r := NewResolver(Options{LookupEnv: env.Lookup, Now: clock.Now, TTL: 5 * time.Minute})
	ctx := context.Background()
	steps := []struct {
		name    string
		act     func()
		want    string
		wantErr error
	}{
		{"first read", func() {}, "v1", nil},
		{"rotated at the source, still cached", func() { env.Set("PW", "v2") }, "v1", nil},
		{"just before the TTL", func() { clock.Advance(5*time.Minute - time.Second) }, "v1", nil},
		{"TTL expired", func() { clock.Advance(time.Second) }, "v2", nil},
		{"rotated again, cached", func() { env.Set("PW", "v3") }, "v2", nil},
		{"invalidated after an auth failure", func() { r.Invalidate("env:PW") }, "v3", nil},
		{"invalidate of a plain or bad value is harmless", func() { r.Invalidate("postgres://x"); r.Invalidate("env:") }, "v3", nil},
	}
	for _, s := range steps {
		s.act()
		got, err := r.Resolve(ctx, "env:PW")
		if err != nil || got != s.want {
			t.Fatalf("%s: Resolve = %q, %v; want %q", s.name, got, err, s.want)
		}
	}
}

func TestVaultProvider(t *testing.T) {
	const token = "hvs.test-token-abc123"
	fv := newFakeVault(t, token)
	fv.set("secret/db/shop", map[string]any{"password": "vault-pw-1", "port": 5432, "tls": true, "nested": map[string]any{"a": 1}, "nothing": nil})
	fv.set("kv/team a", map[string]any{"k": "spaced-path"}) // not reachable: space is refused by ParseRef
	fv.set("kv/app@prod", map[string]any{"user": "svc"})

	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		opts    VaultOptions
		env     map[string]string
		ref     string
		want    string
		wantErr error
		errHas  string
	}{
		{name: "string", env: map[string]string{"VAULT_ADDR": fv.srv.URL, "VAULT_TOKEN": token}, ref: "vault://secret/db/shop#password", want: "vault-pw-1"},
		{name: "number", opts: VaultOptions{Addr: fv.srv.URL, Token: token}, ref: "vault://secret/db/shop#port", want: "5432"},
		{name: "bool", opts: VaultOptions{Addr: fv.srv.URL + "/", Token: token}, ref: "vault://secret/db/shop#tls", want: "true"},
		{name: "escaped path", opts: VaultOptions{Addr: fv.srv.URL, Token: token}, ref: "vault://kv/app@prod#user", want: "svc"},
		{name: "token file", opts: VaultOptions{Addr: fv.srv.URL, TokenFile: tokenFile}, ref: "vault://secret/db/shop#password", want: "vault-pw-1"},
		{name: "token file from env", env: map[string]string{"VAULT_ADDR": fv.srv.URL, "VAULT_TOKEN_FILE": tokenFile}, ref: "vault://secret/db/shop#password", want: "vault-pw-1"},
		{name: "object value", opts: VaultOptions{Addr: fv.srv.URL, Token: token}, ref: "vault://secret/db/shop#nested", wantErr: ErrInvalidRef, errHas: `key "nested"`},
		{name: "null value", opts: VaultOptions{Addr: fv.srv.URL, Token: token}, ref: "vault://secret/db/shop#nothing", wantErr: ErrInvalidRef},
		{name: "missing key", opts: VaultOptions{Addr: fv.srv.URL, Token: token}, ref: "vault://secret/db/shop#user", wantErr: ErrNotFound, errHas: `no key "user"`},
		{name: "404", opts: VaultOptions{Addr: fv.srv.URL, Token: token}, ref: "vault://secret/db/nope#password", wantErr: ErrNotFound, errHas: "vault://secret/db/nope#password: Vault answered 404"},
		{name: "403 bad token", opts: VaultOptions{Addr: fv.srv.URL, Token: "hvs.wrong-token-xyz"}, ref: "vault://secret/db/shop#password", wantErr: ErrDenied, errHas: "403 (permission denied)"},
		{name: "no token", opts: VaultOptions{Addr: fv.srv.URL, TokenFile: filepath.Join(dir, "none")}, ref: "vault://secret/db/shop#password", wantErr: ErrDenied, errHas: "set VAULT_TOKEN"},
		{name: "no address", opts: VaultOptions{Token: token}, ref: "vault://secret/db/shop#password", wantErr: ErrInvalidRef, errHas: "VAULT_ADDR"},
		{name: "bad address", opts: VaultOptions{Addr: "ftp://x", Token: token}, ref: "vault://secret/db/shop#password", wantErr: ErrInvalidRef, errHas: "http(s) URL"},
		{name: "unreachable", opts: VaultOptions{Addr: "http://127.0.0.1:1", Token: token}, ref: "vault://secret/db/shop#password", wantErr: ErrUnavailable, errHas: "Vault request failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := tt.env
			if env == nil {
				env = map[string]string{}
			}
			env["HOME"] = dir // no ~/.vault-token fallback from the real home
			r := NewResolver(Options{Vault: tt.opts, LookupEnv: newFakeEnv(env).Lookup})
			got, err := r.Resolve(context.Background(), tt.ref)
			assertNoLeak(t, err, token, "hvs.wrong-token-xyz", "vault-pw-1")
			if tt.wantErr == nil {
				if err != nil || got != tt.want {
					t.Fatalf("Resolve = %q, %v; want %q", got, err, tt.want)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), tt.errHas) {
				t.Fatalf("err = %v; want %v containing %q", err, tt.wantErr, tt.errHas)
			}
		})
	}

	t.Run("namespace header", func(t *testing.T) {
		fv.namespace = "team-a"
		defer func() { fv.namespace = "" }()
		for ns, wantErr := range map[string]error{"team-a": nil, "": ErrDenied} {
			r := NewResolver(Options{Vault: VaultOptions{Addr: fv.srv.URL, Token: token, Namespace: ns}, LookupEnv: newFakeEnv(map[string]string{}).Lookup})
			_, err := r.Resolve(context.Background(), "vault://secret/db/shop#password")
			if !errors.Is(err, wantErr) && !(wantErr == nil && err == nil) {
				t.Fatalf("namespace %q: err = %v, want %v", ns, err, wantErr)
			}
		}
	})
}

func TestVaultGarbageAnswers(t *testing.T) {
	for _, tt := range []struct {
		name    string
		status  int
		wantErr error
	}{
		{"sealed 503", http.StatusServiceUnavailable, ErrUnavailable},
		{"rate limited", http.StatusTooManyRequests, ErrUnavailable},
		{"200 with html", http.StatusOK, ErrUnavailable},
		{"400", http.StatusBadRequest, ErrInvalidRef},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fv := newFakeVault(t, "tok")
			fv.setStatus(tt.status)
			r := NewResolver(Options{Vault: VaultOptions{Addr: fv.srv.URL, Token: "tok"}})
			if _, err := r.Resolve(context.Background(), "vault://secret/x#k"); !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
		})
	}
	t.Run("huge answer", func(t *testing.T) {
		fv := newFakeVault(t, "tok")
		fv.set("secret/big", map[string]any{"k": strings.Repeat("x", MaxSecretSize)})
		r := NewResolver(Options{Vault: VaultOptions{Addr: fv.srv.URL, Token: "tok"}})
		if _, err := r.Resolve(context.Background(), "vault://secret/big#k"); err == nil || !strings.Contains(err.Error(), "larger than") {
			t.Fatalf("err = %v, want a size error", err)
		}
	})
}

// TestLastGoodValue: an unreachable provider serves the last good value and
// shows in Health; a provider that answers "denied" or "not found" does not.
func TestLastGoodValue(t *testing.T) {
	const token = "tok-1"
	ctx := context.Background()
	setup := func(t *testing.T) (*fakeVault, *Resolver, *fakeClock) {
		fv := newFakeVault(t, token)
		fv.set("secret/db/shop", map[string]any{"password": "pw-1"})
		clock := &fakeClock{now: t0}
		r := NewResolver(Options{Now: clock.Now, Vault: VaultOptions{Addr: fv.srv.URL, Token: token}})
		if v, err := r.Resolve(ctx, "vault://secret/db/shop#password"); err != nil || v != "pw-1" {
			t.Fatalf("first Resolve = %q, %v", v, err)
		}
		clock.Advance(DefaultTTL + time.Second)
		return fv, r, clock
	}
	const ref = "vault://secret/db/shop#password"

	t.Run("stopped server", func(t *testing.T) {
		fv, r, _ := setup(t)
		fv.srv.Close()
		v, err := r.Resolve(ctx, ref)
		if err != nil || v != "pw-1" {
			t.Fatalf("Resolve with the server down = %q, %v; want the last good value", v, err)
		}
		h := r.Health(ctx)
		if len(h) != 1 || h[0].OK || !strings.Contains(h[0].Detail, "serving last good value for: "+ref) ||
			!strings.Contains(h[0].LastError, "Vault request failed") || !h[0].LastErrorAt.Equal(t0.Add(DefaultTTL+time.Second)) {
			t.Fatalf("Health = %+v", h)
		}
		assertNoLeak(t, errors.New(h[0].LastError+h[0].Detail), token, "pw-1")
	})

	t.Run("sealed: provider asked again only after RetryAfterFailure", func(t *testing.T) {
		fv, r, clock := setup(t)
		fv.setStatus(http.StatusServiceUnavailable)
		base := fv.requests.Load()
		for range 3 {
			if v, err := r.Resolve(ctx, ref); err != nil || v != "pw-1" {
				t.Fatalf("Resolve while sealed = %q, %v", v, err)
			}
		}
		if n := fv.requests.Load() - base; n != 1 {
			t.Fatalf("%d provider calls while serving the last good value, want 1", n)
		}
		clock.Advance(DefaultRetryAfterFailure)
		fv.setStatus(0)
		fv.set("secret/db/shop", map[string]any{"password": "pw-2"})
		if v, err := r.Resolve(ctx, ref); err != nil || v != "pw-2" {
			t.Fatalf("after recovery Resolve = %q, %v; want the new value", v, err)
		}
		if h := r.Health(ctx); !h[0].OK || !strings.Contains(h[0].LastError, "503") {
			t.Fatalf("Health after recovery = %+v, want OK with the old error kept", h)
		}
	})

	t.Run("denied is not hidden", func(t *testing.T) {
		fv, r, _ := setup(t)
		fv.token = "rotated-token" // our token was revoked
		if _, err := r.Resolve(ctx, ref); !errors.Is(err, ErrDenied) {
			t.Fatalf("err = %v, want ErrDenied", err)
		}
		fv.srv.Close()
		if _, err := r.Resolve(ctx, ref); !errors.Is(err, ErrUnavailable) {
			t.Fatalf("after a denial the last good value must be gone; err = %v", err)
		}
	})

	t.Run("deleted secret is not hidden", func(t *testing.T) {
		fv, r, _ := setup(t)
		fv.set("secret/db/shop", nil)
		fv.mu.Lock()
		delete(fv.secrets, "secret/db/shop")
		fv.mu.Unlock()
		if _, err := r.Resolve(ctx, ref); !errors.Is(err, ErrNotFound) {
			t.Fatalf("err = %v, want ErrNotFound", err)
		}
	})

	t.Run("never read: unavailable is an error", func(t *testing.T) {
		fv := newFakeVault(t, token)
		fv.srv.Close()
		r := NewResolver(Options{Vault: VaultOptions{Addr: fv.srv.URL, Token: token}})
		if _, err := r.Resolve(ctx, ref); !errors.Is(err, ErrUnavailable) {
			t.Fatalf("err = %v, want ErrUnavailable", err)
		}
	})
}

func TestResolveSingleflight(t *testing.T) {
	fv := newFakeVault(t, "tok")
	fv.set("secret/db/shop", map[string]any{"password": "pw"})
	fv.gate = make(chan struct{})
	r := NewResolver(Options{Vault: VaultOptions{Addr: fv.srv.URL, Token: "tok"}})
	const n = 32
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := r.Resolve(context.Background(), "vault://secret/db/shop#password")
			if err == nil && v != "pw" {
				err = errors.New("wrong value " + v)
			}
			errs <- err
		}()
	}
	<-fv.arrived // one call is in flight; late goroutines join it or hit the cache
	close(fv.gate)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := fv.requests.Load(); got != 1 {
		t.Fatalf("%d provider calls for %d concurrent resolutions, want 1", got, n)
	}
}

func TestResolveCallerCancel(t *testing.T) {
	fv := newFakeVault(t, "tok")
	fv.set("secret/a", map[string]any{"k": "v"})
	fv.gate = make(chan struct{})
	r := NewResolver(Options{Vault: VaultOptions{Addr: fv.srv.URL, Token: "tok"}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { _, err := r.Resolve(ctx, "vault://secret/a#k"); done <- err }()
	<-fv.arrived
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	close(fv.gate)
	// The detached call still completes and fills the cache for others.
	if v, err := r.Resolve(context.Background(), "vault://secret/a#k"); err != nil || v != "v" {
		t.Fatalf("Resolve after a canceled caller = %q, %v", v, err)
	}
	if got := fv.requests.Load(); got != 1 {
		t.Fatalf("%d provider calls, want 1", got)
	}
}

func TestKeystoreThroughResolver(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ks.json")
	key := mustKey(t)
	ks, err := OpenKeystore(path, key)
	if err != nil {
		t.Fatal(err)
	}
	if err := ks.Set("shop", "ks-secret-1"); err != nil {
		t.Fatal(err)
	}
	goodEnv := map[string]string{EnvMasterKey: base64.StdEncoding.EncodeToString(key)}
	otherKey := base64.StdEncoding.EncodeToString(mustKey(t))
	ctx := context.Background()
	tests := []struct {
		name    string
		opts    Options
		ref     string
		want    string
		wantErr error
	}{
		{name: "key from env", opts: Options{KeystorePath: path, LookupEnv: newFakeEnv(goodEnv).Lookup}, ref: "keystore:shop", want: "ks-secret-1"},
		{name: "key given", opts: Options{KeystorePath: path, MasterKey: key}, ref: "keystore:shop", want: "ks-secret-1"},
		{name: "missing entry", opts: Options{KeystorePath: path, MasterKey: key}, ref: "keystore:nope", wantErr: ErrNotFound},
		{name: "wrong key", opts: Options{KeystorePath: path, LookupEnv: newFakeEnv(map[string]string{EnvMasterKey: otherKey}).Lookup}, ref: "keystore:shop", wantErr: ErrWrongMasterKey},
		{name: "no key", opts: Options{KeystorePath: path, LookupEnv: newFakeEnv(map[string]string{}).Lookup}, ref: "keystore:shop", wantErr: ErrNotFound},
		{name: "missing keystore file", opts: Options{KeystorePath: filepath.Join(dir, "nope.json"), MasterKey: key}, ref: "keystore:shop", wantErr: ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NewResolver(tt.opts).Resolve(ctx, tt.ref)
			assertNoLeak(t, err, "ks-secret-1", otherKey, goodEnv[EnvMasterKey])
			if tt.wantErr == nil {
				if err != nil || got != tt.want {
					t.Fatalf("Resolve = %q, %v; want %q", got, err, tt.want)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "nope.json")); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("resolving against a missing keystore created a file")
	}

	t.Run("health of a configured keystore", func(t *testing.T) {
		h := NewResolver(Options{KeystorePath: path, MasterKey: key}).Health(ctx)
		if len(h) != 1 || h[0].Provider != SchemeKeystore || !h[0].OK || !strings.Contains(h[0].Detail, "1 entries") {
			t.Fatalf("Health = %+v", h)
		}
		h = NewResolver(Options{KeystorePath: path, MasterKey: mustKey(t)}).Health(ctx)
		if len(h) != 1 || h[0].OK || !strings.Contains(h[0].LastError, "master key does not open") {
			t.Fatalf("Health with a wrong key = %+v", h)
		}
	})

	t.Run("rotated entry seen after Invalidate", func(t *testing.T) {
		r := NewResolver(Options{KeystorePath: path, MasterKey: key})
		if v, _ := r.Resolve(ctx, "keystore:shop"); v != "ks-secret-1" {
			t.Fatalf("Resolve = %q", v)
		}
		if err := ks.Set("shop", "ks-secret-2"); err != nil {
			t.Fatal(err)
		}
		r.Invalidate("keystore:shop")
		if v, err := r.Resolve(ctx, "keystore:shop"); err != nil || v != "ks-secret-2" {
			t.Fatalf("after Invalidate Resolve = %q, %v", v, err)
		}
	})
}
