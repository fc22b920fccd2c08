package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/dap-platform/dap/internal/engine"
	"github.com/dap-platform/dap/internal/guard"
)

// routineTTL is how long a target's routine list is trusted before the
// catalog is read again.
const routineTTL = 30 * time.Second

// ExecuteProcedure runs an allow-listed routine. args maps parameter names
// (or "$1", "$2" ... for unnamed ones) to JSON values; they are checked
// against the catalog signature (names, count, types), converted, and
// bound as parameters - never spliced into SQL text. On a read-only target
// the call runs in the database's read-only transaction.
func (g *Gateway) ExecuteProcedure(ctx context.Context, target, procedure string, args map[string]any) (out *ExecResult, err error) {
	start := time.Now()
	readOnly := false
	defer func() {
		attrs := []slog.Attr{slog.String("procedure", procedure), slog.Int("args", len(args))}
		g.logCall(ctx, "execute_procedure", target, start, err, attrs...)
		kind := guard.Write
		if readOnly {
			kind = guard.Read
		}
		var rows int64
		if out != nil {
			rows = int64(out.RowCount)
		}
		// The procedure's name is recorded, never its argument values.
		if aerr := g.auditCall(ctx, callRecord{tool: "execute_procedure", target: target, object: procedure, kind: kind, rows: rows, start: start, err: err}); aerr != nil && err == nil {
			out, err = nil, aerr
		}
	}()
	t, err := g.target(target)
	if err != nil {
		return nil, err
	}
	if err := g.authorize(ctx, "execute_procedure", t, ""); err != nil {
		return nil, err
	}
	schema, name, err := SplitQualified(procedure)
	if err != nil {
		return nil, err
	}
	if !allowListed(t.Procedures, schema, name) {
		return nil, g.notAllowed(t, procedure)
	}
	r, err := g.findRoutine(ctx, t, schema, name, args)
	if err != nil {
		return nil, err
	}
	if !allowListed(t.Procedures, r.Schema, r.Name) {
		return nil, g.notAllowed(t, procedure)
	}
	bound, err := bindArgs(r, args)
	if err != nil {
		return nil, err
	}
	readOnly = t.Access == engine.ReadOnly
	if !readOnly {
		if err := g.auditIntent(ctx, callRecord{tool: "execute_procedure", target: target, object: r.QualifiedName(), kind: guard.Write, start: start}); err != nil {
			return nil, err
		}
	}
	res, err := t.Engine.CallProcedure(ctx, r, bound, readOnly, t.Limits)
	if err != nil {
		return nil, fmt.Errorf("%s %s on %s: %w", r.Kind, r.QualifiedName(), target, err)
	}
	kind := guard.Write
	if readOnly {
		kind = guard.Read
	}
	return execResult(res, guard.Verdict{Kind: kind, Statement: "CALL " + r.QualifiedName()}), nil
}

func (g *Gateway) notAllowed(t *Target, procedure string) error {
	if len(t.Procedures) == 0 {
		return fmt.Errorf("%w: procedure %q is not on the allow-list of target %s (the list is empty; an administrator adds it under procedures: in dap.yaml)", ErrForbidden, procedure, t.Name)
	}
	return fmt.Errorf("%w: procedure %q is not on the allow-list of target %s (allowed: %s)", ErrForbidden, procedure, t.Name, strings.Join(t.Procedures, ", "))
}

// allowListed: an entry "schema.name" allows exactly that routine; an
// entry "name" allows that name in any schema. Case-insensitive, as
// unquoted identifiers are in most engines.
func allowListed(list []string, schema, name string) bool {
	for _, e := range list {
		es, en, err := SplitQualified(e)
		if err != nil || !strings.EqualFold(en, name) {
			continue
		}
		if es == "" || schema == "" || strings.EqualFold(es, schema) {
			return true
		}
	}
	return false
}

func (g *Gateway) routinesOf(ctx context.Context, t *Target) ([]engine.Routine, error) {
	g.mu.Lock()
	c, ok := g.routines[t.Name]
	g.mu.Unlock()
	if ok && time.Since(c.at) < routineTTL {
		return c.list, nil
	}
	list, err := t.Engine.Routines(ctx, "")
	if err != nil {
		return nil, fmt.Errorf("read routines of %s: %w", t.Name, err)
	}
	g.mu.Lock()
	g.routines[t.Name] = routineCache{at: time.Now(), list: list}
	g.mu.Unlock()
	return list, nil
}

// defaultSchemaer is implemented by adapters that know where unqualified
// names resolve.
type defaultSchemaer interface {
	DefaultSchema(ctx context.Context) (string, error)
}

