package accounts

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/dap-platform/dap/internal/audit"
	"github.com/dap-platform/dap/internal/repo"
	"github.com/dap-platform/dap/internal/testdb"
)

// env is one migrated repository with an audit appender and a store.
type env struct {
	r     *repo.Repo
	app   *audit.Appender
	s     *Store
	clock *testClock
}

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type backend struct {
	name string
	open func(tb testing.TB) *repo.Repo
}

func backends() []backend {
	return []backend{
		{repo.DialectSQLite, func(tb testing.TB) *repo.Repo {
			return openRepo(tb, repo.Options{Path: filepath.Join(tb.TempDir(), "dap.db")})
		}},
		{repo.DialectPostgres, func(tb testing.TB) *repo.Repo {
			return openRepo(tb, repo.Options{PostgresDSN: testdb.Postgres(tb, "accounts")})
		}},
	}
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

// newEnv starts an appender and a store with a controllable clock on r.
func newEnv(tb testing.TB, r *repo.Repo) *env {
	tb.Helper()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	app, err := audit.NewAppender(r, key, audit.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = app.Close(context.Background()) })
	s, err := New(r, app)
	if err != nil {
		tb.Fatal(err)
	}
	clock := &testClock{t: time.Now().UTC()}
	s.now = clock.now
	return &env{r: r, app: app, s: s, clock: clock}
}

// auditRow is the part of an audit record these tests look at.
type auditRow struct {
	Type, User, ObjectType, ObjectName, Action string
	Old, New                                   string
	Success                                    bool
	Error                                      string
}

// auditOf returns the records about one object, in order.
func auditOf(tb testing.TB, r *repo.Repo, objType, objName string) []auditRow {
	tb.Helper()
	rows, err := r.DB().Query(r.Rebind(`SELECT event_type, user_name, object_type, object_name, action,
COALESCE(old_value, ''), COALESCE(new_value, ''), success, error FROM audit_events
WHERE object_type = ? AND object_name = ? ORDER BY id`), objType, objName)
	if err != nil {
		tb.Fatal(err)
	}
	defer rows.Close()
	var out []auditRow
	for rows.Next() {
		var a auditRow
		if err := rows.Scan(&a.Type, &a.User, &a.ObjectType, &a.ObjectName, &a.Action, &a.Old, &a.New, &a.Success, &a.Error); err != nil {
			tb.Fatal(err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	return out
}

// auditCount counts all records.
func auditCount(tb testing.TB, r *repo.Repo) int {
	tb.Helper()
	var n int
	if err := r.DB().QueryRow(`SELECT COUNT(*) FROM audit_events`).Scan(&n); err != nil {
		tb.Fatal(err)
	}
	return n
}
