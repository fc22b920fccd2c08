package rbac

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/dap-platform/dap/internal/engine"
	"github.com/dap-platform/dap/internal/guard"
)

// Decision is the answer to one permission question.
type Decision struct {
	Allowed bool
	// Reason is one human sentence: which grant and role allowed the
	// call, or why nothing did (target's access mode, expiry, scope, MFA,
	// missing permission).
	Reason string
	Via    string // the role that allowed the call; empty when refused
	// Considered lists every grant of the identity and what it did for
	// this question. Only Can fills it; Decide leaves it nil to stay
	// allocation-free on the per-call path.
	Considered []GrantCheck
}

// GrantCheck is one grant as a decision saw it.
type GrantCheck struct {
	Grant   Grant
	Counted bool   // the grant supplied a needed permission
	Note    string // why it counted or not
}

// Explain renders the decision with the grants considered, one per line,
// for `dap can`.
func (d Decision) Explain() string {
	var b strings.Builder
	b.WriteString(d.Reason)
	if d.Considered == nil {
		return b.String()
	}
	if len(d.Considered) == 0 {
		b.WriteString("\n  grants considered: none")
	} else {
		b.WriteString("\n  grants considered:")
	}
	for _, c := range d.Considered {
		mark := "-"
		if c.Counted {
			mark = "+"
		}
		fmt.Fprintf(&b, "\n    %s %s, %s: %s", mark, c.Grant, c.Grant.scope(), c.Note)
	}
	return b.String()
}

// Policy is an immutable snapshot of roles and grants. Build a new one
// when they change; a Policy is safe for concurrent use.
type Policy struct {
	roles  []*roleEntry          // built-ins first, then custom roles in input order
	byName map[string]*roleEntry // lower-cased name
	users  map[string][]*compiledGrant
	groups map[string][]*compiledGrant
	grants []Grant
}

type roleEntry struct {
	role  Role
	perms permSet
}

// compiledGrant is a grant resolved against its role, with the "allowed"
// sentence for each permission it carries written in advance so an
// allowed Decide does not allocate.
type compiledGrant struct {
	grant Grant
	role  *roleEntry
	allow [numPermissions]string
}

// NewPolicy validates roles and grants and builds the snapshot. The
// built-in roles are always present; a role in roles named like a
// built-in may only change its Description and RequireMFA. Any invalid
// role or grant fails the whole policy: a half-loaded policy would
// silently drop rights or, worse, keep revoked ones.
func NewPolicy(roles []Role, grants []Grant) (*Policy, error) {
	p := &Policy{
		byName: make(map[string]*roleEntry, len(builtinRoles)+len(roles)),
		users:  make(map[string][]*compiledGrant),
		groups: make(map[string][]*compiledGrant),
	}
	for _, r := range BuiltinRoles() {
		e := &roleEntry{role: r, perms: setOf(r.Permissions...)}
		p.roles = append(p.roles, e)
		p.byName[strings.ToLower(r.Name)] = e
	}
	seen := make(map[string]bool, len(roles))
	for _, r := range roles {
		if err := ValidateRole(r); err != nil {
			return nil, err
		}
		key := strings.ToLower(r.Name)
		if seen[key] {
			return nil, fmt.Errorf("%w %q: defined twice (names are case-insensitive)", ErrInvalidRole, r.Name)
		}
		seen[key] = true
		r.Permissions = slices.Clone(r.Permissions)
		if e, ok := p.byName[key]; ok { // a built-in: permissions were checked equal
			e.role.Description, e.role.RequireMFA = r.Description, r.RequireMFA
			continue
		}
		e := &roleEntry{role: r, perms: setOf(r.Permissions...)}
		p.roles = append(p.roles, e)
		p.byName[key] = e
	}
	for _, g := range grants {
		if err := ValidateGrant(g); err != nil {
			return nil, err
		}
		e, ok := p.byName[strings.ToLower(g.Role)]
		if !ok {
			return nil, fmt.Errorf("%s: %w %q", g, ErrUnknownRole, g.Role)
		}
		g.Targets = slices.Clone(g.Targets)
		p.grants = append(p.grants, g)
		c := &compiledGrant{grant: g, role: e}
		for _, perm := range e.perms.list() {
			c.allow[perm.index()] = fmt.Sprintf("allowed: %s through role %s, %s, %s%s",
				perm, e.role.Name, g, g.scope(), expiryNote(g.ExpiresAt))
		}
		if name, ok := g.Group(); ok {
			p.groups[name] = append(p.groups[name], c)
		} else {
			p.users[g.User] = append(p.users[g.User], c)
		}
	}
	return p, nil
}

func expiryNote(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return ", until " + t.UTC().Format(time.RFC3339)
}

