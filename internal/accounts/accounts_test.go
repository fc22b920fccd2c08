package accounts

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dap-platform/dap/internal/audit"
	"github.com/dap-platform/dap/internal/engine"
	"github.com/dap-platform/dap/internal/guard"
	"github.com/dap-platform/dap/internal/rbac"
)

const admin = "admin@example.com"

// TestAccounts runs every scenario against SQLite and PostgreSQL, one
// repository per backend; subtests use distinct names so they can share it.
func TestAccounts(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			e := newEnv(t, b.open(t))
			t.Run("users", func(t *testing.T) { testUsers(t, e) })
			t.Run("roles", func(t *testing.T) { testRoles(t, e) })
			t.Run("grants and policy", func(t *testing.T) { testGrantsPolicy(t, e) })
			t.Run("keys", func(t *testing.T) { testKeys(t, e) })
			t.Run("last used throttling", func(t *testing.T) { testLastUsed(t, e) })
			t.Run("concurrent keys", func(t *testing.T) { testConcurrentKeys(t, e) })
			t.Run("fail closed", func(t *testing.T) { testFailClosed(t, e) })
			t.Run("not applied after audit", func(t *testing.T) { testNotApplied(t, e) })
			t.Run("policy cache", func(t *testing.T) { testPolicyCache(t, e) })
			t.Run("audit never holds keys", func(t *testing.T) { testNoSecretsInAudit(t, e) })
		})
	}
}

func testUsers(t *testing.T, e *env) {
	ctx := context.Background()
	u, err := e.s.CreateUser(ctx, admin, "alice@example.com", "Alice")
	if err != nil {
		t.Fatal(err)
	}
	if u.Name != "alice@example.com" || u.Disabled || u.Created.IsZero() {
		t.Fatalf("created %+v", u)
	}
	for _, tc := range []struct {
		name, user string
		want       error
	}{
		{"duplicate", "alice@example.com", ErrExists},
		{"empty", "", ErrInvalid},
		{"spaces", " bob", ErrInvalid},
		{"control", "bo\nb", ErrInvalid},
		{"group prefix", "group:dba", ErrInvalid},
		{"too long", strings.Repeat("x", MaxNameLen+1), ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := e.s.CreateUser(ctx, admin, tc.user, ""); !errors.Is(err, tc.want) {
				t.Fatalf("CreateUser(%q) = %v, want %v", tc.user, err, tc.want)
			}
		})
	}
	if _, err := e.s.CreateUser(ctx, "", "nobody-acts", ""); !errors.Is(err, ErrInvalid) {
		t.Fatalf("no actor: %v", err)
	}
	got, err := e.s.GetUser(ctx, "alice@example.com")
	if err != nil || got != u {
		t.Fatalf("GetUser = %+v, %v; want %+v", got, err, u)
	}
	if _, err := e.s.GetUser(ctx, "ghost"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("GetUser(ghost) = %v", err)
	}
	if err := e.s.DisableUser(ctx, admin, "alice@example.com"); err != nil {
		t.Fatal(err)
	}
	if err := e.s.DisableUser(ctx, admin, "alice@example.com"); !errors.Is(err, ErrInvalid) {
		t.Fatalf("second disable = %v", err)
	}
	if err := e.s.DisableUser(ctx, admin, "ghost"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("disable ghost = %v", err)
	}
	list, err := e.s.ListUsers(ctx)
	if err != nil || len(list) != 1 || !list[0].Disabled {
		t.Fatalf("ListUsers = %+v, %v", list, err)
	}
	if err := e.s.EnableUser(ctx, admin, "alice@example.com"); err != nil {
		t.Fatal(err)
	}
	recs := auditOf(t, e.r, "user", "alice@example.com")
	want := []struct{ action, old, new string }{
		{"create", "", `"disabled":false`},
		{"update", `"disabled":false`, `"disabled":true`},
		{"update", `"disabled":true`, `"disabled":false`},
	}
	if len(recs) != len(want) {
		t.Fatalf("audit records: %+v", recs)
	}
	for i, w := range want {
		a := recs[i]
		if a.Type != audit.TypeUserChange || a.Action != w.action || a.User != admin || !a.Success ||
			!strings.Contains(a.Old, w.old) || !strings.Contains(a.New, w.new) {
			t.Errorf("record %d = %+v, want %s old~%s new~%s", i, a, w.action, w.old, w.new)
		}
	}
}

