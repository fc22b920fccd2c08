package accounts

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base32"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/dap-platform/dap/internal/audit"
)

// Authentication errors; each is returned wrapped, test with errors.Is.
// Callers answer all of them with the same 401 and audit the distinction.
var (
	ErrUnknownKey   = errors.New("unknown API key")
	ErrKeyRevoked   = errors.New("API key revoked")
	ErrKeyExpired   = errors.New("API key expired")
	ErrUserDisabled = errors.New("user disabled")
)

// Key format: KeyPrefix then 256 random bits as unpadded lower-case
// base32 (a-z, 2-7: no characters that break double-click selection or
// need quoting), 52 characters.
const (
	KeyPrefix     = "dap_"
	keyBytes      = 32
	KeyLen        = len(KeyPrefix) + 52
	DisplayPrefix = 12 // characters of a key shown in listings
	// LastUsedEvery bounds how often last_used_at is written per key.
	LastUsedEvery = time.Minute
)

var keyEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// KeyInfo describes an API key; it never holds the key or its hash.
type KeyInfo struct {
	ID       int64     `json:"id"`
	Prefix   string    `json:"prefix"`
	User     string    `json:"user"`
	Created  time.Time `json:"created"`
	LastUsed time.Time `json:"last_used,omitzero"`
	Expires  time.Time `json:"expires,omitzero"`
	Revoked  time.Time `json:"revoked,omitzero"`
}

func keyName(id int64) string { return "key #" + strconv.FormatInt(id, 10) }

func hashKey(k string) []byte {
	h := sha256.Sum256([]byte(k))
	return h[:]
}

// CreateKey makes an API key for an existing, enabled user, valid until
// expires (zero: never). The plaintext is returned only here; only its
// SHA-256 is stored.
func (s *Store) CreateKey(ctx context.Context, actor, user string, expires time.Time) (string, KeyInfo, error) {
	u, err := s.GetUser(ctx, user)
	if err != nil {
		return "", KeyInfo{}, fmt.Errorf("accounts: create key: %w", err)
	}
	if u.Disabled {
		return "", KeyInfo{}, fmt.Errorf("accounts: create key for %q: %w", user, ErrUserDisabled)
	}
	now := fromMicros(micros(s.now()))
	if !expires.IsZero() && !expires.After(now) {
		return "", KeyInfo{}, fmt.Errorf("accounts: create key for %q: %w expiry %s: it is not in the future", user, ErrInvalid, expires.UTC().Format(time.RFC3339))
	}
	var raw [keyBytes]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", KeyInfo{}, fmt.Errorf("accounts: create key: read random bytes: %w", err)
	}
	plain := KeyPrefix + keyEncoding.EncodeToString(raw[:])
	info := KeyInfo{Prefix: plain[:DisplayPrefix], User: user, Created: now}
	if !expires.IsZero() {
		info.Expires = fromMicros(micros(expires))
	}
	err = s.db.QueryRowContext(ctx, s.q(`INSERT INTO api_keys (prefix, key_hash, user_name, created_at, expires_at, pending) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`),
		info.Prefix, hashKey(plain), user, micros(now), nullMicros(info.Expires), true).Scan(&info.ID)
	if err != nil {
		return "", KeyInfo{}, fmt.Errorf("accounts: create key for %q: insert into %s: %w", user, s.r, err)
	}
	c := change{typ: audit.TypeKeyChange, action: "create", objType: "api_key", objName: keyName(info.ID), actor: actor, new: info}
	if err := s.record(ctx, c); err != nil {
		s.dropPending(ctx, "api_keys", info.ID)
		return "", KeyInfo{}, err
	}
	res, err := s.db.ExecContext(ctx, s.q(`UPDATE api_keys SET pending = ? WHERE id = ? AND pending = ?`), false, info.ID, true)
	if err == nil {
		err = oneRow(res)
	}
	if err != nil {
		s.notApplied(ctx, c, err)
		s.dropPending(ctx, "api_keys", info.ID)
		return "", KeyInfo{}, fmt.Errorf("accounts: create key for %q: %w", user, err)
	}
	s.version.Add(1)
	return plain, info, nil
}

const keyColumns = `id, prefix, user_name, created_at, last_used_at, expires_at, revoked_at FROM api_keys`

// ListKeys lists the keys of user, or every key when user is empty, by id;
// revoked and expired keys included.
func (s *Store) ListKeys(ctx context.Context, user string) ([]KeyInfo, error) {
	if user == "" {
		return s.queryKeys(ctx, `SELECT `+keyColumns+` WHERE pending = ? ORDER BY id`, false)
	}
	return s.queryKeys(ctx, `SELECT `+keyColumns+` WHERE user_name = ? AND pending = ? ORDER BY id`, user, false)
}

func (s *Store) queryKeys(ctx context.Context, query string, args ...any) ([]KeyInfo, error) {
	rows, err := s.db.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, fmt.Errorf("accounts: read API keys from %s: %w", s.r, err)
	}
	defer rows.Close()
	var out []KeyInfo
	for rows.Next() {
		var k KeyInfo
		var created int64
		var used, expires, revoked sql.NullInt64
		if err := rows.Scan(&k.ID, &k.Prefix, &k.User, &created, &used, &expires, &revoked); err != nil {
			return nil, fmt.Errorf("accounts: read API keys: %w", err)
		}
		k.Created, k.LastUsed, k.Expires, k.Revoked = fromMicros(created), fromNullMicros(used), fromNullMicros(expires), fromNullMicros(revoked)
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("accounts: read API keys: %w", err)
	}
	return out, nil
}

