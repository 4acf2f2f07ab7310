package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	coderws "github.com/coder/websocket"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/livestorm-gateway/gateway/livestorm"
	"github.com/livestorm-gateway/gateway/pubsub"
	"github.com/livestorm-gateway/gateway/tenant"
)

// sessionInfo is an upcoming session a test registers people to, as the gateway shows it.
type sessionInfo struct {
	ID               string `json:"id"`          // the global id, as clients use it
	LivestormID      string `json:"livestormId"` // what the simulator and webhooks name
	RegistrantsCount int    `json:"registrantsCount"`
	Event            struct {
		ID          string `json:"id"`
		LivestormID string `json:"livestormId"`
	} `json:"event"`
}

// openSession finds an upcoming session of the caller's workspace and reads it by id,
// which also warms the shared cache with its registrant count.
func (h *harness) openSession(t testing.TB, header ...string) sessionInfo {
	t.Helper()
	var list struct {
		Sessions struct{ Nodes []struct{ ID string } }
	}
	h.query(t, `{ sessions(first: 50, filter: {status: UPCOMING}) { nodes { id } } }`, nil, header...).decode(t, &list)
	require.NotEmpty(t, list.Sessions.Nodes, "the seed has upcoming sessions")
	var one struct{ Session sessionInfo }
	h.query(t, `query($id: ID!) { session(id: $id) { id livestormId registrantsCount event { id livestormId } } }`,
		map[string]any{"id": list.Sessions.Nodes[0].ID}, header...).decode(t, &one)
	return one.Session
}

const (
	registrationSubscription = `subscription($s: ID) { registrationCreated(sessionId: $s) {
		type occurredAt registration { id person { id email } session { id } } person { email } session { id registrantsCount } event { id } } }`
	sessionSubscription = `subscription($s: ID) { sessionChanged(sessionId: $s) { type session { id status } event { id } } }`
)

type registrationPayload struct {
	RegistrationCreated struct {
		Type         string
		OccurredAt   time.Time
		Registration struct {
			ID      string
			Person  struct{ ID, Email string }
			Session struct{ ID string }
		}
		Person  struct{ Email string }
		Session struct {
			ID               string
			RegistrantsCount int
		}
		Event struct{ ID string }
	}
}

// TestSubscriptionsEndToEnd subscribes over each transport, makes the change in the
// simulator, and receives it through the signed webhook with fresh nested data.
func TestSubscriptionsEndToEnd(t *testing.T) {
	for _, proto := range []string{protoTransportWS, protoLegacyWS, protoSSE} {
		t.Run(proto, func(t *testing.T) {
			h := newHarness(t, withWebhooks())
			sess := h.openSession(t) // its registrant count is now cached
			c := openSubscriber(t, proto, h.gw.URL, "")
			defer c.close()
			c.subscribe(t, "reg", registrationSubscription, map[string]any{"s": sess.ID})
			c.subscribe(t, "ses", sessionSubscription, map[string]any{"s": sess.ID})
			h.waitSubscribers(t, h.orgs[0].ID, 2)

			// A registration made in Livestorm (the simulator), not through the gateway.
			email := "e2e." + strings.ReplaceAll(proto, "-", ".") + "@example.com"
			start := time.Now()
			personID, err := h.sim.RegisterPerson(sess.LivestormID, email, "Ada", "Lovelace")
			require.NoError(t, err)
			var reg registrationPayload
			nextEvent(t, c, "reg", time.Second).result(t).decode(t, &reg)
			latency := time.Since(start)
			got := reg.RegistrationCreated
			assert.Equal(t, "PEOPLE_REGISTERED", got.Type)
			assert.Equal(t, email, got.Person.Email)
			assert.Equal(t, globalIDOf("Registration", sess.LivestormID, personID), got.Registration.ID,
				"the same id the session's registrations list gives it")
			assert.Equal(t, globalIDOf("Person", personID), got.Registration.Person.ID)
			assert.Equal(t, sess.ID, got.Registration.Session.ID)
			assert.Equal(t, sess.ID, got.Session.ID)
			assert.Equal(t, sess.RegistrantsCount+1, got.Session.RegistrantsCount, "fresh count, not the cached one")
			assert.Equal(t, sess.Event.ID, got.Event.ID)
			assert.WithinDuration(t, time.Now(), got.OccurredAt, 5*time.Second)

			start = time.Now()
			require.NoError(t, h.sim.StartSession(sess.LivestormID))
			var changed struct {
				SessionChanged struct {
					Type    string
					Session struct{ ID, Status string }
					Event   struct{ ID string }
				}
			}
			nextEvent(t, c, "ses", time.Second).result(t).decode(t, &changed)
			sessionLatency := time.Since(start)
			assert.Equal(t, "SESSION_STARTED", changed.SessionChanged.Type)
			assert.Equal(t, "LIVE", changed.SessionChanged.Session.Status, "fresh status, not the cached one")
			assert.Equal(t, sess.Event.ID, changed.SessionChanged.Event.ID)
			t.Logf("%s: change in the simulator -> event on the client: registration %s, session start %s",
				proto, latency.Round(100*time.Microsecond), sessionLatency.Round(100*time.Microsecond))
		})
	}
}

