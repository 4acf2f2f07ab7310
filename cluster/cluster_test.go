package cluster

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/livestorm-gateway/gateway/cache"
	"github.com/livestorm-gateway/gateway/cluster/clustertest"
	"github.com/livestorm-gateway/gateway/livestorm"
	"github.com/livestorm-gateway/gateway/livestormsim"
	"github.com/livestorm-gateway/gateway/pubsub"
	"github.com/livestorm-gateway/gateway/webhook"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// replicas connects n replicas to srv, closed at the end of the test.
func replicas(t *testing.T, srv *clustertest.Server, n int, tune ...func(*Options)) []*Cluster {
	t.Helper()
	out := make([]*Cluster, n)
	for i := range out {
		o := Options{URL: srv.URL, ReplicaID: fmt.Sprintf("replica-%d", i+1), Heartbeat: 100 * time.Millisecond,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
		for _, f := range tune {
			f(&o)
		}
		c, err := Connect(t.Context(), o)
		require.NoError(t, err)
		t.Cleanup(func() { _ = c.Close() })
		out[i] = c
	}
	return out
}

// recv waits (bounded) for the next message of s.
func recv(t *testing.T, s *pubsub.Subscription) *pubsub.Message {
	t.Helper()
	select {
	case m, ok := <-s.C:
		require.True(t, ok, "subscription ended: %v", s.Err())
		return m
	case <-time.After(5 * time.Second):
		t.Fatal("nothing within 5s")
		return nil
	}
}

// none asserts s receives nothing more within a short grace period (messages cross
// Redis asynchronously, so "nothing yet" needs a moment to mean something).
func none(t *testing.T, s *pubsub.Subscription, grace time.Duration) {
	t.Helper()
	select {
	case m, ok := <-s.C:
		if ok {
			t.Fatalf("unexpected message %q (%s)", m.Name, m.Cursor)
		}
	case <-time.After(grace):
	}
}

func TestConnectRefusesAnUnreachableRedis(t *testing.T) {
	for _, tc := range []struct{ name, url, want string }{
		{"nothing listens", "redis://user:s3cret@127.0.0.1:1/0", "REDIS_URL: cannot reach Redis at 127.0.0.1:1"},
		{"not a URL", "http://user:s3cret@example.com", "REDIS_URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Connect(t.Context(), Options{URL: tc.url})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), "s3cret", "the password never appears")
		})
	}
}

func TestBusAcrossReplicas(t *testing.T) {
	srv := clustertest.Start(t)
	rs := replicas(t, srv, 3)
	ctx := t.Context()
	var subs []*pubsub.Subscription
	for _, r := range rs {
		s, err := r.Bus().Subscribe(ctx, "org:a", nil, 16)
		require.NoError(t, err)
		subs = append(subs, s)
	}
	other, err := rs[1].Bus().Subscribe(ctx, "org:b", nil, 16)
	require.NoError(t, err)
	for i := range 3 {
		require.NoError(t, rs[i%3].Bus().Publish(ctx, pubsub.Message{Scope: "org:a", Name: fmt.Sprint(i), ID: fmt.Sprint("d", i)}))
	}
	var cursors [3][]string
	for i, s := range subs {
		for want := range 3 {
			m := recv(t, s)
			assert.Equal(t, fmt.Sprint(want), m.Name, "replica %d: one order for all", i+1)
			assert.False(t, m.Fallback)
			cursors[i] = append(cursors[i], m.Cursor)
		}
	}
	assert.Equal(t, cursors[0], cursors[1])
	assert.Equal(t, cursors[0], cursors[2])
	for _, s := range subs {
		none(t, s, 50*time.Millisecond)
	}
	none(t, other, 0)
}

func TestBusResume(t *testing.T) {
	srv := clustertest.Start(t)
	rs := replicas(t, srv, 2)
	ctx := t.Context()
	s, err := rs[0].Bus().Subscribe(ctx, "org:a", nil, 16)
	require.NoError(t, err)
	require.NoError(t, rs[1].Bus().Publish(ctx, pubsub.Message{Scope: "org:a", Name: "seen"}))
	last := recv(t, s).Cursor
	s.Close()
	for i := range 5 {
		require.NoError(t, rs[1].Bus().Publish(ctx, pubsub.Message{Scope: "org:a", Name: fmt.Sprint("missed-", i)}))
	}
	for _, r := range rs { // on the same replica, and on another one
		again, err := r.Bus().SubscribeAfter(ctx, "org:a", last, nil, 16)
		require.NoError(t, err)
		for i := range 5 {
			assert.Equal(t, fmt.Sprint("missed-", i), recv(t, again).Name)
		}
		defer again.Close()
	}
	require.NoError(t, rs[0].Bus().Publish(ctx, pubsub.Message{Scope: "org:a", Name: "live"}))

	t.Run("cursors it cannot honour", func(t *testing.T) {
		_, err := rs[0].Bus().SubscribeAfter(ctx, "org:a", "not-a-cursor", nil, 4)
		assert.ErrorIs(t, err, pubsub.ErrInvalidCursor)
		_, err = rs[0].Bus().SubscribeAfter(ctx, "org:a", "1-0", nil, 4) // before this Redis's history
		assert.ErrorIs(t, err, pubsub.ErrReplayUnavailable)
	})
	_ = strings.TrimSpace
}