func testRoles(t *testing.T, e *env) {
	ctx := context.Background()
	r, err := e.s.CreateRole(ctx, admin, "Reporter", "reads shop", []string{"queryread", "ViewMetrics", "QueryRead"}, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Permissions) != 2 || r.Permissions[0] != rbac.QueryRead {
		t.Fatalf("role %+v", r)
	}
	for _, tc := range []struct {
		name  string
		role  string
		perms []string
		want  error
	}{
		{"duplicate any case", "reporter", []string{"QueryRead"}, ErrExists},
		{"built-in name", "dba", []string{"QueryRead"}, rbac.ErrBuiltinRole},
		{"unknown permission", "Odd", []string{"Fly"}, rbac.ErrUnknownPermission},
		{"no permissions", "Empty", nil, ErrInvalid},
		{"bad name", "1st", []string{"QueryRead"}, ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := e.s.CreateRole(ctx, admin, tc.role, "", tc.perms, false); !errors.Is(err, tc.want) {
				t.Fatalf("CreateRole(%q) = %v, want %v", tc.role, err, tc.want)
			}
		})
	}
	// Built-ins are protected but their description and MFA are configurable.
	dba, err := e.s.GetRole(ctx, "dba")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.s.DeleteRole(ctx, admin, "DBA", true); !errors.Is(err, rbac.ErrBuiltinRole) {
		t.Fatalf("delete DBA = %v", err)
	}
	wider := dba
	wider.Permissions = append(wider.Permissions, rbac.ManageUsers)
	if _, err := e.s.UpdateRole(ctx, admin, "DBA", wider); !errors.Is(err, rbac.ErrBuiltinRole) {
		t.Fatalf("widen DBA = %v", err)
	}
	renamed := dba
	renamed.Name = "SuperDBA"
	if _, err := e.s.UpdateRole(ctx, admin, "DBA", renamed); !errors.Is(err, rbac.ErrBuiltinRole) {
		t.Fatalf("rename DBA = %v", err)
	}
	mfa := dba
	mfa.RequireMFA, mfa.Description = true, "needs MFA"
	if _, err := e.s.UpdateRole(ctx, admin, "DBA", mfa); err != nil {
		t.Fatal(err)
	}
	mfa.Description = "needs MFA, really"
	if _, err := e.s.UpdateRole(ctx, admin, "DBA", mfa); err != nil { // second update: the stored row
		t.Fatal(err)
	}
	if got, _ := e.s.GetRole(ctx, "DBA"); !got.RequireMFA || got.Description != "needs MFA, really" || len(got.Permissions) != len(dba.Permissions) {
		t.Fatalf("DBA after update = %+v", got)
	}
	// Custom: update permissions, rename (grants follow), delete.
	if _, err := e.s.Assign(ctx, admin, "carol", "Reporter", []string{"shop"}, time.Time{}); err != nil {
		t.Fatal(err)
	}
	upd := rbac.Role{Name: "Analyst", Description: "reads", Permissions: []rbac.Permission{rbac.QueryRead}}
	if _, err := e.s.UpdateRole(ctx, admin, "reporter", upd); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.UpdateRole(ctx, admin, "Analyst", rbac.Role{Name: "Viewer", Permissions: []rbac.Permission{rbac.QueryRead}}); !errors.Is(err, rbac.ErrBuiltinRole) {
		t.Fatalf("rename to built-in = %v", err)
	}
	grants, err := e.s.ListGrants(ctx, "carol")
	if err != nil || len(grants) != 1 || grants[0].Role != "Analyst" {
		t.Fatalf("grants after rename = %+v, %v", grants, err)
	}
	roles, err := e.s.ListRoles(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range roles {
		names = append(names, r.Name)
	}
	if strings.Join(names, ",") != "Administrator,DBA,Developer,Auditor,Viewer,Analyst" {
		t.Fatalf("ListRoles = %v", names)
	}
	if err := e.s.DeleteRole(ctx, admin, "Analyst", false); !errors.Is(err, ErrRoleInUse) {
		t.Fatalf("delete in use = %v", err)
	}
	if err := e.s.DeleteRole(ctx, admin, "analyst", true); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.GetRole(ctx, "Analyst"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted role still there: %v", err)
	}
	if grants, _ := e.s.ListGrants(ctx, "carol"); len(grants) != 0 {
		t.Fatalf("forced delete left grants %+v", grants)
	}
	if err := e.s.DeleteRole(ctx, admin, "Analyst", true); !errors.Is(err, ErrNotFound) {
		t.Fatalf("delete twice = %v", err)
	}
	// Audit: create, update (old/new), delete listing the grant it removed.
	recs := auditOf(t, e.r, "role", "Reporter")
	if len(recs) != 2 || recs[0].Action != "create" || recs[1].Action != "update" ||
		!strings.Contains(recs[1].Old, `"name":"Reporter"`) || !strings.Contains(recs[1].New, `"name":"Analyst"`) {
		t.Fatalf("Reporter records = %+v", recs)
	}
	del := auditOf(t, e.r, "role", "Analyst")
	if len(del) != 1 || del[0].Action != "delete" || del[0].Type != audit.TypeRoleChange ||
		!strings.Contains(del[0].Old, `"grants":[{"id":`) || !strings.Contains(del[0].Old, `"user":"carol"`) || del[0].New != "" {
		t.Fatalf("Analyst records = %+v", del)
	}
	if recs := auditOf(t, e.r, "role", "DBA"); len(recs) != 2 || !strings.Contains(recs[0].New, `"require_mfa":true`) {
		t.Fatalf("DBA records = %+v", recs)
	}
	// Leave DBA as it was for the following subtests.
	if _, err := e.s.UpdateRole(ctx, admin, "DBA", dba); err != nil {
		t.Fatal(err)
	}
}

