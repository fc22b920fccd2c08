package sqlserver

import (
	"context"
	"strings"

	"github.com/sqlc-dev/teesql/ast"
	"github.com/sqlc-dev/teesql/parser"
)

// paramDefaults reads which parameters of a T-SQL procedure or function
// have a default, from its module text (sys.sql_modules.definition).
// sys.parameters.has_default_value is 0 for every T-SQL routine (SQL
// Server keeps defaults only for CLR objects), so the definition is the
// only source. Keys are lower-case parameter names with their @. A text
// that does not parse (or an encrypted module, empty text) yields nil.
func paramDefaults(ctx context.Context, definition string) map[string]bool {
	if strings.TrimSpace(definition) == "" {
		return nil
	}
	script, err := parser.Parse(ctx, strings.NewReader(definition))
	if err != nil || script == nil {
		return nil
	}
	for _, b := range script.Batches {
		for _, st := range b.Statements {
			var params []*ast.ProcedureParameter
			switch s := st.(type) {
			case *ast.CreateProcedureStatement:
				params = s.Parameters
			case *ast.CreateOrAlterProcedureStatement:
				params = s.Parameters
			case *ast.AlterProcedureStatement:
				params = s.Parameters
			case *ast.CreateFunctionStatement:
				params = s.Parameters
			case *ast.CreateOrAlterFunctionStatement:
				params = s.Parameters
			default:
				continue
			}
			out := make(map[string]bool, len(params))
			for _, p := range params {
				if p == nil || p.VariableName == nil {
					continue
				}
				out[strings.ToLower(p.VariableName.Value)] = p.Value != nil
			}
			return out
		}
	}
	return nil
}
