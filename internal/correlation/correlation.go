// Package correlation carries the correlation id of one request: born in a
// transport, kept in the context, written to logs, audit records and every
// response so that a user's report can be matched to the server's trace.
package correlation

import (
	"context"
	"crypto/rand"
	"encoding/base32"
)

type ctxKey struct{}

// New returns a fresh random id (80 bits, base32, 16 characters).
func New() string {
	var b [10]byte
	_, _ = rand.Read(b[:])
	return base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:])
}

// With returns ctx carrying id.
func With(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, ctxKey{}, id)
}

// From returns the id in ctx, or "" if none.
func From(ctx context.Context) string {
	id, _ := ctx.Value(ctxKey{}).(string)
	return id
}

// Ensure returns ctx with an id, creating one if ctx has none, and the id.
func Ensure(ctx context.Context) (context.Context, string) {
	if id := From(ctx); id != "" {
		return ctx, id
	}
	id := New()
	return With(ctx, id), id
}

// Valid reports whether an id offered by a client (X-Request-Id) is safe to
// adopt: 1-64 characters of [A-Za-z0-9._-], so it cannot forge log lines.
func Valid(id string) bool {
	if len(id) == 0 || len(id) > 64 {
		return false
	}
	for _, r := range id {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
		default:
			return false
		}
	}
	return true
}
