package mysql

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/dap-platform/dap/internal/engine"
)

// Explain returns the plan of one statement, in the read-only transaction
// with the timeout: EXPLAIN FORMAT=JSON; with analyze, MariaDB's ANALYZE
// FORMAT=JSON or MySQL's EXPLAIN ANALYZE (tree text, MySQL 8.0.18+). The
// statement text was checked by the guard; it is the only text spliced.
func (e *Engine) Explain(ctx context.Context, query string, analyze bool, lim engine.Limits) (*engine.Plan, error) {
	lim = lim.WithDefaults()
	var plan *engine.Plan
	o := txOpts{readOnly: true, timeout: lim.Timeout, discard: mayChangeSession(query)}
	err := e.run(ctx, o, func(s *session) error {
		f := s.tc.flavour
		stmt, format := "EXPLAIN FORMAT=JSON "+query, "json"
		if analyze {
			if f.mariaDB {
				stmt = "ANALYZE FORMAT=JSON " + query
			} else {
				stmt, format = "EXPLAIN ANALYZE "+query, "text"
			}
		}
		rows, err := s.conn.QueryContext(s.ctx, stmt)
		if err != nil {
			return err
		}
		defer rows.Close()
		var text strings.Builder
		for rows.Next() {
			var line sql.NullString
			if err := rows.Scan(&line); err != nil {
				return err
			}
			if text.Len() > 0 {
				text.WriteByte('\n')
			}
			text.WriteString(line.String)
		}
		if err := closeRows(rows); err != nil {
			return err
		}
		plan = &engine.Plan{Format: format}
		if format == "text" {
			plan.Raw = text.String()
			plan.Summary = summarizeTree(text.String())
			return nil
		}
		var doc any
		if err := json.Unmarshal([]byte(text.String()), &doc); err != nil {
			return fmt.Errorf("target %s: the server's JSON plan did not parse: %w", e.name, err)
		}
		plan.Raw = doc
		plan.Summary = summarizeJSON(doc)
		if !analyze && f.mariaDB && plan.Summary.TotalCost == 0 {
			plan.Summary.Notes = append(plan.Summary.Notes, "this MariaDB version reports no cost in its JSON plan")
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("explain: %w", err)
	}
	return plan, nil
}

// summarizeJSON reads MySQL's and MariaDB's JSON plans: cost from
// query_block.cost_info.query_cost (MySQL) or query_block.cost (MariaDB
// 11+), actual time from r_total_time_ms (MariaDB ANALYZE), full scans
// (access_type ALL) with their row estimates, estimated rows from the top
// block's join (MySQL: the last table's rows_produced_per_join; MariaDB:
// the product of rows x filtered), and notes for filesort and temporary
// tables.
func summarizeJSON(doc any) engine.PlanSummary {
	var sum engine.PlanSummary
	root, _ := doc.(map[string]any)
	qb, _ := root["query_block"].(map[string]any)
	if ci, ok := qb["cost_info"].(map[string]any); ok {
		sum.TotalCost = number(ci["query_cost"])
	} else {
		sum.TotalCost = number(qb["cost"])
	}
	sum.ActualMs = number(qb["r_total_time_ms"])
	sum.EstimatedRows = estimateRows(qb)

	var filesort, temporary bool
	walk(doc, func(m map[string]any) {
		if _, ok := m["filesort"]; ok || m["using_filesort"] == true {
			filesort = true
		}
		if _, ok := m["temporary_table"]; ok || m["using_temporary_table"] == true {
			temporary = true
		}
		name, _ := m["table_name"].(string)
		if name == "" || m["access_type"] != "ALL" {
			return
		}
		rows := tableRows(m)
		sum.Scans = append(sum.Scans, engine.PlanScan{Table: name, EstimatedRows: rows, Large: rows >= engine.LargeTableRows})
	})
	sortScans(sum.Scans)
	if filesort {
		sum.Notes = append(sum.Notes, "sorts with a filesort (no index gives the order)")
	}
	if temporary {
		sum.Notes = append(sum.Notes, "uses a temporary table")
	}
	return sum
}

// tableRows is a table node's rows per scan: MariaDB "rows", MySQL
// "rows_examined_per_scan".
func tableRows(m map[string]any) float64 {
	if v, ok := m["rows_examined_per_scan"]; ok {
		return number(v)
	}
	return number(m["rows"])
}

// estimateRows estimates the rows the top query block produces.
func estimateRows(qb map[string]any) float64 {
	var tables []map[string]any
	if nl := findNestedLoop(qb); nl != nil {
		for _, item := range nl {
			if t := firstTable(item); t != nil {
				tables = append(tables, t)
			}
		}
	} else if t := firstTable(qb); t != nil {
		tables = append(tables, t)
	}
	if len(tables) == 0 {
		return 0
	}
	if v, ok := tables[len(tables)-1]["rows_produced_per_join"]; ok {
		return number(v) // MySQL: already cumulative over the join
	}
	est := 1.0
	for _, t := range tables {
		r := number(t["rows"])
		if f, ok := t["filtered"]; ok {
			r *= number(f) / 100
		}
		est *= r
	}
	return est
}

// findNestedLoop finds the top block's join list, looking through
// wrappers such as filesort and temporary_table but not into subqueries
// or into a table node.
func findNestedLoop(v any) []any {
	m, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	if nl, ok := m["nested_loop"].([]any); ok {
		return nl
	}
	if _, ok := m["table_name"]; ok {
		return nil
	}
	for k, child := range m {
		if strings.Contains(k, "subquer") || k == "table" {
			continue
		}
		if nl := findNestedLoop(child); nl != nil {
			return nl
		}
	}
	return nil
}

// firstTable finds the table node of one join step, looking through
// wrappers such as read_sorted_file and filesort but not into subqueries.
func firstTable(v any) map[string]any {
	m, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	if _, ok := m["table_name"]; ok {
		return m
	}
	if t := firstTable(m["table"]); t != nil {
		return t
	}
	for k, child := range m {
		if strings.Contains(k, "subquer") || k == "nested_loop" {
			continue
		}
		if t := firstTable(child); t != nil {
			return t
		}
	}
	return nil
}

// walk calls fn on every object in a decoded JSON document.
func walk(v any, fn func(map[string]any)) {
	switch x := v.(type) {
	case map[string]any:
		fn(x)
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys) // deterministic scan order before the sort by size
		for _, k := range keys {
			walk(x[k], fn)
		}
	case []any:
		for _, e := range x {
			walk(e, fn)
		}
	}
}

// number reads a JSON number or a numeric string (MySQL writes costs as strings).
func number(v any) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case string:
		f, _ := strconv.ParseFloat(x, 64)
		return f
	}
	return 0
}

