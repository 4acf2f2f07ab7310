package cache

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (f *fakeClock) Now() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.now }
func (f *fakeClock) Advance(d time.Duration) {
	f.mu.Lock()
	f.now = f.now.Add(d)
	f.mu.Unlock()
}

type counter struct{ calls atomic.Int32 }

func (c *counter) fetch(v string) func(context.Context) (string, error) {
	return func(context.Context) (string, error) {
		c.calls.Add(1)
		return v, nil
	}
}

func TestFetchHitMissAndTTL(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	var results []Result
	c := New(Options{TTL: time.Minute, Now: clock.Now, Observer: func(_ string, r Result) { results = append(results, r) }})
	key := Key{Scope: "org:a", Resource: "event", ID: "e1"}
	var n counter
	ctx := context.Background()

	v, err := Fetch(ctx, c, key, n.fetch("first"), nil)
	require.NoError(t, err)
	assert.Equal(t, "first", v)
	v, err = Fetch(ctx, c, key, n.fetch("second"), nil)
	require.NoError(t, err)
	assert.Equal(t, "first", v, "a fresh entry is served from the cache")
	assert.EqualValues(t, 1, n.calls.Load())

	clock.Advance(61 * time.Second)
	v, err = Fetch(ctx, c, key, n.fetch("third"), nil)
	require.NoError(t, err)
	assert.Equal(t, "third", v, "an expired entry is fetched again")
	assert.EqualValues(t, 2, n.calls.Load())
	assert.Equal(t, []Result{Miss, Hit, Miss}, results)
}

func TestResourceTTLOverride(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	c := New(Options{TTL: time.Minute, ResourceTTL: map[string]time.Duration{"users": time.Hour}, Now: clock.Now})
	c.Set(Key{Scope: "s", Resource: "users", ID: "all"}, 1)
	c.Set(Key{Scope: "s", Resource: "event", ID: "e"}, 2)
	clock.Advance(2 * time.Minute)
	_, okUsers := c.Get(Key{Scope: "s", Resource: "users", ID: "all"})
	_, okEvent := c.Get(Key{Scope: "s", Resource: "event", ID: "e"})
	assert.True(t, okUsers)
	assert.False(t, okEvent)
}

func TestScopesAreIsolated(t *testing.T) {
	c := New(Options{})
	c.Set(Key{Scope: "org:a", Resource: "event", ID: "e1"}, "A's event")
	_, ok := c.Get(Key{Scope: "org:b", Resource: "event", ID: "e1"})
	assert.False(t, ok, "the same id in another scope must miss")

	c.Set(Key{Scope: "", Resource: "event", ID: "e1"}, "unscoped")
	assert.Equal(t, 1, c.Len(), "unscoped entries are never stored")
	_, err := Fetch(context.Background(), c, Key{Resource: "event", ID: "e1"}, (&counter{}).fetch("x"), nil)
	assert.Error(t, err)
}

func TestConcurrentFetchesCollapse(t *testing.T) {
	// synctest.Wait returns once every caller is blocked: in the one fetch, or waiting
	// for its result. Only then is the fetch released, so the test is deterministic.
	synctest.Test(t, func(t *testing.T) {
		c := New(Options{})
		key := Key{Scope: "org:a", Resource: "eventsPage", ID: "p0"}
		release := make(chan struct{})
		var calls atomic.Int32
		fetch := func(context.Context) (int, error) {
			calls.Add(1)
			<-release
			return 42, nil
		}
		const callers = 20
		results := make(chan int, callers)
		for range callers {
			go func() {
				v, err := Fetch(context.Background(), c, key, fetch, nil)
				if err != nil {
					v = -1
				}
				results <- v
			}()
		}
		synctest.Wait()
		close(release)
		for range callers {
			assert.Equal(t, 42, <-results)
		}
		assert.EqualValues(t, 1, calls.Load())
	})
}

func TestErrorsAreNotCached(t *testing.T) {
	c := New(Options{})
	key := Key{Scope: "s", Resource: "event", ID: "e"}
	boom := errors.New("boom")
	_, err := Fetch(context.Background(), c, key, func(context.Context) (string, error) { return "", boom }, nil)
	require.ErrorIs(t, err, boom)
	var n counter
	v, err := Fetch(context.Background(), c, key, n.fetch("ok"), nil)
	require.NoError(t, err)
	assert.Equal(t, "ok", v)
	assert.EqualValues(t, 1, n.calls.Load())
}

