package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/dap-platform/dap/internal/correlation"
	"github.com/dap-platform/dap/internal/engine"
	"github.com/dap-platform/dap/internal/guard"
)

// Error kinds of the gateway itself; engine and guard kinds pass through.
var (
	ErrUnknownTarget = errors.New("unknown target")
	ErrForbidden     = errors.New("forbidden")
)

// Target is one configured database as the gateway serves it.
type Target struct {
	Name        string
	Description string
	Engine      engine.Engine // nil when the target could not be opened
	OpenErr     error         // why Engine is nil or was withdrawn (e.g. failed read-only self-test)
	Dialect     engine.Dialect
	Access      engine.Access
	Limits      engine.Limits
	// Procedures is the allow-list for execute_procedure ("schema.name" or "name").
	Procedures []string
}

// Gateway serves the use cases over a fixed set of targets.
type Gateway struct {
	targets map[string]*Target
	names   []string
	checker *guard.Checker
	log     *slog.Logger
	// catalogCache keeps routine lists briefly, so execute_procedure does
	// not read the catalog on every call.
	mu       sync.Mutex
	routines map[string]routineCache
	// auditor records every call (nil: no audit trail configured).
	auditor    Auditor
	auditClose func(context.Context) error
	// authorizer decides per call (nil: the access modes alone decide).
	authorizer Authorizer
}

type routineCache struct {
	at   time.Time
	list []engine.Routine
}

// New builds a gateway. Targets are served in name order.
func New(targets []*Target, log *slog.Logger) *Gateway {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	g := &Gateway{
		targets:  make(map[string]*Target, len(targets)),
		checker:  guard.NewChecker(4096),
		log:      log,
		routines: map[string]routineCache{},
	}
	for _, t := range targets {
		t.Limits = t.Limits.WithDefaults()
		g.targets[t.Name] = t
		g.names = append(g.names, t.Name)
	}
	sort.Strings(g.names)
	return g
}

// Close closes every engine.
func (g *Gateway) Close() error {
	var errs []error
	for _, n := range g.names {
		if e := g.targets[n].Engine; e != nil {
			if err := e.Close(); err != nil {
				errs = append(errs, fmt.Errorf("close %s: %w", n, err))
			}
		}
	}
	if g.auditClose != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := g.auditClose(ctx); err != nil {
			errs = append(errs, fmt.Errorf("close the audit trail: %w", err))
		}
	}
	return errors.Join(errs...)
}

// Names lists the target names in order.
func (g *Gateway) Names() []string { return append([]string(nil), g.names...) }

// target finds a usable target or explains why not.
func (g *Gateway) target(name string) (*Target, error) {
	t, ok := g.targets[name]
	if !ok {
		if len(g.names) == 0 {
			return nil, fmt.Errorf("%w %q: no targets are configured", ErrUnknownTarget, name)
		}
		return nil, fmt.Errorf("%w %q (known targets: %s)", ErrUnknownTarget, name, strings.Join(g.names, ", "))
	}
	if t.Engine == nil {
		return nil, fmt.Errorf("target %s is not available: %v: %w", name, t.OpenErr, engine.ErrUnavailable)
	}
	return t, nil
}

// TargetInfo is what list_targets shows.
type TargetInfo struct {
	Name          string `json:"name"`
	Engine        string `json:"engine"`
	Access        string `json:"access" jsonschema:"read-only, read-write or admin: the most a statement may do on this target"`
	Description   string `json:"description,omitempty"`
	Reachable     bool   `json:"reachable"`
	ServerVersion string `json:"server_version,omitempty"`
	Error         string `json:"error,omitempty" jsonschema:"why the target is not reachable"`
	MaxRows       int    `json:"max_rows"`
	TimeoutMs     int64  `json:"statement_timeout_ms"`
}

// ListTargets is the list_targets use case: Status, audited.
func (g *Gateway) ListTargets(ctx context.Context) (out []TargetInfo, err error) {
	start := time.Now()
	defer func() {
		if aerr := g.auditCall(ctx, callRecord{tool: "list_targets", start: start, rows: int64(len(out))}); aerr != nil {
			out, err = nil, aerr
		}
	}()
	all := g.Status(ctx)
	if g.authorizer == nil {
		return all, nil
	}
	// A caller sees only the targets it may read.
	out = make([]TargetInfo, 0, len(all))
	for _, ti := range all {
		if g.authorize(ctx, "list_targets", g.targets[ti.Name], "") == nil {
			out = append(out, ti)
		}
	}
	return out, nil
}

// Status pings every target concurrently (bounded by a short timeout)
// and reports reachability; health checks use it unaudited.
func (g *Gateway) Status(ctx context.Context) []TargetInfo {
	out := make([]TargetInfo, len(g.names))
	var wg sync.WaitGroup
	for i, n := range g.names {
		t := g.targets[n]
		out[i] = TargetInfo{
			Name: t.Name, Engine: string(t.Dialect), Access: string(t.Access), Description: t.Description,
			MaxRows: t.Limits.MaxRows, TimeoutMs: t.Limits.Timeout.Milliseconds(),
		}
		if t.Engine == nil {
			out[i].Error = fmt.Sprint(t.OpenErr)
			continue
		}
		wg.Add(1)
		go func(info *TargetInfo, e engine.Engine) {
			defer wg.Done()
			pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
			defer cancel()
			v, err := e.ServerVersion(pctx)
			if err != nil {
				info.Error = err.Error()
				return
			}
			info.Reachable, info.ServerVersion = true, v
		}(&out[i], t.Engine)
	}
	wg.Wait()
	return out
}

// logCall writes one line per use case at info level: never SQL values,
// results or parameter values (SQL text goes to debug only).
func (g *Gateway) logCall(ctx context.Context, op, target string, start time.Time, err error, attrs ...slog.Attr) {
	attrs = append(attrs,
		slog.String("op", op), slog.String("target", target),
		slog.String("correlation_id", correlation.From(ctx)),
		slog.Int64("elapsed_us", time.Since(start).Microseconds()))
	level := slog.LevelInfo
	if err != nil {
		attrs = append(attrs, slog.String("error", logSafe(err)))
		level = slog.LevelWarn
	}
	g.log.LogAttrs(ctx, level, "gateway call", attrs...)
}

// logSafe describes err for the log without anything that may quote data:
// database messages can quote cell values ("invalid input syntax for type
// integer: ..."), and parse errors quote the SQL text. Those are logged by
// their code or kind only; the caller gets the full message.
func logSafe(err error) string {
	var dbErr *engine.DBError
	var ref *guard.Refusal
	switch {
	case errors.As(err, &dbErr):
		return "database error " + dbErr.Code
	case errors.As(err, &ref):
		s := "refused: kind " + string(ref.Kind)
		if ref.Statement != "" {
			s += ", statement " + ref.Statement
		}
		if ref.Construct != "" && !strings.ContainsAny(ref.Construct, "'\"$") {
			s += ", construct " + ref.Construct
		}
		return s
	case errors.Is(err, engine.ErrInvalid):
		return "invalid request"
	}
	return err.Error()
}
