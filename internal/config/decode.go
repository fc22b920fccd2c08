package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/dap-platform/dap/internal/engine"
	"github.com/dap-platform/dap/internal/rbac"
)

// The keys dap.yaml knows: one explicit table per level.
var (
	topKeys    = []string{"listen", "log_level", "data_dir", "repository", "local_user", "local_role", "auth", "targets"}
	userRe     = regexp.MustCompile(`^[A-Za-z0-9_.@+-]{1,128}$`)
	targetKeys = []string{"name", "engine", "dsn", "dsn_file", "access", "max_rows", "max_result_bytes", "statement_timeout", "max_connections", "procedures", "description"}
	nameRe     = regexp.MustCompile(`^[a-z0-9_-]{1,63}$`)
	procRe     = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)?$`)
)

// Bounds of the numeric settings, as documented in docs/configuration.md.
const (
	maxRowsLimit        = 1_000_000
	maxConnectionsLimit = 1000
	minResultBytes      = 1 << 10
	maxResultBytes      = 1 << 30
	minTimeout          = time.Millisecond
	maxTimeout          = 24 * time.Hour
	maxDescription      = 500
)

// parse checks the raw bytes, parses the YAML tree and decodes it. Problems
// go to p; the returned Config is meaningful only when there are none.
func (p *parser) parse(data []byte) *Config {
	if len(data) > MaxFileBytes {
		p.errorf(0, "%d bytes is over the %d-byte limit for a configuration file", len(data), MaxFileBytes)
		return nil
	}
	if !p.checkText(data) {
		return nil
	}
	root := p.document(data)
	if root == nil {
		return nil
	}
	cfg := &Config{Listen: DefaultListen, LogLevel: DefaultLogLevel, Path: p.file,
		DataDir: filepath.Join(p.dir, DefaultDataDir), LocalUser: DefaultLocalUser, Auth: defaultAuth()}
	p.mapping(root, "", topKeys, func(key string, v *yaml.Node) {
		switch key {
		case "listen":
			if s, raw, ok := p.str(v, "listen", false); ok {
				if err := validListen(s); err != nil {
					p.errorf(v.Line, "listen: %s %v", shown(raw, s), err)
				} else {
					cfg.Listen = s
				}
			}
		case "log_level":
			if s, raw, ok := p.str(v, "log_level", false); ok {
				switch s {
				case "debug", "info", "warn", "error":
					cfg.LogLevel = s
				default:
					p.errorf(v.Line, "log_level: %s is not a level (want debug, info, warn or error)", shown(raw, s))
				}
			}
		case "data_dir":
			if s, _, ok := p.str(v, "data_dir", false); ok {
				if strings.TrimSpace(s) == "" {
					p.errorf(v.Line, "data_dir: is empty")
				} else if filepath.IsAbs(s) {
					cfg.DataDir = s
				} else {
					cfg.DataDir = filepath.Join(p.dir, s)
				}
			}
		case "repository":
			if s, _, ok := p.str(v, "repository", true); ok {
				if !strings.HasPrefix(s, "postgres://") && !strings.HasPrefix(s, "postgresql://") {
					p.errorf(v.Line, "repository: want a PostgreSQL URL (postgres://...); leave it out to keep DAP's state in SQLite under data_dir")
				} else {
					cfg.Repository = s
				}
			}
		case "local_role":
			if s, raw, ok := p.str(v, "local_role", false); ok {
				if role, found := builtinRole(s); found {
					cfg.LocalRole = role
				} else {
					p.errorf(v.Line, "local_role: %s is not a built-in role (want Administrator, DBA, Developer, Auditor or Viewer)", shown(raw, s))
				}
			}
		case "local_user":
			if s, raw, ok := p.str(v, "local_user", false); ok {
				if !userRe.MatchString(s) {
					p.errorf(v.Line, "local_user: %s is not a user name (1-128 of letters, digits and . _ @ + -)", shown(raw, s))
				} else {
					cfg.LocalUser = s
				}
			}
		case "auth":
			p.auth(v, &cfg.Auth)
		case "targets":
			cfg.Targets = p.targets(v)
		}
	})
	return cfg
}

// checkText refuses what is not UTF-8 text before the YAML parser sees it,
// so binary garbage gets a message with a line instead of a parser riddle.
func (p *parser) checkText(data []byte) bool {
	line := 1
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			p.errorf(line, "the file is not UTF-8 text (byte 0x%02x); dap.yaml must be a UTF-8 text file", data[i])
			return false
		case r == '\n':
			line++
		case r < 0x20 && r != '\t' && r != '\r', r == 0x7f:
			p.errorf(line, "the file contains a control character (0x%02x); dap.yaml must be a text file", r)
			return false
		}
		i += size
	}
	if len(bytes.TrimSpace(data)) == 0 {
		p.errorf(0, "the file is empty; see docs/configuration.md for an example")
		return false
	}
	return true
}

// document parses exactly one YAML document and returns its top-level
// mapping, or nil after reporting why there is none.
func (p *parser) document(data []byte) (root *yaml.Node) {
	var doc yaml.Node
	var extra int
	err := func() (err error) {
		// go-yaml converts its own failures to errors; anything else
		// escaping it is a parser bug, which must not crash `dap serve`.
		defer func() {
			if r := recover(); r != nil {
				err = errors.New("yaml: the YAML parser could not read this file")
			}
		}()
		dec := yaml.NewDecoder(bytes.NewReader(data))
		if err := dec.Decode(&doc); err != nil {
			return err
		}
		var next yaml.Node
		switch err := dec.Decode(&next); {
		case errors.Is(err, io.EOF):
		case err != nil:
			return err
		default:
			extra = max(next.Line, 1)
		}
		return nil
	}()
	switch {
	case errors.Is(err, io.EOF):
		p.errorf(0, "the file is empty (only comments); see docs/configuration.md for an example")
		return nil
	case err != nil:
		if !p.tabs(data) {
			p.yamlError(err)
		}
		return nil
	case extra > 0:
		p.errorf(extra, "a second YAML document starts here (---); dap.yaml holds one document")
		return nil
	case len(doc.Content) == 0:
		p.errorf(0, "the file is empty; see docs/configuration.md for an example")
		return nil
	}
	root = doc.Content[0]
	if !p.noAliases(root) {
		return nil
	}
	if root.Kind != yaml.MappingNode {
		p.errorf(root.Line, "the top level must be a mapping of keys (listen, log_level, targets)")
		return nil
	}
	return root
}

// tabs reports lines indented with tabs, the usual reason a hand-edited
// YAML file does not parse. It returns whether it found any.
func (p *parser) tabs(data []byte) bool {
	found := false
	for i, l := range strings.Split(string(data), "\n") {
		indent := l[:len(l)-len(strings.TrimLeft(l, " \t"))]
		if strings.Contains(indent, "\t") {
			p.errorf(i+1, "indented with a tab; YAML indents with spaces only")
			found = true
		}
	}
	return found
}

// noAliases refuses YAML anchors and aliases anywhere: dap.yaml does not
// need them and they are the road to a YAML bomb.
func (p *parser) noAliases(n *yaml.Node) bool {
	ok := true
	var walk func(*yaml.Node)
	walk = func(n *yaml.Node) {
		if n.Kind == yaml.AliasNode || n.Anchor != "" {
			p.errorf(n.Line, "YAML anchors and aliases (& and *) are not supported in dap.yaml; write the values out")
			ok = false
			return
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(n)
	return ok
}

// mapping walks a mapping node, reporting non-scalar, duplicate and
// unknown keys, and calls fn for each known key. path is "" at the top
// and "targets[1]" inside a target.
func (p *parser) mapping(n *yaml.Node, path string, known []string, fn func(key string, v *yaml.Node)) {
	if n.Kind != yaml.MappingNode {
		p.errorf(n.Line, "%s: want a mapping of keys (key: value)", path)
		return
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			p.errorf(k.Line, "%skeys must be plain names", prefix(path))
			continue
		}
		if first, dup := seen[k.Value]; dup {
			p.errorf(k.Line, "%sduplicate key %s (first at line %d)", prefix(path), shown(k.Value, k.Value), first)
			continue
		}
		seen[k.Value] = k.Line
		if !contains(known, k.Value) {
			msg := fmt.Sprintf("%sunknown key %s", prefix(path), shown(k.Value, k.Value))
			if s := suggest(k.Value, known); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			} else {
				msg += " (known keys: " + strings.Join(known, ", ") + ")"
			}
			p.errorf(k.Line, "%s", msg)
			continue
		}
		fn(k.Value, v)
	}
}

func prefix(path string) string {
	if path == "" {
		return ""
	}
	return path + ": "
}

// plainTags are the scalar types a value may have; explicit tags such as
// !!binary or !custom are refused rather than half-understood.
var plainTags = []string{"!!str", "!!int", "!!float", "!!bool", "!!timestamp"}

// str reads a scalar value and expands ${VAR} in it. It returns the
// expanded value and the text as written (for messages). secret marks a
// DSN: nothing of it, nor of what it expanded to, goes into a message.
func (p *parser) str(v *yaml.Node, key string, secret bool) (val, raw string, ok bool) {
	switch {
	case v.Kind == yaml.ScalarNode && v.ShortTag() == "!!null":
		p.errorf(v.Line, "%s: has no value (remove the key to use the default)", key)
		return "", "", false
	case v.Kind != yaml.ScalarNode:
		p.errorf(v.Line, "%s: want a single value, not a %s", key, kindName(v.Kind))
		return "", "", false
	case !contains(plainTags, v.ShortTag()):
		p.errorf(v.Line, "%s: explicit YAML tags (!tag) are not supported; write a plain value", key)
		return "", "", false
	}
	s, err := expand(v.Value, p.lookup, secret)
	if err != nil {
		p.errorf(v.Line, "%s: %v", key, err)
		return "", "", false
	}
	return s, v.Value, true
}

func kindName(k yaml.Kind) string {
	switch k {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	}
	return "structure"
}

// targets decodes the targets list; a missing or empty list is allowed.
func (p *parser) targets(n *yaml.Node) []Target {
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		p.errorf(n.Line, "targets: want a list of targets (each starting with - name: ...)")
		return nil
	}
	var out []Target
	firstLine := map[string]int{}
	for i, tn := range n.Content {
		if t, ok := p.target(tn, fmt.Sprintf("targets[%d]", i), firstLine); ok {
			out = append(out, t)
		}
	}
	return out
}

// dsnSource remembers where a target's DSN came from, to check it once the
// engine is known.
type dsnSource struct {
	key  string // "dsn" or "dsn_file"
	line int
	file string // the dsn_file path, for messages
}

func (p *parser) target(tn *yaml.Node, path string, firstLine map[string]int) (Target, bool) {
	t := Target{
		Access: engine.ReadOnly, MaxRows: engine.DefaultMaxRows, MaxResultBytes: engine.DefaultMaxBytes,
		StatementTimeout: engine.DefaultTimeout, MaxConnections: DefaultMaxConnections, Line: tn.Line,
	}
	if tn.Kind != yaml.MappingNode {
		p.errorf(tn.Line, "%s: want a mapping of keys (name, engine, dsn ...)", path)
		return t, false
	}
	present := map[string]int{} // key -> line, so a wrong value is not also "missing"
	var src *dsnSource
	p.mapping(tn, path, targetKeys, func(key string, v *yaml.Node) {
		present[key] = v.Line
		kp := path + "." + key
		switch key {
		case "name":
			if s, raw, ok := p.str(v, kp, false); ok {
				if !nameRe.MatchString(s) {
					p.errorf(v.Line, "%s: %s is not a valid name (1-63 of a-z, 0-9, _ and -)", kp, shown(raw, s))
					return
				}
				t.Name = s
				if first, dup := firstLine[s]; dup {
					p.errorf(v.Line, "%s: duplicate target name %q (first defined at line %d)", kp, s, first)
				} else {
					firstLine[s] = v.Line
				}
			}
		case "engine":
			if s, raw, ok := p.str(v, kp, false); ok {
				d, err := engine.ParseDialect(s)
				if err != nil {
					p.errorf(v.Line, "%s: %s is not an engine (want postgres, mysql, sqlite or sqlserver)", kp, shown(raw, s))
					return
				}
				t.Engine = d
			}
		case "dsn":
			if s, _, ok := p.str(v, kp, true); ok {
				if strings.TrimSpace(s) == "" {
					p.errorf(v.Line, "%s: is empty", kp)
					return
				}
				t.DSN, src = s, &dsnSource{key: key, line: v.Line}
			}
		case "dsn_file":
			if s, _, ok := p.str(v, kp, false); ok {
				if dsn, f, ok := p.dsnFile(s, kp, v.Line); ok {
					t.DSN, src = dsn, &dsnSource{key: key, line: v.Line, file: f}
				}
			}
		case "access":
			if s, raw, ok := p.str(v, kp, false); ok {
				a, err := engine.ParseAccess(s)
				if err != nil {
					p.errorf(v.Line, "%s: %s is not an access mode (want read-only, read-write or admin)", kp, shown(raw, s))
					return
				}
				t.Access = a
			}
		case "max_rows":
			if n, ok := p.intIn(v, kp, 1, maxRowsLimit); ok {
				t.MaxRows = n
			}
		case "max_connections":
			if n, ok := p.intIn(v, kp, 1, maxConnectionsLimit); ok {
				t.MaxConnections = n
			}
		case "max_result_bytes":
			if s, raw, ok := p.str(v, kp, false); ok {
				n, err := ParseSize(s)
				switch {
				case err != nil:
					p.errorf(v.Line, "%s: %s %v", kp, shown(raw, s), err)
				case n < minResultBytes || n > maxResultBytes:
					p.errorf(v.Line, "%s: %s is out of range (1KiB to 1GiB)", kp, shown(raw, s))
				default:
					t.MaxResultBytes = n
				}
			}
		case "statement_timeout":
			if s, raw, ok := p.str(v, kp, false); ok {
				d, err := time.ParseDuration(s)
				switch {
				case err != nil:
					p.errorf(v.Line, "%s: %s is not a duration (examples: 500ms, 30s, 2m, 1h30m)", kp, shown(raw, s))
				case d < minTimeout || d > maxTimeout:
					p.errorf(v.Line, "%s: %s is out of range (1ms to 24h)", kp, shown(raw, s))
				default:
					t.StatementTimeout = d
				}
			}
		case "procedures":
			t.Procedures = p.procedures(v, kp)
		case "description":
			if s, _, ok := p.str(v, kp, false); ok {
				if utf8.RuneCountInString(s) > maxDescription {
					p.errorf(v.Line, "%s: longer than %d characters", kp, maxDescription)
					return
				}
				t.Description = s
			}
		}
	})
	if _, ok := present["name"]; !ok {
		p.errorf(tn.Line, "%s: missing name", path)
	}
	if _, ok := present["engine"]; !ok {
		p.errorf(tn.Line, "%s: missing engine (postgres, mysql, sqlite or sqlserver)", path)
	}
	_, hasDSN := present["dsn"]
	_, hasFile := present["dsn_file"]
	switch {
	case hasDSN && hasFile:
		p.errorf(tn.Line, "%s: give dsn or dsn_file, not both", path)
	case !hasDSN && !hasFile:
		p.errorf(tn.Line, "%s: missing dsn (or dsn_file)", path)
	case src != nil && t.Engine != "":
		if why := checkDSN(t.Engine, t.DSN); why != "" {
			if src.key == "dsn_file" {
				p.errorf(src.line, "%s.dsn_file: the DSN in %s %s", path, src.file, why)
			} else {
				p.errorf(src.line, "%s.dsn: %s", path, why)
			}
		}
	}
	return t, true
}

// dsnFile reads a DSN from a file, relative to the configuration's
// directory. Messages name the path, never the content.
func (p *parser) dsnFile(name, key string, line int) (dsn, path string, ok bool) {
	path = name
	if !filepath.IsAbs(path) {
		path = filepath.Join(p.dir, path)
	}
	b, err := p.readFile(path)
	if err != nil {
		p.errorf(line, "%s: cannot read %s: %v", key, path, unwrapPathErr(err))
		return "", path, false
	}
	dsn = strings.TrimRight(string(b), "\r\n")
	if strings.TrimSpace(dsn) == "" {
		p.errorf(line, "%s: %s is empty", key, path)
		return "", path, false
	}
	return dsn, path, true
}

func (p *parser) intIn(v *yaml.Node, key string, lo, hi int) (int, bool) {
	s, raw, ok := p.str(v, key, false)
	if !ok {
		return 0, false
	}
	n, err := parseInt(s)
	if err != nil {
		p.errorf(v.Line, "%s: %s is not a whole number", key, shown(raw, s))
		return 0, false
	}
	if n < lo || n > hi {
		p.errorf(v.Line, "%s: %d is out of range (%d to %d)", key, n, lo, hi)
		return 0, false
	}
	return n, true
}

func (p *parser) procedures(v *yaml.Node, key string) []string {
	if v.Kind == yaml.ScalarNode && v.ShortTag() == "!!null" {
		return nil
	}
	if v.Kind != yaml.SequenceNode {
		p.errorf(v.Line, "%s: want a list such as [reporting.monthly_sales]", key)
		return nil
	}
	var out []string
	for i, e := range v.Content {
		ek := fmt.Sprintf("%s[%d]", key, i)
		s, raw, ok := p.str(e, ek, false)
		if !ok {
			continue
		}
		if !procRe.MatchString(s) {
			p.errorf(e.Line, "%s: %s is not a procedure name (name or schema.name)", ek, shown(raw, s))
			continue
		}
		out = append(out, s)
	}
	return out
}

// builtinRole returns the canonical name of a built-in role, matched
// case-insensitively.
func builtinRole(s string) (string, bool) {
	for _, r := range rbac.BuiltinRoles() {
		if strings.EqualFold(r.Name, s) {
			return r.Name, true
		}
	}
	return "", false
}
