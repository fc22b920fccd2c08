package secrets

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"strings"
)

// fetchEnv reads an environment variable through the injected lookup.
func (r *Resolver) fetchEnv(_ context.Context, ref Ref) (fetched, error) {
	v, ok := r.opts.LookupEnv(ref.Name)
	if !ok {
		return fetched{}, errorf(ErrNotFound, "environment variable %s is not set", ref.Name)
	}
	return fetched{value: v}, nil
}

// fetchFile reads a file, trims trailing newlines (editors and `echo` add
// them) and warns when the file is readable by group or others.
func (r *Resolver) fetchFile(_ context.Context, ref Ref) (fetched, error) {
	data, err := readLimited(ref.Name, MaxSecretSize)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fetched{}, wrapf(ErrNotFound, err, "cannot read the file")
	case errors.Is(err, fs.ErrPermission):
		return fetched{}, wrapf(ErrDenied, err, "cannot read the file")
	case err != nil:
		return fetched{}, wrapf(ErrInvalidRef, err, "cannot read the file")
	}
	return fetched{
		value:   strings.TrimRight(string(data), "\r\n"),
		warning: permissionWarning(ref.Name),
	}, nil
}

// fetchKeystore opens the keystore afresh on every fetch (the cache keeps
// this rare) so entries set by `dap secret set` in another process are seen.
func (r *Resolver) fetchKeystore(_ context.Context, ref Ref) (fetched, error) {
	ks, warning, err := r.openKeystore()
	if err != nil {
		return fetched{}, err
	}
	v, err := ks.Get(ref.Name)
	if err != nil {
		return fetched{}, err
	}
	return fetched{value: v, warning: warning}, nil
}

// openKeystore opens the configured keystore without creating it: a
// resolver must not leave new files behind because of a typo in a path.
func (r *Resolver) openKeystore() (*Keystore, string, error) {
	path := r.opts.KeystorePath
	if path == "" {
		return nil, "", errorf(ErrInvalidRef, "no keystore is configured (set the keystore path)")
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, "", wrapf(ErrNotFound, err, "keystore file does not exist; create it with `dap secret set`")
	}
	key, warning := r.opts.MasterKey, ""
	if key == nil {
		var err error
		if key, warning, err = LoadMasterKey(r.opts.LookupEnv); err != nil {
			return nil, "", err
		}
	}
	ks, err := OpenKeystore(path, key)
	if err != nil {
		return nil, "", err
	}
	return ks, warning, nil
}
