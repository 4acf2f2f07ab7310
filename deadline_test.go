package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/livestorm-gateway/gateway/livestormsim"
)

// holdRoute returns a simulator middleware that holds every request to route until its
// client gives up, reporting each arrival on arrived and each release on released.
func holdRoute(route string, arrived, released chan<- string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.TrimPrefix(r.URL.Path, "/v1") != route {
				next.ServeHTTP(w, r)
				return
			}
			arrived <- r.URL.Path
			<-r.Context().Done() // never answers: the caller must cancel
			released <- r.URL.Path
		})
	}
}

func TestOperationDeadline(t *testing.T) {
	h := newHarness(t, withLimits(func(l *LimitsConfig) { l.Timeout = 300 * time.Millisecond }))
	h.warmTenant(t)
	h.sim.SetLatency(time.Hour, 0) // Livestorm stops answering

	r := h.query(t, `{ rateLimit { monthlyLimit } events { nodes { id } } }`, nil)
	assert.Equal(t, http.StatusOK, r.status)
	var got struct {
		RateLimit *struct{ MonthlyLimit int }
		Events    *struct{}
	}
	require.NoError(t, json.Unmarshal(r.Data, &got))
	assert.NotNil(t, got.RateLimit, "what finished is returned")
	assert.Nil(t, got.Events)
	require.Len(t, r.Errors, 1)
	assert.Equal(t, "TIMEOUT", r.Errors[0].code())
	assert.Equal(t, []any{"events"}, r.Errors[0].Path)

	// The upstream call was cancelled with the operation: the simulator, which logs a
	// request when it ends, sees it end long before its hour of latency.
	require.Eventually(t, func() bool { return h.upstreamCalls() == 1 }, 5*time.Second, 5*time.Millisecond)
}

func TestTimeoutWithinRetriesIsUpstreamUnavailableWhenLivestormFails(t *testing.T) {
	// A Livestorm failure inside the deadline keeps its own code; TIMEOUT is only the
	// gateway's deadline.
	h := newHarness(t, withLimits(func(l *LimitsConfig) { l.Timeout = 5 * time.Second }))
	h.warmTenant(t)
	h.sim.InjectFaults(livestormsim.FaultServerError, 100)
	r := h.query(t, `{ events { nodes { id } } }`, nil)
	require.Len(t, r.Errors, 1)
	assert.Equal(t, "UPSTREAM_UNAVAILABLE", r.Errors[0].code())
}

func TestClientDisconnectCancelsUpstreamCalls(t *testing.T) {
	arrived, released := make(chan string, 10), make(chan string, 10)
	handlerDone := make(chan struct{}, 10)
	h := newHarness(t,
		withSimMiddleware(holdRoute("/events", arrived, released)),
		withGatewayMiddleware(func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				next.ServeHTTP(w, r)
				if r.URL.Path == "/graphql" {
					handlerDone <- struct{}{}
				}
			})
		}))
	h.warmTenant(t)
	<-handlerDone

	// One events page, then a people page per session: 1 + 24 calls if it ran.
	q := `{ events(first: 10) { nodes { sessions { nodes { people { nodes { email } } } } } } }`
	ctx, hangUp := context.WithCancel(context.Background())
	defer hangUp()
	body, _ := json.Marshal(map[string]any{"query": q})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.gw.URL+"/graphql", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	clientErr := make(chan error, 1)
	go func() {
		res, err := http.DefaultClient.Do(req)
		if err == nil {
			res.Body.Close()
		}
		clientErr <- err
	}()

	waitFor(t, arrived, "the events page to reach Livestorm")
	hangUp()
	require.ErrorIs(t, <-clientErr, context.Canceled)
	waitFor(t, released, "the gateway to cancel its call to Livestorm")
	select {
	case <-handlerDone:
	case <-time.After(5 * time.Second):
		t.Fatal("the gateway kept working on an operation whose client hung up")
	}
	// The held events page never reached the simulator proper; nothing else was sent.
	assert.Zero(t, h.upstreamCalls(), "no call was sent after the hang-up")
	assert.Empty(t, arrived)
}

