package secrets

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"
	"golang.org/x/sync/singleflight"
)

// Defaults for Options.
const (
	DefaultTTL               = 5 * time.Minute
	DefaultRetryAfterFailure = 30 * time.Second
	DefaultFetchTimeout      = 10 * time.Second
)

// Options configures a Resolver. The zero value works: env and file
// references resolve, Vault and Azure read their usual environment.
type Options struct {
	// TTL is how long a fetched value is served from the cache.
	TTL time.Duration
	// RetryAfterFailure is how long a last good value is served, once its
	// provider was found unreachable, before the provider is asked again.
	RetryAfterFailure time.Duration
	// FetchTimeout bounds one provider call.
	FetchTimeout time.Duration
	// Now is the clock (tests inject one); default time.Now.
	Now func() time.Time
	// LookupEnv reads the environment; default os.LookupEnv.
	LookupEnv func(string) (string, bool)
	// KeystorePath is the keystore file for keystore: references.
	KeystorePath string
	// MasterKey opens the keystore; nil loads it with LoadMasterKey.
	MasterKey []byte
	Azure     AzureOptions
	Vault     VaultOptions
}

// ProviderHealth is one provider's state for `dap check`.
type ProviderHealth struct {
	Provider Scheme
	// OK is true when every reference of this provider could be read now.
	OK bool
	// Detail summarises the check in one line.
	Detail string
	// Warnings are problems that do not stop resolution (loose file modes).
	Warnings []string
	// LastError is the most recent failure seen (may predate a recovery).
	LastError   string
	LastErrorAt time.Time
}

// Resolver turns references into values with a TTL cache. It is safe for
// concurrent use; concurrent resolutions of one reference share one
// provider call.
type Resolver struct {
	opts  Options
	group singleflight.Group

	mu     sync.Mutex
	cache  map[string]*cacheEntry
	states map[Scheme]*providerState

	azMu      sync.Mutex
	azCred    azcore.TokenCredential
	azClients map[string]*azsecrets.Client
}

type cacheEntry struct {
	value   string
	expires time.Time
}

type providerState struct {
	refs        map[string]bool // reference -> readable at the last attempt
	warnings    map[string]string
	lastErr     string
	lastErrAt   time.Time
	staleServed map[string]bool
}

// fetched is what a provider returns.
type fetched struct {
	value   string
	warning string
}

