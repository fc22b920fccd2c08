package rbac

import (
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dap-platform/dap/internal/engine"
	"github.com/dap-platform/dap/internal/guard"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func mustPolicy(t testing.TB, roles []Role, grants []Grant) *Policy {
	t.Helper()
	p, err := NewPolicy(roles, grants)
	if err != nil {
		t.Fatalf("NewPolicy: %v", err)
	}
	return p
}

// builtinMatrix is the expected permission matrix, written out by hand
// from the product definition (issue 3 and docs), not from role.go.
var builtinMatrix = map[string][]Permission{
	Administrator: {ViewMetrics, ViewAlerts, ManageAlerts, PerformMaintenance, ViewAuditLog, ManageUsers,
		ConfigureSystem, DeleteData, QueryRead, QueryWrite, QueryDDL, QueryAdmin, ExecuteProcedure, ViewUnmaskedPII},
	DBA: {QueryRead, QueryWrite, QueryDDL, QueryAdmin, ExecuteProcedure, PerformMaintenance,
		ViewMetrics, ViewAlerts, ManageAlerts, ViewUnmaskedPII},
	Developer: {QueryRead, ExecuteProcedure, ViewMetrics, ViewAlerts},
	Auditor:   {ViewAuditLog},
	Viewer:    {ViewMetrics, ViewAlerts},
}

// everyPermission is spelled out here so a permission added to the code
// but not to the tests fails TestAllPermissionsListed.
var everyPermission = []Permission{
	ViewMetrics, ViewAlerts, ManageAlerts, PerformMaintenance, ViewAuditLog, ManageUsers, ConfigureSystem,
	DeleteData, QueryRead, QueryWrite, QueryDDL, QueryAdmin, ExecuteProcedure, ViewUnmaskedPII,
}

func TestAllPermissionsListed(t *testing.T) {
	got := AllPermissions()
	if len(got) != len(everyPermission) {
		t.Fatalf("AllPermissions has %d, the test knows %d", len(got), len(everyPermission))
	}
	for i := range got {
		if got[i] != everyPermission[i] {
			t.Errorf("AllPermissions[%d] = %s, want %s", i, got[i], everyPermission[i])
		}
	}
}

func TestBuiltinRoleMatrix(t *testing.T) {
	var grants []Grant
	for role := range builtinMatrix {
		grants = append(grants, Grant{User: "u-" + role, Role: role})
	}
	p := mustPolicy(t, nil, grants)
	statement := map[Permission]bool{QueryRead: true, QueryWrite: true, QueryDDL: true, QueryAdmin: true, ExecuteProcedure: true}
	for role, allowed := range builtinMatrix {
		for _, perm := range everyPermission {
			want := false
			for _, a := range allowed {
				want = want || a == perm
			}
			t.Run(role+"/"+string(perm), func(t *testing.T) {
				target, access := "", engine.Access("")
				if statement[perm] {
					target, access = "shop", engine.Admin // admin lets every statement permission through
				}
				d := p.Decide(t0, Identity{User: "u-" + role}, perm, target, access, "")
				if d.Allowed != want {
					t.Fatalf("Allowed = %v, want %v (%s)", d.Allowed, want, d.Reason)
				}
				if want {
					if d.Via != role || !strings.Contains(d.Reason, "role "+role) || !strings.Contains(d.Reason, string(perm)) {
						t.Errorf("Via %q, Reason %q: want the role %s and %s named", d.Via, d.Reason, role, perm)
					}
				} else {
					if d.Via != "" || !strings.Contains(d.Reason, "none of the granted roles ("+role+") includes it") {
						t.Errorf("Via %q, Reason %q: want a refusal naming %s", d.Via, d.Reason, role)
					}
				}
			})
		}
	}
}

// kindsAllowed is the guard's access rule written out: the most a target
// in each access mode lets any statement do.
var kindsAllowed = map[engine.Access][]guard.Kind{
	engine.ReadOnly:  {guard.Read},
	engine.ReadWrite: {guard.Read, guard.Write},
	engine.Admin:     {guard.Read, guard.Write, guard.DDL, guard.Admin},
}

// roleKinds is which statement kinds each built-in role may run.
var roleKinds = map[string][]guard.Kind{
	Administrator: {guard.Read, guard.Write, guard.DDL, guard.Admin},
	DBA:           {guard.Read, guard.Write, guard.DDL, guard.Admin},
	Developer:     {guard.Read},
	Auditor:       {},
	Viewer:        {},
}

func TestStatementKindCappedByAccess(t *testing.T) {
	var grants []Grant
	for role := range roleKinds {
		grants = append(grants, Grant{User: "u-" + role, Role: role})
	}
	p := mustPolicy(t, nil, grants)
	kinds := []guard.Kind{guard.Read, guard.Write, guard.DDL, guard.Admin, guard.Tx, guard.Unknown}
	has := func(ks []guard.Kind, k guard.Kind) bool {
		for _, x := range ks {
			if x == k {
				return true
			}
		}
		return false
	}
	for role, rk := range roleKinds {
		for access, ak := range kindsAllowed {
			for _, kind := range kinds {
				want := has(rk, kind) && has(ak, kind)
				t.Run(role+"/"+string(access)+"/"+string(kind), func(t *testing.T) {
					d := p.Decide(t0, Identity{User: "u-" + role}, QueryRead, "shop", access, kind)
					if d.Allowed != want {
						t.Fatalf("Allowed = %v, want %v (%s)", d.Allowed, want, d.Reason)
					}
					switch {
					case kind == guard.Tx || kind == guard.Unknown:
						if !strings.Contains(d.Reason, "never run through DAP") {
							t.Errorf("Reason %q: want the never-run explanation", d.Reason)
						}
					case !has(ak, kind):
						if !strings.Contains(d.Reason, `target "shop" is `+string(access)) {
							t.Errorf("Reason %q: want the access mode named", d.Reason)
						}
						held := has(rk, kind)
						if got := strings.Contains(d.Reason, "through role "+role+", but the target's access mode caps it"); got != held {
							t.Errorf("Reason %q: mentions the held role = %v, want %v", d.Reason, got, held)
						}
					}
				})
			}
		}
	}
}

func TestKindRaisesNeverLowers(t *testing.T) {
	p := mustPolicy(t, []Role{{Name: "writer", Permissions: []Permission{QueryWrite}}},
		[]Grant{{User: "dev", Role: Developer}, {User: "w", Role: "writer"}})
	tests := []struct {
		name string
		user string
		perm Permission
		kind guard.Kind
		want bool
	}{
		{"QueryRead raised to write", "dev", QueryRead, guard.Write, false},
		{"QueryAdmin asked, read kind does not lower it", "dev", QueryAdmin, guard.Read, false},
		{"QueryRead with read", "dev", QueryRead, guard.Read, true},
		{"QueryRead without kind", "dev", QueryRead, "", true},
		{"write-only role writes", "w", QueryRead, guard.Write, true},
		{"write-only role cannot read", "w", QueryRead, guard.Read, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := p.Decide(t0, Identity{User: tc.user}, tc.perm, "shop", engine.Admin, tc.kind)
			if d.Allowed != tc.want {
				t.Fatalf("Allowed = %v, want %v (%s)", d.Allowed, tc.want, d.Reason)
			}
		})
	}
}