// TestSubscriptionKeepAlives checks every streaming transport sends keep-alives: "ka" on
// graphql-ws, "ping" on graphql-transport-ws, a comment on SSE.
func TestSubscriptionKeepAlives(t *testing.T) {
	for _, proto := range []string{protoTransportWS, protoLegacyWS, protoSSE} {
		t.Run(proto, func(t *testing.T) {
			h := newHarness(t)
			deps := h.deps
			deps.KeepAlive = 20 * time.Millisecond
			base := newHarnessServer(t, deps)
			c := openSubscriber(t, proto, base, "")
			defer c.close()
			c.subscribe(t, "1", `subscription { livestormEvents { type } }`, nil)
			require.Eventually(t, func() bool { return c.keepAlives() >= 3 }, 5*time.Second, 5*time.Millisecond)
		})
	}
	t.Run("a graphql-transport-ws client that never answers ping is disconnected", func(t *testing.T) {
		h := newHarness(t)
		deps := h.deps
		deps.KeepAlive = 20 * time.Millisecond
		base := newHarnessServer(t, deps)
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		conn, res, err := coderws.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/graphql",
			&coderws.DialOptions{Subprotocols: []string{protoTransportWS}})
		require.NoError(t, err)
		if res.Body != nil {
			res.Body.Close()
		}
		defer conn.CloseNow()
		require.NoError(t, conn.Write(ctx, coderws.MessageText, []byte(`{"type":"connection_init"}`)))
		for { // read (acks, pings) without ever answering, until the gateway hangs up
			if _, _, err := conn.Read(ctx); err != nil {
				require.NoError(t, ctx.Err(), "the connection was still open after 5s")
				return
			}
		}
	})
}

// signedDelivery is a webhook body with its signature, as Livestorm sends it.
type signedDelivery struct {
	body      []byte
	signature string
}

func registrationDelivery(orgID, personID, email, eventID, sessionID string) []byte {
	return []byte(fmt.Sprintf(`{"data":{"id":%q,"type":"people","attributes":{"role":"participant","email":%q,`+
		`"first_name":"Grace","last_name":"Hopper","registrant_detail":{"event_id":%q,"session_id":%q}},`+
		`"meta":{"webhook":{"event":"people.registered","organization_id":%q}}}}`, personID, email, eventID, sessionID, orgID))
}

func sign(body []byte, at time.Time) signedDelivery {
	return signedDelivery{body: body, signature: livestorm.SignWebhook("test-secret", at, body)}
}

