package mysql

import (
	"errors"
	"reflect"
	"testing"

	"github.com/dap-platform/dap/internal/engine"
)

func TestCallProcedure(t *testing.T) {
	f := env(t)
	if _, err := f.admin.Exec("UPDATE customers SET name = NULL WHERE id = 3"); err != nil {
		t.Fatal(err)
	}
	routines, err := f.eng.Routines(ctxT(t), f.dbName)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]engine.Routine{}
	for _, r := range routines {
		byName[r.Name] = r
	}
	tests := []struct {
		name     string
		routine  string
		args     []any
		readOnly bool
		cols     []string
		rows     [][]any
		affected int64
		err      error
	}{
		{"procedure result set, later sets drained", "orders_for", []any{1, "10.00"}, true,
			[]string{"id", "amount"}, [][]any{{int64(1), "10.50"}, {int64(2), "250.00"}}, 0, nil},
		{"function", "order_total", []any{2}, true,
			[]string{"order_total"}, [][]any{{"1100.00"}}, 0, nil},
		{"inout and out parameters", "add_tax", []any{"100.00", "20.00"}, true,
			[]string{"amount", "tax"}, [][]any{{"120.00", "20.00"}}, 0, nil},
		{"writing procedure refused read-only", "rename_customer", []any{3, "Cy"}, true,
			nil, nil, 0, engine.ErrReadOnly},
		{"writing procedure in write mode", "rename_customer", []any{3, "Cy"}, false,
			[]string{}, [][]any{}, 1, nil},
		{"wrong argument count", "orders_for", []any{1}, true, nil, nil, 0, engine.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, ok := byName[tt.routine]
			if !ok {
				t.Fatalf("routine %s not in catalog", tt.routine)
			}
			res, err := f.eng.CallProcedure(ctxT(t), r, tt.args, tt.readOnly, engine.Limits{})
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("err = %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var cols []string
			for _, c := range res.Columns {
				cols = append(cols, c.Name)
			}
			if len(cols) != len(tt.cols) || len(cols) > 0 && !reflect.DeepEqual(cols, tt.cols) {
				t.Errorf("columns = %v, want %v", cols, tt.cols)
			}
			if !reflect.DeepEqual(res.Rows, tt.rows) {
				t.Errorf("rows = %#v, want %#v", res.Rows, tt.rows)
			}
			if res.RowsAffected != tt.affected {
				t.Errorf("rows affected = %d, want %d", res.RowsAffected, tt.affected)
			}
		})
	}
	var name string
	if err := f.admin.QueryRow("SELECT name FROM customers WHERE id = 3").Scan(&name); err != nil || name != "Cy" {
		t.Errorf("customer 3 name = %q (%v), want Cy", name, err)
	}
	// The connection used by the calls must be clean: run a query after.
	if _, err := f.eng.Query(ctxT(t), engine.Query{SQL: "SELECT 1", ReadOnly: true}, engine.Limits{}); err != nil {
		t.Fatal(err)
	}
}
