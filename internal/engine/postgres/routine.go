package postgres

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/dap-platform/dap/internal/engine"
)

// typeName accepts what format_type prints: words, digits, spaces,
// dots, quotes, typmods and array brackets ("character varying(20)",
// "numeric(12,2)", "integer[]", "public.\"Mood\""). Anything else in a
// Routine's types is refused rather than spliced into a cast.
var typeName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_ ."]*(\([0-9, ]+\))?( ?[A-Za-z ]+)?(\[\])*$`)

// CallProcedure implements engine.Engine. The call text is built only
// from the routine's catalog identifiers (quoted) and placeholders, each
// cast to the parameter's catalog type so overloads resolve; the values
// are bound, never spliced. A procedure's OUT parameters are passed as
// typed NULLs (PostgreSQL 14+ wants them in CALL); a function's are not
// passed at all.
func (e *Engine) CallProcedure(ctx context.Context, r engine.Routine, args []any, readOnly bool, lim engine.Limits) (*engine.Result, error) {
	sql, err := callText(r, len(args))
	if err != nil {
		return nil, fmt.Errorf("target %s: call %s: %w", e.name, r.QualifiedName(), err)
	}
	res, err := e.run(ctx, sql, args, readOnly, lim)
	if err != nil {
		return nil, fmt.Errorf("call %s: %w", r.QualifiedName(), err)
	}
	return res, nil
}

// callText builds CALL "s"."p"($1::t, ...) or SELECT * FROM "s"."f"(...).
func callText(r engine.Routine, nargs int) (string, error) {
	if r.Name == "" {
		return "", fmt.Errorf("routine has no name: %w", engine.ErrInvalid)
	}
	// Trailing input parameters with defaults may be omitted (the gateway
	// checks they trail); the call then uses named notation, so that the
	// OUT placeholders of a procedure still line up.
	inputs := 0
	for _, p := range r.Params {
		if p.Mode != "out" {
			inputs++
		}
	}
	if nargs > inputs {
		return "", fmt.Errorf("got %d arguments for %d input parameters: %w", nargs, inputs, engine.ErrInvalid)
	}
	named := nargs < inputs
	var parts []string
	n := 0
	for _, p := range r.Params {
		typ := strings.TrimSpace(p.Type)
		if !typeName.MatchString(typ) {
			return "", fmt.Errorf("parameter %q has an unexpected type %q: %w", p.Name, p.Type, engine.ErrInvalid)
		}
		var arg string
		switch p.Mode {
		case "out":
			if r.Kind != "procedure" {
				continue
			}
			arg = "NULL::" + typ
		default: // in, inout, variadic, ""
			if n >= nargs {
				if !p.HasDefault {
					return "", fmt.Errorf("got %d arguments; parameter %q has no default: %w", nargs, p.Name, engine.ErrInvalid)
				}
				continue
			}
			n++
			arg = "$" + strconv.Itoa(n) + "::" + typ
			if p.Mode == "variadic" {
				arg = "VARIADIC " + arg
			}
		}
		if named {
			if p.Name == "" {
				return "", fmt.Errorf("cannot omit arguments of a routine with unnamed parameters: %w", engine.ErrInvalid)
			}
			arg = pgx.Identifier{p.Name}.Sanitize() + " => " + arg
		}
		parts = append(parts, arg)
	}
	ident := pgx.Identifier{r.Name}
	if r.Schema != "" {
		ident = pgx.Identifier{r.Schema, r.Name}
	}
	call := ident.Sanitize() + "(" + strings.Join(parts, ", ") + ")"
	if r.Kind == "procedure" {
		return "CALL " + call, nil
	}
	return "SELECT * FROM " + call, nil
}
