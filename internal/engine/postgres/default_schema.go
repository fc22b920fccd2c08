package postgres

import (
	"context"

	"github.com/dap-platform/dap/internal/engine"
	"github.com/jackc/pgx/v5"
)

// DefaultSchema is the schema unqualified names resolve to first
// (current_schema(), from the role's search_path).
func (e *Engine) DefaultSchema(ctx context.Context) (string, error) {
	var out string
	err := e.readTx(ctx, engine.Limits{}, func(ctx context.Context, tx pgx.Tx) error {
		return tx.QueryRow(ctx, "SELECT coalesce(current_schema(), '')").Scan(&out)
	})
	return out, err
}
