// Package cache is the gateway's shared, cross-request memory of Livestorm answers.
//
// Livestorm allows 10,000 calls per 30 days, so an answer fetched once is worth keeping:
// entries live for a TTL per resource kind, the number kept per kind is bounded (LRU), and
// every entry belongs to exactly one tenant scope so a workspace never reads another's data.
// Identical concurrent fetches collapse into one upstream call, webhooks and mutations evict
// exactly the entries they affect through tags, and when the monthly quota is nearly gone an
// expired entry may be served stale rather than spending the last calls.
package cache

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
	"golang.org/x/sync/singleflight"
)

// Key identifies one cached upstream answer inside one tenant scope.
type Key struct {
	// Scope is the verified tenant (workspace) the answer belongs to. Never empty.
	Scope string
	// Resource is the kind of answer ("event", "sessionPeoplePage", …); each kind has its
	// own LRU and TTL.
	Resource string
	// ID distinguishes answers of one kind: a resource id or a canonical list query.
	ID string
}

func (k Key) String() string { return k.Scope + "\x00" + k.Resource + "\x00" + k.ID }

// Result classifies a lookup for metrics.
type Result string

// Lookup results reported to Options.Observer.
const (
	Hit   Result = "hit"
	Miss  Result = "miss"
	Stale Result = "stale"
)

// Options configure a Cache. Zero values take the documented defaults.
type Options struct {
	// TTL is how long an entry is fresh (default 5 minutes).
	TTL time.Duration
	// ResourceTTL overrides TTL for some resource kinds.
	ResourceTTL map[string]time.Duration
	// Size bounds the entries kept per resource kind (default 10,000).
	Size int
	// StaleFor is how long after expiry an entry may still be served stale when
	// AllowStale says so (default 24 hours).
	StaleFor time.Duration
	// AllowStale reports whether the caller's tenant is short enough of quota that an
	// expired entry should be served instead of calling Livestorm. Nil means never.
	AllowStale func(ctx context.Context) bool
	// Observer is told of every lookup (for hit/miss/stale metrics). Optional.
	Observer func(resource string, result Result)
	// Now is the clock (tests). Default time.Now.
	Now func() time.Time
	// ResponseBytes bounds the memory of the response cache (StoreResponse); 0 turns
	// it off.
	ResponseBytes int64
}

type entry struct {
	value   any
	expires time.Time
	scope   string
	tags    []string
}

// Cache is safe for concurrent use. Create one per process: it holds no goroutines.
type Cache struct {
	opts Options

	mu   sync.Mutex
	lrus map[string]*simplelru.LRU[string, *entry] // per resource kind
	// tagIndex maps scope+tag to the keys of the entries carrying that tag, so an
	// invalidation touches exactly those entries.
	tagIndex map[string]map[string]string // scoped tag -> entry key -> resource
	// epochs counts the invalidations of each scope. A fetch that an invalidation of its
	// scope overtook may have read the state from before the change: its answer is
	// returned to its callers but not cached, and later callers do not join it.
	epochs map[string]uint64

	// responses are the serialized GraphQL responses (see response.go); nil when the
	// response cache is off. Their entries share the tag index and c.mu.
	responses *responseStore

	flight singleflight.Group
}

// New returns an empty cache.
func New(opts Options) *Cache {
	if opts.TTL <= 0 {
		opts.TTL = 5 * time.Minute
	}
	if opts.Size <= 0 {
		opts.Size = 10_000
	}
	if opts.StaleFor <= 0 {
		opts.StaleFor = 24 * time.Hour
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	c := &Cache{
		opts:     opts,
		lrus:     make(map[string]*simplelru.LRU[string, *entry]),
		tagIndex: make(map[string]map[string]string),
		epochs:   make(map[string]uint64),
	}
	if opts.ResponseBytes > 0 {
		c.responses = newResponseStore(c, opts.ResponseBytes)
	}
	return c
}

// TTL returns the freshness period of a resource kind.
func (c *Cache) TTL(resource string) time.Duration {
	if d, ok := c.opts.ResourceTTL[resource]; ok && d > 0 {
		return d
	}
	return c.opts.TTL
}

// lru returns the LRU of a resource kind; c.mu must be held.
func (c *Cache) lru(resource string) *simplelru.LRU[string, *entry] {
	l, ok := c.lrus[resource]
	if !ok {
		l, _ = simplelru.NewLRU(c.opts.Size, func(key string, e *entry) { c.unindex(key, e) })
		c.lrus[resource] = l
	}
	return l
}

func scopedTag(scope, tag string) string { return scope + "\x00" + tag }

// unindex drops an entry from the tag index; c.mu must be held (the LRU calls it from
// Add/Remove, which only ever run under c.mu).
func (c *Cache) unindex(key string, e *entry) {
	for _, t := range e.tags {
		st := scopedTag(e.scope, t)
		if set := c.tagIndex[st]; set != nil {
			delete(set, key)
			if len(set) == 0 {
				delete(c.tagIndex, st)
			}
		}
	}
}

// Get returns a fresh entry.
func (c *Cache) Get(key Key) (any, bool) {
	v, fresh, ok := c.lookup(key)
	return v, ok && fresh
}

// lookup returns the entry and whether it is still fresh; entries past their stale
// window are removed.
func (c *Cache) lookup(key Key) (value any, fresh, ok bool) {
	e, fresh, ok := c.lookupEntry(key)
	if !ok {
		return nil, false, false
	}
	return e.value, fresh, true
}

// lookupEntry is lookup returning the entry itself (entries are never modified once
// stored, so its fields may be read without the lock).
func (c *Cache) lookupEntry(key Key) (e *entry, fresh, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	l := c.lru(key.Resource)
	k := key.String()
	e, ok = l.Get(k)
	if !ok {
		return nil, false, false
	}
	now := c.opts.Now()
	if now.Before(e.expires) {
		return e, true, true
	}
	if now.After(e.expires.Add(c.opts.StaleFor)) {
		l.Remove(k)
		return nil, false, false
	}
	return e, false, true
}

// Set stores a value for the resource kind's TTL, tagged for later invalidation.
func (c *Cache) Set(key Key, value any, tags ...string) {
	if key.Scope == "" {
		return // unscoped entries could leak across tenants: never store them
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.setLocked(key, value, tags)
}

// setIfCurrent stores like Set unless key's scope was invalidated since epoch.
func (c *Cache) setIfCurrent(key Key, epoch uint64, value any, tags []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.epochs[key.Scope] != epoch {
		return
	}
	c.setLocked(key, value, tags)
}

func (c *Cache) epoch(scope string) uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.epochs[scope]
}

// setLocked stores an entry; c.mu must be held.
func (c *Cache) setLocked(key Key, value any, tags []string) {
	l := c.lru(key.Resource)
	k := key.String()
	if old, ok := l.Peek(k); ok {
		c.unindex(k, old)
	}
	e := &entry{value: value, expires: c.opts.Now().Add(c.TTL(key.Resource)), scope: key.Scope, tags: tags}
	l.Add(k, e)
	for _, t := range tags {
		st := scopedTag(key.Scope, t)
		set := c.tagIndex[st]
		if set == nil {
			set = make(map[string]string)
			c.tagIndex[st] = set
		}
		set[k] = key.Resource
	}
}

// Delete removes one entry.
func (c *Cache) Delete(key Key) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lru(key.Resource).Remove(key.String())
}

