package accounts

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/dap-platform/dap/internal/repo"
)

// BenchmarkAuthenticate measures the per-request key check on SQLite:
// shape check, SHA-256, one indexed join, constant-time compare; the
// last_used_at write happens once per minute, so not in the loop.
func BenchmarkAuthenticate(b *testing.B) {
	ctx := context.Background()
	e := newEnv(b, openRepo(b, repo.Options{Path: filepath.Join(b.TempDir(), "dap.db")}))
	if _, err := e.s.CreateUser(ctx, admin, "bench@example.com", ""); err != nil {
		b.Fatal(err)
	}
	for range 100 { // a realistic number of other keys in the index
		if _, _, err := e.s.CreateKey(ctx, admin, "bench@example.com", time.Time{}); err != nil {
			b.Fatal(err)
		}
	}
	key, _, err := e.s.CreateKey(ctx, admin, "bench@example.com", time.Time{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.s.Authenticate(ctx, key); err != nil {
			b.Fatal(err)
		}
	}
}
