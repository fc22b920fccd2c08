package rbac

import (
	"fmt"
	"strings"
	"time"
)

// GroupPrefix marks a grant subject that names a group carried by an
// identity (an OIDC groups claim) rather than a user: "group:dba-team".
const GroupPrefix = "group:"

// Grant gives a user, or every member of a group, one role. Its fields
// map one-to-one to a repository row.
type Grant struct {
	ID int64 // repository id; 0 when not stored yet. Shown in explanations.
	// User is the identity's user name, matched exactly (the auth layer
	// normalises it), or GroupPrefix + a group name.
	User string
	Role string // role name, any letter case
	// Targets limits the grant to these target names; empty means all
	// targets. A limited grant never confers a permission that is not
	// about a target (ViewAuditLog, ManageUsers ...).
	Targets   []string
	ExpiresAt time.Time // zero: never. The grant stops counting at this instant.
	GrantedBy string
	GrantedAt time.Time
}

// Group returns the group name and true when the grant names a group.
func (g Grant) Group() (string, bool) {
	return strings.CutPrefix(g.User, GroupPrefix)
}

// String names the grant in explanations: "grant #7 (DBA to alice)".
func (g Grant) String() string {
	if g.ID != 0 {
		return fmt.Sprintf("grant #%d (%s to %s)", g.ID, g.Role, g.User)
	}
	return fmt.Sprintf("grant (%s to %s)", g.Role, g.User)
}

// scope describes where the grant applies, for explanations.
func (g Grant) scope() string {
	if len(g.Targets) == 0 {
		return "all targets"
	}
	if len(g.Targets) == 1 {
		return "target " + g.Targets[0]
	}
	return "targets " + strings.Join(g.Targets, ", ")
}

// ValidateGrant checks a grant's own fields; whether its role exists is
// checked by NewPolicy.
func ValidateGrant(g Grant) error {
	if strings.TrimSpace(g.User) == "" {
		return fmt.Errorf("%w: %s names no user or group", ErrInvalidGrant, g)
	}
	if strings.TrimSpace(g.User) != g.User {
		return fmt.Errorf("%w: %s: the user %q has leading or trailing spaces", ErrInvalidGrant, g, g.User)
	}
	if name, ok := g.Group(); ok && strings.TrimSpace(name) == "" {
		return fmt.Errorf("%w: %s: the group name after %q is empty", ErrInvalidGrant, g, GroupPrefix)
	}
	if g.Role == "" {
		return fmt.Errorf("%w: %s names no role", ErrInvalidGrant, g)
	}
	for _, t := range g.Targets {
		if strings.TrimSpace(t) == "" {
			return fmt.Errorf("%w: %s: a target name in its scope is empty", ErrInvalidGrant, g)
		}
	}
	if !g.ExpiresAt.IsZero() && !g.GrantedAt.IsZero() && !g.ExpiresAt.After(g.GrantedAt) {
		return fmt.Errorf("%w: %s expires at %s, not after it was granted at %s",
			ErrInvalidGrant, g, g.ExpiresAt.UTC().Format(time.RFC3339), g.GrantedAt.UTC().Format(time.RFC3339))
	}
	return nil
}

// Identity is who is calling, as the auth layer established it.
type Identity struct {
	User   string
	MFA    bool     // authenticated with a second factor (OIDC amr claim)
	Groups []string // group names from the identity provider, without GroupPrefix
}
