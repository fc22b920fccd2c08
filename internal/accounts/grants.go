package accounts

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dap-platform/dap/internal/audit"
	"github.com/dap-platform/dap/internal/rbac"
	"github.com/dap-platform/dap/internal/repo"
)

// grantView is a grant as audit records show it.
type grantView struct {
	ID        int64      `json:"id"`
	User      string     `json:"user"`
	Role      string     `json:"role"`
	Targets   []string   `json:"targets"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	GrantedBy string     `json:"granted_by"`
	GrantedAt time.Time  `json:"granted_at"`
}

func viewGrant(g rbac.Grant) grantView {
	v := grantView{ID: g.ID, User: g.User, Role: g.Role, Targets: g.Targets, GrantedBy: g.GrantedBy, GrantedAt: g.GrantedAt}
	if v.Targets == nil {
		v.Targets = []string{}
	}
	if !g.ExpiresAt.IsZero() {
		t := g.ExpiresAt
		v.ExpiresAt = &t
	}
	return v
}

func grantName(id int64) string { return "grant #" + strconv.FormatInt(id, 10) }

// Assign gives role to subject (a user name or "group:<name>"), limited
// to targets (nil or empty: all targets), until expires (zero: never).
// The role must exist; the subject need not be a stored user, because
// users and groups of an identity provider have no row.
func (s *Store) Assign(ctx context.Context, actor, subject, role string, targets []string, expires time.Time) (rbac.Grant, error) {
	if err := checkName("grant subject", subject); err != nil {
		return rbac.Grant{}, err
	}
	r, _, err := s.getRole(ctx, role)
	if err != nil {
		return rbac.Grant{}, fmt.Errorf("accounts: assign role: %w", err)
	}
	now := fromMicros(micros(s.now()))
	g := rbac.Grant{User: subject, Role: r.Name, GrantedBy: actor, GrantedAt: now}
	for _, t := range targets {
		if !slices.Contains(g.Targets, t) {
			g.Targets = append(g.Targets, t)
		}
	}
	if !expires.IsZero() {
		g.ExpiresAt = fromMicros(micros(expires))
	}
	if err := rbac.ValidateGrant(g); err != nil {
		return rbac.Grant{}, fmt.Errorf("accounts: assign role: %w: %w", ErrInvalid, err)
	}
	tj, err := json.Marshal(viewGrant(g).Targets)
	if err != nil {
		return rbac.Grant{}, fmt.Errorf("accounts: assign role: encode targets: %w", err)
	}
	// Pending first, for the id the audit record names; it never counts.
	err = s.db.QueryRowContext(ctx, s.q(`INSERT INTO grants (subject, role, targets, expires_at, granted_by, granted_at, pending) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		g.User, g.Role, string(tj), nullMicros(g.ExpiresAt), g.GrantedBy, micros(g.GrantedAt), true).Scan(&g.ID)
	if err != nil {
		return rbac.Grant{}, fmt.Errorf("accounts: assign role %s to %q: insert into %s: %w", g.Role, subject, s.r, err)
	}
	c := change{typ: audit.TypeRoleChange, action: "assign", objType: "grant", objName: grantName(g.ID), actor: actor, new: viewGrant(g)}
	if err := s.record(ctx, c); err != nil {
		s.dropPending(ctx, "grants", g.ID)
		return rbac.Grant{}, err
	}
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		// The role must still exist. On PostgreSQL the row is locked
		// against a concurrent delete or rename until this commits
		// (SQLite transactions are already serialized).
		if !rbac.IsBuiltin(g.Role) {
			lock := ""
			if s.r.Dialect() == repo.DialectPostgres {
				lock = " FOR SHARE"
			}
			var id int64
			err := tx.QueryRowContext(ctx, s.q(`SELECT id FROM roles WHERE name = ?`+lock), g.Role).Scan(&id)
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("%w: role %s was deleted or renamed", ErrConflict, g.Role)
			}
			if err != nil {
				return fmt.Errorf("check role: %w", err)
			}
		}
		res, err := tx.ExecContext(ctx, s.q(`UPDATE grants SET pending = ? WHERE id = ? AND pending = ?`), false, g.ID, true)
		if err != nil {
			return fmt.Errorf("activate grant: %w", err)
		}
		return oneRow(res)
	})
	if err != nil {
		s.notApplied(ctx, c, err)
		s.dropPending(ctx, "grants", g.ID)
		return rbac.Grant{}, fmt.Errorf("accounts: assign role %s to %q: %w", g.Role, subject, err)
	}
	s.version.Add(1)
	return g, nil
}

