package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/livestorm-gateway/gateway/cache"
)

// fillLockTTL bounds how long a replica may hold a key's fill lock: past it, the replica
// is taken to have died mid-fetch and another may fetch.
const fillLockTTL = 10 * time.Second

// invalidationStreamMax bounds the invalidation stream; a replica cut off for longer than
// it lasts purges its local tier when it rejoins.
const invalidationStreamMax = 100_000

// pendingMax bounds the invalidations remembered during an outage, to be replayed to
// the other replicas when Redis is back.
const pendingMax = 10_000

// Tier is the cache.SharedTier of several replicas, in Redis: answers under keys
// carrying their verified workspace scope, with the local tier's TTLs; a tag index per
// workspace; an epoch per workspace that every invalidation bumps, so that a fetch an
// invalidation overtook is not stored; a fill lock per key, so that one replica fetches
// what several miss at once; and an invalidation stream that every replica applies to
// its local tier.
//
// While Redis is unreachable, invalidations are applied locally and remembered (up to
// pendingMax tags), then replayed through Redis when it is back, so the other replicas
// (and the shared answers) catch up.
type Tier struct {
	c     *Cluster
	local *cache.Cache
	// token identifies this replica's fill locks. One token for all of them: the local
	// singleflight gives each key one fetch per process, so a lock this replica holds is
	// always the current fetch's.
	token string

	mu       sync.Mutex
	pending  map[string]map[string]struct{} // scope -> tags
	npending int
	lost     int
}

var _ cache.SharedTier = (*Tier)(nil)

