package livestorm

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Limiter paces requests per key (the credential fingerprint). Wait blocks
// until one request may start, or returns ctx's error.
type Limiter interface {
	Wait(ctx context.Context, key string) error
}

// limiterIdleTTL is how long a key may stay unused before its window is
// dropped; a window of `per` ≤ this is empty by then anyway.
const limiterIdleTTL = time.Minute

// NewLocalLimiter returns an in-process sliding-window-log limiter: for each
// key, at most n requests start in any window of length per. Livestorm counts
// arrivals, not departures, so the window is widened by a small guard
// (per/20, at most 50 ms) that absorbs network jitter; the promise "at most n
// in any per" therefore holds with margin. A token bucket cannot express this
// (a burst of n after an idle second lets 2n-1 into one fixed second).
//
// Keys idle for more than a minute are evicted lazily, so forwarded
// credentials do not accumulate forever. n < 1 or per <= 0 disable limiting.
func NewLocalLimiter(n int, per time.Duration) Limiter {
	return newLocalLimiter(n, per, time.Now)
}

func newLocalLimiter(n int, per time.Duration, now func() time.Time) *localLimiter {
	guard := per / 20
	if guard > 50*time.Millisecond {
		guard = 50 * time.Millisecond
	}
	return &localLimiter{n: n, per: per, window: per + guard, now: now, keys: make(map[string]*slidingLog)}
}

type localLimiter struct {
	n      int
	per    time.Duration
	window time.Duration // per + guard
	now    func() time.Time

	mu        sync.Mutex
	keys      map[string]*slidingLog
	lastSweep time.Time
}

// slidingLog is a ring of the start times of the last n requests of a key.
type slidingLog struct {
	times []time.Time // len n, ring
	head  int         // index of the oldest entry once full
	count int
	last  time.Time
}

// Wait blocks until key may start a request. Waiters re-check when the
// oldest start leaves the window, so a cancelled waiter leaves no reservation
// behind to delay others.
func (l *localLimiter) Wait(ctx context.Context, key string) error {
	if l.n < 1 || l.per <= 0 {
		return ctx.Err()
	}
	return WaitTurn(ctx, func() (time.Duration, error) { return l.tryAcquire(key), nil })
}

// WaitTurn is the waiting loop of a limiter: it calls try until try grants a
// start (a wait <= 0) or ends with an error, sleeping between tries for as
// long as try asks. A wait that would outlast ctx's deadline fails at once
// with context.DeadlineExceeded instead of holding the goroutine until it
// expires; ctx's end ends the wait.
func WaitTurn(ctx context.Context, try func() (time.Duration, error)) error {
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		wait, err := try()
		if err != nil || wait <= 0 {
			return err
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			return context.DeadlineExceeded
		}
		if timer == nil {
			timer = time.NewTimer(wait)
		} else {
			timer.Reset(wait)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-timer.C:
		}
	}
}

// tryAcquire records a request start and returns 0, or returns how long to
// wait before the oldest start in the window expires.
func (l *localLimiter) tryAcquire(key string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	l.sweep(now)
	w := l.keys[key]
	if w == nil {
		w = &slidingLog{times: make([]time.Time, l.n)}
		l.keys[key] = w
	}
	w.last = now
	if w.count < l.n {
		w.times[(w.head+w.count)%l.n] = now
		w.count++
		return 0
	}
	elapsed := now.Sub(w.times[w.head])
	if elapsed >= l.window {
		w.times[w.head] = now
		w.head = (w.head + 1) % l.n
		return 0
	}
	return l.window - elapsed
}

// sweep drops keys idle for longer than limiterIdleTTL (and longer than the
// window), at most once per TTL so Wait stays O(1) amortised.
func (l *localLimiter) sweep(now time.Time) {
	if now.Sub(l.lastSweep) < limiterIdleTTL {
		return
	}
	l.lastSweep = now
	ttl := limiterIdleTTL
	if l.window > ttl {
		ttl = l.window
	}
	for k, w := range l.keys {
		if now.Sub(w.last) > ttl {
			delete(l.keys, k)
		}
	}
}

// size reports the number of tracked keys (for tests).
func (l *localLimiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.keys)
}

// RateLimit holds the latest RateLimit-* header values seen for a credential.
type RateLimit struct {
	IntervalLimit, IntervalRemaining int
	// MonthlyLimit and MonthlyRemaining come from RateLimit-Monthly-* or the
	// misspelt RateLimit-Montly-* some Livestorm versions send.
	MonthlyLimit, MonthlyRemaining int
	Reset                          time.Time // RateLimit-Reset (unix seconds)
	Observed                       time.Time // when these headers were read; zero = never
}

