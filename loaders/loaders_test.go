package loaders_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/livestorm-gateway/gateway/cache"
	"github.com/livestorm-gateway/gateway/livestorm"
	"github.com/livestorm-gateway/gateway/livestormsim"
	"github.com/livestorm-gateway/gateway/loaders"
	"github.com/livestorm-gateway/gateway/tags"
	"github.com/livestorm-gateway/gateway/tenant"
)

// inProcess serves requests with a handler in the caller's goroutine: no network, so a
// synctest bubble sees every wait the loaders make.
type inProcess struct{ h http.Handler }

func (t inProcess) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r)
	return rec.Result(), nil
}

// fixture is a simulator, a client of it and the shared cache, built inside the bubble.
type fixture struct {
	sim    *livestormsim.Simulator
	deps   loaders.Deps
	cred   livestorm.Credential
	ctx    context.Context // carries the verified tenant, as the transports' do
	events []livestormsim.EventInfo
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	sim, err := livestormsim.New(livestormsim.Config{
		Seed: 7, Size: livestormsim.SizeTiny, IntervalLimit: -1,
		Clock: livestormsim.NewManualClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)),
	})
	require.NoError(t, err)
	t.Cleanup(sim.Close)
	client := livestorm.New(livestorm.WithBaseURL("http://livestorm.test/v1"),
		livestorm.WithHTTPClient(&http.Client{Transport: inProcess{sim.Handler()}}),
		livestorm.WithLimiter(livestorm.NewLocalLimiter(10_000, time.Second)))
	org := sim.Organizations()[0]
	cred := livestorm.APIToken(org.Token)
	tenants := tenant.NewResolver(client, tenant.Options{})
	tn, err := tenants.Resolve(t.Context(), cred)
	require.NoError(t, err)
	f := &fixture{
		sim:    sim,
		deps:   loaders.Deps{Client: client, Cache: cache.New(cache.Options{TTL: time.Hour}), Tenants: tenants},
		cred:   cred,
		ctx:    tenant.NewContext(t.Context(), tn),
		events: sim.Events(org.ID),
	}
	sim.ResetRequests()
	return f
}

func TestWarmKeysDoNotWaitForTheBatchingWindow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t)
		a, b := f.events[0].ID, f.events[1].ID

		// A cold operation: the key waits for the window, then is fetched.
		cold := loaders.New(f.deps, f.cred)
		start := time.Now()
		_, err := cold.EventByID.Load(f.ctx, a)
		require.NoError(t, err)
		assert.GreaterOrEqual(t, time.Since(start), loaders.Wait, "a miss waits for the batch")
		assert.Equal(t, 1, f.sim.RequestCount())

		// The next operation finds it fresh in the shared cache: answered at once.
		f.sim.ResetRequests()
		warm := loaders.New(f.deps, f.cred)
		start = time.Now()
		ev, err := warm.EventByID.Load(f.ctx, a)
		require.NoError(t, err)
		assert.Equal(t, a, ev.ID)
		assert.Zero(t, time.Since(start), "a warm key joins no batching window")
		assert.Zero(t, f.sim.RequestCount())

		// Its embedded sessions were primed, as a fetched event primes them.
		start = time.Now()
		s, err := warm.SessionByID.Load(f.ctx, f.events[0].SessionIDs[0])
		require.NoError(t, err)
		assert.Equal(t, a, s.EventID)
		assert.Zero(t, time.Since(start))

		// LoadAll: the warm key at once, the cold one batched; one call in all.
		start = time.Now()
		evs, err := warm.EventByID.LoadAll(f.ctx, []string{a, b})
		require.NoError(t, err)
		assert.Equal(t, []string{a, b}, []string{evs[0].ID, evs[1].ID})
		assert.Equal(t, loaders.Wait, time.Since(start), "only the miss waited, once")
		assert.Equal(t, 1, f.sim.RequestCount())
	})
}

func TestAnOperationKeepsItsFirstAnswer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t)
		id := f.events[0].ID
		op := loaders.New(f.deps, f.cred)
		first, err := op.EventByID.Load(f.ctx, id)
		require.NoError(t, err)

		// Another operation's write changes the shared cache: this operation still sees
		// what it read first (per-operation dedupe), and fetches nothing.
		changed := *first
		changed.Title = "renamed elsewhere"
		f.deps.Cache.Set(cache.Key{Scope: tenantScope(t, f), Resource: "event", ID: id}, &changed)
		f.sim.ResetRequests()
		again, err := op.EventByID.Load(f.ctx, id)
		require.NoError(t, err)
		assert.Same(t, first, again)

		// A key primed by the operation wins over the shared cache too.
		primed := &livestorm.Event{ID: f.events[1].ID, Title: "primed"}
		require.True(t, op.EventByID.Prime(primed.ID, primed))
		got, err := op.EventByID.Load(f.ctx, primed.ID)
		require.NoError(t, err)
		assert.Same(t, primed, got)

		// After Clear the shared cache answers again, at once.
		op.EventByID.Clear(id)
		start := time.Now()
		again, err = op.EventByID.Load(f.ctx, id)
		require.NoError(t, err)
		assert.Equal(t, "renamed elsewhere", again.Title)
		assert.Zero(t, time.Since(start))
		assert.Zero(t, f.sim.RequestCount())
	})
}

