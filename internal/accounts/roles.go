package accounts

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/dap-platform/dap/internal/audit"
	"github.com/dap-platform/dap/internal/rbac"
)

// querier is what both *sql.DB and *sql.Tx offer for reads.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// storedRole is a roles row: a custom role or a built-in's override.
type storedRole struct {
	rbac.Role
	id        int64
	updatedAt int64
}

// roleView is a role as audit records show it.
type roleView struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Permissions []string `json:"permissions"`
	RequireMFA  bool     `json:"require_mfa"`
	Builtin     bool     `json:"builtin,omitempty"`
}

func viewRole(r rbac.Role) roleView {
	v := roleView{Name: r.Name, Description: r.Description, RequireMFA: r.RequireMFA, Builtin: rbac.IsBuiltin(r.Name),
		Permissions: make([]string, len(r.Permissions))}
	for i, p := range r.Permissions {
		v.Permissions[i] = string(p)
	}
	return v
}

// loadRoles reads every roles row with its permissions; built-in rows get
// the built-in's fixed permissions.
func (s *Store) loadRoles(ctx context.Context, q querier) ([]storedRole, error) {
	rows, err := q.QueryContext(ctx, `SELECT r.id, r.name, r.description, r.require_mfa, r.updated_at, p.permission
FROM roles r LEFT JOIN role_permissions p ON p.role_id = r.id ORDER BY r.name, r.id, p.permission`)
	if err != nil {
		return nil, fmt.Errorf("accounts: read roles from %s: %w", s.r, err)
	}
	defer rows.Close()
	var out []storedRole
	for rows.Next() {
		var sr storedRole
		var perm sql.NullString
		if err := rows.Scan(&sr.id, &sr.Name, &sr.Description, &sr.RequireMFA, &sr.updatedAt, &perm); err != nil {
			return nil, fmt.Errorf("accounts: read roles: %w", err)
		}
		if n := len(out); n == 0 || out[n-1].id != sr.id {
			out = append(out, sr)
		}
		if perm.Valid {
			last := &out[len(out)-1]
			last.Permissions = append(last.Permissions, rbac.Permission(perm.String))
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("accounts: read roles: %w", err)
	}
	builtins := rbac.BuiltinRoles()
	for i := range out {
		for _, b := range builtins {
			if strings.EqualFold(b.Name, out[i].Name) {
				out[i].Name, out[i].Permissions = b.Name, b.Permissions
			}
		}
	}
	return out, nil
}

// ListRoles returns the built-in roles (with any configured description
// and MFA requirement) followed by the custom roles by name.
func (s *Store) ListRoles(ctx context.Context) ([]rbac.Role, error) {
	stored, err := s.loadRoles(ctx, s.db)
	if err != nil {
		return nil, err
	}
	return mergeRoles(stored), nil
}

func mergeRoles(stored []storedRole) []rbac.Role {
	out := rbac.BuiltinRoles()
	for _, sr := range stored {
		if i := slices.IndexFunc(out, func(r rbac.Role) bool { return r.Name == sr.Name }); i >= 0 && rbac.IsBuiltin(sr.Name) {
			out[i].Description, out[i].RequireMFA = sr.Description, sr.RequireMFA
			continue
		}
		out = append(out, sr.Role)
	}
	return out
}

// GetRole returns a built-in or custom role by name (any letter case).
func (s *Store) GetRole(ctx context.Context, name string) (rbac.Role, error) {
	r, _, err := s.getRole(ctx, name)
	return r, err
}

// getRole also returns the stored row (nil for a built-in never changed).
func (s *Store) getRole(ctx context.Context, name string) (rbac.Role, *storedRole, error) {
	stored, err := s.loadRoles(ctx, s.db)
	if err != nil {
		return rbac.Role{}, nil, err
	}
	for i := range stored {
		if strings.EqualFold(stored[i].Name, name) {
			return stored[i].Role, &stored[i], nil
		}
	}
	for _, b := range rbac.BuiltinRoles() {
		if strings.EqualFold(b.Name, name) {
			return b, nil, nil
		}
	}
	return rbac.Role{}, nil, fmt.Errorf("accounts: role %q: %w", name, ErrNotFound)
}

// CreateRole adds a custom role, validated by rbac.NewRole.
func (s *Store) CreateRole(ctx context.Context, actor, name, description string, permissions []string, requireMFA bool) (rbac.Role, error) {
	role, err := rbac.NewRole(name, description, permissions, requireMFA)
	if err != nil {
		return rbac.Role{}, fmt.Errorf("accounts: create role: %w: %w", ErrInvalid, err)
	}
	role.Permissions = dedupPerms(role.Permissions)
	if _, _, err := s.getRole(ctx, name); err == nil {
		return rbac.Role{}, fmt.Errorf("accounts: create role %q: %w (names are case-insensitive)", name, ErrExists)
	} else if !errors.Is(err, ErrNotFound) {
		return rbac.Role{}, err
	}
	c := change{typ: audit.TypeRoleChange, action: "create", objType: "role", objName: role.Name, actor: actor, new: viewRole(role)}
	if err := s.record(ctx, c); err != nil {
		return rbac.Role{}, err
	}
	now := micros(s.now())
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		var id int64
		err := tx.QueryRowContext(ctx, s.q(`INSERT INTO roles (name, description, require_mfa, created_at, updated_at) VALUES (?, ?, ?, ?, ?) RETURNING id`),
			role.Name, role.Description, role.RequireMFA, now, now).Scan(&id)
		if err != nil {
			return fmt.Errorf("insert role: %w", err)
		}
		return s.insertPerms(ctx, tx, id, role.Permissions)
	})
	if err != nil {
		s.notApplied(ctx, c, err)
		return rbac.Role{}, fmt.Errorf("accounts: create role %q: %w", name, err)
	}
	s.version.Add(1)
	return role, nil
}

