package config

import (
	"net/url"
	"regexp"
	"strings"
)

// Patterns for the key=value DSN forms (libpq, ADO/ODBC).
var (
	kvPasswordRe = regexp.MustCompile(`(?i)\b(password|pwd|passwd)\s*=\s*('(?:[^'\\]|\\.)*'|"[^"]*"|[^;\s]*)`)
	// go-sql-driver form: user:password@protocol(address)/db
	mysqlRe = regexp.MustCompile(`^([^:@/]*):(.*)@([a-z0-9]*\(|/)`)
)

// RedactDSN returns dsn with any password replaced by xxxxx, for display
// in `dap check` and logs. It covers URLs (postgres://, mysql://,
// sqlserver://), key=value forms (password=..., Pwd=...;) and the
// go-sql-driver form (user:pass@tcp(host)/db).
func RedactDSN(dsn string) string {
	if i := strings.Index(dsn, "://"); i > 0 && !strings.ContainsAny(dsn[:i], " =;") {
		if u, err := url.Parse(dsn); err == nil {
			if u.User != nil {
				if _, has := u.User.Password(); has {
					u.User = url.UserPassword(u.User.Username(), "xxxxx")
				}
			}
			q := u.Query()
			for k := range q {
				if isSecretKey(k) {
					q.Set(k, "xxxxx")
				}
			}
			u.RawQuery = q.Encode()
			return u.String()
		}
		// Unparseable URL: keep the scheme only.
		return dsn[:i] + "://(unparseable, hidden)"
	}
	if m := mysqlRe.FindStringSubmatchIndex(dsn); m != nil {
		return dsn[:m[3]] + ":xxxxx" + dsn[m[5]:]
	}
	return kvPasswordRe.ReplaceAllString(dsn, "${1}=xxxxx")
}

func isSecretKey(k string) bool {
	k = strings.ToLower(k)
	return strings.Contains(k, "password") || k == "pwd" || k == "passwd" || strings.Contains(k, "secret") || strings.Contains(k, "token")
}