// findRoutine picks the routine by name; among overloads, the one whose
// input parameters the given argument names fit.
func (g *Gateway) findRoutine(ctx context.Context, t *Target, schema, name string, args map[string]any) (engine.Routine, error) {
	list, err := g.routinesOf(ctx, t)
	if err != nil {
		return engine.Routine{}, err
	}
	var cands []engine.Routine
	for _, r := range list {
		if strings.EqualFold(r.Name, name) && (schema == "" || strings.EqualFold(r.Schema, schema)) {
			cands = append(cands, r)
		}
	}
	if len(cands) == 0 {
		return engine.Routine{}, fmt.Errorf("procedure %q is allow-listed but does not exist on target %s: %w", qualify(schema, name), t.Name, engine.ErrNotFound)
	}
	var fit []engine.Routine
	var firstErr error
	for _, r := range cands {
		if _, err := bindArgs(r, args); err == nil {
			fit = append(fit, r)
		} else if firstErr == nil {
			firstErr = err
		}
	}
	if len(fit) > 1 && schema == "" {
		// An unqualified name that several schemas (MySQL databases) hold
		// resolves to the target's default schema, as the database would.
		if ds, ok := t.Engine.(defaultSchemaer); ok {
			if def, err := ds.DefaultSchema(ctx); err == nil && def != "" {
				var inDefault []engine.Routine
				for _, r := range fit {
					if strings.EqualFold(r.Schema, def) {
						inDefault = append(inDefault, r)
					}
				}
				if len(inDefault) > 0 {
					fit = inDefault
				}
			}
		}
	}
	switch {
	case len(fit) == 1:
		return fit[0], nil
	case len(fit) == 0 && len(cands) == 1:
		return engine.Routine{}, firstErr
	case len(fit) == 0:
		return engine.Routine{}, fmt.Errorf("%w: no overload of %s fits the arguments; signatures: %s", engine.ErrInvalid, qualify(schema, name), signatures(cands))
	}
	return engine.Routine{}, fmt.Errorf("%w: %s is ambiguous (several overloads fit); qualify the schema or name the arguments of one of: %s", engine.ErrInvalid, qualify(schema, name), signatures(fit))
}

func qualify(schema, name string) string {
	if schema == "" {
		return name
	}
	return schema + "." + name
}

func signatures(rs []engine.Routine) string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = Signature(r)
	}
	return strings.Join(s, "; ")
}

// Signature renders a routine as schema.name(p1 type, p2 type).
func Signature(r engine.Routine) string {
	var ps []string
	for _, p := range inParams(r) {
		n := p.Name
		if n == "" {
			n = "$" + strconv.Itoa(p.Position)
		}
		d := ""
		if p.HasDefault {
			d = " = default"
		}
		ps = append(ps, n+" "+p.Type+d)
	}
	return r.QualifiedName() + "(" + strings.Join(ps, ", ") + ")"
}

func inParams(r engine.Routine) []engine.Param {
	var in []engine.Param
	for _, p := range r.Params {
		switch strings.ToLower(p.Mode) {
		case "out", "table":
		default:
			in = append(in, p)
		}
	}
	return in
}

// bindArgs checks args against r's input parameters and converts them to
// driver values in parameter order. Omitted parameters must have defaults
// and may only trail the given ones.
func bindArgs(r engine.Routine, args map[string]any) ([]any, error) {
	in := inParams(r)
	used := make(map[string]bool, len(args))
	var out []any
	missing := -1
	for i, p := range in {
		key := p.Name
		v, ok := args[key]
		if !ok || key == "" {
			key = "$" + strconv.Itoa(i+1)
			v, ok = args[key]
		}
		if !ok {
			if !p.HasDefault {
				return nil, fmt.Errorf("%w: %s: missing argument %q (%s); signature: %s", engine.ErrInvalid, r.QualifiedName(), paramName(p, i), p.Type, Signature(r))
			}
			if missing < 0 {
				missing = i
			}
			continue
		}
		if missing >= 0 {
			return nil, fmt.Errorf("%w: %s: argument %q given after omitted %q; only trailing parameters with defaults may be omitted", engine.ErrInvalid, r.QualifiedName(), paramName(p, i), paramName(in[missing], missing))
		}
		used[key] = true
		cv, err := convertArg(p.Type, v)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: argument %q: %v", engine.ErrInvalid, r.QualifiedName(), paramName(p, i), err)
		}
		out = append(out, cv)
	}
	var extra []string
	for k := range args {
		if !used[k] {
			extra = append(extra, k)
		}
	}
	if len(extra) > 0 {
		sort.Strings(extra)
		return nil, fmt.Errorf("%w: %s has no parameter %s; signature: %s", engine.ErrInvalid, r.QualifiedName(), strings.Join(quoteAll(extra), ", "), Signature(r))
	}
	return out, nil
}

func paramName(p engine.Param, i int) string {
	if p.Name != "" {
		return p.Name
	}
	return "$" + strconv.Itoa(i+1)
}

