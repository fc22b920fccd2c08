package app

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/dap-platform/dap/internal/engine"
)

// SelfTest proves a read-only target's database refuses writes through
// the adapter's read-only machinery. Adapters without the capability are
// reported as unverified, which is not a failure.
func SelfTest(ctx context.Context, e engine.Engine) error {
	st, ok := e.(engine.SelfTester)
	if !ok {
		return nil
	}
	if err := st.SelfTestReadOnly(ctx); err != nil {
		return fmt.Errorf("read-only self-test: %w", err)
	}
	return nil
}

// deferredSelfTest runs the read-only self-test before the first statement
// of a target that was down when DAP started; until it passes, statements
// are refused. Catalog reads pass through (they run read-only anyway).
type deferredSelfTest struct {
	engine.Engine
	mu     sync.Mutex
	passed bool
	failed error // set once the database accepted a write: final
}

func deferSelfTest(e engine.Engine) engine.Engine { return &deferredSelfTest{Engine: e} }

func (d *deferredSelfTest) ensure(ctx context.Context) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.passed {
		return nil
	}
	if d.failed != nil {
		return d.failed
	}
	err := SelfTest(ctx, d.Engine)
	switch {
	case err == nil:
		d.passed = true
		return nil
	case errors.Is(err, engine.ErrUnavailable), errors.Is(err, engine.ErrCanceled), ctx.Err() != nil:
		return err
	}
	d.failed = fmt.Errorf("target refused: %w", err)
	return d.failed
}

func (d *deferredSelfTest) Query(ctx context.Context, q engine.Query, lim engine.Limits) (*engine.Result, error) {
	if err := d.ensure(ctx); err != nil {
		return nil, err
	}
	return d.Engine.Query(ctx, q, lim)
}

func (d *deferredSelfTest) Explain(ctx context.Context, sql string, analyze bool, lim engine.Limits) (*engine.Plan, error) {
	if err := d.ensure(ctx); err != nil {
		return nil, err
	}
	return d.Engine.Explain(ctx, sql, analyze, lim)
}

func (d *deferredSelfTest) CallProcedure(ctx context.Context, r engine.Routine, args []any, readOnly bool, lim engine.Limits) (*engine.Result, error) {
	if err := d.ensure(ctx); err != nil {
		return nil, err
	}
	return d.Engine.CallProcedure(ctx, r, args, readOnly, lim)
}

// DefaultSchema passes through to adapters that have it.
func (d *deferredSelfTest) DefaultSchema(ctx context.Context) (string, error) {
	if ds, ok := d.Engine.(interface {
		DefaultSchema(context.Context) (string, error)
	}); ok {
		return ds.DefaultSchema(ctx)
	}
	return "", nil
}
