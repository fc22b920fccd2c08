package secrets

import (
	"fmt"
	"path/filepath"
	"strings"
)

// Scheme names a secret provider.
type Scheme string

// The providers. SchemePlain marks a value that is not a reference.
const (
	SchemePlain    Scheme = ""
	SchemeEnv      Scheme = "env"
	SchemeFile     Scheme = "file"
	SchemeKeystore Scheme = "keystore"
	SchemeAzure    Scheme = "azure-keyvault"
	SchemeVault    Scheme = "vault"
)

// Prefixes recognised as references. They are matched exactly and
// case-sensitively, so "postgres://", "vault:x" or "ENV:X" stay plain values.
const (
	prefixEnv      = "env:"
	prefixFile     = "file:"
	prefixKeystore = "keystore:"
	prefixAzure    = "azure-keyvault://"
	prefixVault    = "vault://"
)

const (
	maxRefLen      = 4096
	maxEnvNameLen  = 256
	maxEntryName   = 128
	maxVaultKeyLen = 256
)

// Ref is a parsed secret reference.
type Ref struct {
	Scheme Scheme
	// Plain is the value itself when Scheme is SchemePlain.
	Plain string
	// Name is the variable name (env), the absolute path (file), the entry
	// name (keystore), the secret name (azure) or the path below the mount
	// (vault).
	Name string
	// Vault is the Azure Key Vault name.
	Vault string
	// Version is the optional Azure secret version ("" = latest).
	Version string
	// Mount is the Vault KV v2 mount (the first path segment).
	Mount string
	// Key is the field inside a Vault secret.
	Key string
}

// IsPlain reports whether the value was not a reference.
func (r Ref) IsPlain() bool { return r.Scheme == SchemePlain }

// String returns the reference in canonical form (for a plain value: the
// value itself, so never log a plain Ref).
func (r Ref) String() string {
	switch r.Scheme {
	case SchemeEnv:
		return prefixEnv + r.Name
	case SchemeFile:
		return prefixFile + r.Name
	case SchemeKeystore:
		return prefixKeystore + r.Name
	case SchemeAzure:
		s := prefixAzure + r.Vault + "/" + r.Name
		if r.Version != "" {
			s += "/" + r.Version
		}
		return s
	case SchemeVault:
		return prefixVault + r.Mount + "/" + r.Name + "#" + r.Key
	default:
		return r.Plain
	}
}

// ParseRef parses a configuration value. A value without a known reference
// prefix is returned as a plain Ref; a value with one must be well formed or
// ParseRef returns an error wrapping ErrInvalidRef.
func ParseRef(s string) (Ref, error) {
	var (
		r   Ref
		err error
	)
	switch {
	case strings.HasPrefix(s, prefixEnv):
		r, err = parseEnv(s[len(prefixEnv):])
	case isFileRef(s):
		r, err = parseFile(s[len(prefixFile):])
	case strings.HasPrefix(s, prefixKeystore):
		r, err = parseKeystore(s[len(prefixKeystore):])
	case strings.HasPrefix(s, prefixAzure):
		r, err = parseAzure(s[len(prefixAzure):])
	case strings.HasPrefix(s, prefixVault):
		r, err = parseVault(s[len(prefixVault):])
	default:
		return Ref{Scheme: SchemePlain, Plain: s}, nil
	}
	if err == nil && len(s) > maxRefLen {
		err = fmt.Errorf("longer than %d bytes", maxRefLen)
	}
	if err != nil {
		return Ref{}, fmt.Errorf("secrets: %w %s: %w", ErrInvalidRef, quoteShort(s), err)
	}
	return r, nil
}

// quoteShort quotes a possibly huge or binary input for an error message.
func quoteShort(s string) string {
	const max = 80
	if len(s) > max {
		return fmt.Sprintf("%q...", s[:max])
	}
	return fmt.Sprintf("%q", s)
}

func parseEnv(name string) (Ref, error) {
	if name == "" || len(name) > maxEnvNameLen {
		return Ref{}, fmt.Errorf("env: needs a variable name of 1-%d characters", maxEnvNameLen)
	}
	for i, c := range []byte(name) {
		if !(c == '_' || isLetter(c) || (i > 0 && isDigit(c))) {
			return Ref{}, fmt.Errorf("env: variable names use letters, digits and '_' and do not start with a digit")
		}
	}
	return Ref{Scheme: SchemeEnv, Name: name}, nil
}

