package secrets

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// VaultOptions configures the vault:// provider (HashiCorp Vault or OpenBao,
// KV version 2). Empty fields fall back to the usual environment variables.
type VaultOptions struct {
	// Addr is the server address; default $VAULT_ADDR.
	Addr string
	// Token is the client token; default $VAULT_TOKEN, then the file named
	// by TokenFile.
	Token string
	// TokenFile holds the token (re-read on each fetch, so a Vault Agent
	// can renew it); default $VAULT_TOKEN_FILE, then ~/.vault-token.
	TokenFile string
	// Namespace is sent as X-Vault-Namespace; default $VAULT_NAMESPACE.
	Namespace string
	// HTTPClient defaults to a client with the resolver's fetch timeout.
	HTTPClient *http.Client
}

type vaultResponse struct {
	Data struct {
		Data map[string]json.RawMessage `json:"data"`
	} `json:"data"`
	Errors []string `json:"errors"`
}

func (r *Resolver) vaultSetting(v, env string) string {
	if v != "" {
		return v
	}
	s, _ := r.opts.LookupEnv(env)
	return s
}

func (r *Resolver) vaultToken() (string, error) {
	if t := r.vaultSetting(r.opts.Vault.Token, "VAULT_TOKEN"); t != "" {
		return t, nil
	}
	file := r.vaultSetting(r.opts.Vault.TokenFile, "VAULT_TOKEN_FILE")
	if file == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", errorf(ErrDenied, "no Vault token: set VAULT_TOKEN or VAULT_TOKEN_FILE")
		}
		file = filepath.Join(home, ".vault-token")
	}
	data, err := readLimited(file, 64<<10)
	if errors.Is(err, fs.ErrNotExist) {
		return "", errorf(ErrDenied, "no Vault token: set VAULT_TOKEN or VAULT_TOKEN_FILE (%s does not exist)", file)
	}
	if err != nil {
		return "", wrapf(ErrDenied, err, "cannot read the Vault token file")
	}
	t := strings.TrimSpace(string(data))
	if t == "" {
		return "", errorf(ErrDenied, "Vault token file %s is empty", file)
	}
	return t, nil
}

// fetchVault reads GET {addr}/v1/{mount}/data/{path} and picks the key.
func (r *Resolver) fetchVault(ctx context.Context, ref Ref) (fetched, error) {
	addr := strings.TrimRight(r.vaultSetting(r.opts.Vault.Addr, "VAULT_ADDR"), "/")
	if addr == "" {
		return fetched{}, errorf(ErrInvalidRef, "no Vault address: set VAULT_ADDR")
	}
	base, err := url.Parse(addr)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return fetched{}, errorf(ErrInvalidRef, "Vault address must be an http(s) URL, like https://vault.example.com:8200")
	}
	token, err := r.vaultToken()
	if err != nil {
		return fetched{}, err
	}
	segs := strings.Split(ref.Name, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	endpoint := addr + "/v1/" + url.PathEscape(ref.Mount) + "/data/" + strings.Join(segs, "/")
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint, nil)
	if err != nil {
		return fetched{}, wrapf(ErrInvalidRef, err, "build Vault request")
	}
	req.Header.Set("X-Vault-Token", token)
	req.Header.Set("Accept", "application/json")
	if ns := r.vaultSetting(r.opts.Vault.Namespace, "VAULT_NAMESPACE"); ns != "" {
		req.Header.Set("X-Vault-Namespace", ns)
	}
	client := r.opts.Vault.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: r.opts.FetchTimeout}
	}
	resp, err := client.Do(req)
	if err != nil {
		// url.Error names the URL (no token: that is a header) and the cause.
		return fetched{}, wrapf(ErrUnavailable, err, "Vault request failed")
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxSecretSize+1))
	if err != nil {
		return fetched{}, wrapf(ErrUnavailable, err, "reading Vault's answer")
	}
	if len(body) > MaxSecretSize {
		return fetched{}, errorf(ErrInvalidRef, "Vault's answer is larger than %d bytes", MaxSecretSize)
	}
	var vr vaultResponse
	jsonErr := json.Unmarshal(body, &vr)
	if resp.StatusCode != http.StatusOK {
		return fetched{}, vaultStatusError(resp.StatusCode, vr.Errors, addr)
	}
	if jsonErr != nil {
		return fetched{}, wrapf(ErrUnavailable, jsonErr, "Vault answered 200 with invalid JSON (is %s a Vault server?)", addr)
	}
	if vr.Data.Data == nil {
		return fetched{}, errorf(ErrNotFound, "Vault answered without data; is mount %q a KV version 2 engine?", ref.Mount)
	}
	raw, ok := vr.Data.Data[ref.Key]
	if !ok {
		return fetched{}, errorf(ErrNotFound, "the secret has no key %q", ref.Key)
	}
	v, err := vaultValue(raw)
	if err != nil {
		return fetched{}, fmt.Errorf("key %q: %w", ref.Key, err)
	}
	return fetched{value: v}, nil
}

// vaultValue accepts strings and scalars (a port stored as a number);
// objects, arrays and null are not a usable secret.
func vaultValue(raw json.RawMessage) (string, error) {
	t := strings.TrimSpace(string(raw))
	var s string
	if t != "null" && json.Unmarshal(raw, &s) == nil {
		return s, nil
	}
	if t == "" || t == "null" || t[0] == '{' || t[0] == '[' {
		return "", errorf(ErrInvalidRef, "value is not a string, number or boolean")
	}
	return t, nil
}

// vaultStatusError maps Vault's status codes to error kinds. Vault's
// "errors" strings are diagnostics ("permission denied"), never secret data.
func vaultStatusError(code int, msgs []string, addr string) error {
	detail := strings.Join(msgs, "; ")
	if len(detail) > 200 {
		detail = detail[:200] + "..."
	}
	if detail != "" {
		detail = " (" + detail + ")"
	}
	switch {
	case code == http.StatusForbidden || code == http.StatusUnauthorized:
		return errorf(ErrDenied, "Vault answered %d%s; check the token and its policy", code, detail)
	case code == http.StatusNotFound:
		return errorf(ErrNotFound, "Vault answered 404%s; check the mount, path and that the secret is not deleted", detail)
	case code == http.StatusTooManyRequests || code >= 500:
		return errorf(ErrUnavailable, "Vault at %s answered %d%s", addr, code, detail)
	default:
		return errorf(ErrInvalidRef, "Vault answered %d%s", code, detail)
	}
}