func TestInvalidateByTag(t *testing.T) {
	c := New(Options{})
	c.Set(Key{Scope: "a", Resource: "session", ID: "s1"}, 1, "session:s1")
	c.Set(Key{Scope: "a", Resource: "sessionPeoplePage", ID: "s1|p0"}, 2, "session:s1/people")
	c.Set(Key{Scope: "a", Resource: "sessionPeoplePage", ID: "s1|p1"}, 3, "session:s1/people")
	c.Set(Key{Scope: "a", Resource: "sessionPeoplePage", ID: "s2|p0"}, 4, "session:s2/people")
	c.Set(Key{Scope: "b", Resource: "sessionPeoplePage", ID: "s1|p0"}, 5, "session:s1/people")

	n := c.Invalidate("a", "session:s1/people")
	assert.Equal(t, 2, n)
	_, ok := c.Get(Key{Scope: "a", Resource: "sessionPeoplePage", ID: "s1|p0"})
	assert.False(t, ok)
	_, ok = c.Get(Key{Scope: "a", Resource: "session", ID: "s1"})
	assert.True(t, ok, "entries without the tag stay")
	_, ok = c.Get(Key{Scope: "a", Resource: "sessionPeoplePage", ID: "s2|p0"})
	assert.True(t, ok)
	_, ok = c.Get(Key{Scope: "b", Resource: "sessionPeoplePage", ID: "s1|p0"})
	assert.True(t, ok, "invalidation never crosses scopes")
	assert.Equal(t, 0, c.Invalidate("a", "session:s1/people"), "a second invalidation finds nothing")
}

func TestSizeBoundEvictsAndCleansTags(t *testing.T) {
	c := New(Options{Size: 2})
	for i, id := range []string{"a", "b", "c"} {
		c.Set(Key{Scope: "s", Resource: "event", ID: id}, i, "events")
	}
	assert.Equal(t, 2, c.Len())
	_, ok := c.Get(Key{Scope: "s", Resource: "event", ID: "a"})
	assert.False(t, ok, "the least recently used entry is evicted")
	assert.Equal(t, 2, c.Invalidate("s", "events"), "evicted entries left the tag index")
	c.mu.Lock()
	assert.Empty(t, c.tagIndex)
	c.mu.Unlock()
}

func TestStaleServedOnlyWhenAllowed(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	var lowQuota atomic.Bool
	c := New(Options{TTL: time.Minute, StaleFor: time.Hour, Now: clock.Now, AllowStale: func(context.Context) bool { return lowQuota.Load() }})
	key := Key{Scope: "s", Resource: "event", ID: "e"}
	c.Set(key, "old")
	clock.Advance(2 * time.Minute)

	lowQuota.Store(true)
	ctx, tracker := WithStaleTracker(context.Background())
	var n counter
	v, err := Fetch(ctx, c, key, n.fetch("new"), nil)
	require.NoError(t, err)
	assert.Equal(t, "old", v)
	assert.EqualValues(t, 0, n.calls.Load())
	assert.Equal(t, []string{"event"}, tracker.Resources())

	lowQuota.Store(false)
	v, err = Fetch(context.Background(), c, key, n.fetch("new"), nil)
	require.NoError(t, err)
	assert.Equal(t, "new", v)

	clock.Advance(3 * time.Hour)
	lowQuota.Store(true)
	v, err = Fetch(context.Background(), c, key, n.fetch("newest"), nil)
	require.NoError(t, err)
	assert.Equal(t, "newest", v, "past the stale window the entry is gone")
}

func TestFetchHonoursCallerCancellation(t *testing.T) {
	c := New(Options{})
	release := make(chan struct{})
	defer close(release)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := Fetch(ctx, c, Key{Scope: "s", Resource: "event", ID: "slow"}, func(context.Context) (int, error) {
			<-release
			return 1, nil
		}, nil)
		done <- err
	}()
	cancel()
	select {
	case err := <-done:
		assert.ErrorIs(t, err, context.Canceled)
	case <-time.After(5 * time.Second):
		t.Fatal("Fetch did not return after its context was cancelled")
	}
}

