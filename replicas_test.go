package main

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/livestorm-gateway/gateway/auth"
	"github.com/livestorm-gateway/gateway/cluster"
	"github.com/livestorm-gateway/gateway/cluster/clustertest"
	"github.com/livestorm-gateway/gateway/livestorm"
	"github.com/livestorm-gateway/gateway/livestormsim"
)

// replicaSet is several gateways sharing one simulator and one real Redis, each built
// as run builds a replica with REDIS_URL: the deployment of deploy/, in one process.
type replicaSet struct {
	sim      *livestormsim.Simulator
	redis    *clustertest.Server
	gws      []*harness
	clusters []*cluster.Cluster
	orgs     []livestormsim.Organization
}

type replicaConfig struct {
	n         int
	simConfig func(*livestormsim.Config)
	// sharedLimiter keeps the replicas' Livestorm pacing (5/s per workspace across all of
	// them, in Redis); without it each replica paces at 10,000/s so that tests measure
	// calls, not pacing.
	sharedLimiter bool
	// webhooks registers replica 1's receiver with the simulator, as a load balancer
	// would route Livestorm's deliveries to one replica.
	webhooks bool
}

func newReplicas(t *testing.T, rc replicaConfig) *replicaSet {
	t.Helper()
	redis := clustertest.Start(t)
	simCfg := livestormsim.Config{
		Seed: 7, Size: livestormsim.SizeSmall, Clock: livestormsim.NewManualClock(testClock),
		IntervalLimit: -1, WebhookSecret: "test-secret", WebhookTimeScale: 0.0001,
	}
	if rc.simConfig != nil {
		rc.simConfig(&simCfg)
	}
	sim, err := livestormsim.New(simCfg)
	require.NoError(t, err)
	simSrv := httptest.NewServer(sim.Handler())
	t.Cleanup(func() { simSrv.Close(); sim.Close() })
	rs := &replicaSet{sim: sim, redis: redis, orgs: sim.Organizations()}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	for i := range rc.n {
		cl, err := cluster.Connect(t.Context(), cluster.Options{
			URL: redis.URL, ReplicaID: fmt.Sprintf("replica-%d", i+1), Heartbeat: 100 * time.Millisecond, Logger: logger,
		})
		require.NoError(t, err)
		t.Cleanup(func() { _ = cl.Close() }) // last: after the gateway and its bus
		cfg := Config{
			APIURL: simSrv.URL + "/v1", APIToken: rs.orgs[0].Token, CacheTTL: 5 * time.Minute,
			MaxComplexity: 200_000, MaxDepth: 12, WebhookSecret: "test-secret", RedisURL: redis.URL,
			SubscriptionReplay: time.Hour, SubscriptionReplayMax: 10_000, MaxBatch: 10, Introspection: true,
			// As the harness: anonymous callers are admin and the per-caller limits off, so
			// these tests measure the Redis tier only.
			Auth: auth.Config{AnonymousRole: "admin"}, Limits: noLimits(),
		}
		var opts []livestorm.Option
		if !rc.sharedLimiter {
			opts = append(opts, livestorm.WithLimiter(livestorm.NewLocalLimiter(10_000, time.Second)))
		}
		deps := newDepsWith(cfg, logger, cl, opts...)
		gw := httptest.NewServer(NewServer(deps))
		t.Cleanup(func() { gw.Close(); deps.Client.CloseIdleConnections() })
		t.Cleanup(deps.push.Close)
		rs.gws = append(rs.gws, &harness{sim: sim, gw: gw, deps: deps, orgs: rs.orgs})
		rs.clusters = append(rs.clusters, cl)
	}
	for _, cl := range rs.clusters {
		require.Eventually(t, func() bool { return cl.Replicas() == rc.n }, 5*time.Second, 10*time.Millisecond,
			"every replica hears of the others")
	}
	if rc.webhooks {
		rs.gws[0].registerWebhooks(t)
	}
	return rs
}

// ready probes /readyz on every replica, as a load balancer does before routing to it:
// each replica verifies the server token (one /ping each, then remembered 15 minutes).
func (rs *replicaSet) ready(t *testing.T) {
	t.Helper()
	for _, h := range rs.gws {
		res, body := get(t, h.gw.URL+"/readyz")
		require.Equal(t, http.StatusOK, res.StatusCode, body)
	}
}