// postWebhook sends a delivery to the gateway's receiver and returns the status.
func postWebhook(t testing.TB, base string, d signedDelivery) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+"/webhooks/livestorm", bytes.NewReader(d.body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	if d.signature != "" {
		req.Header.Set(livestorm.SignatureHeader, d.signature)
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	return res.StatusCode
}

// subscribeBus listens on the bus directly, for tests about what is (not) published.
func (h *harness) subscribeBus(t testing.TB, orgID string) *pubsub.Subscription {
	t.Helper()
	s, err := h.deps.Bus.Subscribe(t.Context(), tenant.ScopeForOrg(orgID), nil, 64)
	require.NoError(t, err)
	t.Cleanup(s.Close)
	return s
}

func busMessage(t testing.TB, s *pubsub.Subscription) *pubsub.Message {
	t.Helper()
	select {
	case m, ok := <-s.C:
		require.True(t, ok, "bus subscription ended: %v", s.Err())
		return m
	case <-time.After(5 * time.Second):
		t.Fatal("nothing published within 5s")
		return nil
	}
}

func metricsText(t testing.TB, base string) string {
	t.Helper()
	res, err := http.Get(base + "/metrics")
	require.NoError(t, err)
	defer res.Body.Close()
	var buf bytes.Buffer
	_, err = buf.ReadFrom(res.Body)
	require.NoError(t, err)
	return buf.String()
}

// TestWebhookDeliveriesAreVerified posts forged, tampered, replayed and otherwise bad
// deliveries: each is refused, publishes nothing and evicts nothing.
func TestWebhookDeliveriesAreVerified(t *testing.T) {
	h := newHarness(t)
	org := h.orgs[0]
	sess := h.openSession(t) // cached now
	events := h.sim.Events(org.ID)
	other := events[len(events)-1]
	bus := h.subscribeBus(t, org.ID)
	h.resetCalls()

	valid := registrationDelivery(org.ID, "p-forged", "mallory@example.com", sess.Event.LivestormID, sess.LivestormID)
	tampered := sign(valid, time.Now())
	tampered.body = bytes.Replace(tampered.body, []byte("mallory"), []byte("malloryy"), 1)
	unknown := []byte(`{"data":{"id":"x","type":"widgets","attributes":{},"meta":{"webhook":{"event":"widget.spun","organization_id":"` + org.ID + `"}}}}`)
	cases := []struct {
		name     string
		delivery signedDelivery
		status   int
	}{
		{"unsigned", signedDelivery{body: valid}, http.StatusUnauthorized},
		{"forged (another secret)", signedDelivery{body: valid, signature: livestorm.SignWebhook("guessed-secret", time.Now(), valid)}, http.StatusUnauthorized},
		{"tampered body", tampered, http.StatusUnauthorized},
		{"replayed (stale timestamp)", sign(valid, time.Now().Add(-40*time.Minute)), http.StatusUnauthorized},
		{"from the future", sign(valid, time.Now().Add(40*time.Minute)), http.StatusUnauthorized},
		{"malformed signature", signedDelivery{body: valid, signature: "not,a-signature"}, http.StatusUnauthorized},
		{"signed but not JSON", sign([]byte(`{"data":`), time.Now()), http.StatusUnauthorized},
		{"signed, trailing bytes", sign(append(append([]byte{}, valid...), []byte(`{"data":{}}`)...), time.Now()), http.StatusUnauthorized},
		{"signed, unknown event (acknowledged)", sign(unknown, time.Now()), http.StatusAccepted},
		{"too large", sign(bytes.Repeat([]byte(" "), 2<<20), time.Now()), http.StatusRequestEntityTooLarge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.status, postWebhook(t, h.gw.URL, tc.delivery))
		})
	}

	// A valid delivery about another event: the receiver processes in order, so if any
	// refused delivery had been published it would come first.
	marker := registrationDelivery(org.ID, "p-marker", "marker@example.com", other.ID, other.SessionIDs[0])
	require.Equal(t, http.StatusAccepted, postWebhook(t, h.gw.URL, sign(marker, time.Now())))
	m := busMessage(t, bus)
	assert.Equal(t, "p-marker", m.PersonID, "nothing refused was published")

	// Nothing refused evicted the cached session either.
	var again struct{ Session sessionInfo }
	h.query(t, `query($id: ID!) { session(id: $id) { id livestormId registrantsCount event { id livestormId } } }`, map[string]any{"id": sess.ID}).decode(t, &again)
	assert.Equal(t, sess, again.Session)
	assert.Equal(t, 0, h.upstreamCalls(), "the session is still served from the cache")

	text := metricsText(t, h.gw.URL)
	for _, want := range []string{
		`gateway_webhooks_received_total{event="unverified",result="unauthorized"} 6`,
		`gateway_webhooks_received_total{event="unverified",result="malformed"} 2`,
		`gateway_webhooks_received_total{event="unknown",result="unknown_event"} 1`,
		`gateway_webhooks_received_total{event="unverified",result="too_large"} 1`,
		`gateway_webhooks_received_total{event="people.registered",result="ok"} 1`,
	} {
		assert.Contains(t, text, want)
	}
}

