package audit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Event types. Others may be used; these are the ones DAP emits.
const (
	TypeToolCall        = "tool_call"
	TypeAuthFailure     = "auth_failure"
	TypeConfigChange    = "config_change"
	TypeUserChange      = "user_change"
	TypeRoleChange      = "role_change"
	TypeKeyChange       = "key_change"
	TypeAlertRuleChange = "alert_rule_change"
	TypePurge           = "purge"
)

// Event is one audit record. ID, PrevHash and Hash are assigned by the
// Appender; parameter values of a statement are never part of an Event
// (SQLText keeps only the text).
type Event struct {
	ID            int64
	Time          time.Time // UTC, microsecond precision once stored
	Type          string
	User          string
	SessionID     string
	ClientAddr    string
	Application   string // client name/version
	ObjectType    string
	ObjectName    string
	Action        string
	OldValue      json.RawMessage // nil when absent
	NewValue      json.RawMessage // nil when absent
	Success       bool
	Error         string
	DurationMs    int64
	DataClass     string
	Target        string
	StatementKind string
	RowsReturned  int64
	CorrelationID string
	SQLText       string

	PrevHash []byte // hash of the previous record (32 zero bytes for the first)
	Hash     []byte // SHA-256(PrevHash || canonical(event))
}

// normalize brings e to the exact form that is stored, so that the hash
// computed before the write equals the one recomputed from the database:
// times are UTC and truncated to microseconds (both SQLite text and
// PostgreSQL timestamptz keep microseconds), strings are valid UTF-8
// without NUL (PostgreSQL text rejects both), and JSON values are compacted
// (whitespace is not meaningful, and an empty value is stored as NULL).
func normalize(e *Event, now time.Time) error {
	if e.Type == "" {
		return fmt.Errorf("audit: event has no type")
	}
	if e.Time.IsZero() {
		e.Time = now
	}
	e.Time = e.Time.UTC().Truncate(time.Microsecond)
	if y := e.Time.Year(); y < 1 || y > 9999 {
		return fmt.Errorf("audit: event time %s is outside years 1-9999", e.Time)
	}
	for _, s := range []*string{&e.Type, &e.User, &e.SessionID, &e.ClientAddr, &e.Application,
		&e.ObjectType, &e.ObjectName, &e.Action, &e.Error, &e.DataClass, &e.Target,
		&e.StatementKind, &e.CorrelationID, &e.SQLText} {
		*s = cleanText(*s)
	}
	var err error
	if e.OldValue, err = compactJSON(e.OldValue); err != nil {
		return fmt.Errorf("audit: event old value: %w", err)
	}
	if e.NewValue, err = compactJSON(e.NewValue); err != nil {
		return fmt.Errorf("audit: event new value: %w", err)
	}
	return nil
}

func cleanText(s string) string {
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "\uFFFD")
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

func compactJSON(v json.RawMessage) (json.RawMessage, error) {
	if len(bytes.TrimSpace(v)) == 0 {
		return nil, nil
	}
	var b bytes.Buffer
	if err := json.Compact(&b, v); err != nil {
		return nil, fmt.Errorf("not valid JSON: %w", err)
	}
	return json.RawMessage(cleanText(b.String())), nil
}
