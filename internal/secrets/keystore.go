package secrets

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// Environment variables that carry the keystore's master key.
const (
	EnvMasterKey     = "DAP_MASTER_KEY"
	EnvMasterKeyFile = "DAP_MASTER_KEY_FILE"
)

const (
	// MasterKeySize is the AES-256 key size in bytes.
	MasterKeySize = 32

	keystoreFormat  = "dap-keystore"
	keystoreVersion = 1
	// checkAAD binds the key-check value; entry AADs are "entry:" + name so
	// no entry name can collide with it.
	checkAAD       = "dap-keystore/check"
	checkPlaintext = "dap-keystore-v1"
	maxKeystore    = 64 << 20
	// MaxSecretSize bounds one stored or fetched secret value.
	MaxSecretSize = 1 << 20
)

// EntryInfo describes a keystore entry without its value.
type EntryInfo struct {
	Name    string
	Created time.Time
	// Rotated is when the value was last replaced by Set (zero if never).
	Rotated time.Time
}

// Keystore is DAP's own encrypted secret store: a JSON file whose entries
// are sealed with AES-256-GCM under a master key, each with a fresh random
// 96-bit nonce and its name as additional data (so ciphertexts cannot be
// swapped between names). Every write replaces the file atomically (temp
// file, fsync, rename) with mode 0600. A Keystore is safe for concurrent use
// within one process; concurrent writers in different processes may lose
// an update (last rename wins) but never corrupt the file.
type Keystore struct {
	mu   sync.Mutex
	path string
	aead cipher.AEAD
	file ksFile
}

type ksFile struct {
	Format  string              `json:"format"`
	Version int                 `json:"version"`
	Check   sealed              `json:"check"`
	Entries map[string]*ksEntry `json:"entries"`
}

type sealed struct {
	Nonce      []byte `json:"nonce"`
	Ciphertext []byte `json:"ciphertext"`
}

type ksEntry struct {
	sealed
	Created time.Time `json:"created"`
	Rotated time.Time `json:"rotated,omitzero"`
}

// OpenKeystore opens the keystore at path, creating an empty one (mode
// 0600) if the file does not exist. A key that did not create the file is
// refused with ErrWrongMasterKey.
func OpenKeystore(path string, masterKey []byte) (*Keystore, error) {
	aead, err := newAEAD(masterKey)
	if err != nil {
		return nil, err
	}
	ks := &Keystore{path: path, aead: aead}
	data, err := readLimited(path, maxKeystore)
	if errors.Is(err, fs.ErrNotExist) {
		ks.file = ksFile{Format: keystoreFormat, Version: keystoreVersion, Entries: map[string]*ksEntry{}}
		if ks.file.Check, err = seal(aead, []byte(checkPlaintext), checkAAD); err != nil {
			return nil, err
		}
		if err := ks.writeLocked(ks.file); err != nil {
			return nil, err
		}
		return ks, nil
	}
	if err != nil {
		return nil, fmt.Errorf("keystore: read %s: %w", path, err)
	}
	if err := json.Unmarshal(data, &ks.file); err != nil {
		return nil, fmt.Errorf("keystore: %s is not a DAP keystore (invalid JSON): %w", path, err)
	}
	if ks.file.Format != keystoreFormat || ks.file.Version != keystoreVersion {
		return nil, fmt.Errorf("keystore: %s is not a DAP keystore version %d (format %q, version %d)",
			path, keystoreVersion, ks.file.Format, ks.file.Version)
	}
	if ks.file.Entries == nil {
		ks.file.Entries = map[string]*ksEntry{}
	}
	if pt, err := open(aead, ks.file.Check, checkAAD); err != nil || string(pt) != checkPlaintext {
		return nil, ErrWrongMasterKey
	}
	return ks, nil
}

// Path returns the keystore's file path.
func (k *Keystore) Path() string { return k.path }

// Get decrypts the named entry. A missing entry wraps ErrNotFound; one that
// fails authentication wraps ErrTampered and names the entry.
func (k *Keystore) Get(name string) (string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	e, ok := k.file.Entries[name]
	if !ok {
		return "", errorf(ErrNotFound, "keystore: no entry %q in %s", name, k.path)
	}
	pt, err := open(k.aead, e.sealed, entryAAD(name))
	if err != nil {
		return "", fmt.Errorf("keystore: entry %q: %w", name, ErrTampered)
	}
	return string(pt), nil
}