// Roles returns copies of every role, built-ins first.
func (p *Policy) Roles() []Role {
	out := make([]Role, len(p.roles))
	for i, e := range p.roles {
		r := e.role
		r.Permissions = slices.Clone(r.Permissions)
		out[i] = r
	}
	return out
}

// Role returns the role named name (any letter case).
func (p *Policy) Role(name string) (Role, bool) {
	e, ok := p.byName[strings.ToLower(name)]
	if !ok {
		return Role{}, false
	}
	r := e.role
	r.Permissions = slices.Clone(r.Permissions)
	return r, true
}

// Grants returns copies of every grant in input order.
func (p *Policy) Grants() []Grant {
	out := make([]Grant, len(p.grants))
	for i, g := range p.grants {
		g.Targets = slices.Clone(g.Targets)
		out[i] = g
	}
	return out
}

// Decide answers whether who may use perm on target now.
//
// For QueryRead, QueryWrite, QueryDDL and QueryAdmin the statement kind
// (from the guard) raises the permission needed to the kind's own
// (read -> QueryRead, write -> QueryWrite, ddl -> QueryDDL, admin ->
// QueryAdmin; never lowers it); tx and unknown are always refused. For
// ExecuteProcedure a kind adds the kind's permission as a second need.
// These statement permissions are capped by the target's access mode
// exactly as the guard caps statements: no role lifts a read-only target
// above reads. Every other permission ignores access and kind; pass ""
// for both. target "" asks about something that is not a target (the
// audit log, users, configuration): then only grants for all targets
// count.
//
// A grant counts when it names who.User or one of who.Groups, its role
// holds the permission, it has not expired (now before ExpiresAt), its
// scope includes target, and its role does not require MFA that who
// lacks. Direct grants are tried before group grants, each in input
// order; the first that counts is reported in Reason and Via.
func (p *Policy) Decide(now time.Time, who Identity, perm Permission, target string, access engine.Access, kind guard.Kind) Decision {
	r := requirement(perm, target, access, kind)
	if r.refusal != "" {
		return Decision{Reason: r.refusal}
	}
	if who.User == "" {
		return Decision{Reason: "denied: the call carries no identity; authenticate first"}
	}
	if r.capped != "" {
		return Decision{Reason: p.cappedReason(now, who, r.capped, target, access)}
	}
	g1 := p.find(now, who, r.need, target)
	if g1 == nil {
		return Decision{Reason: p.denyReason(now, who, r.need, target, "")}
	}
	if r.extra == "" {
		return Decision{Allowed: true, Reason: g1.allow[r.need.index()], Via: g1.role.role.Name}
	}
	g2 := p.find(now, who, r.extra, target)
	if g2 == nil {
		return Decision{Reason: p.denyReason(now, who, r.extra, target,
			fmt.Sprintf("%s statements need %s as well as %s", permissionKind(r.extra), r.extra, r.need))}
	}
	return Decision{Allowed: true, Via: g1.role.role.Name,
		Reason: g1.allow[r.need.index()] + "; " + strings.TrimPrefix(g2.allow[r.extra.index()], "allowed: ")}
}

// need is what one question requires after kind and access are applied.
type need struct {
	need    Permission // always required
	extra   Permission // also required (ExecuteProcedure with a kind)
	capped  Permission // a statement permission the access mode forbids
	refusal string     // refused before looking at grants
}

func requirement(perm Permission, target string, access engine.Access, kind guard.Kind) need {
	if !perm.Valid() {
		return need{refusal: fmt.Sprintf("denied: unknown permission %q (known: %s)", string(perm), permissionList())}
	}
	if !perm.statementBound() {
		return need{need: perm}
	}
	if target == "" {
		return need{refusal: fmt.Sprintf("denied: %s is about a target; name the target", perm)}
	}
	r := need{need: perm}
	if kind != "" {
		kp, ok := KindPermission(kind)
		if !ok {
			return need{refusal: fmt.Sprintf("denied: statement kind %q is never run through DAP (transaction control and unclassified statements are refused for everyone)", string(kind))}
		}
		switch {
		case perm == ExecuteProcedure:
			r.extra = kp
		case kp.queryLevel() > perm.queryLevel():
			r.need = kp
		}
	}
	query := r.need
	if query.queryLevel() == 0 {
		query = r.extra
	}
	if query == "" {
		return r
	}
	switch access {
	case engine.ReadOnly, engine.ReadWrite, engine.Admin:
	default:
		return need{refusal: fmt.Sprintf("denied: target %q has no valid access mode (%q); statement permissions are refused until it is configured as read-only, read-write or admin", target, string(access))}
	}
	if !accessAllows(query, access) {
		r.capped = query
	}
	return r
}

