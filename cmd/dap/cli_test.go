package main

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dap-platform/dap/internal/demo"
	"github.com/dap-platform/dap/internal/testdb"
)

// sentinel is a DSN password that must appear in no output.
const sentinel = "S3cr3tPa55"

// runCLI runs one dap command in-process.
func runCLI(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, errOut := &syncBuffer{}, &syncBuffer{}
	cmd := newRoot(out, errOut)
	cmd.SetArgs(args)
	err = cmd.ExecuteContext(ctx)
	return out.String(), errOut.String(), err
}

// tinyShop writes dir/shop.db with a few customers. `dap demo` reuses an
// existing demo database, so the commands can be tested without
// generating the full sample (internal/demo tests the generator; under
// the race detector it takes many seconds).
func tinyShop(t *testing.T, dir string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, demo.FileName)
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TABLE customers (id INTEGER PRIMARY KEY, first_name TEXT NOT NULL, last_name TEXT NOT NULL);
INSERT INTO customers VALUES (1, 'Ada', 'Lovelace'), (2, 'Alan', 'Turing'), (3, 'Grace', 'Hopper');`); err != nil {
		t.Fatal(err)
	}
	return path
}

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "dap.yaml")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestCheck(t *testing.T) {
	t.Setenv("CLI_PG_DSN", testdb.Postgres(t, "cli"))
	t.Setenv("CLI_MY_DSN", testdb.MySQL(t, "cli"))
	lite := tinyShop(t, t.TempDir())
	port := testdb.ClosedPort(t)
	t.Setenv("CLI_DOWN_PG", fmt.Sprintf("postgres://postgres:%s@127.0.0.1:%d/nowhere?connect_timeout=2", sentinel, port))
	t.Setenv("CLI_DOWN_MY", fmt.Sprintf("root:%s@tcp(127.0.0.1:%d)/nowhere?timeout=2s", sentinel, port))
	t.Setenv("CLI_DOWN_MS", fmt.Sprintf("sqlserver://sa:%s@127.0.0.1:%d?database=nowhere&dial+timeout=2", sentinel, port))
	reachable := `  - name: pg
    engine: postgres
    dsn: ${CLI_PG_DSN}
  - name: pgrw
    engine: postgres
    dsn: ${CLI_PG_DSN}
    access: read-write
  - name: maria
    engine: mysql
    dsn: ${CLI_MY_DSN}
  - name: lite
    engine: sqlite
    dsn: ` + lite + "\n"
	down := `  - name: downpg
    engine: postgres
    dsn: ${CLI_DOWN_PG}
  - name: downmy
    engine: mysql
    dsn: ${CLI_DOWN_MY}
    access: read-write
  - name: downms
    engine: sqlserver
    dsn: ${CLI_DOWN_MS}
  - name: gone
    engine: sqlite
    dsn: ` + filepath.Join(t.TempDir(), "absent.db") + "\n"
	type line struct{ engine, version, access, status string }
	okRO := "ok (read-only enforced by the database: self-test passed)"
	tests := []struct {
		name    string
		targets string
		want    map[string]line // status is a prefix
		wantErr string
	}{
		{"all reachable", reachable, map[string]line{
			"pg":    {"postgres", `PostgreSQL \d+`, "read-only", okRO},
			"pgrw":  {"postgres", `PostgreSQL \d+`, "read-write", "ok"},
			"maria": {"mysql", `MariaDB \d+`, "read-only", okRO},
			"lite":  {"sqlite", `SQLite \d+`, "read-only", okRO},
		}, ""},
		{"unreachable with a password, and a missing file", reachable + down, map[string]line{
			"pg":     {"postgres", `PostgreSQL \d+`, "read-only", okRO},
			"pgrw":   {"postgres", `PostgreSQL \d+`, "read-write", "ok"},
			"maria":  {"mysql", `MariaDB \d+`, "read-only", okRO},
			"lite":   {"sqlite", `SQLite \d+`, "read-only", okRO},
			"downpg": {"postgres", "-", "read-only", "unreachable: "},
			"downmy": {"mysql", "-", "read-write", "unreachable: "},
			"downms": {"sqlserver", "-", "read-only", "unreachable: "},
			"gone":   {"sqlite", "-", "read-only", "error: "},
		}, "4 of 8 target(s) not ok"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := writeConfig(t, "targets:\n"+tc.targets)
			start := time.Now()
			out, errOut, err := runCLI(t, "check", "--config", cfg)
			if d := time.Since(start); d > 20*time.Second {
				t.Errorf("check took %v", d)
			}
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || err.Error() != tc.wantErr) {
				t.Fatalf("error %v, want %q\nstdout:\n%s\nstderr:\n%s", err, tc.wantErr, out, errOut)
			}
			all := out + errOut
			if err != nil {
				all += err.Error()
			}
			if strings.Contains(all, sentinel) {
				t.Errorf("the DSN password is in the output:\n%s", all)
			}
			lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
			if !strings.HasPrefix(lines[0], "TARGET") {
				t.Fatalf("no header: %q", lines[0])
			}
			// One line per target, in file order, then the verdict when ok.
			rows := lines[1:]
			if tc.wantErr == "" {
				if want := fmt.Sprintf("configuration %s is valid; %d target(s) ok", cfg, len(tc.want)); rows[len(rows)-1] != want {
					t.Errorf("last line %q, want %q", rows[len(rows)-1], want)
				}
				rows = rows[:len(rows)-1]
			}
			if len(rows) != len(tc.want) {
				t.Fatalf("%d target lines, want %d:\n%s", len(rows), len(tc.want), out)
			}
			for _, row := range rows {
				f := regexp.MustCompile(`\s{2,}`).Split(row, 5)
				if len(f) != 5 {
					t.Errorf("line %q has not 5 columns", row)
					continue
				}
				w, ok := tc.want[f[0]]
				switch {
				case !ok:
					t.Errorf("unexpected line %q", row)
				case f[1] != w.engine || f[3] != w.access || !strings.HasPrefix(f[4], w.status):
					t.Errorf("line %q, want %+v", row, w)
				case !regexp.MustCompile(`^` + w.version).MatchString(f[2]):
					t.Errorf("line %q: version %q does not match %s", row, f[2], w.version)
				}
				if w.status == "unreachable: " && !strings.Contains(f[4], "connection refused") {
					t.Errorf("line %q does not say why", row)
				}
			}
		})
	}
}

func TestInvalidConfig(t *testing.T) {
	tests := []struct {
		name string
		body string
		want []string // %s is the file
	}{
		{"bad engine and misspelled key", "targets:\n  - name: a\n    engine: postgress\n    dsn: x\n    acess: read-only\n",
			[]string{`%s:3: `, `"postgress"`, `%s:5: `, `"access"`}},
		{"not YAML", "targets: [\n", []string{"%s:", "not valid YAML"}},
		{"duplicate target", "targets:\n  - name: a\n    engine: sqlite\n    dsn: a.db\n  - name: a\n    engine: sqlite\n    dsn: b.db\n",
			[]string{"%s:5: ", "duplicate", "line 2"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := writeConfig(t, tc.body)
			out, _, err := runCLI(t, "check", "--config", cfg)
			if err == nil {
				t.Fatalf("check accepted an invalid file; stdout %q", out)
			}
			for _, w := range tc.want {
				if w = strings.ReplaceAll(w, "%s", cfg); !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
	t.Run("missing file", func(t *testing.T) {
		_, _, err := runCLI(t, "check", "--config", filepath.Join(t.TempDir(), "absent.yaml"))
		if err == nil || !strings.Contains(err.Error(), "absent.yaml") || !strings.Contains(err.Error(), "dap demo") {
			t.Errorf("missing file: %v", err)
		}
	})
	// The binary prints the error on stderr and exits with status 1.
	t.Run("binary", func(t *testing.T) {
		cfg := writeConfig(t, tests[0].body)
		cmd := exec.Command(os.Args[0], "check", "--config", cfg)
		cmd.Env = append(os.Environ(), "DAP_E2E_MAIN=1")
		var stdout, stderr syncBuffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 1 {
			t.Fatalf("exit: %v, want status 1", err)
		}
		if want := "dap: " + cfg + ":3: "; !strings.HasPrefix(stderr.String(), want) || !strings.Contains(stderr.String(), cfg+":5: ") {
			t.Errorf("stderr %q, want it to start with %q and name line 5", stderr.String(), want)
		}
		if stdout.String() != "" {
			t.Errorf("stdout %q, want nothing", stdout.String())
		}
	})
}

func TestVersion(t *testing.T) {
	out, _, err := runCLI(t, "version")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^dap ` + regexp.QuoteMeta(versionString()) + ` \(go1\.\d+[^)]*\)\n$`).MatchString(out) {
		t.Errorf("version printed %q", out)
	}
	if _, _, err := runCLI(t, "version", "extra"); err == nil {
		t.Error("version accepted an argument")
	}
}

