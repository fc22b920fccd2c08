package sqlserver

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/microsoft/go-mssqldb/msdsn"
)

// parseDSN validates a DSN with the driver's own parser (URL
// "sqlserver://user:pass@host:port?database=db", ADO "server=...;user
// id=...;password=..." and "odbc:" forms). Its error never carries the
// password: parse errors may quote parameter values, so every password
// candidate found in the raw text is redacted from the message.
func parseDSN(name, dsn string) (msdsn.Config, error) {
	if strings.TrimSpace(dsn) == "" {
		return msdsn.Config{}, fmt.Errorf("target %s: empty SQL Server DSN (want sqlserver://user:password@host:1433?database=name)", name)
	}
	cfg, err := msdsn.Parse(dsn)
	if err != nil {
		msg := redact(err.Error(), passwordCandidates(dsn)...)
		return msdsn.Config{}, fmt.Errorf("target %s: invalid SQL Server DSN: %s", name, msg)
	}
	return cfg, nil
}

// passwordCandidates extracts what may be a password from a DSN that the
// driver could not parse, best effort and over-inclusive on purpose.
func passwordCandidates(dsn string) []string {
	var out []string
	if u, err := url.Parse(dsn); err == nil && u.User != nil {
		if p, ok := u.User.Password(); ok {
			out = append(out, p)
		}
	}
	// The URL parser fails on many malformed URLs; take userinfo by hand.
	if i := strings.Index(dsn, "://"); i >= 0 {
		rest := dsn[i+3:]
		if at := strings.LastIndex(rest, "@"); at >= 0 {
			if c := strings.Index(rest[:at], ":"); c >= 0 {
				out = append(out, rest[c+1:at])
			}
		}
	}
	// ADO and ODBC forms: key=value pairs split on ';', values maybe in {}.
	body := strings.TrimPrefix(dsn, "odbc:")
	for _, part := range strings.Split(body, ";") {
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			continue
		}
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "password", "pwd", "change password":
			v = strings.TrimSpace(v)
			out = append(out, v, strings.Trim(v, "{}\"'"))
		}
	}
	// Also the query parameter form (sqlserver://host?password=...).
	for _, sep := range []string{"?", "&"} {
		for _, part := range strings.Split(dsn, sep) {
			if k, v, ok := strings.Cut(part, "="); ok && strings.EqualFold(k, "password") {
				out = append(out, v)
				if dv, err := url.QueryUnescape(v); err == nil {
					out = append(out, dv)
				}
			}
		}
	}
	return out
}

// redact replaces every non-empty secret in msg.
func redact(msg string, secrets ...string) string {
	for _, s := range secrets {
		if s == "" {
			continue
		}
		msg = strings.ReplaceAll(msg, s, "xxxxx")
		if esc := url.QueryEscape(s); esc != s {
			msg = strings.ReplaceAll(msg, esc, "xxxxx")
		}
		if esc := url.PathEscape(s); esc != s {
			msg = strings.ReplaceAll(msg, esc, "xxxxx")
		}
	}
	return msg
}
