package repo

import (
	"context"
	"embed"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrationFiles embed.FS

// VersionTable is the goose bookkeeping table in the repository.
const VersionTable = "dap_schema_version"

// migrationLockID is the PostgreSQL advisory lock id goose holds while it
// migrates, so two DAP instances starting together migrate once.
const migrationLockID = 0x444150_4d4947 // "DAPMIG"

func (r *Repo) provider() (*goose.Provider, error) {
	sub, err := fs.Sub(migrationFiles, "migrations/"+r.dialect)
	if err != nil {
		return nil, fmt.Errorf("repo: migrations for %s: %w", r.dialect, err)
	}
	opts := []goose.ProviderOption{
		goose.WithTableName(VersionTable),
		goose.WithDisableGlobalRegistry(true),
	}
	dialect := goose.DialectSQLite3
	if r.dialect == DialectPostgres {
		dialect = goose.DialectPostgres
		locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(migrationLockID))
		if err != nil {
			return nil, fmt.Errorf("repo: migration lock: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	p, err := goose.NewProvider(dialect, r.db, sub, opts...)
	if err != nil {
		return nil, fmt.Errorf("repo: load %s migrations: %w", r.dialect, err)
	}
	return p, nil
}

// LatestVersion is the newest schema version this binary knows.
func (r *Repo) LatestVersion() (int64, error) {
	p, err := r.provider()
	if err != nil {
		return 0, err
	}
	src := p.ListSources()
	if len(src) == 0 {
		return 0, nil
	}
	return src[len(src)-1].Version, nil
}

// Version returns the repository's current schema version (0 when empty).
func (r *Repo) Version(ctx context.Context) (int64, error) {
	p, err := r.provider()
	if err != nil {
		return 0, err
	}
	v, err := p.GetDBVersion(ctx)
	if err != nil {
		return 0, fmt.Errorf("repo: read schema version of %s: %w", r, err)
	}
	return v, nil
}

// Migrate applies pending migrations. It refuses a repository whose schema
// is newer than this binary knows: an older binary writing to it could
// corrupt state it does not understand.
func (r *Repo) Migrate(ctx context.Context) error {
	p, err := r.provider()
	if err != nil {
		return err
	}
	src := p.ListSources()
	latest := src[len(src)-1].Version
	current, err := p.GetDBVersion(ctx)
	if err != nil {
		return fmt.Errorf("repo: read schema version of %s: %w", r, err)
	}
	if current > latest {
		return fmt.Errorf("repo: repository schema version %d is newer than this dap binary supports (%d); upgrade dap", current, latest)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("repo: migrate %s from version %d to %d: %w", r, current, latest, err)
	}
	return nil
}