func TestDBAOnReadOnlyTargetCannotWrite(t *testing.T) {
	p := mustPolicy(t, nil, []Grant{{ID: 4, User: "alice", Role: DBA}})
	d := p.Decide(t0, Identity{User: "alice"}, QueryWrite, "shop", engine.ReadOnly, guard.Write)
	if d.Allowed {
		t.Fatal("a DBA wrote on a read-only target")
	}
	want := `denied: target "shop" is read-only, so write statements (QueryWrite) are not allowed there for anyone; alice holds QueryWrite through role DBA, but the target's access mode caps it`
	if d.Reason != want {
		t.Errorf("Reason\n got %q\nwant %q", d.Reason, want)
	}
}

func TestNonQueryPermissionsIgnoreKindAndAccess(t *testing.T) {
	p := mustPolicy(t, nil, []Grant{{User: "aud", Role: Auditor}})
	for _, access := range []engine.Access{"", engine.ReadOnly, engine.Admin, "bogus"} {
		for _, kind := range []guard.Kind{"", guard.Write, guard.Tx, guard.Unknown} {
			d := p.Decide(t0, Identity{User: "aud"}, ViewAuditLog, "", access, kind)
			if !d.Allowed {
				t.Errorf("access %q kind %q: refused ViewAuditLog: %s", access, kind, d.Reason)
			}
		}
	}
}

