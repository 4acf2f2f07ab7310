package livestorm_test

import (
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/livestorm-gateway/gateway/livestorm"
	"github.com/livestorm-gateway/gateway/livestormsim"
)

// TestLimiterKeepsBurstUnderFivePerSecond fires 20 concurrent GETs through
// the default limiter against a simulator enforcing Livestorm's 5 req/s: the
// simulator must see at most 5 in any 1 s window and answer no 429. It is
// not parallel: it measures real time against the simulator's windows, so it
// runs before the parallel tests load the CPU.
func TestLimiterKeepsBurstUnderFivePerSecond(t *testing.T) {
	cfg := fastConfig()
	cfg.IntervalLimit = 5
	e := newEnv(t, cfg)
	c := e.tokenClient(livestorm.WithLimiter(livestorm.NewLocalLimiter(5, time.Second)),
		livestorm.WithRetryPolicy(livestorm.RetryPolicy{MaxAttempts: 1}))
	ctx := ctxT(t)
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Go(func() {
			_, err := c.ListEvents(ctx, livestorm.EventListOptions{})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	reqs := e.sim.Requests()
	require.Len(t, reqs, 20)
	times := make([]time.Time, 0, len(reqs))
	for _, r := range reqs {
		assert.NotEqual(t, http.StatusTooManyRequests, r.Status)
		times = append(times, r.Time)
	}
	sort.Slice(times, func(i, j int) bool { return times[i].Before(times[j]) })
	for i := range times {
		if i+5 < len(times) {
			assert.GreaterOrEqual(t, times[i+5].Sub(times[i]), time.Second, "6 requests within one second at %d", i)
		}
	}
	assert.Zero(t, e.sim.CountRequests(func(r livestormsim.RequestRecord) bool { return r.Status == http.StatusTooManyRequests }))
	assert.GreaterOrEqual(t, times[19].Sub(times[0]), 3*time.Second, "20 requests need at least 3 full windows")
}

func TestRateLimitedGETIsRetriedAfterRetryAfter(t *testing.T) {
	t.Parallel()
	e := newEnv(t, fastConfig())
	var infos []livestorm.RequestInfo
	c := e.tokenClient(livestorm.WithObserver(func(i livestorm.RequestInfo) { infos = append(infos, i) }))
	e.sim.InjectFaults(livestormsim.FaultRateLimited, 1)
	start := time.Now()
	l, err := c.ListEvents(ctxT(t), livestorm.EventListOptions{})
	require.NoError(t, err)
	assert.NotEmpty(t, l.Items)
	assert.GreaterOrEqual(t, time.Since(start), 900*time.Millisecond, "waited for Retry-After: 1")
	assert.Equal(t, 2, e.count("GET", "/events"))
	require.Len(t, infos, 2)
	assert.Equal(t, http.StatusTooManyRequests, infos[0].Status)
	assert.Equal(t, livestorm.KindRateLimited, livestorm.KindOf(infos[0].Err))
	assert.Equal(t, 1, infos[0].Attempt)
	assert.Equal(t, http.StatusOK, infos[1].Status)
	assert.Equal(t, 2, infos[1].Attempt)
	assert.NoError(t, infos[1].Err)
	assert.Equal(t, "/events", infos[1].Route)
}

func TestWritesAreNeverRetried(t *testing.T) {
	t.Parallel()
	e := newEnv(t, fastConfig())
	ctx := ctxT(t)
	tests := []struct {
		name  string
		fault livestormsim.FaultKind
		kind  livestorm.Kind
		retry time.Duration
	}{
		{"5xx on POST", livestormsim.FaultServerError, livestorm.KindUnavailable, 0},
		{"429 on POST", livestormsim.FaultRateLimited, livestorm.KindRateLimited, time.Second},
		{"malformed 2xx on POST", livestormsim.FaultMalformed, livestorm.KindUnavailable, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.sim.ResetRequests()
			e.sim.InjectFaults(tt.fault, 1)
			_, err := e.client.CreateWebhook(ctx, "http://127.0.0.1:1/"+strings.ReplaceAll(tt.name, " ", "-"), livestorm.PeopleRegistered)
			require.Error(t, err)
			le := asError(t, err)
			assert.Equal(t, tt.kind, le.Kind)
			assert.Equal(t, tt.retry, le.RetryAfter)
			assert.Equal(t, 1, e.sim.RequestCount(), "exactly one upstream request")
		})
	}
}

func TestUnavailableAfterRetriesAreExhausted(t *testing.T) {
	t.Parallel()
	e := newEnv(t, fastConfig())
	ctx := ctxT(t)
	tests := []struct {
		name  string
		fault livestormsim.FaultKind
	}{
		{"server error", livestormsim.FaultServerError},
		{"malformed body", livestormsim.FaultMalformed},
		{"truncated body", livestormsim.FaultTruncated},
		{"timeout", livestormsim.FaultTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := e.tokenClient(livestorm.WithHTTPClient(&http.Client{Timeout: 150 * time.Millisecond}),
				livestorm.WithRetryPolicy(livestorm.RetryPolicy{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond}))
			e.sim.ResetRequests()
			e.sim.InjectFaults(tt.fault, 3)
			_, err := c.ListEvents(ctx, livestorm.EventListOptions{})
			require.Error(t, err)
			assert.Equal(t, livestorm.KindUnavailable, livestorm.KindOf(err), "%v", err)
			assert.ErrorIs(t, err, livestorm.ErrUnavailable)
			// A timed-out request is logged when its handler gives up, a
			// little after the client did: poll.
			eventually(t, 5*time.Second, func() bool { return e.sim.RequestCount() == 3 }, "MaxAttempts requests")
			// The faults are used up: the next call succeeds on its first attempt.
			_, err = c.ListEvents(ctx, livestorm.EventListOptions{})
			require.NoError(t, err)
			eventually(t, 5*time.Second, func() bool { return e.sim.RequestCount() == 4 }, "one more request")
		})
	}
	t.Run("recovers within the budget", func(t *testing.T) {
		e.sim.ResetRequests()
		e.sim.InjectFaults(livestormsim.FaultTruncated, 2)
		l, err := e.client.ListEvents(ctx, livestorm.EventListOptions{})
		require.NoError(t, err)
		assert.NotEmpty(t, l.Items)
		assert.Equal(t, 3, e.sim.RequestCount())
	})
}

