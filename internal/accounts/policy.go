package accounts

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dap-platform/dap/internal/rbac"
	"github.com/dap-platform/dap/internal/repo"
)

// LoadPolicy builds an rbac.Policy from the built-in and custom roles and
// every active grant, read in one read-only snapshot. Grants of disabled
// users are left out (a disabled user has no rights); grants of group
// subjects and of users without a row count. It is a few indexed reads:
// cheap enough to call after every change, but use a PolicyCache on the
// per-request path.
func (s *Store) LoadPolicy(ctx context.Context) (*rbac.Policy, error) {
	opts := &sql.TxOptions{ReadOnly: true}
	if s.r.Dialect() == repo.DialectPostgres {
		opts.Isolation = sql.LevelRepeatableRead // one snapshot for both reads
	}
	// SQLite: a read-only transaction begins DEFERRED, a WAL snapshot
	// that takes no write lock.
	tx, err := s.db.BeginTx(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("accounts: load policy from %s: %w", s.r, err)
	}
	defer func() { _ = tx.Rollback() }()
	stored, err := s.loadRoles(ctx, tx)
	if err != nil {
		return nil, err
	}
	grants, err := s.queryGrants(ctx, tx, `SELECT g.id, g.subject, g.role, g.targets, g.expires_at, g.granted_by, g.granted_at
FROM grants g LEFT JOIN users u ON u.name = g.subject
WHERE g.pending = ? AND (u.name IS NULL OR u.disabled = ?) ORDER BY g.id`, false, false)
	if err != nil {
		return nil, err
	}
	roles := make([]rbac.Role, len(stored))
	known := make(map[string]bool, len(stored))
	for i, sr := range stored {
		roles[i] = sr.Role
		known[strings.ToLower(sr.Name)] = true
	}
	// A grant whose role is gone confers nothing; Assign and DeleteRole
	// prevent it, but one stray row must not deny everybody everything.
	kept := grants[:0]
	for _, g := range grants {
		if known[strings.ToLower(g.Role)] || rbac.IsBuiltin(g.Role) {
			kept = append(kept, g)
		}
	}
	p, err := rbac.NewPolicy(roles, kept)
	if err != nil {
		return nil, fmt.Errorf("accounts: load policy from %s: %w", s.r, err)
	}
	return p, nil
}

// PolicyCache serves a Policy without reading the repository on every
// request. A cached policy is reused while the store's Version is
// unchanged (no change by this process) and it is younger than the TTL
// (which bounds how long a change made by another DAP instance on a
// shared repository, or by a CLI command, stays unseen). A failed load
// is returned as an error, never answered with a stale policy: a revoked
// right must not outlive its revocation because the repository is down.
type PolicyCache struct {
	s   *Store
	ttl time.Duration

	cur atomic.Pointer[cachedPolicy]
	mu  sync.Mutex // one load at a time; others wait and reuse its result
}

type cachedPolicy struct {
	p       *rbac.Policy
	version uint64
	loaded  time.Time
}

// DefaultPolicyTTL is a good TTL for a PolicyCache.
const DefaultPolicyTTL = 5 * time.Second

// NewPolicyCache caches s's policy for at most ttl (DefaultPolicyTTL when
// ttl <= 0).
func NewPolicyCache(s *Store, ttl time.Duration) *PolicyCache {
	if ttl <= 0 {
		ttl = DefaultPolicyTTL
	}
	return &PolicyCache{s: s, ttl: ttl}
}

// Policy returns the current policy, loading it when stale.
func (c *PolicyCache) Policy(ctx context.Context) (*rbac.Policy, error) {
	if p := c.fresh(); p != nil {
		return p, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if p := c.fresh(); p != nil {
		return p, nil
	}
	// Read the version before loading: a change racing the load bumps it
	// again and forces the next call to reload.
	v := c.s.Version()
	p, err := c.s.LoadPolicy(ctx)
	if err != nil {
		return nil, err
	}
	c.cur.Store(&cachedPolicy{p: p, version: v, loaded: c.s.now()})
	return p, nil
}

// Invalidate drops the cached policy, e.g. when another instance is known
// to have changed grants.
func (c *PolicyCache) Invalidate() { c.cur.Store(nil) }

func (c *PolicyCache) fresh() *rbac.Policy {
	cp := c.cur.Load()
	if cp == nil || cp.version != c.s.Version() {
		return nil
	}
	if age := c.s.now().Sub(cp.loaded); age < 0 || age >= c.ttl {
		return nil
	}
	return cp.p
}