// find returns the first grant that counts for perm, or nil.
func (p *Policy) find(now time.Time, who Identity, perm Permission, target string) *compiledGrant {
	for _, g := range p.users[who.User] {
		if g.check(now, who.MFA, perm, target) == ok {
			return g
		}
	}
	for _, name := range who.Groups {
		for _, g := range p.groups[name] {
			if g.check(now, who.MFA, perm, target) == ok {
				return g
			}
		}
	}
	return nil
}

// outcome is why a grant did or did not count, in the order checked.
type outcome int

const (
	ok outcome = iota
	lacksPermission
	outOfScope
	expired
	needsMFA
)

func (g *compiledGrant) check(now time.Time, mfa bool, perm Permission, target string) outcome {
	switch {
	case !g.role.perms.has(perm):
		return lacksPermission
	case !inScope(g.grant.Targets, target):
		return outOfScope
	case !g.grant.ExpiresAt.IsZero() && !now.Before(g.grant.ExpiresAt):
		return expired
	case g.role.role.RequireMFA && !mfa:
		return needsMFA
	}
	return ok
}

func inScope(targets []string, target string) bool {
	return len(targets) == 0 || target != "" && slices.Contains(targets, target)
}

// note explains an outcome in words.
func (g *compiledGrant) note(o outcome, perm Permission, target string) string {
	switch o {
	case ok:
		return "grants " + string(perm)
	case lacksPermission:
		return fmt.Sprintf("role %s does not include %s", g.role.role.Name, perm)
	case outOfScope:
		if target == "" {
			return fmt.Sprintf("limited to %s, so it confers nothing beyond targets", g.grant.scope())
		}
		return fmt.Sprintf("limited to %s, not %q", g.grant.scope(), target)
	case expired:
		return "expired at " + g.grant.ExpiresAt.UTC().Format(time.RFC3339)
	case needsMFA:
		return fmt.Sprintf("role %s requires MFA and this session did not use MFA", g.role.role.Name)
	}
	return "not considered"
}

// grantsOf lists the identity's grants, direct first. It allocates, so it
// serves only refusals and explanations.
func (p *Policy) grantsOf(who Identity) []*compiledGrant {
	out := slices.Clone(p.users[who.User])
	for _, name := range who.Groups {
		out = append(out, p.groups[name]...)
	}
	return out
}

func subject(who Identity) string {
	if len(who.Groups) == 0 {
		return who.User
	}
	return fmt.Sprintf("%s (groups %s)", who.User, strings.Join(who.Groups, ", "))
}

func onTarget(target string) string {
	if target == "" {
		return ""
	}
	return fmt.Sprintf(" on target %q", target)
}

// denyReason explains why no grant supplied perm. prefix, when set, says
// why perm was needed.
func (p *Policy) denyReason(now time.Time, who Identity, perm Permission, target, prefix string) string {
	head := fmt.Sprintf("denied: %s has no %s%s", subject(who), perm, onTarget(target))
	if prefix != "" {
		head = "denied: " + prefix + "; " + strings.TrimPrefix(head, "denied: ")
	}
	gs := p.grantsOf(who)
	if len(gs) == 0 {
		return head + ": no role is granted to this user or its groups"
	}
	var blocked, roles []string
	for _, g := range gs {
		o := g.check(now, who.MFA, perm, target)
		if o == lacksPermission {
			if !slices.Contains(roles, g.role.role.Name) {
				roles = append(roles, g.role.role.Name)
			}
			continue
		}
		blocked = append(blocked, g.grant.String()+" "+g.note(o, perm, target))
	}
	if len(blocked) == 0 {
		return fmt.Sprintf("%s: none of the granted roles (%s) includes it", head, strings.Join(roles, ", "))
	}
	return head + ": " + strings.Join(blocked, "; ")
}

// cappedReason explains a statement permission the target's access mode
// forbids, saying whether the identity would otherwise have held it.
func (p *Policy) cappedReason(now time.Time, who Identity, perm Permission, target string, access engine.Access) string {
	s := fmt.Sprintf("denied: target %q is %s, so %s statements (%s) are not allowed there for anyone",
		target, access, permissionKind(perm), perm)
	if g := p.find(now, who, perm, target); g != nil {
		s += fmt.Sprintf("; %s holds %s through role %s, but the target's access mode caps it", who.User, perm, g.role.role.Name)
	}
	return s
}

// Effective lists the permissions who holds on target now, with the
// statement permissions capped by access (pass "" for target and access
// to list the permissions that are not about a target). For `dap user`
// and for filtering list_targets.
func (p *Policy) Effective(now time.Time, who Identity, target string, access engine.Access) []Permission {
	var out []Permission
	if who.User == "" {
		return nil
	}
	for _, perm := range allPermissions {
		if target == "" && perm.statementBound() {
			continue
		}
		if perm.queryLevel() > 0 && !accessAllows(perm, access) {
			continue
		}
		if p.find(now, who, perm, target) != nil {
			out = append(out, perm)
		}
	}
	return out
}
