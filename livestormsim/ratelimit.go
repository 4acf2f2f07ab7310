package livestormsim

import (
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// rateLimiter enforces Livestorm's per-workspace limits: fixed one-second
// windows of IntervalLimit requests and a quota of MonthlyQuota requests per
// rolling window that starts at the organization's first request (wire
// decisions 2 and 3). It runs on wall time, not the simulated clock, because
// it limits how fast real clients call.
type rateLimiter struct {
	mu            sync.Mutex
	intervalLimit int // <= 0: unlimited
	monthlyQuota  int // <= 0: unlimited
	window        time.Duration
	now           func() time.Time
	orgs          map[string]*orgLimit
}

type orgLimit struct {
	windowSec  int64
	count      int
	quotaStart time.Time
	used       int
}

// limitState is a snapshot used to write RateLimit-* headers.
type limitState struct {
	allowed                    bool
	retryAfter                 int
	intervalLimit, intervalRem int
	monthlyLimit, monthlyRem   int
	reset                      int64
}

func newRateLimiter(interval, quota int, window time.Duration) *rateLimiter {
	return &rateLimiter{intervalLimit: interval, monthlyQuota: quota, window: window, now: time.Now, orgs: map[string]*orgLimit{}}
}

// take consumes one request for orgID when both limits allow it; a rejected
// request consumes nothing.
func (l *rateLimiter) take(orgID string) limitState {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	ol := l.refresh(orgID, now)
	st := limitState{allowed: true}
	if l.monthlyQuota > 0 && ol.used >= l.monthlyQuota {
		st.allowed = false
		st.retryAfter = int(math.Ceil(ol.quotaStart.Add(l.window).Sub(now).Seconds()))
	} else if l.intervalLimit > 0 && ol.count >= l.intervalLimit {
		st.allowed = false
		st.retryAfter = int(math.Ceil(time.Unix(ol.windowSec+1, 0).Sub(now).Seconds()))
	}
	if st.allowed {
		ol.count++
		ol.used++
	}
	if st.retryAfter < 1 && !st.allowed {
		st.retryAfter = 1
	}
	l.fill(&st, ol)
	return st
}

// peek reports the current state without consuming (used by injected 429s).
func (l *rateLimiter) peek(orgID string) limitState {
	l.mu.Lock()
	defer l.mu.Unlock()
	ol := l.refresh(orgID, l.now())
	st := limitState{allowed: true}
	l.fill(&st, ol)
	return st
}

func (l *rateLimiter) refresh(orgID string, now time.Time) *orgLimit {
	ol := l.orgs[orgID]
	if ol == nil {
		ol = &orgLimit{}
		l.orgs[orgID] = ol
	}
	if sec := now.Unix(); sec != ol.windowSec {
		ol.windowSec, ol.count = sec, 0
	}
	if ol.quotaStart.IsZero() || !now.Before(ol.quotaStart.Add(l.window)) {
		ol.quotaStart, ol.used = now, 0
	}
	return ol
}

func (l *rateLimiter) fill(st *limitState, ol *orgLimit) {
	st.intervalLimit, st.monthlyLimit = l.intervalLimit, l.monthlyQuota
	st.intervalRem = max(l.intervalLimit-ol.count, 0)
	st.monthlyRem = max(l.monthlyQuota-ol.used, 0)
	st.reset = ol.quotaStart.Add(l.window).Unix()
}

// writeHeaders emits the RateLimit-* headers in both spellings Livestorm's
// documents use (Monthly and the "Montly" typo). Unlimited dimensions are
// omitted rather than faked.
func (st limitState) writeHeaders(h http.Header) {
	if st.intervalLimit > 0 {
		h.Set("RateLimit-Interval-Limit", strconv.Itoa(st.intervalLimit))
		h.Set("RateLimit-Interval-Remaining", strconv.Itoa(st.intervalRem))
	}
	if st.monthlyLimit > 0 {
		for _, prefix := range []string{"RateLimit-Monthly-", "RateLimit-Montly-"} {
			h.Set(prefix+"Limit", strconv.Itoa(st.monthlyLimit))
			h.Set(prefix+"Remaining", strconv.Itoa(st.monthlyRem))
		}
		h.Set("RateLimit-Reset", strconv.FormatInt(st.reset, 10))
	}
	if !st.allowed {
		h.Set("Retry-After", strconv.Itoa(st.retryAfter))
	}
}
