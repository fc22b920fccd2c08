package secrets

import (
	"errors"
	"strings"
	"testing"
)

func TestParseRef(t *testing.T) {
	tests := []struct {
		in   string
		want Ref
	}{
		{"env:DB_PASSWORD", Ref{Scheme: SchemeEnv, Name: "DB_PASSWORD"}},
		{"env:_x1", Ref{Scheme: SchemeEnv, Name: "_x1"}},
		{"file:/run/secrets/db", Ref{Scheme: SchemeFile, Name: "/run/secrets/db"}},
		{"keystore:shop-db", Ref{Scheme: SchemeKeystore, Name: "shop-db"}},
		{"keystore:prod/shop.db_1", Ref{Scheme: SchemeKeystore, Name: "prod/shop.db_1"}},
		{"azure-keyvault://kv-prod/shop-dsn", Ref{Scheme: SchemeAzure, Vault: "kv-prod", Name: "shop-dsn"}},
		{"azure-keyvault://kv-prod/shop-dsn/0123abcdef", Ref{Scheme: SchemeAzure, Vault: "kv-prod", Name: "shop-dsn", Version: "0123abcdef"}},
		{"vault://secret/db/shop#password", Ref{Scheme: SchemeVault, Mount: "secret", Name: "db/shop", Key: "password"}},
		{"vault://kv/shop#user.name", Ref{Scheme: SchemeVault, Mount: "kv", Name: "shop", Key: "user.name"}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseRef(tt.in)
			if err != nil {
				t.Fatalf("ParseRef(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Fatalf("ParseRef(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
			if got.String() != tt.in {
				t.Fatalf("String() = %q, want %q", got.String(), tt.in)
			}
		})
	}
}

func TestParseRefPlain(t *testing.T) {
	for _, in := range []string{
		"", "postgres://u:p@h/db?sslmode=require", "mysql://root@tcp(127.0.0.1:3306)/x",
		"vault:secret/x", "vaults://x/y#z", "ENV:HOME", "environment", "keystore", "envy:x",
		"file:shop.db?mode=ro", "file:/data/shop.db?mode=ro&cache=shared", "file:///data/shop.db",
		"azure-keyvault:/x", "p@ss:word", "\x00\xff garbage",
	} {
		got, err := ParseRef(in)
		if err != nil {
			t.Fatalf("ParseRef(%q): %v", in, err)
		}
		if !got.IsPlain() || got.Plain != in || got.String() != in {
			t.Fatalf("ParseRef(%q) = %+v, want a plain value", in, got)
		}
	}
}

func TestParseRefInvalid(t *testing.T) {
	tests := []struct{ in, wantMsg string }{
		{"env:", "variable name"},
		{"env:1ABC", "do not start with a digit"},
		{"env:A-B", "letters, digits and '_'"},
		{"env:" + strings.Repeat("A", 300), "1-256"},
		{"file:/a\x00b", "NUL"},
		{"file:/" + strings.Repeat("a", 5000), "longer than 4096"},
		{"keystore:", "1-128"},
		{"keystore:/abs", "do not start or end"},
		{"keystore:a//b", "'//'"},
		{"keystore:a b", "letters, digits"},
		{"keystore:" + strings.Repeat("a", 129), "1-128"},
		{"azure-keyvault://vault-only", "expected azure-keyvault://"},
		{"azure-keyvault://ab/secret", "vault names"},
		{"azure-keyvault://9vault/secret", "vault names"},
		{"azure-keyvault://vault/sec_ret", "secret names"},
		{"azure-keyvault://vault/secret/", "version"},
		{"azure-keyvault://vault/secret/v1/extra", "expected azure-keyvault://"},
		{"vault://secret/db/shop", "#key is required"},
		{"vault://secret/db/shop#", "#key is required"},
		{"vault://secret#password", "expected vault://mount/path#key"},
		{"vault:///db#k", "expected vault://mount/path#key"},
		{"vault://secret/../x#k", "'..'"},
		{"vault://secret//x#k", "must not be empty"},
		{"vault://secret/a b#k", "path segments use"},
		{"vault://secret/x#k#k", "keys have"},
	}
	for _, tt := range tests {
		t.Run(quoteShort(tt.in), func(t *testing.T) {
			_, err := ParseRef(tt.in)
			if !errors.Is(err, ErrInvalidRef) {
				t.Fatalf("ParseRef(%q) error = %v, want ErrInvalidRef", tt.in, err)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("ParseRef(%q) error = %q, want it to mention %q", tt.in, err, tt.wantMsg)
			}
			if len(err.Error()) > 400 {
				t.Fatalf("error message is %d bytes; huge inputs must be truncated", len(err.Error()))
			}
		})
	}
}

func FuzzParseRef(f *testing.F) {
	for _, s := range []string{
		"env:A", "file:/x", "keystore:a/b", "azure-keyvault://vault/name/v1",
		"vault://secret/db/shop#password", "postgres://x", "file:x.db?mode=ro", "vault://a/b#c#d",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRef(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidRef) {
				t.Fatalf("ParseRef(%q) error %v does not wrap ErrInvalidRef", s, err)
			}
			return
		}
		if r.IsPlain() {
			if r.Plain != s {
				t.Fatalf("plain value changed: %q -> %q", s, r.Plain)
			}
			return
		}
		// A reference round-trips through its canonical form.
		if r.String() != s {
			t.Fatalf("String() = %q, want %q", r.String(), s)
		}
		again, err := ParseRef(r.String())
		if err != nil || again != r {
			t.Fatalf("re-parse of %q = %+v, %v; want %+v", r.String(), again, err, r)
		}
	})
}