type emailPayload struct {
	RegistrationCreated struct {
		Cursor  string
		Person  struct{ Email string }
		Session struct{ RegistrantsCount int }
	}
}

// nextEmail waits for the next registration on stream id of c.
func nextEmail(t *testing.T, c subscriber, id string) emailPayload {
	t.Helper()
	var p emailPayload
	nextEvent(t, c, id, 5*time.Second).result(t).decode(t, &p)
	return p
}

const emailSubscription = `subscription($s: ID, $after: String) { registrationCreated(sessionId: $s, after: $after) {
	cursor person { email } session { registrantsCount } } }`

func TestReplicasDeliverEveryWebhookToEverySubscriberOnce(t *testing.T) {
	rs := newReplicas(t, replicaConfig{n: 3, webhooks: true})
	org := rs.orgs[0]
	sess := rs.gws[1].openSession(t) // its registrant count is cached (shared)
	rs.gws[2].openSession(t)
	var clients []subscriber
	for _, h := range rs.gws[1:] { // replicas 2 and 3; Livestorm delivers to replica 1
		c := openSubscriber(t, protoTransportWS, h.gw.URL, "")
		defer c.close()
		c.subscribe(t, "reg", emailSubscription, map[string]any{"s": sess.ID})
		h.waitSubscribers(t, org.ID, 1)
		clients = append(clients, c)
	}

	start := time.Now()
	_, err := rs.sim.RegisterPerson(sess.LivestormID, "across@example.com", "Ada", "Lovelace")
	require.NoError(t, err)
	var cursors []string
	for i, c := range clients {
		p := nextEmail(t, c, "reg").RegistrationCreated
		assert.Equal(t, "across@example.com", p.Person.Email, "replica %d", i+2)
		assert.Equal(t, sess.RegistrantsCount+1, p.Session.RegistrantsCount,
			"replica %d read the new count: the invalidation reached it before the notification", i+2)
		cursors = append(cursors, p.Cursor)
	}
	t.Logf("registration in the simulator -> webhook to replica 1 -> event on replicas 2 and 3: %s", time.Since(start).Round(100*time.Microsecond))
	assert.Equal(t, cursors[0], cursors[1], "one stream, one cursor")

	// Exactly once: the next event each client receives is the next registration.
	_, err = rs.sim.RegisterPerson(sess.LivestormID, "marker@example.com", "Grace", "Hopper")
	require.NoError(t, err)
	for _, c := range clients {
		assert.Equal(t, "marker@example.com", nextEmail(t, c, "reg").RegistrationCreated.Person.Email)
	}
	assert.Contains(t, metricsText(t, rs.gws[0].gw.URL), `gateway_webhooks_received_total{event="people.registered",result="ok"} 2`)
	assert.NotContains(t, metricsText(t, rs.gws[1].gw.URL), `gateway_webhooks_received_total{event="people.registered"`)
}

func TestReplicasSeeAMutationThroughAnotherAtOnce(t *testing.T) {
	rs := newReplicas(t, replicaConfig{n: 3})
	var list struct {
		Events struct{ Nodes []struct{ ID, Title string } }
	}
	rs.gws[0].query(t, `{ events(first: 1) { nodes { id title } } }`, nil).decode(t, &list)
	ev := list.Events.Nodes[0]
	read := func(h *harness) string {
		var one struct{ Event struct{ Title string } }
		h.query(t, `query($id: ID!) { event(id: $id) { title } }`, map[string]any{"id": ev.ID}).decode(t, &one)
		return one.Event.Title
	}
	for _, h := range rs.gws {
		require.Equal(t, ev.Title, read(h)) // cached on every replica
	}
	r := rs.gws[1].query(t, `mutation($in: UpdateEventInput!) { updateEvent(input: $in) { event { title } } }`,
		map[string]any{"in": map[string]any{"id": ev.ID, "title": "Renamed through replica 2"}})
	require.Empty(t, r.Errors)
	rs.sim.ResetRequests()
	assert.Equal(t, "Renamed through replica 2", read(rs.gws[0]), "replica 1, right after the mutation returned")
	assert.Equal(t, "Renamed through replica 2", read(rs.gws[2]))
	assert.Zero(t, rs.sim.RequestCount(), "both were served the fresh event replica 2 read back for its payload")
}