// rateLimitPresence records which headers a response carried, so a stored
// value is only overwritten by headers actually present.
type rateLimitPresence struct {
	intervalLimit, intervalRemaining, monthlyLimit, monthlyRemaining, reset bool
}

func (p rateLimitPresence) any() bool {
	return p.intervalLimit || p.intervalRemaining || p.monthlyLimit || p.monthlyRemaining || p.reset
}

func headerInt(h http.Header, names ...string) (int, bool) {
	for _, n := range names {
		if v := strings.TrimSpace(h.Get(n)); v != "" {
			if i, err := strconv.Atoi(v); err == nil {
				return i, true
			}
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				return int(f), true
			}
		}
	}
	return 0, false
}

// parseRateLimit reads the RateLimit-* headers of a response.
func parseRateLimit(h http.Header, now time.Time) (RateLimit, rateLimitPresence) {
	var rl RateLimit
	var p rateLimitPresence
	rl.IntervalLimit, p.intervalLimit = headerInt(h, "RateLimit-Interval-Limit")
	rl.IntervalRemaining, p.intervalRemaining = headerInt(h, "RateLimit-Interval-Remaining")
	rl.MonthlyLimit, p.monthlyLimit = headerInt(h, "RateLimit-Monthly-Limit", "RateLimit-Montly-Limit")
	rl.MonthlyRemaining, p.monthlyRemaining = headerInt(h, "RateLimit-Monthly-Remaining", "RateLimit-Montly-Remaining")
	if v := strings.TrimSpace(h.Get("RateLimit-Reset")); v != "" {
		if t, ok := parseTimeString(v); ok && !t.IsZero() {
			rl.Reset, p.reset = t, true
		}
	}
	if p.any() {
		rl.Observed = now
	}
	return rl, p
}

// rateLimitStore keeps the latest RateLimit per credential fingerprint.
// Entries not refreshed for rateLimitTTL are dropped lazily.
type rateLimitStore struct {
	mu        sync.Mutex
	m         map[string]RateLimit
	lastSweep time.Time
}

const rateLimitTTL = time.Hour

// update merges the headers present into key's figures and returns the result (ok
// false when nothing was stored).
func (s *rateLimitStore) update(key string, rl RateLimit, p rateLimitPresence) (RateLimit, bool) {
	if key == "" || !p.any() {
		return RateLimit{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = make(map[string]RateLimit)
	}
	if rl.Observed.Sub(s.lastSweep) > time.Minute {
		s.lastSweep = rl.Observed
		for k, v := range s.m {
			if rl.Observed.Sub(v.Observed) > rateLimitTTL {
				delete(s.m, k)
			}
		}
	}
	cur := s.m[key]
	if p.intervalLimit {
		cur.IntervalLimit = rl.IntervalLimit
	}
	if p.intervalRemaining {
		cur.IntervalRemaining = rl.IntervalRemaining
	}
	if p.monthlyLimit {
		cur.MonthlyLimit = rl.MonthlyLimit
	}
	if p.monthlyRemaining {
		cur.MonthlyRemaining = rl.MonthlyRemaining
	}
	if p.reset {
		cur.Reset = rl.Reset
	}
	cur.Observed = rl.Observed
	s.m[key] = cur
	return cur, true
}

func (s *rateLimitStore) get(key string) RateLimit {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[key]
}

// RateLimit returns the latest rate-limit headers seen for the context's
// credential (or the client's default), by this process or, with a
// RateLimitShare, by any process sharing it. Observed is zero if none were seen.
func (c *Client) RateLimit(ctx context.Context) RateLimit {
	cred := c.credential(ctx)
	if cred.IsZero() {
		return RateLimit{}
	}
	fp := cred.Fingerprint()
	rl := c.rateLimits.get(fp)
	if c.rateShare != nil {
		if shared, ok := c.rateShare.Latest(fp); ok && shared.Observed.After(rl.Observed) {
			return shared
		}
	}
	return rl
}

// RateLimitShare shares the latest RateLimit figures of each credential between the
// processes (replicas) that call Livestorm with it, so that each acts on the
// workspace's true remaining quota rather than on what its own last response said.
// Package cluster implements it on Redis. Neither method may block on the network.
type RateLimitShare interface {
	// Publish offers the figures this process just read for the credential key.
	Publish(key string, rl RateLimit)
	// Latest returns the newest figures any process published for key.
	Latest(key string) (RateLimit, bool)
}

// WithRateLimitShare shares rate-limit figures through s (see RateLimitShare).
func WithRateLimitShare(s RateLimitShare) Option { return func(c *Client) { c.rateShare = s } }