// TestDuplicateDeliveryYieldsOneEvent retries a delivery as Livestorm does (same body,
// new signature): the subscriber sees it once.
func TestDuplicateDeliveryYieldsOneEvent(t *testing.T) {
	h := newHarness(t)
	org := h.orgs[0]
	sess := h.openSession(t)
	c := openSubscriber(t, protoTransportWS, h.gw.URL, "")
	defer c.close()
	c.subscribe(t, "1", `subscription { registrationCreated { person { email } } }`, nil)
	h.waitSubscribers(t, org.ID, 1)

	body := registrationDelivery(org.ID, "p-dup", "twice@example.com", sess.Event.LivestormID, sess.LivestormID)
	assert.Equal(t, http.StatusAccepted, postWebhook(t, h.gw.URL, sign(body, time.Now().Add(-time.Minute))))
	assert.Equal(t, http.StatusOK, postWebhook(t, h.gw.URL, sign(body, time.Now())), "the retry is acknowledged")
	marker := registrationDelivery(org.ID, "p-next", "next@example.com", sess.Event.LivestormID, sess.LivestormID)
	assert.Equal(t, http.StatusAccepted, postWebhook(t, h.gw.URL, sign(marker, time.Now())))

	var first, second struct {
		RegistrationCreated struct{ Person struct{ Email string } }
	}
	nextEvent(t, c, "1", 5*time.Second).result(t).decode(t, &first)
	nextEvent(t, c, "1", 5*time.Second).result(t).decode(t, &second)
	assert.Equal(t, "twice@example.com", first.RegistrationCreated.Person.Email)
	assert.Equal(t, "next@example.com", second.RegistrationCreated.Person.Email, "the duplicate was not delivered")
	assert.Contains(t, metricsText(t, h.gw.URL), `gateway_webhooks_received_total{event="people.registered",result="duplicate"} 1`)
}

