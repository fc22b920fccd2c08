package engine

import (
	"context"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"syscall"
)

// IsNetworkFailure reports the connection-level failures every adapter
// treats as transient (worth a retry, counted by the breaker): refused,
// reset, aborted or unreachable connections, a connection closed under
// the driver, and network errors. A canceled context is not one: the
// caller gave up. Adapters check their driver's own error codes first.
func IsNetworkFailure(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	switch {
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.ECONNABORTED), errors.Is(err, syscall.EHOSTUNREACH),
		errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.ETIMEDOUT),
		errors.Is(err, syscall.EPIPE), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, driver.ErrBadConn):
		return true
	}
	var ne net.Error
	return errors.As(err, &ne)
}
