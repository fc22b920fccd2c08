package secrets

import (
	"errors"
	"fmt"
)

// Error kinds. Test with errors.Is. Only ErrUnavailable lets the Resolver
// fall back to a last good value: a provider that answers "not found" or
// "denied" has spoken, and hiding that would keep a revoked secret alive.
var (
	// ErrInvalidRef: the reference is malformed (bad name, missing key...).
	ErrInvalidRef = errors.New("invalid secret reference")
	// ErrNotFound: the provider has no such secret (or it is empty).
	ErrNotFound = errors.New("secret not found")
	// ErrDenied: the provider refused our credentials (401/403).
	ErrDenied = errors.New("access to secret denied")
	// ErrUnavailable: the provider could not be reached or failed (network
	// error, timeout, 5xx, 429, sealed Vault).
	ErrUnavailable = errors.New("secret provider unavailable")
	// ErrWrongMasterKey: the master key does not open the keystore.
	ErrWrongMasterKey = errors.New("keystore: master key does not open this keystore")
	// ErrTampered: an entry failed AES-GCM authentication.
	ErrTampered = errors.New("keystore entry failed authentication (tampered or corrupt)")
)

// RefError is returned by Resolve. Ref is the reference text (which names a
// secret but holds no secret value); Err explains what failed.
type RefError struct {
	Ref string
	Err error
}

func (e *RefError) Error() string { return fmt.Sprintf("secrets: %s: %v", e.Ref, e.Err) }

func (e *RefError) Unwrap() error { return e.Err }

// kindError attaches an error kind to a message without the kind's text
// being repeated awkwardly: "vault answered 403 (permission denied)" still
// satisfies errors.Is(err, ErrDenied).
type kindError struct {
	kind error
	msg  string
	err  error // optional underlying cause
}

func (e *kindError) Error() string {
	if e.err != nil {
		return e.msg + ": " + e.err.Error()
	}
	return e.msg
}

func (e *kindError) Unwrap() []error {
	if e.err != nil {
		return []error{e.kind, e.err}
	}
	return []error{e.kind}
}

func errorf(kind error, format string, args ...any) error {
	return &kindError{kind: kind, msg: fmt.Sprintf(format, args...)}
}

func wrapf(kind, cause error, format string, args ...any) error {
	return &kindError{kind: kind, msg: fmt.Sprintf(format, args...), err: cause}
}
