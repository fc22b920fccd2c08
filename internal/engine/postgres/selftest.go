package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/dap-platform/dap/internal/engine"
)

// SelfTestReadOnly implements engine.SelfTester: through the same
// read-only batch Query uses, it tries to create a temp table. nil means
// the database refused the write.
func (e *Engine) SelfTestReadOnly(ctx context.Context) error {
	_, err := e.run(ctx, "CREATE TEMP TABLE dap_self_test_read_only (x int)", nil, true, engine.Limits{})
	switch {
	case errors.Is(err, engine.ErrReadOnly):
		return nil
	case err == nil:
		return fmt.Errorf("target %s: DANGER: PostgreSQL accepted a write inside a read-only transaction (it was rolled back); read-only enforcement is not working, do not serve this target as read-only", e.name)
	}
	return fmt.Errorf("target %s: read-only self-test could not run: %w", e.name, err)
}
