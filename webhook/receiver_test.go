package webhook

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/livestorm-gateway/gateway/cache"
	"github.com/livestorm-gateway/gateway/livestorm"
	"github.com/livestorm-gateway/gateway/pubsub"
	"github.com/livestorm-gateway/gateway/tags"
	"github.com/livestorm-gateway/gateway/tenant"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const secret = "s3cret"

// observed records what the receiver counted.
type observed struct {
	mu     sync.Mutex
	counts map[[2]string]int
}

func (o *observed) observe(event, result string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.counts == nil {
		o.counts = map[[2]string]int{}
	}
	o.counts[[2]string{event, result}]++
}

func (o *observed) get(event, result string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.counts[[2]string{event, result}]
}

type fixture struct {
	recv  *Receiver
	cache *cache.Cache
	bus   *pubsub.Local
	seen  *observed
	now   time.Time
}

func newFixture(t *testing.T, opts Options) *fixture {
	t.Helper()
	f := &fixture{cache: cache.New(cache.Options{}), bus: pubsub.NewLocal(), seen: &observed{}, now: time.Now()}
	opts.Secret, opts.Cache, opts.Bus, opts.Observe = secret, f.cache, f.bus, f.seen.observe
	if opts.Now == nil {
		opts.Now = func() time.Time { return f.now }
	}
	r, err := NewReceiver(opts)
	require.NoError(t, err)
	f.recv = r
	t.Cleanup(func() { _ = r.Close(); _ = f.bus.Close() })
	return f
}

// post delivers body signed at `at` (zero: unsigned) and returns the status.
func (f *fixture) post(body []byte, at time.Time) int {
	req := httptest.NewRequest(http.MethodPost, ReceiverPath, bytes.NewReader(body))
	if !at.IsZero() {
		req.Header.Set(livestorm.SignatureHeader, livestorm.SignWebhook(secret, at, body))
	}
	rec := httptest.NewRecorder()
	f.recv.ServeHTTP(rec, req)
	return rec.Code
}

func payload(name, typ, id, orgID, attrs string) []byte {
	return []byte(fmt.Sprintf(`{"data":{"id":%q,"type":%q,"attributes":%s,"meta":{"webhook":{"event":%q,"organization_id":%q}}}}`,
		id, typ, attrs, name, orgID))
}

func next(t *testing.T, s *pubsub.Subscription) *pubsub.Message {
	t.Helper()
	select {
	case m, ok := <-s.C:
		require.True(t, ok, "subscription ended: %v", s.Err())
		return m
	case <-time.After(5 * time.Second):
		t.Fatal("nothing published within 5s")
		return nil
	}
}

