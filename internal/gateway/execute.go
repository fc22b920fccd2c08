package gateway

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/dap-platform/dap/internal/engine"
	"github.com/dap-platform/dap/internal/guard"
)

// MaxSQLBytes bounds the SQL text of one call; longer texts are refused
// before parsing.
const MaxSQLBytes = 1 << 20

// ExecResult is what execute_sql returns.
type ExecResult struct {
	Columns       []engine.Column `json:"columns"`
	Rows          [][]any         `json:"rows"`
	RowCount      int             `json:"row_count"`
	Truncated     bool            `json:"truncated" jsonschema:"true when a cap (max_rows or max_result_bytes) cut the result; narrow the query or aggregate"`
	TruncatedBy   string          `json:"truncated_by,omitempty" jsonschema:"which cap cut the result: max_rows or max_result_bytes"`
	RowsAffected  int64           `json:"rows_affected,omitempty"`
	StatementKind string          `json:"statement_kind" jsonschema:"read, write, ddl or admin, as the guard classified the statement"`
	Statement     string          `json:"statement,omitempty"`
	ElapsedMs     float64         `json:"elapsed_ms"`
}

// checkSQL parses and classifies sql for target t, and checks the target's
// access mode allows it. A refusal never reaches the database.
func (g *Gateway) checkSQL(t *Target, sql string) (guard.Verdict, error) {
	if strings.TrimSpace(sql) == "" {
		return guard.Verdict{}, fmt.Errorf("%w: empty SQL; send exactly one statement", engine.ErrInvalid)
	}
	if len(sql) > MaxSQLBytes {
		return guard.Verdict{}, fmt.Errorf("%w: SQL text of %d bytes is over the %d-byte limit", engine.ErrInvalid, len(sql), MaxSQLBytes)
	}
	v, err := g.checker.Check(t.Dialect, sql)
	if err != nil {
		return v, err
	}
	if err := guard.Permit(v, t.Access); err != nil {
		return v, err
	}
	return v, nil
}

// ExecuteSQL checks one statement and runs it under the target's limits.
// Reads run in the database's read-only transaction whatever the target's
// access mode, so the database enforces what the guard decided.
func (g *Gateway) ExecuteSQL(ctx context.Context, target, sql string, maxRows int) (out *ExecResult, err error) {
	start := time.Now()
	var v guard.Verdict
	defer func() {
		attrs := []slog.Attr{slog.String("statement_kind", string(v.Kind))}
		var rows int64
		if out != nil {
			attrs = append(attrs, slog.Int("rows", out.RowCount), slog.Bool("truncated", out.Truncated))
			rows = int64(out.RowCount)
			if out.RowsAffected > 0 {
				rows = out.RowsAffected
			}
		}
		g.logCall(ctx, "execute_sql", target, start, err, attrs...)
		g.log.Debug("execute_sql text", slog.String("sql", sql))
		if aerr := g.auditCall(ctx, callRecord{tool: "execute_sql", target: target, sql: sql, kind: v.Kind, rows: rows, start: start, err: err}); aerr != nil && err == nil {
			out, err = nil, aerr
		}
	}()
	t, err := g.target(target)
	if err != nil {
		return nil, err
	}
	v, err = g.checkSQL(t, sql)
	if err != nil {
		return nil, err
	}
	if err := g.authorize(ctx, "execute_sql", t, v.Kind); err != nil {
		return nil, err
	}
	lim := t.Limits
	if maxRows < 0 {
		return nil, fmt.Errorf("%w: max_rows must be positive", engine.ErrInvalid)
	}
	if maxRows > 0 && maxRows < lim.MaxRows {
		lim.MaxRows = maxRows
	}
	if v.Kind != guard.Read {
		if err := g.auditIntent(ctx, callRecord{tool: "execute_sql", target: target, sql: sql, kind: v.Kind, start: start}); err != nil {
			return nil, err
		}
	}
	res, err := t.Engine.Query(ctx, engine.Query{SQL: sql, ReadOnly: v.Kind == guard.Read}, lim)
	if err != nil {
		return nil, fmt.Errorf("%s on %s: %w", v.Statement, target, err)
	}
	return execResult(res, v), nil
}

func execResult(res *engine.Result, v guard.Verdict) *ExecResult {
	rows := res.Rows
	if rows == nil {
		rows = [][]any{}
	}
	cols := res.Columns
	if cols == nil {
		cols = []engine.Column{}
	}
	return &ExecResult{
		Columns: cols, Rows: rows, RowCount: len(rows),
		Truncated: res.Truncated, TruncatedBy: res.TruncatedBy, RowsAffected: res.RowsAffected,
		StatementKind: string(v.Kind), Statement: v.Statement,
		ElapsedMs: float64(res.Elapsed.Microseconds()) / 1000,
	}
}

// ExplainResult is what explain_query returns.
type ExplainResult struct {
	engine.Plan
	StatementKind string `json:"statement_kind"`
	Analyzed      bool   `json:"analyzed"`
}

// Explain returns a statement's plan. Plain EXPLAIN never executes the
// statement, so it is allowed for reads and writes on any target (useful
// for tuning an UPDATE on a read-only replica); ddl and admin statements
// need a target whose access mode allows them. analyze executes the
// statement and is allowed for reads only.
func (g *Gateway) Explain(ctx context.Context, target, sql string, analyze bool) (out *ExplainResult, err error) {
	start := time.Now()
	var v guard.Verdict
	defer func() {
		g.logCall(ctx, "explain_query", target, start, err, slog.String("statement_kind", string(v.Kind)), slog.Bool("analyze", analyze))
		tool := "explain_query"
		if analyze {
			tool = "explain_query:analyze"
		}
		if aerr := g.auditCall(ctx, callRecord{tool: tool, target: target, sql: sql, kind: v.Kind, start: start, err: err}); aerr != nil && err == nil {
			out, err = nil, aerr
		}
	}()
	t, err := g.target(target)
	if err != nil {
		return nil, err
	}
	if err := g.authorize(ctx, "explain_query", t, ""); err != nil {
		return nil, err
	}
	if strings.TrimSpace(sql) == "" || len(sql) > MaxSQLBytes {
		return nil, fmt.Errorf("%w: SQL must hold one statement of at most %d bytes", engine.ErrInvalid, MaxSQLBytes)
	}
	v, err = g.checker.Check(t.Dialect, sql)
	if err != nil {
		return nil, err
	}
	if v.Statement == "EXPLAIN" {
		return nil, &guard.Refusal{Kind: v.Kind, Statement: v.Statement, Reason: "pass the statement itself to explain_query, without EXPLAIN"}
	}
	switch {
	case analyze && v.Kind != guard.Read:
		return nil, &guard.Refusal{Kind: v.Kind, Statement: v.Statement, Construct: v.Construct,
			Reason: "analyze executes the statement, so only reads may be analyzed; explain it without analyze"}
	case v.Kind == guard.Read || v.Kind == guard.Write:
	default:
		if err := guard.Permit(v, t.Access); err != nil {
			return nil, err
		}
	}
	p, err := t.Engine.Explain(ctx, sql, analyze, t.Limits)
	if err != nil {
		return nil, fmt.Errorf("explain %s on %s: %w", v.Statement, target, err)
	}
	return &ExplainResult{Plan: *p, StatementKind: string(v.Kind), Analyzed: analyze}, nil
}
