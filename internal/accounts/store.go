package accounts

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"

	"github.com/dap-platform/dap/internal/audit"
	"github.com/dap-platform/dap/internal/repo"
)

// Errors of the store; test with errors.Is. Each is wrapped with what failed.
var (
	ErrNotFound = errors.New("not found")
	ErrExists   = errors.New("already exists")
	ErrInvalid  = errors.New("invalid")
	// ErrRoleInUse refuses deleting a role that grants still give; pass
	// force to delete the grants with it.
	ErrRoleInUse = errors.New("role is in use")
	// ErrAudit means the audit record of a change could not be written, so
	// the change was not made (fail closed).
	ErrAudit = errors.New("audit record not written; change refused")
	// ErrConflict means the object changed between the audit record and
	// the write (another administrator or DAP instance); nothing was
	// changed and a failure record follows the audit record.
	ErrConflict = errors.New("changed concurrently; nothing changed, retry")
)

// Auditor is where every change is recorded before it is made; an
// *audit.Appender satisfies it.
type Auditor interface {
	Append(ctx context.Context, e audit.Event) (int64, error)
}

// Store reads and changes users, roles, grants and API keys in DAP's
// repository. It is safe for concurrent use.
type Store struct {
	r       *repo.Repo
	db      *sql.DB
	auditor Auditor
	now     func() time.Time // the clock; tests replace it

	// version counts the changes this process made; PolicyCache compares it.
	version atomic.Uint64

	// lastUsed remembers when this process last wrote a key's
	// last_used_at, so that concurrent requests write it once a minute.
	usedMu   sync.Mutex
	lastUsed map[int64]time.Time
}

// New returns a store on a migrated repository. Every change is recorded
// through auditor first; it is required.
func New(r *repo.Repo, auditor Auditor) (*Store, error) {
	if r == nil {
		return nil, errors.New("accounts: New needs a repository")
	}
	if auditor == nil {
		return nil, errors.New("accounts: New needs an auditor: every change to users, roles and keys is audited")
	}
	return &Store{r: r, db: r.DB(), auditor: auditor, now: time.Now, lastUsed: make(map[int64]time.Time)}, nil
}

// Version is a counter bumped after every change this process made. It
// does not see changes made by other processes (see PolicyCache).
func (s *Store) Version() uint64 { return s.version.Load() }

func (s *Store) q(query string) string { return s.r.Rebind(query) }

// change describes one audited change.
type change struct {
	typ, action, objType, objName string
	actor                         string
	old, new                      any // marshalled to JSON; nil for none
}

func (c change) event() (audit.Event, error) {
	e := audit.Event{Type: c.typ, Action: c.action, ObjectType: c.objType, ObjectName: c.objName, User: c.actor, Success: true}
	var err error
	if e.OldValue, err = toJSON(c.old); err != nil {
		return e, err
	}
	if e.NewValue, err = toJSON(c.new); err != nil {
		return e, err
	}
	return e, nil
}

func toJSON(v any) (json.RawMessage, error) {
	if v == nil {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("accounts: encode audit value: %w", err)
	}
	return b, nil
}

// record appends the audit record of c. The order of every change is:
// validate and read the current state; (creates only: insert the row
// as pending, which never counts); append the audit record and wait
// until it is durable; then apply the change in one transaction that
// re-checks the state it audited. If the record cannot be written the
// change is not made. If the apply fails after the record was written,
// a second record with Success=false says it was not applied.
func (s *Store) record(ctx context.Context, c change) error {
	if c.actor == "" {
		return fmt.Errorf("accounts: %s %s %q: %w: no actor given", c.action, c.objType, c.objName, ErrInvalid)
	}
	e, err := c.event()
	if err != nil {
		return err
	}
	if _, err := s.auditor.Append(ctx, e); err != nil {
		return fmt.Errorf("accounts: %s %s %q: %w: %w", c.action, c.objType, c.objName, ErrAudit, err)
	}
	return nil
}

// notApplied records, best effort, that an audited change did not happen.
// It runs even when ctx was canceled: the trail should say so.
func (s *Store) notApplied(ctx context.Context, c change, cause error) {
	e, err := c.event()
	if err != nil {
		return
	}
	e.Success = false
	e.Error = "not applied: " + cause.Error()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	_, _ = s.auditor.Append(ctx, e)
}

// cleanupCtx is for compensating writes that must run even when the
// caller's context is done.
func cleanupCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
}

// inTx runs fn in a transaction, committing when it returns nil.
func (s *Store) inTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction on %s: %w", s.r, err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit on %s: %w", s.r, err)
	}
	return nil
}

// Times are stored as Unix microseconds, UTC.
func micros(t time.Time) int64 { return t.UTC().UnixMicro() }

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

func nullMicros(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: micros(t), Valid: true}
}

func fromNullMicros(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return fromMicros(n.Int64)
}

// MaxNameLen bounds user names and display names.
const MaxNameLen = 256

// checkName validates a user name or similar identifier: not empty, no
// surrounding spaces, no control characters, at most MaxNameLen bytes.
func checkName(what, name string) error {
	switch {
	case name == "":
		return fmt.Errorf("accounts: %w %s: it is empty", ErrInvalid, what)
	case len(name) > MaxNameLen:
		return fmt.Errorf("accounts: %w %s: longer than %d bytes", ErrInvalid, what, MaxNameLen)
	case strings.TrimSpace(name) != name:
		return fmt.Errorf("accounts: %w %s %q: leading or trailing spaces", ErrInvalid, what, name)
	case strings.ContainsFunc(name, unicode.IsControl):
		return fmt.Errorf("accounts: %w %s %q: contains a control character", ErrInvalid, what, name)
	}
	return nil
}
