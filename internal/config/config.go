package config

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/dap-platform/dap/internal/engine"
)

// MaxFileBytes bounds dap.yaml: a configuration file is a few kilobytes,
// anything near a mebibyte is a mistake or an attack.
const MaxFileBytes = 1 << 20

// maxDSNFileBytes bounds a dsn_file, which holds one connection string.
const maxDSNFileBytes = 64 << 10

// Defaults not owned by the engine package.
const (
	DefaultListen         = "127.0.0.1:8787"
	DefaultLogLevel       = "info"
	DefaultMaxConnections = 10
	DefaultDataDir        = "dap-data"
	DefaultLocalUser      = "local"
)

// Config is a validated dap.yaml.
type Config struct {
	Listen   string // host:port for `dap serve`
	LogLevel string // debug, info, warn or error
	Targets  []Target
	Path     string // the file it came from, for messages
	// DataDir holds DAP's own state: the SQLite repository (dap.db) and
	// the audit signing key. Relative paths are relative to the file.
	DataDir string
	// Repository, when set, is a PostgreSQL DSN for DAP's own state,
	// shared by several DAP instances (a secret, like target DSNs).
	Repository string
	// LocalUser is the identity of requests that carry none (stdio, the
	// demo, loopback HTTP without authentication).
	LocalUser string
	// LocalRole is the built-in role of the local identity ("" means
	// DBA, which can do through the tools all the access modes allow).
	LocalRole string
	// Auth is how `dap serve` authenticates and rate-limits HTTP clients.
	Auth Auth
}

// Target is one database DAP serves.
type Target struct {
	Name             string         // [a-z0-9_-]{1,63}, unique in the file
	Engine           engine.Dialect // postgres, mysql, sqlite or sqlserver
	DSN              string         // secret: never printed or logged (see RedactDSN)
	Access           engine.Access  // default read-only
	MaxRows          int            // default engine.DefaultMaxRows
	MaxResultBytes   int64          // default engine.DefaultMaxBytes
	StatementTimeout time.Duration  // default engine.DefaultTimeout
	MaxConnections   int            // default DefaultMaxConnections
	Procedures       []string       // allow-list for execute_procedure: "schema.name" or "name"
	Description      string         // shown to the model by list_targets
	Line             int            // where the target starts in the file
}

// Limits are the target's statement limits.
func (t Target) Limits() engine.Limits {
	return engine.Limits{MaxRows: t.MaxRows, MaxBytes: t.MaxResultBytes, Timeout: t.StatementTimeout}.WithDefaults()
}

// String describes the target with its DSN redacted, so that printing a
// Target (or a Config holding it) with %v or %+v cannot leak a password.
func (t Target) String() string {
	return fmt.Sprintf("{Name:%s Engine:%s DSN:%s Access:%s MaxRows:%d MaxResultBytes:%d StatementTimeout:%s MaxConnections:%d Procedures:%v Description:%q Line:%d}",
		t.Name, t.Engine, RedactDSN(t.DSN), t.Access, t.MaxRows, t.MaxResultBytes, t.StatementTimeout, t.MaxConnections, t.Procedures, t.Description, t.Line)
}

// GoString is String for %#v, for the same reason.
func (t Target) GoString() string { return "config.Target" + t.String() }

// Load reads and validates a configuration file. Variables expand from
// the process environment and dsn_file paths are read from disk.
func Load(path string) (*Config, error) {
	data, err := readLimited(path, MaxFileBytes)
	if err != nil {
		if errors.Is(err, errTooLarge) {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return nil, fmt.Errorf("configuration: %w (create it from docs/configuration.md, or run `dap demo` for a zero-config start)", err)
	}
	return Parse(data, path, os.LookupEnv, func(p string) ([]byte, error) { return readLimited(p, maxDSNFileBytes) })
}

var errTooLarge = errors.New("file is too large")

// readLimited reads at most limit bytes of a file. Unlike os.ReadFile it
// stops on /dev/zero, a FIFO or a file that grows while being read.
func readLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(filepath.Clean(path))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%w: over the %d-byte limit", errTooLarge, limit)
	}
	return data, nil
}

// Parse validates data as dap.yaml. filename is used in messages and to
// resolve relative dsn_file paths; lookupEnv expands ${VAR}; readFile
// reads dsn_file. Every problem is reported (errors.Join, one per line,
// in file order); no message contains a DSN or anything expanded into one.
func Parse(data []byte, filename string, lookupEnv func(string) (string, bool), readFile func(string) ([]byte, error)) (*Config, error) {
	p := &parser{file: filename, dir: filepath.Dir(filename), lookup: lookupEnv, readFile: readFile}
	cfg := p.parse(data)
	if err := p.err(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// String describes the configuration with every DSN redacted, the
// repository's included.
func (c Config) String() string {
	return fmt.Sprintf("{Listen:%s LogLevel:%s Targets:%v Path:%s DataDir:%s Repository:%s LocalUser:%s Auth:%+v}",
		c.Listen, c.LogLevel, c.Targets, c.Path, c.DataDir, RedactDSN(c.Repository), c.LocalUser, c.Auth)
}

// GoString is String, so %#v cannot leak either.
func (c Config) GoString() string { return "config.Config" + c.String() }
