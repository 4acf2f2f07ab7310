package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	coderws "github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/livestorm-gateway/gateway/graphiql"
)

func get(t *testing.T, u string, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	require.NoError(t, err)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res, string(b)
}

func TestRoutes(t *testing.T) {
	h := newHarness(t)

	t.Run("healthz", func(t *testing.T) {
		res, body := get(t, h.gw.URL+"/healthz")
		assert.Equal(t, 200, res.StatusCode)
		assert.Equal(t, "ok\n", body)
	})
	t.Run("readyz verifies the server credential once", func(t *testing.T) {
		h.resetCalls()
		for range 3 {
			res, body := get(t, h.gw.URL+"/readyz")
			assert.Equal(t, 200, res.StatusCode, body)
		}
		assert.Equal(t, 1, h.upstreamCalls(), "probes reuse the verification")
	})
	t.Run("GET /graphql runs queries", func(t *testing.T) {
		res, body := get(t, h.gw.URL+"/graphql?query="+url.QueryEscape(`{ organization { name } }`))
		assert.Equal(t, 200, res.StatusCode)
		assert.Contains(t, body, h.orgs[0].Name)
	})
	t.Run("metrics use the contract names", func(t *testing.T) {
		r := h.query(t, `{ events(first: 2) { totalCount } }`, nil)
		require.Empty(t, r.Errors)
		_, body := get(t, h.gw.URL+"/metrics")
		for _, want := range []string{
			`livestorm_upstream_requests_total{code="200",method="GET",route="/events"}`,
			`livestorm_upstream_request_duration_seconds_bucket{method="GET",route="/events"`,
			`livestorm_ratelimit_remaining{window="monthly"}`,
			`gateway_cache_requests_total{resource="eventsPage",result="miss"}`,
			`gateway_subscriptions_active`,
			`gateway_graphql_operations_total{result="ok",type="query"}`,
		} {
			assert.Contains(t, body, want)
		}
	})
	t.Run("webhook receiver refuses unsigned deliveries", func(t *testing.T) {
		res, err := http.Post(h.gw.URL+"/webhooks/livestorm", "application/json", strings.NewReader(`{}`))
		require.NoError(t, err)
		res.Body.Close()
		assert.Equal(t, http.StatusUnauthorized, res.StatusCode)
	})
	t.Run("oversized bodies are refused", func(t *testing.T) {
		big := `{"query":"{ events { totalCount } }","variables":{"x":"` + strings.Repeat("a", maxBodyBytes) + `"}}`
		res, err := http.Post(h.gw.URL+"/graphql", "application/json", strings.NewReader(big))
		require.NoError(t, err)
		res.Body.Close()
		assert.GreaterOrEqual(t, res.StatusCode, 400)
		assert.Less(t, res.StatusCode, 500)
	})
}

// TestGraphiQLIsSameOrigin loads the playground through the gateway and checks every
// script and stylesheet it references is served by the gateway itself.
func TestGraphiQLIsSameOrigin(t *testing.T) {
	if !graphiql.HasLocalAssets() {
		t.Skip("GraphiQL assets not embedded: run `make assets` (make test does)")
	}
	h := newHarness(t)
	res, page := get(t, h.gw.URL+"/")
	require.Equal(t, 200, res.StatusCode)
	assert.Contains(t, res.Header.Get("Content-Type"), "text/html")
	refs := regexp.MustCompile(`(?:src|href)="([^"]+)"`).FindAllStringSubmatch(page, -1)
	require.NotEmpty(t, refs)
	for _, m := range refs {
		ref := m[1]
		if strings.HasPrefix(ref, "data:") {
			continue // inline (the empty favicon): no request at all
		}
		u, err := url.Parse(ref)
		require.NoError(t, err)
		assert.Empty(t, u.Host, "%s must be same-origin", ref)
		assert.True(t, strings.HasPrefix(ref, "/"), "%s must be an absolute path on this origin", ref)
		asset, _ := get(t, h.gw.URL+ref)
		assert.Equal(t, 200, asset.StatusCode, ref)
	}
}

