package secrets

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestAzureKeyVault(t *testing.T) {
	const token = "eyJ0eXAiOiJKV1QiLCJhbGciOi.fake-access-token"
	fk, clientOpts := newFakeKeyVault(t, token)
	fk.set("kv-prod", "shop-dsn", "0f1e2d3c4b5a69788796a5b4c3d2e1f0", "azure-old-value")
	fk.set("kv-prod", "shop-dsn", "aa11bb22cc33dd44ee55ff6677889900", "azure-current-value")
	cred := &staticCredential{token: token}
	ctx := context.Background()

	tests := []struct {
		name    string
		cred    *staticCredential
		ref     string
		want    string
		wantErr error
		errHas  string
	}{
		{name: "latest version", cred: cred, ref: "azure-keyvault://kv-prod/shop-dsn", want: "azure-current-value"},
		{name: "pinned version", cred: cred, ref: "azure-keyvault://kv-prod/shop-dsn/0f1e2d3c4b5a69788796a5b4c3d2e1f0", want: "azure-old-value"},
		{name: "not found", cred: cred, ref: "azure-keyvault://kv-prod/nope", wantErr: ErrNotFound, errHas: "azure-keyvault://kv-prod/nope: Key Vault answered 404 Not Found (SecretNotFound)"},
		{name: "unknown version", cred: cred, ref: "azure-keyvault://kv-prod/shop-dsn/ffff", wantErr: ErrNotFound},
		{name: "identity without access", cred: &staticCredential{token: "other-identity-token"}, ref: "azure-keyvault://kv-prod/shop-dsn", wantErr: ErrDenied, errHas: "403 Forbidden (Forbidden)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewResolver(Options{Azure: AzureOptions{Credential: tt.cred, ClientOptions: clientOpts}})
			got, err := r.Resolve(ctx, tt.ref)
			assertNoLeak(t, err, token, "other-identity-token", "azure-current-value", "azure-old-value")
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
	// The SDK's challenge flow ran: unauthenticated first requests got 401,
	// and the token was asked for the resource named in the challenge.
	if fk.challenges.Load() == 0 {
		t.Fatal("no bearer challenge was issued; the SDK's auth flow did not run")
	}
	cred.mu.Lock()
	scopes := cred.scopes
	cred.mu.Unlock()
	if len(scopes) == 0 || scopes[0] != "https://vault.azure.net/.default" {
		t.Fatalf("token scopes = %v, want https://vault.azure.net/.default from the challenge", scopes)
	}
}

func TestAzureLastGoodAndVaultURL(t *testing.T) {
	const token = "tok"
	fk, clientOpts := newFakeKeyVault(t, token)
	fk.set("kv-prod", "shop-dsn", "v1", "azure-v1")
	clock := &fakeClock{now: t0}
	r := NewResolver(Options{Now: clock.Now, Azure: AzureOptions{Credential: &staticCredential{token: token}, ClientOptions: clientOpts}})
	ctx := context.Background()
	const ref = "azure-keyvault://kv-prod/shop-dsn"
	if v, err := r.Resolve(ctx, ref); err != nil || v != "azure-v1" {
		t.Fatalf("Resolve = %q, %v", v, err)
	}
	// Rotation in the vault becomes visible after Invalidate.
	fk.set("kv-prod", "shop-dsn", "v2", "azure-v2")
	r.Invalidate(ref)
	if v, err := r.Resolve(ctx, ref); err != nil || v != "azure-v2" {
		t.Fatalf("after rotation Resolve = %q, %v", v, err)
	}
	fk.srv.Close()
	clock.Advance(time.Hour)
	if v, err := r.Resolve(ctx, ref); err != nil || v != "azure-v2" {
		t.Fatalf("with Key Vault down Resolve = %q, %v; want the last good value", v, err)
	}
	h := r.Health(ctx)
	if len(h) != 1 || h[0].Provider != SchemeAzure || h[0].OK || !strings.Contains(h[0].LastError, "Key Vault request failed") {
		t.Fatalf("Health = %+v", h)
	}

	// A custom VaultURL (private endpoint, sovereign cloud) is honoured.
	fk2, clientOpts2 := newFakeKeyVault(t, token)
	fk2.set("kv-cn-pe", "x", "v1", "custom-url-value")
	var asked []string
	r2 := NewResolver(Options{Azure: AzureOptions{
		Credential:    &staticCredential{token: token},
		ClientOptions: clientOpts2,
		VaultURL: func(v string) string {
			asked = append(asked, v)
			return "https://" + v + "-pe.vault.azure.net/"
		},
	}})
	v, err := r2.Resolve(ctx, "azure-keyvault://kv-cn/x")
	if err != nil || v != "custom-url-value" || len(asked) != 1 || asked[0] != "kv-cn" {
		t.Fatalf("Resolve via VaultURL = %q, %v (VaultURL asked for %v)", v, err, asked)
	}
}
