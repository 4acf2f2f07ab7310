package cache

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// readEntries records, on a fresh Reads, a fetch of each (resource, id, tag) triple.
func readEntries(t *testing.T, c *Cache, scope string, entries ...[3]string) *Reads {
	t.Helper()
	r := c.NewReads(scope)
	ctx := WithReads(context.Background(), r)
	for _, e := range entries {
		tag := e[2]
		_, err := Fetch(ctx, c, Key{Scope: scope, Resource: e[0], ID: e[1]},
			func(context.Context) (string, error) { return "v", nil },
			func(string) []string { return []string{tag} })
		require.NoError(t, err)
	}
	return r
}

func body(s string) *Response { return &Response{Body: []byte(s), ETag: `"` + s + `"`} }

func TestStoreResponseFollowsWhatItRead(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	c := New(Options{TTL: time.Hour, ResourceTTL: map[string]time.Duration{"job": 2 * time.Second}, Now: clock.Now, ResponseBytes: 1 << 20})

	page := ResponseKey{Scope: "org:a", Document: "{ event { title } }"}
	jobs := ResponseKey{Scope: "org:a", Document: "{ event { title } job { status } }"}
	require.Equal(t, Stored, c.StoreResponse(page, body("page"), readEntries(t, c, "org:a", [3]string{"event", "e1", "event:e1"})))
	require.Equal(t, Stored, c.StoreResponse(jobs, body("jobs"), readEntries(t, c, "org:a",
		[3]string{"event", "e1", "event:e1"}, [3]string{"job", "j1", "job:j1"})))

	got, ok := c.LookupResponse(page)
	require.True(t, ok)
	assert.Equal(t, "page", string(got.Body))

	t.Run("expires with the shortest-lived entry it read", func(t *testing.T) {
		clock.Advance(3 * time.Second)
		_, ok := c.LookupResponse(jobs)
		assert.False(t, ok, "the job entry (2 s) expired, so did the response")
		_, ok = c.LookupResponse(page)
		assert.True(t, ok)
	})

	t.Run("evicted exactly by the tags it read", func(t *testing.T) {
		other := ResponseKey{Scope: "org:a", Document: "{ session { id } }"}
		require.Equal(t, Stored, c.StoreResponse(other, body("other"), readEntries(t, c, "org:a", [3]string{"session", "s1", "session:s1"})))
		c.Invalidate("org:b", "event:e1") // another workspace's event of the same id
		_, ok := c.LookupResponse(page)
		assert.True(t, ok)
		c.Invalidate("org:a", "event:e1")
		_, ok = c.LookupResponse(page)
		assert.False(t, ok)
		_, ok = c.LookupResponse(other)
		assert.True(t, ok, "a response that did not read the event stays")
	})

	t.Run("never across workspaces, roles or variables", func(t *testing.T) {
		k := ResponseKey{Scope: "org:a", Role: "viewer", Document: "{ x }", Variables: []byte(`{"a":1}`)}
		require.Equal(t, Stored, c.StoreResponse(k, body("x"), c.NewReads("org:a")))
		for _, other := range []ResponseKey{
			{Scope: "org:b", Role: "viewer", Document: "{ x }", Variables: []byte(`{"a":1}`)},
			{Scope: "org:a", Role: "public", Document: "{ x }", Variables: []byte(`{"a":1}`)},
			{Scope: "org:a", Role: "viewer", Document: "{ x }", Variables: []byte(`{"a":2}`)},
			{Scope: "org:a", Role: "viewer", Document: "{ x }", OperationName: "X", Variables: []byte(`{"a":1}`)},
			{Scope: "org:a", Role: "viewer", Document: "{ x } ", Variables: []byte(`{"a":1}`)},
		} {
			_, ok := c.LookupResponse(other)
			assert.False(t, ok, "%+v", other)
		}
		assert.Equal(t, NotStoredWrongScope, c.StoreResponse(ResponseKey{Scope: "org:b"}, body("x"), c.NewReads("org:a")))
	})
}

