// Package budget keeps the per-caller limits of the gateway in memory: an hourly
// allowance of upstream calls (Spend) and a request rate (Rates), each keyed by a caller
// id (an API key, a JWT subject, a client IP).
//
// Memory is bounded whoever calls: a caller whose allowance has refilled is in the same
// state as one never seen and is forgotten at the next sweep (once a minute), and at most
// MaxCallers are kept, the least recently seen dropped first (which only ever resets a
// caller to a full allowance).
package budget

import (
	"math"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
	"golang.org/x/time/rate"
)

// MaxCallers bounds the callers each Spend or Rates remembers.
const MaxCallers = 100_000

// sweepEvery is how often idle callers are dropped.
const sweepEvery = time.Minute

// store is an LRU of per-caller state with a periodic sweep of idle entries.
type store[T any] struct {
	mu        sync.Mutex
	lru       *simplelru.LRU[string, T]
	idle      func(T, time.Time) bool
	now       func() time.Time
	lastSweep time.Time
}

func newStore[T any](now func() time.Time, idle func(T, time.Time) bool) *store[T] {
	if now == nil {
		now = time.Now
	}
	l, _ := simplelru.NewLRU[string, T](MaxCallers, nil)
	return &store[T]{lru: l, idle: idle, now: now}
}

// sweep drops idle entries; s.mu must be held.
func (s *store[T]) sweep(now time.Time) {
	if now.Sub(s.lastSweep) < sweepEvery {
		return
	}
	s.lastSweep = now
	for _, k := range s.lru.Keys() {
		if v, ok := s.lru.Peek(k); ok && s.idle(v, now) {
			s.lru.Remove(k)
		}
	}
}

// Len returns the callers remembered.
func (s *store[T]) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lru.Len()
}

// Spend is an allowance of upstream calls per caller and hour: a bucket of perHour
// calls that refills continuously (perHour per hour). An operation reserves its
// estimate before it runs and settles with what it really spent after.
type Spend struct{ s *store[*bucket] }

type bucket struct {
	capacity float64
	tokens   float64
	at       time.Time
}

func (b *bucket) refill(now time.Time, capacity float64) {
	if b.capacity != capacity {
		b.tokens = math.Min(b.tokens+capacity-b.capacity, capacity)
		b.capacity = capacity
	}
	if d := now.Sub(b.at); d > 0 {
		b.tokens = math.Min(b.capacity, b.tokens+d.Hours()*b.capacity)
	}
	b.at = now
}

// NewSpend returns an empty Spend; now is the clock (nil: time.Now).
func NewSpend(now func() time.Time) *Spend {
	return &Spend{s: newStore(now, func(b *bucket, now time.Time) bool {
		b.refill(now, b.capacity)
		return b.tokens >= b.capacity
	})}
}

// Reservation is what an operation took from its caller's allowance.
type Reservation struct {
	spend    *Spend
	id       string
	reserved int
	perHour  int
}

// Reserve takes n calls from the allowance of caller id (perHour calls per hour). When
// fewer than n remain it takes nothing and returns false with how long until n will
// have refilled.
func (sp *Spend) Reserve(id string, perHour, n int) (*Reservation, time.Duration, bool) {
	s := sp.s
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	s.sweep(now)
	capacity := float64(perHour)
	b, ok := s.lru.Get(id)
	if !ok {
		b = &bucket{capacity: capacity, tokens: capacity, at: now}
		s.lru.Add(id, b)
	}
	b.refill(now, capacity)
	need := float64(n)
	if b.tokens < need {
		if perHour <= 0 {
			return nil, time.Hour, false
		}
		missing := math.Min(need, capacity) - b.tokens
		wait := time.Duration(missing / capacity * float64(time.Hour))
		return nil, max(wait, time.Second), false
	}
	b.tokens -= need
	return &Reservation{spend: sp, id: id, reserved: n, perHour: perHour}, 0, true
}

// Remaining returns the calls caller id may still spend now.
func (sp *Spend) Remaining(id string, perHour int) int {
	s := sp.s
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.lru.Peek(id)
	if !ok {
		return perHour
	}
	b.refill(s.now(), float64(perHour))
	return int(math.Floor(b.tokens))
}

// Settle charges what the operation really spent instead of what it reserved: the
// difference goes back to the allowance (or, if it spent more, is taken from it, which
// may leave the allowance in debt until it refills).
func (r *Reservation) Settle(spent int) {
	if r == nil || spent == r.reserved {
		return
	}
	s := r.spend.s
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.lru.Get(r.id)
	if !ok {
		return // forgotten meanwhile: its allowance is full again anyway
	}
	b.refill(s.now(), float64(r.perHour))
	b.tokens = math.Min(b.capacity, b.tokens+float64(r.reserved-spent))
}

// Len returns the callers remembered.
func (sp *Spend) Len() int { return sp.s.Len() }

// Rates limits the request rate of each caller with a token bucket
// (golang.org/x/time/rate): perSecond requests per second, bursts of burst.
type Rates struct{ s *store[*rate.Limiter] }

// NewRates returns an empty Rates; now is the clock (nil: time.Now).
func NewRates(now func() time.Time) *Rates {
	return &Rates{s: newStore(now, func(l *rate.Limiter, now time.Time) bool {
		return l.TokensAt(now) >= float64(l.Burst())
	})}
}

// Allow takes one request from caller id's bucket. When it is empty it takes nothing
// and returns false with how long until a request will be allowed.
func (r *Rates) Allow(id string, perSecond float64, burst int) (time.Duration, bool) {
	s := r.s
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	s.sweep(now)
	limit := rate.Limit(perSecond)
	burst = max(burst, 1)
	l, ok := s.lru.Get(id)
	if !ok {
		l = rate.NewLimiter(limit, burst)
		s.lru.Add(id, l)
	} else if l.Limit() != limit || l.Burst() != burst {
		l.SetLimitAt(now, limit)
		l.SetBurstAt(now, burst)
	}
	if l.AllowN(now, 1) {
		return 0, true
	}
	tokens := l.TokensAt(now)
	if perSecond <= 0 {
		return time.Hour, false
	}
	wait := time.Duration((1 - tokens) / perSecond * float64(time.Second))
	return max(wait, time.Millisecond), false
}

// Len returns the callers remembered.
func (r *Rates) Len() int { return r.s.Len() }
