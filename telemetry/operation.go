package telemetry

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// UpstreamCall is one HTTP request an operation sent to Livestorm, as the access log
// and the slow-operation warning show it: the templated route, never the URL.
type UpstreamCall struct {
	Method   string
	Route    string // templated: "/events/{id}/sessions"
	Status   int    // 0: transport error
	Duration time.Duration
	Attempt  int           // 1-based
	Wait     time.Duration // spent waiting for the client's rate limiter first
}

// String reads "GET /sessions/{id}/people 200 4.7ms", with "after 812ms of rate-limit
// wait" and "attempt 2" when they apply.
func (c UpstreamCall) String() string {
	s := fmt.Sprintf("%s %s %d %s", c.Method, c.Route, c.Status, c.Duration.Round(100*time.Microsecond))
	if c.Wait >= time.Millisecond {
		s += fmt.Sprintf(" after %s of rate-limit wait", c.Wait.Round(time.Millisecond))
	}
	if c.Attempt > 1 {
		s += fmt.Sprintf(" (attempt %d)", c.Attempt)
	}
	return s
}

// maxRecordedCalls bounds the upstream calls an Operation remembers individually (it
// counts them all): enough to explain a slow operation, bounded for a costly one.
const maxRecordedCalls = 32

// Operation collects what one GraphQL operation, or one event of a subscription, cost:
// the upstream calls it caused and its cache lookups. Resolvers run concurrently, so it
// is safe for concurrent use; a nil *Operation ignores everything.
type Operation struct {
	mu          sync.Mutex
	calls       []UpstreamCall
	upstream    int
	cacheHits   int
	cacheMisses int
}

type operationKey struct{}

// WithOperation returns ctx carrying a fresh Operation.
func WithOperation(ctx context.Context) (context.Context, *Operation) {
	op := &Operation{}
	return context.WithValue(ctx, operationKey{}, op), op
}

// OperationFrom returns the Operation of ctx, or nil.
func OperationFrom(ctx context.Context) *Operation {
	op, _ := ctx.Value(operationKey{}).(*Operation)
	return op
}

// AddUpstream records one HTTP request to Livestorm.
func (o *Operation) AddUpstream(c UpstreamCall) {
	if o == nil {
		return
	}
	o.mu.Lock()
	o.upstream++
	if len(o.calls) < maxRecordedCalls {
		o.calls = append(o.calls, c)
	}
	o.mu.Unlock()
}

// AddCache records cache lookups: hits were answered without a fetch of this
// operation's own, misses fetched.
func (o *Operation) AddCache(hits, misses int) {
	if o == nil {
		return
	}
	o.mu.Lock()
	o.cacheHits += hits
	o.cacheMisses += misses
	o.mu.Unlock()
}

// Cost is a snapshot of an Operation.
type Cost struct {
	UpstreamCalls int
	CacheHits     int
	CacheMisses   int
	// Calls are the first upstream calls (at most 32), in the order they ended.
	Calls []UpstreamCall
}

// Cost returns what the operation has cost so far.
func (o *Operation) Cost() Cost {
	if o == nil {
		return Cost{}
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	return Cost{UpstreamCalls: o.upstream, CacheHits: o.cacheHits, CacheMisses: o.cacheMisses, Calls: append([]UpstreamCall(nil), o.calls...)}
}