// Invalidate removes every entry of scope carrying any of tags and returns how many
// were removed. Fetches of scope in flight at that moment are not cached when they
// complete, and new fetches do not join them: they may have read the old state.
func (c *Cache) Invalidate(scope string, tags ...string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epochs[scope]++
	n := 0
	for _, t := range tags {
		set := c.tagIndex[scopedTag(scope, t)]
		for k, resource := range set {
			if resource == responseResource {
				c.responses.remove(k) // a response that read what changed
			} else if c.lru(resource).Remove(k) {
				n++
			}
		}
	}
	return n
}

// Len returns the number of entries held (all kinds, all scopes).
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, l := range c.lrus {
		n += l.Len()
	}
	return n
}

func (c *Cache) observe(resource string, r Result) {
	if c.opts.Observer != nil {
		c.opts.Observer(resource, r)
	}
}

// Fetch returns the cached value for key, or calls fetch once (however many callers ask
// concurrently) and caches its result under the tags computed from it (tags may be nil).
// Errors are not cached. When the entry
// has expired but AllowStale says the tenant is short of quota, the expired value is
// returned and recorded on the context's StaleTracker.
func Fetch[T any](ctx context.Context, c *Cache, key Key, fetch func(context.Context) (T, error), tags func(T) []string) (T, error) {
	var zero T
	if key.Scope == "" {
		return zero, fmt.Errorf("cache: %s %q fetched without a tenant scope", key.Resource, key.ID)
	}
	reads := ReadsFrom(ctx)
	if e, fresh, ok := c.lookupEntry(key); ok {
		if fresh {
			c.observe(key.Resource, Hit)
			reads.add(e.tags, e.expires)
			return e.value.(T), nil
		}
		if c.opts.AllowStale != nil && c.opts.AllowStale(ctx) {
			c.observe(key.Resource, Stale)
			trackerFrom(ctx).add(key.Resource)
			reads.markStale()
			return e.value.(T), nil
		}
	}
	c.observe(key.Resource, Miss)
	// The entry this fetch stores expires no earlier than its TTL from now.
	expires := c.opts.Now().Add(c.TTL(key.Resource))
	epoch := c.epoch(key.Scope)
	ch := c.flight.DoChan(key.String()+"\x00"+strconv.FormatUint(epoch, 10), func() (any, error) {
		// The shared call must outlive whichever caller started it; the client's own
		// timeouts bound it.
		v, err := fetch(context.WithoutCancel(ctx))
		if err != nil {
			return nil, err
		}
		var t []string
		if tags != nil {
			t = tags(v)
		}
		c.setIfCurrent(key, epoch, v, t)
		return v, nil
	})
	select {
	case <-ctx.Done():
		return zero, ctx.Err()
	case r := <-ch:
		if r.Err != nil {
			return zero, r.Err
		}
		v := r.Val.(T)
		if reads != nil {
			var t []string
			if tags != nil {
				t = tags(v)
			}
			reads.add(t, expires)
		}
		return v, nil
	}
}

// StaleTracker collects the resource kinds served stale during one operation, so the
// response can say so.
type StaleTracker struct {
	mu        sync.Mutex
	resources map[string]struct{}
}

type trackerKey struct{}

// WithStaleTracker returns a context whose stale answers are recorded on the returned tracker.
func WithStaleTracker(ctx context.Context) (context.Context, *StaleTracker) {
	t := &StaleTracker{resources: make(map[string]struct{})}
	return context.WithValue(ctx, trackerKey{}, t), t
}

func trackerFrom(ctx context.Context) *StaleTracker {
	t, _ := ctx.Value(trackerKey{}).(*StaleTracker)
	return t
}

func (t *StaleTracker) add(resource string) {
	if t == nil {
		return
	}
	t.mu.Lock()
	t.resources[resource] = struct{}{}
	t.mu.Unlock()
}

// Resources returns the kinds served stale, sorted.
func (t *StaleTracker) Resources() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]string, 0, len(t.resources))
	for r := range t.resources {
		out = append(out, r)
	}
	slices.Sort(out)
	return out
}
