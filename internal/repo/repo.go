package repo

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	_ "modernc.org/sqlite"             // registers the "sqlite" database/sql driver
)

// Dialect names returned by (*Repo).Dialect.
const (
	DialectSQLite   = "sqlite"
	DialectPostgres = "postgres"
)

// DefaultFileName is the SQLite file created in Options.DataDir when no
// explicit Path is given.
const DefaultFileName = "dap.db"

// busyTimeout is how long a SQLite connection waits for another writer
// (another DAP process or a CLI command) before failing with SQLITE_BUSY.
const busyTimeout = 10 * time.Second

// Options selects the repository. Exactly one of PostgresDSN or a SQLite
// location (Path, or DataDir/dap.db) must be given; PostgresDSN wins when
// both are set, because it is the explicit multi-instance choice.
type Options struct {
	// Path is the SQLite file; it is created (with its directory) if absent.
	Path string
	// DataDir is used for the default SQLite file DataDir/dap.db when Path
	// is empty.
	DataDir string
	// PostgresDSN selects a PostgreSQL repository (postgres://...).
	PostgresDSN string
}

// Repo is an open repository. It is safe for concurrent use.
type Repo struct {
	db      *sql.DB
	dialect string
	where   string // a description safe to print: file path or redacted DSN
}

// Open opens (and for SQLite creates) the repository and checks that it
// answers. It does not migrate; call Migrate.
func Open(ctx context.Context, o Options) (*Repo, error) {
	if o.PostgresDSN != "" {
		return openPostgres(ctx, o.PostgresDSN)
	}
	path := o.Path
	if path == "" {
		if o.DataDir == "" {
			return nil, errors.New("repo: no repository configured: set a SQLite path, a data_dir or a PostgreSQL DSN")
		}
		path = filepath.Join(o.DataDir, DefaultFileName)
	}
	return openSQLite(ctx, path)
}

func openSQLite(ctx context.Context, path string) (*Repo, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("repo: create directory for SQLite repository %s: %w", path, err)
		}
	}
	// _txlock=immediate: every transaction takes the write lock at BEGIN, so
	// a writer that reads the audit chain's head inside its transaction
	// cannot race another process (SQLite allows a single writer).
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Set("_txlock", "immediate")
	dsn := "file:" + path + "?" + q.Encode()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("repo: open SQLite repository %s: %w", path, err)
	}
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("repo: open SQLite repository %s: %w", path, err)
	}
	return &Repo{db: db, dialect: DialectSQLite, where: path}, nil
}

func openPostgres(ctx context.Context, dsn string) (*Repo, error) {
	where := RedactDSN(dsn)
	// Parse first so that a malformed DSN fails with a message that cannot
	// echo the password back.
	if _, err := pgx.ParseConfig(dsn); err != nil {
		return nil, fmt.Errorf("repo: PostgreSQL repository DSN %s is invalid: %s", where, scrub(err, dsn))
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("repo: open PostgreSQL repository %s: %s", where, scrub(err, dsn))
	}
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("repo: connect to PostgreSQL repository %s: %w", where, scrubbed{err, dsn})
	}
	return &Repo{db: db, dialect: DialectPostgres, where: where}, nil
}

// Dialect returns "sqlite" or "postgres".
func (r *Repo) Dialect() string { return r.dialect }

// DB returns the database handle (modernc "sqlite" or pgx stdlib "pgx").
func (r *Repo) DB() *sql.DB { return r.db }

// String describes the repository without secrets (file path or redacted DSN).
func (r *Repo) String() string { return r.dialect + " " + r.where }

// Close closes the database handle.
func (r *Repo) Close() error {
	if err := r.db.Close(); err != nil {
		return fmt.Errorf("repo: close %s: %w", r, err)
	}
	return nil
}

// RedactDSN returns dsn with any password replaced by "xxxxx", for logs and
// error messages. Key/value DSNs have their password=... value masked.
func RedactDSN(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.Scheme != "" {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		}
		q := u.Query()
		if q.Has("password") {
			q.Set("password", "xxxxx")
			u.RawQuery = q.Encode()
		}
		return u.String()
	}
	if scheme, rest, ok := strings.Cut(dsn, "://"); ok {
		// Not a parseable URL (e.g. a bad port): mask userinfo by hand.
		if at := strings.LastIndex(rest, "@"); at >= 0 {
			if user, _, hasPw := strings.Cut(rest[:at], ":"); hasPw {
				return scheme + "://" + user + ":xxxxx" + rest[at:]
			}
		}
		return dsn
	}
	fields := strings.Fields(dsn)
	for i, f := range fields {
		if k, _, ok := strings.Cut(f, "="); ok && strings.EqualFold(k, "password") {
			fields[i] = k + "=xxxxx"
		}
	}
	return strings.Join(fields, " ")
}

// password extracts the password of dsn, if any, so that it can be scrubbed
// from driver error texts.
func password(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.Scheme != "" {
		if p, ok := u.User.Password(); ok {
			return p
		}
		return u.Query().Get("password")
	}
	if _, rest, ok := strings.Cut(dsn, "://"); ok {
		if at := strings.LastIndex(rest, "@"); at >= 0 {
			if _, pw, hasPw := strings.Cut(rest[:at], ":"); hasPw {
				return pw
			}
		}
		return ""
	}
	for _, f := range strings.Fields(dsn) {
		if k, v, ok := strings.Cut(f, "="); ok && strings.EqualFold(k, "password") {
			return strings.Trim(v, "'")
		}
	}
	return ""
}

func scrub(err error, dsn string) string {
	s := err.Error()
	if p := password(dsn); p != "" {
		s = strings.ReplaceAll(s, p, "xxxxx")
	}
	return s
}

// scrubbed keeps the error chain (errors.Is still works) while its text
// never shows the DSN's password.
type scrubbed struct {
	err error
	dsn string
}

func (s scrubbed) Error() string { return scrub(s.err, s.dsn) }
func (s scrubbed) Unwrap() error { return s.err }
