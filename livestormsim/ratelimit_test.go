package livestormsim

import (
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// wallClock is a settable replacement for the rate limiter's time.Now, so
// one-second windows and quota windows can be tested without sleeping.
type wallClock struct {
	mu  sync.Mutex
	now time.Time
}

func (w *wallClock) Now() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.now
}

func (w *wallClock) Advance(d time.Duration) {
	w.mu.Lock()
	w.now = w.now.Add(d)
	w.mu.Unlock()
}

func newLimitedHarness(t *testing.T, interval, quota int, window time.Duration) (*harness, *wallClock) {
	h := newHarness(t, func(c *Config) { c.IntervalLimit, c.MonthlyQuota, c.QuotaWindow = interval, quota, window })
	wall := &wallClock{now: time.Date(2026, 3, 2, 10, 0, 0, 100_000_000, time.UTC)}
	h.sim.limiter.now = wall.Now
	return h, wall
}

func headerInt(t *testing.T, r apiResp, name string) int {
	t.Helper()
	v := r.header.Get(name)
	require.NotEmptyf(t, v, "header %s", name)
	n, err := strconv.Atoi(v)
	require.NoError(t, err)
	return n
}

func TestRateLimitHeaders(t *testing.T) {
	h, wall := newLimitedHarness(t, 5, 100, 30*24*time.Hour)
	r := h.get("/ping").must(t, http.StatusOK)
	for _, name := range []string{"RateLimit-Monthly-Limit", "RateLimit-Montly-Limit"} {
		assert.Equal(t, 100, headerInt(t, r, name))
	}
	for _, name := range []string{"RateLimit-Monthly-Remaining", "RateLimit-Montly-Remaining"} {
		assert.Equal(t, 99, headerInt(t, r, name))
	}
	assert.Equal(t, 5, headerInt(t, r, "RateLimit-Interval-Limit"))
	assert.Equal(t, 4, headerInt(t, r, "RateLimit-Interval-Remaining"))
	assert.Equal(t, int(wall.Now().Add(30*24*time.Hour).Unix()), headerInt(t, r, "RateLimit-Reset"), "reset = end of the rolling window that began with the first request")
	assert.Empty(t, r.header.Get("Retry-After"))

	t.Run("error responses carry them too", func(t *testing.T) {
		r := h.get("/events/nope").must(t, http.StatusNotFound)
		assert.Equal(t, 98, headerInt(t, r, "RateLimit-Monthly-Remaining"))
	})
	t.Run("unauthenticated requests neither carry nor count", func(t *testing.T) {
		for i := 0; i < 10; i++ {
			r := h.do("GET", "/ping", "", nil).must(t, http.StatusUnauthorized)
			assert.Empty(t, r.header.Get("RateLimit-Monthly-Remaining"))
		}
		r := h.get("/ping").must(t, http.StatusOK)
		assert.Equal(t, 97, headerInt(t, r, "RateLimit-Monthly-Remaining"))
	})
}

func TestRateLimitBurst(t *testing.T) {
	h, wall := newLimitedHarness(t, 5, 1000, 30*24*time.Hour)
	hook := map[string]any{"data": map[string]any{"type": "webhooks", "attributes": map[string]any{"url": "https://h.example.com", "event": "session.ended"}}}
	var ok, limited int
	for i := 0; i < 10; i++ {
		r := h.do("POST", "/webhooks", h.org.Token, hook)
		switch r.status {
		case http.StatusCreated:
			ok++
		case http.StatusTooManyRequests:
			limited++
			assert.Equal(t, "too_many_requests", r.errorStatus())
			assert.GreaterOrEqual(t, headerInt(t, r, "Retry-After"), 1)
			assert.Equal(t, 0, headerInt(t, r, "RateLimit-Interval-Remaining"))
		default:
			t.Fatalf("unexpected status %d", r.status)
		}
	}
	assert.Equal(t, 5, ok)
	assert.Equal(t, 5, limited)
	assert.Len(t, h.listAll("/webhooks", h.org2.Token), 0)
	// The rejected requests were not executed and did not use the quota.
	wall.Advance(time.Second)
	r := h.get("/webhooks").must(t, http.StatusOK)
	assert.Equal(t, float64(5), r.meta()["record_count"])
	assert.Equal(t, 1000-6, headerInt(t, r, "RateLimit-Monthly-Remaining"))

	t.Run("other organizations are not affected", func(t *testing.T) {
		for i := 0; i < 3; i++ { // the GET /webhooks above used the first slot of this second
			h.get("/ping").must(t, http.StatusOK)
		}
		h.get("/ping").must(t, http.StatusOK)
		h.get("/ping").must(t, http.StatusTooManyRequests)
		h.do("GET", "/ping", h.org2.Token, nil).must(t, http.StatusOK)
	})
	t.Run("limited requests are logged", func(t *testing.T) {
		n := h.sim.CountRequests(func(r RequestRecord) bool { return r.Status == http.StatusTooManyRequests })
		assert.Equal(t, 6, n)
	})
}

func TestMonthlyQuota(t *testing.T) {
	h, wall := newLimitedHarness(t, -1, 3, time.Hour)
	for i := 0; i < 3; i++ {
		h.get("/ping").must(t, http.StatusOK)
		wall.Advance(time.Minute)
	}
	r := h.get("/ping").must(t, http.StatusTooManyRequests)
	assert.Equal(t, 0, headerInt(t, r, "RateLimit-Monthly-Remaining"))
	assert.Equal(t, 0, headerInt(t, r, "RateLimit-Montly-Remaining"))
	assert.Equal(t, 57*60, headerInt(t, r, "Retry-After"), "seconds until the window that began at the first request ends")
	assert.Empty(t, r.header.Get("RateLimit-Interval-Limit"), "unlimited interval: no interval headers")
	assert.Contains(t, string(r.body), "quota")
	h.do("GET", "/ping", h.org2.Token, nil).must(t, http.StatusOK)

	wall.Advance(57 * time.Minute)
	r = h.get("/ping").must(t, http.StatusOK)
	assert.Equal(t, 2, headerInt(t, r, "RateLimit-Monthly-Remaining"), "a new window starts")
}
