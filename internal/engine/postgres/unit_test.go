package postgres

import (
	"errors"
	"math/big"
	"testing"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/dap-platform/dap/internal/engine"
)

func TestNumericString(t *testing.T) {
	cases := []struct {
		n    pgtype.Numeric
		want any
	}{
		{pgtype.Numeric{Int: big.NewInt(12345), Exp: -2, Valid: true}, "123.45"},
		{pgtype.Numeric{Int: big.NewInt(-5), Exp: -3, Valid: true}, "-0.005"},
		{pgtype.Numeric{Int: big.NewInt(12), Exp: 3, Valid: true}, "12000"},
		{pgtype.Numeric{Int: big.NewInt(0), Exp: -2, Valid: true}, "0.00"},
		{pgtype.Numeric{NaN: true, Valid: true}, "NaN"},
		{pgtype.Numeric{InfinityModifier: pgtype.NegativeInfinity, Valid: true}, "-Infinity"},
		{pgtype.Numeric{}, nil},
	}
	for _, c := range cases {
		if got := numericString(c.n); got != c.want {
			t.Errorf("numericString(%+v) = %v, want %v", c.n, got, c.want)
		}
	}
}

func TestCallText(t *testing.T) {
	in := func(name, typ string) engine.Param { return engine.Param{Name: name, Type: typ, Mode: "in"} }
	cases := []struct {
		name  string
		r     engine.Routine
		nargs int
		want  string
		err   bool
	}{
		{"function", engine.Routine{Schema: "public", Name: "f", Kind: "function", Params: []engine.Param{in("a", "integer"), in("b", "character varying(20)")}}, 2,
			`SELECT * FROM "public"."f"($1::integer, $2::character varying(20))`, false},
		{"procedure with out", engine.Routine{Schema: "s", Name: "p", Kind: "procedure", Params: []engine.Param{in("a", "text"), {Name: "o", Type: "integer", Mode: "out"}}}, 1,
			`CALL "s"."p"($1::text, NULL::integer)`, false},
		{"function out skipped", engine.Routine{Name: "f", Kind: "function", Params: []engine.Param{{Name: "o", Type: "integer", Mode: "out"}}}, 0,
			`SELECT * FROM "f"()`, false},
		{"variadic", engine.Routine{Schema: "public", Name: "v", Kind: "function", Params: []engine.Param{{Name: "xs", Type: "integer[]", Mode: "variadic"}}}, 1,
			`SELECT * FROM "public"."v"(VARIADIC $1::integer[])`, false},
		{"quoted identifiers", engine.Routine{Schema: `we"ird`, Name: "Mixed Case", Kind: "function"}, 0,
			`SELECT * FROM "we""ird"."Mixed Case"()`, false},
		{"injected type", engine.Routine{Name: "f", Kind: "function", Params: []engine.Param{in("a", "int); DROP TABLE x; --")}}, 1, "", true},
		{"arg count", engine.Routine{Name: "f", Kind: "function", Params: []engine.Param{in("a", "int")}}, 2, "", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := callText(c.r, c.nargs)
			if c.err {
				if !errors.Is(err, engine.ErrInvalid) {
					t.Fatalf("err = %v, want ErrInvalid", err)
				}
				return
			}
			if err != nil || got != c.want {
				t.Fatalf("callText = %q, %v; want %q", got, err, c.want)
			}
		})
	}
}

func TestRoutineParams(t *testing.T) {
	// f(a int, INOUT b text, OUT c int, VARIADIC d int[]) with 1 default,
	// plus a RETURNS TABLE column that is not a parameter.
	got := routineParams([]string{"a", "b", "c", "d", "col"}, []string{"i", "b", "o", "v", "t"},
		[]string{"integer", "text", "integer", "integer[]", "bigint"}, 1)
	want := []engine.Param{
		{Name: "a", Type: "integer", Mode: "in", Position: 1},
		{Name: "b", Type: "text", Mode: "inout", Position: 2},
		{Name: "c", Type: "integer", Mode: "out", Position: 3},
		{Name: "d", Type: "integer[]", Mode: "variadic", Position: 4, HasDefault: true},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("param %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestSummarize(t *testing.T) {
	raw := []any{map[string]any{
		"Execution Time": 12.5,
		"Plan": map[string]any{
			"Node Type": "Hash Join", "Total Cost": 100.0, "Plan Rows": 50.0,
			"Plans": []any{
				map[string]any{"Node Type": "Seq Scan", "Relation Name": "a", "Plan Rows": 10.0},
				map[string]any{"Node Type": "Hash", "Plans": []any{
					map[string]any{"Node Type": "Seq Scan", "Relation Name": "b", "Schema": "s", "Plan Rows": 20000.0},
				}},
			},
		},
	}}
	s := summarize(raw, true)
	if s.TotalCost != 100 || s.EstimatedRows != 50 || s.ActualMs != 12.5 || len(s.Scans) != 2 ||
		s.Scans[0].Table != "a" || s.Scans[1].Table != "s.b" || s.Scans[1].EstimatedRows != 20000 {
		t.Errorf("summary = %+v", s)
	}
	if s := summarize(raw, false); s.ActualMs != 0 {
		t.Errorf("ActualMs without analyze = %v", s.ActualMs)
	}
	if s := summarize(nil, false); s.TotalCost != 0 || s.Scans != nil {
		t.Errorf("empty plan summary = %+v", s)
	}
}