// TestSubscribersSeeOnlyTheirWorkspace runs two workspaces through forwarded credentials
// (given in connection_init): each subscriber gets its own workspace's events only.
func TestSubscribersSeeOnlyTheirWorkspace(t *testing.T) {
	h := newHarness(t, withForwardAuth(), withWebhooks())
	a, b := h.orgs[0], h.orgs[1]
	sessA := h.openSession(t, "Authorization", a.Token)
	sessB := h.openSession(t, "Authorization", b.Token)

	const q = `subscription { livestormEvents(types: [PEOPLE_REGISTERED]) { type person { email } session { id } } }`
	subA := openSubscriber(t, protoTransportWS, h.gw.URL, a.Token)
	defer subA.close()
	subB := openSubscriber(t, protoSSE, h.gw.URL, b.Token)
	defer subB.close()
	subA.subscribe(t, "a", q, nil)
	subB.subscribe(t, "b", q, nil)
	h.waitSubscribers(t, a.ID, 1)
	h.waitSubscribers(t, b.ID, 1)

	type payload struct {
		LivestormEvents struct {
			Person  struct{ Email string }
			Session struct{ ID string }
		}
	}
	receive := func(s subscriber, id string) payload {
		var p payload
		nextEvent(t, s, id, 5*time.Second).result(t).decode(t, &p)
		return p
	}
	// B's workspace first; once B has it, it has been published, before A's exists.
	_, err := h.sim.RegisterPerson(sessB.LivestormID, "b1@example.com", "", "")
	require.NoError(t, err)
	assert.Equal(t, "b1@example.com", receive(subB, "b").LivestormEvents.Person.Email)
	_, err = h.sim.RegisterPerson(sessA.LivestormID, "a1@example.com", "", "")
	require.NoError(t, err)
	gotA := receive(subA, "a")
	assert.Equal(t, "a1@example.com", gotA.LivestormEvents.Person.Email, "A never sees B's registration")
	assert.Equal(t, sessA.ID, gotA.LivestormEvents.Session.ID)
	_, err = h.sim.RegisterPerson(sessB.LivestormID, "b2@example.com", "", "")
	require.NoError(t, err)
	assert.Equal(t, "b2@example.com", receive(subB, "b").LivestormEvents.Person.Email, "B never sees A's registration")

	t.Run("connection_init without a valid credential is refused", func(t *testing.T) {
		for _, auth := range []string{"", "not-a-token"} {
			_, err := dialWS(t, h.gw.URL, protoTransportWS, auth)
			assert.Error(t, err, "credential %q", auth)
		}
	})
	t.Run("an SSE subscription without a credential is refused", func(t *testing.T) {
		c := openSubscriber(t, protoSSE, h.gw.URL, "")
		defer c.close()
		c.subscribe(t, "x", q, nil)
		r := nextEvent(t, c, "x", 5*time.Second).result(t)
		require.NotEmpty(t, r.Errors)
		assert.Equal(t, "UNAUTHENTICATED", r.Errors[0].code())
	})
}

// TestSlowSubscriberIsDropped makes one subscriber slow (each of its events waits on a
// slow upstream) while another reads only what the message carries: the fast one gets
// every event at once, the slow one is dropped with a reason it can read.
func TestSlowSubscriberIsDropped(t *testing.T) {
	for _, proto := range []string{protoTransportWS, protoLegacyWS, protoSSE} {
		t.Run(proto, func(t *testing.T) {
			h := newHarness(t)
			org := h.orgs[0]
			sess := h.openSession(t)
			// The slow subscriber's gateway lets it fall 2 events behind; the fast one's
			// (h.gw, same bus) the default 64.
			deps := h.deps
			deps.SubscriptionBuffer = 2
			base := newHarnessServer(t, deps)

			slow := openSubscriber(t, proto, base, "")
			defer slow.close()
			fast := openSubscriber(t, protoTransportWS, h.gw.URL, "")
			defer fast.close()
			slow.subscribe(t, "slow", `subscription { registrationCreated { type session { registrantsCount } } }`, nil)
			fast.subscribe(t, "fast", `subscription { registrationCreated { type person { email } } }`, nil)
			h.waitSubscribers(t, org.ID, 2)

			h.sim.SetLatency(150*time.Millisecond, 0) // every session read of the slow subscriber
			const n = 8
			start := time.Now()
			for i := range n {
				body := registrationDelivery(org.ID, fmt.Sprint("p-slow-", i), fmt.Sprintf("slow%d@example.com", i), sess.Event.LivestormID, sess.LivestormID)
				require.Equal(t, http.StatusAccepted, postWebhook(t, h.gw.URL, sign(body, time.Now())))
			}
			for i := range n {
				var p struct {
					RegistrationCreated struct{ Person struct{ Email string } }
				}
				nextEvent(t, fast, "fast", time.Second).result(t).decode(t, &p)
				assert.Equal(t, fmt.Sprintf("slow%d@example.com", i), p.RegistrationCreated.Person.Email)
			}
			fastDone := time.Since(start)

			var nexts int
			var reason string
			for reason == "" {
				e := nextEvent(t, slow, "slow", 10*time.Second)
				switch e.kind {
				case "next":
					r := e.result(t)
					if len(r.Errors) == 0 {
						nexts++
						continue
					}
					reason = r.Errors[0].Message // SSE: a last event carrying the error
					assert.Equal(t, "SUBSCRIBER_TOO_SLOW", r.Errors[0].code())
				case "error":
					var errs []gqlError
					require.NoError(t, json.Unmarshal(e.payload, &errs), "%s", e.payload)
					require.NotEmpty(t, errs)
					reason = errs[0].Message
					assert.Equal(t, "SUBSCRIBER_TOO_SLOW", errs[0].code())
				default:
					t.Fatalf("stream ended (%s) without saying why", e.kind)
				}
			}
			slowDone := time.Since(start)
			assert.Contains(t, reason, "subscriber too slow: ")
			assert.Contains(t, reason, "events dropped")
			assert.Less(t, nexts, n, "the slow subscriber lost events")
			assert.Less(t, fastDone, slowDone, "the fast subscriber was not held back")
			t.Logf("fast subscriber had all %d events after %s; slow one got %d, then %q after %s",
				n, fastDone.Round(time.Millisecond), nexts, reason, slowDone.Round(time.Millisecond))
			h.waitSubscribers(t, org.ID, 1)
		})
	}
}

