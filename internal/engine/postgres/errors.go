package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/dap-platform/dap/internal/engine"
)

// SQLSTATEs the adapter treats specially.
const (
	stateQueryCanceled      = "57014"
	stateReadOnlyTx         = "25006"
	stateTooManyConnections = "53300"
	stateAdminShutdown      = "57P01"
	stateCrashShutdown      = "57P02"
	stateCannotConnectNow   = "57P03"
)

// isTransient says which connect failures are worth a retry and count
// against the breaker: refused or reset connections, timeouts while
// connecting, a full server, a server starting up or shutting down. Bad
// passwords, unknown databases and SQL errors are not.
func isTransient(err error) bool {
	if err == nil {
		return false
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case stateTooManyConnections, stateAdminShutdown, stateCrashShutdown, stateCannotConnectNow:
			return true
		}
		return strings.HasPrefix(pe.Code, "08")
	}
	if engine.IsNetworkFailure(err) {
		return true
	}
	if errors.Is(err, context.DeadlineExceeded) {
		// a connect timeout (connect_timeout) surfaces as a deadline
		var ce *pgconn.ConnectError
		return errors.As(err, &ce)
	}
	return false
}

// connectReason is a connect error's text for the caller. pgconn's
// ConnectError names user, database and address, never the password.
func connectReason(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Message + " (" + pe.Code + ")"
	}
	return err.Error()
}

// mapError turns a statement error into an engine error kind. parent is
// the caller's context (to tell a caller giving up from a timeout);
// timeout is the statement limit for the message; args are redacted from
// server messages, which sometimes quote an offending value.
func (e *Engine) mapError(parent context.Context, err error, timeout time.Duration, args []any) error {
	if err == nil {
		return nil
	}
	if perr := parent.Err(); perr != nil {
		if errors.Is(perr, context.DeadlineExceeded) {
			return fmt.Errorf("target %s: the caller's deadline passed while the statement ran; it was cancelled on the server: %w", e.name, engine.ErrTimeout)
		}
		return fmt.Errorf("target %s: statement cancelled on the server because the caller gave up: %w", e.name, errors.Join(engine.ErrCanceled, perr))
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == stateQueryCanceled:
			return timeoutError(e.name, timeout)
		case pe.Code == stateReadOnlyTx:
			return fmt.Errorf("target %s: %s: %w", e.name, redact(pe.Message, args), engine.ErrReadOnly)
		case pe.Code == stateAdminShutdown || pe.Code == stateCrashShutdown || pe.Code == stateCannotConnectNow ||
			pe.Code == stateTooManyConnections || strings.HasPrefix(pe.Code, "08"):
			return fmt.Errorf("target %s: %s (%s): %w", e.name, pe.Message, pe.Code, engine.ErrUnavailable)
		}
		msg := redact(pe.Message, args)
		if pe.Hint != "" {
			msg += " (hint: " + redact(pe.Hint, args) + ")"
		}
		return &engine.DBError{Code: pe.Code, Message: msg}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		// our own deadline (timeout + grace) fired: the server-side
		// timeout did not, and pgx cancelled the statement on the server
		return timeoutError(e.name, timeout)
	}
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("target %s: statement cancelled: %w", e.name, errors.Join(engine.ErrCanceled, err))
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) || isTransient(err) || errors.Is(err, pgconn.ErrConnClosed) || pgconn.SafeToRetry(err) {
		return fmt.Errorf("target %s: connection to PostgreSQL lost: %s: %w", e.name, connectReason(err), engine.ErrUnavailable)
	}
	return fmt.Errorf("target %s: %s", e.name, redact(err.Error(), args))
}

func timeoutError(name string, timeout time.Duration) error {
	if timeout <= 0 {
		return fmt.Errorf("target %s: statement timed out and was cancelled on the server: %w", name, engine.ErrTimeout)
	}
	return fmt.Errorf("target %s: statement exceeded the %s timeout and was cancelled on the server: %w", name, timeout, engine.ErrTimeout)
}

// redact removes the text of bound values from a server message (for
// example `invalid input syntax for type integer: "abc"` where abc was a
// parameter). Short values are left alone: replacing "1" would garble
// the message and says little.
func redact(msg string, args []any) string {
	return engine.RedactBound(msg, args, 3, "[bound value]")
}