func (s *Store) insertPerms(ctx context.Context, tx *sql.Tx, roleID int64, perms []rbac.Permission) error {
	for _, p := range perms {
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO role_permissions (role_id, permission) VALUES (?, ?)`), roleID, string(p)); err != nil {
			return fmt.Errorf("insert permission %s: %w", p, err)
		}
	}
	return nil
}

func dedupPerms(ps []rbac.Permission) []rbac.Permission {
	out := make([]rbac.Permission, 0, len(ps))
	for _, p := range ps {
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

// UpdateRole replaces the role named name with updated. A built-in role
// keeps its name and permissions (rbac.CheckUpdateRole); only its
// description and MFA requirement change. Renaming a custom role renames
// it in its grants too.
func (s *Store) UpdateRole(ctx context.Context, actor, name string, updated rbac.Role) (rbac.Role, error) {
	old, row, err := s.getRole(ctx, name)
	if err != nil {
		return rbac.Role{}, fmt.Errorf("accounts: update role: %w", err)
	}
	updated.Permissions = dedupPerms(updated.Permissions)
	if err := rbac.CheckUpdateRole(old, updated); err != nil {
		return rbac.Role{}, fmt.Errorf("accounts: update role %q: %w: %w", old.Name, ErrInvalid, err)
	}
	if !strings.EqualFold(updated.Name, old.Name) {
		if _, _, err := s.getRole(ctx, updated.Name); err == nil {
			return rbac.Role{}, fmt.Errorf("accounts: rename role %q to %q: %w", old.Name, updated.Name, ErrExists)
		}
	}
	c := change{typ: audit.TypeRoleChange, action: "update", objType: "role", objName: old.Name, actor: actor, old: viewRole(old), new: viewRole(updated)}
	if err := s.record(ctx, c); err != nil {
		return rbac.Role{}, err
	}
	now := micros(s.now())
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		if row == nil { // a built-in never configured before
			_, err := tx.ExecContext(ctx, s.q(`INSERT INTO roles (name, description, require_mfa, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`),
				old.Name, updated.Description, updated.RequireMFA, now, now)
			if err != nil {
				return fmt.Errorf("%w: %w", ErrConflict, err)
			}
			return nil
		}
		res, err := tx.ExecContext(ctx, s.q(`UPDATE roles SET name = ?, description = ?, require_mfa = ?, updated_at = ? WHERE id = ? AND updated_at = ?`),
			updated.Name, updated.Description, updated.RequireMFA, max(now, row.updatedAt+1), row.id, row.updatedAt)
		if err != nil {
			return fmt.Errorf("update role: %w", err)
		}
		if err := oneRow(res); err != nil {
			return err
		}
		if rbac.IsBuiltin(old.Name) {
			return nil
		}
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM role_permissions WHERE role_id = ?`), row.id); err != nil {
			return fmt.Errorf("replace permissions: %w", err)
		}
		if err := s.insertPerms(ctx, tx, row.id, updated.Permissions); err != nil {
			return err
		}
		if updated.Name != old.Name {
			if _, err := tx.ExecContext(ctx, s.q(`UPDATE grants SET role = ? WHERE lower(role) = lower(?)`), updated.Name, old.Name); err != nil {
				return fmt.Errorf("rename role in grants: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		s.notApplied(ctx, c, err)
		return rbac.Role{}, fmt.Errorf("accounts: update role %q: %w", old.Name, err)
	}
	s.version.Add(1)
	return updated, nil
}

// DeleteRole deletes a custom role. Built-in roles are refused. A role
// that grants still give is refused with ErrRoleInUse unless force is
// set, in which case those grants are deleted with it (and listed in the
// audit record's old value).
func (s *Store) DeleteRole(ctx context.Context, actor, name string, force bool) error {
	if err := rbac.CheckDeleteRole(name); err != nil {
		return fmt.Errorf("accounts: delete role: %w", err)
	}
	old, row, err := s.getRole(ctx, name)
	if err != nil {
		return fmt.Errorf("accounts: delete role: %w", err)
	}
	grants, err := s.grantsOfRole(ctx, old.Name)
	if err != nil {
		return err
	}
	if len(grants) > 0 && !force {
		return fmt.Errorf("accounts: delete role %s: %w by %d grant(s); revoke them first or force the deletion", old.Name, ErrRoleInUse, len(grants))
	}
	oldValue := struct {
		Role   roleView    `json:"role"`
		Grants []grantView `json:"grants,omitempty"`
	}{Role: viewRole(old)}
	for _, g := range grants {
		oldValue.Grants = append(oldValue.Grants, viewGrant(g))
	}
	c := change{typ: audit.TypeRoleChange, action: "delete", objType: "role", objName: old.Name, actor: actor, old: oldValue}
	if err := s.record(ctx, c); err != nil {
		return err
	}
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		// The role row goes first: on PostgreSQL its lock makes a
		// concurrent Assign of this role wait for the outcome.
		res, err := tx.ExecContext(ctx, s.q(`DELETE FROM roles WHERE id = ? AND updated_at = ?`), row.id, row.updatedAt)
		if err != nil {
			return fmt.Errorf("delete role: %w", err)
		}
		if err := oneRow(res); err != nil {
			return err
		}
		if force {
			if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM grants WHERE lower(role) = lower(?)`), old.Name); err != nil {
				return fmt.Errorf("delete grants of the role: %w", err)
			}
			return nil
		}
		var n int
		if err := tx.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM grants WHERE lower(role) = lower(?)`), old.Name).Scan(&n); err != nil {
			return fmt.Errorf("count grants: %w", err)
		}
		if n > 0 {
			return fmt.Errorf("%w: %w: a grant was given meanwhile", ErrConflict, ErrRoleInUse)
		}
		return nil
	})
	if err != nil {
		s.notApplied(ctx, c, err)
		return fmt.Errorf("accounts: delete role %s: %w", old.Name, err)
	}
	s.version.Add(1)
	return nil
}
