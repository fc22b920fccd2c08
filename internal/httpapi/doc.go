// Package httpapi is DAP's HTTP face: /mcp (MCP over streamable HTTP),
// /healthz, /readyz, with the middleware every request passes: a
// correlation id, a body size limit, a bound on JSON-RPC batches, panic
// recovery and an access log. /mcp additionally requires an API key
// (Bearer dap_..., verified by the accounts store) or, when configured, an
// OpenID Connect token (any other bearer; every failure audited) unless
// authentication is optional and the client is on this machine, and is
// rate limited per identity. The OAuth protected resource metadata is at
// /.well-known/oauth-protected-resource.
//
// Files: httpapi.go (routes and server), middleware.go (correlation id,
// limits, access log), auth.go (API keys, metadata, the loopback rule),
// ratelimit.go (token bucket per identity), oidc.go (OIDC tokens: lazy
// discovery, go-oidc verification, claims to user, groups and MFA).
package httpapi