func TestReplicasShareColdAnswers(t *testing.T) {
	rs := newReplicas(t, replicaConfig{n: 3})
	rs.ready(t)
	q := `{ events(first: 10) { totalCount nodes { title owner { email } sessions { nodes { id registrantsCount
		people(first: 20) { totalCount nodes { email } } } } } } }`
	rs.sim.ResetRequests()
	first := rs.gws[0].query(t, q, nil)
	require.Empty(t, first.Errors)
	cold := rs.sim.RequestCount()
	require.Positive(t, cold)
	third := rs.gws[2].query(t, q, nil)
	require.Empty(t, third.Errors)
	assert.JSONEq(t, string(first.Data), string(third.Data))
	assert.Equal(t, cold, rs.sim.RequestCount(), "replica 3 answered from what replica 1 fetched: no upstream call")
	assert.Contains(t, metricsText(t, rs.gws[2].gw.URL), `result="shared_hit"`)
	t.Logf("cold query: %d upstream calls on replica 1, then 0 on replica 3", cold)
}

// TestReplicasKeepWorkspaceUnderRateLimit loads three replicas with concurrent cold
// queries of one workspace against a simulator enforcing Livestorm's 5 req/s: the
// simulator's log shows at most 5 requests in any 1 s window and no 429.
func TestReplicasKeepWorkspaceUnderRateLimit(t *testing.T) {
	rs := newReplicas(t, replicaConfig{n: 3, sharedLimiter: true, simConfig: func(c *livestormsim.Config) { c.IntervalLimit = 5 }})
	rs.ready(t)
	var list struct {
		Sessions struct{ Nodes []struct{ ID string } }
	}
	rs.gws[0].query(t, `{ sessions(first: 12) { nodes { id } } }`, nil).decode(t, &list)
	require.Len(t, list.Sessions.Nodes, 12)
	rs.sim.ResetRequests()

	var wg sync.WaitGroup
	for i, s := range list.Sessions.Nodes { // 12 cold sessions and their people: 24 calls
		h := rs.gws[i%3]
		wg.Go(func() {
			r := h.query(t, `query($id: ID!) { session(id: $id) { id people(first: 20) { totalCount } } }`, map[string]any{"id": s.ID})
			assert.Equal(t, http.StatusOK, r.status)
			assert.Empty(t, r.Errors)
		})
	}
	wg.Wait()

	reqs := rs.sim.Requests()
	require.Len(t, reqs, 24)
	times := make([]time.Time, 0, len(reqs))
	for _, r := range reqs {
		assert.NotEqual(t, http.StatusTooManyRequests, r.Status, "%s %s", r.Method, r.Path)
		times = append(times, r.Time)
	}
	slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
	for i := 5; i < len(times); i++ {
		assert.GreaterOrEqual(t, times[i].Sub(times[i-5]), time.Second, "6 requests within one second, ending at request %d", i)
	}
	span := times[len(times)-1].Sub(times[0])
	t.Logf("3 replicas, 24 concurrent cold calls of one workspace: %.2f req/s seen by the simulator (%d requests in %s), 0 429s",
		float64(len(times)-1)/span.Seconds(), len(times), span.Round(time.Millisecond))
}

func TestReplicasProcessARetriedWebhookOnce(t *testing.T) {
	rs := newReplicas(t, replicaConfig{n: 3})
	org := rs.orgs[0]
	sess := rs.gws[0].openSession(t)
	c := openSubscriber(t, protoTransportWS, rs.gws[2].gw.URL, "")
	defer c.close()
	c.subscribe(t, "reg", emailSubscription, nil)
	rs.gws[2].waitSubscribers(t, org.ID, 1)

	body := registrationDelivery(org.ID, "p-retry", "retry@example.com", sess.Event.LivestormID, sess.LivestormID)
	assert.Equal(t, http.StatusAccepted, postWebhook(t, rs.gws[0].gw.URL, sign(body, time.Now().Add(-time.Minute))))
	assert.Equal(t, http.StatusOK, postWebhook(t, rs.gws[1].gw.URL, sign(body, time.Now())),
		"Livestorm's retry reached replica 2: acknowledged as a duplicate")
	marker := registrationDelivery(org.ID, "p-marker", "marker@example.com", sess.Event.LivestormID, sess.LivestormID)
	assert.Equal(t, http.StatusAccepted, postWebhook(t, rs.gws[1].gw.URL, sign(marker, time.Now())))

	assert.Equal(t, "retry@example.com", nextEmail(t, c, "reg").RegistrationCreated.Person.Email)
	assert.Equal(t, "marker@example.com", nextEmail(t, c, "reg").RegistrationCreated.Person.Email, "the retry was not delivered again")
	assert.Contains(t, metricsText(t, rs.gws[1].gw.URL), `gateway_webhooks_received_total{event="people.registered",result="duplicate"} 1`)
}

