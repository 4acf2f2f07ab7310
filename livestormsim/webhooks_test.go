package livestormsim

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fastRetries makes the default schedule (30s … 12m) take about 1.3 ms … 34 ms.
func fastRetries(c *Config) { c.WebhookTimeScale = 0.00005 }

func (h *harness) webhookIDs(token string) []string { return ids(h.listAll("/webhooks", token)) }

func TestWebhookRetryThenDisable(t *testing.T) {
	h := newHarness(t, fastRetries)
	rcv := newWebhookReceiver(t, func(int) int { return http.StatusInternalServerError })
	healthy := newWebhookReceiver(t, nil)
	h.subscribe(h.org.Token, rcv.srv.URL, "people.registered")
	h.subscribe(h.org.Token, healthy.srv.URL, "people.registered")
	require.Len(t, h.webhookIDs(h.org.Token), 2)

	upcoming := h.sessionWithStatus(statusUpcoming, nil)
	h.do("POST", "/sessions/"+upcoming.id+"/people", h.org.Token, registrationBody("retry@example.com")).must(t, http.StatusCreated)

	// One first attempt plus the five retries of the schedule, then removal.
	eventually(t, func() bool { return len(h.webhookIDs(h.org.Token)) == 1 }, "failing webhook disabled")
	assert.Len(t, rcv.received(), 6)
	var attempts []int
	for _, d := range h.sim.Deliveries() {
		if d.URL == rcv.srv.URL {
			attempts = append(attempts, d.Attempt)
			assert.Equal(t, http.StatusInternalServerError, d.Status)
			assert.Equal(t, "people.registered", d.Event)
			assert.Equal(t, h.org.ID, d.OrgID)
			assert.NotEmpty(t, d.Err)
		}
	}
	assert.Equal(t, []int{1, 2, 3, 4, 5, 6}, attempts)
	assert.Equal(t, 1, healthy.count("people.registered"), "the healthy webhook got it once")

	t.Run("re-creating re-enables", func(t *testing.T) {
		h.subscribe(h.org.Token, rcv.srv.URL, "people.registered")
		assert.Len(t, h.webhookIDs(h.org.Token), 2)
	})
}

func TestWebhookRetryThenSuccess(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.WebhookRetrySchedule = []time.Duration{time.Millisecond, 2 * time.Millisecond} })
	rcv := newWebhookReceiver(t, func(n int) int {
		if n < 3 {
			return http.StatusBadGateway
		}
		return http.StatusNoContent
	})
	h.subscribe(h.org.Token, rcv.srv.URL, "event.created")
	h.do("POST", "/events", h.org.Token, map[string]any{"data": map[string]any{"type": "events", "attributes": map[string]any{"title": "Retry me"}}}).must(t, http.StatusCreated)
	eventually(t, func() bool { return len(rcv.received()) == 3 }, "third attempt")
	eventually(t, func() bool { return len(h.sim.Deliveries()) == 3 }, "three attempts recorded")
	d := h.sim.Deliveries()
	assert.Equal(t, []int{502, 502, 204}, []int{d[0].Status, d[1].Status, d[2].Status})
	assert.Empty(t, d[2].Err)
	assert.Len(t, h.webhookIDs(h.org.Token), 1, "still subscribed")
	// Every attempt is signed with a fresh signature over the same body.
	for _, r := range rcv.received() {
		verifySignature(t, r.signature, h.org.WebhookSecret, r.body)
		assert.Equal(t, string(rcv.received()[0].body), string(r.body))
	}
}

func TestWebhookUnreachable(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.WebhookRetrySchedule = []time.Duration{time.Millisecond} })
	dead := httptest.NewServer(http.NotFoundHandler())
	url := dead.URL
	dead.Close()
	h.subscribe(h.org.Token, url, "event.created")
	h.do("POST", "/events", h.org.Token, map[string]any{"data": map[string]any{"type": "events", "attributes": map[string]any{}}}).must(t, http.StatusCreated)
	eventually(t, func() bool { return len(h.webhookIDs(h.org.Token)) == 0 }, "unreachable webhook disabled")
	d := h.sim.Deliveries()
	require.Len(t, d, 2)
	for _, del := range d {
		assert.Zero(t, del.Status)
		assert.NotEmpty(t, del.Err)
	}
}

// TestWebhookDeliveryIsAsynchronous: a receiver that hangs does not delay
// the API call that caused the delivery.
func TestWebhookDeliveryIsAsynchronous(t *testing.T) {
	h := newHarness(t, nil)
	release := make(chan struct{})
	arrived := make(chan struct{}, 1)
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-release
	}))
	defer slow.Close()
	defer close(release)
	h.subscribe(h.org.Token, slow.URL, "event.created")
	h.do("POST", "/events", h.org.Token, map[string]any{"data": map[string]any{"type": "events", "attributes": map[string]any{}}}).must(t, http.StatusCreated)
	<-arrived // the delivery is in flight while the API call has already returned
	h.get("/events").must(t, http.StatusOK)
}

func TestWebhookManagement(t *testing.T) {
	h := newHarness(t, nil)
	t.Run("LAR spelling target_url/event_name", func(t *testing.T) {
		r := h.do("POST", "/webhooks", h.org.Token, map[string]any{"data": map[string]any{"type": "webhooks", "attributes": map[string]any{"target_url": "https://lar.example.com/hook", "event_name": "job.ended"}}}).must(t, http.StatusCreated)
		a := attrs(r.data())
		assert.Equal(t, "https://lar.example.com/hook", a["url"])
		assert.Equal(t, "job.ended", a["event"])
		assert.Equal(t, float64(h.sim.Now().Unix()), a["created_at"])
	})
	t.Run("duplicates are kept", func(t *testing.T) {
		h.subscribe(h.org.Token, "https://dup.example.com", "session.ended", "session.ended")
		assert.Len(t, h.listAll("/webhooks?filter[event]=session.ended", h.org.Token), 2)
	})
	t.Run("job.created is accepted", func(t *testing.T) {
		h.subscribe(h.org.Token, "https://jobs.example.com", "job.created")
	})
	t.Run("https required when configured", func(t *testing.T) {
		strict := newHarness(t, func(c *Config) { c.RequireHTTPSWebhooks = true })
		strict.do("POST", "/webhooks", strict.org.Token, map[string]any{"data": map[string]any{"type": "webhooks", "attributes": map[string]any{"url": "http://plain.example.com", "event": "session.ended"}}}).must(t, http.StatusUnprocessableEntity)
		strict.subscribe(strict.org.Token, "https://tls.example.com", "session.ended")
	})
}
