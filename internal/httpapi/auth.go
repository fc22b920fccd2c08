package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/oauthex"

	"github.com/dap-platform/dap/internal/accounts"
	"github.com/dap-platform/dap/internal/audit"
	"github.com/dap-platform/dap/internal/correlation"
)

// MetadataPath is where the OAuth protected resource metadata (RFC 9728)
// is served; 401 answers point to it.
const MetadataPath = "/.well-known/oauth-protected-resource"

// keyDisplayPrefix is how much of a presented key an audit record may
// keep: the display prefix that key listings show (accounts.DisplayPrefix).
const keyDisplayPrefix = accounts.DisplayPrefix

// tokenLifetime is the Expiration given to a verified key's TokenInfo: the
// SDK requires one, and keys carry their own expiry, checked by the store
// on every request.
const tokenLifetime = time.Hour

// Authenticator verifies an API key and returns its user; an
// *accounts.Store satisfies it. Its errors must not contain the key.
type Authenticator interface {
	Authenticate(ctx context.Context, presented string) (user string, err error)
}

// Auditor records authentication failures; an *audit.Appender satisfies it.
type Auditor interface {
	Append(ctx context.Context, e audit.Event) (int64, error)
}

// IsLoopback reports whether a listen address (host:port) accepts only
// connections from this machine: 127.0.0.0/8, ::1 or localhost. An empty
// host (":8787") listens on every interface and is not loopback.
func IsLoopback(listen string) bool {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// CheckExposure refuses to serve without authentication on an address
// other machines can reach: requests without a key run as the local user.
func CheckExposure(listen string, authRequired bool) error {
	if authRequired || IsLoopback(listen) {
		return nil
	}
	return fmt.Errorf("refusing to listen on %s without authentication: requests without an API key would run as the local user. "+
		"Set `auth: {required: true}` in dap.yaml (and create keys with `dap key create`), "+
		"or listen on a loopback address such as 127.0.0.1:8787", listen)
}

// authenticator is the authentication step in front of /mcp.
type authenticator struct {
	store    Authenticator
	required bool
	baseURL  string // fixed public base URL; empty: derived from each request
	auditor  Auditor
	log      *slog.Logger
	oidc     *oidcVerifier // nil: API keys only
	// localUser may not be claimed by a token: it is the configured
	// local identity with its configured role.
	localUser string
}

// base is the URL clients reach DAP at, for the metadata document and the
// WWW-Authenticate header.
func (a *authenticator) base(r *http.Request) string {
	if a.baseURL != "" {
		return strings.TrimRight(a.baseURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// metadata serves the protected resource metadata document. It lists the
// OpenID provider as the authorization server when one is configured;
// otherwise none: clients use API keys they were given.
func (a *authenticator) metadata() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		md := &oauthex.ProtectedResourceMetadata{
			Resource:               a.base(r) + "/mcp",
			BearerMethodsSupported: []string{"header"},
			ResourceName:           "DAP",
		}
		if a.oidc != nil {
			md.AuthorizationServers = []string{a.oidc.cfg.Issuer}
		}
		auth.ProtectedResourceMetadataHandler(md).ServeHTTP(w, r)
	})
}

// wrap authenticates requests to next. A request with an Authorization
// header must carry a valid key (401 otherwise); one without is served as
// the local user only when authentication is not required and the client
// is on this machine.
func (a *authenticator) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := correlation.From(r.Context())
		opts := &auth.RequireBearerTokenOptions{ResourceMetadataURL: a.base(r) + MetadataPath}
		if r.Header.Get("Authorization") == "" {
			if !a.required && remoteIsLoopback(r.RemoteAddr) {
				next.ServeHTTP(w, r)
				return
			}
			reason := "no API key or token: send Authorization: Bearer dap_... (or an OIDC token when configured)"
			if !a.required {
				reason = "no API key from a client on another machine"
			}
			a.fail(r, "", reason)
			// The SDK's middleware answers 401 with WWW-Authenticate.
		}
		auth.RequireBearerToken(func(ctx context.Context, token string, req *http.Request) (*auth.TokenInfo, error) {
			return a.verify(ctx, token, req, id)
		}, opts)(next).ServeHTTP(w, r)
	})
}

