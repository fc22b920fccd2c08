package audit

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/dap-platform/dap/internal/repo"
)

// benchAppend appends b.N records from 16 concurrent writers and reports
// appends/s.
func benchAppend(b *testing.B, r *repo.Repo) {
	a, err := NewAppender(r, newKey(b), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close(context.Background())
	const writers = 16
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					return
				}
				if _, err := a.Append(context.Background(), sampleEvent(int(i))); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "appends/s")
}

func BenchmarkAppendSQLite16(b *testing.B)   { benchAppend(b, openSQLite(b)) }
func BenchmarkAppendPostgres16(b *testing.B) { benchAppend(b, openPostgres(b)) }

// BenchmarkVerifySQLite verifies a 200,000-record trail per iteration and
// reports records/s.
func BenchmarkVerifySQLite(b *testing.B) {
	const records = 200_000
	r := openSQLite(b)
	key := newKey(b)
	a, err := NewAppender(r, key, Options{})
	if err != nil {
		b.Fatal(err)
	}
	var wg sync.WaitGroup
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < records; i += 16 {
				if _, err := a.Append(context.Background(), sampleEvent(i)); err != nil {
					b.Error(err)
					return
				}
			}
		}(w)
	}
	wg.Wait()
	if err := a.Close(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rep, err := Verify(context.Background(), r, pubOf(key))
		if err != nil || !rep.OK || rep.Records != records {
			b.Fatalf("Verify = %+v, %v", rep, err)
		}
	}
	b.ReportMetric(float64(records)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}