// sharedCaches builds one cache per replica, each with the replica's shared tier.
func sharedCaches(rs []*Cluster) []*cache.Cache {
	out := make([]*cache.Cache, len(rs))
	for i, r := range rs {
		t := r.Tier()
		out[i] = cache.New(cache.Options{TTL: time.Minute, Shared: t})
		t.Attach(out[i])
	}
	return out
}

func TestTierAcrossReplicas(t *testing.T) {
	srv := clustertest.Start(t)
	rs := replicas(t, srv, 3)
	caches := sharedCaches(rs)
	ctx := t.Context()
	key := cache.Key{Scope: "org:a", Resource: "event", ID: "e1"}
	tags := func(*livestorm.Event) []string { return []string{"event:e1"} }
	var calls atomic.Int32
	fetch := func(title string) func(context.Context) (*livestorm.Event, error) {
		return func(context.Context) (*livestorm.Event, error) {
			calls.Add(1)
			return &livestorm.Event{ID: "e1", Title: title, CreatedAt: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}, nil
		}
	}

	ev, err := cache.Fetch(ctx, caches[0], key, fetch("v1"), tags)
	require.NoError(t, err)
	assert.Equal(t, "v1", ev.Title)
	ev, err = cache.Fetch(ctx, caches[2], key, fetch("v1 again"), tags)
	require.NoError(t, err)
	assert.Equal(t, "v1", ev.Title, "replica 3 is served what replica 1 fetched")
	assert.Equal(t, time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC), ev.CreatedAt)
	assert.EqualValues(t, 1, calls.Load())

	caches[1].Invalidate("org:a", "event:e1") // a mutation through replica 2
	_, ok := caches[0].Get(key)
	assert.False(t, ok, "replica 1's local tier was invalidated before Invalidate returned")
	_, ok = caches[2].Get(key)
	assert.False(t, ok)
	ev, err = cache.Fetch(ctx, caches[0], key, fetch("v2"), tags)
	require.NoError(t, err)
	assert.Equal(t, "v2", ev.Title)

	t.Run("identical cold fetches on several replicas cost one call", func(t *testing.T) {
		calls.Store(0)
		key := cache.Key{Scope: "org:a", Resource: "event", ID: "cold"}
		release := make(chan struct{})
		var wg sync.WaitGroup
		for _, c := range caches {
			wg.Go(func() {
				ev, err := cache.Fetch(ctx, c, key, func(context.Context) (*livestorm.Event, error) {
					calls.Add(1)
					<-release
					return &livestorm.Event{ID: "cold", Title: "once"}, nil
				}, nil)
				assert.NoError(t, err)
				assert.Equal(t, "once", ev.Title)
			})
		}
		// Let the other two find the fill lock taken, then let the fetch complete.
		require.Eventually(t, func() bool { return calls.Load() == 1 }, 5*time.Second, time.Millisecond)
		time.AfterFunc(50*time.Millisecond, func() { close(release) })
		wg.Wait()
		assert.EqualValues(t, 1, calls.Load())
	})
}

func TestEncodedSizes(t *testing.T) {
	page := samplePeoplePage(t, 50)
	data, err := encode(page)
	require.NoError(t, err)
	asJSON, err := json.Marshal(page)
	require.NoError(t, err)
	var back livestorm.List[livestorm.Person]
	require.NoError(t, decode(data, &back))
	assert.Equal(t, page, &back, "what is decoded is what was encoded")
	t.Logf("a page of 50 session registrants: %d bytes as JSON, %d encoded (MessagePack + Snappy)", len(asJSON), len(data))
	assert.Less(t, len(data), 256<<10)
}