// TestSubscribeUnsubscribeCyclesLeaveNoGoroutines opens and closes 1,000 subscriptions
// on one WebSocket and checks nothing is left running and the gauge is back to zero.
func TestSubscribeUnsubscribeCyclesLeaveNoGoroutines(t *testing.T) {
	h := newHarness(t)
	org := h.orgs[0]
	c, err := dialWS(t, h.gw.URL, protoTransportWS, "")
	require.NoError(t, err)
	c.subscribe(t, "warm", `subscription { livestormEvents { type } }`, nil) // verifies the tenant
	h.waitSubscribers(t, org.ID, 1)
	c.unsubscribe(t, "warm")
	h.waitSubscribers(t, org.ID, 0)

	before := goleak.IgnoreCurrent()
	const cycles = 1000
	for i := range cycles {
		id := strconv.Itoa(i)
		c.subscribe(t, id, `subscription($s: ID) { registrationCreated(sessionId: $s) { type session { id } } }`, map[string]any{"s": "s" + id})
		poll(t, func() bool { return h.deps.push.bus.Subscribers(tenant.ScopeForOrg(org.ID)) == 1 })
		c.unsubscribe(t, id)
		poll(t, func() bool { return h.deps.push.bus.Subscribers(tenant.ScopeForOrg(org.ID)) == 0 })
	}
	goleak.VerifyNone(t, before)
	var gauge dto.Metric
	require.NoError(t, h.deps.Metrics.SubscriptionsActive.Write(&gauge))
	assert.Equal(t, 0.0, gauge.GetGauge().GetValue(), "gateway_subscriptions_active")
	c.close()
}

// poll waits (up to 5 s) for cond, checking often: for tight loops where
// require.Eventually's per-check goroutine and tick would dominate.
func poll(t testing.TB, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(50 * time.Microsecond)
	}
}

// TestWebhookInvalidatesExactlyWhatChanged warms a query, lets the simulator register
// someone (delivered as a signed people.registered webhook), and checks the next query
// shows the registrant and the new count at once, re-fetching only the evicted answers.
func TestWebhookInvalidatesExactlyWhatChanged(t *testing.T) {
	h := newHarness(t, withWebhooks())
	h.warmTenant(t)
	sess := h.openSession(t)
	const q = `query($id: ID!) {
		session(id: $id) { registrantsCount people(first: 50) { totalCount nodes { email } } }
		users(first: 5) { totalCount }
	}`
	type answer struct {
		Session struct {
			RegistrantsCount int
			People           struct {
				TotalCount int
				Nodes      []struct{ Email string }
			}
		}
		Users struct{ TotalCount int }
	}
	vars := map[string]any{"id": sess.ID}
	var before answer
	h.query(t, q, vars).decode(t, &before)
	h.resetCalls()
	h.query(t, q, vars).decode(t, &before)
	require.Equal(t, 0, h.upstreamCalls(), "warm")

	bus := h.subscribeBus(t, h.orgs[0].ID)
	_, err := h.sim.RegisterPerson(sess.LivestormID, "fresh@example.com", "Fresh", "Face")
	require.NoError(t, err)
	m := busMessage(t, bus) // published only after the eviction
	require.Equal(t, livestorm.PeopleRegistered, m.Name)

	var after answer
	h.query(t, q, vars).decode(t, &after)
	assert.Equal(t, before.Session.RegistrantsCount+1, after.Session.RegistrantsCount)
	assert.Equal(t, before.Session.People.TotalCount+1, after.Session.People.TotalCount)
	var emails []string
	for _, p := range after.Session.People.Nodes {
		emails = append(emails, p.Email)
	}
	assert.Contains(t, emails, "fresh@example.com")
	assert.Equal(t, before.Users, after.Users)
	assert.Equal(t, 2, h.upstreamCalls(), "only the session and its people page are fetched again; the team list stays cached")
	assert.Contains(t, metricsText(t, h.gw.URL), `gateway_webhooks_received_total{event="people.registered",result="ok"} 1`)
}

