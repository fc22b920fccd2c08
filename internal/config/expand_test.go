package config

import (
	"strings"
	"testing"
)

func TestExpand(t *testing.T) {
	vars := env(map[string]string{"A": "alpha", "B": "beta", "EMPTY": "", "NESTED": "${A}", "DOLLAR": "$$"})
	for _, tc := range []struct {
		in, want string
		err      string // substring of the error; "" for success
	}{
		{in: "plain", want: "plain"},
		{in: "${A}", want: "alpha"},
		{in: "x${A}y${B}z", want: "xalphaybetaz"},
		{in: "${A:-d}", want: "alpha"},
		{in: "${UNSET:-d}", want: "d"},
		{in: "${UNSET:-}", want: ""},
		{in: "${EMPTY:-d}", want: "d"},
		{in: "${EMPTY}", want: ""},
		{in: "${UNSET:-a:-b}", want: "a:-b"},
		{in: "$$", want: "$"},
		{in: "$${A}", want: "${A}"},
		{in: "$$$${A}", want: "$${A}"},
		{in: "$$${A}", want: "$alpha"},
		{in: "pa$word", want: "pa$word"},
		{in: "end$", want: "end$"},
		{in: "${NESTED}", want: "${A}"},
		{in: "${DOLLAR}", want: "$$"},
		{in: "${UNSET}", err: "environment variable UNSET is not set (use ${UNSET:-default} for a default)"},
		{in: "${", err: "unterminated ${"},
		{in: "x${A", err: "unterminated ${"},
		{in: "${}", err: `${}: "" is not a variable name`},
		{in: "${1A}", err: `"1A" is not a variable name`},
		{in: "${A B}", err: `"A B" is not a variable name`},
		{in: "${A-x}", err: `"A-x" is not a variable name`},
	} {
		got, err := expand(tc.in, vars, false)
		switch {
		case tc.err == "" && (err != nil || got != tc.want):
			t.Errorf("expand(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("expand(%q) error = %v; want it to contain %q", tc.in, err, tc.err)
		}
	}
}

func TestExpandSecretErrorsQuoteNothing(t *testing.T) {
	for _, in := range []string{"u:" + secret + "${x@h}", "${" + secret, "${" + secret + " }"} {
		_, err := expand(in, env(nil), true)
		if err == nil || strings.Contains(err.Error(), secret) {
			t.Errorf("expand(%q, secret) error = %v", in, err)
		}
	}
}
