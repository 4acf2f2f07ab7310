package livestorm_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/livestorm-gateway/gateway/livestorm"
	"github.com/livestorm-gateway/gateway/livestormsim"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// env is one simulator behind an httptest server, and a client for its first
// organization. Everything is torn down with the test.
type env struct {
	sim    *livestormsim.Simulator
	srv    *httptest.Server
	org    livestormsim.Organization
	orgs   []livestormsim.Organization
	base   string
	client *livestorm.Client

	mu      sync.Mutex
	headers []http.Header // request headers seen by the server, in order
	clients []*livestorm.Client
}

// fastConfig is a simulator without interval limiting, so functional tests
// do not spend seconds in the 5 req/s limiter. Limiter behaviour has its own
// tests with the real limits.
func fastConfig() livestormsim.Config {
	return livestormsim.Config{Seed: 7, Size: livestormsim.SizeTiny, WebhookTimeScale: 0.001, IntervalLimit: -1, JobTaskInterval: time.Millisecond}
}

// newEnv starts cfg's simulator. Client options are appended after the test
// defaults (base URL, the org's API token, no client-side limiter, quick
// retries), so they can override them.
func newEnv(t *testing.T, cfg livestormsim.Config, opts ...livestorm.Option) *env {
	t.Helper()
	sim, err := livestormsim.New(cfg)
	require.NoError(t, err)
	e := &env{sim: sim}
	h := sim.Handler()
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		e.headers = append(e.headers, r.Header.Clone())
		e.mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	e.orgs = sim.Organizations()
	require.NotEmpty(t, e.orgs)
	e.org = e.orgs[0]
	e.base = e.srv.URL + "/v1"
	e.client = e.tokenClient(opts...)
	t.Cleanup(func() {
		e.srv.Close()
		sim.Close()
		e.mu.Lock()
		defer e.mu.Unlock()
		for _, c := range e.clients {
			c.CloseIdleConnections()
		}
	})
	return e
}

// newClient builds another client on the same simulator (no default
// credential unless given).
func (e *env) newClient(opts ...livestorm.Option) *livestorm.Client {
	base := []livestorm.Option{
		livestorm.WithBaseURL(e.base),
		livestorm.WithLimiter(nil),
		livestorm.WithRetryPolicy(livestorm.RetryPolicy{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond, MaxTotalWait: 5 * time.Second}),
	}
	c := livestorm.New(append(base, opts...)...)
	e.mu.Lock()
	e.clients = append(e.clients, c)
	e.mu.Unlock()
	return c
}

// tokenClient is newClient authenticated with the first organization's API
// token; opts come after it, so they may replace it.
func (e *env) tokenClient(opts ...livestorm.Option) *livestorm.Client {
	return e.newClient(append([]livestorm.Option{livestorm.WithCredential(livestorm.APIToken(e.org.Token))}, opts...)...)
}

func (e *env) lastHeader() http.Header {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.headers) == 0 {
		return nil
	}
	return e.headers[len(e.headers)-1]
}

// count returns the simulator's request count for method+route template.
func (e *env) count(method, route string) int {
	return e.sim.CountRequests(func(r livestormsim.RequestRecord) bool {
		return (method == "" || r.Method == method) && (route == "" || r.Route == route)
	})
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, timeout time.Duration, cond func() bool, msg string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for: %s", timeout, msg)
		}
		<-tick.C
	}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// asError requires err to be (or wrap) a *livestorm.Error and returns it.
func asError(t *testing.T, err error) *livestorm.Error {
	t.Helper()
	var le *livestorm.Error
	require.ErrorAs(t, err, &le)
	return le
}

func strp(s string) *string { return &s }
func boolp(b bool) *bool    { return &b }

// upcomingSession returns a seeded session that still accepts registrations.
func (e *env) upcomingSession(t *testing.T) livestorm.Session {
	t.Helper()
	l, err := e.client.ListSessions(ctxT(t), livestorm.SessionListOptions{Status: "upcoming"})
	require.NoError(t, err)
	require.NotEmpty(t, l.Items, "the seed has upcoming sessions")
	return l.Items[0]
}
