package sqlserver

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	mssql "github.com/microsoft/go-mssqldb"

	"github.com/dap-platform/dap/internal/engine"
)

func TestMapError(t *testing.T) {
	deadline, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	canceled, cancel2 := context.WithCancel(context.Background())
	cancel2()
	live := context.Background()
	secrets := []string{testPassword, "4111111111111111"}

	tests := []struct {
		name     string
		ctx      context.Context
		err      error
		wantKind error  // sentinel expected via errors.Is, nil for *DBError
		wantCode string // for *DBError
		wantText string
	}{
		{"deadline passed", deadline, errors.New("mssql: some driver text"), engine.ErrTimeout, "", "exceeded the 200ms timeout"},
		{"driver returns ctx error", live, fmt.Errorf("read: %w", context.DeadlineExceeded), engine.ErrTimeout, "", "timeout"},
		{"caller cancelled", canceled, errors.New("x"), engine.ErrCanceled, "", "cancelled by the caller"},
		{"lock timeout 1222", live, mssql.Error{Number: 1222, Message: "Lock request time out period exceeded."}, engine.ErrTimeout, "", "lock timeout"},
		{"read-only database 3906", live, mssql.Error{Number: 3906, Message: "Failed to update database \"shop\" because the database is read-only."}, engine.ErrReadOnly, "", "read-only"},
		{"login failed 18456", live, mssql.Error{Number: 18456, Message: "Login failed for user 'reader'."}, engine.ErrUnavailable, "", "refused the login"},
		{"cannot open database 4060", live, mssql.Error{Number: 4060, Message: "Cannot open database \"shop\" requested by the login."}, engine.ErrUnavailable, "", "shop"},
		{"azure busy 40501", live, mssql.Error{Number: 40501, Message: "The service is currently busy."}, engine.ErrUnavailable, "", "busy"},
		{"attention abort 3980", live, mssql.Error{Number: 3980, Message: "The request failed to run because the batch is aborted"}, engine.ErrCanceled, "", "aborted"},
		{"syntax error", live, mssql.Error{Number: 102, Message: "Incorrect syntax near 'FORM'."}, nil, "102", "Incorrect syntax near 'FORM'."},
		{"permission", live, mssql.Error{Number: 229, Message: "The INSERT permission was denied on the object 'orders'."}, nil, "229", "INSERT permission"},
		{"server error wrapper", live, fmt.Errorf("wrapped: %w", mssql.Error{Number: 547, Message: "The DELETE statement conflicted with the REFERENCE constraint"}), nil, "547", "REFERENCE constraint"},
		{"bound value redacted", live, mssql.Error{Number: 245, Message: "Conversion failed when converting the varchar value '4111111111111111' to data type int."}, nil, "245", "value 'xxxxx' to"},
		{"connection reset", live, &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}, engine.ErrUnavailable, "", "connection to SQL Server lost"},
		{"bad conn", live, driver.ErrBadConn, engine.ErrUnavailable, "", "lost"},
		{"eof", live, io.EOF, engine.ErrUnavailable, "", "lost"},
		{"already mapped kept", live, fmt.Errorf("x: %w", engine.ErrNotFound), engine.ErrNotFound, "", "x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mapError(tt.ctx, tt.err, 200*time.Millisecond, "target shop: query", secrets)
			if got == nil {
				t.Fatal("mapError returned nil")
			}
			if tt.wantKind != nil {
				if !errors.Is(got, tt.wantKind) {
					t.Errorf("mapError = %v, want kind %v", got, tt.wantKind)
				}
			} else {
				var dbe *engine.DBError
				if !errors.As(got, &dbe) {
					t.Fatalf("mapError = %T %v, want *engine.DBError", got, got)
				}
				if dbe.Code != tt.wantCode {
					t.Errorf("code = %q, want %q", dbe.Code, tt.wantCode)
				}
			}
			if !strings.Contains(got.Error(), tt.wantText) {
				t.Errorf("message %q does not contain %q", got.Error(), tt.wantText)
			}
			for _, s := range secrets {
				if strings.Contains(got.Error(), s) {
					t.Errorf("message leaks %q: %s", s, got.Error())
				}
			}
		})
	}
	if mapError(live, nil, time.Second, "x", nil) != nil {
		t.Error("mapError(nil) != nil")
	}
}

func TestIsTransient(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"refused", fmt.Errorf("unable to open tcp connection with host '127.0.0.1:1': %w", &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}), true},
		{"reset", syscall.ECONNRESET, true},
		{"dial timeout", &net.OpError{Op: "dial", Net: "tcp", Err: &timeoutErr{}}, true},
		{"unwrapped text", errors.New("unable to open tcp connection with host 'x:1433': dial tcp: i/o timeout"), true},
		{"too many connections", mssql.Error{Number: 17809, Message: "Could not connect because the maximum number of '10' user connections has already been reached."}, true},
		{"server starting", mssql.Error{Number: 18401, Message: "Login failed for user 'sa'. Reason: Server is in script upgrade mode."}, true},
		{"azure unavailable", mssql.Error{Number: 40613, Message: "Database is not currently available."}, true},
		{"bad password", mssql.Error{Number: 18456, Message: "Login failed for user 'sa'."}, false},
		{"no database", mssql.Error{Number: 4060, Message: "Cannot open database"}, false},
		{"syntax", mssql.Error{Number: 102, Message: "Incorrect syntax"}, false},
		{"caller cancelled", context.Canceled, false},
		{"nil", nil, false},
	}
	for _, tt := range tests {
		if got := isTransient(tt.err); got != tt.want {
			t.Errorf("%s: isTransient = %v, want %v", tt.name, got, tt.want)
		}
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestArgSecrets(t *testing.T) {
	got := argSecrets([]any{"alice@example.com", 42, int64(123456), nil, []byte("xyz"), "ab"}, testPassword)
	want := []string{testPassword, "alice@example.com", "123456", "xyz"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("argSecrets = %q, want %q", got, want)
	}
}

func TestRefusedWrite(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"read-only database", mssql.Error{Number: 3906, Message: "Failed to update database \"shop\" because the database is read-only."}, true},
		{"create table permission", mssql.Error{Number: 262, Message: "CREATE TABLE permission denied in database 'shop'."}, true},
		{"object permission", mssql.Error{Number: 229, Message: "The INSERT permission was denied on the object 'orders'."}, true},
		{"schema permission", fmt.Errorf("exec: %w", mssql.Error{Number: 2760, Message: "The specified schema name \"dbo\" either does not exist or you do not have permission to use it."}), true},
		{"syntax error is not a refusal", mssql.Error{Number: 102, Message: "Incorrect syntax"}, false},
		{"network error is not a refusal", io.EOF, false},
	}
	for _, tt := range tests {
		if got := refusedWrite(tt.err); got != tt.want {
			t.Errorf("%s: refusedWrite = %v, want %v", tt.name, got, tt.want)
		}
	}
}
