package config

import (
	"regexp"
	"strings"
)

// redacted replaces a password in RedactDSN's output.
const redacted = "xxxxx"

var (
	// schemeRe recognises a URL DSN (postgres://, sqlserver://, mysql:// ...).
	schemeRe = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*://`)
	// secretKeyRe finds a password-like key in key=value forms: libpq
	// (password=...), ADO/ODBC (Password=...; Pwd={...}), URL queries
	// (?password=...&) and driver parameters. The key must start the
	// string or follow a separator, so "passfile=" or "user=pwd" do not match.
	secretKeyRe = regexp.MustCompile(`(?i)(?:^|[\s;?&])((?:ssl)?password|passwd|pwd|pass|_auth_pass|_key|secret|token|access_?token)\s*=\s*`)
	// adoKeyRe tells the ADO/ODBC form (semicolon-separated, values may
	// hold spaces) from libpq key=value (space-separated).
	adoKeyRe = regexp.MustCompile(`(?i)(?:^|;)\s*(?:server|data source|address|addr|network address|user id|uid|database|initial catalog|driver|dsn|encrypt|trusted_connection|app name)\s*=`)
)

// RedactDSN returns dsn with any password replaced by xxxxx, for display
// in `dap check` and logs. It covers URLs (postgres://u:pw@h,
// sqlserver://u:pw@h, password= in the query), key=value forms
// (password=... in libpq, Password=...; and Pwd={...} in ADO/ODBC) and
// the go-sql-driver form (user:pw@tcp(host:3306)/db). Where the form is
// ambiguous it hides too much rather than too little; the order and
// spelling of everything else are kept.
func RedactDSN(dsn string) string {
	if loc := schemeRe.FindStringIndex(dsn); loc != nil {
		s := redactUserinfo(dsn, loc[1])
		return redactKeys(s, "&#")
	}
	if strings.HasPrefix(strings.ToLower(dsn), "odbc:") || strings.Contains(dsn, ";") && adoKeyRe.MatchString(dsn) {
		return redactMySQL(redactKeys(dsn, ";"))
	}
	return redactMySQL(redactKeys(dsn, ""))
}

// redactUserinfo hides the password of scheme://user:password@host. The
// userinfo ends at the last @ before the query; a password with an
// unescaped ? or # (invalid, but typed) is still hidden because then the
// last @ of the whole string is used.
func redactUserinfo(dsn string, start int) string {
	rest := dsn[start:]
	at := -1
	if q := strings.IndexAny(rest, "?#"); q >= 0 {
		at = strings.LastIndexByte(rest[:q], '@')
	}
	if at < 0 {
		at = strings.LastIndexByte(rest, '@')
	}
	if at < 0 {
		return dsn
	}
	colon := strings.IndexByte(rest[:at], ':')
	if colon < 0 {
		return dsn
	}
	return dsn[:start] + rest[:colon+1] + redacted + rest[at:]
}

// redactKeys replaces the values of password-like keys. A value may be
// quoted ('...' with backslash escapes, "..." or {...} with doubled
// closers); an unquoted value ends at whitespace or, when terminators is
// not empty, at one of them (ADO values may contain spaces).
func redactKeys(s, terminators string) string {
	var b strings.Builder
	pos := 0
	for _, m := range secretKeyRe.FindAllStringSubmatchIndex(s, -1) {
		valStart := m[1]
		if m[0] < pos {
			continue // inside a value already hidden
		}
		end := valueEnd(s, valStart, terminators)
		b.WriteString(s[pos:valStart])
		b.WriteString(redacted)
		pos = end
	}
	b.WriteString(s[pos:])
	return b.String()
}

// valueEnd returns where the value starting at i ends.
func valueEnd(s string, i int, terminators string) int {
	if i >= len(s) {
		return i
	}
	switch open := s[i]; open {
	case '\'', '"', '{':
		closer := open
		if open == '{' {
			closer = '}'
		}
		for j := i + 1; j < len(s); j++ {
			switch {
			case s[j] == '\\' && open == '\'':
				j++
			case s[j] == closer && j+1 < len(s) && s[j+1] == closer:
				j++ // doubled closer: an escaped quote or brace
			case s[j] == closer:
				return j + 1
			}
		}
		return len(s) // unterminated: hide the rest
	}
	for j := i; j < len(s); j++ {
		c := s[j]
		switch {
		case c == '\\' && terminators == "":
			j++ // libpq escapes in unquoted values
		case terminators != "" && strings.IndexByte(terminators, c) >= 0:
			return j
		case terminators == "" && (c == ' ' || c == '\t' || c == '\n' || c == '\r'):
			return j
		}
	}
	return len(s)
}

// redactMySQL hides the password of the go-sql-driver form
// [user[:password]@][net[(addr)]]/dbname[?params], splitting it the way
// the driver does: the last / starts the database, the last @ before it
// ends the credentials, the first : inside them starts the password.
func redactMySQL(s string) string {
	slash := strings.LastIndexByte(s, '/')
	if slash < 0 {
		slash = len(s)
	}
	at := strings.LastIndexByte(s[:slash], '@')
	if at < 0 {
		return s
	}
	colon := strings.IndexByte(s[:at], ':')
	if colon < 0 || s[colon+1:at] == redacted {
		return s
	}
	return s[:colon+1] + redacted + s[at:]
}