// samplePeoplePage is a page of n registrants of one session as the client decodes it
// from the simulator: the typical large cached value.
func samplePeoplePage(t testing.TB, n int) *livestorm.List[livestorm.Person] {
	t.Helper()
	sim, err := livestormsim.New(livestormsim.Config{Seed: 7, Size: livestormsim.Size{Events: 1, SessionsPerEvent: 1, PeoplePerSession: n + 5}, IntervalLimit: -1})
	require.NoError(t, err)
	srv := httptest.NewServer(sim.Handler())
	defer func() { srv.Close(); sim.Close() }()
	c := livestorm.New(livestorm.WithBaseURL(srv.URL+"/v1"), livestorm.WithCredential(livestorm.APIToken(sim.Organizations()[0].Token)))
	defer c.CloseIdleConnections()
	sessions, err := c.ListSessions(t.Context(), livestorm.SessionListOptions{})
	require.NoError(t, err)
	page, err := c.ListSessionPeople(t.Context(), sessions.Items[0].ID, livestorm.SessionPeopleListOptions{Page: livestorm.Page{Size: n}})
	require.NoError(t, err)
	require.Len(t, page.Items, n)
	return page
}

// TestLimiterAcrossReplicas starts 15 requests of one workspace spread over 3 replicas:
// they start at most 5 in any second, together.
func TestLimiterAcrossReplicas(t *testing.T) {
	srv := clustertest.Start(t)
	rs := replicas(t, srv, 3)
	var (
		mu     sync.Mutex
		starts []time.Time
		wg     sync.WaitGroup
	)
	for i := range 15 {
		l := rs[i%3].Limiter(5, time.Second)
		wg.Go(func() {
			require.NoError(t, l.Wait(t.Context(), "workspace-fingerprint"))
			mu.Lock()
			starts = append(starts, time.Now())
			mu.Unlock()
		})
	}
	wg.Wait()
	slices.SortFunc(starts, func(a, b time.Time) int { return a.Compare(b) })
	for i := 5; i < len(starts); i++ {
		assert.GreaterOrEqual(t, starts[i].Sub(starts[i-5]), time.Second, "6 starts within one second at %d", i)
	}
	assert.GreaterOrEqual(t, starts[14].Sub(starts[0]), 2*time.Second, "15 starts need 3 windows")
}

func TestLimiterShareWithoutRedis(t *testing.T) {
	srv := clustertest.Start(t)
	rs := replicas(t, srv, 3)
	require.Eventually(t, func() bool { return rs[0].Replicas() == 3 }, 5*time.Second, 10*time.Millisecond)
	srv.Stop()
	require.Eventually(t, func() bool { return !rs[0].Up() }, 5*time.Second, 10*time.Millisecond)
	assert.Equal(t, 3, rs[0].Replicas(), "the last known count")
	assert.Contains(t, rs[0].Degraded(), "Redis unreachable")
	l := rs[0].Limiter(5, time.Second)
	start := time.Now()
	for range 2 {
		require.NoError(t, l.Wait(t.Context(), "k"))
	}
	assert.GreaterOrEqual(t, time.Since(start), 900*time.Millisecond, "one request per second: this replica's share of 5/s among 3")
}

func TestQuotaIsShared(t *testing.T) {
	srv := clustertest.Start(t)
	rs := replicas(t, srv, 2)
	a, b := rs[0].Quota(), rs[1].Quota()
	_, ok := b.Latest("fp")
	assert.False(t, ok)
	seen := livestorm.RateLimit{MonthlyLimit: 10_000, MonthlyRemaining: 42, IntervalLimit: 5, IntervalRemaining: 3, Observed: time.Now().Truncate(time.Millisecond)}
	a.Publish("fp", seen)
	require.Eventually(t, func() bool { rl, ok := b.Latest("fp"); return ok && rl.MonthlyRemaining == 42 }, 5*time.Second, 10*time.Millisecond)
	rl, _ := b.Latest("fp")
	assert.Equal(t, seen.Observed, rl.Observed)
	// Older figures never overwrite newer ones.
	b.Publish("fp", livestorm.RateLimit{MonthlyLimit: 10_000, MonthlyRemaining: 900, Observed: seen.Observed.Add(-time.Minute)})
	a.Publish("fp", livestorm.RateLimit{MonthlyLimit: 10_000, MonthlyRemaining: 41, Observed: seen.Observed.Add(time.Second)})
	require.Eventually(t, func() bool { rl, _ := b.Latest("fp"); return rl.MonthlyRemaining == 41 }, 5*time.Second, 10*time.Millisecond)
}

