package sqlserver

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"github.com/dap-platform/dap/internal/engine"
)

// quoteIdent quotes a catalog identifier with brackets, doubling any ]
// (T-SQL's only escape inside [...]). SQL Server identifiers are at most
// 128 characters; a NUL cannot be represented.
func quoteIdent(s string) (string, error) {
	if s == "" {
		return "", fmt.Errorf("empty identifier: %w", engine.ErrInvalid)
	}
	if strings.ContainsRune(s, 0) {
		return "", fmt.Errorf("identifier %q contains a NUL character: %w", s, engine.ErrInvalid)
	}
	if n := len([]rune(s)); n > 128 {
		return "", fmt.Errorf("identifier %.20q... is %d characters long, SQL Server allows 128: %w", s, n, engine.ErrInvalid)
	}
	return "[" + strings.ReplaceAll(s, "]", "]]") + "]", nil
}

// qualified quotes schema.name (name alone when schema is empty).
func qualified(schema, name string) (string, error) {
	n, err := quoteIdent(name)
	if err != nil {
		return "", err
	}
	if schema == "" {
		return n, nil
	}
	s, err := quoteIdent(schema)
	if err != nil {
		return "", err
	}
	return s + "." + n, nil
}

// validParamName accepts a T-SQL parameter name as the catalog stores it
// (@ then a regular identifier). Parameter names cannot be bracket-quoted,
// so anything else is refused rather than spliced.
func validParamName(s string) bool {
	if len(s) < 2 || s[0] != '@' || len([]rune(s)) > 128 {
		return false
	}
	for i, r := range s[1:] {
		switch {
		case unicode.IsLetter(r), r == '_', r == '@', r == '#':
		case i > 0 && (unicode.IsDigit(r) || r == '$'):
		default:
			return false
		}
	}
	return true
}

// buildCall returns the statement that calls r with nargs bound
// arguments (@p1..@pN, go-mssqldb's positional names), built only from
// catalog identifiers and placeholders:
//
//	procedure:         EXEC [s].[p] @a = @p1, @b = @p2
//	scalar function:   SELECT [s].[f](@p1, DEFAULT) AS [f]
//	table function:    SELECT * FROM [s].[f](@p1, @p2)
//
// Procedure arguments are passed by parameter name so trailing parameters
// with defaults can be left out; function calls must list every parameter,
// so missing trailing ones are DEFAULT.
func buildCall(r engine.Routine, nargs int) (string, error) {
	name, err := qualified(r.Schema, r.Name)
	if err != nil {
		return "", fmt.Errorf("routine %s: %w", r.QualifiedName(), err)
	}
	var params []engine.Param
	for _, p := range r.Params {
		if p.Mode != "out" { // T-SQL has no pure OUT parameter; keep the generic rule
			params = append(params, p)
		}
	}
	if nargs > len(params) {
		return "", fmt.Errorf("routine %s takes %d arguments, got %d: %w", r.QualifiedName(), len(params), nargs, engine.ErrInvalid)
	}
	switch r.Kind {
	case "procedure":
		parts := make([]string, 0, nargs)
		for i := 0; i < nargs; i++ {
			pn := params[i].Name
			if !strings.HasPrefix(pn, "@") {
				pn = "@" + pn
			}
			if !validParamName(pn) {
				return "", fmt.Errorf("routine %s: parameter name %q is not a plain T-SQL identifier: %w", r.QualifiedName(), params[i].Name, engine.ErrInvalid)
			}
			parts = append(parts, pn+" = @p"+strconv.Itoa(i+1))
		}
		if len(parts) == 0 {
			return "EXEC " + name, nil
		}
		return "EXEC " + name + " " + strings.Join(parts, ", "), nil
	case "function":
		list := make([]string, len(params))
		for i := range params {
			if i < nargs {
				list[i] = "@p" + strconv.Itoa(i+1)
			} else {
				list[i] = "DEFAULT"
			}
		}
		call := name + "(" + strings.Join(list, ", ") + ")"
		if strings.EqualFold(r.Returns, "table") {
			return "SELECT * FROM " + call, nil
		}
		alias, _ := quoteIdent(r.Name) // already validated by qualified
		return "SELECT " + call + " AS " + alias, nil
	}
	return "", fmt.Errorf("routine %s has kind %q, want procedure or function: %w", r.QualifiedName(), r.Kind, engine.ErrInvalid)
}

// CallProcedure runs a catalog routine with bound arguments; readOnly runs
// it in the read-only (always rolled back) transaction.
func (e *Engine) CallProcedure(ctx context.Context, r engine.Routine, args []any, readOnly bool, lim engine.Limits) (*engine.Result, error) {
	text, err := buildCall(r, len(args))
	if err != nil {
		return nil, fmt.Errorf("target %s: %w", e.name, err)
	}
	return e.run(ctx, text, args, readOnly, lim, "call "+r.QualifiedName())
}
