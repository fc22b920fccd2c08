package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dap-platform/dap/internal/engine"
)

// Query runs one statement. Read-only statements run on the read-only pool
// (mode=ro, query_only, authorizer) without a transaction of their own: a
// single SQLite statement is atomic, and denying transaction control on
// that pool leaves nothing to escape from. Writes run on the read-write
// pool in a transaction that commits on success; the connection is then
// discarded, so nothing a statement changed (PRAGMA, temp tables) reaches
// the next caller. The timeout is SQLite's own interrupt, fired when the
// statement's context deadline passes.
func (e *Engine) Query(ctx context.Context, q engine.Query, lim engine.Limits) (*engine.Result, error) {
	lim = lim.WithDefaults()
	start := time.Now()
	var res *engine.Result
	var err error
	if q.ReadOnly {
		res, err = e.queryReadOnly(ctx, q, lim)
	} else {
		res, err = e.queryWrite(ctx, q, lim)
	}
	if err != nil {
		return nil, err
	}
	res.Elapsed = time.Since(start)
	return res, nil
}

func (e *Engine) queryReadOnly(ctx context.Context, q engine.Query, lim engine.Limits) (*engine.Result, error) {
	c, err := e.acquire(ctx, e.ro)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	tctx, cancel := context.WithTimeout(ctx, lim.Timeout)
	defer cancel()
	rows, err := c.QueryContext(tctx, q.SQL, q.Args...)
	if err != nil {
		return nil, e.mapErr(ctx, c, err, lim.Timeout)
	}
	res, err := collect(rows, lim)
	if err != nil {
		return nil, e.mapErr(ctx, c, err, lim.Timeout)
	}
	return res, nil
}

