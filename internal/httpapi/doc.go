// Package httpapi is DAP's HTTP face: /mcp (MCP over streamable HTTP),
// /healthz, /readyz, with the middleware every request passes: a
// correlation id, a body size limit, a bound on JSON-RPC batches, panic
// recovery and an access log.
//
// Files: httpapi.go (routes and server), middleware.go.
package httpapi