func waitFor[T any](t testing.TB, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

// TestShutdownAnswersInFlightOperations runs the real main loop against a simulator that
// stops answering: on SIGTERM an operation still running after SHUTDOWN_TIMEOUT gets an
// answer, with what finished and UNAVAILABLE, instead of a closed connection.
func TestShutdownAnswersInFlightOperations(t *testing.T) {
	sim, err := livestormsim.New(livestormsim.Config{Seed: 7, Size: livestormsim.SizeTiny, IntervalLimit: -1})
	require.NoError(t, err)
	arrived, released := make(chan string, 10), make(chan string, 10)
	simSrv := httptest.NewServer(holdRoute("/events", arrived, released)(sim.Handler()))
	defer func() { simSrv.Close(); sim.Close() }()

	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	var stdout, stderr lockedBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"gw"}, env(map[string]string{
			"PORT": "0", "LIVESTORM_API_URL": simSrv.URL + "/v1", "LIVESTORM_API_TOKEN": sim.Organizations()[0].Token, "AUTH_ANONYMOUS_ROLE": "admin",
			"SHUTDOWN_TIMEOUT": "200ms",
		}), &stdout, &stderr)
	}()
	addr := regexp.MustCompile(`listening on (\S+)`)
	var base string
	require.Eventually(t, func() bool {
		if m := addr.FindStringSubmatch(stdout.String()); m != nil {
			base = "http://" + strings.Replace(m[1], "[::]", "127.0.0.1", 1)
			return true
		}
		return false
	}, 10*time.Second, 10*time.Millisecond, "no banner; stderr: %s", stderr.String())

	post := func(q string) (int, gqlResponse, error) {
		res, err := http.Post(base+"/graphql", "application/json", strings.NewReader(`{"query":`+jsonString(q)+`}`))
		if err != nil {
			return 0, gqlResponse{}, err
		}
		defer res.Body.Close()
		var r gqlResponse
		b, _ := io.ReadAll(res.Body)
		if err := json.Unmarshal(b, &r); err != nil {
			return res.StatusCode, r, fmt.Errorf("%w: %s", err, b)
		}
		return res.StatusCode, r, nil
	}
	_, warm, err := post(`{ rateLimit { monthlyLimit } }`)
	require.NoError(t, err)
	require.Empty(t, warm.Errors)

	type answer struct {
		status int
		r      gqlResponse
		err    error
	}
	answered := make(chan answer, 1)
	go func() {
		s, r, err := post(`{ rateLimit { monthlyLimit } events { nodes { id } } }`)
		answered <- answer{s, r, err}
	}()
	waitFor(t, arrived, "the events page to reach Livestorm")
	stop() // SIGTERM

	a := waitFor(t, answered, "the in-flight operation's answer")
	require.NoError(t, a.err, "an answer, not a bare EOF")
	assert.Equal(t, http.StatusOK, a.status)
	assert.Contains(t, string(a.r.Data), `"monthlyLimit"`)
	require.Len(t, a.r.Errors, 1)
	assert.Equal(t, "UNAVAILABLE", a.r.Errors[0].code())
	waitFor(t, released, "the call to Livestorm to be cancelled")
	require.NoError(t, waitFor(t, done, "run to return"))
	assert.Contains(t, stderr.String(), "ending in-flight operations")
}

// TestForwardedModeBadTokens: Livestorm is asked about a rejected credential once per 5
// minutes, and about at most 10 new credentials a minute per client IP.
func TestForwardedModeBadTokens(t *testing.T) {
	pings := func(h *harness) int {
		return h.sim.CountRequests(func(r livestormsim.RequestRecord) bool { return r.Route == "/ping" })
	}
	q := `{ events { totalCount } }`
	t.Run("one bad token, many requests", func(t *testing.T) {
		h := newHarness(t, withForwardAuth(), withLimits(func(l *LimitsConfig) { l.Verifications = defaultLimits().Verifications }))
		for range 20 {
			r := h.query(t, q, nil, "Authorization", "made-up-token")
			require.Len(t, r.Errors, 1)
			assert.Equal(t, "UNAUTHENTICATED", r.Errors[0].code())
		}
		assert.Equal(t, 1, pings(h))
	})
	t.Run("200 distinct garbage tokens from one address", func(t *testing.T) {
		h := newHarness(t, withForwardAuth(), withLimits(func(l *LimitsConfig) { l.Verifications = defaultLimits().Verifications }))
		codes := map[string]int{}
		var mu sync.Mutex
		for i := range 200 {
			r := h.query(t, q, nil, "Authorization", fmt.Sprintf("garbage-%d", i))
			require.Len(t, r.Errors, 1)
			mu.Lock()
			codes[r.Errors[0].code()]++
			mu.Unlock()
		}
		assert.Equal(t, map[string]int{"UNAUTHENTICATED": 10, "RATE_LIMITED": 190}, codes)
		assert.Equal(t, 10, pings(h), "was 200 before the limit")
		assert.Equal(t, 10, h.upstreamCalls())
	})
}

// TestUpstreamHangsAreBoundedByTheDeadline: with 30% of Livestorm's answers never coming,
// every operation still gets an answer, by its deadline, with TIMEOUT on what was lost.
func TestUpstreamHangsAreBoundedByTheDeadline(t *testing.T) {
	const deadline = 400 * time.Millisecond
	h := newHarness(t, withLimits(func(l *LimitsConfig) { l.Timeout = deadline }))
	h.warmTenant(t)
	h.sim.SetFaults(livestormsim.Faults{Timeout: 0.3, TimeoutAfter: time.Hour})
	events := h.sim.Events(h.orgs[0].ID)
	var slowest time.Duration
	codes := map[string]int{}
	for i := range 24 {
		start := time.Now()
		r := h.query(t, `query($id: ID!) { session(id: $id) { name people(first: 5) { totalCount } } }`,
			map[string]any{"id": events[i%len(events)].SessionIDs[i/len(events)]})
		slowest = max(slowest, time.Since(start))
		assert.Equal(t, http.StatusOK, r.status)
		for _, e := range r.Errors {
			codes[e.code()]++
		}
	}
	t.Logf("24 operations, 30%% of upstream calls hanging, deadline %s: slowest answer %s, errors %v", deadline, slowest.Round(time.Millisecond), codes)
	assert.Positive(t, codes["TIMEOUT"], "some calls hung")
	for code := range codes {
		assert.Equal(t, "TIMEOUT", code)
	}
}
