package config

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/dap-platform/dap/internal/engine"
	"github.com/dap-platform/dap/internal/secrets"
)

// shown quotes a value for an error message. A value expanded from the
// environment is shown as written (${NAME}), never as expanded; one that
// looks like a connection string is not shown at all; long ones are
// clipped. Callers never pass a DSN here.
func shown(raw, val string) string {
	if raw != val {
		return strconv.Quote(clip(raw)) + " (as expanded)"
	}
	if looksLikeDSN(raw) {
		return "(value hidden: it looks like a connection string)"
	}
	return strconv.Quote(clip(raw))
}

// looksLikeDSN catches a connection string pasted into the wrong key, so
// the message about that key does not print its password.
func looksLikeDSN(s string) bool {
	l := strings.ToLower(s)
	return strings.Contains(l, "://") || strings.Contains(l, "@") || strings.Contains(l, "password") || strings.Contains(l, "pwd=")
}

func clip(s string) string {
	if utf8.RuneCountInString(s) <= 40 {
		return s
	}
	r := []rune(s)
	return string(r[:40]) + "..."
}

func validListen(s string) error {
	_, port, err := net.SplitHostPort(s)
	if err != nil {
		return errors.New("is not host:port (example 127.0.0.1:8787)")
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return errors.New("has a port that is not a number from 0 to 65535")
	}
	return nil
}

// parseInt reads a decimal whole number; _ may group digits (1_000_000).
func parseInt(s string) (int, error) {
	t := strings.TrimSpace(s)
	if strings.HasPrefix(t, "_") || strings.HasSuffix(t, "_") || strings.Contains(t, "__") {
		return 0, errors.New("misplaced _")
	}
	return strconv.Atoi(strings.ReplaceAll(t, "_", ""))
}

// sizeUnits are the suffixes ParseSize accepts, matched case-insensitively:
// binary (KiB, MiB, GiB) and decimal (KB, MB, GB) multiples.
var sizeUnits = []struct {
	suffix string
	mult   int64
}{{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30}, {"kb", 1000}, {"mb", 1000 * 1000}, {"gb", 1000 * 1000 * 1000}, {"b", 1}}

// ParseSize reads sizes such as 4MiB, 512KiB, 1MB, 1GB, 100B or a plain
// byte count. Its errors describe the problem without quoting s (they
// read "is not a size ..."), so the caller decides whether s may be shown.
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range sizeUnits {
		if len(t) >= len(u.suffix) && strings.EqualFold(t[len(t)-len(u.suffix):], u.suffix) {
			mult, t = u.mult, strings.TrimSpace(t[:len(t)-len(u.suffix)])
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 0 {
		return 0, errors.New("is not a size (examples: 4MiB, 512KiB, 1MB, 1000000)")
	}
	if n > (1<<62)/mult {
		return 0, errors.New("is too large")
	}
	return n * mult, nil
}

// checkDSN does the cheap, engine-specific sanity checks on a DSN and
// returns why it is wrong ("" when it looks right). The reason never
// quotes the DSN: a malformed DSN is still a secret. The driver does the
// full parse when the target is opened.
func checkDSN(d engine.Dialect, dsn string) string {
	// A secret reference (env:, keystore:, azure-keyvault://, vault://, and
	// file: except as a SQLite URI) is checked when it is resolved.
	if ref, err := secrets.ParseRef(dsn); err != nil {
		return "is a malformed secret reference: " + err.Error()
	} else if !ref.IsPlain() && !(ref.Scheme == secrets.SchemeFile && d == engine.SQLite) {
		return ""
	}
	if strings.ContainsFunc(dsn, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return "contains a control character (a line break inside the DSN?)"
	}
	lower := strings.ToLower(dsn)
	isURL := func(schemes ...string) bool {
		for _, s := range schemes {
			if strings.HasPrefix(lower, s+"://") {
				return true
			}
		}
		return false
	}
	switch d {
	case engine.Postgres:
		switch {
		case isURL("postgres", "postgresql"):
			if _, err := url.Parse(dsn); err != nil {
				return "is not a valid postgres:// URL (percent-encode special characters such as @ : / ? # in the user name and password)"
			}
		case strings.Contains(dsn, "://"):
			return "has a URL scheme other than postgres:// or postgresql://"
		case !strings.Contains(dsn, "="):
			return "is neither a postgres:// URL nor a key=value string (host=... user=... dbname=...)"
		}
	case engine.MySQL:
		switch {
		case strings.Contains(dsn, "://"):
			return "is a URL; the MySQL driver wants user:pass@tcp(host:3306)/db"
		case !strings.Contains(dsn, "/"):
			return "has no /dbname part; the MySQL driver wants user:pass@tcp(host:3306)/db (the database may be empty: .../)"
		}
	case engine.SQLServer:
		switch {
		case isURL("sqlserver"):
			if _, err := url.Parse(dsn); err != nil {
				return "is not a valid sqlserver:// URL (percent-encode special characters in the user name and password)"
			}
		case strings.Contains(dsn, "://"):
			return "has a URL scheme other than sqlserver://"
		case !strings.Contains(dsn, "="):
			return "is neither a sqlserver:// URL nor a key=value string (server=...;user id=...;database=...)"
		}
	case engine.SQLite:
		if strings.Contains(dsn, "://") && !isURL("file") {
			return "is a URL; give a file path or a file: URI (file:/path/to/db.sqlite)"
		}
	}
	return ""
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// suggest returns the known key closest to k when it is a likely typo:
// a prefix either way (max_row, timeout_ms), the same name in another
// spelling (maxRows, max-rows) or an edit distance under 3.
func suggest(k string, known []string) string {
	norm := func(s string) string {
		return strings.NewReplacer("_", "", "-", "").Replace(strings.ToLower(s))
	}
	lk := strings.ToLower(k)
	for _, c := range known {
		if norm(k) == norm(c) {
			return c
		}
	}
	best := ""
	for _, c := range known {
		if len(lk) >= 4 && (strings.HasPrefix(lk, c) || strings.HasPrefix(c, lk)) && len(c) > len(best) {
			best = c
		}
	}
	if best != "" {
		return best
	}
	bestD := 3
	for _, c := range known {
		if d := distance(lk, c); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// distance is the Levenshtein distance, bounded for long inputs.
func distance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 99
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// unwrapPathErr drops the path from an *fs.PathError (the caller names
// it) and keeps the reason.
func unwrapPathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return fmt.Errorf("%w", err)
}
