package rbac

import (
	"errors"
	"strings"
	"testing"

	"github.com/dap-platform/dap/internal/guard"
)

func TestParsePermission(t *testing.T) {
	tests := []struct {
		in   string
		want Permission
		err  bool
	}{
		{"QueryRead", QueryRead, false},
		{"queryread", QueryRead, false},
		{"QUERYWRITE", QueryWrite, false},
		{" viewAuditLog ", ViewAuditLog, false},
		{"viewunmaskedpii", ViewUnmaskedPII, false},
		{"executeprocedure", ExecuteProcedure, false},
		{"Query Read", "", true},
		{"query_read", "", true},
		{"", "", true},
		{"Superuser", "", true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParsePermission(tc.in)
			if tc.err {
				if !errors.Is(err, ErrUnknownPermission) || !strings.Contains(err.Error(), "known: ViewMetrics,") {
					t.Fatalf("err = %v, want ErrUnknownPermission listing the known ones", err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("= %q, %v; want %q", got, err, tc.want)
			}
		})
	}
	// Every canonical name round-trips in lower case.
	for _, p := range everyPermission {
		if got, err := ParsePermission(strings.ToLower(string(p))); err != nil || got != p {
			t.Errorf("ParsePermission(lower %s) = %q, %v", p, got, err)
		}
	}
	if _, err := ParsePermissions([]string{"queryread", "nope"}); !errors.Is(err, ErrUnknownPermission) {
		t.Errorf("ParsePermissions with an unknown name: %v", err)
	}
}

func TestKindPermission(t *testing.T) {
	tests := []struct {
		kind guard.Kind
		want Permission
		ok   bool
	}{
		{guard.Read, QueryRead, true},
		{guard.Write, QueryWrite, true},
		{guard.DDL, QueryDDL, true},
		{guard.Admin, QueryAdmin, true},
		{guard.Tx, "", false},
		{guard.Unknown, "", false},
		{"", "", false},
		{"READ", "", false},
	}
	for _, tc := range tests {
		got, ok := KindPermission(tc.kind)
		if got != tc.want || ok != tc.ok {
			t.Errorf("KindPermission(%q) = %q, %v; want %q, %v", tc.kind, got, ok, tc.want, tc.ok)
		}
	}
}

func TestNewRole(t *testing.T) {
	tests := []struct {
		name  string
		perms []string
		err   error
		msg   string
	}{
		{"reporting", []string{"queryread", "ViewMetrics"}, nil, ""},
		{"team.ops-2_b", []string{"PerformMaintenance"}, nil, ""},
		{strings.Repeat("r", MaxRoleName), []string{"ViewAlerts"}, nil, ""},
		{strings.Repeat("r", MaxRoleName+1), []string{"ViewAlerts"}, ErrInvalidRole, "longer than 64 bytes"},
		{"", []string{"ViewAlerts"}, ErrInvalidRole, "the name is empty"},
		{"2fast", []string{"ViewAlerts"}, ErrInvalidRole, "starts with a letter"},
		{"_x", []string{"ViewAlerts"}, ErrInvalidRole, "starts with a letter"},
		{"group:x", []string{"ViewAlerts"}, ErrInvalidRole, "':' is not allowed"},
		{"has space", []string{"ViewAlerts"}, ErrInvalidRole, "' ' is not allowed"},
		{"émigré", []string{"ViewAlerts"}, ErrInvalidRole, "starts with a letter"},
		{"empty", nil, ErrInvalidRole, "has no permissions"},
		{"typo", []string{"QueryRaed"}, ErrUnknownPermission, `role "typo": unknown permission "QueryRaed"`},
		{"DBA", []string{"QueryRead"}, ErrBuiltinRole, "is a built-in role"},
		{"viewer", []string{"ViewMetrics"}, ErrBuiltinRole, "is a built-in role"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := NewRole(tc.name, "d", tc.perms, true)
			if tc.err == nil {
				if err != nil {
					t.Fatal(err)
				}
				if r.Name != tc.name || !r.RequireMFA || r.Description != "d" || len(r.Permissions) != len(tc.perms) {
					t.Fatalf("role = %+v", r)
				}
				return
			}
			if !errors.Is(err, tc.err) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("err = %v, want %v containing %q", err, tc.err, tc.msg)
			}
		})
	}
}

