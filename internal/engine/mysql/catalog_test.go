package mysql

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/dap-platform/dap/internal/engine"
)

func TestSchemas(t *testing.T) {
	f := env(t)
	schemas, err := f.eng.Schemas(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range schemas {
		names = append(names, s.Name)
	}
	if !slices.Contains(names, f.dbName) {
		t.Errorf("schemas %v lack the fixture database %s", names, f.dbName)
	}
	for _, sys := range []string{"mysql", "information_schema", "performance_schema", "sys"} {
		if slices.Contains(names, sys) {
			t.Errorf("system schema %s listed", sys)
		}
	}
}

func TestTables(t *testing.T) {
	f := env(t)
	for _, schema := range []string{f.dbName, ""} {
		tables, err := f.eng.Tables(ctxT(t), schema)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]engine.Table{}
		for _, tb := range tables {
			if tb.Schema == f.dbName {
				got[tb.Name] = tb
			}
		}
		tests := []struct {
			name, kind, comment string
			minRows             int64 // -1: must be unknown
		}{
			{"customers", "table", "people who buy", 0}, // InnoDB estimates of tiny tables may be 0
			{"orders", "table", "orders placed", 0},
			{"big", "table", "", 10000},
			{"big_orders", "view", "", -1},
		}
		for _, tt := range tests {
			tb, ok := got[tt.name]
			if !ok {
				t.Errorf("schema %q: %s missing", schema, tt.name)
				continue
			}
			if tb.Kind != tt.kind || tb.Comment != tt.comment {
				t.Errorf("schema %q: %s = %+v, want kind %s comment %q", schema, tt.name, tb, tt.kind, tt.comment)
			}
			if tt.minRows == -1 && tb.RowEstimate != -1 || tt.minRows >= 0 && tb.RowEstimate < tt.minRows {
				t.Errorf("schema %q: %s row estimate %d, want %d or more (-1 = unknown)", schema, tt.name, tb.RowEstimate, tt.minRows)
			}
		}
	}
}

