package mysql

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/dap-platform/dap/internal/engine"
)

func TestExplain(t *testing.T) {
	f := env(t)
	tests := []struct {
		name      string
		sql       string
		analyze   bool
		scanTable string // "" = no full scan expected
		large     bool
	}{
		{"full scan of a large table", "SELECT * FROM big WHERE v = 3", false, "big", true},
		{"index lookup", "SELECT * FROM big WHERE id = 3", false, "", false},
		{"join with sort", "SELECT c.email, o.amount FROM orders o JOIN customers c ON c.id = o.customer_id ORDER BY o.note", false, "", false},
		{"analyze", "SELECT COUNT(*) FROM big WHERE pad = 'padding'", true, "big", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := f.eng.Explain(ctxT(t), tt.sql, tt.analyze, engine.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if p.Format != "json" {
				t.Errorf("format = %q", p.Format)
			}
			if _, ok := p.Raw.(map[string]any); !ok {
				t.Errorf("raw plan = %T, want parsed JSON", p.Raw)
			}
			s := p.Summary
			if s.EstimatedRows <= 0 {
				t.Errorf("estimated rows = %v", s.EstimatedRows)
			}
			if tt.analyze && s.ActualMs <= 0 {
				t.Errorf("actual ms = %v", s.ActualMs)
			}
			if tt.scanTable == "" {
				for _, sc := range s.Scans {
					if sc.Table == "big" {
						t.Errorf("unexpected scan %+v", sc)
					}
				}
				return
			}
			if len(s.Scans) == 0 || s.Scans[0].Table != tt.scanTable || s.Scans[0].Large != tt.large || s.Scans[0].EstimatedRows < engine.LargeTableRows {
				t.Errorf("scans = %+v, want %s first (large=%v)", s.Scans, tt.scanTable, tt.large)
			}
		})
	}
	// ANALYZE executes, so it runs read-only: a write is refused.
	_, err := f.eng.Explain(ctxT(t), "DELETE FROM orders", true, engine.Limits{})
	if !errors.Is(err, engine.ErrReadOnly) {
		t.Errorf("analyze of a write: err = %v, want ErrReadOnly", err)
	}
}

func TestSummarizeJSONMySQL(t *testing.T) {
	// The shape of MySQL 8's EXPLAIN FORMAT=JSON for a two-table join.
	const plan = `{"query_block": {"select_id": 1, "cost_info": {"query_cost": "30512.25"},
  "ordering_operation": {"using_filesort": true, "nested_loop": [
    {"table": {"table_name": "c", "access_type": "ALL", "rows_examined_per_scan": 3, "rows_produced_per_join": 3, "filtered": "100.00"}},
    {"table": {"table_name": "b", "access_type": "ALL", "rows_examined_per_scan": 99712, "rows_produced_per_join": 29913, "filtered": "10.00"}}
  ]}}}`
	var doc any
	if err := json.Unmarshal([]byte(plan), &doc); err != nil {
		t.Fatal(err)
	}
	s := summarizeJSON(doc)
	if s.TotalCost != 30512.25 {
		t.Errorf("cost = %v", s.TotalCost)
	}
	if len(s.Scans) != 2 || s.Scans[0].Table != "b" || !s.Scans[0].Large || s.Scans[1].Large {
		t.Errorf("scans = %+v", s.Scans)
	}
	if len(s.Notes) != 1 {
		t.Errorf("notes = %v", s.Notes)
	}
}

func TestSummarizeTree(t *testing.T) {
	const tree = `-> Filter: (b.v = 3)  (cost=10073 rows=9971) (actual time=0.0812..35.1 rows=1031 loops=1)
    -> Table scan on b  (cost=10073 rows=99712) (actual time=0.0771..28.4 rows=100000 loops=1)`
	s := summarizeTree(tree)
	if s.TotalCost != 10073 || s.EstimatedRows != 9971 || s.ActualMs != 35.1 {
		t.Errorf("summary = %+v", s)
	}
	if len(s.Scans) != 1 || s.Scans[0].Table != "b" || s.Scans[0].EstimatedRows != 99712 || !s.Scans[0].Large {
		t.Errorf("scans = %+v", s.Scans)
	}
}