// dropPending deletes a pending row whose audit record failed, best
// effort: a pending row left behind never counts.
func (s *Store) dropPending(ctx context.Context, table string, id int64) {
	ctx, cancel := cleanupCtx(ctx)
	defer cancel()
	_, _ = s.db.ExecContext(ctx, s.q(`DELETE FROM `+table+` WHERE id = ? AND pending = ?`), id, true)
}

// Revoke deletes a grant by id.
func (s *Store) Revoke(ctx context.Context, actor string, grantID int64) error {
	old, err := s.getGrant(ctx, grantID)
	if err != nil {
		return fmt.Errorf("accounts: revoke: %w", err)
	}
	c := change{typ: audit.TypeRoleChange, action: "revoke", objType: "grant", objName: grantName(grantID), actor: actor, old: viewGrant(old)}
	if err := s.record(ctx, c); err != nil {
		return err
	}
	res, err := s.db.ExecContext(ctx, s.q(`DELETE FROM grants WHERE id = ? AND pending = ?`), grantID, false)
	if err == nil {
		err = oneRow(res)
	}
	if err != nil {
		s.notApplied(ctx, c, err)
		return fmt.Errorf("accounts: revoke %s: %w", grantName(grantID), err)
	}
	s.version.Add(1)
	return nil
}

const grantColumns = `id, subject, role, targets, expires_at, granted_by, granted_at FROM grants`

func (s *Store) getGrant(ctx context.Context, id int64) (rbac.Grant, error) {
	gs, err := s.queryGrants(ctx, s.db, `SELECT `+grantColumns+` WHERE id = ? AND pending = ?`, id, false)
	if err != nil {
		return rbac.Grant{}, err
	}
	if len(gs) == 0 {
		return rbac.Grant{}, fmt.Errorf("%s: %w", grantName(id), ErrNotFound)
	}
	return gs[0], nil
}

// ListGrants returns the grants of subject (a user name or
// "group:<name>"), or every grant when subject is empty, by id.
// Expired grants are listed too; they stop counting at their expiry.
func (s *Store) ListGrants(ctx context.Context, subject string) ([]rbac.Grant, error) {
	if subject == "" {
		return s.queryGrants(ctx, s.db, `SELECT `+grantColumns+` WHERE pending = ? ORDER BY id`, false)
	}
	return s.queryGrants(ctx, s.db, `SELECT `+grantColumns+` WHERE subject = ? AND pending = ? ORDER BY id`, subject, false)
}

func (s *Store) grantsOfRole(ctx context.Context, role string) ([]rbac.Grant, error) {
	return s.queryGrants(ctx, s.db, `SELECT `+grantColumns+` WHERE lower(role) = lower(?) ORDER BY id`, role)
}

func (s *Store) queryGrants(ctx context.Context, q querier, query string, args ...any) ([]rbac.Grant, error) {
	rows, err := q.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, fmt.Errorf("accounts: read grants from %s: %w", s.r, err)
	}
	defer rows.Close()
	var out []rbac.Grant
	for rows.Next() {
		var g rbac.Grant
		var targets string
		var expires sql.NullInt64
		var granted int64
		if err := rows.Scan(&g.ID, &g.User, &g.Role, &targets, &expires, &g.GrantedBy, &granted); err != nil {
			return nil, fmt.Errorf("accounts: read grants: %w", err)
		}
		if err := json.Unmarshal([]byte(targets), &g.Targets); err != nil {
			return nil, fmt.Errorf("accounts: %s: targets %q are not a JSON array of names: %w", grantName(g.ID), strings.TrimSpace(targets), err)
		}
		if len(g.Targets) == 0 {
			g.Targets = nil
		}
		g.ExpiresAt, g.GrantedAt = fromNullMicros(expires), fromMicros(granted)
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("accounts: read grants: %w", err)
	}
	return out, nil
}
