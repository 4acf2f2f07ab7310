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
	"sync/atomic"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
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
	// SharedHit: missing here, answered by the shared tier (another replica fetched it).
	SharedHit Result = "shared_hit"
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

	// Shared is the tier shared by every replica (nil: this process only). A local miss
	// asks it before Livestorm, a fill from Livestorm is written to it, and invalidations
	// go through it to every replica.
	Shared SharedTier
	// SharedWait bounds how long a miss waits for another replica that is fetching the
	// same key to share its answer before fetching itself (default 2 s).
	SharedWait time.Duration
	// MaxSharedValue is the largest encoded answer written to the shared tier (default
	// 256 KiB); larger ones stay local.
	MaxSharedValue int
	// ResponseBytes bounds the memory of the response cache (StoreResponse); 0 turns
	// it off.
	ResponseBytes int64
}

// SharedTier is a cache shared by the gateway's replicas, under each one's local LRU
// (package cluster implements it on Redis). Keys carry their verified scope exactly as
// the local ones; values are encoded by the tier. Every method is bounded in time by the
// tier itself and fails rather than waits when its store is unreachable: the Cache then
// works from its local tier alone.
type SharedTier interface {
	// Available reports whether the tier is usable now (false while its store is
	// unreachable, so misses do not each wait for a timeout).
	Available() bool
	// Lookup returns the answer stored for key (Value, with the TTL it has left) or, when
	// there is none, the scope's shared epoch and who fetches it: Locked when this caller
	// now holds key's fill lock, Busy when another replica does.
	Lookup(ctx context.Context, key Key) (SharedLookup, error)
	// Fill stores value for key for ttl, tagged, unless an invalidation of key's scope
	// (on any replica) happened since Lookup returned epoch; it releases key's fill lock.
	Fill(ctx context.Context, key Key, value []byte, ttl time.Duration, tags []string, epoch uint64) error
	// Unlock releases key's fill lock without storing anything.
	Unlock(ctx context.Context, key Key)
	// Invalidate removes the shared answers of scope carrying any of tags and has every
	// other replica apply the same invalidation to its local tier (Cache.InvalidateLocal)
	// before it returns, so a write through one replica is seen through all at once.
	Invalidate(ctx context.Context, scope string, tags []string) error
	// Encode and Decode turn the cached Go values (package livestorm types) into bytes
	// and back; Decode's v is a pointer to the value's type.
	Encode(v any) ([]byte, error)
	Decode(data []byte, v any) error
}

// SharedLookup is what SharedTier.Lookup found.
type SharedLookup struct {
	// Value is the encoded answer, nil when there is none; TTL is how long it stays fresh.
	Value []byte
	TTL   time.Duration
	// Epoch is the scope's shared invalidation count, to pass back to Fill.
	Epoch uint64
	// Locked: this caller holds the fill lock and should fetch and Fill. Busy: another
	// replica holds it and is fetching.
	Locked, Busy bool
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
	// purges counts Purge calls; it is part of every scope's epoch.
	purges uint64

	// flights are the fetches in progress, by key and epoch: identical concurrent
	// fetches share one upstream call, cancelled once no caller waits for it any more.
	flights map[string]*flight

	// responses are the serialized GraphQL responses (see response.go); nil when the
	// response cache is off. Their entries share the tag index and c.mu.
	responses *responseStore
}