// Tier returns the replica's shared cache tier. Attach the local cache before use.
func (c *Cluster) Tier() *Tier {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tier != nil {
		return c.tier
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	t := &Tier{c: c, token: c.opts.ReplicaID + ":" + hex.EncodeToString(b[:]), pending: map[string]map[string]struct{}{}}
	c.whenRejoined(t.replayPending)
	c.tier = t
	return t
}

// Attach gives the tier the replica's cache, to which the other replicas' invalidations
// are applied (InvalidateLocal), and which is purged if some were lost.
func (t *Tier) Attach(local *cache.Cache) {
	t.local = local
	r := t.c.reader
	r.mu.Lock()
	r.invalidate = t.apply
	r.purge = local.Purge
	r.mu.Unlock()
}

// apply applies invalidations read from the stream (reader goroutine); this replica's
// own were applied when made.
func (t *Tier) apply(entries []redis.XMessage) {
	for _, e := range entries {
		origin, _ := e.Values["o"].(string)
		if origin == t.c.opts.ReplicaID {
			continue
		}
		scope, _ := e.Values["s"].(string)
		tags, _ := e.Values["t"].(string)
		if scope != "" && t.local != nil {
			t.local.InvalidateLocal(scope, strings.Split(tags, "\n")...)
		}
	}
}

// Available reports whether Redis is reachable.
func (t *Tier) Available() bool { return t.c.health.isUp() }

func (t *Tier) keys(key cache.Key) (value, epoch, lock string) {
	rest := key.Resource + ":" + key.ID
	return t.c.scoped("c", key.Scope, rest), t.c.scoped("e", key.Scope), t.c.scoped("l", key.Scope, rest)
}

func (t *Tier) tagKey(scope, tag string) string { return t.c.scoped("t", scope, tag) }

// Lookup reads key's answer, or its scope's epoch and its fill lock; see
// cache.SharedTier.
func (t *Tier) Lookup(ctx context.Context, key cache.Key) (cache.SharedLookup, error) {
	value, epoch, lock := t.keys(key)
	octx, cancel := t.c.op(ctx)
	defer cancel()
	res, err := lookupScript.Run(octx, t.c.rdb, []string{value, epoch, lock}, t.token, fillLockTTL.Milliseconds()).Slice()
	if err != nil {
		t.c.failed("cache_lookup", err)
		return cache.SharedLookup{}, err
	}
	var l cache.SharedLookup
	if v, ok := res[0].(string); ok {
		l.Value = []byte(v)
		if ms, _ := res[1].(int64); ms > 0 {
			l.TTL = time.Duration(ms) * time.Millisecond
		}
		return l, nil
	}
	e, _ := res[2].(string)
	l.Epoch, _ = strconv.ParseUint(e, 10, 64)
	locked, _ := res[3].(int64)
	l.Locked, l.Busy = locked == 1, locked == 0
	return l, nil
}

// Fill stores an answer unless its scope was invalidated since the lookup; see
// cache.SharedTier.
func (t *Tier) Fill(ctx context.Context, key cache.Key, data []byte, ttl time.Duration, tags []string, epoch uint64) error {
	value, ep, lock := t.keys(key)
	keys := []string{value, ep, lock}
	for _, tag := range tags {
		keys = append(keys, t.tagKey(key.Scope, tag))
	}
	octx, cancel := t.c.op(ctx)
	defer cancel()
	err := fillScript.Run(octx, t.c.rdb, keys, t.token, strconv.FormatUint(epoch, 10), data, ttl.Milliseconds()).Err()
	if err != nil {
		t.c.failed("cache_fill", err)
	}
	return err
}

// Unlock releases key's fill lock if this replica holds it.
func (t *Tier) Unlock(ctx context.Context, key cache.Key) {
	_, _, lock := t.keys(key)
	octx, cancel := t.c.op(ctx)
	defer cancel()
	if err := unlockScript.Run(octx, t.c.rdb, []string{lock}, t.token).Err(); err != nil {
		t.c.failed("cache_unlock", err)
	}
}

// Invalidate removes scope's shared answers carrying tags and waits (bounded by
// Options.InvalidationWait) until every other live replica applied the invalidation to
// its local tier; see cache.SharedTier. While Redis is unreachable the invalidation is
// remembered and replayed once it is back.
func (t *Tier) Invalidate(ctx context.Context, scope string, tags []string) error {
	if len(tags) == 0 {
		return nil
	}
	if !t.c.health.isUp() {
		t.c.fallback("invalidate")
		t.remember(scope, tags)
		return nil
	}
	id, err := t.invalidate(ctx, scope, tags)
	if err != nil {
		t.c.failed("invalidate", err)
		t.remember(scope, tags)
		return err
	}
	t.awaitPeers(ctx, id)
	return nil
}

func (t *Tier) invalidate(ctx context.Context, scope string, tags []string) (string, error) {
	keys := []string{t.c.scoped("e", scope), t.c.key("inval")}
	for _, tag := range tags {
		keys = append(keys, t.tagKey(scope, tag))
	}
	octx, cancel := t.c.op(ctx)
	defer cancel()
	return invalidateScript.Run(octx, t.c.rdb, keys, scope, t.c.opts.ReplicaID, strings.Join(tags, "\n"), invalidationStreamMax).Text()
}

// awaitPeers polls the other replicas' acknowledgements until each has applied the
// invalidation id (or the wait is over): a replica heard from recently acknowledges
// within a round trip.
func (t *Tier) awaitPeers(ctx context.Context, id string) {
	peers := t.c.health.peers()
	if len(peers) == 0 {
		return
	}
	keys := make([]string, len(peers))
	for i, p := range peers {
		keys[i] = t.c.key("inval", "ack", p)
	}
	deadline := time.Now().Add(t.c.opts.InvalidationWait)
	pause := 200 * time.Microsecond
	for {
		octx, cancel := t.c.op(ctx)
		acks, err := t.c.rdb.MGet(octx, keys...).Result()
		cancel()
		if err != nil {
			return
		}
		behind := keys[:0]
		for i, a := range acks {
			if s, _ := a.(string); !idAfter(s, id) && s != id {
				behind = append(behind, keys[i])
			}
		}
		keys = behind
		if len(keys) == 0 || time.Now().Add(pause).After(deadline) {
			return
		}
		timer := time.NewTimer(pause)
		<-timer.C
		pause = min(2*pause, 10*time.Millisecond)
	}
}

func (t *Tier) remember(scope string, tags []string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	set := t.pending[scope]
	if set == nil {
		set = map[string]struct{}{}
		t.pending[scope] = set
	}
	for _, tag := range tags {
		if _, ok := set[tag]; ok {
			continue
		}
		if t.npending >= pendingMax {
			t.lost++
			continue
		}
		set[tag] = struct{}{}
		t.npending++
	}
}

// replayPending sends the invalidations made during an outage (heartbeat goroutine).
func (t *Tier) replayPending(ctx context.Context) {
	t.mu.Lock()
	pending, lost := t.pending, t.lost
	t.pending, t.npending, t.lost = map[string]map[string]struct{}{}, 0, 0
	t.mu.Unlock()
	n := 0
	for scope, set := range pending {
		tags := make([]string, 0, len(set))
		for tag := range set {
			tags = append(tags, tag)
		}
		if _, err := t.invalidate(ctx, scope, tags); err != nil {
			t.remember(scope, tags)
			continue
		}
		n += len(tags)
	}
	if n > 0 || lost > 0 {
		t.c.log.Info("invalidations made during the Redis outage sent to the other replicas", "tags", n, "not_kept", lost)
	}
	if lost > 0 {
		t.c.log.Warn("some invalidations made during the Redis outage were not kept: other replicas may serve those answers until CACHE_TTL", "tags", lost)
	}
}

// Encode encodes a cached value (see encode).
func (t *Tier) Encode(v any) ([]byte, error) { return encode(v) }

// Decode decodes a cached value into v, a pointer.
func (t *Tier) Decode(data []byte, v any) error { return decode(data, v) }