func TestListsPrimeTheByIDLoaders(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t)
		sessionID := f.events[0].SessionIDs[0]
		op := loaders.New(f.deps, f.cred)
		page, err := op.SessionPeoplePage.Load(f.ctx, loaders.PageKey[loaders.SessionPeopleFilter]{Parent: sessionID})
		require.NoError(t, err)
		require.NotEmpty(t, page.Items)
		f.sim.ResetRequests()

		// A row of the page, read by id in the same operation: no call, no wait, the
		// very row of the page.
		row := &page.Items[len(page.Items)-1]
		start := time.Now()
		got, err := op.RegistrationByID.Load(f.ctx, loaders.RegistrationKey{SessionID: sessionID, PersonID: row.ID})
		require.NoError(t, err)
		assert.Same(t, row, got)
		assert.Zero(t, time.Since(start))

		// The event's sessions came with the events page.
		evs, err := op.EventsPage.Load(f.ctx, loaders.PageKey[loaders.EventsFilter]{})
		require.NoError(t, err)
		s, err := op.SessionByID.Load(f.ctx, evs.Items[1].Sessions[0].ID)
		require.NoError(t, err)
		assert.Same(t, &evs.Items[1].Sessions[0], s)
		assert.Equal(t, 1, f.sim.RequestCount(), "only the events page")

		// A registration read through another operation is not primed there.
		other := loaders.New(f.deps, f.cred)
		_, err = other.RegistrationByID.Load(f.ctx, loaders.RegistrationKey{SessionID: sessionID, PersonID: row.ID})
		require.NoError(t, err)
		assert.Equal(t, 2, f.sim.RequestCount())
	})
}

func TestConcurrentMissesShareOneBatch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t)
		op := loaders.New(f.deps, f.cred)
		start := time.Now()
		done := make(chan error, 4)
		for _, id := range []string{f.events[0].ID, f.events[1].ID, f.events[0].ID, f.events[1].ID} {
			go func() {
				_, err := op.EventByID.Load(f.ctx, id)
				done <- err
			}()
		}
		for range 4 {
			require.NoError(t, <-done)
		}
		assert.Equal(t, loaders.Wait, time.Since(start), "one window for every miss")
		assert.Equal(t, 2, f.sim.RequestCount(), "each key fetched once")
	})
}

func TestReadsCollectTagsOfHitsAndMisses(t *testing.T) {
	// A response built from a warm event (answered by the loaders' fast path) and a cold
	// page of a session's people (fetched) is kept under both entries' tags:
	// invalidating either evicts it.
	for _, which := range []string{"the warm event", "the fetched page"} {
		t.Run(which, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := newFixture(t)
				f.deps.Cache = cache.New(cache.Options{TTL: time.Hour, ResponseBytes: 1 << 20})
				c, scope := f.deps.Cache, tenantScope(t, f)
				eventID, sessionID := f.events[0].ID, f.events[1].SessionIDs[0]
				tag := map[string]string{"the warm event": tags.Event(eventID), "the fetched page": tags.SessionPeople(sessionID)}[which]

				_, err := loaders.New(f.deps, f.cred).EventByID.Load(f.ctx, eventID)
				require.NoError(t, err)

				reads := c.NewReads(scope)
				op := loaders.New(f.deps, f.cred)
				op.CollectReads(reads)
				start := time.Now()
				_, err = op.EventByID.Load(f.ctx, eventID)
				require.NoError(t, err)
				require.Zero(t, time.Since(start), "warm")
				_, err = op.SessionPeoplePage.Load(f.ctx, loaders.PageKey[loaders.SessionPeopleFilter]{Parent: sessionID})
				require.NoError(t, err)

				key := cache.ResponseKey{Scope: scope, Document: "{ page }"}
				require.Equal(t, cache.Stored, c.StoreResponse(key, &cache.Response{Body: []byte(`{"data":{}}`)}, reads))
				_, ok := c.LookupResponse(key)
				require.True(t, ok)
				c.Invalidate(scope, tags.Session("unrelated"))
				_, ok = c.LookupResponse(key)
				require.True(t, ok, "an unrelated invalidation keeps it")
				c.Invalidate(scope, tag)
				_, ok = c.LookupResponse(key)
				assert.False(t, ok, "evicted with %s", tag)
			})
		})
	}
}

func tenantScope(t *testing.T, f *fixture) string {
	t.Helper()
	tn, ok := tenant.FromContext(f.ctx)
	require.True(t, ok)
	return tn.Scope
}
