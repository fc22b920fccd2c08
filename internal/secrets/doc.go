// Package secrets resolves secret references used in DAP's configuration.
//
// A DSN or key may be given as a reference instead of a value:
//
//	env:NAME                                   an environment variable
//	file:/path                                 a file's content (trailing newline trimmed)
//	keystore:name                              DAP's own AES-256-GCM keystore
//	azure-keyvault://vault/secret[/version]    Azure Key Vault (official SDK)
//	vault://mount/path#key                     HashiCorp Vault / OpenBao KV v2
//
// Anything else (for example "postgres://...") is a plain value and is
// returned unchanged.
//
// Files:
//   - ref.go: ParseRef and the Ref type (pure, fuzzed).
//   - errors.go: error kinds (ErrNotFound, ErrDenied, ErrUnavailable, ...) and
//     RefError, which names the reference but never its value or a token.
//   - resolver.go: Resolver - TTL cache, Invalidate, singleflight, last good
//     value when a provider is unreachable, Health for `dap check`.
//   - local.go: the env: and file: providers.
//   - keystore.go: the encrypted keystore file (OpenKeystore, Set, Get, List,
//     Delete, RotateMasterKey) and master key loading.
//   - azure.go: the azure-keyvault:// provider (azsecrets + azidentity).
//   - vault.go: the vault:// provider (KV v2 over plain HTTP).
package secrets
