package sqlserver

import (
	"errors"
	"strings"
	"testing"

	"github.com/dap-platform/dap/internal/engine"
)

func TestQuoteIdent(t *testing.T) {
	tests := []struct {
		in, want string
		wantErr  bool
	}{
		{"orders", "[orders]", false},
		{"order details", "[order details]", false},
		{"a]b", "[a]]b]", false},
		{"]]", "[]]]]]", false},
		{"x]; DROP TABLE t; --", "[x]]; DROP TABLE t; --]", false},
		{"[bracketed]", "[[bracketed]]]", false},
		{"Bestellung_Größe", "[Bestellung_Größe]", false},
		{"注文", "[注文]", false},
		{"emoji😀", "[emoji😀]", false},
		{`quo"te'`, `[quo"te']`, false},
		{"", "", true},
		{"nul\x00byte", "", true},
		{strings.Repeat("é", 128), "[" + strings.Repeat("é", 128) + "]", false},
		{strings.Repeat("a", 129), "", true},
	}
	for _, tt := range tests {
		got, err := quoteIdent(tt.in)
		if tt.wantErr {
			if !errors.Is(err, engine.ErrInvalid) {
				t.Errorf("quoteIdent(%q) error = %v, want ErrInvalid", tt.in, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("quoteIdent(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestBuildCall(t *testing.T) {
	proc := engine.Routine{Schema: "dbo", Name: "add_order", Kind: "procedure", Params: []engine.Param{
		{Name: "@customer_id", Type: "int", Mode: "in", Position: 1},
		{Name: "@total", Type: "decimal(10,2)", Mode: "in", Position: 2},
		{Name: "@new_id", Type: "int", Mode: "inout", Position: 3},
	}}
	scalar := engine.Routine{Schema: "sales", Name: "order_total", Kind: "function", Returns: "decimal(12,2)", Params: []engine.Param{
		{Name: "@order_id", Type: "int", Mode: "in", Position: 1},
		{Name: "@with_tax", Type: "bit", Mode: "in", Position: 2},
	}}
	tvf := engine.Routine{Schema: "sales", Name: "orders_of", Kind: "function", Returns: "table", Params: []engine.Param{
		{Name: "@customer_id", Type: "int", Mode: "in", Position: 1},
	}}
	tests := []struct {
		name    string
		r       engine.Routine
		nargs   int
		want    string
		wantErr bool
	}{
		{"procedure all args", proc, 3, "EXEC [dbo].[add_order] @customer_id = @p1, @total = @p2, @new_id = @p3", false},
		{"procedure trailing defaults left out", proc, 1, "EXEC [dbo].[add_order] @customer_id = @p1", false},
		{"procedure no args", engine.Routine{Schema: "dbo", Name: "refresh", Kind: "procedure"}, 0, "EXEC [dbo].[refresh]", false},
		{"procedure name with bracket", engine.Routine{Schema: "we]ird", Name: "p]", Kind: "procedure", Params: []engine.Param{{Name: "@a", Mode: "in"}}}, 1, "EXEC [we]]ird].[p]]] @a = @p1", false},
		{"procedure without schema", engine.Routine{Name: "p", Kind: "procedure", Params: []engine.Param{{Name: "a", Mode: "in"}}}, 1, "EXEC [p] @a = @p1", false},
		{"unicode names", engine.Routine{Schema: "ventes", Name: "créer", Kind: "procedure", Params: []engine.Param{{Name: "@montant_€", Mode: "in"}}}, 0, "EXEC [ventes].[créer]", false},
		{"scalar function", scalar, 2, "SELECT [sales].[order_total](@p1, @p2) AS [order_total]", false},
		{"scalar function default", scalar, 1, "SELECT [sales].[order_total](@p1, DEFAULT) AS [order_total]", false},
		{"table function", tvf, 1, "SELECT * FROM [sales].[orders_of](@p1)", false},
		{"too many args", tvf, 2, "", true},
		{"unsafe parameter name", engine.Routine{Schema: "dbo", Name: "p", Kind: "procedure", Params: []engine.Param{{Name: "@a = 1; DROP TABLE x; --", Mode: "in"}}}, 1, "", true},
		{"unknown kind", engine.Routine{Schema: "dbo", Name: "x", Kind: "aggregate"}, 0, "", true},
		{"empty name", engine.Routine{Schema: "dbo", Kind: "procedure"}, 0, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := buildCall(tt.r, tt.nargs)
			if tt.wantErr {
				if !errors.Is(err, engine.ErrInvalid) {
					t.Errorf("buildCall error = %v, want ErrInvalid", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("buildCall = %q, %v\n want %q", got, err, tt.want)
			}
			// Every call text must be valid T-SQL.
			mustParseTSQL(t, got)
		})
	}
}

func TestValidParamName(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"@id", true}, {"@_x1", true}, {"@größe", true}, {"@a$b", true},
		{"@", false}, {"id", false}, {"@1a", false}, {"@a b", false}, {"@a-b", false}, {"@a;", false},
	}
	for _, tt := range tests {
		if got := validParamName(tt.in); got != tt.want {
			t.Errorf("validParamName(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