func TestDescribe(t *testing.T) {
	f := env(t)
	ctx := ctxT(t)

	d, err := f.eng.Describe(ctx, "", "orders")
	if err != nil {
		t.Fatal(err)
	}
	if d.Schema != f.dbName || d.Kind != "table" || d.Comment != "orders placed" {
		t.Errorf("orders header = %+v", d.Table)
	}
	wantCols := []struct {
		name, typ string
		nullable  bool
		def       string // "" = no default
		pos       int
	}{
		{"id", "bigint(20)", false, "auto_increment", 1},
		{"customer_id", "int(11)", false, "", 2},
		{"amount", "decimal(12,2)", false, "", 3},
		{"note", "text", true, "", 4},
	}
	if len(d.Columns) != len(wantCols) {
		t.Fatalf("orders columns = %+v", d.Columns)
	}
	for i, w := range wantCols {
		c := d.Columns[i]
		def := ""
		if c.Default != nil {
			def = *c.Default
		}
		// MySQL 8 drops integer display widths.
		typ := strings.TrimSuffix(strings.TrimSuffix(w.typ, "(20)"), "(11)")
		if c.Name != w.name || (c.Type != w.typ && c.Type != typ) || c.Nullable != w.nullable || def != w.def || c.Position != w.pos {
			t.Errorf("column %d = %+v (default %q), want %+v", i, c, def, w)
		}
	}
	if !slices.Equal(d.PrimaryKey, []string{"id"}) {
		t.Errorf("primary key = %v", d.PrimaryKey)
	}
	idx := map[string]engine.Index{}
	for _, ix := range d.Indexes {
		idx[ix.Name] = ix
	}
	if ix := idx["orders_customer_amount"]; !slices.Equal(ix.Columns, []string{"customer_id", "amount"}) || ix.Unique || ix.Primary || ix.Method != "btree" ||
		!strings.Contains(ix.Definition, "(`customer_id`, `amount`)") {
		t.Errorf("index orders_customer_amount = %+v", ix)
	}
	if ix := idx["PRIMARY"]; !ix.Primary || !ix.Unique {
		t.Errorf("primary index = %+v", ix)
	}
	if len(d.ForeignKeys) != 1 {
		t.Fatalf("orders foreign keys = %+v", d.ForeignKeys)
	}
	fk := d.ForeignKeys[0]
	if fk.Name != "orders_customer_fk" || fk.RefTable != "customers" || !slices.Equal(fk.Columns, []string{"customer_id"}) ||
		!slices.Equal(fk.RefColumns, []string{"id"}) || fk.OnDelete != "CASCADE" || fk.RefSchema != f.dbName {
		t.Errorf("orders fk = %+v", fk)
	}

	c, err := f.eng.Describe(ctx, f.dbName, "customers")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.ReferencedBy) != 1 || c.ReferencedBy[0].Table != "orders" || len(c.ForeignKeys) != 0 {
		t.Errorf("customers referenced by = %+v, foreign keys = %+v", c.ReferencedBy, c.ForeignKeys)
	}
	if c.Columns[0].Comment != "customer id" || c.Columns[2].Default != nil || !c.Columns[2].Nullable {
		t.Errorf("customers columns = %+v", c.Columns)
	}
	if c.Columns[3].Default == nil || !strings.Contains(*c.Columns[3].Default, "active") {
		t.Errorf("status default = %v", c.Columns[3].Default)
	}
	var uniq *engine.Index
	for i := range c.Indexes {
		if c.Indexes[i].Name == "customers_email" {
			uniq = &c.Indexes[i]
		}
	}
	if uniq == nil || !uniq.Unique || !strings.HasPrefix(uniq.Definition, "CREATE UNIQUE INDEX") {
		t.Errorf("unique index = %+v", uniq)
	}

	p, err := f.eng.Describe(ctx, "", "parts")
	if err != nil {
		t.Fatal(err)
	}
	if len(p.ForeignKeys) != 1 || len(p.ReferencedBy) != 1 {
		t.Errorf("self-referencing fk should be out and in: %+v / %+v", p.ForeignKeys, p.ReferencedBy)
	}

	v, err := f.eng.Describe(ctx, "", "big_orders")
	if err != nil {
		t.Fatal(err)
	}
	if v.Kind != "view" || !strings.Contains(v.Definition, "100") || len(v.Columns) != 3 {
		t.Errorf("view = %+v", v)
	}

	_, err = f.eng.Describe(ctx, "", "no_such_table")
	if !errors.Is(err, engine.ErrNotFound) || !strings.Contains(err.Error(), "no_such_table") {
		t.Errorf("missing table error = %v, want ErrNotFound naming the table", err)
	}
}

func TestRoutines(t *testing.T) {
	f := env(t)
	for _, schema := range []string{f.dbName, ""} {
		rs, err := f.eng.Routines(ctxT(t), schema)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]engine.Routine{}
		for _, r := range rs {
			if r.Schema == f.dbName {
				got[r.Name] = r
			}
		}
		tests := []struct {
			name, kind, returns, comment string
			params                       []engine.Param
		}{
			{"orders_for", "procedure", "", "orders of one customer", []engine.Param{
				{Name: "cust", Type: "int", Mode: "in", Position: 1},
				{Name: "min_amount", Type: "decimal", Mode: "in", Position: 2},
			}},
			{"add_tax", "procedure", "", "", []engine.Param{
				{Name: "amount", Type: "decimal", Mode: "inout", Position: 1},
				{Name: "rate", Type: "decimal", Mode: "in", Position: 2},
				{Name: "tax", Type: "decimal", Mode: "out", Position: 3},
			}},
			{"order_total", "function", "decimal(12,2)", "sum of a customer's orders", []engine.Param{
				{Name: "cust", Type: "int", Mode: "in", Position: 1},
			}},
		}
		for _, tt := range tests {
			r, ok := got[tt.name]
			if !ok {
				t.Errorf("schema %q: routine %s missing", schema, tt.name)
				continue
			}
			if r.Kind != tt.kind || r.Returns != tt.returns || r.Comment != tt.comment || !slices.Equal(r.Params, tt.params) {
				t.Errorf("schema %q: %s = %+v, want %+v", schema, tt.name, r, tt)
			}
		}
	}
}
