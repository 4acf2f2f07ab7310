package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/livestorm-gateway/gateway/auth"
	"github.com/livestorm-gateway/gateway/livestorm"
	"github.com/livestorm-gateway/gateway/livestormsim"
	"github.com/livestorm-gateway/gateway/tenant"
)

// rawAnswer is an HTTP answer as sent: status, headers, exact bytes.
type rawAnswer struct {
	status int
	header http.Header
	body   []byte
}

func (a rawAnswer) etag() string { return a.header.Get("ETag") }

func (a rawAnswer) decode(t testing.TB) gqlResponse {
	t.Helper()
	var r gqlResponse
	require.NoError(t, json.Unmarshal(a.body, &r), "body: %s", a.body)
	return r
}

// send POSTs one operation (or, with a []map body, a batch) to base and returns the
// answer as sent; header pairs are added.
func post1(t testing.TB, base string, body any, header ...string) rawAnswer {
	t.Helper()
	b, err := json.Marshal(body)
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, base+"/graphql", bytes.NewReader(b))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	return roundTrip(t, req, header...)
}

func sendGET(t testing.TB, base, query string, vars map[string]any, header ...string) rawAnswer {
	t.Helper()
	v, err := json.Marshal(vars)
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodGet, base+"/graphql?"+url.Values{"query": {query}, "variables": {string(v)}}.Encode(), nil)
	require.NoError(t, err)
	return roundTrip(t, req, header...)
}

func roundTrip(t testing.TB, req *http.Request, header ...string) rawAnswer {
	t.Helper()
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return rawAnswer{status: res.StatusCode, header: res.Header, body: b}
}

func op(query string, vars map[string]any) map[string]any {
	return map[string]any{"query": query, "variables": vars}
}

// responseCacheCounts reads gateway_response_cache_requests_total.
type responseCacheCounts struct{ hit, miss, skip int }

// since is what was counted after before.
func (c responseCacheCounts) since(before responseCacheCounts) responseCacheCounts {
	return responseCacheCounts{hit: c.hit - before.hit, miss: c.miss - before.miss, skip: c.skip - before.skip}
}

func (h *harness) responseCache() responseCacheCounts {
	c := h.deps.Metrics.ResponseCacheRequests
	return responseCacheCounts{
		hit:  counterOf(c.WithLabelValues("hit")),
		miss: counterOf(c.WithLabelValues("miss")),
		skip: counterOf(c.WithLabelValues("skip")),
	}
}

func (h *harness) stores(result string) int {
	return counterOf(h.deps.Metrics.ResponseCacheStores.WithLabelValues(result))
}

func counterOf(c prometheus.Counter) int {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		return -1
	}
	return int(m.GetCounter().GetValue())
}

const eventTitle = `query Title($id: ID!) { event(id: $id) { id title } }`

func TestResponseCacheAnswersRepeatsWithTheSameBytes(t *testing.T) {
	h := newHarness(t)
	h.warmTenant(t)
	c0 := h.responseCache()
	page := op(benchEventPage, benchVars)

	first := post1(t, h.gw.URL, page)
	require.Equal(t, 200, first.status)
	require.Empty(t, first.decode(t).Errors)
	require.NotEmpty(t, first.etag())
	assert.Equal(t, "private, no-cache", first.header.Get("Cache-Control"))
	assert.Equal(t, responseCacheCounts{miss: 1}, h.responseCache().since(c0))

	h.resetCalls()
	second := post1(t, h.gw.URL, page)
	assert.Equal(t, 200, second.status)
	assert.Equal(t, string(first.body), string(second.body), "the same bytes")
	assert.Equal(t, first.etag(), second.etag())
	assert.Equal(t, "private, no-cache", second.header.Get("Cache-Control"))
	assert.Zero(t, h.upstreamCalls())
	assert.Equal(t, responseCacheCounts{hit: 1, miss: 1}, h.responseCache().since(c0))

	t.Run("GET shares the entry", func(t *testing.T) {
		got := sendGET(t, h.gw.URL, benchEventPage, map[string]any{"regs": 10, "first": 5}) // keys in another order
		assert.Equal(t, string(first.body), string(got.body))
		assert.Equal(t, first.etag(), got.etag())
	})

	t.Run("If-None-Match", func(t *testing.T) {
		for _, inm := range []string{first.etag(), "W/" + first.etag(), `"other", ` + first.etag(), "*"} {
			got := post1(t, h.gw.URL, page, "If-None-Match", inm)
			assert.Equal(t, http.StatusNotModified, got.status, inm)
			assert.Empty(t, got.body, "a 304 has no body")
			assert.Equal(t, first.etag(), got.etag())
			assert.Equal(t, "private, no-cache", got.header.Get("Cache-Control"))
		}
		got := sendGET(t, h.gw.URL, benchEventPage, benchVars, "If-None-Match", first.etag())
		assert.Equal(t, http.StatusNotModified, got.status)
		got = post1(t, h.gw.URL, page, "If-None-Match", `"something else"`)
		assert.Equal(t, 200, got.status)
		assert.Equal(t, string(first.body), string(got.body))
		assert.Zero(t, h.upstreamCalls(), "no 304 or hit reached Livestorm")
	})

	t.Run("both media types", func(t *testing.T) {
		got := post1(t, h.gw.URL, page, "Accept", "application/graphql-response+json")
		assert.Equal(t, "application/graphql-response+json", got.header.Get("Content-Type"))
		assert.Equal(t, string(first.body), string(got.body))
	})
}

