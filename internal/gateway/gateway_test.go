package gateway

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dap-platform/dap/internal/engine"
	"github.com/dap-platform/dap/internal/guard"
)

func TestSplitQualified(t *testing.T) {
	for _, tc := range []struct {
		in, schema, name string
		err              bool
	}{
		{in: "orders", name: "orders"},
		{in: "sales.orders", schema: "sales", name: "orders"},
		{in: `"my.schema"."odd table"`, schema: "my.schema", name: "odd table"},
		{in: "`db`.`t`", schema: "db", name: "t"},
		{in: "[dbo].[Order Details]", schema: "dbo", name: "Order Details"},
		{in: " spaced ", name: "spaced"},
		{in: "", err: true},
		{in: "a.b.c", err: true},
		{in: `"unterminated`, err: true},
		{in: ".t", err: true},
		{in: "s.", err: true},
	} {
		s, n, err := SplitQualified(tc.in)
		if tc.err {
			if err == nil || !errors.Is(err, engine.ErrInvalid) {
				t.Errorf("SplitQualified(%q) err = %v, want ErrInvalid", tc.in, err)
			}
			continue
		}
		if err != nil || s != tc.schema || n != tc.name {
			t.Errorf("SplitQualified(%q) = %q, %q, %v; want %q, %q", tc.in, s, n, err, tc.schema, tc.name)
		}
	}
}

func TestCompilePattern(t *testing.T) {
	for _, tc := range []struct {
		pattern string
		match   []string
		nomatch []string
	}{
		{"", []string{"anything"}, nil},
		{"order", []string{"orders", "order_items", "ORDERS"}, []string{"customers"}},
		{"order*", []string{"orders", "order_items"}, []string{"reorder"}},
		{"%_log", []string{"audit_log"}, []string{"logs"}},
		{"t?", []string{"t1", "tx"}, []string{"t", "t12"}},
		{"a.b*", []string{"a.bc"}, []string{"axbc"}},
	} {
		m, err := compilePattern(tc.pattern)
		if err != nil {
			t.Fatalf("compilePattern(%q): %v", tc.pattern, err)
		}
		for _, s := range tc.match {
			if !m(s) {
				t.Errorf("pattern %q should match %q", tc.pattern, s)
			}
		}
		for _, s := range tc.nomatch {
			if m(s) {
				t.Errorf("pattern %q should not match %q", tc.pattern, s)
			}
		}
	}
	if _, err := compilePattern(strings.Repeat("x", 201)); !errors.Is(err, engine.ErrInvalid) {
		t.Errorf("long pattern: err = %v, want ErrInvalid", err)
	}
}

func TestAllowListed(t *testing.T) {
	list := []string{"reporting.monthly_sales", "ping"}
	for _, tc := range []struct {
		schema, name string
		want         bool
	}{
		{"reporting", "monthly_sales", true},
		{"REPORTING", "Monthly_Sales", true},
		{"", "monthly_sales", true}, // resolved against the catalog later, then checked again
		{"public", "monthly_sales", false},
		{"public", "ping", true},
		{"any", "ping", true},
		{"reporting", "drop_all", false},
	} {
		if got := allowListed(list, tc.schema, tc.name); got != tc.want {
			t.Errorf("allowListed(%q, %q) = %v, want %v", tc.schema, tc.name, got, tc.want)
		}
	}
	if allowListed(nil, "", "x") {
		t.Error("an empty allow-list allows nothing")
	}
}

