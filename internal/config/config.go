package config

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/dap-platform/dap/internal/engine"
)

// MaxFileBytes bounds dap.yaml.
const MaxFileBytes = 1 << 20

// Defaults not owned by the engine package.
const (
	DefaultListen         = "127.0.0.1:8787"
	DefaultMaxConnections = 10
)

// Config is a validated dap.yaml.
type Config struct {
	Listen   string
	LogLevel string
	Targets  []Target
	Path     string // the file it came from, for messages
}

// Target is one database DAP serves.
type Target struct {
	Name             string
	Engine           engine.Dialect
	DSN              string // secret: never printed or logged (see RedactDSN)
	Access           engine.Access
	MaxRows          int
	MaxResultBytes   int64
	StatementTimeout time.Duration
	MaxConnections   int
	Procedures       []string
	Description      string
	Line             int // where the target starts in the file
}

// Limits are the target's statement limits.
func (t Target) Limits() engine.Limits {
	return engine.Limits{MaxRows: t.MaxRows, MaxBytes: t.MaxResultBytes, Timeout: t.StatementTimeout}.WithDefaults()
}

// Load reads and validates a configuration file.
func Load(path string) (*Config, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("configuration: %w (create it from docs/configuration.md, or run `dap demo` for a zero-config start)", err)
	}
	if st.Size() > MaxFileBytes {
		return nil, fmt.Errorf("%s: %d bytes is over the %d-byte limit for a configuration file", path, st.Size(), MaxFileBytes)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("configuration: %w", err)
	}
	return Parse(data, path, os.LookupEnv, os.ReadFile)
}

// issue is one problem found in the file.
type issue struct {
	line int
	msg  string
}

type parser struct {
	file     string
	dir      string
	lookup   func(string) (string, bool)
	readFile func(string) ([]byte, error)
	issues   []issue
}

func (p *parser) errorf(line int, format string, args ...any) {
	p.issues = append(p.issues, issue{line: line, msg: fmt.Sprintf(format, args...)})
}

func (p *parser) err() error {
	if len(p.issues) == 0 {
		return nil
	}
	sort.SliceStable(p.issues, func(i, j int) bool { return p.issues[i].line < p.issues[j].line })
	errs := make([]error, len(p.issues))
	for i, is := range p.issues {
		if is.line > 0 {
			errs[i] = fmt.Errorf("%s:%d: %s", p.file, is.line, is.msg)
		} else {
			errs[i] = fmt.Errorf("%s: %s", p.file, is.msg)
		}
	}
	return errors.Join(errs...)
}

// Parse validates data as dap.yaml. filename is used in messages and to
// resolve dsn_file paths; lookupEnv expands ${VAR}; readFile reads
// dsn_file. Every problem is reported, one per line, in file order.
func Parse(data []byte, filename string, lookupEnv func(string) (string, bool), readFile func(string) ([]byte, error)) (*Config, error) {
	p := &parser{file: filename, dir: filepath.Dir(filename), lookup: lookupEnv, readFile: readFile}
	if len(data) > MaxFileBytes {
		p.errorf(0, "%d bytes is over the %d-byte limit for a configuration file", len(data), MaxFileBytes)
		return nil, p.err()
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		// yaml's messages carry their own line ("yaml: line 3: ...") and
		// never the scalar values, so no secret can leak through them.
		p.errorf(0, "not valid YAML: %s", strings.TrimPrefix(err.Error(), "yaml: "))
		return nil, p.err()
	}
	cfg := &Config{Listen: DefaultListen, LogLevel: "info", Path: filename}
	if len(doc.Content) == 0 {
		p.errorf(0, "the file is empty; see docs/configuration.md for an example")
		return nil, p.err()
	}
	root := doc.Content[0]
	if noAliases(p, root) && root.Kind != yaml.MappingNode {
		p.errorf(root.Line, "the top level must be a mapping of keys (listen, log_level, targets)")
	}
	if len(p.issues) > 0 {
		return nil, p.err()
	}
	p.mapping(root, "", topKeys, func(key string, k, v *yaml.Node) {
		switch key {
		case "listen":
			if s, ok := p.str(v, "listen", false); ok {
				if err := validListen(s); err != nil {
					p.errorf(v.Line, "listen: %v", err)
				} else {
					cfg.Listen = s
				}
			}
		case "log_level":
			if s, ok := p.str(v, "log_level", false); ok {
				switch s {
				case "debug", "info", "warn", "error":
					cfg.LogLevel = s
				default:
					p.errorf(v.Line, "log_level: %q is not a level (want debug, info, warn or error)", s)
				}
			}
		case "targets":
			cfg.Targets = p.targets(v)
		}
	})
	if err := p.err(); err != nil {
		return nil, err
	}
	return cfg, nil
}