// flight is one shared fetch and the callers waiting for it.
type flight struct {
	done    chan struct{}
	val     any
	err     error
	waiters int
	cancel  context.CancelFunc
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
	if opts.SharedWait <= 0 {
		opts.SharedWait = 2 * time.Second
	}
	if opts.MaxSharedValue <= 0 {
		opts.MaxSharedValue = 256 << 10
	}
	c := &Cache{
		opts:     opts,
		lrus:     make(map[string]*simplelru.LRU[string, *entry]),
		tagIndex: make(map[string]map[string]string),
		epochs:   make(map[string]uint64),
		flights:  make(map[string]*flight),
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

// index records that the entry k of resource (or a stored response) carries tags in
// scope, so an invalidation of any of them finds it; c.mu must be held.
func (c *Cache) index(scope, k, resource string, tags []string) {
	for _, t := range tags {
		st := scopedTag(scope, t)
		set := c.tagIndex[st]
		if set == nil {
			set = make(map[string]string)
			c.tagIndex[st] = set
		}
		set[k] = resource
	}
}

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

// setIfCurrent stores like Set, fresh for ttl (0: the kind's TTL), unless key's scope
// was invalidated since epoch.
func (c *Cache) setIfCurrent(key Key, epoch uint64, value any, tags []string, ttl time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.epochLocked(key.Scope) != epoch {
		return
	}
	c.setLocked(key, value, tags, ttl)
}

func (c *Cache) epoch(scope string) uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.epochLocked(scope)
}

// epochLocked changes whenever scope is invalidated or the cache purged; c.mu must be held.
func (c *Cache) epochLocked(scope string) uint64 { return c.epochs[scope] + c.purges }

// setLocked stores an entry fresh for ttl (0: the kind's TTL); c.mu must be held.
func (c *Cache) setLocked(key Key, value any, tags []string, ttl ...time.Duration) {
	l := c.lru(key.Resource)
	k := key.String()
	if old, ok := l.Peek(k); ok {
		c.unindex(k, old)
	}
	life := c.TTL(key.Resource)
	if len(ttl) > 0 && ttl[0] > 0 {
		life = ttl[0]
	}
	e := &entry{value: value, expires: c.opts.Now().Add(life), scope: key.Scope, tags: tags}
	l.Add(k, e)
	c.index(key.Scope, k, key.Resource, tags)
}

// Delete removes one entry.
func (c *Cache) Delete(key Key) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lru(key.Resource).Remove(key.String())
}

// Invalidate removes every entry of scope carrying any of tags and returns how many
// were removed here. Fetches of scope in flight at that moment are not cached when they
// complete, and new fetches do not join them: they may have read the old state. With a
// shared tier the invalidation also reaches the shared answers and, before Invalidate
// returns, every other replica's local tier.
func (c *Cache) Invalidate(scope string, tags ...string) int {
	n := c.InvalidateLocal(scope, tags...)
	if c.opts.Shared != nil {
		// The tier bounds its own time; when its store is unreachable it replays the
		// invalidation once it is back.
		_ = c.opts.Shared.Invalidate(context.Background(), scope, tags)
	}
	return n
}

// Purge empties this process's tier (the shared one is untouched): what a replica does
// when it may have missed invalidations made elsewhere. Fetches in flight are not cached.
func (c *Cache) Purge() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.purges++
	for _, l := range c.lrus {
		l.Purge()
	}
	clear(c.tagIndex)
}