func TestCORS(t *testing.T) {
	h := newHarness(t)
	h.deps.Config.AllowedOrigins = []string{"https://app.example.com"}
	gw := newHarnessServer(t, h.deps)

	preflightWith := func(base, origin, headers string) *http.Response {
		req, _ := http.NewRequest(http.MethodOptions, base+"/graphql", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", headers)
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		res.Body.Close()
		return res
	}
	preflight := func(origin string) *http.Response {
		return preflightWith(gw, origin, "authorization,content-type") // as browsers send it: lowercase, sorted
	}
	assert.Equal(t, "https://app.example.com", preflight("https://app.example.com").Header.Get("Access-Control-Allow-Origin"))
	assert.Empty(t, preflight("https://evil.example.net").Header.Get("Access-Control-Allow-Origin"))

	t.Run("Apollo Client's and tracing headers pass the preflight", func(t *testing.T) {
		// What Apollo Client 4 with clientAwareness sends, plus W3C trace context.
		const apollo = "apollographql-client-name,apollographql-client-version,authorization,baggage,content-type,traceparent,tracestate,x-request-id"
		res := preflightWith(gw, "https://app.example.com", apollo)
		assert.Equal(t, "https://app.example.com", res.Header.Get("Access-Control-Allow-Origin"))
		assert.Equal(t, apollo, res.Header.Get("Access-Control-Allow-Headers"))
		res = preflightWith(gw, "https://app.example.com", "authorization,x-not-allowed")
		assert.Empty(t, res.Header.Get("Access-Control-Allow-Origin"), "a header off the list fails the preflight")
	})
	t.Run("responses expose what clients read", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, gw+"/graphql", strings.NewReader(`{"query":"{ __typename }"}`))
		req.Header.Set("Origin", "https://app.example.com")
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		res.Body.Close()
		exposed := strings.ToLower(res.Header.Get("Access-Control-Expose-Headers"))
		for _, h := range []string{"etag", "retry-after", "x-request-id", "ratelimit-remaining"} {
			assert.Contains(t, exposed, h)
		}
	})
	t.Run("CORS_ALLOWED_HEADERS replaces the list", func(t *testing.T) {
		cfg, err := LoadConfig(env(map[string]string{"LIVESTORM_API_TOKEN": "tok", "CORS_ALLOWED_HEADERS": "Authorization, Content-Type, X-Tenant"}))
		require.NoError(t, err)
		d := h.deps
		d.Config.AllowedOrigins, d.Config.AllowedHeaders = []string{"https://app.example.com"}, cfg.AllowedHeaders
		custom := newHarnessServer(t, d)
		assert.Equal(t, "https://app.example.com", preflightWith(custom, "https://app.example.com", "authorization,x-tenant").Header.Get("Access-Control-Allow-Origin"))
		assert.Empty(t, preflightWith(custom, "https://app.example.com", "apollographql-client-name").Header.Get("Access-Control-Allow-Origin"))
	})

	t.Run("WebSocket origins follow the same list", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		wsURL := "ws" + strings.TrimPrefix(gw, "http") + "/graphql"
		dial := func(origin string) error {
			c, res, err := coderws.Dial(ctx, wsURL, &coderws.DialOptions{
				Subprotocols: []string{"graphql-transport-ws"},
				HTTPHeader:   http.Header{"Origin": {origin}},
			})
			if res != nil && res.Body != nil {
				res.Body.Close()
			}
			if c != nil {
				c.CloseNow()
			}
			return err
		}
		assert.NoError(t, dial("https://app.example.com"))
		assert.Error(t, dial("https://evil.example.net"))
	})
}

func TestSSEQuery(t *testing.T) {
	h := newHarness(t)
	req, _ := http.NewRequest(http.MethodPost, h.gw.URL+"/graphql", strings.NewReader(`{"query":"{ organization { name } }"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	assert.Contains(t, res.Header.Get("Content-Type"), "text/event-stream")
	var events []string
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		if line := sc.Text(); strings.HasPrefix(line, "event: ") {
			events = append(events, strings.TrimPrefix(line, "event: "))
		} else if strings.HasPrefix(line, "data: ") && strings.Contains(line, h.orgs[0].Name) {
			events = append(events, "has-data")
		}
	}
	assert.Equal(t, []string{"next", "has-data", "complete"}, events)
}
