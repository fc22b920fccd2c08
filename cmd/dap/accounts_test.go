package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dap-platform/dap/internal/accounts"
	"github.com/dap-platform/dap/internal/app"
	"github.com/dap-platform/dap/internal/audit"
	"github.com/dap-platform/dap/internal/config"
)

const testActor = "admin@example.com"

// accountsFixture writes a dap.yaml with a read-only SQLite target (shop)
// and a read-write one (scratch), with data_dir beside it.
func accountsFixture(t *testing.T) (cfgPath, dataDir string) {
	t.Helper()
	dir := t.TempDir()
	dataDir = filepath.Join(dir, "data")
	cfgPath = filepath.Join(dir, "dap.yaml")
	body := fmt.Sprintf(`data_dir: %s
targets:
  - {name: shop, engine: sqlite, dsn: "file:%s", access: read-only}
  - {name: scratch, engine: sqlite, dsn: "file:%s", access: read-write}
`, dataDir, filepath.Join(dir, "shop.db"), filepath.Join(dir, "scratch.db"))
	if err := os.WriteFile(cfgPath, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return cfgPath, dataDir
}

// step is one dap command and what its output must (not) contain.
type step struct {
	name    string
	args    []string
	wantErr string   // substring of the error; "" means success
	want    []string // substrings of the combined output
	notWant []string
}

func runSteps(t *testing.T, cfg string, steps []step) {
	t.Helper()
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			args := append(append([]string{}, s.args...), "--config", cfg, "--actor", testActor)
			out, err := runDap(t, "", args...)
			switch {
			case s.wantErr == "" && err != nil:
				t.Fatalf("dap %s: %v\n%s", strings.Join(s.args, " "), err, out)
			case s.wantErr != "" && err == nil:
				t.Fatalf("dap %s succeeded, want an error containing %q\n%s", strings.Join(s.args, " "), s.wantErr, out)
			case s.wantErr != "" && !strings.Contains(err.Error(), s.wantErr):
				t.Fatalf("dap %s: error %q, want it to contain %q", strings.Join(s.args, " "), err, s.wantErr)
			}
			for _, w := range s.want {
				if !strings.Contains(out, w) {
					t.Errorf("dap %s: output lacks %q:\n%s", strings.Join(s.args, " "), w, out)
				}
			}
			for _, w := range s.notWant {
				if strings.Contains(out, w) {
					t.Errorf("dap %s: output has %q:\n%s", strings.Join(s.args, " "), w, out)
				}
			}
		})
	}
}

