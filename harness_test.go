package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/livestorm-gateway/gateway/auth"
	"github.com/livestorm-gateway/gateway/cache"
	"github.com/livestorm-gateway/gateway/livestorm"
	"github.com/livestorm-gateway/gateway/livestormsim"
	"github.com/livestorm-gateway/gateway/telemetry"
	"github.com/livestorm-gateway/gateway/transport"
	"github.com/livestorm-gateway/gateway/webhook"
)

// harness is a gateway wired to an in-process simulator, the way run wires it to
// Livestorm: every test drives the real HTTP handler and counts real upstream requests.
type harness struct {
	sim  *livestormsim.Simulator
	gw   *httptest.Server
	deps Deps
	orgs []livestormsim.Organization
}

type harnessConfig struct {
	size        livestormsim.Size
	forwardAuth bool
	cacheTTL    time.Duration
	simConfig   func(*livestormsim.Config)
	clientOpts  []livestorm.Option
	noReuse     bool
	webhooks    bool
	tracing     *telemetry.Tracing
	logger      *slog.Logger
	configure   func(*Config)
	limits      func(*LimitsConfig)
	caller      CallerInfo
	simWrap     func(http.Handler) http.Handler
	gwWrap      func(http.Handler) http.Handler
	// anonymousRole is AUTH_ANONYMOUS_ROLE (default admin).
	anonymousRole string
	// responseCacheOff is RESPONSE_CACHE=false (it is on by default, as in production).
	responseCacheOff bool
}

type harnessOption func(*harnessConfig)

func withCacheTTL(d time.Duration) harnessOption { return func(c *harnessConfig) { c.cacheTTL = d } }
func withForwardAuth() harnessOption             { return func(c *harnessConfig) { c.forwardAuth = true } }

// withAnonymousRole sets AUTH_ANONYMOUS_ROLE for callers without a credential.
func withAnonymousRole(role string) harnessOption {
	return func(c *harnessConfig) { c.anonymousRole = role }
}
func withSize(s livestormsim.Size) harnessOption {
	return func(c *harnessConfig) { c.size = s }
}
func withSim(f func(*livestormsim.Config)) harnessOption {
	return func(c *harnessConfig) { c.simConfig = f }
}

// withoutReuse builds the resolver-per-field baseline (no cache, no dedupe, no include).
func withoutReuse() harnessOption { return func(c *harnessConfig) { c.noReuse = true } }

// withWebhooks registers the gateway's receiver with the simulator (every workspace, every
// event), as PUBLIC_URL does with Livestorm, so changes made in the simulator reach the
// gateway as signed webhooks. Failed deliveries are retried within milliseconds.
func withWebhooks() harnessOption { return func(c *harnessConfig) { c.webhooks = true } }

// withTracing records the gateway's spans with t; withLogger sends its logs to l;
// withConfig adjusts its Config before the server is built.
func withTracing(t *telemetry.Tracing) harnessOption { return func(c *harnessConfig) { c.tracing = t } }
func withLogger(l *slog.Logger) harnessOption        { return func(c *harnessConfig) { c.logger = l } }
func withConfig(f func(*Config)) harnessOption       { return func(c *harnessConfig) { c.configure = f } }

// withLimits changes the limits, which harnesses start without (noLimits: every
// per-caller and per-operation limit off, document limits and timeouts at their
// defaults) so that tests of other things are not refused.
func withLimits(f func(*LimitsConfig)) harnessOption { return func(c *harnessConfig) { c.limits = f } }

// withCaller sets who the limits think sends each request.
func withCaller(f CallerInfo) harnessOption { return func(c *harnessConfig) { c.caller = f } }

// withSimMiddleware wraps the simulator's handler (to see or hold requests as they arrive).
func withSimMiddleware(f func(http.Handler) http.Handler) harnessOption {
	return func(c *harnessConfig) { c.simWrap = f }
}