func sortScans(s []engine.PlanScan) {
	sort.SliceStable(s, func(i, j int) bool { return s[i].EstimatedRows > s[j].EstimatedRows })
}

// MySQL EXPLAIN ANALYZE tree lines look like
// "-> Table scan on orders  (cost=10.2 rows=100) (actual time=0.03..0.08 rows=100 loops=1)".
var (
	treeCost   = regexp.MustCompile(`\(cost=([0-9.e+]+)(?:\.\.([0-9.e+]+))? rows=([0-9.e+]+)\)`)
	treeActual = regexp.MustCompile(`\(actual time=([0-9.e+]+)\.\.([0-9.e+]+) rows=([0-9.e+]+) loops=([0-9]+)\)`)
	treeScan   = regexp.MustCompile(`Table scan on (\S+)(?: using \S+)?\s+\(cost=[0-9.e+]+(?:\.\.[0-9.e+]+)? rows=([0-9.e+]+)\)`)
)

// summarizeTree reads MySQL's EXPLAIN ANALYZE text: cost and rows of the
// top node, its actual time, and table scans.
func summarizeTree(text string) engine.PlanSummary {
	var sum engine.PlanSummary
	first, _, _ := strings.Cut(text, "\n")
	if m := treeCost.FindStringSubmatch(first); m != nil {
		sum.TotalCost = parseF(m[1])
		if m[2] != "" {
			sum.TotalCost = parseF(m[2])
		}
		sum.EstimatedRows = parseF(m[3])
	}
	if m := treeActual.FindStringSubmatch(first); m != nil {
		sum.ActualMs = parseF(m[2]) * parseF(m[4])
	}
	for _, m := range treeScan.FindAllStringSubmatch(text, -1) {
		rows := parseF(m[2])
		sum.Scans = append(sum.Scans, engine.PlanScan{Table: m[1], EstimatedRows: rows, Large: rows >= engine.LargeTableRows})
	}
	sortScans(sum.Scans)
	return sum
}

func parseF(s string) float64 {
	f, _ := strconv.ParseFloat(s, 64)
	return f
}
