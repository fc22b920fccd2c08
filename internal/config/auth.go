package config

import (
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
}

// RateLimit is a token bucket per identity; either value 0 disables it.
type RateLimit struct {
	RequestsPerSecond int
	Burst             int
}

// Defaults of the auth section.
const (
	DefaultRequestsPerSecond = 20
	DefaultBurst             = 40
)

var (
	authKeys      = []string{"required", "rate_limit"}
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