func TestStatementPermissionNeedsTargetAndAccess(t *testing.T) {
	p := mustPolicy(t, nil, []Grant{{User: "root", Role: Administrator}})
	tests := []struct {
		name   string
		target string
		access engine.Access
		reason string
	}{
		{"no target", "", engine.Admin, "QueryRead is about a target"},
		{"no access mode", "shop", "", `target "shop" has no valid access mode ("")`},
		{"bogus access mode", "shop", "everything", `no valid access mode ("everything")`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := p.Decide(t0, Identity{User: "root"}, QueryRead, tc.target, tc.access, guard.Read)
			if d.Allowed || !strings.Contains(d.Reason, tc.reason) {
				t.Fatalf("Allowed %v, Reason %q: want refusal containing %q", d.Allowed, d.Reason, tc.reason)
			}
		})
	}
}

func TestScope(t *testing.T) {
	p := mustPolicy(t, nil, []Grant{
		{ID: 1, User: "alice", Role: DBA, Targets: []string{"shop", "crm"}},
		{ID: 2, User: "alice", Role: Viewer, Targets: []string{"shop"}},
		{ID: 3, User: "bob", Role: Administrator, Targets: []string{"shop"}},
	})
	tests := []struct {
		name   string
		user   string
		perm   Permission
		target string
		want   bool
		reason string
	}{
		{"in scope", "alice", QueryWrite, "shop", true, "grant #1 (DBA to alice), targets shop, crm"},
		{"second target in scope", "alice", QueryWrite, "crm", true, "role DBA"},
		{"other target", "alice", QueryWrite, "billing", false, `grant #1 (DBA to alice) limited to targets shop, crm, not "billing"`},
		{"target names are exact", "alice", QueryRead, "Shop", false, `not "Shop"`},
		{"scoped metrics on the target", "alice", ViewMetrics, "shop", true, "role DBA"},
		{"scoped grant confers nothing global", "bob", ViewAuditLog, "", false, "limited to target shop, so it confers nothing beyond targets"},
		{"scoped admin not for users", "bob", ManageUsers, "", false, "confers nothing beyond targets"},
		{"scoped admin on its target", "bob", QueryAdmin, "shop", true, "role Administrator"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := p.Decide(t0, Identity{User: tc.user}, tc.perm, tc.target, engine.Admin, "")
			if d.Allowed != tc.want || !strings.Contains(d.Reason, tc.reason) {
				t.Fatalf("Allowed %v Reason %q: want %v and %q", d.Allowed, d.Reason, tc.want, tc.reason)
			}
		})
	}
}

