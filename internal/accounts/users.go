package accounts

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dap-platform/dap/internal/audit"
	"github.com/dap-platform/dap/internal/rbac"
)

// User is a person or service known to DAP. Users authenticated by an
// identity provider need no row to be granted roles; API keys need one.
type User struct {
	Name        string    `json:"name"`
	DisplayName string    `json:"display_name,omitempty"`
	Created     time.Time `json:"created"`
	Disabled    bool      `json:"disabled"`
}

func checkUserName(name string) error {
	if err := checkName("user name", name); err != nil {
		return err
	}
	if strings.HasPrefix(name, rbac.GroupPrefix) {
		return fmt.Errorf("accounts: %w user name %q: %q marks a group", ErrInvalid, name, rbac.GroupPrefix)
	}
	return nil
}

// CreateUser adds an enabled user.
func (s *Store) CreateUser(ctx context.Context, actor, name, displayName string) (User, error) {
	if err := checkUserName(name); err != nil {
		return User{}, err
	}
	if len(displayName) > MaxNameLen {
		return User{}, fmt.Errorf("accounts: %w display name of %q: longer than %d bytes", ErrInvalid, name, MaxNameLen)
	}
	if _, err := s.GetUser(ctx, name); err == nil {
		return User{}, fmt.Errorf("accounts: create user %q: %w", name, ErrExists)
	} else if !errors.Is(err, ErrNotFound) {
		return User{}, err
	}
	u := User{Name: name, DisplayName: displayName, Created: fromMicros(micros(s.now()))}
	c := change{typ: audit.TypeUserChange, action: "create", objType: "user", objName: name, actor: actor, new: u}
	if err := s.record(ctx, c); err != nil {
		return User{}, err
	}
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO users (name, display_name, created_at, disabled) VALUES (?, ?, ?, ?)`),
		u.Name, u.DisplayName, micros(u.Created), false)
	if err != nil {
		// A concurrent create of the same name is the likely cause.
		if _, gerr := s.GetUser(ctx, name); gerr == nil {
			err = fmt.Errorf("%w: %w", ErrExists, err)
		}
		s.notApplied(ctx, c, err)
		return User{}, fmt.Errorf("accounts: create user %q: %w", name, err)
	}
	s.version.Add(1)
	return u, nil
}

// GetUser returns one user or an error wrapping ErrNotFound.
func (s *Store) GetUser(ctx context.Context, name string) (User, error) {
	var u User
	var created int64
	err := s.db.QueryRowContext(ctx, s.q(`SELECT name, display_name, created_at, disabled FROM users WHERE name = ?`), name).
		Scan(&u.Name, &u.DisplayName, &created, &u.Disabled)
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, fmt.Errorf("accounts: user %q: %w", name, ErrNotFound)
	}
	if err != nil {
		return User{}, fmt.Errorf("accounts: read user %q from %s: %w", name, s.r, err)
	}
	u.Created = fromMicros(created)
	return u, nil
}

// ListUsers returns every user, by name.
func (s *Store) ListUsers(ctx context.Context) ([]User, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT name, display_name, created_at, disabled FROM users ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("accounts: list users in %s: %w", s.r, err)
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		var u User
		var created int64
		if err := rows.Scan(&u.Name, &u.DisplayName, &created, &u.Disabled); err != nil {
			return nil, fmt.Errorf("accounts: list users: %w", err)
		}
		u.Created = fromMicros(created)
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("accounts: list users: %w", err)
	}
	return out, nil
}

// DisableUser disables a user: their API keys stop authenticating and
// their direct grants stop counting. It is idempotent only in effect:
// disabling a disabled user is refused with ErrInvalid, so the trail
// records real changes only.
func (s *Store) DisableUser(ctx context.Context, actor, name string) error {
	return s.setDisabled(ctx, actor, name, true)
}

// EnableUser re-enables a disabled user.
func (s *Store) EnableUser(ctx context.Context, actor, name string) error {
	return s.setDisabled(ctx, actor, name, false)
}

func (s *Store) setDisabled(ctx context.Context, actor, name string, disabled bool) error {
	verb := map[bool]string{true: "disable", false: "enable"}[disabled]
	old, err := s.GetUser(ctx, name)
	if err != nil {
		return fmt.Errorf("accounts: %s user: %w", verb, err)
	}
	if old.Disabled == disabled {
		return fmt.Errorf("accounts: %s user %q: %w: already %sd", verb, name, ErrInvalid, verb)
	}
	updated := old
	updated.Disabled = disabled
	c := change{typ: audit.TypeUserChange, action: "update", objType: "user", objName: name, actor: actor, old: old, new: updated}
	if err := s.record(ctx, c); err != nil {
		return err
	}
	res, err := s.db.ExecContext(ctx, s.q(`UPDATE users SET disabled = ? WHERE name = ? AND disabled = ?`), disabled, name, !disabled)
	if err == nil {
		err = oneRow(res)
	}
	if err != nil {
		s.notApplied(ctx, c, err)
		return fmt.Errorf("accounts: %s user %q: %w", verb, name, err)
	}
	s.version.Add(1)
	return nil
}

// oneRow turns "no row matched" into ErrConflict: the audited state is gone.
func oneRow(res sql.Result) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrConflict
	}
	return nil
}