// upstreamCalls sums livestorm_upstream_requests_total of one replica for method and
// route (every status).
func upstreamCallsOf(t *testing.T, h *harness, method, route string) int {
	t.Helper()
	families, err := h.deps.Metrics.Registry.Gather()
	require.NoError(t, err)
	n := 0.0
	for _, f := range families {
		if f.GetName() != "livestorm_upstream_requests_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["method"] == method && labels["route"] == route {
				n += m.GetCounter().GetValue()
			}
		}
	}
	return int(n)
}

func TestReplicasRegisterWebhooksOnce(t *testing.T) {
	rs := newReplicas(t, replicaConfig{n: 3})
	publicURL := rs.gws[0].gw.URL // where the load balancer is
	regs := make([]interface{ Close() error }, len(rs.gws))
	for i, h := range rs.gws {
		h.deps.registrarRenew = 50 * time.Millisecond
		r := startRegistrar(h.deps.Config, h.deps, publicURL, nil)
		require.NotNil(t, r)
		regs[i] = r
		defer r.Close()
	}
	creates := func() (total int, by []int) {
		for _, h := range rs.gws {
			n := upstreamCallsOf(t, h, http.MethodPost, "/webhooks")
			by = append(by, n)
			total += n
		}
		return total, by
	}
	require.Eventually(t, func() bool { n, _ := creates(); return n == 10 }, 10*time.Second, 10*time.Millisecond)
	_, by := creates()
	leader := slices.Index(by, 10)
	require.GreaterOrEqual(t, leader, 0, "one replica created every webhook: %v", by)
	for i, h := range rs.gws {
		if i != leader {
			assert.Zero(t, upstreamCallsOf(t, h, http.MethodGet, "/webhooks"), "replica %d stood by", i+1)
		}
	}

	// The leader stops: another replica takes over and checks at once (nothing to create).
	require.NoError(t, regs[leader].Close())
	require.Eventually(t, func() bool {
		for i, h := range rs.gws {
			if i != leader && upstreamCallsOf(t, h, http.MethodGet, "/webhooks") > 0 {
				return true
			}
		}
		return false
	}, 5*time.Second, 10*time.Millisecond, "a standby took over")
	n, _ := creates()
	assert.Equal(t, 10, n, "no duplicate webhook")
}

