package mysql

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dap-platform/dap/internal/engine"
)

// Query runs one statement. Read-only statements run in the read-only
// session and transaction and are always rolled back; others run in a
// read-write transaction that is committed, report RowsAffected, and their
// connection is discarded afterwards.
func (e *Engine) Query(ctx context.Context, q engine.Query, lim engine.Limits) (*engine.Result, error) {
	lim = lim.WithDefaults()
	start := time.Now()
	var res *engine.Result
	o := txOpts{readOnly: q.ReadOnly, timeout: lim.Timeout, args: q.Args, discard: q.ReadOnly && mayChangeSession(q.SQL)}
	err := e.run(ctx, o, func(s *session) error {
		r, err := s.stream(q.SQL, q.Args, lim)
		if err != nil {
			return err
		}
		if !s.readOnly {
			if r.RowsAffected, err = s.rowCount(); err != nil {
				return err
			}
		}
		res = r
		return nil
	})
	if err != nil {
		return nil, err
	}
	res.Elapsed = time.Since(start)
	return res, nil
}

// rowCount reads ROW_COUNT() of the previous statement (the driver does not
// expose the affected-rows count of a statement run through QueryContext).
// Negative values (a SELECT) become 0.
func (s *session) rowCount() (int64, error) {
	var n int64
	if err := s.conn.QueryRowContext(s.ctx, "SELECT ROW_COUNT()").Scan(&n); err != nil {
		return 0, fmt.Errorf("read affected rows: %w", err)
	}
	return max(n, 0), nil
}

// selfTestSQL is the harmless write: a temporary table, which needs no
// user table, implies no commit, and disappears with the connection (which
// is discarded whatever happens).
const selfTestSQL = "CREATE TEMPORARY TABLE dap_read_only_self_test (i INT)"

// SelfTestReadOnly proves the read-only machinery: a harmless write inside
// it must be refused by the database. A refusal for lack of privileges
// also counts as refused.
func (e *Engine) SelfTestReadOnly(ctx context.Context) error {
	err := e.run(ctx, txOpts{readOnly: true, timeout: 10 * time.Second, discard: true}, func(s *session) error {
		_, err := s.stream(selfTestSQL, nil, engine.Limits{})
		return err
	})
	var dbErr *engine.DBError
	switch {
	case errors.Is(err, engine.ErrReadOnly):
		return nil
	case errors.As(err, &dbErr) && isPrivilegeError(dbErr.Code):
		return nil
	case err == nil:
		return fmt.Errorf("target %s: DANGER: the database accepted a write (%s) inside DAP's read-only transaction; it does not enforce read-only mode, do not serve this target as read-only", e.name, selfTestSQL)
	}
	return fmt.Errorf("target %s: read-only self-test could not run: %w", e.name, err)
}

func isPrivilegeError(code string) bool {
	switch code {
	case fmt.Sprint(erDBAccessDenied), fmt.Sprint(erTableAccessDenied), fmt.Sprint(erSpecificAccess):
		return true
	}
	return false
}
