package audit

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dap-platform/dap/internal/repo"
	"github.com/dap-platform/dap/internal/testdb"
)

func TestFailClosed(t *testing.T) {
	ctx := context.Background()
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			r := b.open(t)
			a, err := NewAppender(r, newKey(t), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := a.Append(ctx, sampleEvent(1)); err != nil {
				t.Fatal(err)
			}
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			id, err := a.Append(ctx, sampleEvent(2))
			if err == nil {
				t.Fatalf("Append on a closed repository returned id %d and no error", id)
			}
			if want := "audit: could not write 1 record(s)"; !strings.HasPrefix(err.Error(), want) {
				t.Fatalf("error %q does not start with %q", err, want)
			}
			if err := a.Close(ctx); err == nil {
				t.Fatal("Close could sign a checkpoint on a closed repository")
			}
		})
	}
}

func TestAppendValidation(t *testing.T) {
	r := openSQLite(t)
	a, err := NewAppender(r, newKey(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close(context.Background())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name string
		ctx  context.Context
		e    Event
		want error
	}{
		{"no type", context.Background(), Event{User: "a"}, nil},
		{"bad JSON", context.Background(), Event{Type: TypeConfigChange, OldValue: []byte("{")}, nil},
		{"canceled context", ctx, sampleEvent(1), context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := a.Append(tt.ctx, tt.e)
			if err == nil {
				t.Fatalf("Append = %d, nil; want an error", id)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("Append error %v, want %v", err, tt.want)
			}
		})
	}
	if _, err := NewAppender(r, nil, Options{}); err == nil {
		t.Fatal("NewAppender accepted a missing key")
	}
}

// concurrentAppend has writers goroutines append total records and returns
// the ids they got.
func concurrentAppend(t *testing.T, apps []*Appender, writers, total int) []int64 {
	t.Helper()
	ids := make([]int64, total)
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			a := apps[w%len(apps)]
			for i := w; i < total; i += writers {
				id, err := a.Append(context.Background(), sampleEvent(i))
				if err != nil {
					errs <- fmt.Errorf("writer %d, record %d: %w", w, i, err)
					return
				}
				ids[i] = id
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	return ids
}

func checkGapFree(t *testing.T, r *repo.Repo, ids []int64) {
	t.Helper()
	seen := make([]bool, len(ids)+1)
	for _, id := range ids {
		if id < 1 || id > int64(len(ids)) || seen[id] {
			t.Fatalf("id %d returned twice or out of 1..%d", id, len(ids))
		}
		seen[id] = true
	}
	var n, distinct, lo, hi int64
	if err := r.DB().QueryRow("SELECT count(*), count(DISTINCT id), min(id), max(id) FROM audit_events").Scan(&n, &distinct, &lo, &hi); err != nil {
		t.Fatal(err)
	}
	if want := int64(len(ids)); n != want || distinct != want || lo != 1 || hi != want {
		t.Fatalf("stored ids: count %d, distinct %d, min %d, max %d; want 1..%d gap-free", n, distinct, lo, hi, want)
	}
}

func TestConcurrentAppend(t *testing.T) {
	// 100,000 records from 64 writers on both dialects (about 2 s on
	// SQLite, 3 s on PostgreSQL); 10,000 under the race detector, which
	// makes the transpiled SQLite some fifteen times slower.
	total := 100_000
	if raceEnabled {
		total = 10_000
	}
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			r := b.open(t)
			key := newKey(t)
			a, err := NewAppender(r, key, Options{})
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			ids := concurrentAppend(t, []*Appender{a}, 64, total)
			if err := a.Close(context.Background()); err != nil {
				t.Fatal(err)
			}
			t.Logf("%d records from 64 writers in %v", len(ids), time.Since(start))
			checkGapFree(t, r, ids)
			rep := verify(t, r, pubOf(key))
			if !rep.OK || rep.Records != int64(len(ids)) || rep.Unsigned != 0 {
				t.Fatalf("Verify = %+v, problem %v", rep, rep.Problem)
			}
			t.Logf("verified %d records, %d checkpoints in %v", rep.Records, rep.Checkpoints, rep.Elapsed)
		})
	}
}

// Two DAP instances (two pools, two appenders) on one PostgreSQL
// repository never fork the chain: the advisory lock serializes them.
func TestMultiInstancePostgres(t *testing.T) {
	dsn := testdb.Postgres(t, "audit")
	r1 := openRepo(t, repo.Options{PostgresDSN: dsn})
	dsnRepo, err := repo.Open(context.Background(), repo.Options{PostgresDSN: dsn})
	if err != nil {
		t.Fatal(err)
	}
	defer dsnRepo.Close()
	key := newKey(t)
	a1, err := NewAppender(r1, key, Options{CheckpointEvery: 100})
	if err != nil {
		t.Fatal(err)
	}
	a2, err := NewAppender(dsnRepo, key, Options{CheckpointEvery: 100})
	if err != nil {
		t.Fatal(err)
	}
	ids := concurrentAppend(t, []*Appender{a1, a2}, 16, 4000)
	for _, a := range []*Appender{a1, a2} {
		if err := a.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	checkGapFree(t, r1, ids)
	if rep := verify(t, r1, pubOf(key)); !rep.OK || rep.Records != 4000 || rep.Checkpoints != 40 {
		t.Fatalf("Verify = %+v, problem %v", rep, rep.Problem)
	}
}

func TestPartitionsPostgres(t *testing.T) {
	ctx := context.Background()
	r := openPostgres(t)
	key := newKey(t)
	a, err := NewAppender(r, key, Options{})
	if err != nil {
		t.Fatal(err)
	}
	months := []time.Time{
		time.Date(2026, 1, 31, 23, 59, 59, 999999000, time.UTC),
		time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2025, 12, 15, 0, 0, 0, 0, time.FixedZone("x", -5*3600)), // 05:00 UTC
		time.Date(2026, 2, 28, 12, 0, 0, 0, time.UTC),
	}
	for _, m := range months {
		e := sampleEvent(1)
		e.Time = m
		if _, err := a.Append(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Close(ctx); err != nil {
		t.Fatal(err)
	}
	rows, err := r.DB().Query(`SELECT c.relname, (SELECT count(*) FROM audit_events e WHERE e.tableoid = c.oid)
		FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		WHERE i.inhparent = 'audit_events'::regclass ORDER BY c.relname`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := map[string]int{}
	for rows.Next() {
		var name string
		var n int
		if err := rows.Scan(&name, &n); err != nil {
			t.Fatal(err)
		}
		got[name] = n
	}
	want := map[string]int{"audit_events_p202512": 1, "audit_events_p202601": 1, "audit_events_p202602": 2}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("partitions %v, want %v", got, want)
	}
	if rep := verify(t, r, pubOf(key)); !rep.OK || rep.Records != 4 {
		t.Fatalf("Verify = %+v, problem %v", rep, rep.Problem)
	}
}