var (
	topKeys    = []string{"listen", "log_level", "targets"}
	targetKeys = []string{"name", "engine", "dsn", "dsn_file", "access", "max_rows", "max_result_bytes", "statement_timeout", "max_connections", "procedures", "description"}
	nameRe     = regexp.MustCompile(`^[a-z0-9_-]{1,63}$`)
	procRe     = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)?$`)
)

// noAliases refuses YAML anchors and aliases anywhere: dap.yaml does not
// need them and they are the road to a YAML bomb.
func noAliases(p *parser, n *yaml.Node) bool {
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

// mapping walks a mapping node, reporting non-string, duplicate and
// unknown keys, and calls fn for each known key.
func (p *parser) mapping(n *yaml.Node, path string, known []string, fn func(key string, k, v *yaml.Node)) {
	if n.Kind != yaml.MappingNode {
		p.errorf(n.Line, "%s: want a mapping of keys", strings.TrimSuffix(path, "."))
		return
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			p.errorf(k.Line, "%skeys must be plain names", path)
			continue
		}
		if first, dup := seen[k.Value]; dup {
			p.errorf(k.Line, "%s%s: duplicate key (first at line %d)", path, k.Value, first)
			continue
		}
		seen[k.Value] = k.Line
		if !contains(known, k.Value) {
			msg := fmt.Sprintf("%sunknown key %q", prefixOrNothing(path), clipName(k.Value))
			if s := suggest(k.Value, known); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			} else {
				msg += " (known keys: " + strings.Join(known, ", ") + ")"
			}
			p.errorf(k.Line, "%s", msg)
			continue
		}
		fn(k.Value, k, v)
	}
}

func prefixOrNothing(path string) string {
	if path == "" {
		return ""
	}
	return strings.TrimSuffix(path, ".") + ": "
}

// str reads a scalar as an expanded string. secret values are never
// quoted in messages.
func (p *parser) str(v *yaml.Node, key string, secret bool) (string, bool) {
	if v.Kind != yaml.ScalarNode || v.Tag == "!!null" {
		p.errorf(v.Line, "%s: want a single value", key)
		return "", false
	}
	s, err := expand(v.Value, p.lookup)
	if err != nil {
		p.errorf(v.Line, "%s: %v", key, err)
		return "", false
	}
	_ = secret // expansion errors name variables only, never values
	return s, true
}

func (p *parser) targets(n *yaml.Node) []Target {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		p.errorf(n.Line, "targets: want a list of targets (each starting with - name: ...)")
		return nil
	}
	var out []Target
	firstLine := map[string]int{}
	for i, tn := range n.Content {
		path := fmt.Sprintf("targets[%d]", i)
		t := Target{
			Access: engine.ReadOnly, MaxRows: engine.DefaultMaxRows, MaxResultBytes: engine.DefaultMaxBytes,
			StatementTimeout: engine.DefaultTimeout, MaxConnections: DefaultMaxConnections, Line: tn.Line,
		}
		var hasName, hasEngine, hasDSN, hasDSNFile bool
		p.mapping(tn, path+".", targetKeys, func(key string, k, v *yaml.Node) {
			kp := path + "." + key
			// A key that is present but wrong is reported once, as wrong,
			// not also as missing.
			switch key {
			case "name":
				hasName = true
			case "engine":
				hasEngine = true
			case "dsn":
				hasDSN = true
			case "dsn_file":
				hasDSNFile = true
			}
			switch key {
			case "name":
				if s, ok := p.str(v, kp, false); ok {
					if !nameRe.MatchString(s) {
						p.errorf(v.Line, "%s: %q is not a valid name (1-63 of a-z, 0-9, _ and -)", kp, clipName(s))
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
				if s, ok := p.str(v, kp, false); ok {
					d, err := engine.ParseDialect(s)
					if err != nil {
						p.errorf(v.Line, "%s: %q is not an engine (want postgres, mysql, sqlite or sqlserver)", kp, clipName(s))
						return
					}
					t.Engine = d
				}
			case "dsn":
				if s, ok := p.str(v, kp, true); ok {
					if strings.TrimSpace(s) == "" {
						p.errorf(v.Line, "%s: is empty", kp)
						return
					}
					t.DSN = s
				}
			case "dsn_file":
				if s, ok := p.str(v, kp, false); ok {
					f := s
					if !filepath.IsAbs(f) {
						f = filepath.Join(p.dir, f)
					}
					b, err := p.readFile(f)
					if err != nil {
						p.errorf(v.Line, "%s: cannot read %s: %v", kp, f, unwrapPathErr(err))
						return
					}
					dsn := strings.TrimRight(string(b), "\r\n\t ")
					if dsn == "" {
						p.errorf(v.Line, "%s: %s is empty", kp, f)
						return
					}
					t.DSN = dsn
				}
			case "access":
				if s, ok := p.str(v, kp, false); ok {
					a, err := engine.ParseAccess(s)
					if err != nil {
						p.errorf(v.Line, "%s: %q is not an access mode (want read-only, read-write or admin)", kp, clipName(s))
						return
					}
					t.Access = a
				}
			case "max_rows":
				if n, ok := p.intIn(v, kp, 1, 1_000_000); ok {
					t.MaxRows = n
				}
			case "max_connections":
				if n, ok := p.intIn(v, kp, 1, 1000); ok {
					t.MaxConnections = n
				}
			case "max_result_bytes":
				if s, ok := p.str(v, kp, false); ok {
					n, err := ParseSize(s)
					switch {
					case err != nil:
						p.errorf(v.Line, "%s: %v", kp, err)
					case n < 1024 || n > 1<<30:
						p.errorf(v.Line, "%s: %s is out of range (1KiB to 1GiB)", kp, s)
					default:
						t.MaxResultBytes = n
					}
				}
			case "statement_timeout":
				if s, ok := p.str(v, kp, false); ok {
					d, err := time.ParseDuration(s)
					switch {
					case err != nil:
						p.errorf(v.Line, "%s: %q is not a duration (examples: 500ms, 30s, 2m)", kp, clipName(s))
					case d < time.Millisecond || d > 24*time.Hour:
						p.errorf(v.Line, "%s: %s is out of range (1ms to 24h)", kp, s)
					default:
						t.StatementTimeout = d
					}
				}
			case "procedures":
				t.Procedures = p.procedures(v, kp)
			case "description":
				if s, ok := p.str(v, kp, false); ok {
					if len(s) > 500 {
						p.errorf(v.Line, "%s: longer than 500 characters", kp)
						return
					}
					t.Description = s
				}
			}
		})
		if tn.Kind != yaml.MappingNode {
			continue
		}
		if !hasName {
			p.errorf(tn.Line, "%s: missing name", path)
		}
		if !hasEngine {
			p.errorf(tn.Line, "%s: missing engine (postgres, mysql, sqlite or sqlserver)", path)
		}
		switch {
		case hasDSN && hasDSNFile:
			p.errorf(tn.Line, "%s: give dsn or dsn_file, not both", path)
		case !hasDSN && !hasDSNFile:
			p.errorf(tn.Line, "%s: missing dsn (or dsn_file)", path)
		}
		out = append(out, t)
	}
	return out
}

func (p *parser) intIn(v *yaml.Node, key string, lo, hi int) (int, bool) {
	s, ok := p.str(v, key, false)
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(strings.ReplaceAll(s, "_", ""))
	if err != nil {
		p.errorf(v.Line, "%s: %q is not a whole number", key, clipName(s))
		return 0, false
	}
	if n < lo || n > hi {
		p.errorf(v.Line, "%s: %d is out of range (%d to %d)", key, n, lo, hi)
		return 0, false
	}
	return n, true
}

func (p *parser) procedures(v *yaml.Node, key string) []string {
	if v.Kind != yaml.SequenceNode {
		p.errorf(v.Line, "%s: want a list such as [reporting.monthly_sales]", key)
		return nil
	}
	var out []string
	for i, e := range v.Content {
		s, ok := p.str(e, fmt.Sprintf("%s[%d]", key, i), false)
		if !ok {
			continue
		}
		if !procRe.MatchString(s) {
			p.errorf(e.Line, "%s[%d]: %q is not a procedure name (name or schema.name)", key, i, clipName(s))
			continue
		}
		out = append(out, s)
	}
	return out
}

func validListen(s string) error {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return fmt.Errorf("%q is not host:port (example 127.0.0.1:8787)", clipName(s))
	}
	_ = host
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("port %q is not a number from 0 to 65535", clipName(port))
	}
	return nil
}

// ParseSize reads sizes such as 4MiB, 512KiB, 1MB, 1GB or a plain byte count.
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	units := []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1000}, {"MB", 1000 * 1000}, {"GB", 1000 * 1000 * 1000}, {"B", 1}}
	mult := int64(1)
	for _, u := range units {
		if strings.HasSuffix(strings.ToLower(t), strings.ToLower(u.suffix)) {
			mult, t = u.mult, strings.TrimSpace(t[:len(t)-len(u.suffix)])
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a size (examples: 4MiB, 512KiB, 1MB, 1000000)", clipName(s))
	}
	if n > (1<<62)/mult {
		return 0, fmt.Errorf("%q is too large", clipName(s))
	}
	return n * mult, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// suggest returns the known key closest to k when it is a likely typo.
func suggest(k string, known []string) string {
	best, bestD := "", 3
	lk := strings.ToLower(k)
	for _, c := range known {
		if len(lk) >= 4 && (strings.HasPrefix(lk, c) || strings.HasPrefix(c, lk)) {
			return c
		}
	}
	for _, c := range known {
		if d := distance(strings.ToLower(k), c); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// distance is the Levenshtein distance, bounded for long inputs.
func distance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 99
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func unwrapPathErr(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
