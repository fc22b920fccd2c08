// Package mcpserver exposes the gateway's use cases as MCP tools and
// resources with the official Go SDK. It only maps: every decision is the
// gateway's.
//
// Files: server.go (the server, instructions, error mapping),
// tools.go (tool inputs, outputs and handlers), resources.go (schema
// overview resources and the table template), render.go (the short text
// rendering that accompanies structured content).
package mcpserver
