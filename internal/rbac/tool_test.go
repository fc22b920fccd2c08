package rbac

import (
	"strings"
	"testing"

	"github.com/dap-platform/dap/internal/engine"
	"github.com/dap-platform/dap/internal/guard"
)

func TestToolPermission(t *testing.T) {
	tests := []struct {
		tool string
		want Permission
		ok   bool
	}{
		{"list_targets", QueryRead, true},
		{"list_schemas", QueryRead, true},
		{"list_tables", QueryRead, true},
		{"describe_table", QueryRead, true},
		{"list_procedures", QueryRead, true},
		{"explain_query", QueryRead, true},
		{"execute_sql", QueryRead, true},
		{"execute_procedure", ExecuteProcedure, true},
		{"drop_database", "", false},
		{"Execute_SQL", "", false},
	}
	for _, tc := range tests {
		got, ok := ToolPermission(tc.tool)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ToolPermission(%q) = %q, %v; want %q, %v", tc.tool, got, ok, tc.want, tc.ok)
		}
	}
}

func TestCan(t *testing.T) {
	p := mustPolicy(t, nil, []Grant{
		{ID: 1, User: "dev", Role: Developer},
		{ID: 2, User: "dba", Role: DBA, Targets: []string{"shop"}},
		{ID: 3, User: "dba", Role: Viewer},
		{ID: 4, User: "aud", Role: Auditor},
	})
	tests := []struct {
		name   string
		user   string
		tool   string
		access engine.Access
		kind   guard.Kind
		want   bool
		reason string
	}{
		{"developer reads", "dev", "execute_sql", engine.ReadWrite, guard.Read, true, "QueryRead through role Developer"},
		{"developer cannot write", "dev", "execute_sql", engine.ReadWrite, guard.Write, false, "none of the granted roles (Developer) includes it"},
		{"dba writes", "dba", "execute_sql", engine.ReadWrite, guard.Write, true, "QueryWrite through role DBA"},
		{"dba cannot write on read-only", "dba", "execute_sql", engine.ReadOnly, guard.Write, false, `target "shop" is read-only`},
		{"dba ddl needs admin target", "dba", "execute_sql", engine.ReadWrite, guard.DDL, false, "read-write, so ddl statements"},
		{"execute_sql without kind", "dba", "execute_sql", engine.Admin, "", false, "decided by the statement's kind"},
		{"execute_sql tx", "dba", "execute_sql", engine.Admin, guard.Tx, false, "never run through DAP"},
		{"auditor cannot list tables", "aud", "list_tables", engine.Admin, "", false, "none of the granted roles (Auditor)"},
		{"developer describes", "dev", "describe_table", engine.ReadOnly, "", true, "QueryRead"},
		{"explain ignores the kind", "dev", "explain_query", engine.ReadOnly, guard.DDL, true, "QueryRead"},
		{"developer procedure on read-only", "dev", "execute_procedure", engine.ReadOnly, "", true, "ExecuteProcedure through role Developer"},
		{"developer procedure on read-write", "dev", "execute_procedure", engine.ReadWrite, "", false, "write statements need QueryWrite as well as ExecuteProcedure"},
		{"dba procedure on read-write", "dba", "execute_procedure", engine.ReadWrite, "", true, "QueryWrite through role DBA"},
		{"procedure with an explicit stronger kind", "dba", "execute_procedure", engine.ReadWrite, guard.DDL, false, "read-write, so ddl statements"},
		{"unknown tool", "dba", "drop_all", engine.Admin, "", false, `unknown tool "drop_all"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := p.Can(t0, Identity{User: tc.user}, tc.tool, "shop", tc.access, tc.kind)
			if d.Allowed != tc.want || !strings.Contains(d.Reason, tc.reason) {
				t.Fatalf("got (%v, %q), want (%v, ...%q...)", d.Allowed, d.Reason, tc.want, tc.reason)
			}
			if d.Considered == nil {
				t.Fatal("Can left Considered nil")
			}
		})
	}
}

func TestCanExplain(t *testing.T) {
	p := mustPolicy(t, []Role{{Name: "oncall", Permissions: []Permission{QueryRead, QueryWrite}, RequireMFA: true}}, []Grant{
		{ID: 1, User: "alice", Role: Developer},
		{ID: 2, User: "alice", Role: DBA, Targets: []string{"crm"}},
		{ID: 3, User: "alice", Role: DBA, ExpiresAt: t0},
		{ID: 4, User: "group:oncall", Role: "oncall"},
		{ID: 5, User: "group:ops", Role: DBA},
	})
	d := p.Can(t0, Identity{User: "alice", Groups: []string{"oncall"}}, "execute_sql", "shop", engine.ReadWrite, guard.Write)
	want := `denied: alice (groups oncall) has no QueryWrite on target "shop": grant #2 (DBA to alice) limited to target crm, not "shop"; grant #3 (DBA to alice) expired at 2026-03-01T12:00:00Z; grant #4 (oncall to group:oncall) role oncall requires MFA and this session did not use MFA
  grants considered:
    - grant #1 (Developer to alice), all targets: role Developer does not include QueryWrite
    - grant #2 (DBA to alice), target crm: limited to target crm, not "shop"
    - grant #3 (DBA to alice), all targets: expired at 2026-03-01T12:00:00Z
    - grant #4 (oncall to group:oncall), all targets: role oncall requires MFA and this session did not use MFA`
	if got := d.Explain(); got != want {
		t.Errorf("Explain\n got:\n%s\nwant:\n%s", got, want)
	}

	d = p.Can(t0, Identity{User: "alice", MFA: true, Groups: []string{"oncall"}}, "execute_sql", "shop", engine.ReadWrite, guard.Write)
	if !d.Allowed || d.Via != "oncall" {
		t.Fatalf("with MFA: %+v", d)
	}
	lines := strings.Split(d.Explain(), "\n")
	if len(lines) != 6 || lines[5] != "    + grant #4 (oncall to group:oncall), all targets: grants QueryWrite" {
		t.Errorf("Explain with MFA:\n%s", d.Explain())
	}

	d = p.Can(t0, Identity{User: "nobody"}, "list_tables", "shop", engine.ReadOnly, "")
	if d.Allowed || d.Explain() != `denied: nobody has no QueryRead on target "shop": no role is granted to this user or its groups`+"\n  grants considered: none" {
		t.Errorf("nobody: %q", d.Explain())
	}

	// A procedure needing two permissions shows both on the grant that
	// supplied them.
	d = p.Can(t0, Identity{User: "bob", Groups: []string{"ops"}}, "execute_procedure", "shop", engine.ReadWrite, "")
	if !d.Allowed || len(d.Considered) != 1 || d.Considered[0].Note != "grants ExecuteProcedure and QueryWrite" {
		t.Errorf("procedure: %s", d.Explain())
	}
	// Decide alone leaves Considered nil and Explain is the reason.
	d = p.Decide(t0, Identity{User: "alice"}, QueryRead, "shop", engine.ReadOnly, guard.Read)
	if d.Considered != nil || d.Explain() != d.Reason {
		t.Errorf("Decide: %+v", d)
	}
}
