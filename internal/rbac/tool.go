package rbac

import (
	"fmt"
	"slices"
	"time"

	"github.com/dap-platform/dap/internal/engine"
	"github.com/dap-platform/dap/internal/guard"
)

// toolPermissions is the constant table of MCP tools and the permission
// each needs before any statement kind is applied.
var toolPermissions = [...]struct {
	tool string
	perm Permission
}{
	{"list_targets", QueryRead},
	{"list_schemas", QueryRead},
	{"list_tables", QueryRead},
	{"describe_table", QueryRead},
	{"list_procedures", QueryRead},
	{"explain_query", QueryRead},
	{"execute_sql", QueryRead},
	{"execute_procedure", ExecuteProcedure},
}

// ToolPermission maps an MCP tool to the permission it needs on a target:
//   - list_targets, list_schemas, list_tables, describe_table,
//     list_procedures and explain_query need QueryRead. explain_query
//     does not execute anything but reads (the gateway only analyzes
//     reads), so the explained statement's kind does not raise it.
//     list_targets is decided per target, to filter the list.
//   - execute_sql needs QueryRead raised to the statement kind's
//     permission (write -> QueryWrite ...); Can requires the kind.
//   - execute_procedure needs ExecuteProcedure and, because the gateway
//     runs a procedure read-only only on read-only targets, QueryRead
//     there and QueryWrite on read-write and admin targets, where the
//     procedure may write. So a Developer (QueryRead, ExecuteProcedure)
//     runs procedures on read-only targets only; a role that may change
//     data through procedures must also hold QueryWrite.
func ToolPermission(tool string) (Permission, bool) {
	for _, t := range toolPermissions {
		if t.tool == tool {
			return t.perm, true
		}
	}
	return "", false
}

// Can maps an MCP tool (and, for execute_sql, the statement kind) to
// permissions as ToolPermission describes, decides, and lists every
// grant of who in Decision.Considered - what `dap can alice execute_sql
// shop write` prints through Decision.Explain.
func (p *Policy) Can(now time.Time, who Identity, tool, target string, access engine.Access, kind guard.Kind) Decision {
	perm, known := ToolPermission(tool)
	if !known {
		return Decision{Reason: fmt.Sprintf("denied: unknown tool %q", tool), Considered: []GrantCheck{}}
	}
	switch tool {
	case "execute_sql":
		if kind == "" {
			return Decision{Reason: "denied: execute_sql is decided by the statement's kind; give it (read, write, ddl or admin)",
				Considered: p.considered(now, who, target, perm, "")}
		}
	case "execute_procedure":
		// The procedure's effect follows the target's access mode; an
		// explicit stronger kind from the caller still wins.
		derived := guard.Read
		if access != engine.ReadOnly {
			derived = guard.Write
		}
		if kind == "" || kind == guard.Read {
			kind = derived
		}
	default:
		kind = ""
	}
	d := p.Decide(now, who, perm, target, access, kind)
	r := requirement(perm, target, access, kind)
	if r.need == "" { // refused before grants: still show them against the tool's permission
		r.need = perm
	}
	d.Considered = p.considered(now, who, target, r.need, r.extra)
	return d
}

// considered reports each grant of who against the needed permissions.
func (p *Policy) considered(now time.Time, who Identity, target string, perm, extra Permission) []GrantCheck {
	gs := p.grantsOf(who)
	out := make([]GrantCheck, 0, len(gs))
	for _, g := range gs {
		c := GrantCheck{Grant: g.grant}
		c.Grant.Targets = slices.Clone(c.Grant.Targets)
		var counted []string
		var first string
		for _, need := range []Permission{perm, extra} {
			if need == "" {
				continue
			}
			o := g.check(now, who.MFA, need, target)
			if o == ok {
				counted = append(counted, string(need))
			} else if first == "" {
				first = g.note(o, need, target)
			}
		}
		switch {
		case len(counted) > 0:
			c.Counted = true
			c.Note = "grants " + joinStrings(counted)
			if first != "" {
				c.Note += "; " + first
			}
		case first != "":
			c.Note = first
		default:
			c.Note = "nothing needed was asked of it"
		}
		out = append(out, c)
	}
	return out
}

func joinStrings(s []string) string {
	if len(s) == 2 {
		return s[0] + " and " + s[1]
	}
	return s[0]
}
