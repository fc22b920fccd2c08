package audit

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/dap-platform/dap/internal/repo"
	"github.com/dap-platform/dap/internal/testdb"
)

// backend opens a migrated repository of one dialect.
type backend struct {
	name string
	open func(tb testing.TB) *repo.Repo
}

func backends() []backend {
	return []backend{
		{repo.DialectSQLite, openSQLite},
		{repo.DialectPostgres, openPostgres},
	}
}

func openSQLite(tb testing.TB) *repo.Repo {
	tb.Helper()
	return openRepo(tb, repo.Options{Path: filepath.Join(tb.TempDir(), "dap.db")})
}

func openPostgres(tb testing.TB) *repo.Repo {
	tb.Helper()
	return openRepo(tb, repo.Options{PostgresDSN: testdb.Postgres(tb, "audit")})
}

func openRepo(tb testing.TB, o repo.Options) *repo.Repo {
	tb.Helper()
	ctx := context.Background()
	r, err := repo.Open(ctx, o)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = r.Close() })
	if err := r.Migrate(ctx); err != nil {
		tb.Fatal(err)
	}
	return r
}

// reset empties the trail so that subtests can share one repository.
func reset(tb testing.TB, r *repo.Repo) {
	tb.Helper()
	for _, q := range []string{"DELETE FROM audit_checkpoints", "DELETE FROM audit_events"} {
		if _, err := r.DB().Exec(q); err != nil {
			tb.Fatal(err)
		}
	}
}

func newKey(tb testing.TB) ed25519.PrivateKey {
	tb.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

func pubOf(k ed25519.PrivateKey) ed25519.PublicKey { return k.Public().(ed25519.PublicKey) }

// sampleEvent returns a varied, deterministic event number i.
func sampleEvent(i int) Event {
	e := Event{
		Time:          time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC).Add(time.Duration(i) * 1234567 * time.Nanosecond),
		Type:          TypeToolCall,
		User:          fmt.Sprintf("user%d@example.com", i%7),
		SessionID:     fmt.Sprintf("sess-%d", i%13),
		ClientAddr:    "10.0.0.7:51234",
		Application:   "claude-code/1.2.3",
		ObjectType:    "target",
		ObjectName:    "shop",
		Action:        "execute_sql",
		Success:       i%5 != 0,
		DurationMs:    int64(i % 100),
		DataClass:     "internal",
		Target:        "shop",
		StatementKind: "read",
		RowsReturned:  int64(i * 3),
		CorrelationID: fmt.Sprintf("corr-%08d", i),
		SQLText:       fmt.Sprintf("SELECT * FROM orders WHERE id = $1 -- %d", i),
	}
	if !e.Success {
		e.Error = "permission denied for table orders"
	}
	if i%4 == 0 {
		e.Type = TypeRoleChange
		e.OldValue = json.RawMessage(`{"role": "Developer",  "targets": ["shop"]}`)
		e.NewValue = json.RawMessage(fmt.Sprintf(`{"role":"DBA","n":%d}`, i))
	}
	return e
}

func appendN(tb testing.TB, a *Appender, from, n int) {
	tb.Helper()
	for i := from; i < from+n; i++ {
		if _, err := a.Append(context.Background(), sampleEvent(i)); err != nil {
			tb.Fatalf("append %d: %v", i, err)
		}
	}
}

func verify(tb testing.TB, r *repo.Repo, pub ed25519.PublicKey) Report {
	tb.Helper()
	rep, err := Verify(context.Background(), r, pub)
	if err != nil {
		tb.Fatalf("Verify: %v", err)
	}
	return rep
}