// isFileRef decides whether a "file:" value is a reference. SQLite DSNs
// are URIs of the same scheme ("file:shop.db?mode=ro"), so only an absolute
// path without a query or fragment is a reference; anything else is a plain
// value. "file:/data/shop.db" is therefore a reference: write a SQLite DSN
// as a bare path or with a query.
func isFileRef(s string) bool {
	rest, ok := strings.CutPrefix(s, prefixFile)
	return ok && strings.HasPrefix(rest, "/") && !strings.HasPrefix(rest, "//") && !strings.ContainsAny(rest, "?#")
}

func parseFile(path string) (Ref, error) {
	if !filepath.IsAbs(path) {
		return Ref{}, fmt.Errorf("file: needs an absolute path, like file:/run/secrets/db")
	}
	if strings.ContainsRune(path, 0) {
		return Ref{}, fmt.Errorf("file: path contains a NUL byte")
	}
	return Ref{Scheme: SchemeFile, Name: path}, nil
}

func parseKeystore(name string) (Ref, error) {
	if err := validEntryName(name); err != nil {
		return Ref{}, err
	}
	return Ref{Scheme: SchemeKeystore, Name: name}, nil
}

// validEntryName is shared with the Keystore so every stored name can be
// referenced.
func validEntryName(name string) error {
	if name == "" || len(name) > maxEntryName {
		return fmt.Errorf("keystore entry names have 1-%d characters", maxEntryName)
	}
	if name[0] == '/' || name[len(name)-1] == '/' || strings.Contains(name, "//") {
		return fmt.Errorf("keystore entry names do not start or end with '/' or contain '//'")
	}
	for _, c := range []byte(name) {
		if !(isLetter(c) || isDigit(c) || c == '.' || c == '_' || c == '-' || c == '/') {
			return fmt.Errorf("keystore entry names use letters, digits, '.', '_', '-' and '/'")
		}
	}
	return nil
}

func parseAzure(rest string) (Ref, error) {
	parts := strings.Split(rest, "/")
	if len(parts) < 2 || len(parts) > 3 {
		return Ref{}, fmt.Errorf("azure-keyvault: expected azure-keyvault://vault-name/secret-name[/version]")
	}
	vault, name := parts[0], parts[1]
	if len(vault) < 3 || len(vault) > 24 || !isLetter(vault[0]) || !allOf(vault, isAzureNameChar) {
		return Ref{}, fmt.Errorf("azure-keyvault: vault names have 3-24 letters, digits and '-' and start with a letter")
	}
	if name == "" || len(name) > 127 || !allOf(name, isAzureNameChar) {
		return Ref{}, fmt.Errorf("azure-keyvault: secret names have 1-127 letters, digits and '-'")
	}
	r := Ref{Scheme: SchemeAzure, Vault: vault, Name: name}
	if len(parts) == 3 {
		v := parts[2]
		if v == "" || len(v) > 64 || !allOf(v, func(c byte) bool { return isLetter(c) || isDigit(c) }) {
			return Ref{}, fmt.Errorf("azure-keyvault: a version has 1-64 letters and digits")
		}
		r.Version = v
	}
	return r, nil
}

func parseVault(rest string) (Ref, error) {
	pathPart, key, ok := strings.Cut(rest, "#")
	if !ok || key == "" {
		return Ref{}, fmt.Errorf("vault: expected vault://mount/path#key (the #key is required)")
	}
	if len(key) > maxVaultKeyLen || !allOf(key, isVaultChar) {
		return Ref{}, fmt.Errorf("vault: keys have 1-%d letters, digits and '.', '_', '-', '@', '+', '=', ':', ','", maxVaultKeyLen)
	}
	mount, path, ok := strings.Cut(pathPart, "/")
	if !ok || mount == "" || path == "" {
		return Ref{}, fmt.Errorf("vault: expected vault://mount/path#key, e.g. vault://secret/db/shop#password")
	}
	for _, seg := range strings.Split(pathPart, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return Ref{}, fmt.Errorf("vault: path segments must not be empty, '.' or '..'")
		}
		if !allOf(seg, isVaultChar) {
			return Ref{}, fmt.Errorf("vault: path segments use letters, digits and '.', '_', '-', '@', '+', '=', ':', ','")
		}
	}
	return Ref{Scheme: SchemeVault, Mount: mount, Name: path, Key: key}, nil
}

func isLetter(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }
func isDigit(c byte) bool  { return c >= '0' && c <= '9' }

func isAzureNameChar(c byte) bool { return isLetter(c) || isDigit(c) || c == '-' }

func isVaultChar(c byte) bool {
	return isLetter(c) || isDigit(c) || strings.IndexByte("._-@+=:,", c) >= 0
}

func allOf(s string, ok func(byte) bool) bool {
	for i := 0; i < len(s); i++ {
		if !ok(s[i]) {
			return false
		}
	}
	return true
}
