// Package rbac is DAP's role-based access policy: permissions, built-in
// and custom roles, grants of roles to users or identity-provider groups
// (optionally limited to some targets, optionally expiring), and the
// decision every tool call passes before the guard sees its SQL. It is
// pure: no storage, no clock, no I/O. The repository loads Role and
// Grant rows and builds a Policy; the gateway asks it.
//
// The model:
//   - A Permission is a right; the Query* permissions mirror the guard's
//     statement kinds (read, write, ddl, admin). Tx and unknown statements
//     need nothing because nobody may run them.
//   - A Role is a named permission set. Administrator, DBA, Developer,
//     Auditor and Viewer are built in: they always exist, cannot be
//     deleted or renamed, and keep their permissions; only their
//     description and RequireMFA may be configured.
//   - A Grant gives a role to a user or to "group:<name>", for all targets
//     or a list of them, until an optional expiry.
//   - A Policy is an immutable snapshot of roles and grants, indexed by
//     user and by group, so Decide is a few map lookups and bit tests and
//     allocates nothing when it allows.
//
// The rules Decide applies, in order: an unknown permission or a tx /
// unknown statement kind is refused; a statement permission is capped by
// the target's access mode exactly as the guard caps statements (a DBA on
// a read-only target cannot write, and the reason says the target is
// read-only); then the first of the identity's grants (direct before
// group, in input order) whose role holds the permission, whose scope
// includes the target, which has not expired and whose MFA requirement
// the identity meets, allows the call. Permissions that are not about a
// target (ViewAuditLog, ManageUsers ...) are asked with target "", and
// only grants for all targets confer them.
//
// Files:
//   - permission.go: Permission, ParsePermission, KindPermission, the
//     bit set behind fast checks.
//   - role.go: Role, the built-in roles, validation, CheckDeleteRole and
//     CheckUpdateRole for the repository, the package's errors.
//   - grant.go: Grant, Identity, ValidateGrant.
//   - policy.go: Policy, NewPolicy, Decide, Decision and its reasons,
//     Effective.
//   - tool.go: ToolPermission (MCP tool -> permission) and Can, the
//     explained decision behind `dap can`.
package rbac