func quoteAll(s []string) []string {
	out := make([]string, len(s))
	for i, x := range s {
		out[i] = strconv.Quote(x)
	}
	return out
}

var (
	decimalRe = regexp.MustCompile(`^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$`)
	uuidRe    = regexp.MustCompile(`^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$`)
)

// convertArg converts one JSON value to what the database type expects.
// Error messages describe the expected type, never the value (parameter
// values are not echoed anywhere).
func convertArg(typ string, v any) (any, error) {
	t := strings.ToLower(strings.TrimSpace(typ))
	if v == nil {
		return nil, nil
	}
	switch {
	case strings.HasSuffix(t, "[]") || strings.HasPrefix(t, "_"):
		return nil, fmt.Errorf("array parameters (%s) are not supported yet", typ)
	case isIntType(t):
		return toInt(v, typ)
	case strings.Contains(t, "numeric") || strings.Contains(t, "decimal") || strings.Contains(t, "money") || t == "number":
		switch x := v.(type) {
		case float64:
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return nil, fmt.Errorf("want a finite number for %s", typ)
			}
			return strconv.FormatFloat(x, 'f', -1, 64), nil
		case json.Number:
			return x.String(), nil
		case string:
			if !decimalRe.MatchString(strings.TrimSpace(x)) {
				return nil, fmt.Errorf("want a decimal number for %s", typ)
			}
			return strings.TrimSpace(x), nil
		}
		return nil, fmt.Errorf("want a number for %s", typ)
	case strings.Contains(t, "real") || strings.Contains(t, "double") || strings.Contains(t, "float"):
		switch x := v.(type) {
		case float64:
			return x, nil
		case json.Number:
			return x.Float64()
		}
		return nil, fmt.Errorf("want a number for %s", typ)
	case t == "bool" || t == "boolean" || t == "bit":
		if b, ok := v.(bool); ok {
			return b, nil
		}
		return nil, fmt.Errorf("want true or false for %s", typ)
	case t == "date":
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("want a date string YYYY-MM-DD for %s", typ)
		}
		if _, err := time.Parse(time.DateOnly, s); err != nil {
			return nil, fmt.Errorf("want a date YYYY-MM-DD for %s", typ)
		}
		return s, nil
	case strings.HasPrefix(t, "timestamp") || strings.HasPrefix(t, "datetime"):
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("want an RFC 3339 timestamp string for %s", typ)
		}
		ts, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			if ts, err = time.Parse("2006-01-02T15:04:05", s); err != nil {
				if ts, err = time.Parse(time.DateTime, s); err != nil {
					return nil, fmt.Errorf("want an RFC 3339 timestamp (2024-01-31T12:00:00Z) for %s", typ)
				}
			}
		}
		return ts, nil
	case t == "json" || t == "jsonb":
		b, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("want a JSON value for %s", typ)
		}
		return string(b), nil
	case t == "uuid" || t == "uniqueidentifier":
		s, ok := v.(string)
		if !ok || !uuidRe.MatchString(s) {
			return nil, fmt.Errorf("want a UUID string for %s", typ)
		}
		return s, nil
	}
	// Text types and anything else the database casts from text.
	switch x := v.(type) {
	case string:
		return x, nil
	case float64, json.Number, bool:
		if isTextType(t) {
			return nil, fmt.Errorf("want a string for %s", typ)
		}
		return fmt.Sprint(x), nil
	}
	return nil, fmt.Errorf("want a string for %s", typ)
}

func isIntType(t string) bool {
	switch t {
	case "integer", "int", "int2", "int4", "int8", "bigint", "smallint", "tinyint", "mediumint",
		"serial", "bigserial", "smallserial", "year":
		return true
	}
	return strings.HasPrefix(t, "int(") || strings.HasPrefix(t, "bigint") || strings.HasPrefix(t, "tinyint") ||
		strings.HasPrefix(t, "smallint") || strings.HasPrefix(t, "mediumint") || strings.HasPrefix(t, "int ")
}

func isTextType(t string) bool {
	for _, p := range []string{"text", "char", "varchar", "character", "nvarchar", "nchar", "string", "citext", "name"} {
		if strings.HasPrefix(t, p) {
			return true
		}
	}
	return false
}

func toInt(v any, typ string) (any, error) {
	switch x := v.(type) {
	case float64:
		if x != math.Trunc(x) || math.Abs(x) > 1<<53 {
			return nil, fmt.Errorf("want an integer for %s (pass integers beyond 2^53 as strings)", typ)
		}
		return int64(x), nil
	case json.Number:
		i, err := x.Int64()
		if err != nil {
			return nil, fmt.Errorf("want an integer for %s", typ)
		}
		return i, nil
	case string:
		i, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("want an integer for %s", typ)
		}
		return i, nil
	}
	return nil, fmt.Errorf("want an integer for %s", typ)
}