// TestWebhookEvictsExactlyTheResponsesThatReadIt: a registration on Livestorm's side
// reaches the gateway as a signed people.registered webhook, which evicts the responses
// that read the session (and nothing else): they are executed anew, reading exactly
// the evicted entries; the others stay hits.
func TestWebhookEvictsExactlyTheResponsesThatReadIt(t *testing.T) {
	h := newHarness(t, withWebhooks())
	h.warmTenant(t)
	c0 := h.responseCache()
	changed, other, otherEvent := twoUpcomingSessions(t, h)
	const sessionQ = `query S($id: ID!) { session(id: $id) { id registrantsCount registrations(first: 50) { totalCount nodes { person { email } } } } }`
	queries := map[string]map[string]any{
		"the changed session":   op(sessionQ, map[string]any{"id": changed}),
		"another event session": op(sessionQ, map[string]any{"id": other}),
		"another event":         op(eventTitle, map[string]any{"id": otherEvent}),
	}
	before := map[string]rawAnswer{}
	for name, q := range queries {
		post1(t, h.gw.URL, q)
		before[name] = post1(t, h.gw.URL, q)
	}
	counts := h.responseCache().since(c0)
	require.Equal(t, len(queries), counts.hit, "all cached")

	_, err := h.sim.RegisterPerson(changed, "late.comer@example.com", "Late", "Comer")
	require.NoError(t, err)

	// The webhook is processed asynchronously: until then the changed session is still
	// answered from the cache (no upstream call); then it is executed anew.
	h.resetCalls()
	deadline := time.Now().Add(5 * time.Second)
	var now rawAnswer
	for {
		now = post1(t, h.gw.URL, queries["the changed session"])
		if string(now.body) != string(before["the changed session"].body) || time.Now().After(deadline) {
			break
		}
		require.Zero(t, h.upstreamCalls(), "answered from the cache until the webhook lands")
	}
	require.NotEqual(t, string(before["the changed session"].body), string(now.body), "the webhook evicted the response")
	assert.Contains(t, string(now.body), "late.comer@example.com")
	assert.NotEqual(t, before["the changed session"].etag(), now.etag())
	assert.Equal(t, 2, h.upstreamCalls(), "re-executed reading only what changed: the session and its people page")

	h.resetCalls()
	hits := h.responseCache().since(c0).hit
	for _, name := range []string{"another event session", "another event"} {
		got := post1(t, h.gw.URL, queries[name])
		assert.Equal(t, string(before[name].body), string(got.body), name)
	}
	again := post1(t, h.gw.URL, queries["the changed session"])
	assert.Equal(t, string(now.body), string(again.body))
	assert.Equal(t, hits+3, h.responseCache().since(c0).hit, "the others stayed, the new one is kept")
	assert.Zero(t, h.upstreamCalls())
}

