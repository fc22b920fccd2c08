package audit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/dap-platform/dap/internal/repo"
)

func TestCanonicalGolden(t *testing.T) {
	e := Event{
		Time: time.Date(2026, 1, 2, 3, 4, 5, 678901000, time.UTC), Type: TypeToolCall, User: "alice",
		OldValue: json.RawMessage(`{"a":1}`), Success: true, DurationMs: 12, RowsReturned: 3, SQLText: "SELECT 1",
	}
	got := Canonical(&e)
	// Pin the documented layout: a change here breaks every stored chain.
	var want []byte
	want = append(want, "dap-audit-v1"...)
	want = append(want, 0x00, 0x06, 0x47, 0x5e, 0xf6, 0x57, 0x4f, 0x35) // 1767323045678901 µs
	str := func(s string) {
		want = append(want, byte(len(s)>>24), byte(len(s)>>16), byte(len(s)>>8), byte(len(s)))
		want = append(want, s...)
	}
	for _, s := range []string{"tool_call", "alice", "", "", "", "", "", "", `{"a":1}`, ""} {
		str(s)
	}
	want = append(want, 1)
	str("")
	want = append(want, 0, 0, 0, 0, 0, 0, 0, 12)
	str("")
	str("")
	str("")
	want = append(want, 0, 0, 0, 0, 0, 0, 0, 3)
	str("")
	str("SELECT 1")
	if !bytes.Equal(got, want) {
		t.Fatalf("canonical form changed:\n got %x\nwant %x", got, want)
	}
	zero := make([]byte, HashSize)
	sum := sha256.Sum256(append(append([]byte{}, zero...), want...))
	if h := ChainHash(zero, &e); !bytes.Equal(h, sum[:]) {
		t.Fatalf("ChainHash = %x, want SHA-256(prev||canonical) = %x", h, sum)
	}
}

// Every field must change the canonical form, or tampering with it would
// go unnoticed.
func TestCanonicalCoversEveryField(t *testing.T) {
	base := sampleEvent(4)
	if err := normalize(&base, time.Now()); err != nil {
		t.Fatal(err)
	}
	mutations := map[string]func(e *Event){
		"Time":          func(e *Event) { e.Time = e.Time.Add(time.Microsecond) },
		"Type":          func(e *Event) { e.Type = "x" },
		"User":          func(e *Event) { e.User = "x" },
		"SessionID":     func(e *Event) { e.SessionID = "x" },
		"ClientAddr":    func(e *Event) { e.ClientAddr = "x" },
		"Application":   func(e *Event) { e.Application = "x" },
		"ObjectType":    func(e *Event) { e.ObjectType = "x" },
		"ObjectName":    func(e *Event) { e.ObjectName = "x" },
		"Action":        func(e *Event) { e.Action = "x" },
		"OldValue":      func(e *Event) { e.OldValue = json.RawMessage(`{}`) },
		"NewValue":      func(e *Event) { e.NewValue = nil },
		"Success":       func(e *Event) { e.Success = !e.Success },
		"Error":         func(e *Event) { e.Error = "x" },
		"DurationMs":    func(e *Event) { e.DurationMs++ },
		"DataClass":     func(e *Event) { e.DataClass = "x" },
		"Target":        func(e *Event) { e.Target = "x" },
		"StatementKind": func(e *Event) { e.StatementKind = "x" },
		"RowsReturned":  func(e *Event) { e.RowsReturned++ },
		"CorrelationID": func(e *Event) { e.CorrelationID = "x" },
		"SQLText":       func(e *Event) { e.SQLText = "x" },
		// Moving bytes between adjacent fields must not collide.
		"shift between fields": func(e *Event) { e.User, e.SessionID = e.User+e.SessionID[:1], e.SessionID[1:] },
	}
	want := Canonical(&base)
	for name, mutate := range mutations {
		e := base
		mutate(&e)
		if bytes.Equal(Canonical(&e), want) {
			t.Errorf("changing %s does not change the canonical form", name)
		}
	}
}

func TestNormalize(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 123456789, time.FixedZone("CEST", 7200))
	tests := []struct {
		name    string
		in      Event
		check   func(t *testing.T, e Event)
		wantErr string
	}{
		{"zero time becomes now, UTC, microseconds", Event{Type: "x"}, func(t *testing.T, e Event) {
			if !e.Time.Equal(now.Truncate(time.Microsecond)) || e.Time.Location() != time.UTC {
				t.Errorf("Time = %v", e.Time)
			}
		}, ""},
		{"JSON compacted, whitespace-only is absent", Event{Type: "x", OldValue: json.RawMessage(" { \"a\" : [1, 2] } "), NewValue: json.RawMessage("  ")}, func(t *testing.T, e Event) {
			if string(e.OldValue) != `{"a":[1,2]}` || e.NewValue != nil {
				t.Errorf("OldValue = %q, NewValue = %q", e.OldValue, e.NewValue)
			}
		}, ""},
		{"NUL and invalid UTF-8 replaced", Event{Type: "x", SQLText: "a\x00b\xffc"}, func(t *testing.T, e Event) {
			if e.SQLText != "a\uFFFDb\uFFFDc" {
				t.Errorf("SQLText = %q", e.SQLText)
			}
		}, ""},
		{"missing type", Event{}, nil, "event has no type"},
		{"invalid JSON", Event{Type: "x", NewValue: json.RawMessage("{nope")}, nil, "new value: not valid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := tt.in
			err := normalize(&e, now)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, e)
		})
	}
}

