package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/modelcontextprotocol/go-sdk/auth"

	"github.com/dap-platform/dap/internal/mcpserver"
)

// OIDC configures bearer tokens from an OpenID provider (Entra ID, Okta,
// Keycloak, Google). Its fields match config.OIDC, so httpapi.OIDC(cfg.Auth.OIDC)
// converts one.
type OIDC struct {
	Issuer   string // the provider's issuer URL, exactly as its discovery document says
	Audience string // a token's aud must contain it
	// UserClaim names the user (default "email"); without it a token's
	// preferred_username, then sub, is the user.
	UserClaim string
	// GroupsClaim holds the user's groups, a string or a list (default
	// "groups"); grants to group:NAME apply to its members.
	GroupsClaim string
}

// mfaMethods are the amr values (RFC 8176) that show a second factor:
// mfa (Entra ID, Okta, Keycloak), otp, hwk and swk (proof of a hardware or
// software key).
var mfaMethods = []string{"mfa", "otp", "hwk", "swk"}

// oidcTimeout bounds each request to the provider (discovery, JWKS).
const oidcTimeout = 10 * time.Second

// errProvider marks a provider that could not be reached: the token was
// not judged, so the answer is "retry", not 401.
var errProvider = errors.New("OpenID provider unavailable")

// oidcVerifier verifies tokens against one provider. Discovery is lazy and
// retried until it succeeds, so DAP starts while the provider is down;
// go-oidc then fetches and caches the JWKS, re-fetching on an unknown kid.
type oidcVerifier struct {
	cfg    OIDC
	client *http.Client

	mu       sync.Mutex
	verifier *oidc.IDTokenVerifier
}

func newOIDCVerifier(cfg OIDC) *oidcVerifier {
	if cfg.UserClaim == "" {
		cfg.UserClaim = "email"
	}
	if cfg.GroupsClaim == "" {
		cfg.GroupsClaim = "groups"
	}
	return &oidcVerifier{cfg: cfg, client: &http.Client{Timeout: oidcTimeout}}
}

// get returns the verifier, discovering the provider on first use.
func (o *oidcVerifier) get(ctx context.Context) (*oidc.IDTokenVerifier, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.verifier != nil {
		return o.verifier, nil
	}
	// The client in the context is kept by go-oidc for JWKS fetches too;
	// the request's cancellation is not (they are shared).
	p, err := oidc.NewProvider(oidc.ClientContext(context.WithoutCancel(ctx), o.client), o.cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("%w: discovery at %s: %w", errProvider, o.cfg.Issuer, err)
	}
	o.verifier = p.Verifier(&oidc.Config{ClientID: o.cfg.Audience})
	return o.verifier, nil
}

// verify checks a token's signature, issuer, audience and expiry, and maps
// its claims to a TokenInfo: user, groups and MFA (in Extra).
func (o *oidcVerifier) verify(ctx context.Context, token string) (*auth.TokenInfo, error) {
	v, err := o.get(ctx)
	if err != nil {
		return nil, err
	}
	idt, err := v.Verify(ctx, token)
	if err != nil {
		return nil, fmt.Errorf("OIDC token refused: %w", err)
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return nil, fmt.Errorf("OIDC token refused: claims: %w", err)
	}
	user := ""
	for _, c := range []string{o.cfg.UserClaim, "preferred_username", "sub"} {
		if s, ok := claims[c].(string); ok && s != "" {
			user = s
			break
		}
	}
	if user == "" {
		return nil, fmt.Errorf("OIDC token refused: no %s, preferred_username or sub claim names the user", o.cfg.UserClaim)
	}
	groups, err := stringList(claims[o.cfg.GroupsClaim])
	if err != nil {
		return nil, fmt.Errorf("OIDC token refused: claim %s: %w", o.cfg.GroupsClaim, err)
	}
	amr, err := stringList(claims["amr"])
	if err != nil {
		return nil, fmt.Errorf("OIDC token refused: claim amr: %w", err)
	}
	mfa := slices.ContainsFunc(amr, func(m string) bool { return slices.Contains(mfaMethods, m) })
	return &auth.TokenInfo{
		UserID:     user,
		Expiration: idt.Expiry,
		Extra:      map[string]any{mcpserver.TokenExtraGroups: groups, mcpserver.TokenExtraMFA: mfa},
	}, nil
}

// stringList reads a claim that is absent, one string or a list of strings.
func stringList(v any) ([]string, error) {
	switch v := v.(type) {
	case nil:
		return nil, nil
	case string:
		return []string{v}, nil
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("want strings, found a %T", e)
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, fmt.Errorf("want a string or a list of strings, found a %T", v)
}
