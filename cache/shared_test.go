package cache

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// memTier is an in-memory SharedTier shared by several Caches, standing for the Redis
// tier of package cluster (tested against a real Redis there): it keeps the promises the
// Cache relies on, fill locks and epochs included.
type memTier struct {
	mu      sync.Mutex
	values  map[string][]byte
	tags    map[string][]string // scope+tag -> keys
	epochs  map[string]uint64
	locks   map[string]bool
	caches  []*Cache // every replica's cache, for InvalidateLocal
	down    bool
	lookups int
}

func newMemTier() *memTier {
	return &memTier{values: map[string][]byte{}, tags: map[string][]string{}, epochs: map[string]uint64{}, locks: map[string]bool{}}
}

func (m *memTier) replica() *Cache {
	c := New(Options{Shared: m, SharedWait: time.Second})
	m.caches = append(m.caches, c)
	return c
}

func (m *memTier) Available() bool { m.mu.Lock(); defer m.mu.Unlock(); return !m.down }

func (m *memTier) Lookup(_ context.Context, key Key) (SharedLookup, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.lookups++
	if m.down {
		return SharedLookup{}, errors.New("down")
	}
	if v, ok := m.values[key.String()]; ok {
		return SharedLookup{Value: v, TTL: time.Minute}, nil
	}
	l := SharedLookup{Epoch: m.epochs[key.Scope]}
	if m.locks[key.String()] {
		l.Busy = true
	} else {
		m.locks[key.String()], l.Locked = true, true
	}
	return l, nil
}

func (m *memTier) Fill(_ context.Context, key Key, value []byte, _ time.Duration, tags []string, epoch uint64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.locks, key.String())
	if m.epochs[key.Scope] != epoch {
		return nil
	}
	m.values[key.String()] = value
	for _, t := range tags {
		m.tags[key.Scope+"\x00"+t] = append(m.tags[key.Scope+"\x00"+t], key.String())
	}
	return nil
}

func (m *memTier) Unlock(_ context.Context, key Key) {
	m.mu.Lock()
	delete(m.locks, key.String())
	m.mu.Unlock()
}

func (m *memTier) Invalidate(_ context.Context, scope string, tags []string) error {
	m.mu.Lock()
	m.epochs[scope]++
	for _, t := range tags {
		for _, k := range m.tags[scope+"\x00"+t] {
			delete(m.values, k)
		}
		delete(m.tags, scope+"\x00"+t)
	}
	caches := m.caches
	m.mu.Unlock()
	for _, c := range caches {
		c.InvalidateLocal(scope, tags...)
	}
	return nil
}

func (m *memTier) Encode(v any) ([]byte, error)    { return json.Marshal(v) }
func (m *memTier) Decode(data []byte, v any) error { return json.Unmarshal(data, v) }

func TestSharedTier(t *testing.T) {
	key := Key{Scope: "org:a", Resource: "event", ID: "e1"}
	tagged := func(string) []string { return []string{"event:e1"} }
	ctx := context.Background()

	t.Run("an answer fetched by one replica serves the others", func(t *testing.T) {
		tier := newMemTier()
		a, b := tier.replica(), tier.replica()
		var n counter
		var results []Result
		b.opts.Observer = func(_ string, r Result) { results = append(results, r) }
		v, err := Fetch(ctx, a, key, n.fetch("from A"), tagged)
		require.NoError(t, err)
		assert.Equal(t, "from A", v)
		v, err = Fetch(ctx, b, key, n.fetch("from B"), tagged)
		require.NoError(t, err)
		assert.Equal(t, "from A", v)
		_, err = Fetch(ctx, b, key, n.fetch("from B"), tagged)
		require.NoError(t, err)
		assert.EqualValues(t, 1, n.calls.Load(), "one upstream call for both replicas")
		assert.Equal(t, []Result{SharedHit, Hit}, results, "then B's own tier answers")
	})
	t.Run("an invalidation through one replica reaches every tier", func(t *testing.T) {
		tier := newMemTier()
		a, b := tier.replica(), tier.replica()
		var n counter
		_, _ = Fetch(ctx, a, key, n.fetch("old"), tagged)
		_, _ = Fetch(ctx, b, key, n.fetch("old"), tagged)
		b.Invalidate("org:a", "event:e1")
		v, err := Fetch(ctx, a, key, n.fetch("new"), tagged)
		require.NoError(t, err)
		assert.Equal(t, "new", v)
		assert.EqualValues(t, 2, n.calls.Load())
	})
	t.Run("a replica waits for the one already fetching", func(t *testing.T) {
		tier := newMemTier()
		a, b := tier.replica(), tier.replica()
		release := make(chan struct{})
		started := make(chan struct{})
		var n counter
		done := make(chan string)
		go func() {
			v, _ := Fetch(ctx, a, key, func(context.Context) (string, error) {
				close(started)
				<-release
				n.calls.Add(1)
				return "from A", nil
			}, tagged)
			done <- v
		}()
		<-started
		time.AfterFunc(20*time.Millisecond, func() { close(release) }) // B asks while A still fetches (or just after)
		v, err := Fetch(ctx, b, key, n.fetch("from B"), tagged)
		require.NoError(t, err)
		assert.Equal(t, "from A", v)
		assert.Equal(t, "from A", <-done)
		assert.EqualValues(t, 1, n.calls.Load())
	})
	t.Run("a fetch overtaken by an invalidation elsewhere is not shared", func(t *testing.T) {
		tier := newMemTier()
		a, b := tier.replica(), tier.replica()
		var n counter
		_, err := Fetch(ctx, a, key, func(c context.Context) (string, error) {
			b.Invalidate("org:a", "unrelated") // lands while A reads the old state
			return n.fetch("maybe stale")(c)
		}, tagged)
		require.NoError(t, err)
		v, err := Fetch(ctx, b, key, n.fetch("fresh"), tagged)
		require.NoError(t, err)
		assert.Equal(t, "fresh", v, "neither tier kept the overtaken answer")
		_, ok := a.Get(key)
		assert.False(t, ok)
	})
	t.Run("answers over the size bound stay local", func(t *testing.T) {
		tier := newMemTier()
		a, b := tier.replica(), tier.replica()
		a.opts.MaxSharedValue = 64
		var n counter
		big := strings.Repeat("x", 100)
		_, _ = Fetch(ctx, a, key, n.fetch(big), tagged)
		_, _ = Fetch(ctx, b, key, n.fetch(big), tagged)
		assert.EqualValues(t, 2, n.calls.Load())
		assert.Empty(t, tier.locks, "the fill lock was released")
	})
	t.Run("without the tier each replica works alone", func(t *testing.T) {
		tier := newMemTier()
		a := tier.replica()
		tier.down = true
		var n counter
		v, err := Fetch(ctx, a, key, n.fetch("alone"), tagged)
		require.NoError(t, err)
		assert.Equal(t, "alone", v)
		assert.Zero(t, tier.lookups, "an unavailable tier is not even asked")
	})
}

func TestPurge(t *testing.T) {
	c := New(Options{})
	c.Set(Key{Scope: "org:a", Resource: "event", ID: "e1"}, 1, "event:e1")
	epoch := c.epoch("org:a")
	c.Purge()
	assert.Zero(t, c.Len())
	assert.NotEqual(t, epoch, c.epoch("org:a"), "fetches in flight are not cached")
	assert.Zero(t, c.Invalidate("org:a", "event:e1"))
}
