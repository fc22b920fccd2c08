package mysql

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/dap-platform/dap/internal/engine"
)

// CallProcedure runs a catalog routine with bound arguments: a procedure
// as CALL `db`.`name`(?, ...), a function as SELECT `db`.`name`(?, ...).
// The text is built only from catalog identifiers (quoted) and
// placeholders. args are the IN and INOUT values in parameter order. OUT
// and INOUT parameters go through user variables (@dap_pN); when the
// procedure returns no result set of its own, their values are the result.
// The first result set is returned and the rest drained; the connection is
// discarded afterwards, since a routine may change session state.
func (e *Engine) CallProcedure(ctx context.Context, r engine.Routine, args []any, readOnly bool, lim engine.Limits) (*engine.Result, error) {
	lim = lim.WithDefaults()
	start := time.Now()
	var res *engine.Result
	o := txOpts{readOnly: readOnly, timeout: lim.Timeout, discard: true, args: args}
	err := e.run(ctx, o, func(s *session) error {
		schema, err := s.schemaOrDefault(r.Schema)
		if err != nil {
			return err
		}
		name := quoteIdent(schema) + "." + quoteIdent(r.Name)
		switch strings.ToLower(r.Kind) {
		case "function":
			if len(args) != len(r.Params) {
				return e.argCountError(r, len(r.Params), len(args))
			}
			res, err = s.stream("SELECT "+name+"("+placeholders(len(args))+") AS "+quoteIdent(r.Name), args, lim)
		case "procedure":
			res, err = s.callProcedure(r, name, args, lim)
		default:
			return fmt.Errorf("target %s: routine %s has kind %q, want procedure or function: %w", e.name, r.QualifiedName(), r.Kind, engine.ErrInvalid)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	res.Elapsed = time.Since(start)
	return res, nil
}

func (s *session) callProcedure(r engine.Routine, name string, args []any, lim engine.Limits) (*engine.Result, error) {
	in := 0
	for _, p := range r.Params {
		if m := strings.ToLower(p.Mode); m != "out" {
			in++
		}
	}
	if in != len(args) {
		return nil, s.e.argCountError(r, in, len(args))
	}
	callArgs := make([]string, len(r.Params))
	var bind []any
	var outVars, outNames []string
	ai := 0
	for i, p := range r.Params {
		v := fmt.Sprintf("@dap_p%d", i+1)
		switch strings.ToLower(p.Mode) {
		case "out":
			callArgs[i] = v
		case "inout":
			if _, err := s.conn.ExecContext(s.ctx, "SET "+v+" = ?", args[ai]); err != nil {
				return nil, err
			}
			ai++
			callArgs[i] = v
		default:
			callArgs[i] = "?"
			bind = append(bind, args[ai])
			ai++
			continue
		}
		outVars = append(outVars, v)
		outNames = append(outNames, p.Name)
	}
	res, err := s.stream("CALL "+name+"("+strings.Join(callArgs, ", ")+")", bind, lim)
	if err != nil {
		return nil, err
	}
	if !s.readOnly {
		if res.RowsAffected, err = s.rowCount(); err != nil {
			return nil, err
		}
	}
	if len(res.Columns) > 0 || len(outVars) == 0 {
		return res, nil
	}
	sel := make([]string, len(outVars))
	for i, v := range outVars {
		sel[i] = v + " AS " + quoteIdent(outNames[i])
	}
	out, err := s.stream("SELECT "+strings.Join(sel, ", "), nil, lim)
	if err != nil {
		return nil, err
	}
	out.RowsAffected = res.RowsAffected
	return out, nil
}

func (e *Engine) argCountError(r engine.Routine, want, got int) error {
	return fmt.Errorf("target %s: routine %s takes %d input arguments, got %d: %w", e.name, r.QualifiedName(), want, got, engine.ErrInvalid)
}

func placeholders(n int) string {
	if n == 0 {
		return ""
	}
	return strings.Repeat("?, ", n-1) + "?"
}
