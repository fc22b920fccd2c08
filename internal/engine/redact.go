package engine

import (
	"fmt"
	"strings"
	"time"
)

// BoundTexts renders bound parameter values the way a server's error
// message may quote them, so adapters can take them out of error text
// (messages are shown to callers and parameter values never are). Values
// shorter than minLen are skipped: replacing "1" would garble the message
// and reveals little. A time is rendered as a date-time and as a date.
func BoundTexts(args []any, minLen int) []string {
	var out []string
	add := func(s string) {
		if len(s) >= minLen && s != "" {
			out = append(out, s)
		}
	}
	for _, a := range args {
		switch v := a.(type) {
		case nil:
		case string:
			add(v)
		case []byte:
			add(string(v))
		case time.Time:
			add(v.Format(time.DateTime))
			add(v.Format(time.DateOnly))
		default:
			add(fmt.Sprint(v))
		}
	}
	return out
}

// RedactBound replaces every bound value of at least minLen characters in
// msg with mask.
func RedactBound(msg string, args []any, minLen int, mask string) string {
	for _, s := range BoundTexts(args, minLen) {
		msg = strings.ReplaceAll(msg, s, mask)
	}
	return msg
}