func TestUsageErrors(t *testing.T) {
	cfg := writeConfig(t, "targets:\n  - name: lite\n    engine: sqlite\n    dsn: "+tinyShop(t, t.TempDir())+"\n")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"serve log level", []string{"serve", "--config", cfg, "--log-level", "loud"}, `--log-level "loud"`},
		{"demo log level", []string{"demo", "--dir", t.TempDir(), "--log-level", "loud"}, `--log-level "loud"`},
		{"check argument", []string{"check", "--config", cfg, "surplus"}, "surplus"},
		{"serve bad port", []string{"serve", "--config", cfg, "--listen", "127.0.0.1:99999"}, "127.0.0.1:99999"},
		{"unknown command", []string{"no-such-command"}, "unknown command"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := runCLI(t, tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}

// TestDemoHTTP runs `dap demo` in-process, follows its printed help and
// stops it.
func TestDemoHTTP(t *testing.T) {
	for _, listen := range []string{"127.0.0.1:0"} {
		t.Run(listen, func(t *testing.T) {
			// Quotes and a backslash in the path: the printed JSON must
			// still be valid.
			dir := filepath.Join(t.TempDir(), `my "demo" \dir`)
			tinyShop(t, dir)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			out, errOut := &syncBuffer{}, &syncBuffer{}
			cmd := newRoot(out, errOut)
			cmd.SetArgs([]string{"demo", "--dir", dir, "--listen", listen})
			done := make(chan error, 1)
			go func() { done <- cmd.ExecuteContext(ctx) }()
			var url string
			for deadline := time.Now().Add(30 * time.Second); url == "" && time.Now().Before(deadline); {
				if strings.Contains(out.String(), "Stop with Ctrl-C.") {
					url = urlRe.FindString(out.String())
					break
				}
				select {
				case err := <-done:
					t.Fatalf("demo ended early: %v\nstderr: %s", err, errOut.String())
				case <-time.After(10 * time.Millisecond):
				}
			}
			if url == "" {
				t.Fatalf("demo printed no URL:\n%s\nstderr: %s", out.String(), errOut.String())
			}
			help := out.String()
			checkHelp(t, help, url, dir)

			s := connectHTTP(t, url)
			tools, err := s.ListTools(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			names := map[string]bool{}
			for _, tl := range tools.Tools {
				names[tl.Name] = true
			}
			if !names["execute_sql"] || !names["list_targets"] || len(names) != 8 {
				t.Errorf("tools: %v", names)
			}
			m, _ := mustOK(t, s, "execute_sql", map[string]any{"target": "shop", "sql": "SELECT first_name FROM customers ORDER BY id"})
			if fmt.Sprint(m["rows"]) != "[[Ada] [Alan] [Grace]]" {
				t.Errorf("customers: %v", m["rows"])
			}
			mustFail(t, s, "execute_sql", map[string]any{"target": "shop", "sql": "DELETE FROM customers"}, "refused")
			_ = s.Close()

			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("demo ended with %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("demo did not stop within 10 s of cancel")
			}
			if out.String() != help {
				t.Errorf("demo wrote to stdout after the help: %q", strings.TrimPrefix(out.String(), help))
			}
			// Logs go to stderr, as JSON.
			for _, l := range strings.Split(strings.TrimSpace(errOut.String()), "\n") {
				if l != "" && !json.Valid([]byte(l)) {
					t.Errorf("stderr line is not a JSON log line: %q", l)
				}
			}
		})
	}
}

// checkHelp follows each client's instructions in the demo's help.
func checkHelp(t *testing.T, help, url, dir string) {
	t.Helper()
	abs, _ := filepath.Abs(dir)
	for _, want := range []string{
		`DAP demo is serving target "shop" (SQLite, read-only) at ` + url + "\n",
		"claude mcp add --transport http dap " + url + "\n",
		`then choose transport "Streamable HTTP" and URL ` + url + "\n",
		"npx @modelcontextprotocol/inspector\n",
	} {
		if !strings.Contains(help, want) {
			t.Errorf("help lacks %q:\n%s", want, help)
		}
	}
	var vscode struct {
		Servers map[string]struct{ Type, URL string }
	}
	var desktop struct {
		MCPServers map[string]struct {
			Command string
			Args    []string
		} `json:"mcpServers"`
	}
	for _, l := range strings.Split(help, "\n") {
		l = strings.TrimSpace(l)
		switch {
		case strings.HasPrefix(l, `{"servers"`):
			if err := json.Unmarshal([]byte(l), &vscode); err != nil {
				t.Errorf("VS Code snippet %s: %v", l, err)
			}
		case strings.HasPrefix(l, `{"mcpServers"`):
			if err := json.Unmarshal([]byte(l), &desktop); err != nil {
				t.Errorf("Claude Desktop snippet %s: %v", l, err)
			}
		}
	}
	if s := vscode.Servers["dap"]; s.Type != "http" || s.URL != url {
		t.Errorf("VS Code snippet: %+v", vscode)
	}
	if s := desktop.MCPServers["dap"]; strings.Join(s.Args, "|") != "demo|--stdio|--dir|"+abs {
		t.Errorf("Claude Desktop snippet: %+v, want --dir %q", desktop, abs)
	}
}

// TestStdioStdoutIsProtocol runs the stdio servers as a child process,
// talks JSON-RPC to them by hand, and checks that every line on stdout is
// a JSON-RPC message.
func TestStdioStdoutIsProtocol(t *testing.T) {
	dir := t.TempDir()
	shop := tinyShop(t, filepath.Join(dir, "demo"))
	cfg := writeConfig(t, "targets:\n  - name: shop\n    engine: sqlite\n    dsn: "+shop+"\n")
	for _, args := range [][]string{
		{"demo", "--stdio", "--dir", filepath.Join(dir, "demo")},
		{"mcp", "--config", cfg, "--log-level", "debug"},
	} {
		t.Run(strings.Join(args[:2], " "), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, os.Args[0], args...)
			cmd.Env = append(os.Environ(), "DAP_E2E_MAIN=1")
			var stderr syncBuffer
			cmd.Stderr = &stderr
			stdin, err := cmd.StdinPipe()
			if err != nil {
				t.Fatal(err)
			}
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			for _, m := range []string{
				`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`,
				`{"jsonrpc":"2.0","method":"notifications/initialized"}`,
				`{"jsonrpc":"2.0","id":2,"method":"tools/list"}`,
				`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"execute_sql","arguments":{"target":"shop","sql":"SELECT last_name FROM customers WHERE id = 3"}}}`,
				`{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"execute_sql","arguments":{"target":"shop","sql":"DROP TABLE customers"}}}`,
			} {
				if _, err := io.WriteString(stdin, m+"\n"); err != nil {
					t.Fatal(err)
				}
			}
			answered := map[float64]string{}
			sc := bufio.NewScanner(stdout)
			sc.Buffer(make([]byte, 1<<20), 1<<20)
			for len(answered) < 4 && sc.Scan() {
				var msg struct {
					JSONRPC string           `json:"jsonrpc"`
					ID      *float64         `json:"id"`
					Result  *json.RawMessage `json:"result"`
					Error   *json.RawMessage `json:"error"`
				}
				if err := json.Unmarshal(sc.Bytes(), &msg); err != nil || msg.JSONRPC != "2.0" {
					t.Fatalf("stdout line is not a JSON-RPC message: %q", sc.Text())
				}
				if msg.ID != nil && msg.Result != nil {
					answered[*msg.ID] = string(*msg.Result)
				}
			}
			// EOF on stdin ends the server cleanly; stdout must then be
			// drained to its end, and hold only protocol too.
			_ = stdin.Close()
			for sc.Scan() {
				if !json.Valid(sc.Bytes()) {
					t.Errorf("stdout line after the calls is not JSON: %q", sc.Text())
				}
			}
			if err := cmd.Wait(); err != nil {
				t.Errorf("server exited with %v; stderr: %s", err, stderr.String())
			}
			if len(answered) != 4 {
				t.Fatalf("answers: %v; stderr: %s", answered, stderr.String())
			}
			if !strings.Contains(answered[3], `Hopper`) || !strings.Contains(answered[3], `"correlation_id"`) {
				t.Errorf("execute_sql answer: %s", answered[3])
			}
			if !strings.Contains(answered[4], `"isError":true`) || !strings.Contains(answered[4], "refused") {
				t.Errorf("DROP answer: %s", answered[4])
			}
			if !strings.Contains(stderr.String(), `"msg":"dap serving MCP on stdio"`) {
				t.Errorf("stderr has no log line: %s", stderr.String())
			}
		})
	}
}

// TestDemoRefusesExposedListen: the demo has no authentication, so it
// listens on loopback only.
func TestDemoRefusesExposedListen(t *testing.T) {
	for _, listen := range []string{":0", "0.0.0.0:0"} {
		dir := t.TempDir()
		tinyShop(t, dir)
		out, err := runDap(t, "", "demo", "--dir", dir, "--listen", listen)
		if err == nil || !strings.Contains(err.Error(), "auth") {
			t.Errorf("demo --listen %s: %v\n%s", listen, err, out)
		}
	}
}

func TestBaseURL(t *testing.T) {
	for _, tc := range []struct {
		addr net.Addr
		want string
	}{
		{&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8787}, "http://127.0.0.1:8787"},
		{&net.TCPAddr{IP: net.IPv6unspecified, Port: 9000}, "http://127.0.0.1:9000"},
		{&net.TCPAddr{IP: net.IPv4zero, Port: 9001}, "http://127.0.0.1:9001"},
		{&net.TCPAddr{IP: net.IPv6loopback, Port: 9002}, "http://[::1]:9002"},
	} {
		if got := baseURL(tc.addr); got != tc.want {
			t.Errorf("baseURL(%v) = %q, want %q", tc.addr, got, tc.want)
		}
	}
}