// InvalidateLocal is Invalidate on this process's tier only: how the shared tier applies
// invalidations made by other replicas.
func (c *Cache) InvalidateLocal(scope string, tags ...string) int {
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
// Errors are not cached.
//
// When the entry has expired but AllowStale says the tenant is short of quota, or ctx is
// cache-only (WithCacheOnly), the expired value is returned and recorded on the
// context's StaleTracker. A cache-only ctx never starts an upstream call: without an
// entry it gets the refusal WithCacheOnly was given (it may still join a fetch another
// caller started).
//
// The shared fetch runs detached from any one caller, so a caller that leaves (its
// client hung up, its deadline passed) returns at once without failing the others; the
// fetch itself is cancelled when its last waiter has left.
func Fetch[T any](ctx context.Context, c *Cache, key Key, fetch func(context.Context) (T, error), tags func(T) []string) (T, error) {
	var zero T
	if key.Scope == "" {
		return zero, fmt.Errorf("cache: %s %q fetched without a tenant scope", key.Resource, key.ID)
	}
	if err := ctx.Err(); err != nil {
		return zero, err // the caller is gone: start nothing
	}
	tracker := trackerFrom(ctx)
	refusal := cacheOnly(ctx)
	reads := ReadsFrom(ctx)
	if e, fresh, ok := c.lookupEntry(key); ok {
		if fresh {
			c.observe(key.Resource, Hit)
			tracker.hit()
			reads.add(e.tags, e.expires)
			return e.value.(T), nil
		}
		if refusal != nil || (c.opts.AllowStale != nil && c.opts.AllowStale(ctx)) {
			c.observe(key.Resource, Stale)
			tracker.add(key.Resource)
			reads.markStale()
			return e.value.(T), nil
		}
	}
	epoch := c.epoch(key.Scope)
	fk := key.String() + "\x00" + strconv.FormatUint(epoch, 10)
	f, started := c.join(ctx, fk, refusal == nil, func(ctx context.Context) (any, error) {
		if c.opts.Shared != nil && c.opts.Shared.Available() {
			return fetchShared(ctx, c, key, epoch, fetch, tags)
		}
		v, err := fetch(ctx)
		if err != nil {
			return nil, err
		}
		c.setIfCurrent(key, epoch, v, tagsOf(tags, v), 0)
		return filled[T]{v, Miss, c.opts.Now().Add(c.TTL(key.Resource))}, nil
	})
	if f == nil {
		return zero, refusal // cache-only and nobody is fetching it
	}
	if !started {
		tracker.hit() // shares another caller's call: none of its own
	}
	select {
	case <-ctx.Done():
		c.leave(fk, f)
		c.observe(key.Resource, Miss)
		return zero, ctx.Err()
	case <-f.done:
		if f.err != nil {
			c.observe(key.Resource, Miss)
			return zero, f.err
		}
		r := f.val.(filled[T])
		c.observe(key.Resource, r.result)
		if started && r.result == SharedHit {
			tracker.hit() // another replica's call, none of this operation's own
		}
		if reads != nil {
			reads.add(tagsOf(tags, r.value), r.expires)
		}
		return r.value, nil
	}
}

// join makes the caller a waiter of the flight fk, starting it (if allowed) when there
// is none. It returns nil when there is no flight and start is false.
func (c *Cache) join(ctx context.Context, fk string, start bool, run func(context.Context) (any, error)) (*flight, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if f := c.flights[fk]; f != nil {
		f.waiters++
		return f, false
	}
	if !start {
		return nil, false
	}
	// Values of the starting caller's context (credential, per-operation counters) go
	// with the call; its cancellation does not.
	fctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	f := &flight{done: make(chan struct{}), waiters: 1, cancel: cancel}
	c.flights[fk] = f
	go func() {
		defer cancel()
		f.val, f.err = run(fctx)
		c.mu.Lock()
		if c.flights[fk] == f {
			delete(c.flights, fk)
		}
		c.mu.Unlock()
		close(f.done)
	}()
	return f, true
}

// leave drops a waiter; the last one out cancels the fetch, and later callers start a
// new one rather than join a cancelled call.
func (c *Cache) leave(fk string, f *flight) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f.waiters--
	if f.waiters > 0 {
		return
	}
	f.cancel()
	if c.flights[fk] == f {
		delete(c.flights, fk)
	}
}

type cacheOnlyKey struct{}

// WithCacheOnly returns a context under which Fetch never calls upstream: fresh and
// expired (stale) entries are served, in-flight fetches shared, and anything else
// answered with refusal. It is how a caller that must not spend quota (anonymous
// traffic past its share of the month) is still served what the cache holds.
func WithCacheOnly(ctx context.Context, refusal error) context.Context {
	return context.WithValue(ctx, cacheOnlyKey{}, refusal)
}

func cacheOnly(ctx context.Context) error {
	err, _ := ctx.Value(cacheOnlyKey{}).(error)
	return err
}