// twoUpcomingSessions returns the Livestorm ids of two sessions open to registration in
// different events, and the second one's event.
func twoUpcomingSessions(t *testing.T, h *harness) (a, b, eventB string) {
	t.Helper()
	var got struct {
		Sessions struct {
			Nodes []struct {
				LivestormID string
				Event       struct{ LivestormID string }
			}
		}
	}
	h.query(t, `{ sessions(first: 50, filter: {status: UPCOMING}) { nodes { livestormId event { livestormId } } } }`, nil).decode(t, &got)
	nodes := got.Sessions.Nodes
	require.NotEmpty(t, nodes)
	for _, n := range nodes[1:] {
		if n.Event.LivestormID != nodes[0].Event.LivestormID {
			return nodes[0].LivestormID, n.LivestormID, n.Event.LivestormID
		}
	}
	t.Fatal("the seed has no upcoming sessions in two events")
	return
}

func TestMutationEvictsExactlyTheResponsesThatReadIt(t *testing.T) {
	h := newHarness(t)
	h.warmTenant(t)
	c0 := h.responseCache()
	evs := h.sim.Events(h.orgs[0].ID)
	renamed := op(eventTitle, map[string]any{"id": evs[0].ID})
	untouched := op(eventTitle, map[string]any{"id": evs[1].ID})
	for _, q := range []map[string]any{renamed, untouched} {
		post1(t, h.gw.URL, q)
	}
	before := post1(t, h.gw.URL, untouched)
	counts := h.responseCache().since(c0)

	r := h.query(t, `mutation($in: UpdateEventInput!) { updateEvent(input: $in) { event { title } } }`,
		map[string]any{"in": map[string]any{"id": evs[0].ID, "title": "Renamed by a mutation"}})
	require.Empty(t, r.Errors)
	assert.Equal(t, counts.skip+1, h.responseCache().since(c0).skip, "a mutation is never cached")

	got := post1(t, h.gw.URL, renamed)
	assert.Contains(t, string(got.body), "Renamed by a mutation", "evicted by the mutation")
	assert.Equal(t, string(before.body), string(post1(t, h.gw.URL, untouched).body))
	after := h.responseCache().since(c0)
	assert.Equal(t, counts.miss+1, after.miss, "only the renamed event was executed again")
	assert.Equal(t, counts.hit+1, after.hit)
}

func TestResponsesThatMustNotBeKept(t *testing.T) {
	t.Run("an answer with errors", func(t *testing.T) {
		h := newHarness(t)
		h.warmTenant(t)
		c0 := h.responseCache()
		q := op(eventTitle, map[string]any{"id": missingID})
		for range 2 {
			h.resetCalls()
			got := post1(t, h.gw.URL, q)
			require.Len(t, got.decode(t).Errors, 1)
			assert.Empty(t, got.etag(), "no ETag on an answer with errors")
			assert.Empty(t, got.header.Get("Cache-Control"))
			assert.Equal(t, 1, h.upstreamCalls(), "executed every time")
		}
		assert.Zero(t, h.responseCache().since(c0).hit)
	})

	t.Run("live rate-limit counters", func(t *testing.T) {
		h := newHarness(t)
		h.warmTenant(t)
		c0 := h.responseCache()
		q := op(`{ rateLimit { monthlyLimit monthlyRemaining } }`, nil)
		post1(t, h.gw.URL, q)
		post1(t, h.gw.URL, q)
		assert.Zero(t, h.responseCache().since(c0).hit)
		assert.Equal(t, 2, h.stores("rate_limit"))
	})

	t.Run("stale data", func(t *testing.T) {
		h := newHarness(t, withCacheTTL(time.Nanosecond), fastRetries,
			withSim(func(c *livestormsim.Config) { c.MonthlyQuota = 21 }))
		q := op(`{ events(first: 2) { totalCount } }`, nil)
		post1(t, h.gw.URL, q) // verifies the credential: quota now under its floor
		for range 2 {
			got := post1(t, h.gw.URL, q).decode(t)
			require.NotNil(t, got.Extensions["stale"])
		}
		assert.Zero(t, h.responseCache().hit)
		assert.Equal(t, 2, h.stores("stale"))
	})

	t.Run("an invalidation of the workspace raced the execution", func(t *testing.T) {
		g := &gate{next: http.DefaultTransport}
		h := newHarness(t, withClient(livestorm.WithHTTPClient(&http.Client{Transport: g, Timeout: 10 * time.Second})))
		h.warmTenant(t)
		c0 := h.responseCache()
		ev := h.sim.Events(h.orgs[0].ID)[0]
		q := op(eventTitle, map[string]any{"id": ev.ID})

		g.arm("/events/" + ev.ID)
		body, err := json.Marshal(q)
		require.NoError(t, err)
		done := make(chan error, 1)
		go func() { // the query, held upstream by the gate
			res, err := http.Post(h.gw.URL+"/graphql", "application/json", bytes.NewReader(body))
			if err == nil {
				_, err = io.Copy(io.Discard, res.Body)
				res.Body.Close()
			}
			done <- err
		}()
		<-g.entered // the event's fetch is in flight
		h.deps.Cache.Invalidate(tenant.ScopeForOrg(h.orgs[0].ID), "session:unrelated")
		g.release()
		require.NoError(t, <-done)
		assert.Equal(t, 1, h.stores("raced"))

		h.resetCalls()
		post1(t, h.gw.URL, q)
		assert.Zero(t, h.responseCache().since(c0).hit, "the raced answer was not kept")
		assert.Equal(t, 1, h.upstreamCalls(), "nor its data")
		post1(t, h.gw.URL, q)
		assert.Equal(t, 1, h.responseCache().since(c0).hit, "the next one was")
	})

	t.Run("the first query of an unverified credential", func(t *testing.T) {
		h := newHarness(t)
		q := op(eventTitle, map[string]any{"id": h.sim.Events(h.orgs[0].ID)[0].ID})
		got := post1(t, h.gw.URL, q)
		assert.Empty(t, got.etag(), "the lookup spends no call to verify it: the query runs without the cache")
		assert.Equal(t, responseCacheCounts{skip: 1}, h.responseCache())
		post1(t, h.gw.URL, q)
		post1(t, h.gw.URL, q)
		assert.Equal(t, responseCacheCounts{hit: 1, miss: 1, skip: 1}, h.responseCache())
	})
}

