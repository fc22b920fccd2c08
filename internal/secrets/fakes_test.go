package secrets

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"
)

// fakeVault speaks the HashiCorp Vault / OpenBao KV v2 read API:
// GET /v1/{mount}/data/{path} with X-Vault-Token.
type fakeVault struct {
	srv       *httptest.Server
	token     string
	namespace string
	requests  atomic.Int64
	// gate, when set, holds every request until it is closed.
	gate    chan struct{}
	arrived chan struct{}

	mu      sync.Mutex
	secrets map[string]map[string]any // "mount/path" -> data
	status  int                       // when non-zero, every request answers this
}

func newFakeVault(t *testing.T, token string) *fakeVault {
	t.Helper()
	fv := &fakeVault{token: token, secrets: map[string]map[string]any{}, arrived: make(chan struct{}, 1024)}
	fv.srv = httptest.NewServer(http.HandlerFunc(fv.serve))
	t.Cleanup(fv.srv.Close)
	return fv
}

func (fv *fakeVault) set(mountPath string, data map[string]any) {
	fv.mu.Lock()
	defer fv.mu.Unlock()
	fv.secrets[mountPath] = data
}

func (fv *fakeVault) setStatus(code int) {
	fv.mu.Lock()
	defer fv.mu.Unlock()
	fv.status = code
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func (fv *fakeVault) serve(w http.ResponseWriter, r *http.Request) {
	fv.requests.Add(1)
	fv.arrived <- struct{}{}
	if fv.gate != nil {
		<-fv.gate
	}
	fv.mu.Lock()
	defer fv.mu.Unlock()
	if fv.status != 0 {
		msg := "Vault is sealed"
		if fv.status == http.StatusOK {
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write([]byte("<html>not vault</html>"))
			return
		}
		writeJSON(w, fv.status, map[string]any{"errors": []string{msg}})
		return
	}
	if r.Method != http.MethodGet {
		writeJSON(w, http.StatusMethodNotAllowed, map[string]any{"errors": []string{"unsupported operation"}})
		return
	}
	if r.Header.Get("X-Vault-Token") != fv.token || (fv.namespace != "" && r.Header.Get("X-Vault-Namespace") != fv.namespace) {
		writeJSON(w, http.StatusForbidden, map[string]any{"errors": []string{"permission denied"}})
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/v1/")
	mount, path, ok2 := strings.Cut(rest, "/data/")
	if !ok || !ok2 {
		writeJSON(w, http.StatusNotFound, map[string]any{"errors": []string{}})
		return
	}
	data, found := fv.secrets[mount+"/"+path]
	if !found {
		writeJSON(w, http.StatusNotFound, map[string]any{"errors": []string{}})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"request_id": "5a0b0c0d", "lease_id": "", "renewable": false, "lease_duration": 0,
		"data": map[string]any{
			"data":     data,
			"metadata": map[string]any{"created_time": "2026-01-02T03:04:05Z", "deletion_time": "", "destroyed": false, "version": 3},
		},
	})
}

// fakeKeyVault speaks the Azure Key Vault secrets REST API over TLS for
// hosts *.vault.azure.net, including the bearer challenge: a request
// without Authorization gets 401 and a WWW-Authenticate header naming the
// tenant and resource, as the real service does.
type fakeKeyVault struct {
	srv        *httptest.Server
	token      string
	challenges atomic.Int64
	requests   atomic.Int64

	mu      sync.Mutex
	secrets map[string]map[string]string // "vault/name" -> version -> value ("" key: latest version id)
}

func newFakeKeyVault(t *testing.T, token string) (*fakeKeyVault, *azsecrets.ClientOptions) {
	t.Helper()
	fk := &fakeKeyVault{token: token, secrets: map[string]map[string]string{}}
	cert, pool := vaultCert(t)
	fk.srv = httptest.NewUnstartedServer(http.HandlerFunc(fk.serve))
	fk.srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	fk.srv.StartTLS()
	t.Cleanup(fk.srv.Close)
	addr := fk.srv.Listener.Addr().String()
	var d net.Dialer
	client := &http.Client{Transport: &http.Transport{
		// Every *.vault.azure.net name goes to the local server, so the
		// SDK's default URL and its challenge-resource check run unchanged.
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return d.DialContext(ctx, "tcp", addr)
		},
		TLSClientConfig: &tls.Config{RootCAs: pool},
	}}
	t.Cleanup(client.CloseIdleConnections)
	return fk, &azsecrets.ClientOptions{ClientOptions: azcore.ClientOptions{
		Transport: client,
		Retry:     policy.RetryOptions{MaxRetries: -1},
	}}
}

