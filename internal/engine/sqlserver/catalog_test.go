package sqlserver

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/sqlc-dev/teesql/parser"

	"github.com/dap-platform/dap/internal/engine"
)

// mustParseTSQL fails the test unless sql parses as T-SQL.
func mustParseTSQL(t *testing.T, sql string) {
	t.Helper()
	script, err := parser.Parse(context.Background(), strings.NewReader(sql))
	if err != nil {
		t.Fatalf("not valid T-SQL: %v\n%s", err, sql)
	}
	if script == nil || len(script.Batches) == 0 {
		t.Fatalf("parsed to an empty script:\n%s", sql)
	}
}

func TestParserRejectsBadSQL(t *testing.T) {
	// The parse check below means something only if bad SQL fails.
	for _, bad := range []string{"SELECT FROM WHERE (", "SELECT a FROM t WHERE (x = 1", "SELECT 1 +", "CREATE TABLE (id int)"} {
		if _, err := parser.Parse(context.Background(), strings.NewReader(bad)); err == nil {
			t.Errorf("teesql accepted %q", bad)
		}
	}
}

func TestCatalogSQL(t *testing.T) {
	tests := []struct {
		name        string
		sql         string
		params      []string // placeholders the Go code binds, in order
		mustMention []string
	}{
		{"schemas", schemasSQL, nil, []string{"sys.schemas", "MS_Description", "N'db_datareader'", "N'INFORMATION_SCHEMA'"}},
		{"tables", tablesSQL, []string{"@p1"}, []string{"sys.tables", "sys.views", "sys.partitions", "index_id IN (0, 1)", "MS_Description"}},
		{"describe object", describeObjectSQL, []string{"@p1", "@p2"}, []string{"sys.sql_modules", "SCHEMA_NAME()", "sys.partitions"}},
		{"columns", columnsSQL, []string{"@p1"}, []string{"sys.columns", "sys.types", "sys.default_constraints", "MS_Description"}},
		{"indexes", indexesSQL, []string{"@p1"}, []string{"sys.indexes", "sys.index_columns"}},
		{"foreign keys", foreignKeysSQL, []string{"@p1"}, []string{"sys.foreign_keys", "sys.foreign_key_columns", "referenced_object_id = @p1"}},
		{"routines", routinesSQL, []string{"@p1"}, []string{"'P', 'FN', 'IF', 'TF'", "MS_Description"}},
		{"parameters", parametersSQL, []string{"@p1"}, []string{"sys.parameters", "is_output", "has_default_value"}},
		{"version", versionSQL, nil, []string{"ProductVersion", "Edition"}},
		{"updateability", updateabilitySQL, nil, []string{"Updateability"}},
		{"write permissions", writePermsSQL, nil, []string{"fn_my_permissions"}},
		{"self-test write", selfTestWriteSQL, nil, []string{"CREATE TABLE"}},
		{"session setup", sessionSetup(engine.Limits{}.WithDefaults()), nil, []string{"READ COMMITTED", "SET LOCK_TIMEOUT 30000", "SET XACT_ABORT ON"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if strings.TrimSpace(tt.sql) == "" {
				t.Fatal("empty SQL")
			}
			for i, p := range tt.params {
				if !strings.Contains(tt.sql, p) {
					t.Errorf("placeholder %s (argument %d) not used", p, i+1)
				}
			}
			// No placeholder beyond the bound ones, and no ? or $1 styles.
			if strings.Contains(tt.sql, "@p"+string(rune('1'+len(tt.params)))) {
				t.Errorf("uses @p%d but only %d arguments are bound", len(tt.params)+1, len(tt.params))
			}
			if strings.Contains(tt.sql, "?") || strings.Contains(tt.sql, "$1") {
				t.Error("uses a placeholder style go-mssqldb does not bind")
			}
			for _, m := range tt.mustMention {
				if !strings.Contains(tt.sql, m) {
					t.Errorf("does not mention %q", m)
				}
			}
			mustParseTSQL(t, tt.sql)
		})
	}
}