func TestExpiry(t *testing.T) {
	exp := t0.Add(24 * time.Hour)
	p := mustPolicy(t, nil, []Grant{{ID: 9, User: "alice", Role: DBA, ExpiresAt: exp, GrantedAt: t0, GrantedBy: "root"}})
	tests := []struct {
		name string
		now  time.Time
		want bool
	}{
		{"long before", t0, true},
		{"a nanosecond before", exp.Add(-time.Nanosecond), true},
		{"at the instant", exp, false},
		{"a nanosecond after", exp.Add(time.Nanosecond), false},
		{"a year after", exp.AddDate(1, 0, 0), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := p.Decide(tc.now, Identity{User: "alice"}, QueryWrite, "shop", engine.ReadWrite, guard.Write)
			if d.Allowed != tc.want {
				t.Fatalf("Allowed = %v, want %v (%s)", d.Allowed, tc.want, d.Reason)
			}
			if tc.want && !strings.Contains(d.Reason, "until 2026-03-02T12:00:00Z") {
				t.Errorf("Reason %q: want the expiry shown", d.Reason)
			}
			if !tc.want && !strings.Contains(d.Reason, "grant #9 (DBA to alice) expired at 2026-03-02T12:00:00Z") {
				t.Errorf("Reason %q: want the expired grant named", d.Reason)
			}
		})
	}
	// A timezone other than UTC compares as the same instant.
	d := p.Decide(exp.In(time.FixedZone("X", 5*3600)).Add(-time.Second), Identity{User: "alice"}, QueryRead, "shop", engine.ReadOnly, guard.Read)
	if !d.Allowed {
		t.Errorf("a second before expiry in another zone refused: %s", d.Reason)
	}
}

func TestMFA(t *testing.T) {
	p := mustPolicy(t,
		[]Role{
			{Name: "oncall", Permissions: []Permission{QueryWrite, QueryRead}, RequireMFA: true},
			{Name: DBA, Permissions: builtinMatrix[DBA], RequireMFA: true}, // built-in with MFA switched on
		},
		[]Grant{
			{ID: 1, User: "alice", Role: "oncall"},
			{ID: 2, User: "bob", Role: DBA},
			{ID: 3, User: "carol", Role: "oncall"},
			{ID: 4, User: "carol", Role: Developer},
		})
	tests := []struct {
		name   string
		who    Identity
		perm   Permission
		kind   guard.Kind
		want   bool
		via    string
		reason string
	}{
		{"custom role without MFA", Identity{User: "alice"}, QueryRead, guard.Write, false, "", "grant #1 (oncall to alice) role oncall requires MFA and this session did not use MFA"},
		{"custom role with MFA", Identity{User: "alice", MFA: true}, QueryRead, guard.Write, true, "oncall", "role oncall"},
		{"built-in MFA without", Identity{User: "bob"}, QueryDDL, guard.DDL, false, "", "role DBA requires MFA"},
		{"built-in MFA with", Identity{User: "bob", MFA: true}, QueryDDL, guard.DDL, true, DBA, "role DBA"},
		{"other grant still counts for reads", Identity{User: "carol"}, QueryRead, guard.Read, true, Developer, "role Developer"},
		{"other grant cannot write", Identity{User: "carol"}, QueryRead, guard.Write, false, "", "role oncall requires MFA"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := p.Decide(t0, tc.who, tc.perm, "shop", engine.Admin, tc.kind)
			if d.Allowed != tc.want || d.Via != tc.via || !strings.Contains(d.Reason, tc.reason) {
				t.Fatalf("got (%v, %q, %q), want (%v, %q, ...%q...)", d.Allowed, d.Via, d.Reason, tc.want, tc.via, tc.reason)
			}
		})
	}
}

func TestGroups(t *testing.T) {
	p := mustPolicy(t, nil, []Grant{
		{ID: 1, User: "group:dba-team", Role: DBA},
		{ID: 2, User: "group:readers", Role: Developer, Targets: []string{"shop"}},
		{ID: 3, User: "dave", Role: Viewer},
		{ID: 4, User: "erin", Role: Developer},
		{ID: 5, User: "group:erin", Role: Administrator}, // a group named like a user is not that user
	})
	tests := []struct {
		name   string
		who    Identity
		perm   Permission
		kind   guard.Kind
		want   bool
		via    string
		reason string
	}{
		{"group member writes", Identity{User: "x", Groups: []string{"dba-team"}}, QueryRead, guard.Write, true, DBA, "grant #1 (DBA to group:dba-team)"},
		{"not a member", Identity{User: "x", Groups: []string{"other"}}, QueryRead, guard.Read, false, "", "no role is granted to this user or its groups"},
		{"prefix in the identity is not stripped", Identity{User: "x", Groups: []string{"group:dba-team"}}, QueryRead, guard.Read, false, "", "no role is granted"},
		{"second group scoped", Identity{User: "x", Groups: []string{"nope", "readers"}}, QueryRead, guard.Read, true, Developer, "grant #2"},
		{"direct plus group", Identity{User: "dave", Groups: []string{"dba-team"}}, QueryRead, guard.DDL, true, DBA, "grant #1"},
		{"direct grant tried first", Identity{User: "dave", Groups: []string{"dba-team"}}, ViewMetrics, "", true, Viewer, "grant #3"},
		{"user name does not match group grants", Identity{User: "erin"}, QueryRead, guard.Write, false, "", "none of the granted roles (Developer) includes it"},
		{"group reason lists groups", Identity{User: "y", Groups: []string{"readers"}}, QueryRead, guard.Write, false, "", "y (groups readers) has no QueryWrite"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := p.Decide(t0, tc.who, tc.perm, "shop", engine.Admin, tc.kind)
			if d.Allowed != tc.want || d.Via != tc.via || !strings.Contains(d.Reason, tc.reason) {
				t.Fatalf("got (%v, %q, %q), want (%v, %q, ...%q...)", d.Allowed, d.Via, d.Reason, tc.want, tc.via, tc.reason)
			}
		})
	}
}