// authenticate presents key to the accounts store of dataDir.
func authenticate(t *testing.T, dataDir, key string) (string, error) {
	t.Helper()
	ctx := context.Background()
	r, priv, err := app.OpenRepository(ctx, &config.Config{DataDir: dataDir})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	a, err := audit.NewAppender(r, priv, audit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close(ctx)
	s, err := accounts.New(r, a)
	if err != nil {
		t.Fatal(err)
	}
	return s.Authenticate(ctx, key)
}

// TestAccountsCLI drives users, keys, roles, grants and `dap can` on one
// data directory, then checks the audit trail.
func TestAccountsCLI(t *testing.T) {
	cfg, dataDir := accountsFixture(t)
	const alice = "alice@example.com"

	runSteps(t, cfg, []step{
		{name: "add alice", args: []string{"user", "add", alice, "--display", "Alice A."}, want: []string{"added user " + alice}},
		{name: "add bob", args: []string{"user", "add", "bob"}},
		{name: "add alice again", args: []string{"user", "add", alice}, wantErr: "already exists"},
		{name: "list users", args: []string{"user", "list"}, want: []string{alice, "Alice A.", "bob", "enabled"}},
	})

	// Keys: printed once on stdout alone, listed by prefix only.
	stdout, stderr, err := runCLI(t, "key", "create", "--user", alice, "--expires", "90d", "--config", cfg, "--actor", testActor)
	if err != nil {
		t.Fatalf("key create: %v\n%s", err, stderr)
	}
	key := strings.TrimSpace(stdout)
	if !regexp.MustCompile(`^dap_[a-z2-7]{52}$`).MatchString(key) {
		t.Fatalf("key create printed %q on stdout, want the key alone", stdout)
	}
	if !strings.Contains(stderr, "cannot be shown again") || strings.Contains(stderr, key) {
		t.Errorf("key create: stderr should warn and not repeat the key:\n%s", stderr)
	}
	if u, err := authenticate(t, dataDir, key); err != nil || u != alice {
		t.Fatalf("the printed key authenticates as %q, %v; want %s", u, err, alice)
	}
	prefix := key[:accounts.DisplayPrefix]
	in89 := time.Now().AddDate(0, 0, 89).UTC().Format("2006-01-02")
	in90 := time.Now().AddDate(0, 0, 90).UTC().Format("2006-01-02")

	runSteps(t, cfg, []step{
		{name: "list keys", args: []string{"key", "list"}, want: []string{prefix, alice}, notWant: []string{key}},
		{name: "list keys of bob", args: []string{"key", "list", "--user", "bob"}, want: []string{"PREFIX"}, notWant: []string{prefix}},
		{name: "revoke key", args: []string{"key", "revoke", "#1"}, want: []string{"revoked key #1"}},
		{name: "revoke key again", args: []string{"key", "revoke", "1"}, wantErr: "revoked"},
		{name: "revoke unknown key", args: []string{"key", "revoke", "99"}, wantErr: "not found"},
	})
	if _, err := authenticate(t, dataDir, key); !errors.Is(err, accounts.ErrKeyRevoked) {
		t.Fatalf("revoked key: %v, want ErrKeyRevoked", err)
	}
	out, err := runDap(t, "", "key", "list", "--user", alice, "--config", cfg)
	if err != nil {
		t.Fatal(err)
	}
	if line := lineWith(out, prefix); strings.Count(line, time.Now().UTC().Format("2006-01-02")) < 2 ||
		!(strings.Contains(line, in89) || strings.Contains(line, in90)) {
		t.Errorf("key line should show created, revoked today and an expiry in 90 days: %q", line)
	}

	in31d := time.Now().Add(31 * 24 * time.Hour).UTC().Format(time.RFC3339)
	runSteps(t, cfg, []step{
		{name: "developer everywhere", args: []string{"role", "assign", alice, "Developer"}, want: []string{"grant #1", "all targets", "never"}},
		{name: "developer reads", args: []string{"can", alice, "execute_sql", "shop", "read"},
			want: []string{"ALLOWED", "through role Developer", "grant #1"}},
		{name: "developer may not write", args: []string{"can", alice, "execute_sql", "scratch", "write"}, wantErr: "denied",
			want: []string{"DENIED", "none of the granted roles (Developer) includes it"}},

		{name: "dba on both, for 30 days", args: []string{"role", "assign", alice, "DBA", "--targets", "shop,scratch", "--expires", "30d"},
			want: []string{"grant #2", "targets shop, scratch"}},
		{name: "dba may not write on a read-only target", args: []string{"can", alice, "execute_sql", "shop", "write"}, wantErr: "denied",
			want: []string{"DENIED", `target "shop" is read-only`, "holds QueryWrite through role DBA"}},
		{name: "dba writes on a read-write target", args: []string{"can", alice, "execute_sql", "scratch", "write"},
			want: []string{"ALLOWED", "QueryWrite through role DBA", "+ grant #2"}},
		{name: "dba grant has expired", args: []string{"can", alice, "execute_sql", "scratch", "write", "--at", in31d}, wantErr: "denied",
			want: []string{"DENIED", "grant #2 (DBA to alice@example.com) expired at"}},
		{name: "grants of alice", args: []string{"role", "grants", alice}, want: []string{"Developer", "DBA", "shop,scratch", testActor}},

		{name: "revoke the dba grant", args: []string{"role", "revoke", "2"}, want: []string{"revoked grant #2"}},
		{name: "no more writes", args: []string{"can", alice, "execute_sql", "scratch", "write"}, wantErr: "denied"},
		{name: "grants after revoke", args: []string{"role", "grants"}, want: []string{"Developer"}, notWant: []string{"DBA"}},

		{name: "disabled user has no rights", args: []string{"user", "disable", alice}, want: []string{"disabled user " + alice}},
		{name: "disabled alice cannot read", args: []string{"can", alice, "execute_sql", "shop", "read"}, wantErr: "denied"},
		{name: "disable twice", args: []string{"user", "disable", alice}, wantErr: "already disabled"},
		{name: "enable alice", args: []string{"user", "enable", alice}, want: []string{"enabled user " + alice}},
		{name: "enabled alice reads again", args: []string{"can", alice, "execute_sql", "shop", "read"}, want: []string{"ALLOWED"}},

		{name: "group grant", args: []string{"role", "assign", "group:dbas", "DBA", "--targets", "scratch"}, want: []string{"DBA to group:dbas"}},
		{name: "group member writes", args: []string{"can", "dave", "execute_sql", "scratch", "write", "--groups", "dbas"},
			want: []string{"ALLOWED", "group:dbas"}},
		{name: "non-member may not", args: []string{"can", "dave", "execute_sql", "scratch", "write"}, wantErr: "denied",
			want: []string{"grants considered: none"}},

		{name: "custom role with mfa", args: []string{"role", "create", "Reader", "--permissions", "queryread,ViewMetrics", "--mfa", "--description", "reads"},
			want: []string{"created role Reader: QueryRead,ViewMetrics"}},
		{name: "role list", args: []string{"role", "list"},
			want: []string{"Administrator", "built-in", "Reader", "custom", "required", "QueryRead,ViewMetrics"}},
		{name: "assign custom role", args: []string{"role", "assign", "bob", "reader"}, want: []string{"Reader to bob"}},
		{name: "custom role needs mfa", args: []string{"can", "bob", "list_tables", "shop"}, wantErr: "denied",
			want: []string{"requires MFA"}},
		{name: "custom role with mfa allows", args: []string{"can", "bob", "list_tables", "shop", "--mfa"}, want: []string{"ALLOWED", "Reader"}},
		{name: "role in use", args: []string{"role", "delete", "Reader"}, wantErr: "in use"},
		{name: "force delete", args: []string{"role", "delete", "Reader", "--force"}, want: []string{"deleted role Reader"}},
		{name: "its grant went with it", args: []string{"role", "grants", "bob"}, notWant: []string{"Reader"}},
	})

	// Bad input: clear errors, nothing changed.
	runSteps(t, cfg, []step{
		{name: "unknown role", args: []string{"role", "assign", alice, "Wizard"}, wantErr: `role "Wizard": not found (see ` + "`dap role list`)"},
		{name: "unknown permission", args: []string{"role", "create", "Bad", "--permissions", "QueryRead,Fly"}, wantErr: `unknown permission "Fly" (known: ViewMetrics`},
		{name: "no permissions", args: []string{"role", "create", "Bad"}, wantErr: "--permissions is required"},
		{name: "builtin name", args: []string{"role", "create", "dba", "--permissions", "QueryRead"}, wantErr: "built-in"},
		{name: "delete builtin", args: []string{"role", "delete", "Viewer"}, wantErr: "cannot be deleted"},
		{name: "bad duration", args: []string{"role", "assign", alice, "DBA", "--expires", "3x"}, wantErr: `--expires "3x": want a positive duration`},
		{name: "zero days", args: []string{"key", "create", "--user", alice, "--expires", "0d"}, wantErr: "want a positive duration"},
		{name: "negative duration", args: []string{"key", "create", "--user", alice, "--expires", "-5h"}, wantErr: "want a positive duration"},
		{name: "key without user", args: []string{"key", "create"}, wantErr: "--user is required"},
		{name: "key for unknown user", args: []string{"key", "create", "--user", "nobody"}, wantErr: "dap user add nobody"},
		{name: "user add without name", args: []string{"user", "add"}, wantErr: "accepts 1 arg(s), received 0"},
		{name: "user name marks a group", args: []string{"user", "add", "group:x"}, wantErr: "marks a group"},
		{name: "enable unknown user", args: []string{"user", "enable", "nobody"}, wantErr: "not found"},
		{name: "assign without role", args: []string{"role", "assign", alice}, wantErr: "accepts 2 arg(s), received 1"},
		{name: "bad grant id", args: []string{"role", "revoke", "abc"}, wantErr: `grant id "abc": want a positive number`},
		{name: "unknown grant", args: []string{"role", "revoke", "999"}, wantErr: "grant #999: not found"},
		{name: "can without target", args: []string{"can", alice, "execute_sql"}, wantErr: "accepts between 3 and 4 arg(s)"},
		{name: "can unknown target", args: []string{"can", alice, "execute_sql", "nope", "read"}, wantErr: `target "nope" is not in the configuration (known: shop, scratch)`},
		{name: "can bad kind", args: []string{"can", alice, "execute_sql", "shop", "drop"}, wantErr: `statement kind "drop": want read, write, ddl or admin`},
		{name: "can unknown tool", args: []string{"can", alice, "fly", "shop"}, wantErr: `unknown tool "fly"`},
		{name: "can without kind", args: []string{"can", alice, "execute_sql", "shop"}, wantErr: "denied", want: []string{"give it (read, write, ddl or admin)"}},
		{name: "can bad time", args: []string{"can", alice, "list_tables", "shop", "--at", "tomorrow"}, wantErr: "--at \"tomorrow\""},
	})

	// The audit trail holds every change, by the actor, never the key;
	// and it verifies.
	db, err := sql.Open("sqlite", filepath.Join(dataDir, "dap.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT event_type, action, object_name, user_name FROM audit_events ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for rows.Next() {
		var typ, action, obj, actor string
		if err := rows.Scan(&typ, &action, &obj, &actor); err != nil {
			t.Fatal(err)
		}
		if actor != testActor {
			t.Errorf("audit record %s %s %s by %q, want %q", typ, action, obj, actor, testActor)
		}
		seen[typ+" "+action+" "+obj] = true
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	for _, want := range []string{
		"user_change create " + alice, "user_change update " + alice, "key_change create key #1", "key_change revoke key #1",
		"role_change assign grant #1", "role_change assign grant #2", "role_change revoke grant #2",
		"role_change create Reader", "role_change delete Reader",
	} {
		if !seen[want] {
			t.Errorf("audit trail lacks %q; it has %v", want, seen)
		}
	}
	raw, err := os.ReadFile(filepath.Join(dataDir, "dap.db"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), key) {
		t.Error("the repository holds the API key's plaintext")
	}
	out, err = runDap(t, "", "audit", "verify", "--config", cfg)
	if err != nil || !strings.Contains(out, "audit trail intact") || !strings.Contains(out, "records after the last checkpoint: 0") {
		t.Fatalf("audit verify: %v\n%s", err, out)
	}
}

// TestAccountsDataDirOnly: --data-dir alone needs no config file for
// account changes, and the actor defaults to the OS user.
func TestAccountsDataDirOnly(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir) // no dap.yaml here
	out, err := runDap(t, "", "user", "add", "carol", "--data-dir", filepath.Join(dir, "data"))
	if err != nil || !strings.Contains(out, "added user carol") {
		t.Fatalf("user add with --data-dir: %v\n%s", err, out)
	}
	out, err = runDap(t, "", "role", "assign", "carol", "Viewer", "--data-dir", filepath.Join(dir, "data"))
	if err != nil {
		t.Fatalf("role assign: %v\n%s", err, out)
	}
	out, err = runDap(t, "", "role", "grants", "--data-dir", filepath.Join(dir, "data"))
	if err != nil || !strings.Contains(lineWith(out, "carol"), "os:") {
		t.Fatalf("role grants should show an os: actor: %v\n%s", err, out)
	}
	// dap can needs the targets, so it says where they come from.
	_, err = runDap(t, "", "can", "carol", "list_tables", "shop", "--data-dir", filepath.Join(dir, "data"))
	if err == nil || !strings.Contains(err.Error(), "the configuration has no targets") {
		t.Fatalf("can without a config: %v", err)
	}
}

func TestParseLifetime(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"90d", 90 * 24 * time.Hour, true},
		{"1d", 24 * time.Hour, true},
		{"12h", 12 * time.Hour, true},
		{"1h30m", 90 * time.Minute, true},
		{"0d", 0, false},
		{"-1d", 0, false},
		{"d", 0, false},
		{"1.5d", 0, false},
		{"0s", 0, false},
		{"-3h", 0, false},
		{"999999d", 0, false},
		{"soon", 0, false},
	} {
		got, err := parseLifetime("expires", tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseLifetime(%q) = %v, %v; want %v, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
		if err != nil && !strings.Contains(err.Error(), fmt.Sprintf("--expires %q", tc.in)) {
			t.Errorf("parseLifetime(%q): error %q does not name the flag and value", tc.in, err)
		}
	}
}

// lineWith returns the first line of out containing s.
func lineWith(out, s string) string {
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, s) {
			return l
		}
	}
	return ""
}