func TestStoreResponseRefusals(t *testing.T) {
	c := New(Options{TTL: time.Hour, ResponseBytes: 1 << 20})
	key := ResponseKey{Scope: "org:a", Document: "{ q }"}

	t.Run("an invalidation of the workspace raced the execution", func(t *testing.T) {
		r := readEntries(t, c, "org:a", [3]string{"event", "e1", "event:e1"})
		c.Invalidate("org:a", "session:unrelated") // any invalidation of the workspace
		assert.Equal(t, NotStoredRaced, c.StoreResponse(key, body("old"), r))
		_, ok := c.LookupResponse(key)
		assert.False(t, ok)
		// Another workspace's invalidation does not count.
		r = readEntries(t, c, "org:a", [3]string{"event", "e1", "event:e1"})
		c.Invalidate("org:b", "event:e1")
		assert.Equal(t, Stored, c.StoreResponse(key, body("ok"), r))
	})
	t.Run("a resolver said no", func(t *testing.T) {
		r := c.NewReads("org:a")
		ReadsFrom(WithReads(context.Background(), r)).NoStore("rate_limit")
		assert.Equal(t, "rate_limit", c.StoreResponse(key, body("x"), r))
	})
	t.Run("an entry was served stale", func(t *testing.T) {
		clock := &fakeClock{now: time.Unix(1_700_000_000, 0)}
		sc := New(Options{TTL: time.Minute, Now: clock.Now, AllowStale: func(context.Context) bool { return true }, ResponseBytes: 1 << 20})
		readEntries(t, sc, "org:a", [3]string{"event", "e1", "event:e1"})
		clock.Advance(2 * time.Minute)
		r := readEntries(t, sc, "org:a", [3]string{"event", "e1", "event:e1"})
		assert.Equal(t, NotStoredStale, sc.StoreResponse(key, body("x"), r))
	})
	t.Run("too large for the cache", func(t *testing.T) {
		small := New(Options{TTL: time.Hour, ResponseBytes: 8 << 10})
		big := &Response{Body: []byte(strings.Repeat("x", 2<<10))}
		assert.Equal(t, NotStoredTooLarge, small.StoreResponse(key, big, small.NewReads("org:a")))
	})
	t.Run("off", func(t *testing.T) {
		off := New(Options{TTL: time.Hour})
		assert.False(t, off.ResponseCacheEnabled())
		assert.Equal(t, NotStoredDisabled, off.StoreResponse(key, body("x"), off.NewReads("org:a")))
		_, ok := off.LookupResponse(key)
		assert.False(t, ok)
	})
}

func TestResponseCacheIsBoundedInBytes(t *testing.T) {
	c := New(Options{TTL: time.Hour, ResponseBytes: 64 << 10})
	r := c.NewReads("org:a")
	r.add([]string{"event:e1"}, time.Now().Add(time.Hour))
	payload := strings.Repeat("x", 4<<10)
	for i := range 100 {
		k := ResponseKey{Scope: "org:a", Document: fmt.Sprintf("{ q%d }", i)}
		require.Equal(t, Stored, c.StoreResponse(k, &Response{Body: []byte(payload)}, r))
	}
	assert.LessOrEqual(t, c.ResponseCacheBytes(), int64(64<<10))
	assert.Greater(t, c.ResponseCacheLen(), 10)
	_, ok := c.LookupResponse(ResponseKey{Scope: "org:a", Document: "{ q0 }"})
	assert.False(t, ok, "the least recently used went first")
	_, ok = c.LookupResponse(ResponseKey{Scope: "org:a", Document: "{ q99 }"})
	assert.True(t, ok)

	// Evicted entries left the tag index: an invalidation finds only the live ones, and
	// the accounting returns to zero.
	c.Invalidate("org:a", "event:e1")
	assert.Zero(t, c.ResponseCacheLen())
	assert.Zero(t, c.ResponseCacheBytes())
	c.mu.Lock()
	assert.Empty(t, c.tagIndex)
	c.mu.Unlock()
}