func testGrantsPolicy(t *testing.T, e *env) {
	ctx := context.Background()
	now := e.clock.now()
	if _, err := e.s.CreateUser(ctx, admin, "dora@example.com", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.CreateRole(ctx, admin, "Maint", "", []string{"PerformMaintenance"}, true); err != nil {
		t.Fatal(err)
	}
	mustAssign := func(subject, role string, targets []string, exp time.Time) rbac.Grant {
		t.Helper()
		g, err := e.s.Assign(ctx, admin, subject, role, targets, exp)
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	mustAssign("dev@example.com", "Developer", []string{"shop", "shop"}, time.Time{})
	temp := mustAssign("temp@example.com", "DBA", nil, now.Add(time.Hour))
	mustAssign("group:dbas", "DBA", []string{"billing"}, time.Time{})
	mustAssign("dora@example.com", "DBA", nil, time.Time{})
	mustAssign("maint@example.com", "Maint", nil, time.Time{})
	revoked := mustAssign("gone@example.com", "Administrator", nil, time.Time{})
	if err := e.s.Revoke(ctx, admin, revoked.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.s.Revoke(ctx, admin, revoked.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("revoke twice = %v", err)
	}
	if err := e.s.DisableUser(ctx, admin, "dora@example.com"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		subject string
		role    string
		targets []string
		exp     time.Time
		want    error
	}{
		{"unknown role", "x", "Nope", nil, time.Time{}, ErrNotFound},
		{"empty subject", "", "DBA", nil, time.Time{}, ErrInvalid},
		{"empty group", "group:", "DBA", nil, time.Time{}, ErrInvalid},
		{"empty target", "x", "DBA", []string{""}, time.Time{}, ErrInvalid},
		{"expired already", "x", "DBA", nil, now.Add(-time.Minute), ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := e.s.Assign(ctx, admin, tc.subject, tc.role, tc.targets, tc.exp); !errors.Is(err, tc.want) {
				t.Fatalf("Assign = %v, want %v", err, tc.want)
			}
		})
	}
	devGrants, err := e.s.ListGrants(ctx, "dev@example.com")
	if err != nil || len(devGrants) != 1 || strings.Join(devGrants[0].Targets, ",") != "shop" || devGrants[0].GrantedBy != admin {
		t.Fatalf("dev grants = %+v, %v", devGrants, err)
	}
	p, err := e.s.LoadPolicy(ctx)
	if err != nil {
		t.Fatal(err)
	}
	id := func(u string, groups ...string) rbac.Identity { return rbac.Identity{User: u, Groups: groups} }
	later := now.Add(2 * time.Hour)
	for _, tc := range []struct {
		name   string
		at     time.Time
		who    rbac.Identity
		perm   rbac.Permission
		target string
		access engine.Access
		kind   guard.Kind
		allow  bool
	}{
		{"developer reads in scope", now, id("dev@example.com"), rbac.QueryRead, "shop", engine.ReadWrite, guard.Read, true},
		{"developer out of scope", now, id("dev@example.com"), rbac.QueryRead, "billing", engine.ReadWrite, guard.Read, false},
		{"developer cannot write", now, id("dev@example.com"), rbac.QueryWrite, "shop", engine.ReadWrite, guard.Write, false},
		{"temporary DBA writes", now, id("temp@example.com"), rbac.QueryWrite, "shop", engine.ReadWrite, guard.Write, true},
		{"temporary DBA expired", later, id("temp@example.com"), rbac.QueryWrite, "shop", engine.ReadWrite, guard.Write, false},
		{"DBA capped by read-only target", now, id("temp@example.com"), rbac.QueryWrite, "shop", engine.ReadOnly, guard.Write, false},
		{"group grant in scope", now, id("eve", "dbas"), rbac.QueryWrite, "billing", engine.ReadWrite, guard.Write, true},
		{"group grant out of scope", now, id("eve", "dbas"), rbac.QueryWrite, "shop", engine.ReadWrite, guard.Write, false},
		{"revoked grant", now, id("gone@example.com"), rbac.ViewAuditLog, "", "", "", false},
		{"disabled user", now, id("dora@example.com"), rbac.QueryRead, "shop", engine.ReadWrite, guard.Read, false},
		{"MFA role without MFA", now, id("maint@example.com"), rbac.PerformMaintenance, "", "", "", false},
		{"MFA role with MFA", now, rbac.Identity{User: "maint@example.com", MFA: true}, rbac.PerformMaintenance, "", "", "", true},
		{"nobody", now, id("stranger"), rbac.QueryRead, "shop", engine.ReadWrite, guard.Read, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := p.Decide(tc.at, tc.who, tc.perm, tc.target, tc.access, tc.kind)
			if d.Allowed != tc.allow {
				t.Fatalf("Decide = %v (%s), want %v", d.Allowed, d.Reason, tc.allow)
			}
		})
	}
	recs := auditOf(t, e.r, "grant", grantName(temp.ID))
	if len(recs) != 1 || recs[0].Action != "assign" || recs[0].Type != audit.TypeRoleChange || !strings.Contains(recs[0].New, `"expires_at":`) {
		t.Fatalf("grant records = %+v", recs)
	}
	recs = auditOf(t, e.r, "grant", grantName(revoked.ID))
	if len(recs) != 2 || recs[1].Action != "revoke" || !strings.Contains(recs[1].Old, `"role":"Administrator"`) || recs[1].New != "" {
		t.Fatalf("revoked grant records = %+v", recs)
	}
}

func testKeys(t *testing.T, e *env) {
	ctx := context.Background()
	for _, u := range []string{"kim@example.com", "kat@example.com"} {
		if _, err := e.s.CreateUser(ctx, admin, u, ""); err != nil {
			t.Fatal(err)
		}
	}
	good, info, err := e.s.CreateKey(ctx, admin, "kim@example.com", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(good) != KeyLen || !strings.HasPrefix(good, KeyPrefix) || info.Prefix != good[:DisplayPrefix] || info.ID == 0 {
		t.Fatalf("key %q info %+v", good, info)
	}
	revokedKey, rinfo, err := e.s.CreateKey(ctx, admin, "kim@example.com", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.s.RevokeKey(ctx, admin, rinfo.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.s.RevokeKey(ctx, admin, rinfo.ID); !errors.Is(err, ErrKeyRevoked) {
		t.Fatalf("revoke twice = %v", err)
	}
	if err := e.s.RevokeKey(ctx, admin, 999999); !errors.Is(err, ErrNotFound) {
		t.Fatalf("revoke unknown = %v", err)
	}
	expiring, _, err := e.s.CreateKey(ctx, admin, "kim@example.com", e.clock.now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	katKey, _, err := e.s.CreateKey(ctx, admin, "kat@example.com", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.s.DisableUser(ctx, admin, "kat@example.com"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		user    string
		expires time.Time
		want    error
	}{
		{"unknown user", "nobody@example.com", time.Time{}, ErrNotFound},
		{"disabled user", "kat@example.com", time.Time{}, ErrUserDisabled},
		{"expiry in the past", "kim@example.com", e.clock.now().Add(-time.Second), ErrInvalid},
	} {
		t.Run("create "+tc.name, func(t *testing.T) {
			if _, _, err := e.s.CreateKey(ctx, admin, tc.user, tc.expires); !errors.Is(err, tc.want) {
				t.Fatalf("CreateKey = %v, want %v", err, tc.want)
			}
		})
	}
	// Same shape, one character different.
	last := byte('a')
	if good[len(good)-1] == 'a' {
		last = 'b'
	}
	wrong := good[:len(good)-1] + string(last)
	for _, tc := range []struct {
		name     string
		key      string
		advance  time.Duration
		wantUser string
		want     error
	}{
		{"good", good, 0, "kim@example.com", nil},
		{"expiring still valid", expiring, 0, "kim@example.com", nil},
		{"wrong", wrong, 0, "", ErrUnknownKey},
		{"revoked", revokedKey, 0, "", ErrKeyRevoked},
		{"disabled user", katKey, 0, "", ErrUserDisabled},
		{"empty", "", 0, "", ErrUnknownKey},
		{"prefix only", KeyPrefix, 0, "", ErrUnknownKey},
		{"upper case", strings.ToUpper(good), 0, "", ErrUnknownKey},
		{"with space", good[:20] + " " + good[21:], 0, "", ErrUnknownKey},
		{"huge", KeyPrefix + strings.Repeat("a", 1<<20), 0, "", ErrUnknownKey},
		{"bearer pasted", "Bearer " + good, 0, "", ErrUnknownKey},
		{"expired", expiring, time.Hour, "", ErrKeyExpired},
	} {
		t.Run("authenticate "+tc.name, func(t *testing.T) {
			e.clock.advance(tc.advance)
			defer e.clock.advance(-tc.advance)
			user, err := e.s.Authenticate(ctx, tc.key)
			if !errors.Is(err, tc.want) || user != tc.wantUser {
				t.Fatalf("Authenticate = %q, %v; want %q, %v", user, err, tc.wantUser, tc.want)
			}
			if err != nil && len(tc.key) > len(KeyPrefix) && strings.Contains(err.Error(), tc.key) {
				t.Fatalf("error echoes the key: %v", err)
			}
		})
	}
	keys, err := e.s.ListKeys(ctx, "kim@example.com")
	if err != nil || len(keys) != 3 {
		t.Fatalf("ListKeys = %+v, %v", keys, err)
	}
	if keys[0].LastUsed.IsZero() || keys[1].Revoked.IsZero() || keys[2].Expires.IsZero() || !keys[0].Revoked.IsZero() {
		t.Fatalf("ListKeys = %+v", keys)
	}
	all, err := e.s.ListKeys(ctx, "")
	if err != nil || len(all) != 4 {
		t.Fatalf("ListKeys(all) = %d keys, %v", len(all), err)
	}
	recs := auditOf(t, e.r, "api_key", keyName(rinfo.ID))
	if len(recs) != 2 || recs[0].Action != "create" || recs[1].Action != "revoke" || recs[1].Type != audit.TypeKeyChange ||
		!strings.Contains(recs[1].New, `"revoked":`) || strings.Contains(recs[1].Old, `"revoked":`) {
		t.Fatalf("key records = %+v", recs)
	}
}

// lastUsed reads a key's stored last_used_at.
func lastUsed(t *testing.T, e *env, id int64) time.Time {
	t.Helper()
	keys, err := e.s.queryKeys(context.Background(), `SELECT `+keyColumns+` WHERE id = ?`, id)
	if err != nil || len(keys) != 1 {
		t.Fatalf("read key %d: %v", id, err)
	}
	return keys[0].LastUsed
}

func testLastUsed(t *testing.T, e *env) {
	ctx := context.Background()
	if _, err := e.s.CreateUser(ctx, admin, "lu@example.com", ""); err != nil {
		t.Fatal(err)
	}
	key, info, err := e.s.CreateKey(ctx, admin, "lu@example.com", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if !lastUsed(t, e, info.ID).IsZero() {
		t.Fatal("new key has a last use")
	}
	start := e.clock.now()
	for _, step := range []struct {
		advance time.Duration
		want    time.Duration // expected last_used_at - start
	}{
		{0, 0},                              // first use is written
		{30 * time.Second, 0},               // within a minute: not written
		{29 * time.Second, 0},               // still within
		{2 * time.Second, 61 * time.Second}, // a minute passed: written
		{time.Second, 61 * time.Second},
	} {
		e.clock.advance(step.advance)
		if _, err := e.s.Authenticate(ctx, key); err != nil {
			t.Fatal(err)
		}
		if got := lastUsed(t, e, info.ID); !got.Equal(fromMicros(micros(start.Add(step.want)))) {
			t.Fatalf("at +%s last_used = +%s, want +%s", e.clock.now().Sub(start), got.Sub(start), step.want)
		}
	}
	// Another instance (a second store) sees the recent stored value and
	// does not write either.
	other, err := New(e.r, e.app)
	if err != nil {
		t.Fatal(err)
	}
	other.now = e.clock.now
	if _, err := other.Authenticate(ctx, key); err != nil {
		t.Fatal(err)
	}
	if got := lastUsed(t, e, info.ID); !got.Equal(fromMicros(micros(start.Add(61 * time.Second)))) {
		t.Fatalf("second instance wrote last_used %s", got)
	}
}

func testConcurrentKeys(t *testing.T, e *env) {
	ctx := context.Background()
	if _, err := e.s.CreateUser(ctx, admin, "many@example.com", ""); err != nil {
		t.Fatal(err)
	}
	const n = 16
	keys := make([]string, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			k, _, err := e.s.CreateKey(ctx, admin, "many@example.com", time.Time{})
			keys[i] = k
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]bool{}
	for _, k := range keys {
		if seen[k] {
			t.Fatalf("duplicate key %s", k[:DisplayPrefix])
		}
		seen[k] = true
		if u, err := e.s.Authenticate(ctx, k); err != nil || u != "many@example.com" {
			t.Fatalf("Authenticate = %q, %v", u, err)
		}
	}
	list, err := e.s.ListKeys(ctx, "many@example.com")
	if err != nil || len(list) != n {
		t.Fatalf("ListKeys = %d, %v", len(list), err)
	}
}

// snapshot is everything a change could touch, for "nothing changed".
func snapshot(t *testing.T, s *Store) string {
	t.Helper()
	ctx := context.Background()
	var b strings.Builder
	users, err := s.ListUsers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	roles, err := s.ListRoles(ctx)
	if err != nil {
		t.Fatal(err)
	}
	grants, err := s.ListGrants(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	keys, err := s.ListKeys(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	var pending int
	if err := s.db.QueryRow(s.q(`SELECT (SELECT COUNT(*) FROM grants WHERE pending = ?) + (SELECT COUNT(*) FROM api_keys WHERE pending = ?)`), true, true).Scan(&pending); err != nil {
		t.Fatal(err)
	}
	for _, v := range []any{users, roles, grants, keys, pending} {
		b.WriteString(strings.TrimSpace(strings.ReplaceAll(fmt.Sprintf("%+v", v), "\n", " ")))
		b.WriteByte('|')
	}
	return b.String()
}

func testFailClosed(t *testing.T, e *env) {
	ctx := context.Background()
	if _, err := e.s.CreateUser(ctx, admin, "fc@example.com", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.CreateRole(ctx, admin, "FailRole", "", []string{"ViewMetrics"}, false); err != nil {
		t.Fatal(err)
	}
	g, err := e.s.Assign(ctx, admin, "fc@example.com", "FailRole", nil, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	_, k, err := e.s.CreateKey(ctx, admin, "fc@example.com", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	// A second store whose appender is closed: every change must fail.
	closed := newEnv(t, e.r)
	if err := closed.app.Close(ctx); err != nil {
		t.Fatal(err)
	}
	before, records := snapshot(t, e.s), auditCount(t, e.r)
	s := closed.s
	for _, tc := range []struct {
		name string
		do   func() error
	}{
		{"create user", func() error { _, err := s.CreateUser(ctx, admin, "fc2@example.com", ""); return err }},
		{"disable user", func() error { return s.DisableUser(ctx, admin, "fc@example.com") }},
		{"create role", func() error {
			_, err := s.CreateRole(ctx, admin, "FailRole2", "", []string{"ViewMetrics"}, false)
			return err
		}},
		{"update role", func() error {
			_, err := s.UpdateRole(ctx, admin, "FailRole", rbac.Role{Name: "FailRole", Permissions: []rbac.Permission{rbac.ViewAlerts}})
			return err
		}},
		{"update built-in", func() error {
			_, err := s.UpdateRole(ctx, admin, "Viewer", rbac.Role{Name: "Viewer", Description: "x", Permissions: []rbac.Permission{rbac.ViewMetrics, rbac.ViewAlerts}})
			return err
		}},
		{"delete role", func() error { return s.DeleteRole(ctx, admin, "FailRole", true) }},
		{"assign", func() error { _, err := s.Assign(ctx, admin, "fc@example.com", "DBA", nil, time.Time{}); return err }},
		{"revoke", func() error { return s.Revoke(ctx, admin, g.ID) }},
		{"create key", func() error { _, _, err := s.CreateKey(ctx, admin, "fc@example.com", time.Time{}); return err }},
		{"revoke key", func() error { return s.RevokeKey(ctx, admin, k.ID) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.do()
			if !errors.Is(err, ErrAudit) || !errors.Is(err, audit.ErrClosed) {
				t.Fatalf("err = %v, want ErrAudit wrapping audit.ErrClosed", err)
			}
			if after := snapshot(t, e.s); after != before {
				t.Fatalf("state changed:\nbefore %s\nafter  %s", before, after)
			}
		})
	}
	if n := auditCount(t, e.r); n != records {
		t.Fatalf("audit records %d -> %d while every change was refused", records, n)
	}
}

// racingAuditor appends, then runs a hook that changes the repository
// behind the store's back, as another administrator would.
type racingAuditor struct {
	Auditor
	hook func()
}

func (a racingAuditor) Append(ctx context.Context, e audit.Event) (int64, error) {
	id, err := a.Auditor.Append(ctx, e)
	if err == nil && a.hook != nil {
		a.hook()
	}
	return id, err
}

func testNotApplied(t *testing.T, e *env) {
	ctx := context.Background()
	if _, err := e.s.CreateUser(ctx, admin, "race@example.com", ""); err != nil {
		t.Fatal(err)
	}
	s, err := New(e.r, racingAuditor{Auditor: e.app, hook: func() {
		if _, err := e.r.DB().Exec(e.r.Rebind(`UPDATE users SET disabled = ? WHERE name = ?`), true, "race@example.com"); err != nil {
			t.Error(err)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DisableUser(ctx, admin, "race@example.com"); !errors.Is(err, ErrConflict) {
		t.Fatalf("DisableUser = %v, want ErrConflict", err)
	}
	recs := auditOf(t, e.r, "user", "race@example.com")
	if len(recs) != 3 || !recs[1].Success || recs[2].Success || !strings.Contains(recs[2].Error, "not applied") {
		t.Fatalf("records = %+v", recs)
	}
}

func testPolicyCache(t *testing.T, e *env) {
	ctx := context.Background()
	c := NewPolicyCache(e.s, time.Minute)
	p1, err := c.Policy(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if p2, _ := c.Policy(ctx); p2 != p1 {
		t.Fatal("unchanged store: policy reloaded")
	}
	who := rbac.Identity{User: "cached@example.com"}
	if p1.Decide(e.clock.now(), who, rbac.ViewMetrics, "", "", "").Allowed {
		t.Fatal("allowed before the grant")
	}
	if _, err := e.s.Assign(ctx, admin, who.User, "Viewer", nil, time.Time{}); err != nil {
		t.Fatal(err)
	}
	p3, err := c.Policy(ctx)
	if err != nil || p3 == p1 || !p3.Decide(e.clock.now(), who, rbac.ViewMetrics, "", "", "").Allowed {
		t.Fatalf("after a local change the cache did not reload: %v", err)
	}
	// A change by another instance (a direct write) shows after the TTL.
	if _, err := e.r.DB().Exec(e.r.Rebind(`DELETE FROM grants WHERE subject = ?`), who.User); err != nil {
		t.Fatal(err)
	}
	if p4, _ := c.Policy(ctx); p4 != p3 {
		t.Fatal("reloaded before the TTL")
	}
	e.clock.advance(time.Minute)
	p5, err := c.Policy(ctx)
	if err != nil || p5 == p3 || p5.Decide(e.clock.now(), who, rbac.ViewMetrics, "", "", "").Allowed {
		t.Fatalf("after the TTL the cache did not reload: %v", err)
	}
}

// testNoSecretsInAudit creates a key and checks that no audit value, of
// any record so far, holds any key's plaintext or hash in any encoding.
func testNoSecretsInAudit(t *testing.T, e *env) {
	ctx := context.Background()
	if _, err := e.s.CreateUser(ctx, admin, "sec@example.com", ""); err != nil {
		t.Fatal(err)
	}
	var secrets []string
	for range 3 {
		k, info, err := e.s.CreateKey(ctx, admin, "sec@example.com", time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.s.RevokeKey(ctx, admin, info.ID); err != nil {
			t.Fatal(err)
		}
		h := hashKey(k)
		secrets = append(secrets, k, k[DisplayPrefix:], hex.EncodeToString(h), base64.StdEncoding.EncodeToString(h), base64.RawURLEncoding.EncodeToString(h))
	}
	rows, err := e.r.DB().Query(`SELECT COALESCE(old_value, ''), COALESCE(new_value, ''), error FROM audit_events`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var o, nv, msg string
		if err := rows.Scan(&o, &nv, &msg); err != nil {
			t.Fatal(err)
		}
		n++
		for _, sec := range secrets {
			if strings.Contains(o+nv+msg, sec) {
				t.Fatalf("audit record holds a key secret or hash: %s %s", o, nv)
			}
		}
		if strings.Contains(o+nv, "hash") {
			t.Fatalf("audit record mentions a hash: %s %s", o, nv)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if n < 6 {
		t.Fatalf("only %d audit records", n)
	}
}
