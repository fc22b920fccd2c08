package rbac

import (
	"fmt"
	"strings"

	"github.com/dap-platform/dap/internal/engine"
	"github.com/dap-platform/dap/internal/guard"
)

// Permission is one right a role can hold. The string is the canonical
// name stored in DAP's repository and shown to people.
type Permission string

// The permissions. The Query* permissions are ordered levels matching the
// guard's statement kinds; the others are independent.
const (
	ViewMetrics        Permission = "ViewMetrics"
	ViewAlerts         Permission = "ViewAlerts"
	ManageAlerts       Permission = "ManageAlerts"
	PerformMaintenance Permission = "PerformMaintenance"
	ViewAuditLog       Permission = "ViewAuditLog"
	ManageUsers        Permission = "ManageUsers"
	ConfigureSystem    Permission = "ConfigureSystem"
	DeleteData         Permission = "DeleteData"
	QueryRead          Permission = "QueryRead"
	QueryWrite         Permission = "QueryWrite"
	QueryDDL           Permission = "QueryDDL"
	QueryAdmin         Permission = "QueryAdmin"
	ExecuteProcedure   Permission = "ExecuteProcedure"
	ViewUnmaskedPII    Permission = "ViewUnmaskedPII"
)

// allPermissions is the constant table behind AllPermissions and the
// bit positions of permSet: a permission's bit is 1 << its index.
var allPermissions = [...]Permission{
	ViewMetrics, ViewAlerts, ManageAlerts, PerformMaintenance, ViewAuditLog,
	ManageUsers, ConfigureSystem, DeleteData, QueryRead, QueryWrite, QueryDDL,
	QueryAdmin, ExecuteProcedure, ViewUnmaskedPII,
}

const numPermissions = len(allPermissions)

// AllPermissions returns every permission in a stable order.
func AllPermissions() []Permission {
	out := make([]Permission, numPermissions)
	copy(out, allPermissions[:])
	return out
}

// ParsePermission accepts a permission name in any letter case.
func ParsePermission(s string) (Permission, error) {
	t := strings.TrimSpace(s)
	for _, p := range allPermissions {
		if strings.EqualFold(t, string(p)) {
			return p, nil
		}
	}
	return "", fmt.Errorf("%w %q (known: %s)", ErrUnknownPermission, s, permissionList())
}

// ParsePermissions parses a list, as read from a repository row or flags.
func ParsePermissions(names []string) ([]Permission, error) {
	out := make([]Permission, 0, len(names))
	for _, n := range names {
		p, err := ParsePermission(n)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

func permissionList() string {
	names := make([]string, numPermissions)
	for i, p := range allPermissions {
		names[i] = string(p)
	}
	return strings.Join(names, ", ")
}

// index returns the permission's position in allPermissions, or -1. A
// switch compiles to a binary search without allocation, which matters
// on the per-call path.
func (p Permission) index() int {
	switch p {
	case ViewMetrics:
		return 0
	case ViewAlerts:
		return 1
	case ManageAlerts:
		return 2
	case PerformMaintenance:
		return 3
	case ViewAuditLog:
		return 4
	case ManageUsers:
		return 5
	case ConfigureSystem:
		return 6
	case DeleteData:
		return 7
	case QueryRead:
		return 8
	case QueryWrite:
		return 9
	case QueryDDL:
		return 10
	case QueryAdmin:
		return 11
	case ExecuteProcedure:
		return 12
	case ViewUnmaskedPII:
		return 13
	}
	return -1
}

// Valid reports whether p is a known permission in its canonical spelling.
func (p Permission) Valid() bool { return p.index() >= 0 }

// queryLevel orders the statement permissions QueryRead < QueryWrite <
// QueryDDL < QueryAdmin; 0 means p is not one of them.
func (p Permission) queryLevel() int {
	switch p {
	case QueryRead:
		return 1
	case QueryWrite:
		return 2
	case QueryDDL:
		return 3
	case QueryAdmin:
		return 4
	}
	return 0
}

// statementBound reports whether the statement kind and the target's
// access mode matter for p: the Query* permissions and ExecuteProcedure.
func (p Permission) statementBound() bool {
	return p.queryLevel() > 0 || p == ExecuteProcedure
}

// KindPermission maps a statement kind from the guard to the permission
// that running it needs. Tx and Unknown (and anything else) have none:
// DAP never runs them.
func KindPermission(k guard.Kind) (Permission, bool) {
	switch k {
	case guard.Read:
		return QueryRead, true
	case guard.Write:
		return QueryWrite, true
	case guard.DDL:
		return QueryDDL, true
	case guard.Admin:
		return QueryAdmin, true
	}
	return "", false
}

// permissionKind is the inverse of KindPermission for the Query* levels.
func permissionKind(p Permission) guard.Kind {
	switch p {
	case QueryRead:
		return guard.Read
	case QueryWrite:
		return guard.Write
	case QueryDDL:
		return guard.DDL
	case QueryAdmin:
		return guard.Admin
	}
	return guard.Unknown
}

// permSet is a set of permissions as a bit mask, so a grant check is one
// AND.
type permSet uint32

func setOf(perms ...Permission) permSet {
	var s permSet
	for _, p := range perms {
		if i := p.index(); i >= 0 {
			s |= 1 << uint(i)
		}
	}
	return s
}

func (s permSet) has(p Permission) bool {
	i := p.index()
	return i >= 0 && s&(1<<uint(i)) != 0
}

// list returns the members in the canonical order.
func (s permSet) list() []Permission {
	var out []Permission
	for i, p := range allPermissions {
		if s&(1<<uint(i)) != 0 {
			out = append(out, p)
		}
	}
	return out
}

// accessAllows reports whether a target in access mode a allows the
// statement permission p at all, whatever the role: the guard's own rule
// (Kind.AllowedBy), so RBAC and the guard can never disagree.
func accessAllows(p Permission, a engine.Access) bool {
	return permissionKind(p).AllowedBy(a)
}