func (fk *fakeKeyVault) set(vault, name, version, value string) {
	fk.mu.Lock()
	defer fk.mu.Unlock()
	k := vault + "/" + name
	if fk.secrets[k] == nil {
		fk.secrets[k] = map[string]string{}
	}
	fk.secrets[k][version] = value
	fk.secrets[k][""] = version
}

func (fk *fakeKeyVault) serve(w http.ResponseWriter, r *http.Request) {
	fk.requests.Add(1)
	vault, ok := strings.CutSuffix(r.Host, ".vault.azure.net")
	if !ok || r.URL.Query().Get("api-version") == "" {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": map[string]string{"code": "BadParameter", "message": "bad host or missing api-version"}})
		return
	}
	auth := r.Header.Get("Authorization")
	if auth == "" {
		fk.challenges.Add(1)
		w.Header().Set("WWW-Authenticate", `Bearer authorization="https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47", resource="https://vault.azure.net"`)
		writeJSON(w, http.StatusUnauthorized, map[string]any{"error": map[string]string{"code": "Unauthorized", "message": "AKV10000: Request is missing a Bearer or PoP token."}})
		return
	}
	if auth != "Bearer "+fk.token {
		writeJSON(w, http.StatusForbidden, map[string]any{"error": map[string]string{"code": "Forbidden", "message": "The user, group or application does not have secrets get permission."}})
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/secrets/")
	if !ok || r.Method != http.MethodGet {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": map[string]string{"code": "BadParameter", "message": "unsupported"}})
		return
	}
	name, version, _ := strings.Cut(strings.TrimSuffix(rest, "/"), "/")
	fk.mu.Lock()
	defer fk.mu.Unlock()
	versions := fk.secrets[vault+"/"+name]
	if version == "" {
		version = versions[""]
	}
	value, found := versions[version]
	if versions == nil || !found || version == "" {
		writeJSON(w, http.StatusNotFound, map[string]any{"error": map[string]string{"code": "SecretNotFound", "message": "A secret with (name/id) " + name + " was not found in this key vault."}})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"value":      value,
		"id":         "https://" + r.Host + "/secrets/" + name + "/" + version,
		"attributes": map[string]any{"enabled": true, "created": 1767225600, "updated": 1767225600, "recoveryLevel": "Recoverable+Purgeable"},
	})
}

// vaultCert makes a self-signed certificate for *.vault.azure.net.
func vaultCert(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "*.vault.azure.net"},
		DNSNames:              []string{"*.vault.azure.net"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:                  true,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: priv, Leaf: leaf}, pool
}

// staticCredential is an azcore.TokenCredential returning a fixed token;
// it records the scopes the SDK asked for (learned from the challenge).
type staticCredential struct {
	token  string
	mu     sync.Mutex
	scopes []string
}

func (c *staticCredential) GetToken(_ context.Context, opts policy.TokenRequestOptions) (azcore.AccessToken, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.scopes = append(c.scopes, opts.Scopes...)
	return azcore.AccessToken{Token: c.token, ExpiresOn: time.Now().Add(time.Hour)}, nil
}

// fakeClock is an adjustable clock for TTL tests.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// fakeEnv is a concurrency-safe environment for Options.LookupEnv.
type fakeEnv struct {
	mu   sync.Mutex
	vars map[string]string
}

func newFakeEnv(kv map[string]string) *fakeEnv { return &fakeEnv{vars: kv} }

func (e *fakeEnv) Set(k, v string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.vars[k] = v
}

func (e *fakeEnv) Lookup(k string) (string, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	v, ok := e.vars[k]
	return v, ok
}
