package guard

import (
	"testing"

	"github.com/dap-platform/dap/internal/engine"
)

// A typical 100-row range read, as the gateway sees it.
const (
	benchPG     = "SELECT id, name, email, created_at FROM customers WHERE id BETWEEN $1 AND $2 ORDER BY id LIMIT 100"
	benchMySQL  = "SELECT id, name, email, created_at FROM customers WHERE id BETWEEN ? AND ? ORDER BY id LIMIT 100"
	benchSQLite = benchMySQL
)

func benchCheck(b *testing.B, d engine.Dialect, sql string) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Check(d, sql); err != nil {
			b.Fatal(err)
		}
	}
}

func benchCached(b *testing.B, d engine.Dialect, sql string) {
	c := NewChecker(1024)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.Check(d, sql); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkCheckPostgres(b *testing.B) {
	b.Run("uncached", func(b *testing.B) { benchCheck(b, engine.Postgres, benchPG) })
	b.Run("cached", func(b *testing.B) { benchCached(b, engine.Postgres, benchPG) })
}

func BenchmarkCheckMySQL(b *testing.B) {
	b.Run("uncached", func(b *testing.B) { benchCheck(b, engine.MySQL, benchMySQL) })
	b.Run("cached", func(b *testing.B) { benchCached(b, engine.MySQL, benchMySQL) })
}

func BenchmarkCheckSQLite(b *testing.B) {
	b.Run("uncached", func(b *testing.B) { benchCheck(b, engine.SQLite, benchSQLite) })
	b.Run("cached", func(b *testing.B) { benchCached(b, engine.SQLite, benchSQLite) })
}

func BenchmarkCheckSQLServer(b *testing.B) {
	b.Run("uncached", func(b *testing.B) {
		benchCheck(b, engine.SQLServer, "SELECT TOP 100 id, name, email, created_at FROM customers WHERE id BETWEEN @p1 AND @p2 ORDER BY id")
	})
}