// Set stores value under name, replacing any previous value.
func (k *Keystore) Set(name, value string) error {
	if err := validEntryName(name); err != nil {
		return fmt.Errorf("keystore: set %q: %w: %w", name, ErrInvalidRef, err)
	}
	if len(value) > MaxSecretSize {
		return fmt.Errorf("keystore: set %q: value is larger than %d bytes", name, MaxSecretSize)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	s, err := seal(k.aead, []byte(value), entryAAD(name))
	if err != nil {
		return fmt.Errorf("keystore: set %q: %w", name, err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	e := &ksEntry{sealed: s, Created: now}
	if old, ok := k.file.Entries[name]; ok {
		e.Created, e.Rotated = old.Created, now
	}
	next := k.file
	next.Entries = cloneEntries(k.file.Entries)
	next.Entries[name] = e
	if err := k.writeLocked(next); err != nil {
		return fmt.Errorf("keystore: set %q: %w", name, err)
	}
	k.file = next
	return nil
}

// Delete removes the named entry.
func (k *Keystore) Delete(name string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if _, ok := k.file.Entries[name]; !ok {
		return errorf(ErrNotFound, "keystore: delete: no entry %q in %s", name, k.path)
	}
	next := k.file
	next.Entries = cloneEntries(k.file.Entries)
	delete(next.Entries, name)
	if err := k.writeLocked(next); err != nil {
		return fmt.Errorf("keystore: delete %q: %w", name, err)
	}
	k.file = next
	return nil
}

// List returns the entries' names and dates, sorted by name, never values.
func (k *Keystore) List() []EntryInfo {
	k.mu.Lock()
	defer k.mu.Unlock()
	out := make([]EntryInfo, 0, len(k.file.Entries))
	for name, e := range k.file.Entries {
		out = append(out, EntryInfo{Name: name, Created: e.Created, Rotated: e.Rotated})
	}
	slices.SortFunc(out, func(a, b EntryInfo) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// RotateMasterKey re-encrypts every entry under newKey and replaces the file
// in one atomic rename: a crash leaves either the old or the new keystore.
// If any entry fails authentication nothing is changed.
func (k *Keystore) RotateMasterKey(newKey []byte) error {
	aead, err := newAEAD(newKey)
	if err != nil {
		return fmt.Errorf("keystore: rotate: %w", err)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	next := ksFile{Format: keystoreFormat, Version: keystoreVersion, Entries: make(map[string]*ksEntry, len(k.file.Entries))}
	if next.Check, err = seal(aead, []byte(checkPlaintext), checkAAD); err != nil {
		return fmt.Errorf("keystore: rotate: %w", err)
	}
	for name, e := range k.file.Entries {
		pt, err := open(k.aead, e.sealed, entryAAD(name))
		if err != nil {
			return fmt.Errorf("keystore: rotate: entry %q: %w; nothing was changed", name, ErrTampered)
		}
		s, err := seal(aead, pt, entryAAD(name))
		if err != nil {
			return fmt.Errorf("keystore: rotate: entry %q: %w", name, err)
		}
		next.Entries[name] = &ksEntry{sealed: s, Created: e.Created, Rotated: e.Rotated}
	}
	if err := k.writeLocked(next); err != nil {
		return fmt.Errorf("keystore: rotate: %w", err)
	}
	k.file, k.aead = next, aead
	return nil
}

// writeLocked replaces the file atomically: the temp file lives in the same
// directory so the rename cannot cross file systems.
func (k *Keystore) writeLocked(f ksFile) (err error) {
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return fmt.Errorf("encode keystore: %w", err)
	}
	dir := filepath.Dir(k.path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(k.path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write keystore %s: %w", k.path, err)
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if err = tmp.Chmod(0o600); err != nil {
		return fmt.Errorf("write keystore %s: %w", k.path, err)
	}
	if _, err = tmp.Write(data); err != nil {
		return fmt.Errorf("write keystore %s: %w", k.path, err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("write keystore %s: %w", k.path, err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("write keystore %s: %w", k.path, err)
	}
	if err = os.Rename(tmp.Name(), k.path); err != nil {
		return fmt.Errorf("write keystore %s: %w", k.path, err)
	}
	// Make the rename itself durable; not every file system supports
	// syncing a directory, and the data is already safe, so ignore errors.
	if d, derr := os.Open(dir); derr == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}

func cloneEntries(m map[string]*ksEntry) map[string]*ksEntry {
	out := make(map[string]*ksEntry, len(m)+1)
	for k, v := range m {
		out[k] = v
	}
	return out
}

func entryAAD(name string) string { return "entry:" + name }

func newAEAD(key []byte) (cipher.AEAD, error) {
	if len(key) != MasterKeySize {
		return nil, fmt.Errorf("keystore: master key must be %d bytes, got %d", MasterKeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("keystore: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("keystore: %w", err)
	}
	return aead, nil
}

func seal(aead cipher.AEAD, plaintext []byte, aad string) (sealed, error) {
	nonce := make([]byte, aead.NonceSize())
	if _, err := io.ReadFull(rand.Reader, nonce); err != nil {
		return sealed{}, fmt.Errorf("random nonce: %w", err)
	}
	return sealed{Nonce: nonce, Ciphertext: aead.Seal(nil, nonce, plaintext, []byte(aad))}, nil
}

// open checks the nonce length first: cipher.AEAD.Open panics on a wrong
// one, and the file is untrusted input.
func open(aead cipher.AEAD, s sealed, aad string) ([]byte, error) {
	if len(s.Nonce) != aead.NonceSize() || len(s.Ciphertext) < aead.Overhead() {
		return nil, errors.New("malformed sealed value")
	}
	return aead.Open(nil, s.Nonce, s.Ciphertext, []byte(aad))
}

// GenerateMasterKey returns a new random 256-bit master key; store it
// base64-encoded in DAP_MASTER_KEY or a DAP_MASTER_KEY_FILE.
func GenerateMasterKey() ([]byte, error) {
	key := make([]byte, MasterKeySize)
	if _, err := io.ReadFull(rand.Reader, key); err != nil {
		return nil, fmt.Errorf("keystore: generate master key: %w", err)
	}
	return key, nil
}

// LoadMasterKey reads the master key from DAP_MASTER_KEY (base64) or the
// file named by DAP_MASTER_KEY_FILE (base64 text or 32 raw bytes). lookup is
// os.LookupEnv in production. warning is non-empty when the key file is
// readable by group or others.
func LoadMasterKey(lookup func(string) (string, bool)) (key []byte, warning string, err error) {
	envVal, envOK := lookup(EnvMasterKey)
	fileName, fileOK := lookup(EnvMasterKeyFile)
	switch {
	case envOK && envVal != "" && fileOK && fileName != "":
		return nil, "", fmt.Errorf("keystore: both %s and %s are set; set only one", EnvMasterKey, EnvMasterKeyFile)
	case envOK && envVal != "":
		key, err := decodeMasterKey([]byte(envVal))
		if err != nil {
			return nil, "", fmt.Errorf("keystore: %s: %w", EnvMasterKey, err)
		}
		return key, "", nil
	case fileOK && fileName != "":
		data, err := readLimited(fileName, 4096)
		if err != nil {
			return nil, "", fmt.Errorf("keystore: %s: %w", EnvMasterKeyFile, err)
		}
		warning = permissionWarning(fileName)
		if len(data) == MasterKeySize {
			// 32 bytes of base64 would decode to 24, so this is a raw key.
			return data, warning, nil
		}
		key, err := decodeMasterKey(data)
		if err != nil {
			return nil, "", fmt.Errorf("keystore: %s (%s): %w", EnvMasterKeyFile, fileName, err)
		}
		return key, warning, nil
	default:
		return nil, "", errorf(ErrNotFound, "keystore: no master key: set %s (base64 of %d random bytes) or %s",
			EnvMasterKey, MasterKeySize, EnvMasterKeyFile)
	}
}

func decodeMasterKey(text []byte) ([]byte, error) {
	s := string(bytes.TrimSpace(text))
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if k, err := enc.DecodeString(s); err == nil {
			if len(k) != MasterKeySize {
				return nil, fmt.Errorf("master key must decode to %d bytes, got %d", MasterKeySize, len(k))
			}
			return k, nil
		}
	}
	return nil, errors.New("master key is not valid base64")
}

// readLimited reads a whole file but refuses one larger than max, so a
// misconfigured path (a device, a log file) cannot exhaust memory.
func readLimited(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() && fi.Size() > max {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, max)
	}
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, max)
	}
	return data, nil
}

// permissionWarning returns a message when a secret-bearing file is readable
// by group or others. It is a warning, not a refusal: containers often mount
// secrets 0644 and refusing would break them; `dap check` shows it.
func permissionWarning(path string) string {
	fi, err := os.Stat(path)
	if err != nil {
		return ""
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Sprintf("%s is readable by group or others (mode %04o); run chmod 600 %s", path, perm, path)
	}
	return ""
}
