package config

import (
	"fmt"
	"strings"
)

// expand replaces ${VAR} and ${VAR:-default} with values from lookup; $$
// is a literal dollar. A lone $ not followed by { or $ stays as it is.
// Values are not expanded again, so a variable cannot pull in another.
// Errors name a valid variable name, never a value; with secret set they
// do not quote a malformed ${...} either, as it is part of a DSN.
func expand(s string, lookup func(string) (string, bool), secret bool) (string, error) {
	if !strings.Contains(s, "$") {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '$' || i+1 >= len(s) {
			b.WriteByte(c)
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i++
		case '{':
			end := strings.IndexByte(s[i+2:], '}')
			if end < 0 {
				return "", fmt.Errorf("unterminated ${ (want ${NAME} or ${NAME:-default}; write $$ for a literal $)")
			}
			expr := s[i+2 : i+2+end]
			name, def, hasDef := strings.Cut(expr, ":-")
			if !validVarName(name) {
				if secret {
					return "", fmt.Errorf("a ${...} holds no valid variable name (want ${NAME} with letters, digits and _; write $$ for a literal $)")
				}
				return "", fmt.Errorf("${%s}: %q is not a variable name (letters, digits and _)", clip(expr), clip(name))
			}
			v, ok := lookup(name)
			switch {
			case ok && v != "":
			case hasDef:
				v = def
			case ok:
			default:
				return "", fmt.Errorf("environment variable %s is not set (use ${%s:-default} for a default)", name, name)
			}
			b.WriteString(v)
			i += 2 + end
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

func validVarName(n string) bool {
	if n == "" || len(n) > 128 {
		return false
	}
	for i, r := range n {
		switch {
		case r == '_', r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z':
		case r >= '0' && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}
