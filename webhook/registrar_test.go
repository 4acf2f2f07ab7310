package webhook

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/livestorm-gateway/gateway/livestorm"
	"github.com/livestorm-gateway/gateway/livestormsim"
)

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// registrarFixture is a simulator, a client of it, and a receiver URL that always fails
// (so Livestorm's retries end in disabling the webhook).
type registrarFixture struct {
	sim     *livestormsim.Simulator
	client  *livestorm.Client
	org     livestormsim.Organization
	public  string
	ctx     context.Context
	logs    *lockedBuffer
	webhook func() []livestorm.Webhook
}

func newRegistrarFixture(t *testing.T) *registrarFixture {
	t.Helper()
	sim, err := livestormsim.New(livestormsim.Config{IntervalLimit: -1, WebhookTimeScale: 0.0001})
	require.NoError(t, err)
	simSrv := httptest.NewServer(sim.Handler())
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down", http.StatusInternalServerError)
	}))
	client := livestorm.New(livestorm.WithBaseURL(simSrv.URL+"/v1"), livestorm.WithLimiter(livestorm.NewLocalLimiter(10_000, time.Second)))
	t.Cleanup(func() {
		sim.Close()
		simSrv.Close()
		failing.Close()
		client.CloseIdleConnections()
	})
	f := &registrarFixture{sim: sim, client: client, org: sim.Organizations()[0], public: failing.URL, logs: &lockedBuffer{}}
	f.ctx = livestorm.ContextWithCredential(t.Context(), livestorm.APIToken(f.org.Token))
	f.webhook = func() []livestorm.Webhook {
		list, err := client.ListWebhooks(f.ctx, livestorm.WebhookListOptions{Page: livestorm.Page{Size: 50}})
		require.NoError(t, err)
		return list.Items
	}
	return f
}

func (f *registrarFixture) registrar(t *testing.T, interval time.Duration) *Registrar {
	t.Helper()
	r, err := NewRegistrar(RegistrarOptions{
		API: f.client, Credential: livestorm.APIToken(f.org.Token), PublicURL: f.public + "/", Interval: interval,
		Logger: slog.New(slog.NewTextHandler(f.logs, nil)),
	})
	require.NoError(t, err)
	return r
}

func byEvent(hooks []livestorm.Webhook, url string) map[string][]string {
	out := map[string][]string{}
	for _, w := range hooks {
		if w.URL == url {
			out[w.Event] = append(out[w.Event], w.ID)
		}
	}
	return out
}

func TestRegistrarIsIdempotentAcrossStarts(t *testing.T) {
	f := newRegistrarFixture(t)
	first := f.registrar(t, time.Hour)
	assert.Equal(t, f.public+ReceiverPath, first.URL())
	created, err := first.Ensure(t.Context())
	require.NoError(t, err)
	assert.ElementsMatch(t, RegisteredEvents, created)

	// A restart (or another replica): one list call, nothing created.
	f.sim.ResetRequests()
	again, err := f.registrar(t, time.Hour).Ensure(t.Context())
	require.NoError(t, err)
	assert.Empty(t, again)
	assert.Equal(t, 1, f.sim.RequestCount(), "a single GET /webhooks")
	assert.Equal(t, 1, f.sim.CountRequests(func(r livestormsim.RequestRecord) bool {
		return r.Method == http.MethodGet && r.Route == "/webhooks"
	}))

	hooks := byEvent(f.webhook(), first.URL())
	require.Len(t, hooks, len(RegisteredEvents))
	for _, ev := range RegisteredEvents {
		assert.Len(t, hooks[ev], 1, "exactly one webhook for %s", ev)
	}

	// Two replicas that started at the same instant may both have created one: the next
	// check deletes the extra.
	_, err = f.client.CreateWebhook(f.ctx, first.URL(), livestorm.SessionEnded)
	require.NoError(t, err)
	created, err = first.Ensure(t.Context())
	require.NoError(t, err)
	assert.Empty(t, created)
	after := byEvent(f.webhook(), first.URL())
	for _, ev := range RegisteredEvents {
		assert.Len(t, after[ev], 1, "exactly one webhook for %s", ev)
	}
}

func TestRegistrarRecreatesDisabledWebhooks(t *testing.T) {
	f := newRegistrarFixture(t)
	r := f.registrar(t, 20*time.Millisecond)
	ready := make(chan struct{})
	r.Start(t.Context(), func() { close(ready) })
	defer r.Close()
	select {
	case <-ready:
	case <-time.After(5 * time.Second):
		t.Fatal("first registration did not finish")
	}
	original := byEvent(f.webhook(), r.URL())[livestorm.PeopleRegistered]
	require.Len(t, original, 1)

	// A registration: its delivery fails, is retried, and Livestorm disables the webhook.
	registered := false
	for _, ev := range f.sim.Events(f.org.ID) {
		for _, s := range ev.SessionIDs {
			if _, err := f.sim.RegisterPerson(s, "someone@example.com", "", ""); err == nil {
				registered = true
				break
			}
		}
		if registered {
			break
		}
	}
	require.True(t, registered, "some session accepts registrations")

	require.Eventually(t, func() bool {
		now := byEvent(f.webhook(), r.URL())[livestorm.PeopleRegistered]
		// The log line comes after Livestorm's answer: wait for it too, or Close could
		// cancel the create call between Livestorm storing the webhook and answering.
		return len(now) == 1 && now[0] != original[0] && strings.Contains(f.logs.String(), "webhooks re-created")
	}, 10*time.Second, 10*time.Millisecond, "a new people.registered webhook replaces the disabled one")
	require.NoError(t, r.Close())

	hooks := byEvent(f.webhook(), r.URL())
	for _, ev := range RegisteredEvents {
		assert.Len(t, hooks[ev], 1, "exactly one webhook for %s", ev)
	}
	failed := 0
	for _, d := range f.sim.Deliveries() {
		if d.Event == livestorm.PeopleRegistered && d.Status >= 500 {
			failed++
		}
	}
	assert.Equal(t, 6, failed, "one attempt and five retries before Livestorm disabled it")
	assert.Contains(t, f.logs.String(), "webhooks registered with Livestorm")
	assert.Contains(t, f.logs.String(), "webhooks re-created")
	assert.Contains(t, f.logs.String(), "people.registered")
}

func TestRegistrarNeedsItsOwnCredential(t *testing.T) {
	_, err := NewRegistrar(RegistrarOptions{API: livestorm.New(), PublicURL: "https://gw.example"})
	assert.ErrorContains(t, err, "credential")
	_, err = NewRegistrar(RegistrarOptions{API: livestorm.New(), Credential: livestorm.APIToken("t")})
	assert.ErrorContains(t, err, "PUBLIC_URL")
}