func TestRoundTrip(t *testing.T) {
	ctx := context.Background()
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			r := b.open(t)
			key := newKey(t)
			a, err := NewAppender(r, key, Options{CheckpointEvery: 10})
			if err != nil {
				t.Fatal(err)
			}
			// Empty trail verifies.
			if rep := verify(t, r, pubOf(key)); !rep.OK || rep.Records != 0 {
				t.Fatalf("empty trail: %+v", rep)
			}
			appendN(t, a, 1, 24)
			odd := Event{Type: TypeConfigChange, User: "ünïcødé\x00\xff", NewValue: json.RawMessage(`{"b": "x",  "a": [1, 2.50, null]}`)}
			id, err := a.Append(ctx, odd)
			if err != nil || id != 25 {
				t.Fatalf("Append = %d, %v; want 25", id, err)
			}
			if err := a.Close(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := a.Append(ctx, sampleEvent(0)); !errors.Is(err, ErrClosed) {
				t.Fatalf("Append after Close = %v, want ErrClosed", err)
			}
			rep := verify(t, r, pubOf(key))
			if !rep.OK || rep.Records != 25 || rep.FirstID != 1 || rep.LastID != 25 || rep.Unsigned != 0 || rep.Checkpoints != 3 {
				t.Fatalf("Verify = %+v (problem %v); want OK, 25 records, 3 checkpoints (10, 20, close), none unsigned", rep, rep.Problem)
			}
			// The stored hash of the first record is SHA-256(zeros || canonical).
			var h []byte
			if err := r.DB().QueryRow("SELECT hash FROM audit_events WHERE id = 1").Scan(&h); err != nil {
				t.Fatal(err)
			}
			e := sampleEvent(1)
			_ = normalize(&e, time.Now())
			if want := ChainHash(make([]byte, HashSize), &e); !bytes.Equal(h, want) {
				t.Fatalf("record 1 hash %x, want %x", h, want)
			}
			if !bytes.Equal(rep.HeadHash, headHash(t, r)) {
				t.Fatalf("report head hash %x differs from the stored head", rep.HeadHash)
			}
			// Verifying in parallel ranges reports the same.
			for _, chunk := range []int64{3, 5, 12} {
				par, err := verifyIn(ctx, r, pubOf(key), 8, chunk)
				if err != nil {
					t.Fatal(err)
				}
				if !par.OK || par.Records != rep.Records || par.Checkpoints != rep.Checkpoints || par.FirstID != 1 ||
					par.LastID != rep.LastID || par.Unsigned != 0 || !bytes.Equal(par.HeadHash, rep.HeadHash) {
					t.Fatalf("ranges of %d: %+v, want the same as %+v", chunk, par, rep)
				}
			}
			// Another key cannot vouch for these checkpoints.
			rep = verify(t, r, pubOf(newKey(t)))
			if rep.OK || rep.Problem.Kind != ProblemCheckpoint || rep.Problem.RecordID != 10 {
				t.Fatalf("Verify with a foreign key = %+v, want a checkpoint problem at 10", rep.Problem)
			}
		})
	}
}

func headHash(t *testing.T, r *repo.Repo) []byte {
	t.Helper()
	var h []byte
	if err := r.DB().QueryRow("SELECT hash FROM audit_events ORDER BY id DESC LIMIT 1").Scan(&h); err != nil {
		t.Fatal(err)
	}
	return h
}

func TestParseStoredTime(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"2026-11-25T10:13:24.123456Z", time.Date(2026, 11, 25, 10, 13, 24, 123456000, time.UTC), true},
		{"0001-01-01T00:00:00.000000Z", time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), true},
		{"2026-02-30T00:00:00.000000Z", time.Time{}, false},
		{"2026-11-25T10:13:24Z", time.Time{}, false},
		{"2026-11-25T1x:13:24.123456Z", time.Time{}, false},
		{"", time.Time{}, false},
	}
	for _, tt := range tests {
		got, err := parseStoredTime(tt.in)
		if (err == nil) != tt.ok || !got.Equal(tt.want) {
			t.Errorf("parseStoredTime(%q) = %v, %v; want %v (ok %v)", tt.in, got, err, tt.want, tt.ok)
		}
		if tt.ok && got.Format(sqliteTimeLayout) != tt.in {
			t.Errorf("parseStoredTime(%q) does not round-trip: %s", tt.in, got.Format(sqliteTimeLayout))
		}
	}
}
