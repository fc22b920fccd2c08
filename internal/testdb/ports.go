package testdb

import (
	"net"
	"strconv"
	"testing"
)

// ClosedAddr returns a loopback address ("127.0.0.1:port") nothing listens
// on, for tests of a target that is down: connecting is refused at once.
func ClosedAddr(tb testing.TB) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("testdb: listen: %v", err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}

// ClosedPort is ClosedAddr's port.
func ClosedPort(tb testing.TB) int {
	tb.Helper()
	_, port, _ := net.SplitHostPort(ClosedAddr(tb))
	n, _ := strconv.Atoi(port)
	return n
}
