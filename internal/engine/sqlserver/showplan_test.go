package sqlserver

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/dap-platform/dap/internal/engine"
)

func TestParseShowplan(t *testing.T) {
	tests := []struct {
		file string
		want engine.PlanSummary
	}{
		{
			file: "showplan_estimated.xml",
			want: engine.PlanSummary{
				TotalCost:     4.71262,
				EstimatedRows: 833.333,
				Scans: []engine.PlanScan{
					{Table: "dbo.customers", EstimatedRows: 100000, Large: true},
					{Table: "dbo.orders", EstimatedRows: 2500, Large: false},
				},
				Notes: []string{
					"SQL Server suggests a missing index (estimated impact 81%)",
					"missing index on dbo.orders",
				},
			},
		},
		{
			file: "showplan_actual.xml",
			want: engine.PlanSummary{
				TotalCost:     0.0032831,
				EstimatedRows: 1,
				ActualMs:      7,
				Notes: []string{
					"warning: implicit conversion affects the plan: CONVERT_IMPLICIT(nvarchar(20),[shop].[dbo].[customers].[code],0)=[@p2]",
				},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			got, err := parseShowplan(string(b))
			if err != nil {
				t.Fatalf("parseShowplan: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("summary\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestParseShowplanRejects(t *testing.T) {
	tests := []struct{ name, doc string }{
		{"not xml", "SELECT 1"},
		{"truncated", `<ShowPlanXML><BatchSequence><Batch><Statements><StmtSimple StatementSubTreeCost="1"`},
		{"no statement", `<ShowPlanXML xmlns="http://schemas.microsoft.com/sqlserver/2004/07/showplan"><BatchSequence/></ShowPlanXML>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := parseShowplan(tt.doc); err == nil {
				t.Errorf("parseShowplan(%q) = nil error, want one", tt.doc)
			}
		})
	}
}

func TestScanRowsFallback(t *testing.T) {
	// Older servers report neither EstimatedRowsRead nor TableCardinality.
	doc := `<ShowPlanXML xmlns="http://schemas.microsoft.com/sqlserver/2004/07/showplan"><BatchSequence><Batch><Statements>
<StmtSimple StatementSubTreeCost="0.5" StatementEstRows="12000"><QueryPlan>
<RelOp NodeId="0" PhysicalOp="Table Scan" EstimateRows="12000"><TableScan><Object Database="[d]" Schema="[sales]" Table="[big]]table]" /></TableScan></RelOp>
</QueryPlan></StmtSimple></Statements></Batch></BatchSequence></ShowPlanXML>`
	got, err := parseShowplan(doc)
	if err != nil {
		t.Fatal(err)
	}
	want := []engine.PlanScan{{Table: "sales.big]table", EstimatedRows: 12000, Large: true}}
	if !reflect.DeepEqual(got.Scans, want) {
		t.Errorf("scans = %+v, want %+v", got.Scans, want)
	}
	if got.TotalCost != 0.5 {
		t.Errorf("total cost = %v, want 0.5", got.TotalCost)
	}
}