// verify checks a presented key with the store, or a token that is not a
// DAP key with the OpenID provider when one is configured. Refusals are
// audited and answered with a short message that names no reason: the
// reason is in the audit trail for the administrator.
func (a *authenticator) verify(ctx context.Context, token string, r *http.Request, id string) (*auth.TokenInfo, error) {
	if a.oidc != nil && !strings.HasPrefix(token, accounts.KeyPrefix) {
		return a.verifyOIDC(ctx, token, r, id)
	}
	if a.store == nil {
		a.fail(r, token, "API keys are not available on this server (no accounts store)")
		return nil, fmt.Errorf("%w: API key not accepted (correlation id %s)", auth.ErrInvalidToken, id)
	}
	user, err := a.store.Authenticate(ctx, token)
	if err == nil {
		return &auth.TokenInfo{UserID: user, Expiration: time.Now().Add(tokenLifetime)}, nil
	}
	a.fail(r, token, err.Error())
	if isRefusal(err) {
		return nil, fmt.Errorf("%w: API key not accepted: unknown, revoked or expired, or its user is disabled (correlation id %s)", auth.ErrInvalidToken, id)
	}
	// The store could not answer (repository down): a 500 without the
	// store's message, which names the repository.
	a.log.Error("API key check failed", "correlation_id", id, "error", err)
	return nil, fmt.Errorf("could not check the API key; retry later (correlation id %s)", id)
}

// verifyOIDC checks a token with the OpenID provider.
func (a *authenticator) verifyOIDC(ctx context.Context, token string, r *http.Request, id string) (*auth.TokenInfo, error) {
	ti, err := a.oidc.verify(ctx, token)
	if err == nil && ti.UserID == a.localUser {
		err = fmt.Errorf("OIDC token refused: its user %q is the configured local identity (local_user), which tokens may not claim", ti.UserID)
	}
	if err == nil {
		return ti, nil
	}
	a.fail(r, token, err.Error())
	if errors.Is(err, errProvider) {
		a.log.Error("OIDC token check failed", "correlation_id", id, "error", err)
		return nil, fmt.Errorf("could not check the token with the OpenID provider; retry later (correlation id %s)", id)
	}
	return nil, fmt.Errorf("%w: token not accepted: invalid, expired, or not issued for this server (correlation id %s)", auth.ErrInvalidToken, id)
}

// isRefusal tells a refused key from a store that could not answer.
func isRefusal(err error) bool {
	return errors.Is(err, accounts.ErrUnknownKey) || errors.Is(err, accounts.ErrKeyRevoked) ||
		errors.Is(err, accounts.ErrKeyExpired) || errors.Is(err, accounts.ErrUserDisabled)
}

// fail records an authentication failure: in the audit trail when there is
// one, and in the log. Of the key, only its display prefix is kept, and
// only when it looks like a DAP key (anything else may be some other
// secret pasted by mistake).
func (a *authenticator) fail(r *http.Request, token, reason string) {
	id := correlation.From(r.Context())
	prefix, object := "", "api_key"
	if strings.HasPrefix(token, accounts.KeyPrefix) {
		prefix = token[:min(len(token), keyDisplayPrefix)]
	} else if token != "" && a.oidc != nil {
		object = "oidc_token"
	}
	a.log.Warn("authentication failed", "correlation_id", id, "client", r.RemoteAddr, "key_prefix", prefix, "reason", reason)
	if a.auditor == nil {
		return
	}
	ev := audit.Event{
		Type: audit.TypeAuthFailure, ClientAddr: r.RemoteAddr, CorrelationID: id,
		ObjectType: object, ObjectName: prefix, Action: "authenticate", Error: reason,
		Application: r.UserAgent(),
	}
	if _, err := a.auditor.Append(r.Context(), ev); err != nil {
		a.log.Error("authentication failure not audited", "correlation_id", id, "error", err)
	}
}

// remoteIsLoopback reports whether a request's peer is on this machine.
func remoteIsLoopback(remote string) bool {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// identity is who a request counts against for rate limiting: the
// authenticated user, else the local user.
func identity(r *http.Request, localUser string) string {
	if ti := auth.TokenInfoFromContext(r.Context()); ti != nil && ti.UserID != "" {
		return ti.UserID
	}
	return localUser
}
