package livestormsim

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestInjectedFaults(t *testing.T) {
	h := newHarness(t, func(c *Config) {
		c.IntervalLimit, c.MonthlyQuota = 1000, 100000
		c.Faults.TimeoutAfter = 20 * time.Millisecond
	})
	clean := h.get("/events").must(t, http.StatusOK)
	tests := []struct {
		kind   FaultKind
		status int
		check  func(t *testing.T, r apiResp)
	}{
		{FaultRateLimited, 429, func(t *testing.T, r apiResp) {
			assert.Equal(t, "1", r.header.Get("Retry-After"))
			assert.NotEmpty(t, r.header.Get("RateLimit-Monthly-Remaining"))
			assert.Equal(t, "too_many_requests", r.errorStatus())
		}},
		{FaultServerError, 503, func(t *testing.T, r apiResp) { assert.Equal(t, "service_unavailable", r.errorStatus()) }},
		{FaultTimeout, 504, func(t *testing.T, r apiResp) { assert.Equal(t, "gateway_timeout", r.errorStatus()) }},
		{FaultTruncated, 200, func(t *testing.T, r apiResp) {
			assert.Len(t, r.body, len(clean.body)/2)
			assert.False(t, json.Valid(r.body))
		}},
		{FaultMalformed, 200, func(t *testing.T, r apiResp) {
			assert.False(t, json.Valid(r.body))
			assert.Equal(t, mediaType, r.header.Get("Content-Type"), "it still claims to be JSON")
		}},
	}
	for _, tc := range tests {
		t.Run(string(tc.kind), func(t *testing.T) {
			h.sim.InjectFaults(tc.kind, 2)
			h.do("GET", "/events", "", nil).must(t, http.StatusUnauthorized) // faults apply after authentication
			for i := 0; i < 2; i++ {
				r := h.get("/events").must(t, tc.status)
				tc.check(t, r)
				reqs := h.sim.Requests()
				assert.Equal(t, tc.kind, reqs[len(reqs)-1].Fault)
			}
			h.get("/events").must(t, http.StatusOK)
		})
	}
	t.Run("invalid injections are ignored", func(t *testing.T) {
		h.sim.InjectFaults("earthquake", 3)
		h.sim.InjectFaults(FaultServerError, 0)
		h.get("/ping").must(t, http.StatusOK)
	})
	t.Run("truncation leaves error responses alone", func(t *testing.T) {
		h.sim.InjectFaults(FaultTruncated, 1)
		r := h.get("/events/unknown").must(t, http.StatusNotFound)
		assert.True(t, json.Valid(r.body))
	})
}

func TestRandomFaultsAndLatency(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Faults = Faults{ServerError: 1} })
	for i := 0; i < 5; i++ {
		r := h.get("/ping")
		assert.Contains(t, []int{500, 502, 503}, r.status)
	}
	h.sim.SetFaults(Faults{ServerError: 2}) // invalid: ignored
	assert.GreaterOrEqual(t, h.get("/ping").status, 500)
	h.sim.SetFaults(Faults{})
	h.get("/ping").must(t, http.StatusOK)

	t.Run("latency delays responses until the client gives up", func(t *testing.T) {
		h.sim.SetLatency(time.Hour, 0)
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.base+"/ping", nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", h.org.Token)
		_, err = h.http.Do(req)
		require.Error(t, err)
		eventually(t, func() bool {
			reqs := h.sim.Requests()
			return len(reqs) > 0 && reqs[len(reqs)-1].Path == "/ping" && reqs[len(reqs)-1].Status == 0
		}, "abandoned request logged with status 0")
		h.sim.SetLatency(0, 0)
		h.get("/ping").must(t, http.StatusOK)
	})
}

// TestCloseUnblocksHangingRequests: Close returns while a timeout fault
// holds a request.
func TestCloseUnblocksHangingRequests(t *testing.T) {
	sim, err := New(Config{Size: SizeTiny, Clock: NewManualClock(testStart)})
	require.NoError(t, err)
	base, err := sim.Start("127.0.0.1:0")
	require.NoError(t, err)
	_, err = sim.Start("127.0.0.1:0")
	assert.Error(t, err, "already started")
	sim.InjectFaults(FaultTimeout, 1)
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	done := make(chan int, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodGet, base+"/ping", nil)
		req.Header.Set("Authorization", sim.Organizations()[0].Token)
		resp, err := (&http.Client{Transport: tr}).Do(req)
		if err != nil {
			done <- 0
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	eventually(t, func() bool { return sim.RequestCount() == 0 && sim.faultQueueLen() == 0 }, "request is hanging")
	sim.Close()
	assert.Contains(t, []int{0, http.StatusServiceUnavailable}, <-done)
	_, err = sim.Start("127.0.0.1:0")
	assert.Error(t, err, "closed")
}

func (s *Simulator) faultQueueLen() int {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	return len(s.faults.queue)
}