// TestDeliveriesInvalidateThenPublish checks, per event kind, which ids the message
// carries and that exactly the answers tags.ForWebhook names are gone by the time the
// message is received, while unrelated ones stay.
func TestDeliveriesInvalidateThenPublish(t *testing.T) {
	const org = "org-1"
	scope := tenant.ScopeForOrg(org)
	cases := []struct {
		name             string
		body             []byte
		want             pubsub.Message // ids only
		evicted, survive []string       // tags of cached answers
	}{
		{
			name: "people.registered: the session, its people and counters, the event's people, the person",
			body: payload("people.registered", "people", "p1", org,
				`{"email":"a@example.com","registrant_detail":{"event_id":"e1","session_id":"s1"}}`),
			want:    pubsub.Message{Name: "people.registered", EventID: "e1", SessionID: "s1", PersonID: "p1"},
			evicted: []string{tags.Session("s1"), tags.SessionPeople("s1"), tags.EventPeople("e1"), tags.Event("e1"), tags.Person("p1"), tags.Sessions, tags.Events, tags.People},
			survive: []string{tags.Session("s2"), tags.SessionPeople("s2"), tags.Event("e2"), tags.Users, tags.Job("j1")},
		},
		{
			name:    "session.started: the session, its event, the lists",
			body:    payload("session.started", "sessions", "s1", org, `{"event_id":"e1","status":"live"}`),
			want:    pubsub.Message{Name: "session.started", EventID: "e1", SessionID: "s1"},
			evicted: []string{tags.Session("s1"), tags.Event("e1"), tags.Sessions, tags.Events},
			survive: []string{tags.SessionPeople("s1"), tags.Session("s2"), tags.People, tags.Users},
		},
		{
			name:    "event.published: the event and the lists",
			body:    payload("event.published", "events", "e1", org, `{"title":"Launch","status":"published"}`),
			want:    pubsub.Message{Name: "event.published", EventID: "e1"},
			evicted: []string{tags.Event("e1"), tags.Events, tags.Sessions},
			survive: []string{tags.Event("e2"), tags.EventPeople("e1"), tags.People},
		},
		{
			name:    "job.ended: the job",
			body:    payload("job.ended", "jobs", "j1", org, `{"status":"completed","total_items":2}`),
			want:    pubsub.Message{Name: "job.ended", JobID: "j1"},
			evicted: []string{tags.Job("j1")},
			survive: []string{tags.Job("j2"), tags.Events, tags.People},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, Options{})
			key := func(tag string) cache.Key { return cache.Key{Scope: scope, Resource: "answer", ID: tag} }
			for _, tag := range append(append([]string{}, tc.evicted...), tc.survive...) {
				f.cache.Set(key(tag), "cached", tag)
				// The same answer in another workspace is never touched.
				f.cache.Set(cache.Key{Scope: tenant.ScopeForOrg("org-2"), Resource: "answer", ID: tag}, "cached", tag)
			}
			sub, err := f.bus.Subscribe(t.Context(), scope, nil, 4)
			require.NoError(t, err)

			require.Equal(t, http.StatusAccepted, f.post(tc.body, f.now))
			m := next(t, sub)
			assert.Equal(t, tc.want.Name, m.Name)
			assert.Equal(t, scope, m.Scope)
			assert.Equal(t, tc.want.EventID, m.EventID)
			assert.Equal(t, tc.want.SessionID, m.SessionID)
			assert.Equal(t, tc.want.PersonID, m.PersonID)
			assert.Equal(t, tc.want.JobID, m.JobID)
			assert.NotEmpty(t, m.ID)
			assert.Equal(t, f.now.UTC(), m.OccurredAt)
			for _, tag := range tc.evicted {
				_, ok := f.cache.Get(key(tag))
				assert.False(t, ok, "%s evicted before publication", tag)
			}
			for _, tag := range tc.survive {
				_, ok := f.cache.Get(key(tag))
				assert.True(t, ok, "%s untouched", tag)
			}
			assert.Equal(t, 2*len(tc.evicted)+2*len(tc.survive)-len(tc.evicted), f.cache.Len())
			assert.Equal(t, 1, f.seen.get(tc.want.Name, ResultOK))
		})
	}
}

func TestPeopleMessageCarriesThePerson(t *testing.T) {
	f := newFixture(t, Options{})
	sub, err := f.bus.Subscribe(t.Context(), tenant.ScopeForOrg("o"), nil, 1)
	require.NoError(t, err)
	require.Equal(t, http.StatusAccepted, f.post(payload("people.attended", "people", "p1", "o",
		`{"email":"a@example.com","first_name":"Ada","registrant_detail":{"event_id":"e1","session_id":"s1","attended":true}}`), f.now))
	m := next(t, sub)
	require.NotNil(t, m.Person)
	assert.Equal(t, "a@example.com", m.Person.Email)
	assert.True(t, m.Person.RegistrantDetail.Attended)
}

func TestRefusedDeliveries(t *testing.T) {
	valid := payload("people.registered", "people", "p1", "o", `{"email":"a@example.com"}`)
	cases := []struct {
		name          string
		body          []byte
		at            time.Time
		header        string // overrides the signature
		status        int
		event, result string
	}{
		{"unsigned", valid, time.Time{}, "", http.StatusUnauthorized, LabelUnverified, ResultUnauthorized},
		{"wrong secret", valid, time.Time{}, livestorm.SignWebhook("other", time.Now(), valid), http.StatusUnauthorized, LabelUnverified, ResultUnauthorized},
		{"stale", valid, time.Now().Add(-6 * time.Minute), "", http.StatusUnauthorized, LabelUnverified, ResultUnauthorized},
		{"not JSON", []byte("hello"), time.Now(), "", http.StatusBadRequest, LabelUnknown, ResultMalformed},
		{"no event name", []byte(`{"data":{"id":"x","type":"people","attributes":{}}}`), time.Now(), "", http.StatusAccepted, LabelUnknown, ResultUnknownEvent},
		{"unknown event", payload("poll.answered", "polls", "x", "o", `{}`), time.Now(), "", http.StatusAccepted, LabelUnknown, ResultUnknownEvent},
		{"known event, unreadable shape", []byte(`{"data":[1,2],"meta":{"webhook":{"event":"people.registered"}}}`), time.Now(), "", http.StatusBadRequest, "people.registered", ResultMalformed},
		{"no workspace", payload("people.registered", "people", "p1", "", `{}`), time.Now(), "", http.StatusBadRequest, "people.registered", ResultMalformed},
		{"too large", bytes.Repeat([]byte("x"), 2048), time.Now(), "", http.StatusRequestEntityTooLarge, LabelUnverified, ResultTooLarge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, Options{MaxBody: 1024})
			f.cache.Set(cache.Key{Scope: tenant.ScopeForOrg("o"), Resource: "answer", ID: "x"}, "v", tags.People, tags.Person("p1"))
			sub, err := f.bus.Subscribe(t.Context(), tenant.ScopeForOrg("o"), nil, 4)
			require.NoError(t, err)
			req := httptest.NewRequest(http.MethodPost, ReceiverPath, bytes.NewReader(tc.body))
			switch {
			case tc.header != "":
				req.Header.Set(livestorm.SignatureHeader, tc.header)
			case !tc.at.IsZero():
				req.Header.Set(livestorm.SignatureHeader, livestorm.SignWebhook(secret, tc.at, tc.body))
			}
			rec := httptest.NewRecorder()
			f.recv.ServeHTTP(rec, req)
			assert.Equal(t, tc.status, rec.Code)
			assert.Equal(t, 1, f.seen.get(tc.event, tc.result))
			assert.NotContains(t, rec.Body.String(), secret)

			require.NoError(t, f.recv.Close()) // drains: anything queued is published now
			select {
			case m := <-sub.C:
				t.Fatalf("published %q", m.Name)
			default:
			}
			assert.Equal(t, 1, f.cache.Len(), "nothing evicted")
		})
	}
}