func TestBindArgs(t *testing.T) {
	r := engine.Routine{Schema: "reporting", Name: "monthly_sales", Kind: "function", Params: []engine.Param{
		{Name: "year", Type: "integer", Mode: "in", Position: 1},
		{Name: "region", Type: "text", Mode: "in", Position: 2},
		{Name: "min_total", Type: "numeric", Mode: "in", Position: 3, HasDefault: true},
		{Name: "total", Type: "numeric", Mode: "out", Position: 4},
	}}
	ts := time.Date(2024, 1, 31, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name    string
		r       engine.Routine
		args    map[string]any
		want    []any
		errPart string
	}{
		{name: "all named", r: r, args: map[string]any{"year": 2024.0, "region": "EU", "min_total": "10.50"}, want: []any{int64(2024), "EU", "10.50"}},
		{name: "default omitted", r: r, args: map[string]any{"year": "2024", "region": "EU"}, want: []any{int64(2024), "EU"}},
		{name: "missing required", r: r, args: map[string]any{"year": 2024.0}, errPart: `missing argument "region"`},
		{name: "unknown name", r: r, args: map[string]any{"year": 2024.0, "region": "EU", "drop": 1.0}, errPart: `no parameter "drop"`},
		{name: "out param not bindable", r: r, args: map[string]any{"year": 2024.0, "region": "EU", "total": 1.0}, errPart: `no parameter "total"`},
		{name: "fractional integer", r: r, args: map[string]any{"year": 2024.5, "region": "EU"}, errPart: "want an integer"},
		{name: "number for text", r: r, args: map[string]any{"year": 2024.0, "region": 7.0}, errPart: "want a string"},
		{name: "bad decimal", r: r, args: map[string]any{"year": 2024.0, "region": "EU", "min_total": "1; DROP TABLE x"}, errPart: "want a decimal"},
		{name: "positional unnamed", r: engine.Routine{Name: "f", Params: []engine.Param{{Type: "date", Mode: "in", Position: 1}, {Type: "timestamp with time zone", Mode: "in", Position: 2}}},
			args: map[string]any{"$1": "2024-01-31", "$2": "2024-01-31T12:00:00Z"}, want: []any{"2024-01-31", ts}},
		{name: "bad date", r: engine.Routine{Name: "f", Params: []engine.Param{{Name: "d", Type: "date", Mode: "in"}}}, args: map[string]any{"d": "31/01/2024"}, errPart: "YYYY-MM-DD"},
		{name: "bool and json", r: engine.Routine{Name: "f", Params: []engine.Param{{Name: "b", Type: "boolean"}, {Name: "j", Type: "jsonb"}}},
			args: map[string]any{"b": true, "j": map[string]any{"k": 1.0}}, want: []any{true, `{"k":1}`}},
		{name: "uuid", r: engine.Routine{Name: "f", Params: []engine.Param{{Name: "u", Type: "uuid"}}}, args: map[string]any{"u": "not-a-uuid"}, errPart: "UUID"},
		{name: "gap before given", r: engine.Routine{Name: "f", Params: []engine.Param{{Name: "a", Type: "integer", HasDefault: true}, {Name: "b", Type: "integer"}}},
			args: map[string]any{"b": 1.0}, errPart: "only trailing parameters"},
		{name: "null passes", r: engine.Routine{Name: "f", Params: []engine.Param{{Name: "a", Type: "integer"}}}, args: map[string]any{"a": nil}, want: []any{nil}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := bindArgs(tc.r, tc.args)
			if tc.errPart != "" {
				if err == nil || !strings.Contains(err.Error(), tc.errPart) || !errors.Is(err, engine.ErrInvalid) {
					t.Fatalf("err = %v, want ErrInvalid containing %q", err, tc.errPart)
				}
				if strings.Contains(err.Error(), "DROP TABLE") {
					t.Fatalf("error echoes the argument value: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %#v, want %#v", got, tc.want)
			}
			for i := range got {
				if gt, ok := got[i].(time.Time); ok {
					if !gt.Equal(tc.want[i].(time.Time)) {
						t.Errorf("arg %d = %v, want %v", i, gt, tc.want[i])
					}
					continue
				}
				if got[i] != tc.want[i] {
					t.Errorf("arg %d = %#v, want %#v", i, got[i], tc.want[i])
				}
			}
		})
	}
}

func TestSignature(t *testing.T) {
	r := engine.Routine{Schema: "s", Name: "f", Params: []engine.Param{
		{Name: "a", Type: "integer", Mode: "in"}, {Type: "text", Mode: "in", Position: 2, HasDefault: true}, {Name: "o", Type: "int", Mode: "out"},
	}}
	if got, want := Signature(r), "s.f(a integer, $2 text = default)"; got != want {
		t.Errorf("Signature = %q, want %q", got, want)
	}
}

func TestLogSafeDropsQuotedData(t *testing.T) {
	const sentinel = "CellSentinel55"
	for _, tc := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("SELECT on t: %w", &engine.DBError{Code: "22P02", Message: `invalid input syntax for type integer: "` + sentinel + `"`}), "database error 22P02"},
		{&guard.Refusal{Kind: guard.Unknown, Reason: `cannot parse: syntax error at or near "'` + sentinel + `'"`}, "refused: kind unknown"},
		{&guard.Refusal{Kind: guard.Write, Statement: "SELECT", Construct: "function pg_read_file"}, "refused: kind write, statement SELECT, construct function pg_read_file"},
		{fmt.Errorf("%w: argument \"x\": want an integer", engine.ErrInvalid), "invalid request"},
		{fmt.Errorf("target t: %w", engine.ErrTimeout), "target t: statement timed out"},
	} {
		got := logSafe(tc.err)
		if got != tc.want || strings.Contains(got, sentinel) {
			t.Errorf("logSafe(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}
