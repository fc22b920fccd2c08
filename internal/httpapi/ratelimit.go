package httpapi

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/dap-platform/dap/internal/correlation"
)

// maxBuckets bounds the identities tracked at once; past it the least
// recently seen bucket is dropped (identities are users, so the bound is
// reached only by a very large deployment).
const maxBuckets = 10000

// sweepEvery is how often idle buckets are looked for.
const sweepEvery = time.Minute

// limiter is a token bucket per identity. A bucket idle long enough to
// have refilled is indistinguishable from a new one, so dropping it loses
// nothing: that is what bounds memory.
type limiter struct {
	rps   rate.Limit
	burst int
	idle  time.Duration // time for an empty bucket to refill

	mu        sync.Mutex
	buckets   map[string]*bucket
	lastSweep time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

// newLimiter returns nil (no limit) when rps or burst is not positive.
func newLimiter(rps float64, burst int) *limiter {
	if rps <= 0 || burst <= 0 {
		return nil
	}
	idle := time.Duration(float64(burst) / rps * float64(time.Second))
	return &limiter{rps: rate.Limit(rps), burst: burst, idle: max(idle, time.Second), buckets: map[string]*bucket{}}
}

// allow takes a token from who's bucket; when there is none it returns
// how long until there is.
func (l *limiter) allow(who string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.lastSweep) >= sweepEvery {
		l.sweep(now)
	}
	b := l.buckets[who]
	if b == nil {
		if len(l.buckets) >= maxBuckets {
			l.sweep(now)
			if len(l.buckets) >= maxBuckets {
				l.dropOldest()
			}
		}
		b = &bucket{lim: rate.NewLimiter(l.rps, l.burst)}
		l.buckets[who] = b
	}
	b.seen = now
	res := b.lim.ReserveN(now, 1)
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		return false, d
	}
	return true, 0
}

// sweep drops buckets idle long enough to be full again.
func (l *limiter) sweep(now time.Time) {
	l.lastSweep = now
	for k, b := range l.buckets {
		if now.Sub(b.seen) >= l.idle {
			delete(l.buckets, k)
		}
	}
}

func (l *limiter) dropOldest() {
	var oldest string
	var at time.Time
	for k, b := range l.buckets {
		if oldest == "" || b.seen.Before(at) {
			oldest, at = k, b.seen
		}
	}
	delete(l.buckets, oldest)
}

// wrap answers 429 with Retry-After once an identity has used its burst.
// It runs after authentication, so the identity is the verified user.
func (l *limiter) wrap(next http.Handler, localUser string) http.Handler {
	if l == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ok, wait := l.allow(identity(r, localUser), time.Now()); !ok {
			secs := int(math.Ceil(wait.Seconds()))
			w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
			http.Error(w, fmt.Sprintf("rate limit of %g requests per second (burst %d) exceeded; retry after %d s (correlation id %s)",
				float64(l.rps), l.burst, max(secs, 1), correlation.From(r.Context())), http.StatusTooManyRequests)
			return
		}
		next.ServeHTTP(w, r)
	})
}
