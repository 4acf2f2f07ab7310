package webhook

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
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
	now := time.Now()
	forged, forgedSig := lengthExtend(valid, now, len(secret), []byte(`,"x":{"data":{"id":"p9"}}`))
	guess, guessSig := lengthExtend(valid, now, len(secret)+3, []byte(`,"x":{"data":{"id":"p9"}}`))
	cases := []struct {
		name          string
		body          []byte
		at            time.Time
		header        string // overrides the signature
		status        int
		event, result string
	}{
		{"unsigned", valid, time.Time{}, "", http.StatusUnauthorized, LabelUnverified, ResultUnauthorized},
		{"wrong secret", valid, time.Time{}, livestorm.SignWebhook("other", now, valid), http.StatusUnauthorized, LabelUnverified, ResultUnauthorized},
		{"malformed signature", valid, time.Time{}, "not,a-signature", http.StatusUnauthorized, LabelUnverified, ResultUnauthorized},
		{"stale (past the 30 min window)", valid, now.Add(-31 * time.Minute), "", http.StatusUnauthorized, LabelUnverified, ResultUnauthorized},
		{"from the future", valid, now.Add(31 * time.Minute), "", http.StatusUnauthorized, LabelUnverified, ResultUnauthorized},
		{"not JSON", []byte("hello"), now, "", http.StatusUnauthorized, LabelUnverified, ResultMalformed},
		{"trailing bytes after the JSON value", append(append([]byte{}, valid...), []byte(` {"data":{}}`)...), now, "", http.StatusUnauthorized, LabelUnverified, ResultMalformed},
		{"trailing garbage", append(append([]byte{}, valid...), 'x'), now, "", http.StatusUnauthorized, LabelUnverified, ResultMalformed},
		{"a JSON array", []byte(`[` + string(valid) + `]`), now, "", http.StatusUnauthorized, LabelUnverified, ResultMalformed},
		// The signature of the forgery is valid: sha256(ts + secret + body + padding +
		// suffix), computed without the secret from the original signature and its length.
		{"length-extended forgery (right secret length)", forged, time.Time{}, forgedSig, http.StatusUnauthorized, LabelUnverified, ResultMalformed},
		{"length-extended forgery (wrong secret length)", guess, time.Time{}, guessSig, http.StatusUnauthorized, LabelUnverified, ResultMalformed},
		{"no event name", []byte(`{"data":{"id":"x","type":"people","attributes":{}}}`), now, "", http.StatusAccepted, LabelUnknown, ResultUnknownEvent},
		{"unknown event", payload("poll.answered", "polls", "x", "o", `{}`), now, "", http.StatusAccepted, LabelUnknown, ResultUnknownEvent},
		{"known event, unreadable shape", []byte(`{"data":[1,2],"meta":{"webhook":{"event":"people.registered"}}}`), now, "", http.StatusUnauthorized, "people.registered", ResultMalformed},
		{"no workspace", payload("people.registered", "people", "p1", "", `{}`), now, "", http.StatusUnauthorized, "people.registered", ResultMalformed},
		{"too large", bytes.Repeat([]byte("x"), 2048), now, "", http.StatusRequestEntityTooLarge, LabelUnverified, ResultTooLarge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, Options{MaxBody: 1024})
			f.now = now
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
			if tc.status == http.StatusUnauthorized {
				// Every refusal is the same answer: nothing tells one cause from another.
				assert.Equal(t, RefusedBody, rec.Body.String())
				assert.Equal(t, http.Header{"Content-Type": {"text/plain; charset=utf-8"}}, rec.Header())
			}
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

// lengthExtend forges a delivery from a genuine one signed at ts, knowing only its
// signature and guessing the secret's length: the SHA-256 state after the original
// message is restored from the signature, and suffix is hashed on after the padding.
func lengthExtend(body []byte, ts time.Time, secretLen int, suffix []byte) ([]byte, string) {
	sig := livestorm.SignWebhook(secret, ts, body)
	unix, hexSig, _ := strings.Cut(sig, ",")
	digest, _ := hex.DecodeString(hexSig)
	msgLen := len(unix) + secretLen + len(body)
	pad := []byte{0x80}
	for (msgLen+len(pad))%64 != 56 {
		pad = append(pad, 0)
	}
	pad = binary.BigEndian.AppendUint64(pad, uint64(msgLen)*8)
	// crypto/sha256's marshalled state: magic, 8 words, a 64-byte block, the length.
	state := append([]byte("sha\x03"), digest...)
	state = append(state, make([]byte, 64)...)
	state = binary.BigEndian.AppendUint64(state, uint64(msgLen+len(pad)))
	h := sha256.New()
	if err := h.(encoding.BinaryUnmarshaler).UnmarshalBinary(state); err != nil {
		panic(err)
	}
	h.Write(suffix)
	forged := append(append(append([]byte{}, body...), pad...), suffix...)
	return forged, unix + "," + hex.EncodeToString(h.Sum(nil))
}

func TestLengthExtensionForgeryIsValidlySigned(t *testing.T) {
	// The premise of the test above: the forgery really carries a valid signature, so
	// only the strict parse stands between it and the subscribers.
	body := payload("people.registered", "people", "p1", "o", `{}`)
	now := time.Now()
	forged, sig := lengthExtend(body, now, len(secret), []byte(`{"evil":true}`))
	require.NoError(t, livestorm.VerifyWebhook(secret, sig, forged, now, time.Minute))
	wrongBody, wrongSig := lengthExtend(body, now, len(secret)+1, []byte(`{"evil":true}`))
	require.Error(t, livestorm.VerifyWebhook(secret, wrongSig, wrongBody, now, time.Minute), "a wrong length guess fails")
}

func TestFreshnessWindow(t *testing.T) {
	body := payload("people.registered", "people", "p1", "o", `{}`)
	cases := []struct {
		name      string
		tolerance time.Duration
		age       time.Duration
		status    int
	}{
		{"default: a retry 25 minutes after the first attempt's timestamp", 0, 25 * time.Minute, http.StatusAccepted},
		{"default: 31 minutes", 0, 31 * time.Minute, http.StatusUnauthorized},
		{"configured 10m: 11 minutes", 10 * time.Minute, 11 * time.Minute, http.StatusUnauthorized},
		{"configured 2h: 90 minutes", 2 * time.Hour, 90 * time.Minute, http.StatusAccepted},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, Options{Tolerance: tc.tolerance})
			assert.Equal(t, tc.status, f.post(body, f.now.Add(-tc.age)))
		})
	}
	f := newFixture(t, Options{Tolerance: 2 * time.Hour})
	assert.Equal(t, 4*time.Hour, f.recv.opts.DedupeTTL, "deliveries are remembered for as long as they could be replayed")
}

