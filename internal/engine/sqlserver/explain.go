package sqlserver

import (
	"context"
	"database/sql"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/dap-platform/dap/internal/engine"
)

// statisticsXMLColumn names the extra result set SET STATISTICS XML adds.
const statisticsXMLColumn = "Microsoft SQL Server 2005 XML Showplan"

// Explain returns the XML showplan of one statement. Without analyze it
// runs SET SHOWPLAN_XML ON (its own batch, as SQL Server requires), the
// statement - which is compiled, not executed - and SET SHOWPLAN_XML OFF.
// With analyze, SET STATISTICS XML ON executes the statement inside the
// read-only transaction (always rolled back) and the actual plan follows
// its results. The connection is discarded afterwards either way.
func (e *Engine) Explain(ctx context.Context, text string, analyze bool, lim engine.Limits) (*engine.Plan, error) {
	lim = lim.WithDefaults()
	c, err := e.conn(ctx)
	if err != nil {
		return nil, err
	}
	defer discard(c)
	qctx, cancel := context.WithTimeout(ctx, lim.Timeout)
	defer cancel()
	start := time.Now()
	var raw string
	if analyze {
		raw, err = actualPlan(qctx, c, text, lim)
	} else {
		raw, err = estimatedPlan(qctx, c, text, lim)
	}
	elapsed := time.Since(start)
	if err != nil {
		return nil, mapError(qctx, err, lim.Timeout, "target "+e.name+": explain", []string{e.password})
	}
	sum, err := parseShowplan(raw)
	if err != nil {
		return nil, fmt.Errorf("target %s: explain: read the XML showplan: %w", e.name, err)
	}
	if analyze && sum.ActualMs == 0 {
		// Servers before 2016 SP1 have no QueryTimeStats: use the wall clock.
		sum.ActualMs = float64(elapsed.Microseconds()) / 1000
	}
	return &engine.Plan{Format: "xml", Raw: raw, Summary: sum}, nil
}

func estimatedPlan(ctx context.Context, c *sql.Conn, text string, lim engine.Limits) (string, error) {
	if _, err := c.ExecContext(ctx, sessionSetup(lim)); err != nil {
		return "", fmt.Errorf("set session options: %w", err)
	}
	if _, err := c.ExecContext(ctx, "SET SHOWPLAN_XML ON"); err != nil {
		return "", fmt.Errorf("SET SHOWPLAN_XML ON: %w", err)
	}
	rows, err := c.QueryContext(ctx, text)
	if err != nil {
		return "", err
	}
	plan, err := firstPlan(rows, false)
	if err != nil {
		return "", err
	}
	if _, err := c.ExecContext(ctx, "SET SHOWPLAN_XML OFF"); err != nil {
		return "", fmt.Errorf("SET SHOWPLAN_XML OFF: %w", err)
	}
	return plan, nil
}

func actualPlan(ctx context.Context, c *sql.Conn, text string, lim engine.Limits) (string, error) {
	tx, err := beginGuarded(ctx, c, lim)
	if err != nil {
		return "", err
	}
	defer func() { _ = tx.Rollback() }()
	if _, err := tx.ExecContext(ctx, "SET STATISTICS XML ON"); err != nil {
		return "", fmt.Errorf("SET STATISTICS XML ON: %w", err)
	}
	rows, err := tx.QueryContext(ctx, text)
	if err != nil {
		return "", err
	}
	return firstPlan(rows, true)
}

// firstPlan reads result sets until the showplan one and returns its XML.
// With STATISTICS XML the statement's own rows come first; they are read
// and dropped (the statement has to finish for the actual plan to exist).
func firstPlan(rows *sql.Rows, skipResults bool) (string, error) {
	defer rows.Close()
	for {
		cols, err := rows.Columns()
		if err != nil {
			return "", err
		}
		isPlan := len(cols) == 1 && (!skipResults || cols[0] == statisticsXMLColumn)
		for rows.Next() {
			if !isPlan {
				continue
			}
			var s sql.NullString
			if err := rows.Scan(&s); err != nil {
				return "", err
			}
			if s.Valid && strings.Contains(s.String, "<ShowPlanXML") {
				return s.String, nil
			}
		}
		if err := rows.Err(); err != nil {
			return "", err
		}
		if !rows.NextResultSet() {
			if err := rows.Err(); err != nil {
				return "", err
			}
			return "", errors.New("the server returned no XML showplan")
		}
	}
}