func TestSubscriptionResume(t *testing.T) {
	cases := []struct {
		name     string
		replicas bool
	}{
		{"one process, without Redis", false},
		{"across a replica change", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var first, second *harness
			if tc.replicas {
				rs := newReplicas(t, replicaConfig{n: 2, webhooks: true})
				first, second = rs.gws[0], rs.gws[1]
			} else {
				first = newHarness(t, withWebhooks())
				second = first
			}
			org := first.orgs[0]
			sess := first.openSession(t)
			watch := second.subscribeBus(t, org.ID) // tells the test when each event was published

			c := openSubscriber(t, protoTransportWS, first.gw.URL, "")
			c.subscribe(t, "1", emailSubscription, map[string]any{"s": sess.ID})
			waitFor := 1
			if first == second {
				waitFor = 2
			}
			first.waitSubscribers(t, org.ID, waitFor)
			_, err := first.sim.RegisterPerson(sess.LivestormID, "seen@example.com", "S", "Een")
			require.NoError(t, err)
			last := nextEmail(t, c, "1").RegistrationCreated
			require.Equal(t, "seen@example.com", last.Person.Email)
			require.NotEmpty(t, last.Cursor)
			busMessage(t, watch)
			c.close() // the client goes away

			var missed []string
			for i := range 5 {
				_, err := first.sim.RegisterPerson(sess.LivestormID, fmt.Sprintf("missed%d@example.com", i), "M", "Issed")
				require.NoError(t, err)
			}
			for range 5 {
				missed = append(missed, busMessage(t, watch).Person.Email) // in the bus's order
			}

			again := openSubscriber(t, protoTransportWS, second.gw.URL, "")
			defer again.close()
			again.subscribe(t, "1", emailSubscription, map[string]any{"s": sess.ID, "after": last.Cursor})
			var got []string
			for range 5 {
				got = append(got, nextEmail(t, again, "1").RegistrationCreated.Person.Email)
			}
			assert.Equal(t, missed, got, "exactly the 5 missed, in order")
			_, err = first.sim.RegisterPerson(sess.LivestormID, "live@example.com", "L", "Ive")
			require.NoError(t, err)
			assert.Equal(t, "live@example.com", nextEmail(t, again, "1").RegistrationCreated.Person.Email, "then live ones")
		})
	}
	t.Run("cursors it cannot honour", func(t *testing.T) {
		h := newHarness(t)
		for _, tc := range []struct{ after, code string }{
			{"1-1", "REPLAY_UNAVAILABLE"},   // another process's (or older than the retention)
			{"yesterday", "BAD_USER_INPUT"}, // not a cursor at all
		} {
			c := openSubscriber(t, protoTransportWS, h.gw.URL, "")
			c.subscribe(t, "1", emailSubscription, map[string]any{"after": tc.after})
			assert.Equal(t, tc.code, subscriptionErrorCode(t, nextEvent(t, c, "1", 5*time.Second)), "after %q", tc.after)
			c.close()
		}
	})
}

// subscriptionErrorCode is the extensions.code of a subscription that failed to start.
func subscriptionErrorCode(t *testing.T, e streamEvent) string {
	t.Helper()
	switch e.kind {
	case "error":
		var errs []gqlError
		require.NoError(t, json.Unmarshal(e.payload, &errs), "%s", e.payload)
		require.NotEmpty(t, errs)
		return errs[0].code()
	case "next":
		r := e.result(t)
		require.NotEmpty(t, r.Errors)
		return r.Errors[0].code()
	}
	t.Fatalf("stream ended (%s) without an error", e.kind)
	return ""
}

// TestRedisOutage stops Redis under three serving replicas and starts it again: the
// replicas answer every query meanwhile, the one receiving webhooks keeps pushing them
// to its subscribers, /readyz and gateway_redis_up say what is happening, and once
// Redis is back cross-replica delivery resumes within 5 s, without a restart.
func TestRedisOutage(t *testing.T) {
	rs := newReplicas(t, replicaConfig{n: 3, webhooks: true})
	org := rs.orgs[0]
	sess := rs.gws[0].openSession(t)
	receiving := openSubscriber(t, protoTransportWS, rs.gws[0].gw.URL, "") // Livestorm delivers to replica 1
	defer receiving.close()
	other := openSubscriber(t, protoTransportWS, rs.gws[1].gw.URL, "")
	defer other.close()
	for i, c := range []subscriber{receiving, other} {
		c.subscribe(t, "1", emailSubscription, map[string]any{"s": sess.ID})
		rs.gws[i].waitSubscribers(t, org.ID, 1)
	}
	register := func(email string) {
		t.Helper()
		_, err := rs.sim.RegisterPerson(sess.LivestormID, email, "Out", "Age")
		require.NoError(t, err)
	}
	register("before@example.com")
	assert.Equal(t, "before@example.com", nextEmail(t, receiving, "1").RegistrationCreated.Person.Email)
	assert.Equal(t, "before@example.com", nextEmail(t, other, "1").RegistrationCreated.Person.Email)

	rs.redis.Stop()
	for _, cl := range rs.clusters {
		require.Eventually(t, func() bool { return !cl.Up() }, 5*time.Second, 10*time.Millisecond)
	}
	for i, h := range rs.gws {
		for _, q := range []string{
			`query($id: ID!) { session(id: $id) { registrantsCount } }`,                // cached
			`{ events(first: 3, filter: {title: "a"}) { nodes { title } } }`,           // cold: Livestorm
			`{ users(first: 5) { nodes { email } } }`,                                  // cold
			`query($id: ID!) { session(id: $id) { people(first: 5) { totalCount } } }`, // evicted by the webhook
		} {
			r := h.query(t, q, map[string]any{"id": sess.ID})
			assert.Equal(t, http.StatusOK, r.status, "replica %d: %s", i+1, q)
			assert.Empty(t, r.Errors, "replica %d: %s", i+1, q)
		}
		res, body := get(t, h.gw.URL+"/readyz")
		assert.Equal(t, http.StatusOK, res.StatusCode)
		assert.Contains(t, body, "degraded: Redis unreachable")
		assert.Contains(t, metricsText(t, h.gw.URL), "gateway_redis_up 0")
	}
	register("during@example.com")
	assert.Equal(t, "during@example.com", nextEmail(t, receiving, "1").RegistrationCreated.Person.Email,
		"the receiving replica still pushes what it receives")

	rs.redis.Restart()
	start := time.Now()
	deadline := start.Add(5 * time.Second)
	for i := 0; ; i++ {
		email := fmt.Sprintf("after%d@example.com", i)
		register(email)
		assert.Equal(t, email, nextEmail(t, receiving, "1").RegistrationCreated.Person.Email)
		select {
		case e := <-other.events("1"):
			var p emailPayload
			e.result(t).decode(t, &p)
			assert.True(t, strings.HasPrefix(p.RegistrationCreated.Person.Email, "after"),
				"replica 2 never got %q: it was delivered on replica 1 only", "during@example.com")
			t.Logf("Redis restarted: cross-replica delivery resumed after %s", time.Since(start).Round(time.Millisecond))
			for _, h := range rs.gws {
				res, body := get(t, h.gw.URL+"/readyz")
				assert.Equal(t, http.StatusOK, res.StatusCode)
				assert.NotContains(t, body, "degraded")
			}
			return
		case <-time.After(100 * time.Millisecond):
		}
		require.True(t, time.Now().Before(deadline), "cross-replica delivery did not resume within 5s")
	}
}

