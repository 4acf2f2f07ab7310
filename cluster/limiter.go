package cluster

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/livestorm-gateway/gateway/livestorm"
)

// Limiter is the livestorm.Limiter of several replicas: for each key (a credential
// fingerprint, one per workspace with the server token) at most n requests start in any
// window of length per, counted across every replica in one sliding-window log in Redis
// (limitScript, on Redis's clock). Like the local limiter it widens the window by a
// guard (per/20, at most 50 ms) that absorbs the jitter between deciding and arriving.
//
// While Redis is unreachable each replica paces itself with a local limiter at its
// share: n/N per window for N replicas last heard of (at least one request per window;
// with more replicas than n, one per N/n windows), so the replicas together still keep
// under n.
type Limiter struct {
	c      *Cluster
	n      int
	per    time.Duration
	window time.Duration

	mu     sync.Mutex
	shares map[int]livestorm.Limiter // by replica count
}

var _ livestorm.Limiter = (*Limiter)(nil)

// startSeq makes each start's entry in a log unique (with the replica id).
var startSeq atomic.Uint64

// Limiter returns a limiter allowing n requests per window per key across replicas.
func (c *Cluster) Limiter(n int, per time.Duration) *Limiter {
	guard := min(per/20, 50*time.Millisecond)
	return &Limiter{c: c, n: n, per: per, window: per + guard, shares: map[int]livestorm.Limiter{}}
}

// Wait blocks until key may start a request, or ctx ends.
func (l *Limiter) Wait(ctx context.Context, key string) error {
	if l.n < 1 || l.per <= 0 {
		return ctx.Err()
	}
	return livestorm.WaitTurn(ctx, func() (time.Duration, error) {
		if !l.c.health.isUp() {
			l.c.fallback("ratelimit")
			return 0, l.share().Wait(ctx, key)
		}
		octx, cancel := l.c.op(ctx)
		us, err := limitScript.Run(octx, l.c.rdb, []string{l.c.key("rl", shortKey(key))}, l.n, l.window.Microseconds(),
			l.c.opts.ReplicaID+":"+strconv.FormatUint(startSeq.Add(1), 10)).Int64()
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return 0, ctx.Err()
			}
			l.c.failed("ratelimit", err)
			return 0, l.share().Wait(ctx, key)
		}
		return time.Duration(us) * time.Microsecond, nil
	})
}

// share is the local limiter of this replica's share of the rate.
func (l *Limiter) share() livestorm.Limiter {
	n := max(1, l.c.health.count())
	l.mu.Lock()
	defer l.mu.Unlock()
	if lim, ok := l.shares[n]; ok {
		return lim
	}
	var lim livestorm.Limiter
	if each := l.n / n; each >= 1 {
		lim = livestorm.NewLocalLimiter(each, l.per)
	} else {
		lim = livestorm.NewLocalLimiter(1, l.per*time.Duration((n+l.n-1)/l.n))
	}
	l.shares[n] = lim
	return lim
}

// shortKey shortens a credential fingerprint (a SHA-256 hex) for key names.
func shortKey(fp string) string {
	if len(fp) > 32 {
		return fp[:32]
	}
	return fp
}
