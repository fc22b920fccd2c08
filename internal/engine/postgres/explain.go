package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/jackc/pgx/v5"

	"github.com/dap-platform/dap/internal/engine"
)

// Explain implements engine.Engine: EXPLAIN (FORMAT JSON) inside the
// read-only transaction with the statement timeout, so even ANALYZE of a
// write is refused by the database.
func (e *Engine) Explain(ctx context.Context, sql string, analyze bool, lim engine.Limits) (*engine.Plan, error) {
	opts := "FORMAT JSON"
	if analyze {
		opts += ", ANALYZE, BUFFERS"
	}
	var plan *engine.Plan
	err := e.readTx(ctx, lim, func(ctx context.Context, tx pgx.Tx) error {
		var text string
		if err := tx.QueryRow(ctx, "EXPLAIN ("+opts+") "+sql).Scan(&text); err != nil {
			return err
		}
		var raw []any
		if err := json.Unmarshal([]byte(text), &raw); err != nil {
			return fmt.Errorf("parse EXPLAIN output: %w", err)
		}
		plan = &engine.Plan{Format: "json", Raw: raw, Summary: summarize(raw, analyze)}
		return relationSizes(ctx, tx, &plan.Summary)
	})
	if err != nil {
		return nil, fmt.Errorf("explain: %w", err)
	}
	return plan, nil
}

// summarize reads the JSON plan: root cost and rows, execution time
// (analyze), and every sequential scan.
func summarize(raw []any, analyze bool) engine.PlanSummary {
	var s engine.PlanSummary
	if len(raw) == 0 {
		return s
	}
	top, _ := raw[0].(map[string]any)
	root, _ := top["Plan"].(map[string]any)
	if root == nil {
		return s
	}
	s.TotalCost = num(root["Total Cost"])
	s.EstimatedRows = num(root["Plan Rows"])
	if analyze {
		s.ActualMs = num(top["Execution Time"])
		if s.ActualMs == 0 {
			s.ActualMs = num(root["Actual Total Time"])
		}
	}
	var walk func(n map[string]any)
	walk = func(n map[string]any) {
		if n["Node Type"] == "Seq Scan" {
			name, _ := n["Relation Name"].(string)
			if sch, ok := n["Schema"].(string); ok && sch != "" {
				name = sch + "." + name
			}
			s.Scans = append(s.Scans, engine.PlanScan{Table: name, EstimatedRows: num(n["Plan Rows"])})
		}
		kids, _ := n["Plans"].([]any)
		for _, k := range kids {
			if m, ok := k.(map[string]any); ok {
				walk(m)
			}
		}
	}
	walk(root)
	return s
}

func num(v any) float64 {
	f, _ := v.(float64)
	return f
}

// relationSizes qualifies each scanned relation with its schema (the plan
// names the relation as the statement resolved it, through the same
// search_path) and marks a scan Large from the table's reltuples, since a
// scan's Plan Rows counts rows after its filter, not rows read. Scans
// are then ordered largest first.
func relationSizes(ctx context.Context, tx pgx.Tx, s *engine.PlanSummary) error {
	if len(s.Scans) == 0 {
		return nil
	}
	names := make([]string, len(s.Scans))
	for i, sc := range s.Scans {
		names[i] = sc.Table
	}
	rows, err := tx.Query(ctx, `SELECT r.name, n.nspname || '.' || c.relname, c.reltuples::float8
FROM unnest($1::text[]) r(name)
JOIN pg_catalog.pg_class c ON c.oid = to_regclass(quote_ident(r.name))
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace`, names)
	if err != nil {
		return err
	}
	type rel struct {
		qualified string
		tuples    float64
	}
	sizes := map[string]rel{}
	for rows.Next() {
		var name string
		var r rel
		if err := rows.Scan(&name, &r.qualified, &r.tuples); err != nil {
			return err
		}
		sizes[name] = r
	}
	if err := rows.Err(); err != nil {
		return err
	}
	size := func(sc engine.PlanScan) float64 {
		if r, ok := sizes[sc.Table]; ok && r.tuples > sc.EstimatedRows {
			return r.tuples
		}
		return sc.EstimatedRows
	}
	for i := range s.Scans {
		sc := &s.Scans[i]
		sc.Large = size(*sc) >= engine.LargeTableRows
		if sc.Large {
			s.Notes = append(s.Notes, fmt.Sprintf("full scan of %s (about %.0f rows): consider an index for its filter", sc.Table, size(*sc)))
		}
	}
	sort.SliceStable(s.Scans, func(i, j int) bool { return size(s.Scans[i]) > size(s.Scans[j]) })
	for i := range s.Scans {
		if r, ok := sizes[s.Scans[i].Table]; ok {
			s.Scans[i].Table = r.qualified
		}
	}
	return nil
}
