package repo

import (
	"strconv"
	"strings"
)

// Rebind rewrites a query written with '?' placeholders for the
// repository's dialect: unchanged for SQLite, '$1..$n' for PostgreSQL.
func (r *Repo) Rebind(q string) string {
	if r.dialect != DialectPostgres {
		return q
	}
	return RebindDollar(q)
}

// RebindDollar replaces each '?' placeholder with $1..$n. Question marks
// inside string literals, quoted identifiers and comments are left alone,
// so a literal '?' in SQL text never shifts the numbering.
func RebindDollar(q string) string {
	if !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '\'' || c == '"':
			end := closeQuote(q, i+1, c)
			b.WriteString(q[i:end])
			i = end - 1
		case c == '-' && i+1 < len(q) && q[i+1] == '-':
			end := strings.IndexByte(q[i:], '\n')
			if end < 0 {
				end = len(q) - i
			}
			b.WriteString(q[i : i+end])
			i += end - 1
		case c == '/' && i+1 < len(q) && q[i+1] == '*':
			end := strings.Index(q[i+2:], "*/")
			stop := len(q)
			if end >= 0 {
				stop = i + 2 + end + 2
			}
			b.WriteString(q[i:stop])
			i = stop - 1
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// closeQuote returns the index just past the quote closing a literal that
// started before from; a doubled quote is an escaped quote.
func closeQuote(q string, from int, quote byte) int {
	for j := from; j < len(q); j++ {
		if q[j] == quote {
			if j+1 < len(q) && q[j+1] == quote {
				j++
				continue
			}
			return j + 1
		}
	}
	return len(q)
}
