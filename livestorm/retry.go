package livestorm

import (
	"context"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// RetryPolicy bounds how GET/HEAD requests are retried after 429, 5xx,
// transport errors and truncated or malformed bodies. Writes are never
// retried: Livestorm has no idempotency keys, so a retried POST could
// register someone twice.
type RetryPolicy struct {
	MaxAttempts  int           // total attempts incl. the first; default 4
	MaxTotalWait time.Duration // cap on the sum of waits between attempts; default 10 s, < 0 never waits. A wait beyond the remaining budget gives up immediately
	BaseDelay    time.Duration // default 200 ms; full-jitter exponential backoff when no Retry-After
	MaxDelay     time.Duration // default 5 s
}

// DefaultRetryPolicy is what New uses unless WithRetryPolicy overrides it.
var DefaultRetryPolicy = RetryPolicy{MaxAttempts: 4, MaxTotalWait: 10 * time.Second, BaseDelay: 200 * time.Millisecond, MaxDelay: 5 * time.Second}

// withDefaults fills zero fields; MaxAttempts < 0 means a single attempt.
func (p RetryPolicy) withDefaults() RetryPolicy {
	d := DefaultRetryPolicy
	if p.MaxAttempts == 0 {
		p.MaxAttempts = d.MaxAttempts
	}
	if p.MaxAttempts < 1 {
		p.MaxAttempts = 1
	}
	if p.MaxTotalWait == 0 {
		p.MaxTotalWait = d.MaxTotalWait
	}
	if p.BaseDelay <= 0 {
		p.BaseDelay = d.BaseDelay
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = d.MaxDelay
	}
	if p.MaxDelay < p.BaseDelay {
		p.MaxDelay = p.BaseDelay
	}
	return p
}

// backoff returns a full-jitter delay for the given retry number (1 = first
// retry): uniform in [0, min(MaxDelay, BaseDelay·2^(retry-1))].
func (p RetryPolicy) backoff(retry int) time.Duration {
	ceiling := p.BaseDelay
	for i := 1; i < retry && ceiling < p.MaxDelay; i++ {
		ceiling *= 2
	}
	if ceiling > p.MaxDelay {
		ceiling = p.MaxDelay
	}
	if ceiling <= 0 {
		return 0
	}
	return time.Duration(rand.Int64N(int64(ceiling) + 1))
}

// idempotent reports whether a method may be retried.
func idempotent(method string) bool {
	return method == http.MethodGet || method == http.MethodHead
}

// parseRetryAfter reads Retry-After as delta seconds or an HTTP date.
func parseRetryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		if secs < 0 {
			secs = 0
		}
		if secs > 1e7 {
			secs = 1e7
		}
		return time.Duration(secs * float64(time.Second)), true
	}
	if t, err := http.ParseTime(v); err == nil {
		d := t.Sub(now)
		if d < 0 {
			d = 0
		}
		return d, true
	}
	return 0, false
}

// sleepCtx waits d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