func TestDeduperAcrossReplicas(t *testing.T) {
	srv := clustertest.Start(t)
	rs := replicas(t, srv, 2)
	dedupers := make([]*Deduper, 2)
	for i, r := range rs {
		local, err := webhook.NewLocalDeduper(100, time.Hour)
		require.NoError(t, err)
		dedupers[i] = r.Deduper(time.Hour, local)
	}
	ctx, now := t.Context(), time.Now()
	key := sha256.Sum256([]byte(`{"a delivery":1}`))
	assert.True(t, dedupers[0].FirstSeen(ctx, key, now))
	assert.False(t, dedupers[1].FirstSeen(ctx, key, now), "a retry on another replica is a duplicate")
	assert.False(t, dedupers[0].FirstSeen(ctx, key, now))
	other := sha256.Sum256([]byte(`{"another":1}`))
	assert.True(t, dedupers[1].FirstSeen(ctx, other, now))
	dedupers[1].Forget(ctx, other)
	assert.True(t, dedupers[0].FirstSeen(ctx, other, now), "forgotten: not accepted after all")
}

func TestLeadership(t *testing.T) {
	srv := clustertest.Start(t)
	rs := replicas(t, srv, 3)
	ctx := t.Context()
	leads := make([]*Leadership, 3)
	for i, r := range rs {
		leads[i] = r.Leadership("registrar", 50*time.Millisecond)
	}
	leading := func() []int {
		var out []int
		for i, l := range leads {
			if l.Lead(ctx) {
				out = append(out, i)
			}
		}
		return out
	}
	first := leading()
	require.Len(t, first, 1, "exactly one leader")
	assert.Equal(t, first, leading(), "the leader keeps its lead by renewing it")
	leads[first[0]].Resign(ctx)
	var next []int
	for i, l := range leads {
		if i != first[0] && l.Lead(ctx) {
			next = append(next, i)
		}
	}
	require.Len(t, next, 1, "another replica took over at once")
	assert.False(t, leads[first[0]].Lead(ctx), "the one that resigned stands by")

	t.Run("a leader that dies is replaced once its lead expires", func(t *testing.T) {
		dead := next[0]
		var alive []*Leadership
		for i, l := range leads {
			if i != dead {
				alive = append(alive, l)
			}
		}
		require.Eventually(t, func() bool {
			n := 0
			for _, l := range alive {
				if l.Lead(ctx) {
					n++
				}
			}
			return n == 1
		}, 5*time.Second, 10*time.Millisecond)
	})
}

// TestRedisOutage stops Redis under a live bus and cache, then restarts it: the
// replicas carry on alone, then deliver across replicas again without a restart.
func TestRedisOutage(t *testing.T) {
	srv := clustertest.Start(t)
	rs := replicas(t, srv, 2)
	caches := sharedCaches(rs)
	ctx := t.Context()
	onA, err := rs[0].Bus().Subscribe(ctx, "org:a", nil, 64)
	require.NoError(t, err)
	onB, err := rs[1].Bus().Subscribe(ctx, "org:a", nil, 64)
	require.NoError(t, err)
	require.NoError(t, rs[0].Bus().Publish(ctx, pubsub.Message{Scope: "org:a", Name: "before"}))
	recv(t, onA)
	last := recv(t, onB)

	srv.Stop()
	require.Eventually(t, func() bool { return !rs[0].Up() && !rs[1].Up() }, 5*time.Second, 10*time.Millisecond)
	require.NoError(t, rs[0].Bus().Publish(ctx, pubsub.Message{Scope: "org:a", Name: "during", ID: "d1"}))
	m := recv(t, onA)
	assert.Equal(t, "during", m.Name, "the receiving replica still delivers")
	assert.True(t, m.Fallback)
	assert.Equal(t, last.Cursor, m.Cursor, "the last sequenced position")
	none(t, onB, 50*time.Millisecond)
	_, err = rs[1].Bus().SubscribeAfter(ctx, "org:a", last.Cursor, nil, 4)
	assert.ErrorIs(t, err, pubsub.ErrReplayUnavailable, "no replay store")

	key := cache.Key{Scope: "org:a", Resource: "event", ID: "e"}
	v, err := cache.Fetch(ctx, caches[0], key, func(context.Context) (string, error) { return "local", nil }, nil)
	require.NoError(t, err)
	assert.Equal(t, "local", v, "the cache answers from Livestorm and its local tier")
	caches[0].Invalidate("org:a", "event:e") // remembered for the other replicas

	srv.Restart()
	require.Eventually(t, func() bool { return rs[0].Up() && rs[1].Up() }, 5*time.Second, 10*time.Millisecond)
	deadline := time.Now().Add(5 * time.Second)
	for {
		require.NoError(t, rs[0].Bus().Publish(ctx, pubsub.Message{Scope: "org:a", Name: "after"}))
		recv(t, onA)
		select {
		case m := <-onB.C:
			assert.Equal(t, "after", m.Name)
			return
		case <-time.After(100 * time.Millisecond):
		}
		require.True(t, time.Now().Before(deadline), "cross-replica delivery did not resume within 5s")
	}
}
