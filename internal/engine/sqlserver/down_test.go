package sqlserver

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dap-platform/dap/internal/engine"
	"github.com/dap-platform/dap/internal/testdb"
)

// TestDownTarget needs no server: a closed port must fail fast with
// ErrUnavailable, without the password, and open the breaker so later
// calls fail at once.
func TestDownTarget(t *testing.T) {
	dsn := "sqlserver://sa:" + testPassword + "@127.0.0.1:" + strconv.Itoa(testdb.ClosedPort(t)) + "?database=shop&dial+timeout=2"
	e, err := Open(context.Background(), engine.Options{Name: "shop", DSN: dsn})
	if err != nil {
		t.Fatalf("Open must not fail for a down server: %v", err)
	}
	defer e.Close()
	ctx := context.Background()

	start := time.Now()
	err = e.Ping(ctx)
	if !errors.Is(err, engine.ErrUnavailable) {
		t.Fatalf("Ping = %v, want ErrUnavailable", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("first failure took %v, want < 2s", d)
	}
	checkNoSecret(t, err)
	t.Logf("first error: %v", err)

	// Each call makes up to 3 attempts; the breaker opens after 5 failures.
	calls := []func() error{
		func() error {
			_, err := e.Query(ctx, engine.Query{SQL: "SELECT 1", ReadOnly: true}, engine.Limits{})
			return err
		},
		func() error { _, err := e.Tables(ctx, ""); return err },
		func() error { _, err := e.ServerVersion(ctx); return err },
		func() error { _, err := e.Explain(ctx, "SELECT 1", false, engine.Limits{}); return err },
		func() error {
			_, err := e.CallProcedure(ctx, engine.Routine{Schema: "dbo", Name: "p", Kind: "procedure"}, nil, true, engine.Limits{})
			return err
		},
		func() error { return e.SelfTestReadOnly(ctx) },
	}
	for i := 0; e.BreakerState() != "open" && i < len(calls); i++ {
		err := calls[i]()
		if !errors.Is(err, engine.ErrUnavailable) {
			t.Fatalf("call %d = %v, want ErrUnavailable", i, err)
		}
		checkNoSecret(t, err)
	}
	if st := e.BreakerState(); st != "open" {
		t.Fatalf("breaker state = %s, want open", st)
	}
	for i, call := range calls {
		start = time.Now()
		err := call()
		if d := time.Since(start); d > 50*time.Millisecond {
			t.Errorf("call %d with the breaker open took %v, want < 50ms", i, d)
		}
		if !errors.Is(err, engine.ErrUnavailable) || !strings.Contains(err.Error(), "circuit breaker open") {
			t.Errorf("call %d = %v, want the breaker's ErrUnavailable", i, err)
		}
		checkNoSecret(t, err)
	}
}

func checkNoSecret(t *testing.T, err error) {
	t.Helper()
	if err != nil && strings.Contains(err.Error(), testPassword) {
		t.Errorf("error leaks the password: %v", err)
	}
}