func TestNoIdentity(t *testing.T) {
	p := mustPolicy(t, nil, []Grant{{User: "group:all", Role: Administrator}})
	d := p.Decide(t0, Identity{Groups: []string{"all"}}, ViewMetrics, "", "", "")
	if d.Allowed || !strings.Contains(d.Reason, "carries no identity") {
		t.Fatalf("an empty user was decided: %+v", d)
	}
	if got := p.Effective(t0, Identity{Groups: []string{"all"}}, "", ""); got != nil {
		t.Fatalf("Effective for an empty user = %v", got)
	}
}

func TestUnknownPermissionRefused(t *testing.T) {
	p := mustPolicy(t, nil, []Grant{{User: "root", Role: Administrator}})
	for _, perm := range []Permission{"", "queryread", "DropEverything"} {
		d := p.Decide(t0, Identity{User: "root"}, perm, "shop", engine.Admin, "")
		if d.Allowed || !strings.Contains(d.Reason, "unknown permission") {
			t.Errorf("%q: %+v", perm, d)
		}
	}
}

func TestExecuteProcedureWithKind(t *testing.T) {
	p := mustPolicy(t, nil, []Grant{{User: "dev", Role: Developer}, {User: "dba", Role: DBA}})
	tests := []struct {
		user   string
		access engine.Access
		kind   guard.Kind
		want   bool
		reason string
	}{
		{"dev", engine.ReadOnly, guard.Read, true, "ExecuteProcedure through role Developer"},
		{"dev", engine.ReadWrite, guard.Write, false, "write statements need QueryWrite as well as ExecuteProcedure; dev has no QueryWrite"},
		{"dev", engine.ReadWrite, "", true, "ExecuteProcedure"},
		{"dba", engine.ReadWrite, guard.Write, true, "ExecuteProcedure through role DBA, grant (DBA to dba), all targets; QueryWrite through role DBA"},
		{"dba", engine.ReadOnly, guard.Write, false, `target "shop" is read-only`},
	}
	for _, tc := range tests {
		t.Run(tc.user+"/"+string(tc.access)+"/"+string(tc.kind), func(t *testing.T) {
			d := p.Decide(t0, Identity{User: tc.user}, ExecuteProcedure, "shop", tc.access, tc.kind)
			if d.Allowed != tc.want || !strings.Contains(d.Reason, tc.reason) {
				t.Fatalf("got (%v, %q), want (%v, ...%q...)", d.Allowed, d.Reason, tc.want, tc.reason)
			}
		})
	}
}

