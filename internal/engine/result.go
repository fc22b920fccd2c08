package engine

import (
	"time"
)

// Column is one column of a result.
type Column struct {
	Name string `json:"name"`
	Type string `json:"type"` // the database's type name, lower case
}

// Result is a capped, JSON-safe statement result.
type Result struct {
	Columns   []Column `json:"columns"`
	Rows      [][]any  `json:"rows"`
	Truncated bool     `json:"truncated"`
	// TruncatedBy says which cap stopped the stream: "max_rows" or "max_result_bytes".
	TruncatedBy  string        `json:"truncated_by,omitempty"`
	RowsAffected int64         `json:"rows_affected,omitempty"` // writes
	Elapsed      time.Duration `json:"-"`
}

// Collector accumulates rows under the caps. Adapters stream rows into it
// and stop reading (closing the cursor, which cancels the rest) as soon as
// Add returns false; no result is ever read whole and cut afterwards.
type Collector struct {
	res   *Result
	lim   Limits
	bytes int64
}

// NewCollector starts a result with the given columns under lim (defaults applied).
func NewCollector(cols []Column, lim Limits) *Collector {
	return &Collector{res: &Result{Columns: cols, Rows: [][]any{}}, lim: lim.WithDefaults()}
}

// Add converts one row to JSON-safe values and keeps it if it fits.
// It returns false when a cap is reached; the row that did not fit is not
// kept and the result is marked truncated.
func (c *Collector) Add(row []any) bool {
	if len(c.res.Rows) >= c.lim.MaxRows {
		c.res.Truncated, c.res.TruncatedBy = true, "max_rows"
		return false
	}
	out := make([]any, len(row))
	var n int64
	for i, v := range row {
		out[i] = JSONValue(v)
		n += approxSize(out[i])
	}
	if c.bytes+n > c.lim.MaxBytes {
		c.res.Truncated, c.res.TruncatedBy = true, "max_result_bytes"
		return false
	}
	c.bytes += n
	c.res.Rows = append(c.res.Rows, out)
	return true
}

// Full reports whether the row cap has been reached, so an adapter can
// probe for one more row (to know whether the result was cut) and stop.
func (c *Collector) Full() bool { return len(c.res.Rows) >= c.lim.MaxRows }

// Result returns the collected result.
func (c *Collector) Result() *Result { return c.res }

// Plan is an execution plan.
type Plan struct {
	Format  string      `json:"format"` // json, text, xml
	Raw     any         `json:"plan"`   // the plan as the engine gave it (parsed JSON or text)
	Summary PlanSummary `json:"summary"`
}

// PlanSummary is the short reading of a plan for a language model.
type PlanSummary struct {
	TotalCost     float64 `json:"total_cost,omitempty"`
	EstimatedRows float64 `json:"estimated_rows,omitempty"`
	ActualMs      float64 `json:"actual_ms,omitempty"` // analyze only
	// Scans lists full scans of tables, largest first.
	Scans []PlanScan `json:"scans,omitempty"`
	Notes []string   `json:"notes,omitempty"`
}

// PlanScan is a sequential (full) scan found in a plan.
type PlanScan struct {
	Table         string  `json:"table"`
	EstimatedRows float64 `json:"estimated_rows"`
	Large         bool    `json:"large"` // at least LargeTableRows
}

// LargeTableRows is the row estimate from which a full scan is called out.
const LargeTableRows = 10000
