package rbac

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Errors returned when building roles, grants and policies. Each is
// wrapped with the name of what failed; test with errors.Is.
var (
	ErrUnknownPermission = errors.New("unknown permission")
	ErrInvalidRole       = errors.New("invalid role")
	ErrBuiltinRole       = errors.New("built-in role cannot be changed")
	ErrUnknownRole       = errors.New("unknown role")
	ErrInvalidGrant      = errors.New("invalid grant")
)

// The built-in role names.
const (
	Administrator = "Administrator"
	DBA           = "DBA"
	Developer     = "Developer"
	Auditor       = "Auditor"
	Viewer        = "Viewer"
)

// MaxRoleName bounds a role name's length.
const MaxRoleName = 64

// Role is a named set of permissions. Its fields map one-to-one to a
// repository row (permissions as a list of names, see ParsePermissions).
type Role struct {
	Name        string
	Description string
	Permissions []Permission
	// RequireMFA makes grants of this role count only for identities
	// that authenticated with a second factor. It may be set on built-in
	// roles too: only their permissions are fixed.
	RequireMFA bool
}

// builtinRoles is the constant table of built-in roles, in display order.
var builtinRoles = [...]Role{
	{Name: Administrator, Description: "every permission", Permissions: allPermissions[:]},
	{Name: DBA, Description: "reads, writes, DDL and administration; maintenance; alerts; unmasked data",
		Permissions: []Permission{QueryRead, QueryWrite, QueryDDL, QueryAdmin, ExecuteProcedure,
			PerformMaintenance, ViewMetrics, ViewAlerts, ManageAlerts, ViewUnmaskedPII}},
	{Name: Developer, Description: "reads data, runs procedures, sees metrics and alerts",
		Permissions: []Permission{QueryRead, ExecuteProcedure, ViewMetrics, ViewAlerts}},
	{Name: Auditor, Description: "reads the audit log only",
		Permissions: []Permission{ViewAuditLog}},
	{Name: Viewer, Description: "sees metrics and alerts only",
		Permissions: []Permission{ViewMetrics, ViewAlerts}},
}

// BuiltinRoles returns copies of the built-in roles.
func BuiltinRoles() []Role {
	out := make([]Role, len(builtinRoles))
	for i, r := range builtinRoles {
		r.Permissions = slices.Clone(r.Permissions)
		out[i] = r
	}
	return out
}

// builtin returns the built-in role named name (any letter case).
func builtin(name string) (Role, bool) {
	for _, r := range builtinRoles {
		if strings.EqualFold(r.Name, name) {
			return r, true
		}
	}
	return Role{}, false
}

// IsBuiltin reports whether name (any letter case) is a built-in role.
func IsBuiltin(name string) bool {
	_, ok := builtin(name)
	return ok
}

// NewRole builds and validates a custom role from names as typed by a
// person or read from a row. Built-in names are refused.
func NewRole(name, description string, permissions []string, requireMFA bool) (Role, error) {
	perms, err := ParsePermissions(permissions)
	if err != nil {
		return Role{}, fmt.Errorf("role %q: %w", name, err)
	}
	if IsBuiltin(name) {
		return Role{}, fmt.Errorf("%w: %q is a built-in role; choose another name", ErrBuiltinRole, name)
	}
	r := Role{Name: name, Description: description, Permissions: perms, RequireMFA: requireMFA}
	if err := ValidateRole(r); err != nil {
		return Role{}, err
	}
	return r, nil
}

// ValidateRole checks a role's name and permissions. A role named like a
// built-in must carry exactly the built-in's permissions.
func ValidateRole(r Role) error {
	if err := validateRoleName(r.Name); err != nil {
		return err
	}
	if len(r.Permissions) == 0 {
		return fmt.Errorf("%w %q: it has no permissions; give it at least one", ErrInvalidRole, r.Name)
	}
	for _, p := range r.Permissions {
		if !p.Valid() {
			return fmt.Errorf("role %q: %w %q (known: %s)", r.Name, ErrUnknownPermission, string(p), permissionList())
		}
	}
	if b, ok := builtin(r.Name); ok {
		if b.Name != r.Name {
			return fmt.Errorf("%w: %q differs from the built-in %q only in letter case; use %q", ErrBuiltinRole, r.Name, b.Name, b.Name)
		}
		if setOf(r.Permissions...) != setOf(b.Permissions...) {
			return fmt.Errorf("%w: the permissions of %s are fixed (%s); create a custom role instead", ErrBuiltinRole, b.Name, joinPerms(b.Permissions))
		}
	}
	return nil
}

// validateRoleName: a letter, then letters, digits, '_', '-' or '.', at
// most MaxRoleName bytes. Names that could be mistaken for a group
// subject (':') or need quoting in a shell are excluded.
func validateRoleName(name string) error {
	if name == "" {
		return fmt.Errorf("%w: the name is empty", ErrInvalidRole)
	}
	if len(name) > MaxRoleName {
		return fmt.Errorf("%w %q: the name is longer than %d bytes", ErrInvalidRole, name, MaxRoleName)
	}
	for i, c := range name {
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if i == 0 && !letter {
			return fmt.Errorf("%w %q: a name starts with a letter (A-Z, a-z)", ErrInvalidRole, name)
		}
		if !letter && !(c >= '0' && c <= '9') && c != '_' && c != '-' && c != '.' {
			return fmt.Errorf("%w %q: %q is not allowed in a name (use letters, digits, '_', '-', '.')", ErrInvalidRole, name, c)
		}
	}
	return nil
}

// CheckDeleteRole refuses to delete a built-in role. The repository
// calls it before removing a role row.
func CheckDeleteRole(name string) error {
	if b, ok := builtin(name); ok {
		return fmt.Errorf("%w: %s is built-in and cannot be deleted", ErrBuiltinRole, b.Name)
	}
	return nil
}

// CheckUpdateRole validates replacing old with updated. A built-in role
// keeps its name and permissions (only Description and RequireMFA may
// change); a custom role may not be renamed to a built-in name.
func CheckUpdateRole(old, updated Role) error {
	if b, ok := builtin(old.Name); ok {
		if updated.Name != b.Name {
			return fmt.Errorf("%w: %s is built-in and cannot be renamed", ErrBuiltinRole, b.Name)
		}
		if setOf(updated.Permissions...) != setOf(b.Permissions...) || slices.ContainsFunc(updated.Permissions, func(p Permission) bool { return !p.Valid() }) {
			return fmt.Errorf("%w: the permissions of %s are fixed (%s); create a custom role instead", ErrBuiltinRole, b.Name, joinPerms(b.Permissions))
		}
		return nil
	}
	if IsBuiltin(updated.Name) {
		return fmt.Errorf("%w: cannot rename %q to %q, a built-in role", ErrBuiltinRole, old.Name, updated.Name)
	}
	return ValidateRole(updated)
}

func joinPerms(ps []Permission) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = string(p)
	}
	return strings.Join(s, ", ")
}
