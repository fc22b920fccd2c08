package mysql

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"strconv"
	"strings"
	"time"

	"github.com/dap-platform/dap/internal/engine"
)

const (
	// After a cap is reached the rest of a MySQL result can only be
	// skipped by reading it or by dropping the statement. Up to drainRows
	// rows or drainTime are skipped cheaply so that a result just over the
	// cap keeps its connection; past that the statement is killed.
	drainRows = 1000
	drainTime = 5 * time.Millisecond
	killWait  = 3 * time.Second
)

// session is one statement's use of a pooled connection.
type session struct {
	e        *Engine
	ctx      context.Context // the statement context: caller's plus the client deadline
	conn     *sql.Conn
	tc       *trackedConn
	readOnly bool
	discard  bool // close the connection instead of pooling it
}

// txOpts say how run sets up the transaction.
type txOpts struct {
	readOnly bool
	timeout  time.Duration
	discard  bool // the statement may change session state
	args     []any
}

// run executes fn on a pooled connection inside DAP's transaction:
// read-only (session flag + START TRANSACTION READ ONLY, always rolled
// back) or read-write (committed when fn succeeds), with the server-side
// statement timeout. When the statement context ends before run is done
// (caller gave up, client deadline), the statement is killed on the server
// with KILL QUERY from a side connection and the connection is discarded.
// Errors come back mapped to the engine kinds.
func (e *Engine) run(ctx context.Context, o txOpts, fn func(s *session) error) error {
	if e.access == engine.ReadOnly {
		// Defence in depth: a read-only target never runs read-write.
		o.readOnly = true
	}
	sc, tc, err := e.acquire(ctx)
	if err != nil {
		return err
	}
	limit := o.timeout
	if tc.flavour.serverTimeoutCovers(o.readOnly) {
		limit += grace
	}
	qctx, cancel := context.WithTimeout(ctx, limit)
	killed := make(chan struct{})
	stopKill := context.AfterFunc(qctx, func() {
		defer close(killed)
		e.kill(tc.id)
	})
	s := &session{e: e, ctx: qctx, conn: sc, tc: tc, readOnly: o.readOnly, discard: o.discard || !o.readOnly}

	err = s.begin(o.timeout)
	if err == nil {
		err = fn(s)
		err = s.end(err)
	}
	if !stopKill() {
		// The statement context ended while the connection was in use:
		// wait for the kill so the connection never returns to the pool
		// (or to anyone) with a KILL still in flight.
		<-killed
		s.discard = true
	} else if qctx.Err() != nil {
		// The context ended but its cancellation had not yet reached the
		// AfterFunc when we stopped it (the driver saw Done first).
		e.kill(tc.id)
		s.discard = true
	}
	cancel()
	release(sc, s.discard)
	if err != nil {
		return e.mapError(ctx, qctx, err, engine.Limits{Timeout: o.timeout}, o.args)
	}
	return nil
}

// begin applies the session settings (re-sent only when they change) and
// opens the transaction.
func (s *session) begin(timeout time.Duration) error {
	if s.readOnly {
		if s.tc.roTimeout != timeout {
			s.tc.roTimeout = 0
			if _, err := s.conn.ExecContext(s.ctx, s.tc.flavour.sessionSQL(true, timeout)); err != nil {
				return err
			}
			s.tc.roTimeout = timeout
		}
		_, err := s.conn.ExecContext(s.ctx, "START TRANSACTION READ ONLY")
		return err
	}
	// Write mode: the connection is discarded afterwards, so its session
	// can simply be switched to read-write (DDL commits implicitly and then
	// runs under the session default, which must not be read-only here).
	s.tc.roTimeout = 0
	if _, err := s.conn.ExecContext(s.ctx, s.tc.flavour.sessionSQL(false, timeout)); err != nil {
		return err
	}
	_, err := s.conn.ExecContext(s.ctx, "START TRANSACTION READ WRITE")
	return err
}

// end commits a successful write and rolls back everything else.
func (s *session) end(err error) error {
	if s.ctx.Err() != nil {
		// The driver has closed the socket; the server rolls back.
		s.discard = true
		return err
	}
	if s.readOnly {
		if s.discard {
			// Dropping the connection rolls back, and a kill sent after a
			// cap cannot hit a ROLLBACK with a stale flag.
			return err
		}
		if _, rerr := s.conn.ExecContext(s.ctx, "ROLLBACK"); rerr != nil {
			s.discard = true
			if err == nil {
				return rerr
			}
		}
		return err
	}
	if err != nil {
		_, _ = s.conn.ExecContext(s.ctx, "ROLLBACK")
		return err
	}
	_, err = s.conn.ExecContext(s.ctx, "COMMIT")
	return err
}