func TestPerWorkspaceSecrets(t *testing.T) {
	const orgA, orgB, secretA, secretB = "org-a", "org-b", "secret-of-a", "secret-of-b"
	bus := pubsub.NewLocal()
	defer bus.Close()
	seen := &observed{}
	r, err := NewReceiver(Options{Secrets: map[string]string{orgA: secretA, orgB: secretB}, Cache: cache.New(cache.Options{}), Bus: bus, Observe: seen.observe})
	require.NoError(t, err)
	subA, err := bus.Subscribe(t.Context(), tenant.ScopeForOrg(orgA), nil, 4)
	require.NoError(t, err)
	subB, err := bus.Subscribe(t.Context(), tenant.ScopeForOrg(orgB), nil, 4)
	require.NoError(t, err)

	post := func(body []byte, secret string) (int, string) {
		req := httptest.NewRequest(http.MethodPost, ReceiverPath, bytes.NewReader(body))
		req.Header.Set(livestorm.SignatureHeader, livestorm.SignWebhook(secret, time.Now(), body))
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, req)
		return rec.Code, rec.Body.String()
	}
	toB := payload("people.registered", "people", "p-injected", orgB, `{"email":"mallory@example.com"}`)
	cases := []struct {
		name   string
		body   []byte
		secret string
		status int
	}{
		{"A's secret cannot sign an event for B", toB, secretA, http.StatusUnauthorized},
		{"no organization_id", payload("people.registered", "people", "p1", "", `{}`), secretA, http.StatusUnauthorized},
		{"an unknown organization", payload("people.registered", "people", "p1", "org-c", `{}`), secretA, http.StatusUnauthorized},
		{"organization_id at the top level is read too", []byte(`{"data":{"id":"p2","type":"people","attributes":{}},"meta":{"webhook":{"event":"people.registered","organization_id":"org-a"}}}`), secretA, http.StatusAccepted},
		{"B's own secret", payload("people.registered", "people", "p-b", orgB, `{}`), secretB, http.StatusAccepted},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, body := post(tc.body, tc.secret)
			assert.Equal(t, tc.status, status)
			if status == http.StatusUnauthorized {
				assert.Equal(t, RefusedBody, body)
			}
		})
	}
	require.NoError(t, r.Close())
	assert.Equal(t, "p2", next(t, subA).PersonID)
	assert.Equal(t, "p-b", next(t, subB).PersonID, "B receives its own event, not the injected one")
	select {
	case m := <-subB.C:
		t.Fatalf("B received %q", m.PersonID)
	default:
	}
	assert.Equal(t, 3, seen.get(LabelUnverified, ResultUnauthorized))

	_, err = NewReceiver(Options{Secret: "x", Secrets: map[string]string{"a": "b"}, Cache: cache.New(cache.Options{}), Bus: bus})
	assert.Error(t, err, "one secret or per-workspace secrets, not both")
}

func TestParseSecrets(t *testing.T) {
	got, err := ParseSecrets([]byte("# workspaces\n\norg-a  s3cret-a\n org-b\ts3cret-b \n"))
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"org-a": "s3cret-a", "org-b": "s3cret-b"}, got)
	for _, tc := range []struct{ data, want string }{
		{"org-a\n", "line 1"},
		{"org-a s1 extra\n", "line 1"},
		{"org-a s1\norg-a s2\n", `line 2: organization "org-a" is already on line 1`},
		{"# nothing\n", "no workspaces"},
	} {
		_, err := ParseSecrets([]byte(tc.data))
		require.Error(t, err)
		assert.Contains(t, err.Error(), tc.want)
		assert.Contains(t, err.Error(), "LIVESTORM_WEBHOOK_SECRETS")
		assert.NotContains(t, err.Error(), "s1")
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
