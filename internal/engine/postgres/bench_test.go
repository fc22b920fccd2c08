package postgres

import (
	"context"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/dap-platform/dap/internal/engine"
)

// benchSQL is a 100-row indexed range over the 100k-row orders table.
const benchSQL = "SELECT id, customer_id, amount, status, created_at FROM orders WHERE id BETWEEN $1 AND $1 + 99"

// benchParallelism gives about 16 goroutines whatever GOMAXPROCS is.
func benchParallelism() int { return max(1, 16/runtime.GOMAXPROCS(0)) }

func BenchmarkQueryReadOnly100Rows(b *testing.B) {
	e := open(b, fixture(b), 16)
	ctx := context.Background()
	b.SetParallelism(benchParallelism())
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			res, err := e.Query(ctx, engine.Query{SQL: benchSQL, Args: []any{1 + rand.IntN(99_000)}, ReadOnly: true}, engine.Limits{})
			if err != nil || len(res.Rows) != 100 {
				b.Errorf("Query: %v", err)
				return
			}
		}
	})
}

func BenchmarkRawPgx100Rows(b *testing.B) {
	cfg, err := pgxpool.ParseConfig(fixture(b))
	if err != nil {
		b.Fatal(err)
	}
	cfg.MaxConns = 16
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer pool.Close()
	ctx := context.Background()
	b.SetParallelism(benchParallelism())
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			rows, err := pool.Query(ctx, benchSQL, 1+rand.IntN(99_000))
			if err != nil {
				b.Errorf("Query: %v", err)
				return
			}
			n := 0
			for rows.Next() {
				if _, err := rows.Values(); err != nil {
					b.Errorf("Values: %v", err)
				}
				n++
			}
			rows.Close()
			if rows.Err() != nil || n != 100 {
				b.Errorf("rows: %v, %d", rows.Err(), n)
				return
			}
		}
	})
}
