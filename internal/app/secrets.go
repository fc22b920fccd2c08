package app

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/dap-platform/dap/internal/config"
	"github.com/dap-platform/dap/internal/engine"
	"github.com/dap-platform/dap/internal/secrets"
)

// KeystoreFile is DAP's encrypted keystore's file name under data_dir.
const KeystoreFile = "keystore.json"

// NewResolver resolves secret references (env:, file:, keystore:,
// azure-keyvault://, vault://) in target DSNs; the keystore lives under
// data_dir and its master key comes from DAP_MASTER_KEY or
// DAP_MASTER_KEY_FILE.
func NewResolver(cfg *config.Config) *secrets.Resolver {
	o := secrets.Options{}
	if cfg.DataDir != "" {
		o.KeystorePath = filepath.Join(cfg.DataDir, KeystoreFile)
	}
	return secrets.NewResolver(o)
}

// ResolveTarget returns t with its DSN resolved when it is a reference.
// A SQLite DSN "file:/path/x.db" is SQLite's own URI form, not a file
// reference, so it is left as it is.
func ResolveTarget(ctx context.Context, res *secrets.Resolver, t config.Target) (config.Target, error) {
	ref, err := secrets.ParseRef(t.DSN)
	if err != nil {
		return t, fmt.Errorf("target %s: dsn: %w", t.Name, err)
	}
	if ref.IsPlain() || (ref.Scheme == secrets.SchemeFile && t.Engine == engine.SQLite) {
		return t, nil
	}
	dsn, err := res.Resolve(ctx, t.DSN)
	if err != nil {
		return t, fmt.Errorf("target %s: dsn: %w", t.Name, err)
	}
	t.DSN = dsn
	return t, nil
}