// kill stops the statement running on connection id, from a fresh side
// connection so it cannot wait behind a full pool. Failures are ignored:
// the server-side timeout still bounds the statement.
func (e *Engine) kill(id uint64) {
	ctx, cancel := context.WithTimeout(context.Background(), killWait)
	defer cancel()
	dc, err := e.base.Connect(ctx)
	if err != nil {
		return
	}
	defer dc.Close()
	if ex, ok := dc.(driver.ExecerContext); ok {
		// id is our own CONNECTION_ID(), a number; KILL takes no placeholder.
		_, _ = ex.ExecContext(ctx, "KILL QUERY "+strconv.FormatUint(id, 10), nil)
	}
}

// stream runs one statement and collects its first result set (the first
// one with columns; a CALL may start with none) under the caps; any later
// result sets are drained so the connection is clean.
func (s *session) stream(query string, args []any, lim engine.Limits) (*engine.Result, error) {
	rows, err := s.conn.QueryContext(s.ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for {
		cts, err := rows.ColumnTypes()
		if err != nil {
			return nil, err
		}
		if len(cts) > 0 {
			res, cut, err := s.collect(rows, cts, lim)
			if err != nil {
				return nil, err
			}
			if cut {
				return res, s.stopEarly(rows)
			}
			// Drain later result sets (a CALL's status, extra SELECTs) so
			// the connection is clean.
			for rows.NextResultSet() {
				for rows.Next() {
				}
			}
			return res, closeRows(rows)
		}
		if !rows.NextResultSet() {
			break
		}
	}
	return engine.NewCollector([]engine.Column{}, lim).Result(), closeRows(rows)
}

func closeRows(rows *sql.Rows) error {
	if err := rows.Err(); err != nil {
		return err
	}
	return rows.Close()
}

// collect streams rows into a collector and stops at the first refused row.
func (s *session) collect(rows *sql.Rows, cts []*sql.ColumnType, lim engine.Limits) (*engine.Result, bool, error) {
	cols := make([]engine.Column, len(cts))
	kinds := make([]kind, len(cts))
	for i, ct := range cts {
		tn := ct.DatabaseTypeName()
		cols[i] = engine.Column{Name: ct.Name(), Type: strings.ToLower(tn)}
		kinds[i] = kindOf(tn)
	}
	c := engine.NewCollector(cols, lim)
	vals := make([]any, len(cts))
	ptrs := make([]any, len(cts))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, false, err
		}
		row := make([]any, len(vals))
		for i, v := range vals {
			row[i] = convert(kinds[i], v)
		}
		if !c.Add(row) {
			return c.Result(), true, nil
		}
	}
	return c.Result(), false, rows.Err()
}

// stopEarly ends a result that hit a cap without reading all of it.
func (s *session) stopEarly(rows *sql.Rows) error {
	if !s.readOnly {
		// A write's own output (RETURNING): killing it would abort the
		// write, so let the driver skip the rest.
		_ = rows.Close()
		return nil
	}
	deadline := time.Now().Add(drainTime)
	for range drainRows {
		if !rows.Next() {
			if rows.Err() != nil {
				s.discard = true
			}
			_ = rows.Close()
			return nil
		}
		if time.Now().After(deadline) {
			break
		}
	}
	// Too much left: stop the statement on the server; the driver then
	// only reads what is already in flight before the error packet.
	s.e.kill(s.tc.id)
	s.discard = true
	_ = rows.Close()
	return nil
}

// mayChangeSession is a conservative test for read-only statement text that
// could leave state on a pooled connection (user variables, SET, USE,
// named locks, prepared statements); such connections are discarded.
func mayChangeSession(query string) bool {
	if strings.ContainsAny(query, "@") || strings.Contains(query, ":=") {
		return true
	}
	lower := strings.ToLower(query)
	for _, w := range sessionWords {
		for i := 0; ; {
			j := strings.Index(lower[i:], w)
			if j < 0 {
				break
			}
			j += i
			end := j + len(w)
			if (j == 0 || !identChar(lower[j-1])) && (end == len(lower) || !identChar(lower[end])) {
				return true
			}
			i = end
		}
	}
	return false
}

var sessionWords = []string{"set", "use", "get_lock", "lock", "prepare", "execute", "handler", "temporary", "call"}

func identChar(b byte) bool {
	return b == '_' || b == '$' || b >= '0' && b <= '9' || b >= 'a' && b <= 'z' || b >= 0x80
}
