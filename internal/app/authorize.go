package app

import (
	"context"
	"fmt"
	"time"

	"github.com/dap-platform/dap/internal/accounts"
	"github.com/dap-platform/dap/internal/engine"
	"github.com/dap-platform/dap/internal/gateway"
	"github.com/dap-platform/dap/internal/guard"
	"github.com/dap-platform/dap/internal/rbac"
)

// DefaultLocalRole is the built-in role of the local identity (stdio, the
// demo, loopback HTTP without authentication) unless configured: it can
// do, through the tools, everything the targets' access modes allow.
const DefaultLocalRole = rbac.DBA

// policyAuthorizer decides tool calls with the role-based policy: the
// repository's grants for authenticated users, and for the local identity
// the one built-in role the configuration gives it (configuration, not
// repository state, so it cannot be lost or widened by a grant).
type policyAuthorizer struct {
	cache       *accounts.PolicyCache
	localUser   string
	localPolicy *rbac.Policy
}

func newPolicyAuthorizer(cache *accounts.PolicyCache, localUser, localRole string) (*policyAuthorizer, error) {
	if !rbac.IsBuiltin(localRole) {
		return nil, fmt.Errorf("local_role %q must be a built-in role (Administrator, DBA, Developer, Auditor or Viewer)", localRole)
	}
	p, err := rbac.NewPolicy(nil, []rbac.Grant{{ID: 0, User: localUser, Role: localRole, GrantedBy: "configuration", GrantedAt: time.Now()}})
	if err != nil {
		return nil, fmt.Errorf("local identity policy: %w", err)
	}
	return &policyAuthorizer{cache: cache, localUser: localUser, localPolicy: p}, nil
}

// Authorize implements gateway.Authorizer.
func (a *policyAuthorizer) Authorize(ctx context.Context, c gateway.Caller, tool, target string, access engine.Access, kind guard.Kind) error {
	p := a.localPolicy
	if c.User != a.localUser {
		var err error
		if p, err = a.cache.Policy(ctx); err != nil {
			return fmt.Errorf("authorization unavailable (the policy could not be read): %w", engine.ErrUnavailable)
		}
	}
	d := p.Can(time.Now(), rbac.Identity{User: c.User, MFA: c.MFA, Groups: c.Groups}, tool, target, access, kind)
	if !d.Allowed {
		return fmt.Errorf("%w: %s", gateway.ErrForbidden, d.Reason)
	}
	return nil
}