// RevokeKey revokes a key by id; the row stays for listings.
func (s *Store) RevokeKey(ctx context.Context, actor string, id int64) error {
	keys, err := s.queryKeys(ctx, `SELECT `+keyColumns+` WHERE id = ? AND pending = ?`, id, false)
	if err != nil {
		return err
	}
	if len(keys) == 0 {
		return fmt.Errorf("accounts: revoke %s: %w", keyName(id), ErrNotFound)
	}
	old := keys[0]
	if !old.Revoked.IsZero() {
		return fmt.Errorf("accounts: revoke %s: %w", keyName(id), ErrKeyRevoked)
	}
	updated := old
	updated.Revoked = fromMicros(micros(s.now()))
	c := change{typ: audit.TypeKeyChange, action: "revoke", objType: "api_key", objName: keyName(id), actor: actor, old: old, new: updated}
	if err := s.record(ctx, c); err != nil {
		return err
	}
	res, err := s.db.ExecContext(ctx, s.q(`UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`), micros(updated.Revoked), id)
	if err == nil {
		err = oneRow(res)
	}
	if err != nil {
		s.notApplied(ctx, c, err)
		return fmt.Errorf("accounts: revoke %s: %w", keyName(id), err)
	}
	s.version.Add(1)
	return nil
}

// wellFormed checks the shape of a presented key before any lookup, so
// that junk of any size costs no query.
func wellFormed(k string) bool {
	if len(k) != KeyLen || k[:len(KeyPrefix)] != KeyPrefix {
		return false
	}
	for i := len(KeyPrefix); i < len(k); i++ {
		c := k[i]
		if !(c >= 'a' && c <= 'z' || c >= '2' && c <= '7') {
			return false
		}
	}
	return true
}

// Authenticate returns the user a presented API key belongs to. It
// refuses malformed and unknown keys (ErrUnknownKey), revoked keys
// (ErrKeyRevoked), expired keys (ErrKeyExpired) and keys of disabled
// users (ErrUserDisabled). The errors never contain the presented key.
// last_used_at is written at most once per LastUsedEvery per key; a
// failure to write it does not refuse the request.
func (s *Store) Authenticate(ctx context.Context, presented string) (string, error) {
	if !wellFormed(presented) {
		return "", fmt.Errorf("accounts: authenticate: %w (malformed: expected %s followed by 52 base32 characters)", ErrUnknownKey, KeyPrefix)
	}
	h := hashKey(presented)
	var (
		id                     int64
		stored                 []byte
		user                   string
		used, expires, revoked sql.NullInt64
		disabled               bool
	)
	err := s.db.QueryRowContext(ctx, s.q(`SELECT k.id, k.key_hash, k.user_name, k.last_used_at, k.expires_at, k.revoked_at, u.disabled
FROM api_keys k JOIN users u ON u.name = k.user_name WHERE k.key_hash = ? AND k.pending = ?`), h, false).
		Scan(&id, &stored, &user, &used, &expires, &revoked, &disabled)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("accounts: authenticate: %w", ErrUnknownKey)
	}
	if err != nil {
		return "", fmt.Errorf("accounts: authenticate: look up key in %s: %w", s.r, err)
	}
	// The index lookup is by value; compare again in constant time so the
	// decision itself does not depend on timing of a byte comparison.
	if subtle.ConstantTimeCompare(stored, h) != 1 {
		return "", fmt.Errorf("accounts: authenticate: %w", ErrUnknownKey)
	}
	now := s.now()
	switch {
	case revoked.Valid:
		return "", fmt.Errorf("accounts: authenticate %s of %q: %w at %s", keyName(id), user, ErrKeyRevoked, fromMicros(revoked.Int64).Format(time.RFC3339))
	case expires.Valid && !now.Before(fromMicros(expires.Int64)):
		return "", fmt.Errorf("accounts: authenticate %s of %q: %w at %s", keyName(id), user, ErrKeyExpired, fromMicros(expires.Int64).Format(time.RFC3339))
	case disabled:
		return "", fmt.Errorf("accounts: authenticate %s: %w: %q", keyName(id), ErrUserDisabled, user)
	}
	s.touch(ctx, id, fromNullMicros(used), now)
	return user, nil
}

// touch writes last_used_at when the stored value (written by any
// instance) and this process's last write are both older than
// LastUsedEvery. The conditional UPDATE keeps instances from writing the
// same minute twice.
func (s *Store) touch(ctx context.Context, id int64, stored, now time.Time) {
	if !stored.IsZero() && now.Sub(stored) < LastUsedEvery {
		return
	}
	s.usedMu.Lock()
	if last, ok := s.lastUsed[id]; ok && now.Sub(last) < LastUsedEvery {
		s.usedMu.Unlock()
		return
	}
	s.lastUsed[id] = now
	s.usedMu.Unlock()
	_, err := s.db.ExecContext(ctx, s.q(`UPDATE api_keys SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at <= ?)`),
		micros(now), id, micros(now.Add(-LastUsedEvery)))
	if err != nil {
		// Informational only: forget the claim so the next request retries.
		s.usedMu.Lock()
		delete(s.lastUsed, id)
		s.usedMu.Unlock()
	}
}