func (e *Engine) queryWrite(ctx context.Context, q engine.Query, lim engine.Limits) (*engine.Result, error) {
	if e.rw == nil {
		return nil, fmt.Errorf("target %s is read-only: writes are not possible here: %w", e.name, engine.ErrReadOnly)
	}
	c, err := e.acquire(ctx, e.rw)
	if err != nil {
		return nil, err
	}
	defer discard(c)
	tctx, cancel := context.WithTimeout(ctx, lim.Timeout)
	defer cancel()
	tx, err := c.BeginTx(tctx, nil)
	if err != nil {
		return nil, e.mapErr(ctx, nil, err, lim.Timeout)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	rows, err := tx.QueryContext(tctx, q.SQL, q.Args...)
	if err != nil {
		return nil, e.mapErr(ctx, nil, err, lim.Timeout)
	}
	res, err := collect(rows, lim)
	if err != nil {
		return nil, e.mapErr(ctx, nil, err, lim.Timeout)
	}
	// The connection is fresh for this statement (see discard), so
	// changes() counts this statement's rows and nothing earlier.
	if err := tx.QueryRowContext(tctx, "SELECT changes()").Scan(&res.RowsAffected); err != nil {
		return nil, e.mapErr(ctx, nil, err, lim.Timeout)
	}
	if err := tx.Commit(); err != nil {
		return nil, e.mapErr(ctx, nil, err, lim.Timeout)
	}
	return res, nil
}

// discard closes c's physical connection instead of returning it to the
// pool: returning driver.ErrBadConn from Raw makes database/sql drop it.
func discard(c *sql.Conn) {
	_ = c.Raw(func(any) error { return driver.ErrBadConn })
	_ = c.Close()
}

// collect streams rows into a capped result and stops reading (closing the
// statement) the moment the collector is full.
func collect(rows *sql.Rows, lim engine.Limits) (*engine.Result, error) {
	defer rows.Close()
	cts, err := rows.ColumnTypes()
	if err != nil {
		return nil, err
	}
	cols := make([]engine.Column, len(cts))
	decl := make([]string, len(cts))
	for i, ct := range cts {
		decl[i] = strings.ToLower(ct.DatabaseTypeName())
		cols[i] = engine.Column{Name: ct.Name(), Type: decl[i]}
	}
	col := engine.NewCollector(cols, lim)
	vals := make([]any, len(cts))
	ptrs := make([]any, len(cts))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		row := make([]any, len(vals))
		for i, v := range vals {
			row[i] = convert(v, decl[i])
		}
		if !col.Add(row) {
			break
		}
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return col.Result(), nil
}

// convert prepares one SQLite value for engine.JSONValue. SQLite has no
// exact numeric type: NUMERIC/DECIMAL columns hold INTEGER or REAL values,
// which stay numbers. A BLOB in a column of text affinity that is valid
// UTF-8 is text stored through a []byte binding and becomes a string;
// other BLOBs are base64 encoded by JSONValue. The driver parses
// DATE/DATETIME/TIMESTAMP columns into time.Time: a DATE at midnight UTC
// reads back as "YYYY-MM-DD", anything else as RFC 3339.
func convert(v any, decl string) any {
	switch x := v.(type) {
	case []byte:
		if textAffinity(decl) && utf8.Valid(x) {
			return string(x)
		}
		return x
	case time.Time:
		if strings.HasPrefix(decl, "date") && !strings.HasPrefix(decl, "datetime") &&
			x.Location() == time.UTC && x.Hour() == 0 && x.Minute() == 0 && x.Second() == 0 && x.Nanosecond() == 0 {
			return x.Format(time.DateOnly)
		}
		return x.Format(time.RFC3339Nano)
	}
	return v
}

// textAffinity applies SQLite's column affinity rule for TEXT.
func textAffinity(decl string) bool {
	if strings.Contains(decl, "int") {
		return false
	}
	return strings.Contains(decl, "char") || strings.Contains(decl, "clob") || strings.Contains(decl, "text") ||
		decl == "json" || decl == "uuid"
}

// Explain runs EXPLAIN QUERY PLAN on the read-only pool (it never executes
// the statement; a write is refused by the authorizer at prepare time).
// SQLite plans carry no costs or row counts: scan sizes come from the
// tables' row estimates. With analyze, the statement also runs read-only,
// rows discarded, under the timeout, and ActualMs is its wall time.
func (e *Engine) Explain(ctx context.Context, sqlText string, analyze bool, lim engine.Limits) (*engine.Plan, error) {
	lim = lim.WithDefaults()
	c, err := e.acquire(ctx, e.ro)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	tctx, cancel := context.WithTimeout(ctx, lim.Timeout)
	defer cancel()
	rows, err := c.QueryContext(tctx, "EXPLAIN QUERY PLAN "+sqlText)
	if err != nil {
		return nil, e.mapErr(ctx, c, err, lim.Timeout)
	}
	type step struct {
		ID     int64  `json:"id"`
		Parent int64  `json:"parent"`
		Detail string `json:"detail"`
	}
	var steps []step
	for rows.Next() {
		var s step
		var unused any
		if err := rows.Scan(&s.ID, &s.Parent, &unused, &s.Detail); err != nil {
			rows.Close()
			return nil, e.mapErr(ctx, c, err, lim.Timeout)
		}
		steps = append(steps, s)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, e.mapErr(ctx, c, err, lim.Timeout)
	}
	raw := make([]any, len(steps))
	for i, s := range steps {
		raw[i] = map[string]any{"id": s.ID, "parent": s.Parent, "detail": s.Detail}
	}
	plan := &engine.Plan{Format: "text", Raw: raw}
	plan.Summary.Notes = append(plan.Summary.Notes, "SQLite plans carry no cost or row estimates; scan sizes are table row estimates")

	aliases := aliasMap(sqlText)
	estimates, err := e.rowEstimates(tctx, c, "main")
	if err != nil {
		return nil, e.mapErr(ctx, c, err, lim.Timeout)
	}
	for _, s := range steps {
		name, ok := fullScanTable(s.Detail)
		if !ok {
			continue
		}
		if t, ok := aliases[strings.ToLower(name)]; ok {
			name = t
		}
		est := float64(-1)
		if n, ok := estimates[strings.ToLower(name)]; ok {
			est = float64(n)
		}
		plan.Summary.Scans = append(plan.Summary.Scans, engine.PlanScan{Table: name, EstimatedRows: est, Large: est >= engine.LargeTableRows})
		plan.Summary.EstimatedRows = max(plan.Summary.EstimatedRows, est)
	}
	slices.SortStableFunc(plan.Summary.Scans, func(a, b engine.PlanScan) int {
		switch {
		case a.EstimatedRows > b.EstimatedRows:
			return -1
		case a.EstimatedRows < b.EstimatedRows:
			return 1
		}
		return 0
	})

	if analyze {
		start := time.Now()
		rows, err := c.QueryContext(tctx, sqlText)
		if err != nil {
			return nil, e.mapErr(ctx, c, err, lim.Timeout)
		}
		for rows.Next() {
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, e.mapErr(ctx, c, err, lim.Timeout)
		}
		plan.Summary.ActualMs = float64(time.Since(start).Microseconds()) / 1000
	}
	return plan, nil
}

// fullScanTable reads "SCAN <name>" plan details; index scans ("USING
// INDEX", "USING COVERING INDEX"), constant rows and subquery scans are
// not full table scans.
func fullScanTable(detail string) (string, bool) {
	rest, ok := strings.CutPrefix(detail, "SCAN ")
	if !ok || strings.Contains(rest, " USING ") || strings.HasPrefix(rest, "CONSTANT") || strings.HasPrefix(rest, "(") {
		return "", false
	}
	name, _, _ := strings.Cut(rest, " ")
	if strings.EqualFold(name, "CONSTANT") {
		return "", false
	}
	return name, true
}

// fromAlias finds "FROM|JOIN table [AS] alias" in a statement; SQLite's
// plan names a scanned table by its alias.
var fromAlias = regexp.MustCompile(`(?i)\b(?:from|join)\s+(?:"?\w+"?\s*\.\s*)?"?(\w+)"?(?:\s+as)?\s+"?(\w+)"?`)

// aliasMap maps lower-cased aliases to table names. Keywords that can follow
// a table name are not aliases.
func aliasMap(sqlText string) map[string]string {
	notAlias := map[string]bool{"where": true, "join": true, "inner": true, "left": true, "right": true, "full": true,
		"cross": true, "natural": true, "on": true, "using": true, "group": true, "order": true, "limit": true,
		"union": true, "except": true, "intersect": true, "window": true, "having": true, "indexed": true, "not": true, "outer": true}
	m := map[string]string{}
	for _, g := range fromAlias.FindAllStringSubmatch(sqlText, -1) {
		if notAlias[strings.ToLower(g[2])] {
			continue
		}
		m[strings.ToLower(g[2])] = g[1]
	}
	return m
}

// CallProcedure always fails: SQLite has no stored procedures.
func (e *Engine) CallProcedure(ctx context.Context, r engine.Routine, args []any, readOnly bool, lim engine.Limits) (*engine.Result, error) {
	return nil, fmt.Errorf("target %s: SQLite has no stored procedures (asked for %s): %w", e.name, r.QualifiedName(), engine.ErrInvalid)
}

// SelfTestReadOnly proves the read-only pool refuses writes: the
// connection must report the file read-only (mode=ro), and CREATE TEMP
// TABLE and lifting query_only must both be refused by the database.
func (e *Engine) SelfTestReadOnly(ctx context.Context) error {
	c, err := e.acquire(ctx, e.ro)
	if err != nil {
		return err
	}
	defer c.Close()
	var readOnly bool
	err = c.Raw(func(dc any) error {
		rc, ok := dc.(*roConn)
		if !ok {
			return errors.New("read-only pool connection has no authorizer")
		}
		ro, ok := rc.sqliteConn.(interface{ IsReadOnly(string) (bool, error) })
		if !ok {
			return errors.New("driver cannot report whether the file is open read-only")
		}
		var err error
		readOnly, err = ro.IsReadOnly("main")
		return err
	})
	if err != nil {
		return fmt.Errorf("target %s: read-only self-test: %w", e.name, err)
	}
	if !readOnly {
		return fmt.Errorf("target %s: read-only self-test failed: the database file is open read-write on the read-only pool; refusing to serve it", e.name)
	}
	for _, probe := range []string{"CREATE TEMP TABLE dap_selftest(x)", "PRAGMA query_only=0"} {
		_, err := c.ExecContext(ctx, probe)
		if err == nil {
			discard(c)
			return fmt.Errorf("target %s: read-only self-test failed: the database accepted %q on a read-only connection; refusing to serve it", e.name, probe)
		}
		if !errors.Is(e.mapErr(ctx, c, err, 0), engine.ErrReadOnly) {
			return fmt.Errorf("target %s: read-only self-test: %q failed for another reason than a read-only refusal: %s", e.name, probe, errText(err))
		}
	}
	return nil
}