func TestRetryBudgetGivesUpImmediately(t *testing.T) {
	t.Parallel()
	e := newEnv(t, fastConfig())
	c := e.tokenClient(livestorm.WithRetryPolicy(livestorm.RetryPolicy{MaxAttempts: 5, MaxTotalWait: 100 * time.Millisecond}))
	e.sim.InjectFaults(livestormsim.FaultRateLimited, 1)
	start := time.Now()
	_, err := c.ListEvents(ctxT(t), livestorm.EventListOptions{})
	require.Error(t, err)
	assert.Less(t, time.Since(start), 500*time.Millisecond, "no waiting past the budget")
	le := asError(t, err)
	assert.Equal(t, livestorm.KindRateLimited, le.Kind)
	assert.Equal(t, time.Second, le.RetryAfter)
	assert.Equal(t, 1, e.sim.RequestCount())
}

func TestQuotaExhausted(t *testing.T) {
	t.Parallel()
	cfg := fastConfig()
	cfg.MonthlyQuota = 3
	e := newEnv(t, cfg)
	ctx := ctxT(t)
	for range 3 {
		require.NoError(t, e.client.Ping(ctx))
	}
	rl := e.client.RateLimit(ctx)
	assert.Equal(t, 3, rl.MonthlyLimit)
	assert.Equal(t, 0, rl.MonthlyRemaining)
	err := e.client.Ping(ctx)
	require.Error(t, err)
	le := asError(t, err)
	assert.Equal(t, livestorm.KindQuotaExhausted, le.Kind, "%v", err)
	assert.ErrorIs(t, err, livestorm.ErrQuotaExhausted)
	assert.Greater(t, le.RetryAfter, time.Hour, "Retry-After points at the end of the 30-day window")
	assert.Equal(t, 4, e.sim.RequestCount(), "quota exhaustion is not retried")
}

