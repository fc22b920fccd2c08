package engine

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

var errRefused = errors.New("connection refused")

func transient(err error) bool { return errors.Is(err, errRefused) }

// TestResilienceRetriesOpensAndRecovers drives the retry and breaker with a
// connect function that fails until told otherwise: transient failures are
// retried with backoff, repeated failures open the breaker (calls then fail
// at once with ErrUnavailable, without connecting), and after the open
// period a trial call that succeeds closes it again.
func TestResilienceRetriesOpensAndRecovers(t *testing.T) {
	r := NewResilience("t", transient, ResilienceOptions{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond, FailureThreshold: 4, OpenFor: 150 * time.Millisecond})
	var calls atomic.Int32
	var up atomic.Bool
	connect := func(context.Context) error {
		calls.Add(1)
		if up.Load() {
			return nil
		}
		return errRefused
	}
	ctx := context.Background()

	// First call: three attempts, all refused.
	if err := r.Do(ctx, connect); !errors.Is(err, errRefused) {
		t.Fatalf("first call: %v, want the connect error", err)
	}
	if n := calls.Load(); n != 3 {
		t.Fatalf("first call made %d attempts, want 3", n)
	}
	// Second call: the fourth failure opens the breaker mid-retry.
	err := r.Do(ctx, connect)
	if !errors.Is(err, ErrUnavailable) || r.State() != "open" {
		t.Fatalf("second call: %v (state %s), want ErrUnavailable with the breaker open", err, r.State())
	}
	// While open: no connect attempt, an immediate clear error.
	before := calls.Load()
	start := time.Now()
	err = r.Do(ctx, connect)
	if !errors.Is(err, ErrUnavailable) || calls.Load() != before || time.Since(start) > 50*time.Millisecond {
		t.Fatalf("open breaker: err %v, %d new attempts, %v", err, calls.Load()-before, time.Since(start))
	}
	// The server comes back; after the open period a trial call closes it.
	up.Store(true)
	deadline := time.Now().Add(3 * time.Second)
	for r.Do(ctx, connect) != nil {
		if time.Now().After(deadline) {
			t.Fatalf("breaker did not recover; state %s", r.State())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if r.State() != "closed" {
		t.Fatalf("state after recovery: %s", r.State())
	}
}

// TestResilienceIgnoresNonTransient: a bad password is not retried and does
// not open the breaker.
func TestResilienceIgnoresNonTransient(t *testing.T) {
	r := NewResilience("t", transient, ResilienceOptions{MaxAttempts: 3, BaseDelay: time.Millisecond, FailureThreshold: 2})
	auth := errors.New("password authentication failed")
	var calls int
	for i := 0; i < 5; i++ {
		if err := r.Do(context.Background(), func(context.Context) error { calls++; return auth }); !errors.Is(err, auth) {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	if calls != 5 || r.State() != "closed" {
		t.Fatalf("%d attempts for 5 calls, breaker %s; want 5 and closed", calls, r.State())
	}
}

func TestCollectorCaps(t *testing.T) {
	c := NewCollector([]Column{{Name: "v", Type: "text"}}, Limits{MaxRows: 2})
	if !c.Add([]any{"a"}) || !c.Add([]any{"b"}) || c.Add([]any{"c"}) {
		t.Fatal("row cap")
	}
	if r := c.Result(); len(r.Rows) != 2 || !r.Truncated || r.TruncatedBy != "max_rows" {
		t.Fatalf("result %+v", r)
	}
	c = NewCollector([]Column{{Name: "v"}}, Limits{MaxBytes: 10})
	if !c.Add([]any{"abc"}) || c.Add([]any{"0123456789"}) {
		t.Fatal("byte cap")
	}
	if r := c.Result(); len(r.Rows) != 1 || r.TruncatedBy != "max_result_bytes" {
		t.Fatalf("result %+v", r)
	}
}

func TestJSONValue(t *testing.T) {
	ts := time.Date(2024, 1, 31, 12, 0, 0, 5, time.UTC)
	for _, tc := range []struct {
		in   any
		want any
	}{
		{nil, nil}, {"s", "s"}, {true, true}, {[]byte{1, 2, 255}, "AQL/"},
		{int64(1 << 53), "9007199254740992"}, {int64(1<<53 - 1), int64(1<<53 - 1)}, {uint64(1 << 60), "1152921504606846976"},
		{int32(-5), int64(-5)}, {3.5, 3.5}, {ts, "2024-01-31T12:00:00.000000005Z"},
	} {
		if got := JSONValue(tc.in); got != tc.want {
			t.Errorf("JSONValue(%#v) = %#v, want %#v", tc.in, got, tc.want)
		}
	}
}

func TestRedactBound(t *testing.T) {
	ts := time.Date(2024, 1, 31, 12, 30, 0, 0, time.UTC)
	msg := `invalid input "alice@example.com" near 2024-01-31 12:30:00 for 7 and 12345`
	got := RedactBound(msg, []any{"alice@example.com", ts, 7, int64(12345), nil, []byte("")}, 3, "?")
	if want := `invalid input "?" near ? for 7 and ?`; got != want {
		t.Errorf("RedactBound = %q, want %q", got, want)
	}
}

func TestIsNetworkFailure(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{fmt.Errorf("dial: %w", syscall.ECONNREFUSED), true},
		{fmt.Errorf("read: %w", io.ErrUnexpectedEOF), true},
		{&net.OpError{Op: "dial", Net: "tcp", Err: errors.New("no route")}, true},
		{driver.ErrBadConn, true},
		{fmt.Errorf("gave up: %w", context.Canceled), false},
		{errors.New("password authentication failed"), false},
	} {
		if got := IsNetworkFailure(tc.err); got != tc.want {
			t.Errorf("IsNetworkFailure(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
