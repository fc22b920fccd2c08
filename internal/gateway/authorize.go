package gateway

import (
	"context"

	"github.com/dap-platform/dap/internal/engine"
	"github.com/dap-platform/dap/internal/guard"
)

// Authorizer decides whether the caller (user, groups, MFA) may use a tool
// on a target for a statement of the given kind ("" where the tool has no
// statement). It returns nil, or an error wrapping ErrForbidden that
// explains why not.
type Authorizer interface {
	Authorize(ctx context.Context, c Caller, tool, target string, access engine.Access, kind guard.Kind) error
}

// UseAuthorizer makes g check every call with a (role-based access). A
// gateway without one allows every call its targets' access modes allow.
func (g *Gateway) UseAuthorizer(a Authorizer) { g.authorizer = a }

// authorize checks the caller in ctx against tool, target and kind.
func (g *Gateway) authorize(ctx context.Context, tool string, t *Target, kind guard.Kind) error {
	if g.authorizer == nil {
		return nil
	}
	return g.authorizer.Authorize(ctx, CallerFrom(ctx), tool, t.Name, t.Access, kind)
}