func TestResponsesAreNeverShared(t *testing.T) {
	t.Run("variables", func(t *testing.T) {
		h := newHarness(t)
		h.warmTenant(t)
		c0 := h.responseCache()
		evs := h.sim.Events(h.orgs[0].ID)
		a := post1(t, h.gw.URL, op(eventTitle, map[string]any{"id": evs[0].ID}))
		b := post1(t, h.gw.URL, op(eventTitle, map[string]any{"id": evs[1].ID}))
		assert.NotEqual(t, string(a.body), string(b.body))
		assert.Equal(t, responseCacheCounts{miss: 2}, h.responseCache().since(c0))
	})

	t.Run("roles", func(t *testing.T) {
		h := newHarness(t)
		h.warmTenant(t)
		c0 := h.responseCache()
		base := authServer(t, h, auth.Config{JWTSecret: testJWTSecret}, nil, nil, "")
		q := op(eventTitle, map[string]any{"id": h.sim.Events(h.orgs[0].ID)[0].ID})
		viewer := "Bearer " + testToken(t, jwt.MapClaims{"role": "viewer"})
		editor := "Bearer " + testToken(t, jwt.MapClaims{"sub": "grace", "role": "editor"})
		otherViewer := "Bearer " + testToken(t, jwt.MapClaims{"sub": "linus", "role": "viewer"})
		post1(t, base, q, "Authorization", viewer)
		post1(t, base, q, "Authorization", viewer)
		assert.Equal(t, responseCacheCounts{hit: 1, miss: 1}, h.responseCache().since(c0))
		post1(t, base, q, "Authorization", editor)
		assert.Equal(t, responseCacheCounts{hit: 1, miss: 2}, h.responseCache().since(c0), "another role does not share it")
		post1(t, base, q, "Authorization", otherViewer)
		assert.Equal(t, responseCacheCounts{hit: 2, miss: 2}, h.responseCache().since(c0), "another caller of the same role does")
	})

	t.Run("workspaces", func(t *testing.T) {
		h := newHarness(t, withForwardAuth())
		q := op(`{ events(first: 2) { nodes { id title } } }`, nil)
		var bodies []string
		for _, org := range h.orgs[:2] {
			post1(t, h.gw.URL, q, "Authorization", org.Token) // verifies the credential
			bodies = append(bodies, string(post1(t, h.gw.URL, q, "Authorization", org.Token).body))
			post1(t, h.gw.URL, q, "Authorization", org.Token)
		}
		assert.NotEqual(t, bodies[0], bodies[1])
		assert.Equal(t, responseCacheCounts{hit: 2, miss: 2, skip: 2}, h.responseCache())
	})
}