func TestRunRefusesAnUnreachableRedis(t *testing.T) {
	err := run(t.Context(), []string{"gw"}, env(map[string]string{
		"LIVESTORM_API_TOKEN": "tok", "PORT": "0", "REDIS_URL": "redis://:hunter2@127.0.0.1:1/0",
	}), io.Discard, io.Discard)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "REDIS_URL: cannot reach Redis at 127.0.0.1:1")
	assert.NotContains(t, err.Error(), "hunter2")
}

func TestRedisConfiguration(t *testing.T) {
	c, err := LoadConfig(env(map[string]string{"LIVESTORM_API_TOKEN": "tok"}))
	require.NoError(t, err)
	assert.Equal(t, "lsgw", c.RedisPrefix)
	assert.Equal(t, time.Hour, c.SubscriptionReplay)
	assert.Equal(t, 10_000, c.SubscriptionReplayMax)
	c, err = LoadConfig(env(map[string]string{"LIVESTORM_API_TOKEN": "tok", "REDIS_URL": "rediss://:pw@redis.internal:6380/2",
		"REDIS_KEY_PREFIX": "gw-eu", "SUBSCRIPTION_REPLAY": "30m", "SUBSCRIPTION_REPLAY_MAX": "500"}))
	require.NoError(t, err)
	assert.Equal(t, "rediss://:pw@redis.internal:6380/2", c.RedisURL)
	assert.Equal(t, "gw-eu", c.RedisPrefix)
	assert.Equal(t, 30*time.Minute, c.SubscriptionReplay)
	assert.Equal(t, 500, c.SubscriptionReplayMax)
	for _, tc := range []struct{ name, value string }{
		{"REDIS_URL", "http://:hunter2@redis:6379"},
		{"REDIS_URL", "unix://"},
		{"REDIS_KEY_PREFIX", "a {b}"},
		{"SUBSCRIPTION_REPLAY", "10s"},
		{"SUBSCRIPTION_REPLAY", "forever"},
		{"SUBSCRIPTION_REPLAY_MAX", "5"},
	} {
		_, err := LoadConfig(env(map[string]string{"LIVESTORM_API_TOKEN": "tok", tc.name: tc.value}))
		require.ErrorContains(t, err, tc.name, "%s=%q", tc.name, tc.value)
		assert.NotContains(t, err.Error(), "hunter2", "a Redis URL is never echoed: it may hold a password")
	}
}