// withGatewayMiddleware wraps the gateway's handler (to see requests end, or to put
// test values in their context).
func withGatewayMiddleware(f func(http.Handler) http.Handler) harnessOption {
	return func(c *harnessConfig) { c.gwWrap = f }
}

// withoutResponseCache is RESPONSE_CACHE=false.
func withoutResponseCache() harnessOption {
	return func(c *harnessConfig) { c.responseCacheOff = true }
}

func withClient(opts ...livestorm.Option) harnessOption {
	return func(c *harnessConfig) { c.clientOpts = append(c.clientOpts, opts...) }
}

// testClock is the instant every harness simulator starts at, so seeded data (and golden
// files) do not depend on when the tests run.
var testClock = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func newHarness(t testing.TB, opts ...harnessOption) *harness {
	t.Helper()
	hc := harnessConfig{size: livestormsim.SizeSmall, cacheTTL: 5 * time.Minute, anonymousRole: "admin"}
	for _, o := range opts {
		o(&hc)
	}
	simCfg := livestormsim.Config{
		Seed:          7,
		Size:          hc.size,
		Clock:         livestormsim.NewManualClock(testClock),
		IntervalLimit: -1, // tests measure calls, not Livestorm's pacing (see the limiter tests)
		WebhookSecret: "test-secret",
	}
	if hc.webhooks {
		simCfg.WebhookTimeScale = 0.0001
	}
	if hc.simConfig != nil {
		hc.simConfig(&simCfg)
	}
	sim, err := livestormsim.New(simCfg)
	require.NoError(t, err)
	var simHandler http.Handler = sim.Handler()
	if hc.simWrap != nil {
		simHandler = hc.simWrap(simHandler)
	}
	simSrv := httptest.NewServer(simHandler)
	t.Cleanup(func() { simSrv.Close(); sim.Close() })

	orgs := sim.Organizations()
	cfg := Config{
		APIURL:        simSrv.URL + "/v1",
		ForwardAuth:   hc.forwardAuth,
		CacheTTL:      hc.cacheTTL,
		MaxComplexity: 200_000,
		MaxDepth:      12,
		MaxBatch:      10,
		Introspection: true,
		WebhookSecret: "test-secret",
		// Callers without a credential are admin unless a test says otherwise
		// (withAnonymousRole, or its own auth.Config): the tests of the graph itself
		// run with every field allowed; access_test.go tests each role.
		Auth:   auth.Config{AnonymousRole: hc.anonymousRole},
		Limits: noLimits(),

		ResponseCache:        !hc.responseCacheOff,
		ResponseCacheSize:    defaultResponseCacheMB << 20,
		ResponseCacheControl: transport.DefaultCacheControl,
	}
	if hc.limits != nil {
		hc.limits(&cfg.Limits)
	}
	if !hc.forwardAuth {
		cfg.APIToken = orgs[0].Token
	} else {
		cfg.Auth = auth.Config{} // forwarded mode: the caller's own token, admin within its scopes
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if hc.logger != nil {
		logger = hc.logger
	}
	if hc.configure != nil {
		hc.configure(&cfg)
	}
	clientOpts := append([]livestorm.Option{livestorm.WithLimiter(livestorm.NewLocalLimiter(10_000, time.Second))}, hc.clientOpts...)
	deps := newDeps(cfg, logger, clientOpts...)
	deps.noReuse = hc.noReuse
	deps.Tracing = hc.tracing
	deps.Caller = hc.caller
	handler := NewServer(deps)
	if hc.gwWrap != nil {
		handler = hc.gwWrap(handler)
	}
	gw := httptest.NewServer(handler)
	t.Cleanup(func() { gw.Close(); deps.Client.CloseIdleConnections() })
	// Runs first: drains the receiver and ends subscriptions, so no stream holds gw open.
	t.Cleanup(deps.push.Close)
	h := &harness{sim: sim, gw: gw, deps: deps, orgs: orgs}
	if hc.webhooks {
		h.registerWebhooks(t)
	}
	return h
}

// registerWebhooks subscribes the gateway's receiver to every event of every workspace
// of the simulator, then clears the request log.
func (h *harness) registerWebhooks(t testing.TB) {
	t.Helper()
	for _, org := range h.orgs {
		r, err := webhook.NewRegistrar(webhook.RegistrarOptions{
			API: h.deps.Client, Credential: livestorm.APIToken(org.Token), PublicURL: h.gw.URL,
		})
		require.NoError(t, err)
		created, err := r.Ensure(t.Context())
		require.NoError(t, err)
		require.Len(t, created, len(webhook.RegisteredEvents))
	}
	h.resetCalls()
}

// gqlResponse is a GraphQL response as a client sees it.
type gqlResponse struct {
	Data       json.RawMessage `json:"data"`
	Errors     []gqlError      `json:"errors"`
	Extensions map[string]any  `json:"extensions"`
	status     int
}

type gqlError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

func (e gqlError) code() string { s, _ := e.Extensions["code"].(string); return s }

// query POSTs a GraphQL operation; header pairs ("Authorization", "x") are added.
func (h *harness) query(t testing.TB, q string, vars map[string]any, header ...string) gqlResponse {
	t.Helper()
	return queryAt(t, h.gw.URL, q, vars, header...)
}

// queryHeaders is query that also returns the response's headers.
func (h *harness) queryHeaders(t testing.TB, q string, vars map[string]any, header ...string) (gqlResponse, http.Header) {
	t.Helper()
	return queryAtHeaders(t, h.gw.URL, q, vars, header...)
}

// queryAt POSTs a GraphQL operation to the gateway at base (e.g. a coldGateway).
func queryAt(t testing.TB, base, q string, vars map[string]any, header ...string) gqlResponse {
	t.Helper()
	r, _ := queryAtHeaders(t, base, q, vars, header...)
	return r
}

// queryAtHeaders is queryAt that also returns the response's headers.
func queryAtHeaders(t testing.TB, base, q string, vars map[string]any, header ...string) (gqlResponse, http.Header) {
	t.Helper()
	body, err := json.Marshal(map[string]any{"query": q, "variables": vars})
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, base+"/graphql", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	var out gqlResponse
	raw, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &out), "body: %.500s", raw)
	out.status = res.StatusCode
	return out, res.Header
}

