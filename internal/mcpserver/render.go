package mcpserver

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/dap-platform/dap/internal/engine"
	"github.com/dap-platform/dap/internal/gateway"
)

// The text renderings are short on purpose: the full data travels as
// structured content, and clients that only show text still get a readable
// summary and the first rows.

const (
	textRows     = 20  // rows rendered as text; the rest only in structured content
	textCellMax  = 120 // characters of one cell in the text rendering
	textMaxItems = 200 // tables, schemas ... listed in text
)

func renderTargets(ts []gateway.TargetInfo) string {
	if len(ts) == 0 {
		return "No targets are configured."
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d target(s):\n", len(ts))
	for _, t := range ts {
		state := "reachable, " + t.ServerVersion
		if !t.Reachable {
			state = "NOT reachable: " + t.Error
		}
		fmt.Fprintf(&b, "- %s: %s, %s, max %d rows, timeout %d ms; %s", t.Name, t.Engine, t.Access, t.MaxRows, t.TimeoutMs, state)
		if t.Description != "" {
			fmt.Fprintf(&b, " - %s", t.Description)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func renderSchemas(target string, ss []engine.Schema) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d schema(s) on %s:\n", len(ss), target)
	for i, s := range ss {
		if i == textMaxItems {
			fmt.Fprintf(&b, "... and %d more (see structured content)\n", len(ss)-i)
			break
		}
		b.WriteString("- " + s.Name)
		if s.Comment != "" {
			b.WriteString(": " + s.Comment)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func renderTables(target string, ts []engine.Table) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d table(s)/view(s) on %s:\n", len(ts), target)
	for i, t := range ts {
		if i == textMaxItems {
			fmt.Fprintf(&b, "... and %d more (see structured content, or filter with pattern)\n", len(ts)-i)
			break
		}
		fmt.Fprintf(&b, "- %s.%s (%s, ~%s rows)", t.Schema, t.Name, t.Kind, estimate(t.RowEstimate))
		if t.Comment != "" {
			b.WriteString(": " + t.Comment)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func estimate(n int64) string {
	if n < 0 {
		return "unknown"
	}
	return fmt.Sprint(n)
}

func renderTable(t *engine.TableDetail) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s.%s (~%s rows)", t.Kind, t.Schema, t.Name, estimate(t.RowEstimate))
	if t.Comment != "" {
		b.WriteString(" - " + t.Comment)
	}
	b.WriteString("\nColumns:\n")
	for _, c := range t.Columns {
		null := "NOT NULL"
		if c.Nullable {
			null = "NULL"
		}
		fmt.Fprintf(&b, "- %s %s %s", c.Name, c.Type, null)
		if c.Default != nil {
			fmt.Fprintf(&b, " DEFAULT %s", *c.Default)
		}
		if c.Comment != "" {
			b.WriteString(" -- " + c.Comment)
		}
		b.WriteByte('\n')
	}
	if len(t.PrimaryKey) > 0 {
		fmt.Fprintf(&b, "Primary key: (%s)\n", strings.Join(t.PrimaryKey, ", "))
	}
	for _, ix := range t.Indexes {
		u := ""
		if ix.Unique {
			u = "unique "
		}
		fmt.Fprintf(&b, "Index %s: %s%s (%s)\n", ix.Name, u, ix.Method, strings.Join(ix.Columns, ", "))
	}
	for _, fk := range t.ForeignKeys {
		fmt.Fprintf(&b, "References: (%s) -> %s.%s(%s)\n", strings.Join(fk.Columns, ", "), fk.RefSchema, fk.RefTable, strings.Join(fk.RefColumns, ", "))
	}
	for _, fk := range t.ReferencedBy {
		fmt.Fprintf(&b, "Referenced by: %s.%s(%s) -> (%s)\n", fk.Schema, fk.Table, strings.Join(fk.Columns, ", "), strings.Join(fk.RefColumns, ", "))
	}
	if t.Definition != "" {
		fmt.Fprintf(&b, "Definition: %s\n", clip(t.Definition, 2000))
	}
	return b.String()
}

func renderExec(r *gateway.ExecResult) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s): %d row(s) in %.1f ms", r.Statement, r.StatementKind, r.RowCount, r.ElapsedMs)
	if r.RowsAffected > 0 {
		fmt.Fprintf(&b, ", %d row(s) affected", r.RowsAffected)
	}
	if r.Truncated {
		fmt.Fprintf(&b, "; TRUNCATED by %s - filter, aggregate or add LIMIT", r.TruncatedBy)
	}
	b.WriteByte('\n')
	if len(r.Columns) == 0 {
		return b.String()
	}
	names := make([]string, len(r.Columns))
	for i, c := range r.Columns {
		// A quoted alias may hold a tab or newline, too.
		names[i] = oneLine(c.Name)
	}
	b.WriteString(strings.Join(names, "\t"))
	b.WriteByte('\n')
	for i, row := range r.Rows {
		if i == textRows {
			fmt.Fprintf(&b, "... %d more row(s) in structured content\n", len(r.Rows)-i)
			break
		}
		for j, v := range row {
			if j > 0 {
				b.WriteByte('\t')
			}
			b.WriteString(cell(v))
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func cell(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case string:
		return clip(oneLine(x), textCellMax)
	case map[string]any, []any:
		j, _ := json.Marshal(x)
		return clip(string(j), textCellMax)
	}
	return fmt.Sprint(v)
}

// oneLine replaces tabs and line breaks, which would break the TSV rows.
func oneLine(s string) string {
	if !strings.ContainsAny(s, "\t\n\r") {
		return s
	}
	return strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return ' '
		}
		return r
	}, s)
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	// Cut on a rune boundary.
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "..."
}

func renderPlan(p *gateway.ExplainResult) string {
	var b strings.Builder
	s := p.Summary
	fmt.Fprintf(&b, "Plan (%s, %s): estimated cost %.2f, estimated rows %.0f", p.Format, p.StatementKind, s.TotalCost, s.EstimatedRows)
	if p.Analyzed {
		fmt.Fprintf(&b, ", actual %.2f ms", s.ActualMs)
	}
	b.WriteByte('\n')
	for _, sc := range s.Scans {
		large := ""
		if sc.Large {
			large = " - LARGE table: consider an index or a filter"
		}
		fmt.Fprintf(&b, "Full scan of %s (~%.0f rows)%s\n", sc.Table, sc.EstimatedRows, large)
	}
	for _, n := range s.Notes {
		b.WriteString("Note: " + n + "\n")
	}
	if txt, ok := p.Raw.(string); ok {
		b.WriteString(clip(txt, 4000))
	} else if j, err := json.Marshal(p.Raw); err == nil {
		b.WriteString(clip(string(j), 4000))
	}
	return b.String()
}

func renderProcedures(target string, ps []gateway.ProcedureInfo) string {
	if len(ps) == 0 {
		return "No procedures are allow-listed on " + target + "."
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d allow-listed routine(s) on %s:\n", len(ps), target)
	for _, p := range ps {
		fmt.Fprintf(&b, "- %s %s", p.Kind, p.Signature)
		if p.Returns != "" {
			b.WriteString(" returns " + p.Returns)
		}
		if p.Comment != "" {
			b.WriteString(" - " + p.Comment)
		}
		b.WriteByte('\n')
	}
	return b.String()
}
