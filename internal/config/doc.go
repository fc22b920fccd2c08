// Package config loads and validates dap.yaml: one explicit table of keys
// decoded from the YAML node tree, so every error names the key and its
// line, every problem is reported at once (in file order), and ${VAR}
// expansion happens in scalar values only (an environment value cannot
// inject YAML). DSNs are secrets: no message quotes one, nor what a
// variable expanded to inside one.
//
// Files: config.go (types, Load, Parse), decode.go (the key tables and
// the walk over the YAML tree), auth.go (the auth: section: required,
// rate_limit), values.go (sizes, listen addresses, DSN
// sanity checks, key suggestions, quoting values for messages), expand.go
// (${VAR} expansion), errors.go (the positioned Error and the collector),
// redact.go (removing passwords from DSNs for display).
package config
