package mysql

import (
	"context"
	"database/sql"
	"runtime"
	"testing"

	"github.com/dap-platform/dap/internal/engine"
)

const bench100Rows = "SELECT id, v, pad FROM big WHERE id <= 100"

// parallel16 runs body from about 16 goroutines whatever GOMAXPROCS is.
func parallel16(b *testing.B, body func(ctx context.Context) error) {
	b.Helper()
	procs := runtime.GOMAXPROCS(0)
	b.SetParallelism((16 + procs - 1) / procs)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			if err := body(ctx); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkQueryReadOnly100Rows is the adapter's full read path: session
// settings (cached), START TRANSACTION READ ONLY, query, conversion,
// ROLLBACK.
func BenchmarkQueryReadOnly100Rows(b *testing.B) {
	f := env(b)
	parallel16(b, func(ctx context.Context) error {
		res, err := f.eng.Query(ctx, engine.Query{SQL: bench100Rows, ReadOnly: true}, engine.Limits{})
		if err == nil && len(res.Rows) != 100 {
			b.Errorf("rows = %d", len(res.Rows))
		}
		return err
	})
}

// BenchmarkRawSQL100Rows is the same SELECT through plain database/sql
// with the same pool size, as the baseline.
func BenchmarkRawSQL100Rows(b *testing.B) {
	f := env(b)
	db, err := sql.Open("mysql", f.dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(defaultMaxConns)
	db.SetMaxIdleConns(defaultMaxConns)
	parallel16(b, func(ctx context.Context) error {
		rows, err := db.QueryContext(ctx, bench100Rows)
		if err != nil {
			return err
		}
		defer rows.Close()
		vals := make([]any, 3)
		ptrs := []any{&vals[0], &vals[1], &vals[2]}
		n := 0
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				return err
			}
			n++
		}
		if n != 100 {
			b.Errorf("rows = %d", n)
		}
		return rows.Err()
	})
}
