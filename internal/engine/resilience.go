package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/failsafe-go/failsafe-go"
	"github.com/failsafe-go/failsafe-go/circuitbreaker"
	"github.com/failsafe-go/failsafe-go/retrypolicy"
)

// ResilienceOptions tune retries and the breaker; zero values take defaults.
type ResilienceOptions struct {
	MaxAttempts      int           // connect attempts per call (default 3)
	BaseDelay        time.Duration // first retry delay (default 100ms), doubled each time
	MaxDelay         time.Duration // cap on a retry delay (default 2s)
	FailureThreshold uint          // consecutive failures that open the breaker (default 5)
	OpenFor          time.Duration // time open before a trial call (default 5s)
}

// Resilience guards the connect step of one target: transient connect
// errors are retried with exponential backoff and jitter, and a circuit
// breaker opened by repeated failures makes a down target answer at once
// with ErrUnavailable, then lets a trial call through to recover by itself.
// Only connection acquisition goes through it: statements are never
// retried, since a write must not run twice.
type Resilience struct {
	name string
	cb   circuitbreaker.CircuitBreaker[any]
	exec failsafe.Executor[any]
}

// NewResilience builds the guard for target name. transient says which
// errors are worth retrying and count against the breaker (refused
// connections, resets, timeouts while connecting - not bad passwords or SQL errors).
func NewResilience(name string, transient func(error) bool, o ResilienceOptions) *Resilience {
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 3
	}
	if o.BaseDelay <= 0 {
		o.BaseDelay = 100 * time.Millisecond
	}
	if o.MaxDelay <= 0 {
		o.MaxDelay = 2 * time.Second
	}
	if o.FailureThreshold == 0 {
		o.FailureThreshold = 5
	}
	if o.OpenFor <= 0 {
		o.OpenFor = 5 * time.Second
	}
	handle := func(_ any, err error) bool { return err != nil && transient(err) }
	rp := retrypolicy.NewBuilder[any]().
		HandleIf(handle).
		WithMaxAttempts(o.MaxAttempts).
		WithBackoff(o.BaseDelay, o.MaxDelay).
		WithJitterFactor(0.25).
		ReturnLastFailure().
		Build()
	cb := circuitbreaker.NewBuilder[any]().
		HandleIf(handle).
		WithFailureThreshold(o.FailureThreshold).
		WithDelay(o.OpenFor).
		Build()
	// The breaker sits inside the retry: once it opens, the remaining
	// attempts fail at once instead of hammering a down server.
	return &Resilience{name: name, cb: cb, exec: failsafe.With[any](rp, cb)}
}

// Do runs connect under retry and breaker. An open breaker yields an
// error wrapping ErrUnavailable without calling connect.
func (r *Resilience) Do(ctx context.Context, connect func(ctx context.Context) error) error {
	err := r.exec.WithContext(ctx).Run(func() error { return connect(ctx) })
	if err == nil {
		return nil
	}
	if errors.Is(err, circuitbreaker.ErrOpen) {
		return fmt.Errorf("target %s: circuit breaker open after repeated connection failures, retry in a few seconds: %w", r.name, ErrUnavailable)
	}
	if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(err, ErrUnavailable) {
		return fmt.Errorf("target %s: connect: %w", r.name, errors.Join(ErrCanceled, ctxErr))
	}
	return err
}

// State is the breaker state: closed, open or half-open.
func (r *Resilience) State() string {
	switch {
	case r.cb.IsOpen():
		return "open"
	case r.cb.IsHalfOpen():
		return "half-open"
	}
	return "closed"
}