// TestAttendanceAndReplayCarryTheRegistration: attendance and replay notifications carry
// the registration they are about (as the webhook delivered it), with the same id as in
// the session's registrations.
func TestAttendanceAndReplayCarryTheRegistration(t *testing.T) {
	h := newHarness(t, withWebhooks())
	sess := h.openSession(t)
	personID, err := h.sim.RegisterPerson(sess.LivestormID, "watcher@example.com", "Wat", "Cher")
	require.NoError(t, err)
	c := openSubscriber(t, protoTransportWS, h.gw.URL, "")
	defer c.close()
	c.subscribe(t, "att", `subscription($s: ID) { attendanceRecorded(sessionId: $s) {
		type attended registration { id attended session { id } person { livestormId } } person { livestormId } } }`, map[string]any{"s": sess.ID})
	c.subscribe(t, "replay", `subscription($e: ID) { replayWatched(eventId: $e) {
		type registration { id hasViewedReplay replayViewDetail { watchedAt } person { email } } } }`, map[string]any{"e": sess.Event.ID})
	h.waitSubscribers(t, h.orgs[0].ID, 2)

	require.NoError(t, h.sim.StartSession(sess.LivestormID))
	require.NoError(t, h.sim.EndSession(sess.LivestormID))
	var att struct {
		AttendanceRecorded struct {
			Type         string
			Attended     bool
			Registration struct {
				ID       string
				Attended bool
				Session  struct{ ID string }
				Person   struct{ LivestormID string }
			}
			Person struct{ LivestormID string }
		}
	}
	nextEvent(t, c, "att", 5*time.Second).result(t).decode(t, &att)
	a := att.AttendanceRecorded
	assert.Contains(t, []string{"PEOPLE_ATTENDED", "PEOPLE_NOT_ATTENDED"}, a.Type)
	assert.Equal(t, a.Attended, a.Registration.Attended)
	assert.Equal(t, sess.ID, a.Registration.Session.ID)
	assert.Equal(t, a.Person.LivestormID, a.Registration.Person.LivestormID)
	assert.Equal(t, globalIDOf("Registration", sess.LivestormID, a.Person.LivestormID), a.Registration.ID)

	require.NoError(t, h.sim.WatchReplay(sess.LivestormID, personID))
	var replay struct {
		ReplayWatched struct {
			Type         string
			Registration struct {
				ID               string
				HasViewedReplay  bool
				ReplayViewDetail *struct{ WatchedAt *string }
				Person           struct{ Email string }
			}
		}
	}
	nextEvent(t, c, "replay", 5*time.Second).result(t).decode(t, &replay)
	r := replay.ReplayWatched
	assert.Equal(t, "PEOPLE_WATCHED_REPLAY", r.Type)
	assert.Equal(t, globalIDOf("Registration", sess.LivestormID, personID), r.Registration.ID)
	assert.Equal(t, "watcher@example.com", r.Registration.Person.Email)
	assert.True(t, r.Registration.HasViewedReplay)
	require.NotNil(t, r.Registration.ReplayViewDetail)
}
