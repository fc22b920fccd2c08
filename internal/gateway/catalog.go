package gateway

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/dap-platform/dap/internal/engine"
)

// ListSchemas lists a target's user schemas.
func (g *Gateway) ListSchemas(ctx context.Context, target string) (out []engine.Schema, err error) {
	start := time.Now()
	defer func() {
		g.logCall(ctx, "list_schemas", target, start, err)
		if aerr := g.auditCall(ctx, callRecord{tool: "list_schemas", target: target, start: start, err: err, rows: int64(len(out))}); aerr != nil && err == nil {
			out, err = nil, aerr
		}
	}()
	t, err := g.target(target)
	if err != nil {
		return nil, err
	}
	if err := g.authorize(ctx, "list_schemas", t, ""); err != nil {
		return nil, err
	}
	out, err = t.Engine.Schemas(ctx)
	if err != nil {
		return nil, fmt.Errorf("list schemas of %s: %w", target, err)
	}
	return out, nil
}

// ListTables lists tables and views, optionally in one schema and
// filtered by a name pattern (see matchPattern).
func (g *Gateway) ListTables(ctx context.Context, target, schema, pattern string) (out []engine.Table, err error) {
	start := time.Now()
	defer func() {
		g.logCall(ctx, "list_tables", target, start, err, slog.Int("tables", len(out)))
		if aerr := g.auditCall(ctx, callRecord{tool: "list_tables", target: target, start: start, err: err, rows: int64(len(out))}); aerr != nil && err == nil {
			out, err = nil, aerr
		}
	}()
	t, err := g.target(target)
	if err != nil {
		return nil, err
	}
	if err := g.authorize(ctx, "list_tables", t, ""); err != nil {
		return nil, err
	}
	m, err := compilePattern(pattern)
	if err != nil {
		return nil, err
	}
	all, err := t.Engine.Tables(ctx, schema)
	if err != nil {
		return nil, fmt.Errorf("list tables of %s: %w", target, err)
	}
	out = make([]engine.Table, 0, len(all))
	for _, tb := range all {
		if m(tb.Name) || m(tb.Schema+"."+tb.Name) {
			out = append(out, tb)
		}
	}
	return out, nil
}

// DescribeTable returns one table's definition. table is "name" or
// "schema.name"; quoted parts ("My Table") keep their dots.
func (g *Gateway) DescribeTable(ctx context.Context, target, table string) (out *engine.TableDetail, err error) {
	start := time.Now()
	defer func() {
		g.logCall(ctx, "describe_table", target, start, err)
		if aerr := g.auditCall(ctx, callRecord{tool: "describe_table", target: target, object: table, start: start, err: err}); aerr != nil && err == nil {
			out, err = nil, aerr
		}
	}()
	t, err := g.target(target)
	if err != nil {
		return nil, err
	}
	if err := g.authorize(ctx, "describe_table", t, ""); err != nil {
		return nil, err
	}
	schema, name, err := SplitQualified(table)
	if err != nil {
		return nil, err
	}
	out, err = t.Engine.Describe(ctx, schema, name)
	if err != nil {
		return nil, fmt.Errorf("describe %s on %s: %w", table, target, err)
	}
	return out, nil
}

// SplitQualified splits "schema.name" into its parts, honouring double
// quotes, backticks and brackets around either part.
func SplitQualified(s string) (schema, name string, err error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", "", fmt.Errorf("%w: empty table name", engine.ErrInvalid)
	}
	var parts []string
	var cur strings.Builder
	var closer rune
	for _, r := range s {
		switch {
		case closer != 0 && r == closer:
			closer = 0
		case closer != 0:
			cur.WriteRune(r)
		case r == '"':
			closer = '"'
		case r == '`':
			closer = '`'
		case r == '[':
			closer = ']'
		case r == '.':
			parts = append(parts, cur.String())
			cur.Reset()
		default:
			cur.WriteRune(r)
		}
	}
	if closer != 0 {
		return "", "", fmt.Errorf("%w: unbalanced quote in table name %q", engine.ErrInvalid, s)
	}
	parts = append(parts, cur.String())
	switch len(parts) {
	case 1:
		name = parts[0]
	case 2:
		schema, name = parts[0], parts[1]
	default:
		return "", "", fmt.Errorf("%w: table name %q has more than two parts (want table or schema.table)", engine.ErrInvalid, s)
	}
	if name == "" || (len(parts) == 2 && schema == "") {
		return "", "", fmt.Errorf("%w: table name %q has an empty part", engine.ErrInvalid, s)
	}
	return schema, name, nil
}

// ProcedureInfo is an allow-listed routine as list_procedures shows it.
type ProcedureInfo struct {
	Name      string         `json:"name"`
	Kind      string         `json:"kind"`
	Signature string         `json:"signature"`
	Params    []engine.Param `json:"params"`
	Returns   string         `json:"returns,omitempty"`
	Comment   string         `json:"comment,omitempty"`
}

// ListProcedures lists the routines of a target that are on its
// allow-list, with their signatures.
func (g *Gateway) ListProcedures(ctx context.Context, target string) (out []ProcedureInfo, err error) {
	start := time.Now()
	defer func() {
		g.logCall(ctx, "list_procedures", target, start, err)
		if aerr := g.auditCall(ctx, callRecord{tool: "list_procedures", target: target, start: start, err: err, rows: int64(len(out))}); aerr != nil && err == nil {
			out, err = nil, aerr
		}
	}()
	t, err := g.target(target)
	if err != nil {
		return nil, err
	}
	if err := g.authorize(ctx, "list_procedures", t, ""); err != nil {
		return nil, err
	}
	out = []ProcedureInfo{}
	if len(t.Procedures) == 0 {
		return out, nil
	}
	list, err := g.routinesOf(ctx, t)
	if err != nil {
		return nil, err
	}
	for _, r := range list {
		if allowListed(t.Procedures, r.Schema, r.Name) {
			params := r.Params
			if params == nil {
				params = []engine.Param{}
			}
			out = append(out, ProcedureInfo{Name: r.QualifiedName(), Kind: r.Kind, Signature: Signature(r), Params: params, Returns: r.Returns, Comment: r.Comment})
		}
	}
	return out, nil
}
