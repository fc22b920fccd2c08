// Package engine holds what every database adapter shares: the Engine
// interface, the catalog and result types, limits, the error kinds, value
// conversion to JSON-safe forms and the per-target retry and circuit breaker.
//
// Files: engine.go (interface, dialects, access modes, query and limits),
// catalog.go (schema objects), result.go (results, plans, the streaming
// collector that enforces caps), values.go (JSON-safe conversion),
// errors.go (error kinds), resilience.go (retry with backoff and breaker).
package engine