func TestNewPolicyRefusals(t *testing.T) {
	custom := Role{Name: "ops", Permissions: []Permission{PerformMaintenance}}
	tests := []struct {
		name   string
		roles  []Role
		grants []Grant
		err    error
		msg    string
	}{
		{"grant of unknown role", nil, []Grant{{ID: 3, User: "a", Role: "nope"}}, ErrUnknownRole, `grant #3 (nope to a): unknown role "nope"`},
		{"altered built-in", []Role{{Name: Viewer, Permissions: []Permission{ViewMetrics, ViewAlerts, QueryRead}}}, nil, ErrBuiltinRole, "permissions of Viewer are fixed"},
		{"built-in with fewer permissions", []Role{{Name: DBA, Permissions: []Permission{QueryRead}}}, nil, ErrBuiltinRole, "permissions of DBA are fixed"},
		{"built-in in another case", []Role{{Name: "dba", Permissions: builtinMatrix[DBA]}}, nil, ErrBuiltinRole, `use "DBA"`},
		{"duplicate custom", []Role{custom, {Name: "OPS", Permissions: []Permission{ViewMetrics}}}, nil, ErrInvalidRole, "defined twice"},
		{"role with unknown permission", []Role{{Name: "x", Permissions: []Permission{"Fly"}}}, nil, ErrUnknownPermission, `role "x": unknown permission "Fly"`},
		{"grant without user", nil, []Grant{{Role: DBA}}, ErrInvalidGrant, "names no user or group"},
		{"grant to empty group", nil, []Grant{{User: "group:", Role: DBA}}, ErrInvalidGrant, "group name after"},
		{"grant with padded user", nil, []Grant{{User: " alice", Role: DBA}}, ErrInvalidGrant, "leading or trailing spaces"},
		{"grant without role", nil, []Grant{{User: "a"}}, ErrInvalidGrant, "names no role"},
		{"grant with empty target", nil, []Grant{{User: "a", Role: DBA, Targets: []string{"shop", " "}}}, ErrInvalidGrant, "target name in its scope is empty"},
		{"grant expiring before granted", nil, []Grant{{User: "a", Role: DBA, GrantedAt: t0, ExpiresAt: t0}}, ErrInvalidGrant, "not after it was granted"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewPolicy(tc.roles, tc.grants)
			if !errors.Is(err, tc.err) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("err = %v, want %v containing %q", err, tc.err, tc.msg)
			}
		})
	}
}

func TestPolicyRolesAndGrants(t *testing.T) {
	in := []Role{{Name: "ops", Description: "maintenance", Permissions: []Permission{PerformMaintenance}},
		{Name: Auditor, Description: "auditors, with MFA", Permissions: []Permission{ViewAuditLog}, RequireMFA: true}}
	grants := []Grant{{User: "a", Role: "OPS", Targets: []string{"shop"}}}
	p := mustPolicy(t, in, grants)
	// The snapshot must not share memory with its inputs.
	in[0].Permissions[0] = DeleteData
	grants[0].Targets[0] = "other"

	roles := p.Roles()
	var names []string
	for _, r := range roles {
		names = append(names, r.Name)
	}
	if got := strings.Join(names, ","); got != "Administrator,DBA,Developer,Auditor,Viewer,ops" {
		t.Fatalf("Roles = %s", got)
	}
	if !roles[3].RequireMFA || roles[3].Description != "auditors, with MFA" {
		t.Errorf("configured built-in not applied: %+v", roles[3])
	}
	if r, ok := p.Role("OPS"); !ok || r.Permissions[0] != PerformMaintenance {
		t.Errorf("Role(OPS) = %+v, %v", r, ok)
	}
	if _, ok := p.Role("missing"); ok {
		t.Error("Role(missing) found")
	}
	if d := p.Decide(t0, Identity{User: "a"}, PerformMaintenance, "shop", "", ""); !d.Allowed || d.Via != "ops" {
		t.Errorf("custom role after input mutation: %+v", d)
	}
	g := p.Grants()
	if len(g) != 1 || g[0].Targets[0] != "shop" {
		t.Fatalf("Grants = %+v", g)
	}
	g[0].Targets[0] = "mutated"
	if p.Grants()[0].Targets[0] != "shop" {
		t.Error("Grants shares memory with the policy")
	}
}

