package config

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Error is one problem in a configuration file. Parse returns them
// joined; errors.As finds the first.
type Error struct {
	File string
	Line int // 0 when the problem has no position (size, encoding, empty file)
	Msg  string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return e.File + ":" + strconv.Itoa(e.Line) + ": " + e.Msg
	}
	return e.File + ": " + e.Msg
}

// maxErrors bounds the report: a hostile megabyte could otherwise yield a
// hundred thousand lines, and nobody reads past the first screens.
const maxErrors = 100

// parser holds one Parse call's state and its problems.
type parser struct {
	file     string
	dir      string
	lookup   func(string) (string, bool)
	readFile func(string) ([]byte, error)
	issues   []*Error
}

func (p *parser) errorf(line int, format string, args ...any) {
	p.issues = append(p.issues, &Error{File: p.file, Line: line, Msg: fmt.Sprintf(format, args...)})
}

func (p *parser) err() error {
	if len(p.issues) == 0 {
		return nil
	}
	sort.SliceStable(p.issues, func(i, j int) bool { return p.issues[i].Line < p.issues[j].Line })
	shown := p.issues
	if len(shown) > maxErrors {
		shown = shown[:maxErrors]
	}
	errs := make([]error, 0, len(shown)+1)
	for _, e := range shown {
		errs = append(errs, e)
	}
	if more := len(p.issues) - len(shown); more > 0 {
		errs = append(errs, &Error{File: p.file, Msg: fmt.Sprintf("%d more problems not shown; fix the ones above first", more)})
	}
	return errors.Join(errs...)
}

// yamlLineRe picks the line out of go-yaml's "yaml: line 3: ..." messages.
var yamlLineRe = regexp.MustCompile(`^yaml: (?:line (\d+): )?(.*)$`)

// yamlError turns a go-yaml parse error into a positioned problem. The
// parser's messages describe syntax and never quote scalars; the one that
// quotes input (an unknown alias name) is replaced, since anchors are
// refused anyway.
func (p *parser) yamlError(err error) {
	line, msg := 0, err.Error()
	if m := yamlLineRe.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	}
	if strings.Contains(msg, "anchor") {
		msg = "an alias (*name) refers to an unknown anchor; anchors and aliases are not supported in dap.yaml"
	}
	p.errorf(line, "not valid YAML: %s", msg)
}
