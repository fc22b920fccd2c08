// Package config loads and validates dap.yaml: one explicit table of keys
// decoded from the YAML node tree, so every error names the key and its
// line, every error is reported at once, and ${VAR} expansion happens in
// scalar values only (an environment value cannot inject YAML).
//
// Files: config.go (types, Load, Parse, validation), expand.go (${VAR}
// expansion), redact.go (removing passwords from DSNs for display).
package config