func TestBuiltinRolesProtected(t *testing.T) {
	for _, name := range []string{Administrator, DBA, Developer, Auditor, Viewer, "administrator", "DEVELOPER"} {
		err := CheckDeleteRole(name)
		if !errors.Is(err, ErrBuiltinRole) || !strings.Contains(err.Error(), "cannot be deleted") {
			t.Errorf("CheckDeleteRole(%s) = %v", name, err)
		}
	}
	if err := CheckDeleteRole("ops"); err != nil {
		t.Errorf("CheckDeleteRole(custom) = %v", err)
	}

	dba := Role{Name: DBA, Permissions: builtinMatrix[DBA]}
	ops := Role{Name: "ops", Permissions: []Permission{PerformMaintenance}}
	withMFA := dba
	withMFA.RequireMFA, withMFA.Description = true, "on call only"
	reordered := Role{Name: DBA, Permissions: append([]Permission{ViewUnmaskedPII}, builtinMatrix[DBA][:9]...)}
	tests := []struct {
		name     string
		old, new Role
		err      error
		msg      string
	}{
		{"built-in gains a permission", dba, Role{Name: DBA, Permissions: append(append([]Permission{}, builtinMatrix[DBA]...), DeleteData)}, ErrBuiltinRole, "permissions of DBA are fixed"},
		{"built-in loses a permission", dba, Role{Name: DBA, Permissions: builtinMatrix[DBA][1:]}, ErrBuiltinRole, "permissions of DBA are fixed"},
		{"built-in with an unknown permission", dba, Role{Name: DBA, Permissions: append(append([]Permission{}, builtinMatrix[DBA]...), "Fly")}, ErrBuiltinRole, "fixed"},
		{"built-in renamed", dba, Role{Name: "dba2", Permissions: builtinMatrix[DBA]}, ErrBuiltinRole, "cannot be renamed"},
		{"built-in MFA and description may change", dba, withMFA, nil, ""},
		{"built-in same set in another order", dba, reordered, nil, ""},
		{"custom renamed to a built-in", ops, Role{Name: "Auditor", Permissions: []Permission{ViewAuditLog}}, ErrBuiltinRole, `rename "ops" to "Auditor"`},
		{"custom changes permissions", ops, Role{Name: "ops", Permissions: []Permission{PerformMaintenance, ViewMetrics}}, nil, ""},
		{"custom gets an unknown permission", ops, Role{Name: "ops", Permissions: []Permission{"Nope"}}, ErrUnknownPermission, `"Nope"`},
		{"custom loses every permission", ops, Role{Name: "ops"}, ErrInvalidRole, "no permissions"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckUpdateRole(tc.old, tc.new)
			if tc.err == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, tc.err) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("err = %v, want %v containing %q", err, tc.err, tc.msg)
			}
		})
	}
}

func TestBuiltinRolesAreCopies(t *testing.T) {
	a := BuiltinRoles()
	a[0].Permissions[0] = DeleteData
	a[0].Name = "x"
	b := BuiltinRoles()
	if b[0].Name != Administrator || b[0].Permissions[0] != ViewMetrics {
		t.Fatalf("BuiltinRoles shares memory: %+v", b[0])
	}
	if !IsBuiltin("auditor") || IsBuiltin("ops") {
		t.Error("IsBuiltin")
	}
	all := AllPermissions()
	all[0] = "x"
	if AllPermissions()[0] != ViewMetrics {
		t.Error("AllPermissions shares memory")
	}
}
