package sqlserver

import (
	"context"
	"strings"
	"testing"

	"github.com/dap-platform/dap/internal/engine"
)

const testPassword = "S3cr3t-Pa55word"

func TestOpenRejectsMalformedDSNWithoutLeakingPassword(t *testing.T) {
	tests := []struct{ name, dsn string }{
		{"url bad port", "sqlserver://sa:" + testPassword + "@db.example:notaport?database=shop"},
		{"url bad log flag echoes value", "sqlserver://sa:" + testPassword + "@db.example?database=shop&log=" + testPassword},
		{"url password in query, bad timeout", "sqlserver://db.example?user+id=sa&password=" + testPassword + "&connection+timeout=" + testPassword},
		{"ado bad port", "server=db.example;user id=sa;password=" + testPassword + ";port=" + testPassword},
		{"ado bad packet size", "server=db.example;user id=sa;password=" + testPassword + ";packet size=" + testPassword},
		{"ado dial timeout", "server=db.example;user id=sa;pwd=" + testPassword + ";dial timeout=" + testPassword},
		{"odbc braced password bad port", "odbc:server=db.example;user id=sa;password={" + testPassword + "};port=" + testPassword},
		{"readonly intent without database", "sqlserver://sa:" + testPassword + "@db.example?ApplicationIntent=ReadOnly"},
		{"empty", ""},
		{"blank", "   "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := Open(context.Background(), engine.Options{Name: "shop", DSN: tt.dsn})
			if err == nil {
				e.Close()
				t.Fatalf("Open accepted a malformed DSN")
			}
			msg := err.Error()
			t.Log(msg)
			if strings.Contains(msg, testPassword) {
				t.Errorf("error leaks the password: %s", msg)
			}
			if tt.dsn != "" && strings.TrimSpace(tt.dsn) != "" && strings.Contains(msg, tt.dsn) {
				t.Errorf("error echoes the DSN: %s", msg)
			}
			if !strings.Contains(msg, "shop") || !strings.Contains(msg, "DSN") {
				t.Errorf("error should name the target and the DSN: %s", msg)
			}
		})
	}
}

func TestOpenAcceptsValidDSNsWithoutConnecting(t *testing.T) {
	tests := []struct {
		name, dsn string
		guidConv  bool
	}{
		{"url", "sqlserver://sa:" + testPassword + "@127.0.0.1:1?database=shop", false},
		{"url readonly intent", "sqlserver://reader:" + testPassword + "@127.0.0.1:1?database=shop&ApplicationIntent=ReadOnly", false},
		{"ado", "server=127.0.0.1;port=1;user id=sa;password=" + testPassword + ";database=shop", false},
		{"guid conversion", "server=127.0.0.1;port=1;user id=sa;password=" + testPassword + ";guid conversion=true", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := Open(context.Background(), engine.Options{Name: "shop", DSN: tt.dsn})
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer e.Close()
			if e.Dialect() != engine.SQLServer {
				t.Errorf("Dialect = %q", e.Dialect())
			}
			if e.guidConv != tt.guidConv {
				t.Errorf("guidConv = %v, want %v", e.guidConv, tt.guidConv)
			}
			if got := e.db.Stats().MaxOpenConnections; got != defaultMaxConns {
				t.Errorf("MaxOpenConnections = %d, want %d", got, defaultMaxConns)
			}
		})
	}
	e, err := Open(context.Background(), engine.Options{Name: "shop", DSN: tests[0].dsn, MaxConns: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if got := e.db.Stats().MaxOpenConnections; got != 3 {
		t.Errorf("MaxOpenConnections = %d, want 3", got)
	}
}

func TestRedact(t *testing.T) {
	tests := []struct {
		msg     string
		secrets []string
		want    string
	}{
		{"invalid port 'p@ss'", []string{"p@ss"}, "invalid port 'xxxxx'"},
		{"bad value p%40ss", []string{"p@ss"}, "bad value xxxxx"},
		{"nothing to hide", []string{"", "zzz"}, "nothing to hide"},
	}
	for _, tt := range tests {
		if got := redact(tt.msg, tt.secrets...); got != tt.want {
			t.Errorf("redact(%q) = %q, want %q", tt.msg, got, tt.want)
		}
	}
}
