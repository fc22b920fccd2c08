// Package accounts keeps DAP's identities in its repository: users,
// custom roles (and the configurable description and MFA requirement of
// built-in ones), grants of roles to users or groups, and API keys. It
// builds the rbac.Policy the gateway decides with, and authenticates API
// keys.
//
// Every change is audited, fail closed, in this order: validate and read
// the current state; for a create that needs an id (grants, keys), insert
// the row as pending (a pending row never confers rights nor
// authenticates); append the audit record through the Auditor and wait
// until it is durable; then apply the change in one transaction that
// re-checks the audited state (ErrConflict if it moved). If the audit
// record cannot be written, nothing changes (a pending row is deleted).
// If the write fails after the record, a second record with
// Success=false says the change was not applied. The record cannot share
// the change's transaction: the audit Appender group-commits in its own
// transactions, and SQLite allows one writer at a time. Audit values are
// JSON; an API key's plaintext and hash never appear in them.
//
// API keys are "dap_" and 256 random bits in lower-case base32; only their
// SHA-256 is stored, and the plaintext is returned once by CreateKey.
//
// Files:
//   - store.go: Store, New, the errors, the audit-then-apply helpers.
//   - users.go: User, CreateUser, GetUser, ListUsers, DisableUser, EnableUser.
//   - roles.go: CreateRole, GetRole, UpdateRole, DeleteRole, ListRoles.
//   - grants.go: Assign, Revoke, ListGrants.
//   - keys.go: KeyInfo, CreateKey, ListKeys, RevokeKey, Authenticate and
//     its throttled last-used update.
//   - policy.go: LoadPolicy and PolicyCache (version counter + TTL).
//
// The schema is migration 00002_accounts in internal/repo.
package accounts