func TestRateLimitHeadersAreRecorded(t *testing.T) {
	t.Parallel()
	cfg := fastConfig()
	cfg.IntervalLimit = 5
	e := newEnv(t, cfg)
	ctx := ctxT(t)
	var info livestorm.RequestInfo
	c := e.tokenClient(livestorm.WithObserver(func(i livestorm.RequestInfo) { info = i }))
	assert.True(t, c.RateLimit(ctx).Observed.IsZero(), "nothing seen yet")
	require.NoError(t, c.Ping(ctx))
	rl := c.RateLimit(ctx)
	assert.Equal(t, 5, rl.IntervalLimit)
	assert.Equal(t, 4, rl.IntervalRemaining)
	assert.Equal(t, 10000, rl.MonthlyLimit)
	assert.Equal(t, 9999, rl.MonthlyRemaining)
	assert.True(t, rl.Reset.After(time.Now()))
	assert.False(t, rl.Observed.IsZero())
	assert.Equal(t, rl, info.RateLimit)
	// Another credential has its own record.
	other := livestorm.ContextWithCredential(ctx, livestorm.APIToken(e.orgs[1].Token))
	assert.True(t, c.RateLimit(other).Observed.IsZero())
	require.NoError(t, c.Ping(other))
	assert.Equal(t, 9999, c.RateLimit(other).MonthlyRemaining)
	assert.Equal(t, 9999, c.RateLimit(ctx).MonthlyRemaining)
}

// TestMontlyHeaderSpelling uses a tiny hand-written server because only it
// can send the misspelt RateLimit-Montly-* headers alone (the simulator
// sends both spellings).
func TestMontlyHeaderSpelling(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/ping" || r.Header.Get("Authorization") != "tok" {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		w.Header().Set("RateLimit-Montly-Limit", "10000")
		w.Header().Set("RateLimit-Montly-Remaining", "1234")
		w.Header().Set("RateLimit-Interval-Limit", "5")
		w.Header().Set("RateLimit-Interval-Remaining", "3")
		w.Header().Set("RateLimit-Reset", "1900000000")
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	c := livestorm.New(livestorm.WithBaseURL(srv.URL+"/v1"), livestorm.WithCredential(livestorm.APIToken("tok")))
	defer c.CloseIdleConnections()
	ctx := ctxT(t)
	require.NoError(t, c.Ping(ctx))
	rl := c.RateLimit(ctx)
	assert.Equal(t, 10000, rl.MonthlyLimit)
	assert.Equal(t, 1234, rl.MonthlyRemaining)
	assert.Equal(t, 5, rl.IntervalLimit)
	assert.Equal(t, 3, rl.IntervalRemaining)
	assert.Equal(t, time.Unix(1900000000, 0).UTC(), rl.Reset)
}

func TestOversizeResponse(t *testing.T) {
	t.Parallel()
	e := newEnv(t, fastConfig())
	c := e.tokenClient(livestorm.WithMaxResponseBytes(256))
	_, err := c.ListEvents(ctxT(t), livestorm.EventListOptions{})
	require.Error(t, err)
	assert.Equal(t, livestorm.KindUnavailable, livestorm.KindOf(err))
	assert.Contains(t, err.Error(), "exceeds 256 bytes")
	assert.Equal(t, 1, e.sim.RequestCount(), "an oversize body is not retried")
}

func TestRequestHeadersAndBasePath(t *testing.T) {
	t.Parallel()
	e := newEnv(t, fastConfig())
	ctx := ctxT(t)
	var routes []string
	c := e.tokenClient(livestorm.WithUserAgent("gateway-test/1"),
		livestorm.WithObserver(func(i livestorm.RequestInfo) { routes = append(routes, i.Method+" "+i.Route) }))
	sid := e.sim.Events(e.org.ID)[0].SessionIDs[0]
	_, err := c.GetSession(ctx, sid)
	require.NoError(t, err)
	h := e.lastHeader()
	assert.Equal(t, "application/vnd.api+json", h.Get("Accept"))
	assert.Equal(t, "gateway-test/1", h.Get("User-Agent"))
	assert.Empty(t, h.Get("Content-Type"), "no body, no content type")
	_, err = c.CreateWebhook(ctx, "http://127.0.0.1:1/x", livestorm.SessionStarted)
	require.NoError(t, err)
	h = e.lastHeader()
	assert.Equal(t, "application/vnd.api+json", h.Get("Content-Type"))
	assert.Equal(t, []string{"GET /sessions/{id}", "POST /webhooks"}, routes)
	reqs := e.sim.Requests()
	assert.Equal(t, "/sessions/"+sid, reqs[0].Path, "the /v1 prefix of the base URL is kept")
	assert.Equal(t, "/sessions/{id}", reqs[0].Route)
}