func TestBatchElementsUseTheResponseCache(t *testing.T) {
	h := newHarness(t)
	h.warmTenant(t)
	c0 := h.responseCache()
	evs := h.sim.Events(h.orgs[0].ID)
	a, b := op(eventTitle, map[string]any{"id": evs[0].ID}), op(eventTitle, map[string]any{"id": evs[1].ID})
	alone := post1(t, h.gw.URL, a)

	got := post1(t, h.gw.URL, []map[string]any{a, b, b})
	require.Equal(t, 200, got.status)
	assert.Empty(t, got.etag(), "a batch has no ETag")
	var results []json.RawMessage
	require.NoError(t, json.Unmarshal(got.body, &results))
	require.Len(t, results, 3)
	assert.JSONEq(t, string(alone.body), string(results[0]))
	assert.JSONEq(t, string(results[1]), string(results[2]))
	// a: hit (stored alone); b: miss, then hit (stored by the element before it).
	assert.Equal(t, responseCacheCounts{hit: 2, miss: 2}, h.responseCache().since(c0))

	single := post1(t, h.gw.URL, b)
	assert.JSONEq(t, string(results[1]), string(single.body), "kept from the batch")
	assert.Equal(t, 3, h.responseCache().since(c0).hit)
}

func TestResponseCacheOff(t *testing.T) {
	h := newHarness(t, withoutResponseCache())
	h.warmTenant(t)
	c0 := h.responseCache()
	q := op(eventTitle, map[string]any{"id": h.sim.Events(h.orgs[0].ID)[0].ID})
	first := post1(t, h.gw.URL, q)
	assert.Empty(t, first.etag())
	assert.Empty(t, first.header.Get("Cache-Control"))
	got := post1(t, h.gw.URL, q, "If-None-Match", "*")
	assert.Equal(t, 200, got.status, "no 304 without the response cache")
	assert.Equal(t, string(first.body), string(got.body))
	assert.Equal(t, responseCacheCounts{}, h.responseCache().since(c0))
}

func TestResponseCacheConfig(t *testing.T) {
	env := func(kv ...string) func(string) string {
		m := map[string]string{"LIVESTORM_API_TOKEN": "x"}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	c, err := LoadConfig(env())
	require.NoError(t, err)
	assert.True(t, c.ResponseCache)
	assert.Equal(t, int64(64<<20), c.ResponseCacheSize)
	assert.Equal(t, "private, no-cache", c.ResponseCacheControl)

	c, err = LoadConfig(env("RESPONSE_CACHE", "false", "RESPONSE_CACHE_SIZE", "8", "RESPONSE_CACHE_CONTROL", "private, max-age=5"))
	require.NoError(t, err)
	assert.False(t, c.ResponseCache)
	assert.Equal(t, int64(8<<20), c.ResponseCacheSize)
	assert.Equal(t, "private, max-age=5", c.ResponseCacheControl)
	assert.Zero(t, responseCacheBytes(c))

	for _, bad := range [][]string{{"RESPONSE_CACHE", "maybe"}, {"RESPONSE_CACHE_SIZE", "0"}, {"RESPONSE_CACHE_SIZE", "lots"}} {
		_, err := LoadConfig(env(bad...))
		require.Error(t, err, bad)
		assert.Contains(t, err.Error(), bad[0])
	}
}

// gate holds upstream requests for one path until released, so a test can act while a
// fetch is in flight.
type gate struct {
	next     http.RoundTripper
	mu       sync.Mutex
	path     string
	entered  chan struct{}
	released chan struct{}
}

func (g *gate) arm(path string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.path, g.entered, g.released = path, make(chan struct{}), make(chan struct{})
}

func (g *gate) release() { close(g.released) }

func (g *gate) RoundTrip(r *http.Request) (*http.Response, error) {
	g.mu.Lock()
	hold := g.path != "" && bytes.HasSuffix([]byte(r.URL.Path), []byte(g.path))
	var entered, released chan struct{}
	if hold {
		entered, released, g.path = g.entered, g.released, ""
	}
	g.mu.Unlock()
	if hold {
		close(entered)
		select {
		case <-released:
		case <-r.Context().Done():
			return nil, r.Context().Err()
		}
	}
	return g.next.RoundTrip(r)
}
