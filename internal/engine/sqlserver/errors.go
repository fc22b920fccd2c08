package sqlserver

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"syscall"
	"time"

	mssql "github.com/microsoft/go-mssqldb"

	"github.com/dap-platform/dap/internal/engine"
)

// SQL Server error numbers the adapter maps to engine error kinds.
const (
	errLockTimeout   = 1222 // lock request time out period exceeded
	errReadOnlyDB    = 3906 // failed to update database because it is read-only
	errBatchAborted  = 3980 // the request failed because the batch was aborted (attention)
	errLoginFailed   = 18456
	errCannotOpenDB  = 4060
	errPermission    = 229 // permission denied on object
	errCreatePerm    = 262 // CREATE ... permission denied in database
	errAGNotReadable = 976 // AG secondary not accessible for queries
)

// loginNumbers are connect-time refusals: the target is unusable until an
// operator fixes credentials or the database, so they are not retried.
var loginNumbers = map[int32]bool{
	errLoginFailed:  true,
	errCannotOpenDB: true,
	18452:           true, // login from untrusted domain
	18486:           true, // account locked out
	18487:           true, // password expired
	18488:           true, // password must be changed
}

// transientNumbers are server states worth a retry: starting up or
// shutting down, too many connections, Azure SQL throttling and failover.
var transientNumbers = map[int32]bool{
	233:              true, // no process on the other end of the pipe
	errAGNotReadable: true,
	983:              true, // AG database role is changing
	10053:            true, // transport-level error: connection aborted
	10054:            true, // transport-level error: connection reset
	10060:            true, // network timeout
	10928:            true, // Azure resource limit
	10929:            true, // Azure resource limit
	17142:            true, // server paused
	17809:            true, // maximum number of user connections reached
	18401:            true, // server in script upgrade mode (starting up)
	40143:            true,
	40197:            true, // Azure service error processing the request
	40501:            true, // Azure service busy
	40613:            true, // Azure database unavailable
	49918:            true,
	49919:            true,
	49920:            true,
}

// isTransient says which connect errors are retried and count against the
// breaker: network failures, resets, timeouts while connecting and
// "server busy/starting" numbers - not bad logins and not SQL errors.
func isTransient(err error) bool {
	if err == nil {
		return false
	}
	var me mssql.Error
	if errors.As(err, &me) {
		return transientNumbers[me.Number]
	}
	if engine.IsNetworkFailure(err) {
		return true
	}
	if errors.Is(err, context.Canceled) {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	// go-mssqldb formats some network failures without wrapping them.
	msg := strings.ToLower(err.Error())
	for _, s := range []string{"connection refused", "connection reset", "i/o timeout", "broken pipe", "unable to open tcp connection"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// isConnLost reports errors that mean the connection itself failed.
func isConnLost(err error) bool {
	var ne net.Error
	return errors.Is(err, driver.ErrBadConn) || errors.Is(err, io.EOF) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.As(err, &ne)
}

// mapError turns a statement error into an engine error kind. ctx is the
// statement's context (its deadline means our timeout fired); secrets are
// bound parameter values to keep out of server messages (a conversion error
// quotes the offending value) plus the DSN password.
func mapError(ctx context.Context, err error, timeout time.Duration, what string, secrets []string) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, engine.ErrTimeout) || errors.Is(err, engine.ErrUnavailable) ||
		errors.Is(err, engine.ErrReadOnly) || errors.Is(err, engine.ErrCanceled) ||
		errors.Is(err, engine.ErrNotFound) || errors.Is(err, engine.ErrInvalid) {
		return err
	}
	var dbe *engine.DBError
	if errors.As(err, &dbe) {
		return err
	}
	if ctx != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: statement exceeded the %s timeout and was cancelled on the server: %w", what, timeout, engine.ErrTimeout)
	}
	if ctx != nil && errors.Is(ctx.Err(), context.Canceled) || errors.Is(err, context.Canceled) {
		return fmt.Errorf("%s: cancelled by the caller; the statement was cancelled on the server: %w", what, engine.ErrCanceled)
	}
	var me mssql.Error
	if errors.As(err, &me) {
		msg := redact(me.Message, secrets...)
		switch {
		case me.Number == errLockTimeout:
			return fmt.Errorf("%s: statement waited longer than the %s lock timeout: %s: %w", what, timeout, msg, engine.ErrTimeout)
		case me.Number == errReadOnlyDB:
			return fmt.Errorf("%s: %s: %w", what, msg, engine.ErrReadOnly)
		case me.Number == errBatchAborted:
			return fmt.Errorf("%s: %s: %w", what, msg, engine.ErrCanceled)
		case loginNumbers[me.Number]:
			return fmt.Errorf("%s: SQL Server refused the login: %s: %w", what, msg, engine.ErrUnavailable)
		case transientNumbers[me.Number]:
			return fmt.Errorf("%s: SQL Server is not accepting work right now: %s: %w", what, msg, engine.ErrUnavailable)
		}
		return &engine.DBError{Code: strconv.Itoa(int(me.Number)), Message: msg}
	}
	if isConnLost(err) {
		return fmt.Errorf("%s: connection to SQL Server lost: %s: %w", what, redact(err.Error(), secrets...), engine.ErrUnavailable)
	}
	return fmt.Errorf("%s: %s", what, redact(err.Error(), secrets...))
}

// argSecrets renders bound values as they may appear in server messages,
// skipping very short ones that would mangle ordinary words.
func argSecrets(args []any, password string) []string {
	return append([]string{password}, engine.BoundTexts(args, 3)...)
}