// data decodes the response data into v, failing on any GraphQL error.
func (r gqlResponse) decode(t testing.TB, v any) {
	t.Helper()
	require.Empty(t, r.Errors, "unexpected GraphQL errors")
	require.NoError(t, json.Unmarshal(r.Data, v))
}

// upstreamCalls returns the number of requests the simulator has received.
func (h *harness) upstreamCalls() int { return h.sim.RequestCount() }

// resetCalls zeroes the simulator's request log.
func (h *harness) resetCalls() { h.sim.ResetRequests() }

// newHarnessServer serves another gateway built from deps (e.g. with a changed Config)
// and returns its base URL.
func newHarnessServer(t testing.TB, deps Deps) string {
	t.Helper()
	gw := httptest.NewServer(NewServer(deps))
	t.Cleanup(gw.Close)
	return gw.URL
}

// globalIDOf is a Node's global id as the README documents it: base64url (unpadded) of
// "Type:livestormId" ("Registration:sessionId:personId" for a registration).
func globalIDOf(kind string, ids ...string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(kind + ":" + strings.Join(ids, ":")))
}

// coldGateway serves another gateway over the same simulator and client but with an empty
// shared cache, so a test can gather ids through h and then count what a cold read costs.
func (h *harness) coldGateway(t testing.TB) string {
	t.Helper()
	d := h.deps
	d.Cache = cache.New(cache.Options{TTL: h.deps.Config.CacheTTL})
	return newHarnessServer(t, d)
}
