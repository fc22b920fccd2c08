package gateway

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/dap-platform/dap/internal/engine"
)

// compilePattern turns a user's table pattern into a matcher. It accepts
// shell globs (* and ?) and SQL LIKE wildcards (% and _ ... but _ is too
// common in names, so only % is taken as a wildcard), case-insensitively;
// a pattern without wildcards matches names containing it.
func compilePattern(p string) (func(string) bool, error) {
	p = strings.TrimSpace(p)
	if p == "" {
		return func(string) bool { return true }, nil
	}
	if len(p) > 200 {
		return nil, fmt.Errorf("%w: pattern longer than 200 characters", engine.ErrInvalid)
	}
	if !strings.ContainsAny(p, "*?%") {
		lp := strings.ToLower(p)
		return func(s string) bool { return strings.Contains(strings.ToLower(s), lp) }, nil
	}
	var b strings.Builder
	b.WriteString("(?i)^")
	for _, r := range p {
		switch r {
		case '*', '%':
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString("$")
	re, err := regexp.Compile(b.String())
	if err != nil {
		return nil, fmt.Errorf("%w: pattern %q: %v", engine.ErrInvalid, p, err)
	}
	return re.MatchString, nil
}
