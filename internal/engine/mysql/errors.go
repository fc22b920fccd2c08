package mysql

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	mysqldrv "github.com/go-sql-driver/mysql"

	"github.com/dap-platform/dap/internal/engine"
)

// Server error numbers DAP maps to error kinds.
const (
	erConCount             = 1040 // too many connections
	erDBAccessDenied       = 1044
	erServerShutdown       = 1053
	erTableAccessDenied    = 1142
	erSpecificAccess       = 1227
	erDupEntry             = 1062
	erQueryInterrupted     = 1317
	erReadOnlyTransaction  = 1792 // ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION
	erConnectionKilled     = 1927 // MariaDB
	erStatementTimeout     = 1969 // MariaDB ER_STATEMENT_TIMEOUT
	erQueryTimeout         = 3024 // MySQL ER_QUERY_TIMEOUT
	crConnectionError      = 2002
	crConnHostError        = 2003
	crServerGone           = 2006
	crServerLost           = 2013
	erTooManyUserConns     = 1203
	erServerStartingUp     = 1105 // generic; only transient when its text says so
	mariaServerStartingMsg = "starting up"
)

// isTransient says which connect errors are worth retrying and count
// against the breaker: refused or reset connections, timeouts while
// connecting, too many connections, a server starting or shutting down.
// Bad passwords and SQL errors are not.
func isTransient(err error) bool {
	if err == nil {
		return false
	}
	var me *mysqldrv.MySQLError
	if errors.As(err, &me) {
		switch me.Number {
		case erConCount, erTooManyUserConns, erServerShutdown, erConnectionKilled,
			crConnectionError, crConnHostError, crServerGone, crServerLost:
			return true
		case erServerStartingUp:
			return strings.Contains(strings.ToLower(me.Message), mariaServerStartingMsg)
		}
		return false
	}
	return errors.Is(err, mysqldrv.ErrInvalidConn) || engine.IsNetworkFailure(err)
}

// connectError wraps a failed acquisition: every connect failure is
// ErrUnavailable (the breaker already says so when open).
func (e *Engine) connectError(ctx context.Context, err error) error {
	if errors.Is(err, engine.ErrUnavailable) || errors.Is(err, engine.ErrCanceled) {
		return err
	}
	if ctx.Err() != nil {
		return fmt.Errorf("target %s: connect: %w", e.name, errors.Join(engine.ErrCanceled, ctx.Err()))
	}
	return fmt.Errorf("target %s: cannot connect (%w): %s", e.name, engine.ErrUnavailable, connectCause(err))
}

// connectCause is a short, safe description of a connect failure.
func connectCause(err error) string {
	var me *mysqldrv.MySQLError
	if errors.As(err, &me) {
		return fmt.Sprintf("%s (%d)", me.Message, me.Number)
	}
	return err.Error()
}

// mapError turns a statement error into an engine kind. ctx is the
// caller's context, qctx the statement's (caller's plus the client
// deadline); args are redacted from server messages.
func (e *Engine) mapError(ctx, qctx context.Context, err error, lim engine.Limits, args []any) error {
	if errors.Is(err, engine.ErrUnavailable) || errors.Is(err, engine.ErrCanceled) ||
		errors.Is(err, engine.ErrNotFound) || errors.Is(err, engine.ErrInvalid) {
		return err
	}
	if ctx.Err() != nil {
		return fmt.Errorf("target %s: statement canceled by the caller, and stopped on the server: %w", e.name, errors.Join(engine.ErrCanceled, ctx.Err()))
	}
	timeoutErr := func() error {
		return fmt.Errorf("target %s: statement exceeded the %s timeout and was stopped on the server; narrow the query or raise the limit: %w",
			e.name, fmtDuration(lim.Timeout), engine.ErrTimeout)
	}
	var me *mysqldrv.MySQLError
	if errors.As(err, &me) {
		switch me.Number {
		case erStatementTimeout, erQueryTimeout, erQueryInterrupted:
			return timeoutErr()
		case erReadOnlyTransaction:
			return fmt.Errorf("target %s: %s: %w", e.name, me.Message, engine.ErrReadOnly)
		case erConCount, erTooManyUserConns, erServerShutdown, erConnectionKilled, crServerGone, crServerLost:
			return fmt.Errorf("target %s: %s (%d): %w", e.name, me.Message, me.Number, engine.ErrUnavailable)
		}
		return fmt.Errorf("target %s: %w", e.name, &engine.DBError{
			Code:    strconv.Itoa(int(me.Number)),
			Message: redactArgs(me.Number, me.Message, args),
		})
	}
	if qctx != nil && errors.Is(qctx.Err(), context.DeadlineExceeded) {
		return timeoutErr()
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return timeoutErr()
	}
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("target %s: %w", e.name, errors.Join(engine.ErrCanceled, err))
	}
	if isTransient(err) {
		return fmt.Errorf("target %s: connection lost (%w): %s", e.name, engine.ErrUnavailable, err.Error())
	}
	return fmt.Errorf("target %s: %w", e.name, err)
}

func fmtDuration(d time.Duration) string {
	if d <= 0 {
		d = engine.DefaultTimeout
	}
	return d.String()
}

// redactArgs removes bound values from a server message (e.g. "Duplicate
// entry 'alice@example.com' for key ..."): quoted occurrences of any
// argument, bare occurrences of longer text arguments, and the whole entry
// of a duplicate-key message.
func redactArgs(number uint16, msg string, args []any) string {
	if number == erDupEntry {
		if i := strings.Index(msg, "'"); i >= 0 {
			if j := strings.Index(msg[i+1:], "' for key"); j >= 0 {
				msg = msg[:i] + "'?'" + msg[i+1+j+1:]
			}
		}
	}
	for _, s := range engine.BoundTexts(args, 1) {
		msg = strings.ReplaceAll(msg, "'"+s+"'", "'?'")
		if len(s) >= 4 {
			msg = strings.ReplaceAll(msg, s, "?")
		}
	}
	return msg
}
