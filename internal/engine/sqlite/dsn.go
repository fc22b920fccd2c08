package sqlite

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/dap-platform/dap/internal/engine"
)

// defaultBusyTimeout is how long (ms) a statement waits for a lock held by
// another connection before failing with SQLITE_BUSY.
const defaultBusyTimeout = "5000"

// dsn is a parsed target DSN: the database file and the driver parameters
// the user gave, minus the ones the adapter controls.
type dsn struct {
	path   string     // filesystem path, for existence checks and messages
	params url.Values // user parameters that are safe to pass on
	mode   string     // user's mode= (rw, rwc), honoured on the read-write pool
	busy   bool       // user set a busy timeout
}

// parseDSN accepts a file path ("./shop.db", "/data/x.db?_pragma=...") or a
// file: URI ("file:/data/x.db?cache=private"). In-memory databases are
// refused: each pooled connection would see its own empty database. Errors
// never repeat the DSN: its query string may carry a key.
func parseDSN(s string) (dsn, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return dsn{}, fmt.Errorf("empty SQLite DSN: want a database file path or a file: URI: %w", engine.ErrInvalid)
	}
	var d dsn
	var rawQuery string
	if rest, ok := strings.CutPrefix(s, "file:"); ok {
		rest, _, _ = strings.Cut(rest, "#")
		p, q, _ := strings.Cut(rest, "?")
		rawQuery = q
		if after, ok := strings.CutPrefix(p, "//"); ok {
			// file://authority/path: only an empty authority or localhost is local.
			host, tail, found := strings.Cut(after, "/")
			if host != "" && host != "localhost" {
				return dsn{}, fmt.Errorf("SQLite file: URI names a remote host; only local files are supported: %w", engine.ErrInvalid)
			}
			if !found {
				return dsn{}, fmt.Errorf("SQLite file: URI has no path: %w", engine.ErrInvalid)
			}
			p = "/" + tail
		}
		up, err := url.PathUnescape(p)
		if err != nil {
			return dsn{}, fmt.Errorf("SQLite file: URI has a malformed percent-escape in its path: %w", engine.ErrInvalid)
		}
		d.path = up
	} else {
		p, q, _ := strings.Cut(s, "?")
		d.path, rawQuery = p, q
	}
	if d.path == "" || d.path == ":memory:" || strings.HasPrefix(d.path, ":memory:") {
		return dsn{}, fmt.Errorf("in-memory SQLite databases cannot be a DAP target: give a database file path: %w", engine.ErrInvalid)
	}
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return dsn{}, fmt.Errorf("SQLite DSN has a malformed query string: %w", engine.ErrInvalid)
	}
	d.params = url.Values{}
	for k, vs := range q {
		switch k {
		case "mode":
			m := strings.ToLower(q.Get("mode"))
			switch m {
			case "memory":
				return dsn{}, fmt.Errorf("in-memory SQLite databases (mode=memory) cannot be a DAP target: %w", engine.ErrInvalid)
			case "ro", "rw", "rwc":
				d.mode = m
			default:
				return dsn{}, fmt.Errorf("SQLite DSN has an unknown mode (want ro, rw or rwc): %w", engine.ErrInvalid)
			}
			continue
		case "_busy_timeout", "_timeout":
			d.busy = true
		}
		for _, v := range vs {
			if k == "_pragma" && strings.HasPrefix(strings.ToLower(strings.TrimSpace(v)), "busy_timeout") {
				d.busy = true
			}
			d.params.Add(k, v)
		}
	}
	return d, nil
}

// readOnlyDSN is the DSN of the read-only pool: mode=ro so SQLite opens the
// file read-only, query_only(1) as a second lock, and none of the user's
// parameters that would write the file (journal mode, auto-vacuum) or
// undo query_only.
func (d dsn) readOnlyDSN() string {
	v := url.Values{}
	for k, vs := range d.params {
		switch k {
		case "_journal_mode", "_journal", "_auto_vacuum", "_vacuum", "_query_only", "_txlock":
			continue
		}
		for _, x := range vs {
			if k == "_pragma" && !safeReadOnlyPragma(x) {
				continue
			}
			v.Add(k, x)
		}
	}
	v.Set("mode", "ro")
	if !d.busy {
		v.Add("_pragma", "busy_timeout("+defaultBusyTimeout+")")
	}
	v.Add("_pragma", "query_only(1)")
	return d.uri(v)
}

// readWriteDSN is the DSN of the read-write pool. BEGIN IMMEDIATE takes the
// write lock up front, so two writers wait on busy_timeout instead of one
// failing on a lock upgrade.
func (d dsn) readWriteDSN() string {
	v := url.Values{}
	for k, vs := range d.params {
		for _, x := range vs {
			v.Add(k, x)
		}
	}
	if d.mode != "" && d.mode != "ro" {
		v.Set("mode", d.mode)
	}
	if !d.busy {
		v.Add("_pragma", "busy_timeout("+defaultBusyTimeout+")")
	}
	if v.Get("_txlock") == "" {
		v.Set("_txlock", "immediate")
	}
	return d.uri(v)
}

// safeReadOnlyPragma reports whether a user _pragma may run on the
// read-only pool: anything that writes the file or lifts query_only is dropped.
func safeReadOnlyPragma(p string) bool {
	name := strings.ToLower(strings.TrimSpace(p))
	for _, bad := range []string{"journal_mode", "auto_vacuum", "query_only", "writable_schema", "locking_mode"} {
		if strings.HasPrefix(name, bad) {
			return false
		}
	}
	return true
}

// uri renders the file: URI SQLite opens. Only the characters that end or
// escape a URI path are percent-encoded; SQLite decodes %HH in the path.
func (d dsn) uri(v url.Values) string {
	r := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23")
	p := r.Replace(d.path)
	prefix := "file:"
	if strings.HasPrefix(p, "//") {
		prefix = "file://" // empty authority, so the path keeps its leading slashes
	}
	return prefix + p + "?" + v.Encode()
}