func TestTheLastWaiterLeavingCancelsTheSharedFetch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := New(Options{})
		key := Key{Scope: "s", Resource: "event", ID: "slow"}
		var calls atomic.Int32
		cancelled := make(chan struct{}, 2)
		fetch := func(ctx context.Context) (int, error) {
			calls.Add(1)
			<-ctx.Done() // Livestorm never answers
			cancelled <- struct{}{}
			return 0, ctx.Err()
		}
		ctxA, leaveA := context.WithCancel(context.Background())
		ctxB, leaveB := context.WithCancel(context.Background())
		errs := make(chan error, 2)
		for _, ctx := range []context.Context{ctxA, ctxB} {
			go func() { _, err := Fetch(ctx, c, key, fetch, nil); errs <- err }()
		}
		synctest.Wait()
		require.EqualValues(t, 1, calls.Load(), "the two callers share one fetch")

		leaveA()
		require.ErrorIs(t, <-errs, context.Canceled, "a caller that leaves returns at once")
		synctest.Wait()
		assert.Empty(t, cancelled, "the other caller still waits: the fetch goes on")

		leaveB()
		require.ErrorIs(t, <-errs, context.Canceled)
		synctest.Wait()
		assert.Len(t, cancelled, 1, "nobody waits any more: the fetch is cancelled")

		var n counter
		v, err := Fetch(context.Background(), c, key, n.fetch("fresh"), nil)
		require.NoError(t, err)
		assert.Equal(t, "fresh", v, "a later caller starts a new fetch rather than join the cancelled one")
	})
}

func TestFetchStartsNothingForAGoneCaller(t *testing.T) {
	c := New(Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var n counter
	_, err := Fetch(ctx, c, Key{Scope: "s", Resource: "event", ID: "e"}, n.fetch("x"), nil)
	require.ErrorIs(t, err, context.Canceled)
	assert.Zero(t, n.calls.Load())
}

func TestCacheOnly(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	c := New(Options{TTL: time.Minute, StaleFor: time.Hour, Now: clock.Now})
	refusal := errors.New("public share spent")
	base, tracker := WithStaleTracker(context.Background())
	ctx := WithCacheOnly(base, refusal)
	var n counter

	fresh := Key{Scope: "s", Resource: "event", ID: "fresh"}
	c.Set(fresh, "cached")
	v, err := Fetch(ctx, c, fresh, n.fetch("new"), nil)
	require.NoError(t, err)
	assert.Equal(t, "cached", v)

	expired := Key{Scope: "s", Resource: "event", ID: "expired"}
	c.Set(expired, "old")
	clock.Advance(2 * time.Minute)
	c.Set(fresh, "cached")
	v, err = Fetch(ctx, c, expired, n.fetch("new"), nil)
	require.NoError(t, err)
	assert.Equal(t, "old", v, "an expired entry is served stale rather than fetched")
	assert.Equal(t, []string{"event"}, tracker.Resources())

	_, err = Fetch(ctx, c, Key{Scope: "s", Resource: "event", ID: "never"}, n.fetch("new"), nil)
	require.ErrorIs(t, err, refusal)
	assert.Zero(t, n.calls.Load(), "cache-only never calls upstream")
	assert.EqualValues(t, 2, tracker.Hits())

	t.Run("it may join a fetch someone else started", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			c := New(Options{})
			key := Key{Scope: "s", Resource: "event", ID: "inflight"}
			release := make(chan struct{})
			started := make(chan struct{})
			go func() {
				_, _ = Fetch(context.Background(), c, key, func(context.Context) (string, error) {
					close(started)
					<-release
					return "shared", nil
				}, nil)
			}()
			<-started
			got := make(chan string, 1)
			go func() {
				v, err := Fetch(WithCacheOnly(context.Background(), refusal), c, key, n.fetch("own"), nil)
				if err != nil {
					v = err.Error()
				}
				got <- v
			}()
			synctest.Wait()
			close(release)
			assert.Equal(t, "shared", <-got)
		})
	})
}