func TestBuildIndexes(t *testing.T) {
	rows := []indexRow{
		{id: 1, name: "PK_orders", unique: true, primary: true, typeDesc: "CLUSTERED", column: "id"},
		{id: 2, name: "ix_orders_customer", typeDesc: "NONCLUSTERED", column: "customer_id"},
		{id: 2, name: "ix_orders_customer", typeDesc: "NONCLUSTERED", column: "created_at", desc: true},
		{id: 2, name: "ix_orders_customer", typeDesc: "NONCLUSTERED", column: "total", included: true},
		{id: 3, name: "ux_orders_code", unique: true, typeDesc: "NONCLUSTERED", column: "code", filter: "([code] IS NOT NULL)"},
		{id: 4, name: "ccs", typeDesc: "NONCLUSTERED COLUMNSTORE", column: "total", included: true},
	}
	idx, pk := buildIndexes(rows, "dbo", "orders")
	cci, _ := buildIndexes([]indexRow{
		{id: 1, name: "cci", typeDesc: "CLUSTERED COLUMNSTORE", column: "id", included: true},
		{id: 1, name: "cci", typeDesc: "CLUSTERED COLUMNSTORE", column: "total", included: true},
	}, "dbo", "facts")
	idx = append(idx, cci...)
	want := []engine.Index{
		{Name: "PK_orders", Columns: []string{"id"}, Unique: true, Primary: true, Method: "clustered",
			Definition: "CREATE UNIQUE CLUSTERED INDEX [PK_orders] ON [dbo].[orders] ([id] ASC)"},
		{Name: "ix_orders_customer", Columns: []string{"customer_id", "created_at"}, Method: "nonclustered",
			Definition: "CREATE NONCLUSTERED INDEX [ix_orders_customer] ON [dbo].[orders] ([customer_id] ASC, [created_at] DESC) INCLUDE ([total])"},
		{Name: "ux_orders_code", Columns: []string{"code"}, Unique: true, Method: "nonclustered",
			Definition: "CREATE UNIQUE NONCLUSTERED INDEX [ux_orders_code] ON [dbo].[orders] ([code] ASC) WHERE ([code] IS NOT NULL)"},
		{Name: "ccs", Columns: []string{"total"}, Method: "nonclustered columnstore",
			Definition: "CREATE NONCLUSTERED COLUMNSTORE INDEX [ccs] ON [dbo].[orders] ([total])"},
		{Name: "cci", Columns: []string{"id", "total"}, Method: "clustered columnstore",
			Definition: "CREATE CLUSTERED COLUMNSTORE INDEX [cci] ON [dbo].[facts]"},
	}
	if !reflect.DeepEqual(idx, want) {
		t.Errorf("indexes\n got %+v\nwant %+v", idx, want)
	}
	if !reflect.DeepEqual(pk, []string{"id"}) {
		t.Errorf("primary key = %v", pk)
	}
	for _, ix := range idx {
		mustParseTSQL(t, ix.Definition)
	}
}

func TestBuildForeignKeys(t *testing.T) {
	const orders, customers = 10, 20
	rows := []fkRow{
		{name: "fk_orders_customer", parentID: orders, refID: customers, schema: "dbo", table: "orders", column: "customer_id",
			refSchema: "dbo", refTable: "customers", refCol: "id", onDelete: "CASCADE", onUpdate: "NO_ACTION"},
		{name: "fk_orders_parent", parentID: orders, refID: orders, schema: "dbo", table: "orders", column: "parent_id",
			refSchema: "dbo", refTable: "orders", refCol: "id", onDelete: "NO_ACTION", onUpdate: "NO_ACTION"},
		{name: "fk_shipments_order", parentID: 30, refID: orders, schema: "ship", table: "shipments", column: "order_id",
			refSchema: "dbo", refTable: "orders", refCol: "id", onDelete: "SET_NULL", onUpdate: "NO_ACTION"},
		{name: "fk_shipments_order", parentID: 30, refID: orders, schema: "ship", table: "shipments", column: "order_line",
			refSchema: "dbo", refTable: "orders", refCol: "line", onDelete: "SET_NULL", onUpdate: "NO_ACTION"},
	}
	out, in := buildForeignKeys(rows, orders)
	if len(out) != 2 || out[0].Name != "fk_orders_customer" || out[1].Name != "fk_orders_parent" {
		t.Fatalf("out = %+v", out)
	}
	if out[0].OnDelete != "CASCADE" || out[0].OnUpdate != "NO ACTION" || out[0].RefTable != "customers" {
		t.Errorf("out[0] = %+v", out[0])
	}
	if len(in) != 2 || in[0].Name != "fk_orders_parent" || in[1].Name != "fk_shipments_order" {
		t.Fatalf("in = %+v", in)
	}
	if !reflect.DeepEqual(in[1].Columns, []string{"order_id", "order_line"}) || !reflect.DeepEqual(in[1].RefColumns, []string{"id", "line"}) ||
		in[1].OnDelete != "SET NULL" || in[1].Schema != "ship" {
		t.Errorf("in[1] = %+v", in[1])
	}
}

func TestRoutineKind(t *testing.T) {
	tests := []struct{ typ, kind, returns string }{
		{"P ", "procedure", ""}, {"FN", "function", ""}, {"IF", "function", "table"}, {"TF", "function", "table"},
	}
	for _, tt := range tests {
		k, r := routineKind(tt.typ)
		if k != tt.kind || r != tt.returns {
			t.Errorf("routineKind(%q) = %q, %q; want %q, %q", tt.typ, k, r, tt.kind, tt.returns)
		}
	}
}
