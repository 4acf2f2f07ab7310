package cache

import (
	"context"
	"sync"
	"time"
)

// Reads collects what one operation read from the cache: the tags of every entry it
// used (fresh hits and fetched answers), the earliest expiry among them, and whatever
// makes its response unfit to keep (an entry served stale, a resolver that read
// something the cache does not hold). The response cache keeps a response under exactly
// those tags, for no longer than its shortest-lived entry (StoreResponse).
//
// It also remembers the scope's invalidation epoch at its creation, before the
// operation read anything: a response computed while an invalidation of its workspace
// raced it is never kept (the rule Fetch follows for single answers).
//
// A nil *Reads records nothing, so code paths without a response cache (subscriptions,
// mutations) need no checks.
type Reads struct {
	scope string
	epoch uint64

	mu      sync.Mutex
	tags    map[string]struct{}
	expires time.Time // earliest expiry read; zero while nothing was read
	stale   bool
	noStore string // why the response must not be kept ("" if it may)
}

// NewReads starts collecting the reads of an operation of scope (a verified tenant).
func (c *Cache) NewReads(scope string) *Reads {
	return &Reads{scope: scope, epoch: c.epoch(scope), tags: make(map[string]struct{}, 8)}
}

// Scope is the workspace the reads belong to.
func (r *Reads) Scope() string {
	if r == nil {
		return ""
	}
	return r.scope
}

// add records one entry the operation used.
func (r *Reads) add(tags []string, expires time.Time) {
	if r == nil {
		return
	}
	r.mu.Lock()
	for _, t := range tags {
		r.tags[t] = struct{}{}
	}
	if r.expires.IsZero() || expires.Before(r.expires) {
		r.expires = expires
	}
	r.mu.Unlock()
}

func (r *Reads) markStale() {
	if r == nil {
		return
	}
	r.mu.Lock()
	r.stale = true
	r.mu.Unlock()
}

// NoStore marks the operation's response as one the response cache must not keep, for
// reason (a metric label: short, snake_case). Resolvers call it (through
// ReadsFrom(ctx).NoStore) when their answer depends on something no cache tag can
// invalidate, such as the live rate-limit counters or the caller's identity beyond
// its role.
func (r *Reads) NoStore(reason string) {
	if r == nil {
		return
	}
	r.mu.Lock()
	if r.noStore == "" {
		r.noStore = reason
	}
	r.mu.Unlock()
}

// snapshot returns the tags and expiry read so far and why not to store, if so.
func (r *Reads) snapshot() (tags []string, expires time.Time, refuse string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.noStore != "":
		return nil, time.Time{}, r.noStore
	case r.stale:
		return nil, time.Time{}, NotStoredStale
	}
	tags = make([]string, 0, len(r.tags))
	for t := range r.tags {
		tags = append(tags, t)
	}
	return tags, r.expires, ""
}

type readsKey struct{}

// WithReads returns ctx whose cache reads (Fetch) are recorded on r.
func WithReads(ctx context.Context, r *Reads) context.Context {
	return context.WithValue(ctx, readsKey{}, r)
}

// ReadsFrom returns the Reads ctx records on, or nil.
func ReadsFrom(ctx context.Context) *Reads {
	r, _ := ctx.Value(readsKey{}).(*Reads)
	return r
}

// Fresh returns key's value when the cache holds it fresh, recording the hit (metrics,
// and reads when not nil), and never fetches: the loaders answer warm keys from it
// before they join a batching window. A missing or expired entry is false; Fetch then
// decides (a miss, or a stale answer when the quota is nearly gone).
func Fresh[T any](ctx context.Context, c *Cache, key Key, reads *Reads) (T, bool) {
	var zero T
	if key.Scope == "" {
		return zero, false
	}
	e, fresh, ok := c.lookupEntry(key)
	if !ok || !fresh {
		return zero, false
	}
	v, ok := e.value.(T)
	if !ok {
		return zero, false
	}
	c.observe(key.Resource, Hit)
	trackerFrom(ctx).hit() // extensions.cost.cacheHits
	reads.add(e.tags, e.expires)
	return v, true
}
