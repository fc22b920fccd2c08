package sqlserver

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/golang-sql/sqlexp"

	"github.com/dap-platform/dap/internal/engine"
)

// sessionSetup is sent as its own plain batch (no parameters) before the
// transaction: SET inside sp_executesql would revert when it returns.
func sessionSetup(lim engine.Limits) string {
	return fmt.Sprintf("SET TRANSACTION ISOLATION LEVEL READ COMMITTED; SET LOCK_TIMEOUT %d; SET XACT_ABORT ON; SET IMPLICIT_TRANSACTIONS OFF;",
		lim.Timeout.Milliseconds())
}

// Query runs one statement. Reads (q.ReadOnly) run in a transaction that is
// always rolled back; writes run in a transaction committed on success,
// and their connection is discarded afterwards.
func (e *Engine) Query(ctx context.Context, q engine.Query, lim engine.Limits) (*engine.Result, error) {
	return e.run(ctx, q.SQL, q.Args, q.ReadOnly, lim, "query")
}

// run is the machinery shared by Query and CallProcedure.
func (e *Engine) run(ctx context.Context, text string, args []any, readOnly bool, lim engine.Limits, what string) (*engine.Result, error) {
	lim = lim.WithDefaults()
	start := time.Now()
	c, err := e.conn(ctx)
	if err != nil {
		return nil, err
	}
	what = "target " + e.name + ": " + what
	secrets := argSecrets(args, e.password)
	// No server-side statement timeout exists: the deadline makes the
	// driver send an attention that aborts the statement on the server.
	qctx, cancel := context.WithTimeout(ctx, lim.Timeout)
	defer cancel()

	var res *engine.Result
	if readOnly {
		res, err = e.runRead(qctx, c, text, args, lim)
		if err != nil {
			// A failed or cancelled read may have left the session mid-request.
			discard(c)
		} else {
			_ = c.Close()
		}
	} else {
		res, err = e.runWrite(qctx, c, text, args, lim)
		discard(c)
	}
	if err != nil {
		return nil, mapError(qctx, err, lim.Timeout, what, secrets)
	}
	res.Elapsed = time.Since(start)
	return res, nil
}

// beginGuarded sends the session settings and begins the transaction.
func beginGuarded(ctx context.Context, c *sql.Conn, lim engine.Limits) (*sql.Tx, error) {
	if _, err := c.ExecContext(ctx, sessionSetup(lim)); err != nil {
		return nil, fmt.Errorf("set session options: %w", err)
	}
	tx, err := c.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelReadCommitted})
	if err != nil {
		return nil, fmt.Errorf("begin transaction: %w", err)
	}
	return tx, nil
}

// runRead streams the first result set into the collector and stops at
// the caps: closing the rows early cancels the rest on the server. The
// transaction is always rolled back.
func (e *Engine) runRead(ctx context.Context, c *sql.Conn, text string, args []any, lim engine.Limits) (*engine.Result, error) {
	tx, err := beginGuarded(ctx, c, lim)
	if err != nil {
		return nil, err
	}
	defer func() { _ = tx.Rollback() }()
	rows, err := tx.QueryContext(ctx, text, args...)
	if err != nil {
		return nil, err
	}
	res, err := e.collect(rows, lim)
	cerr := rows.Close()
	if err != nil {
		return nil, err
	}
	if !res.Truncated && cerr != nil {
		// Errors after the last row (XACT_ABORT rollbacks) surface here.
		return nil, cerr
	}
	if rerr := tx.Rollback(); rerr != nil && !errors.Is(rerr, sql.ErrTxDone) {
		return nil, fmt.Errorf("roll back the read-only transaction: %w", rerr)
	}
	return res, nil
}

// collect reads rows into a capped collector and stops when Add refuses.
func (e *Engine) collect(rows *sql.Rows, lim engine.Limits) (*engine.Result, error) {
	cts, err := rows.ColumnTypes()
	if err != nil {
		return nil, err
	}
	cols, types := resultColumns(cts)
	col := engine.NewCollector(cols, lim)
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		if !col.Add(e.convertRow(vals, types)) {
			return col.Result(), nil
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return col.Result(), nil
}

func resultColumns(cts []*sql.ColumnType) ([]engine.Column, []string) {
	cols := make([]engine.Column, len(cts))
	types := make([]string, len(cts))
	for i, ct := range cts {
		types[i] = ct.DatabaseTypeName()
		cols[i] = engine.Column{Name: ct.Name(), Type: columnType(types[i])}
	}
	return cols, types
}

func (e *Engine) convertRow(vals []any, types []string) []any {
	row := make([]any, len(vals))
	for i, v := range vals {
		row[i] = convertValue(v, types[i], e.guidConv)
	}
	return row
}

// runWrite runs a write in a transaction committed on success. It uses the
// driver's message queue (sqlexp.ReturnMessage) to get both result sets
// (OUTPUT clauses, procedures) and row counts. Rows past the caps are read
// and dropped rather than cancelled: cancelling would abort the write.
func (e *Engine) runWrite(ctx context.Context, c *sql.Conn, text string, args []any, lim engine.Limits) (*engine.Result, error) {
	tx, err := beginGuarded(ctx, c, lim)
	if err != nil {
		return nil, err
	}
	committed := false
	defer func() {
		if !committed {
			_ = tx.Rollback()
		}
	}()
	msgs := &sqlexp.ReturnMessage{}
	rows, err := tx.QueryContext(ctx, text, append(append([]any{}, args...), msgs)...)
	if err != nil {
		return nil, err
	}
	var (
		col      *engine.Collector
		types    []string
		affected int64
		stmtErr  error
		keep     = true
	)
	for active := true; active; {
		switch m := msgs.Message(ctx).(type) {
		case sqlexp.MsgError:
			if stmtErr == nil {
				stmtErr = m.Error
			}
		case sqlexp.MsgRowsAffected:
			affected += m.Count
		case sqlexp.MsgNext:
			cts, err := rows.ColumnTypes()
			if err != nil {
				_ = rows.Close()
				return nil, err
			}
			first := col == nil
			cols, t := resultColumns(cts)
			if first {
				col, types = engine.NewCollector(cols, lim), t
			}
			vals := make([]any, len(cts))
			ptrs := make([]any, len(cts))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			for rows.Next() {
				if err := rows.Scan(ptrs...); err != nil {
					_ = rows.Close()
					return nil, err
				}
				if first && keep {
					keep = col.Add(e.convertRow(vals, types))
				}
			}
		case sqlexp.MsgNextResultSet:
			active = rows.NextResultSet()
		}
	}
	rerr := rows.Err()
	_ = rows.Close()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if stmtErr != nil {
		return nil, stmtErr
	}
	if rerr != nil {
		return nil, rerr
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit: %w", err)
	}
	committed = true
	if col == nil {
		col = engine.NewCollector([]engine.Column{}, lim)
	}
	res := col.Result()
	res.RowsAffected = affected
	return res, nil
}