// parseShowplan reads the summary out of a showplan XML document: the
// first statement's StatementSubTreeCost and StatementEstRows (summed over
// statements for cost), the elapsed time of an actual plan, full scans
// (Table Scan, Clustered Index Scan) with the table and rows read, missing
// index hints and plan warnings as notes.
func parseShowplan(doc string) (engine.PlanSummary, error) {
	var (
		sum     engine.PlanSummary
		stack   []string // element names
		relops  []*relOp // enclosing RelOps
		scans   []*relOp
		stmts   int
		notes   = map[string]bool{}
		addNote = func(s string) {
			if !notes[s] {
				notes[s] = true
				sum.Notes = append(sum.Notes, s)
			}
		}
	)
	dec := xml.NewDecoder(strings.NewReader(doc))
	// The document is already a Go (UTF-8) string; a saved plan may still
	// declare encoding="utf-16", which must not stop the decoder.
	dec.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return sum, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			name := t.Name.Local
			parent := ""
			if len(stack) > 0 {
				parent = stack[len(stack)-1]
			}
			stack = append(stack, name)
			switch name {
			case "StmtSimple", "StmtCursor":
				if v, ok := attrFloat(t, "StatementSubTreeCost"); ok {
					sum.TotalCost += v
				}
				if v, ok := attrFloat(t, "StatementEstRows"); ok && stmts == 0 {
					sum.EstimatedRows = v
				}
				stmts++
			case "QueryTimeStats":
				if v, ok := attrFloat(t, "ElapsedTime"); ok {
					sum.ActualMs += v
				}
			case "RelOp":
				r := &relOp{op: attr(t, "PhysicalOp")}
				r.rows, _ = attrFloat(t, "EstimateRows")
				if v, ok := attrFloat(t, "EstimatedRowsRead"); ok {
					r.rowsRead = v
				}
				if v, ok := attrFloat(t, "TableCardinality"); ok {
					r.cardinality = v
				}
				relops = append(relops, r)
				if r.op == "Table Scan" || r.op == "Clustered Index Scan" {
					scans = append(scans, r)
				}
			case "Object":
				if (parent == "TableScan" || parent == "IndexScan") && len(relops) > 0 {
					r := relops[len(relops)-1]
					if r.table == "" {
						r.table = objectName(attr(t, "Schema"), attr(t, "Table"))
					}
				}
			case "MissingIndexGroup":
				if v, ok := attrFloat(t, "Impact"); ok {
					addNote(fmt.Sprintf("SQL Server suggests a missing index (estimated impact %.0f%%)", v))
				}
			case "MissingIndex":
				addNote("missing index on " + objectName(attr(t, "Schema"), attr(t, "Table")))
			case "NoJoinPredicate":
				addNote("warning: join without a join predicate")
			case "PlanAffectingConvert":
				addNote("warning: implicit conversion affects the plan: " + attr(t, "Expression"))
			case "SpillToTempDb":
				addNote("warning: operator spills to tempdb")
			case "ColumnsWithNoStatistics":
				addNote("warning: columns without statistics")
			}
		case xml.EndElement:
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
			if t.Name.Local == "RelOp" && len(relops) > 0 {
				relops = relops[:len(relops)-1]
			}
		}
	}
	if stmts == 0 {
		return sum, errors.New("no statement in the showplan")
	}
	for _, r := range scans {
		if r.table == "" {
			continue
		}
		n := r.scanRows()
		sum.Scans = append(sum.Scans, engine.PlanScan{Table: r.table, EstimatedRows: n, Large: n >= engine.LargeTableRows})
	}
	sort.SliceStable(sum.Scans, func(i, j int) bool { return sum.Scans[i].EstimatedRows > sum.Scans[j].EstimatedRows })
	return sum, nil
}

// relOp is one plan operator while the document is walked.
type relOp struct {
	op                          string
	rows, rowsRead, cardinality float64
	table                       string
}

// scanRows is how many rows a full scan reads: EstimatedRowsRead or the
// table cardinality where the server reports them (a scan reads the whole
// table even when a predicate keeps few rows), else EstimateRows.
func (r *relOp) scanRows() float64 {
	switch {
	case r.rowsRead > 0:
		return r.rowsRead
	case r.cardinality > 0:
		return r.cardinality
	}
	return r.rows
}

func attr(t xml.StartElement, name string) string {
	for _, a := range t.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

func attrFloat(t xml.StartElement, name string) (float64, bool) {
	s := attr(t, name)
	if s == "" {
		return 0, false
	}
	v, err := strconv.ParseFloat(s, 64)
	return v, err == nil
}

// objectName turns showplan's "[dbo]" and "[orders]" into "dbo.orders".
func objectName(schema, table string) string {
	unq := func(s string) string {
		if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
			s = strings.ReplaceAll(s[1:len(s)-1], "]]", "]")
		}
		return s
	}
	if schema == "" {
		return unq(table)
	}
	return unq(schema) + "." + unq(table)
}