func TestEffective(t *testing.T) {
	p := mustPolicy(t, nil, []Grant{
		{User: "alice", Role: DBA, Targets: []string{"shop"}},
		{User: "alice", Role: Auditor},
	})
	tests := []struct {
		target string
		access engine.Access
		want   string
	}{
		{"shop", engine.ReadOnly, "ViewMetrics,ViewAlerts,ManageAlerts,PerformMaintenance,ViewAuditLog,QueryRead,ExecuteProcedure,ViewUnmaskedPII"},
		{"shop", engine.ReadWrite, "ViewMetrics,ViewAlerts,ManageAlerts,PerformMaintenance,ViewAuditLog,QueryRead,QueryWrite,ExecuteProcedure,ViewUnmaskedPII"},
		{"shop", engine.Admin, "ViewMetrics,ViewAlerts,ManageAlerts,PerformMaintenance,ViewAuditLog,QueryRead,QueryWrite,QueryDDL,QueryAdmin,ExecuteProcedure,ViewUnmaskedPII"},
		{"crm", engine.Admin, "ViewAuditLog"},
		{"", "", "ViewAuditLog"},
	}
	for _, tc := range tests {
		var got []string
		for _, perm := range p.Effective(t0, Identity{User: "alice"}, tc.target, tc.access) {
			got = append(got, string(perm))
		}
		if g := strings.Join(got, ","); g != tc.want {
			t.Errorf("Effective(%q, %q)\n got %s\nwant %s", tc.target, tc.access, g, tc.want)
		}
	}
}

func TestDecideConcurrent(t *testing.T) {
	p := mustPolicy(t, nil, []Grant{{User: "alice", Role: DBA}, {User: "group:g", Role: Developer}})
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for i := range 8 {
		wg.Go(func() {
			who := Identity{User: "alice"}
			if i%2 == 1 {
				who = Identity{User: "bob", Groups: []string{"g"}}
			}
			for range 500 {
				d := p.Decide(t0, who, QueryRead, "shop", engine.ReadWrite, guard.Write)
				if d.Allowed != (i%2 == 0) {
					errs <- d.Reason
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

func TestDecideAllowedDoesNotAllocate(t *testing.T) {
	p := mustPolicy(t, nil, []Grant{{User: "alice", Role: Developer, Targets: []string{"crm", "shop"}}, {User: "group:dba", Role: DBA}})
	who := Identity{User: "alice", Groups: []string{"x", "dba"}}
	allocs := testing.AllocsPerRun(200, func() {
		if d := p.Decide(t0, who, QueryRead, "shop", engine.ReadWrite, guard.Write); !d.Allowed {
			t.Fatal(d.Reason)
		}
	})
	if allocs != 0 {
		t.Errorf("allowed Decide allocates %.1f times", allocs)
	}
}

// BenchmarkDecide measures the per-call check with a realistic policy:
// 1,000 users with two grants each and 50 group grants.
func BenchmarkDecide(b *testing.B) {
	var grants []Grant
	for i := range 1000 {
		u := "user" + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + strconv.Itoa(i)
		grants = append(grants, Grant{User: u, Role: Developer, Targets: []string{"shop", "crm"}}, Grant{User: u, Role: Viewer})
	}
	for i := range 50 {
		grants = append(grants, Grant{User: "group:team" + strconv.Itoa(i), Role: DBA, ExpiresAt: t0.Add(time.Hour)})
	}
	grants = append(grants, Grant{User: "alice", Role: Developer, Targets: []string{"crm"}})
	p := mustPolicy(b, nil, grants)
	cases := []struct {
		name string
		who  Identity
		kind guard.Kind
		want bool
	}{
		{"direct-read", Identity{User: "alice"}, guard.Read, false}, // scoped to crm: refused with a reason
		{"group-write", Identity{User: "alice", Groups: []string{"a", "b", "team49"}}, guard.Write, true},
		{"user-read", Identity{User: "usera0"}, guard.Read, true},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if d := p.Decide(t0, c.who, QueryRead, "shop", engine.ReadWrite, c.kind); d.Allowed != c.want {
					b.Fatal(d.Reason)
				}
			}
		})
	}
}
