// Package app assembles DAP from its configuration: it opens each
// target's engine adapter (one explicit table from engine name to
// adapter), runs the read-only self-test, and builds the gateway.
//
// Files: app.go (Build and the adapter table), selftest.go (the
// read-only self-test and the wrapper that defers it until a target that
// was down at start answers).
package app