func TestRetriesAreProcessedOnce(t *testing.T) {
	f := newFixture(t, Options{DedupeTTL: time.Hour})
	sub, err := f.bus.Subscribe(t.Context(), tenant.ScopeForOrg("o"), nil, 8)
	require.NoError(t, err)
	body := payload("people.registered", "people", "p1", "o", `{"email":"a@example.com"}`)
	assert.Equal(t, http.StatusAccepted, f.post(body, f.now))
	f.now = f.now.Add(30 * time.Second) // Livestorm's first retry, signed anew
	assert.Equal(t, http.StatusOK, f.post(body, f.now))
	f.now = f.now.Add(2 * time.Hour) // long after: a new delivery with the same content
	assert.Equal(t, http.StatusAccepted, f.post(body, f.now))
	require.NoError(t, f.recv.Close())
	assert.Equal(t, "people.registered", next(t, sub).Name)
	assert.Equal(t, "people.registered", next(t, sub).Name)
	select {
	case m := <-sub.C:
		t.Fatalf("a third message %q", m.Name)
	default:
	}
	assert.Equal(t, 1, f.seen.get("people.registered", ResultDuplicate))
	assert.Equal(t, 2, f.seen.get("people.registered", ResultOK))
}

// blockingBus publishes only when released, to fill the receiver's queue.
type blockingBus struct {
	pubsub.Bus
	release chan struct{}
}

func (b blockingBus) Publish(ctx context.Context, m pubsub.Message) error {
	<-b.release
	return b.Bus.Publish(ctx, m)
}

func TestFullQueueAsksForARetryAndCloseDrains(t *testing.T) {
	local := pubsub.NewLocal()
	defer local.Close()
	bus := blockingBus{Bus: local, release: make(chan struct{})}
	seen := &observed{}
	r, err := NewReceiver(Options{Secret: secret, Cache: cache.New(cache.Options{}), Bus: bus, QueueSize: 2, Observe: seen.observe})
	require.NoError(t, err)
	sub, err := local.Subscribe(t.Context(), tenant.ScopeForOrg("o"), nil, 16)
	require.NoError(t, err)

	post := func(i int) int {
		body := payload("people.registered", "people", fmt.Sprint("p", i), "o", `{}`)
		req := httptest.NewRequest(http.MethodPost, ReceiverPath, bytes.NewReader(body))
		req.Header.Set(livestorm.SignatureHeader, livestorm.SignWebhook(secret, time.Now(), body))
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, req)
		return rec.Code
	}
	// One delivery held by the worker (blocked publishing), two queued, then it is full.
	require.Equal(t, http.StatusAccepted, post(0))
	require.Eventually(t, func() bool { return len(r.queue) == 0 }, 5*time.Second, time.Millisecond)
	require.Equal(t, http.StatusAccepted, post(1))
	require.Equal(t, http.StatusAccepted, post(2))
	assert.Equal(t, http.StatusServiceUnavailable, post(99), "Livestorm retries it later")
	assert.Equal(t, 1, seen.get("people.registered", ResultOverloaded))
	close(bus.release)

	require.NoError(t, r.Close())
	for range 3 {
		next(t, sub)
	}
	assert.Equal(t, http.StatusServiceUnavailable, post(100), "closed")
	require.NoError(t, r.Close(), "Close twice is harmless")
}