// filled is what a (shared) fetch produced and where it came from.
type filled[T any] struct {
	value  T
	result Result
	// expires is when the entry stored for it stops being fresh (a response built from it
	// must not outlive it).
	expires time.Time
}

func tagsOf[T any](tags func(T) []string, v T) []string {
	if tags == nil {
		return nil
	}
	return tags(v)
}

// fetchShared answers a local miss from the shared tier, or fetches from Livestorm and
// fills both tiers. Of the replicas missing the same key at once, one fetches (it holds
// the key's fill lock) and the others wait up to SharedWait for its answer; past that,
// or when the tier fails, each fetches for itself, so the worst case is one call per
// replica.
func fetchShared[T any](ctx context.Context, c *Cache, key Key, epoch uint64, fetch func(context.Context) (T, error), tags func(T) []string) (filled[T], error) {
	shared := c.opts.Shared
	var (
		look     SharedLookup
		lookedUp bool
		pause    = 5 * time.Millisecond
		deadline = time.Now().Add(c.opts.SharedWait)
	)
	for {
		l, err := shared.Lookup(ctx, key)
		if err != nil {
			break // fetch without the tier's help; do not fill it without an epoch
		}
		if l.Value != nil {
			var v T
			if err := shared.Decode(l.Value, &v); err == nil {
				c.setIfCurrent(key, epoch, v, tagsOf(tags, v), l.TTL)
				return filled[T]{v, SharedHit, c.opts.Now().Add(l.TTL)}, nil
			}
			break // written by another version of the gateway: fetch, leave it be
		}
		look, lookedUp = l, true
		if l.Locked || !l.Busy || time.Now().Add(pause).After(deadline) {
			break
		}
		// Another replica is fetching this key: its answer will be in the tier shortly.
		t := time.NewTimer(pause)
		<-t.C
		pause = min(2*pause, 50*time.Millisecond)
	}
	v, err := fetch(ctx)
	if err != nil {
		if look.Locked {
			shared.Unlock(ctx, key)
		}
		return filled[T]{}, err
	}
	t := tagsOf(tags, v)
	c.setIfCurrent(key, epoch, v, t, 0)
	if lookedUp {
		if data, err := shared.Encode(v); err == nil && len(data) <= c.opts.MaxSharedValue {
			_ = shared.Fill(ctx, key, data, c.TTL(key.Resource), t, look.Epoch)
		} else if look.Locked {
			shared.Unlock(ctx, key)
		}
	}
	return filled[T]{v, Miss, c.opts.Now().Add(c.TTL(key.Resource))}, nil
}

// StaleTracker collects what the cache served one operation: the resource kinds served
// stale, so the response can say so, and the number of answers the cache gave without
// an upstream call of the operation's own (extensions.cost.cacheHits).
type StaleTracker struct {
	hits      atomic.Int64
	mu        sync.Mutex
	resources map[string]struct{}
}

type trackerKey struct{}

// WithStaleTracker returns a context whose stale answers are recorded on the returned tracker.
func WithStaleTracker(ctx context.Context) (context.Context, *StaleTracker) {
	t := &StaleTracker{resources: make(map[string]struct{})}
	return context.WithValue(ctx, trackerKey{}, t), t
}

// StaleTrackerFrom returns the tracker of ctx's operation, or nil.
func StaleTrackerFrom(ctx context.Context) *StaleTracker {
	t, _ := ctx.Value(trackerKey{}).(*StaleTracker)
	return t
}

func trackerFrom(ctx context.Context) *StaleTracker { return StaleTrackerFrom(ctx) }

func (t *StaleTracker) hit() {
	if t != nil {
		t.hits.Add(1)
	}
}

// Hits returns how many fetches of the operation the cache answered (fresh or stale
// entries, or a call another operation had in flight).
func (t *StaleTracker) Hits() int64 { return t.hits.Load() }

func (t *StaleTracker) add(resource string) {
	if t == nil {
		return
	}
	t.hits.Add(1)
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