// NewResolver returns a Resolver; zero Options fields take their defaults.
func NewResolver(opts Options) *Resolver {
	if opts.TTL <= 0 {
		opts.TTL = DefaultTTL
	}
	if opts.RetryAfterFailure <= 0 {
		opts.RetryAfterFailure = DefaultRetryAfterFailure
	}
	if opts.FetchTimeout <= 0 {
		opts.FetchTimeout = DefaultFetchTimeout
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.LookupEnv == nil {
		opts.LookupEnv = os.LookupEnv
	}
	return &Resolver{
		opts:      opts,
		cache:     map[string]*cacheEntry{},
		states:    map[Scheme]*providerState{},
		azClients: map[string]*azsecrets.Client{},
	}
}

// Resolve returns the value a configuration string stands for: a plain
// value unchanged, a reference's secret from the cache or its provider.
// When the provider is unreachable (ErrUnavailable) and a value was read
// before, that last good value is returned and the failure is recorded for
// Health. Errors are *RefError and never contain the secret or a token.
func (r *Resolver) Resolve(ctx context.Context, s string) (string, error) {
	ref, err := ParseRef(s)
	if err != nil {
		return "", err
	}
	if ref.IsPlain() {
		return s, nil
	}
	key := ref.String()
	r.mu.Lock()
	if e := r.cache[key]; e != nil && r.opts.Now().Before(e.expires) {
		r.mu.Unlock()
		return e.value, nil
	}
	r.mu.Unlock()
	return r.refresh(ctx, ref)
}

// Invalidate drops the cached value of a reference so the next Resolve asks
// the provider again (call it when a connection fails authentication: the
// secret may have been rotated). The last good value is kept in reserve in
// case the provider is unreachable.
func (r *Resolver) Invalidate(s string) {
	ref, err := ParseRef(s)
	if err != nil || ref.IsPlain() {
		return
	}
	key := ref.String()
	r.mu.Lock()
	if e := r.cache[key]; e != nil {
		e.expires = time.Time{}
	}
	r.mu.Unlock()
	// A provider call already in flight may predate the rotation.
	r.group.Forget(key)
}

// refresh asks the provider once for all concurrent callers. The call runs
// on a context detached from the first caller's cancellation (with its own
// timeout) so one impatient caller does not fail the others.
func (r *Resolver) refresh(ctx context.Context, ref Ref) (string, error) {
	key := ref.String()
	fctx := context.WithoutCancel(ctx)
	ch := r.group.DoChan(key, func() (any, error) {
		cctx, cancel := context.WithTimeout(fctx, r.opts.FetchTimeout)
		defer cancel()
		f, err := r.fetch(cctx, ref)
		if err == nil && f.value == "" {
			err = errorf(ErrNotFound, "the secret is empty")
		}
		return r.record(ref, f, err)
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			return "", res.Err
		}
		return res.Val.(string), nil
	case <-ctx.Done():
		return "", &RefError{Ref: key, Err: fmt.Errorf("waiting for the provider: %w", ctx.Err())}
	}
}

// record updates the cache and provider state after a fetch and decides
// between the fresh value, the last good value and the error.
func (r *Resolver) record(ref Ref, f fetched, err error) (string, error) {
	key := ref.String()
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.opts.Now()
	st := r.state(ref.Scheme)
	if err == nil {
		r.cache[key] = &cacheEntry{value: f.value, expires: now.Add(r.opts.TTL)}
		st.refs[key] = true
		delete(st.staleServed, key)
		if f.warning != "" {
			st.warnings[key] = f.warning
		} else {
			delete(st.warnings, key)
		}
		return f.value, nil
	}
	rerr := &RefError{Ref: key, Err: err}
	st.refs[key] = false
	st.lastErr, st.lastErrAt = rerr.Error(), now
	e := r.cache[key]
	if e != nil && errors.Is(err, ErrUnavailable) {
		e.expires = now.Add(r.opts.RetryAfterFailure)
		st.staleServed[key] = true
		return e.value, nil
	}
	// The provider answered (not found, denied...) or never had a value:
	// a revoked secret must not live on in the cache.
	delete(r.cache, key)
	delete(st.staleServed, key)
	return "", rerr
}

func (r *Resolver) state(s Scheme) *providerState {
	st := r.states[s]
	if st == nil {
		st = &providerState{refs: map[string]bool{}, warnings: map[string]string{}, staleServed: map[string]bool{}}
		r.states[s] = st
	}
	return st
}

func (r *Resolver) fetch(ctx context.Context, ref Ref) (fetched, error) {
	switch ref.Scheme {
	case SchemeEnv:
		return r.fetchEnv(ctx, ref)
	case SchemeFile:
		return r.fetchFile(ctx, ref)
	case SchemeKeystore:
		return r.fetchKeystore(ctx, ref)
	case SchemeAzure:
		return r.fetchAzure(ctx, ref)
	case SchemeVault:
		return r.fetchVault(ctx, ref)
	default:
		return fetched{}, errorf(ErrInvalidRef, "unknown scheme %q", ref.Scheme)
	}
}

// Health re-reads every reference resolved so far (bypassing the cache)
// and reports one line per provider; a configured keystore is checked even
// when no reference used it yet.
func (r *Resolver) Health(ctx context.Context) []ProviderHealth {
	r.mu.Lock()
	var refs []Ref
	for _, st := range r.states {
		for key := range st.refs {
			if ref, err := ParseRef(key); err == nil {
				refs = append(refs, ref)
			}
		}
	}
	r.mu.Unlock()
	for _, ref := range refs {
		_, _ = r.refresh(ctx, ref) // outcome lands in the provider state
	}

	var out []ProviderHealth
	r.mu.Lock()
	for scheme, st := range r.states {
		h := ProviderHealth{Provider: scheme, LastError: st.lastErr, LastErrorAt: st.lastErrAt, OK: true}
		var bad, stale []string
		for key, ok := range st.refs {
			if !ok {
				h.OK = false
				bad = append(bad, key)
			}
			if st.staleServed[key] {
				stale = append(stale, key)
			}
		}
		slices.Sort(bad)
		slices.Sort(stale)
		h.Detail = fmt.Sprintf("%d of %d references readable", len(st.refs)-len(bad), len(st.refs))
		if len(bad) > 0 {
			h.Detail += "; failing: " + strings.Join(bad, ", ")
		}
		if len(stale) > 0 {
			h.Detail += "; serving last good value for: " + strings.Join(stale, ", ")
		}
		for _, w := range st.warnings {
			h.Warnings = append(h.Warnings, w)
		}
		slices.Sort(h.Warnings)
		out = append(out, h)
	}
	_, keystoreSeen := r.states[SchemeKeystore]
	r.mu.Unlock()

	if r.opts.KeystorePath != "" && !keystoreSeen {
		h := ProviderHealth{Provider: SchemeKeystore}
		ks, warning, err := r.openKeystore()
		if err != nil {
			h.Detail, h.LastError, h.LastErrorAt = "cannot open the keystore", err.Error(), r.opts.Now()
		} else {
			h.OK, h.Detail = true, fmt.Sprintf("keystore %s opens; %d entries", ks.Path(), len(ks.List()))
			if warning != "" {
				h.Warnings = []string{warning}
			}
		}
		out = append(out, h)
	}
	slices.SortFunc(out, func(a, b ProviderHealth) int { return strings.Compare(string(a.Provider), string(b.Provider)) })
	return out
}
