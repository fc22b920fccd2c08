package gateway

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dap-platform/dap/internal/audit"
	"github.com/dap-platform/dap/internal/correlation"
	"github.com/dap-platform/dap/internal/guard"
)

// ErrAuditUnavailable refuses a call whose audit record could not be
// written: DAP fails closed rather than act without a trace.
var ErrAuditUnavailable = errors.New("refused: the audit trail could not record this call")

// Auditor makes a record durable before the caller sees a result.
type Auditor interface {
	Append(ctx context.Context, e audit.Event) (int64, error)
}

// Caller is who makes a call, as the transport knows it.
type Caller struct {
	User        string
	SessionID   string
	ClientAddr  string
	Application string // client name/version
	// Groups and MFA come from an OIDC token (groups claim; amr showing a
	// second factor); API keys and the local identity have neither.
	Groups []string
	MFA    bool
}

type callerKey struct{}

// WithCaller returns ctx carrying c.
func WithCaller(ctx context.Context, c Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

// CallerFrom returns the caller in ctx (zero when none).
func CallerFrom(ctx context.Context) Caller {
	c, _ := ctx.Value(callerKey{}).(Caller)
	return c
}

// UseAuditor makes g record every call with a. closer, if not nil, runs
// when g closes (after the engines), so the last records and checkpoint
// are written.
func (g *Gateway) UseAuditor(a Auditor, closer func(context.Context) error) {
	g.auditor, g.auditClose = a, closer
}

// callRecord is what one use case reports to the audit trail.
type callRecord struct {
	tool    string
	target  string
	object  string // procedure or table name, when the call names one
	sql     string
	kind    guard.Kind
	rows    int64
	start   time.Time
	err     error
	started bool // an intent record was written before execution
}

// auditCall writes the record of a finished call. It returns the error
// that must replace a successful result when the record could not be
// written.
func (g *Gateway) auditCall(ctx context.Context, r callRecord) error {
	if g.auditor == nil {
		return nil
	}
	e := g.event(ctx, r)
	e.Success = r.err == nil
	if r.err != nil {
		e.Error = logSafe(r.err)
	}
	e.DurationMs = time.Since(r.start).Milliseconds()
	e.RowsReturned = r.rows
	if _, err := g.auditor.Append(context.WithoutCancel(ctx), e); err != nil {
		g.log.Error("audit append failed; call refused", "correlation_id", correlation.From(ctx), "error", err)
		return fmt.Errorf("%w (correlation id %s)", ErrAuditUnavailable, correlation.From(ctx))
	}
	return nil
}

// auditIntent writes, before a statement that may change something runs,
// a record that it is about to run. If it cannot be written the statement
// never reaches the database.
func (g *Gateway) auditIntent(ctx context.Context, r callRecord) error {
	if g.auditor == nil {
		return nil
	}
	e := g.event(ctx, r)
	e.Action = r.tool + ":start"
	e.Success = true
	if _, err := g.auditor.Append(ctx, e); err != nil {
		g.log.Error("audit append failed; statement not run", "correlation_id", correlation.From(ctx), "error", err)
		return fmt.Errorf("%w (correlation id %s)", ErrAuditUnavailable, correlation.From(ctx))
	}
	return nil
}

func (g *Gateway) event(ctx context.Context, r callRecord) audit.Event {
	c := CallerFrom(ctx)
	objType, obj := "target", r.target
	if r.object != "" {
		objType, obj = "object", r.object
	}
	return audit.Event{
		Type: audit.TypeToolCall, User: c.User, SessionID: c.SessionID, ClientAddr: c.ClientAddr,
		Application: c.Application, ObjectType: objType, ObjectName: obj, Action: r.tool,
		Target: r.target, StatementKind: string(r.kind), CorrelationID: correlation.From(ctx), SQLText: r.sql,
	}
}
