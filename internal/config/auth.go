package config

import (
	"net"
	"net/url"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Auth is the `auth:` section: how `dap serve` authenticates HTTP clients
// and how fast each identity may call.
type Auth struct {
	// Required refuses /mcp requests without an API key. When false, a
	// request without one from this machine runs as LocalUser, and
	// `dap serve` refuses to listen on a non-loopback address.
	Required  bool
	RateLimit RateLimit
	// OIDC accepts bearer tokens from an OpenID provider besides API
	// keys; zero (Issuer "") when not configured.
	OIDC OIDC
}

// OIDC is `auth.oidc`: tokens issued by Issuer for Audience are verified
// against the provider's published keys (discovery, JWKS).
type OIDC struct {
	Issuer   string // https URL; http only on a loopback host
	Audience string // the token's aud must contain it (api://dap)
	// UserClaim names the user (default "email"); a token without it
	// falls back to preferred_username, then sub.
	UserClaim string
	// GroupsClaim lists the user's groups (default "groups"), granted
	// roles with `dap role assign group:NAME ROLE`.
	GroupsClaim string
}

// Enabled reports whether OIDC tokens are accepted.
func (o OIDC) Enabled() bool { return o.Issuer != "" }

// RateLimit is a token bucket per identity; either value 0 disables it.
type RateLimit struct {
	RequestsPerSecond int
	Burst             int
}

// Defaults of the auth section.
const (
	DefaultRequestsPerSecond = 20
	DefaultBurst             = 40
	DefaultUserClaim         = "email"
	DefaultGroupsClaim       = "groups"
)

var (
	authKeys      = []string{"required", "rate_limit", "oidc"}
	oidcKeys      = []string{"issuer", "audience", "user_claim", "groups_claim"}
	rateLimitKeys = []string{"requests_per_second", "burst"}
)

// Bounds of the rate limit, as documented in docs/configuration.md.
const (
	maxRequestsPerSecond = 100_000
	maxBurst             = 1_000_000
)

func defaultAuth() Auth {
	return Auth{RateLimit: RateLimit{RequestsPerSecond: DefaultRequestsPerSecond, Burst: DefaultBurst}}
}

// auth decodes the auth section into a.
func (p *parser) auth(n *yaml.Node, a *Auth) {
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		p.errorf(n.Line, "auth: has no value (remove the key to use the defaults)")
		return
	}
	p.mapping(n, "auth", authKeys, func(key string, v *yaml.Node) {
		switch key {
		case "required":
			if b, ok := p.boolean(v, "auth.required"); ok {
				a.Required = b
			}
		case "oidc":
			p.oidc(v, &a.OIDC)
		case "rate_limit":
			if v.Kind == yaml.ScalarNode && v.ShortTag() == "!!null" {
				p.errorf(v.Line, "auth.rate_limit: has no value (remove the key to use the defaults; requests_per_second: 0 disables the limit)")
				return
			}
			p.mapping(v, "auth.rate_limit", rateLimitKeys, func(key string, v *yaml.Node) {
				switch key {
				case "requests_per_second":
					if n, ok := p.intIn(v, "auth.rate_limit.requests_per_second", 0, maxRequestsPerSecond); ok {
						a.RateLimit.RequestsPerSecond = n
					}
				case "burst":
					if n, ok := p.intIn(v, "auth.rate_limit.burst", 0, maxBurst); ok {
						a.RateLimit.Burst = n
					}
				}
			})
		}
	})
}

// oidc decodes auth.oidc; issuer and audience are required.
func (p *parser) oidc(n *yaml.Node, o *OIDC) {
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		p.errorf(n.Line, "auth.oidc: has no value (give issuer and audience, or remove the key)")
		return
	}
	o.UserClaim, o.GroupsClaim = DefaultUserClaim, DefaultGroupsClaim
	ok := true
	p.mapping(n, "auth.oidc", oidcKeys, func(key string, v *yaml.Node) {
		s, _, good := p.str(v, "auth.oidc."+key, false)
		if !good {
			ok = false
			return
		}
		switch key {
		case "issuer":
			if msg := checkIssuer(s); msg != "" {
				p.errorf(v.Line, "auth.oidc.issuer: %s", msg)
				ok = false
				return
			}
			o.Issuer = s
		case "audience":
			o.Audience = s
		case "user_claim":
			o.UserClaim = s
		case "groups_claim":
			o.GroupsClaim = s
		}
		if s == "" {
			p.errorf(v.Line, "auth.oidc.%s: is empty", key)
			ok = false
		}
	})
	if n.Kind != yaml.MappingNode || !ok {
		return
	}
	if o.Issuer == "" {
		p.errorf(n.Line, "auth.oidc: issuer is missing (the provider's issuer URL, e.g. https://login.microsoftonline.com/TENANT/v2.0)")
	}
	if o.Audience == "" {
		p.errorf(n.Line, "auth.oidc: audience is missing (the aud the provider puts in tokens for DAP, e.g. api://dap)")
	}
}

// checkIssuer explains what is wrong with an issuer URL, or returns "".
// Plain http is allowed only on a loopback host: tokens' signing keys are
// fetched from it.
func checkIssuer(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "want an absolute URL without query or fragment (e.g. https://idp.example.com/realms/dap)"
	}
	switch u.Scheme {
	case "https":
		return ""
	case "http":
		h := u.Hostname()
		if ip := net.ParseIP(h); (ip != nil && ip.IsLoopback()) || strings.EqualFold(h, "localhost") {
			return ""
		}
		return "must use https (plain http only on a loopback host)"
	}
	return "must use https"
}

// boolean reads true or false; YAML 1.1 spellings such as yes/no/on are
// refused, because they surprise people (and YAML 1.2 parsers).
func (p *parser) boolean(v *yaml.Node, key string) (bool, bool) {
	s, raw, ok := p.str(v, key, false)
	if !ok {
		return false, false
	}
	switch s {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	p.errorf(v.Line, "%s: %s is not true or false", key, shown(raw, s))
	return false, false
}
