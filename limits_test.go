package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/livestorm-gateway/gateway/livestormsim"
)

// testCallerKey carries the identity withRoleHeader reads from X-Test-Caller and
// X-Test-Role, standing in for package auth.
type testCallerKey struct{}

// withRoleHeader makes each request's caller the one its X-Test-Caller / X-Test-Role
// headers name (default: an anonymous public caller), the way an authenticated caller
// reaches the limits.
func withRoleHeader() harnessOption {
	return func(c *harnessConfig) {
		c.caller = func(ctx context.Context) callerIdentity {
			id, _ := ctx.Value(testCallerKey{}).(callerIdentity)
			return id
		}
		c.gwWrap = func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				id := callerIdentity{ID: r.Header.Get("X-Test-Caller"), Role: r.Header.Get("X-Test-Role"), IP: "192.0.2.1"}
				if id.Role == "" {
					id.Role = rolePublic
				}
				if id.ID == "" {
					id.ID = "ip:" + id.IP
				}
				next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), testCallerKey{}, id)))
			})
		}
	}
}

// abusiveShape is a document the limits must refuse before parsing or validation costs
// anything: the shapes of the issue, and smaller variants under the token limit that
// reach the other limits.
type abusiveShape struct {
	name  string
	query string
	code  string
	// slowBefore: the gateway without limits needs minutes on it (the benchmark skips
	// its "old" run).
	slowBefore bool
}

func repeat(format string, n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, format, i)
	}
	return b.String()
}

func abusiveShapes() []abusiveShape {
	var doubling strings.Builder
	doubling.WriteString("query { ...F0 }")
	for i := range 24 {
		fmt.Fprintf(&doubling, " fragment F%d on Query { ...F%d ...F%d }", i, i+1, i+1)
	}
	doubling.WriteString(" fragment F24 on Query { __typename }")
	return []abusiveShape{
		{"10,000 duplicated events { totalCount }", "{" + strings.Repeat(" events { totalCount }", 10_000) + " }", "GRAPHQL_PARSE_FAILED", false},
		{"10,000 duplicated __typename", "{" + strings.Repeat(" __typename", 10_000) + " }", "GRAPHQL_PARSE_FAILED", false},
		{"1,000 duplicated __typename", "{" + strings.Repeat(" __typename", 1_000) + " }", "DOCUMENT_LIMIT_EXCEEDED", false},
		{"fragment doubling (2^24 fields, 0.8 KB)", doubling.String(), "DOCUMENT_LIMIT_EXCEEDED", false},
		{"20,000 aliases", "{" + repeat(" a%d: __typename", 20_000) + " }", "GRAPHQL_PARSE_FAILED", false},
		{"150 aliases", "{" + repeat(" a%d: __typename", 150) + " }", "DOCUMENT_LIMIT_EXCEEDED", false},
		{"5,000 directives", "{ __typename" + strings.Repeat(" @skip(if: false)", 5_000) + " }", "GRAPHQL_PARSE_FAILED", false},
		{"60 directives", "{ __typename" + strings.Repeat(" @skip(if: false)", 60) + " }", "DOCUMENT_LIMIT_EXCEEDED", false},
		{"450 aliased event(id:) with distinct ids", aliasedLookups(450), "GRAPHQL_PARSE_FAILED", false},
		{"95,000 duplicated __typename (1 MiB)", "{" + strings.Repeat(" __typename", 95_000) + " }", "GRAPHQL_PARSE_FAILED", true},
	}
}

// aliasedLookups is the alias-quota attack: n aliased event(id:) with distinct ids.
func aliasedLookups(n int) string {
	return "{" + repeat(` e%[1]d: event(id: "00000000-0000-4000-8000-%012[1]d") { id title }`, n) + " }"
}

// TestAbusiveDocumentsAreRefusedUpFront: each shape is refused before execution (no data;
// 200 for application/json, 400 for application/graphql-response+json, as GraphQL over
// HTTP says for requests that fail before execution) with its code and no upstream call;
// the playground's own introspection query still passes.
func TestAbusiveDocumentsAreRefusedUpFront(t *testing.T) {
	h := newHarness(t)
	for _, tc := range abusiveShapes() {
		t.Run(tc.name, func(t *testing.T) {
			h.resetCalls()
			r := h.query(t, tc.query, nil)
			assert.Equal(t, http.StatusOK, r.status)
			assert.Contains(t, []string{"", "null"}, string(r.Data), "refused before execution: no data")
			require.Len(t, r.Errors, 1)
			assert.Equal(t, tc.code, r.Errors[0].code(), r.Errors[0].Message)
			assert.Zero(t, h.upstreamCalls())
		})
	}
	t.Run("GraphiQL's introspection query passes", func(t *testing.T) {
		q, err := os.ReadFile("graph/testdata/introspection.graphql")
		require.NoError(t, err)
		r := h.query(t, string(q), nil)
		assert.Empty(t, r.Errors)
		assert.Equal(t, http.StatusOK, r.status)
	})
}

func TestCostLimit(t *testing.T) {
	h := newHarness(t, withRoleHeader(), withLimits(func(l *LimitsConfig) {
		l.MaxUpstreamCalls = defaultLimits().MaxUpstreamCalls
	}))
	h.warmTenant(t)
	q := aliasedLookups(11) // 11 distinct lookups: over public's 10, under viewer's 50

	t.Run("over the caller's limit: refused before any call", func(t *testing.T) {
		r := h.query(t, q, nil, "Accept", "application/graphql-response+json")
		assert.Equal(t, http.StatusBadRequest, r.status)
		require.Len(t, r.Errors, 1)
		assert.Equal(t, "COST_LIMIT_EXCEEDED", r.Errors[0].code())
		assert.Equal(t, map[string]any{"estimated": 11.0, "limit": 10.0}, r.Errors[0].Extensions["cost"])
		assert.Contains(t, []string{"", "null"}, string(r.Data), "no data")
		assert.Zero(t, h.upstreamCalls())
	})
	t.Run("the alias-quota attack at 60 distinct ids", func(t *testing.T) {
		r := h.query(t, aliasedLookups(60), nil, "X-Test-Role", "admin")
		require.Len(t, r.Errors, 1)
		assert.Equal(t, "COST_LIMIT_EXCEEDED", r.Errors[0].code())
		assert.Equal(t, map[string]any{"estimated": 60.0, "limit": 50.0}, r.Errors[0].Extensions["cost"])
		assert.Zero(t, h.upstreamCalls())
	})
	t.Run("a viewer's limit is higher", func(t *testing.T) {
		r := h.query(t, q, nil, "X-Test-Role", "viewer")
		assert.Equal(t, http.StatusOK, r.status)
		assert.Len(t, r.Errors, 11, "eleven NOT_FOUND: the ids do not exist")
		assert.Equal(t, 11, h.upstreamCalls())
	})
	assert.Contains(t, h.metrics(t), `gateway_cost_rejected_total{reason="cost_limit"} 2`)
}

func (h *harness) metrics(t testing.TB) string {
	t.Helper()
	res, err := http.Get(h.gw.URL + "/metrics")
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return string(b)
}

func TestCallerRateLimit(t *testing.T) {
	h := newHarness(t, withRoleHeader(), withLimits(func(l *LimitsConfig) {
		l.RateLimit["public"] = rateLimit{PerSecond: 0.1, Burst: 2} // two now, then one per 10 s
	}))
	q := `{ __typename }`
	for i := range 2 {
		r := h.query(t, q, nil)
		require.Empty(t, r.Errors, "request %d is within the burst", i)
	}
	r, hdr := h.queryHeaders(t, q, nil)
	assert.Equal(t, http.StatusTooManyRequests, r.status)
	require.Len(t, r.Errors, 1)
	assert.Equal(t, "RATE_LIMITED", r.Errors[0].code())
	retry, err := strconv.Atoi(hdr.Get("Retry-After"))
	require.NoError(t, err)
	assert.InDelta(t, 10, retry, 1)
	assert.EqualValues(t, retry, r.Errors[0].Extensions["retryAfter"])

	t.Run("another caller has its own rate", func(t *testing.T) {
		r := h.query(t, q, nil, "X-Test-Caller", "ip:198.51.100.7")
		assert.Empty(t, r.Errors)
	})
	t.Run("viewers are not rate limited by default", func(t *testing.T) {
		for range 5 {
			r := h.query(t, q, nil, "X-Test-Role", "viewer")
			require.Empty(t, r.Errors)
		}
	})
	assert.Zero(t, h.upstreamCalls())
}

func TestHourlyBudget(t *testing.T) {
	h := newHarness(t, withRoleHeader(), withLimits(func(l *LimitsConfig) {
		l.UpstreamBudget["public"] = 5
	}))
	events := h.sim.Events(h.orgs[0].ID)
	lookup := func(ids ...int) string {
		var b strings.Builder
		b.WriteString("{")
		for _, i := range ids {
			fmt.Fprintf(&b, ` e%d: event(id: %q) { title }`, i, events[i].ID)
		}
		b.WriteString(" }")
		return b.String()
	}

	r := h.query(t, lookup(0), nil) // the credential's /ping and the event: 2 of 5
	require.Empty(t, r.Errors)
	r = h.query(t, lookup(1), nil) // 1 more: 3 of 5
	require.Empty(t, r.Errors)
	require.Equal(t, 3, h.upstreamCalls())
	h.resetCalls()

	t.Run("an operation the rest of the hour cannot cover is refused before any call", func(t *testing.T) {
		r, hdr := h.queryHeaders(t, lookup(2, 3, 4), nil)
		assert.Equal(t, http.StatusTooManyRequests, r.status)
		require.Len(t, r.Errors, 1)
		assert.Equal(t, "RATE_LIMITED", r.Errors[0].code())
		assert.Contains(t, r.Errors[0].Message, "allowance of 5 Livestorm calls per hour")
		retry, err := strconv.Atoi(hdr.Get("Retry-After"))
		require.NoError(t, err)
		assert.InDelta(t, 720, retry, 2, "one call refills every 12 minutes")
		assert.Zero(t, h.upstreamCalls())
	})
	t.Run("a viewer still works", func(t *testing.T) {
		r := h.query(t, lookup(2, 3, 4), nil, "X-Test-Role", "viewer")
		assert.Empty(t, r.Errors)
		assert.Equal(t, 3, h.upstreamCalls())
		h.resetCalls()
	})
	t.Run("what the cache answers is given back", func(t *testing.T) {
		for range 3 { // estimated 1 each, spent 0: the allowance stays at 2
			r := h.query(t, lookup(0), nil)
			require.Empty(t, r.Errors)
		}
		r := h.query(t, lookup(0, 1), nil) // estimated 2: still fits
		assert.Empty(t, r.Errors)
		assert.Zero(t, h.upstreamCalls())
	})
}

// burnQuota spends n calls of the first workspace's monthly quota directly on the
// simulator, as other clients of the workspace would.
func (h *harness) burnQuota(t testing.TB, n int) {
	t.Helper()
	for range n {
		req, err := http.NewRequest(http.MethodGet, h.deps.Config.APIURL+"/ping", nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", h.orgs[0].Token)
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		require.Equal(t, http.StatusOK, res.StatusCode)
	}
}

func TestPublicQuotaShare(t *testing.T) {
	// 100 calls a month, half for public callers. Entries expire at once (TTL 1 ns), so
	// anything public callers still get comes from the cache's stale window.
	h := newHarness(t, withRoleHeader(), withCacheTTL(time.Nanosecond),
		withSim(func(c *livestormsim.Config) { c.MonthlyQuota = 100 }),
		withLimits(func(l *LimitsConfig) { l.PublicQuotaShare = 0.5 }))
	ev := h.sim.Events(h.orgs[0].ID)[0]
	list := `{ events(first: 5) { nodes { id title } } }`
	r := h.query(t, list, nil) // public, quota untouched: upstream
	require.Empty(t, r.Errors)
	require.Equal(t, 2, h.upstreamCalls())

	h.burnQuota(t, 50)
	r = h.query(t, `{ events(first: 1) { totalCount } }`, nil, "X-Test-Role", "viewer") // the gateway reads 47 left
	require.Empty(t, r.Errors)
	h.resetCalls()

	t.Run("public callers get what the cache holds, stale", func(t *testing.T) {
		r := h.query(t, list, nil)
		require.Empty(t, r.Errors)
		assert.Contains(t, string(r.Data), ev.Title)
		assert.NotNil(t, r.Extensions["stale"])
		assert.Zero(t, h.upstreamCalls())
	})
	t.Run("and nothing else", func(t *testing.T) {
		r := h.query(t, `query($id: ID!) { session(id: $id) { name } }`, map[string]any{"id": ev.SessionIDs[0]})
		require.Len(t, r.Errors, 1)
		assert.Equal(t, "RATE_LIMITED", r.Errors[0].code())
		assert.Contains(t, r.Errors[0].Message, "share (50%)")
		assert.Positive(t, r.Errors[0].Extensions["retryAfter"])
		assert.Zero(t, h.upstreamCalls())
	})
	t.Run("no writes", func(t *testing.T) {
		r := h.query(t, registerMutation, map[string]any{"in": map[string]any{"sessionId": ev.SessionIDs[0], "email": "late@example.org"}})
		assert.Equal(t, http.StatusTooManyRequests, r.status)
		require.Len(t, r.Errors, 1)
		assert.Equal(t, "RATE_LIMITED", r.Errors[0].code())
		assert.Zero(t, h.upstreamCalls())
	})
	t.Run("a viewer is served from Livestorm", func(t *testing.T) {
		r := h.query(t, `query($id: ID!) { session(id: $id) { name } }`, map[string]any{"id": ev.SessionIDs[0]}, "X-Test-Role", "viewer")
		assert.Empty(t, r.Errors)
		assert.Equal(t, 1, h.upstreamCalls())
	})
}

func TestReadinessDegradedWhenQuotaNearlyExhausted(t *testing.T) {
	h := newHarness(t, withSim(func(c *livestormsim.Config) { c.MonthlyQuota = 100 }))
	get := func() (int, string) {
		res, err := http.Get(h.gw.URL + "/readyz")
		require.NoError(t, err)
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	status, body := get()
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, "ready\n", body)
	assert.Contains(t, h.metrics(t), fmt.Sprintf(`gateway_quota_exhausted{workspace=%q} 0`, h.orgs[0].ID))

	h.burnQuota(t, 85)
	require.Empty(t, h.query(t, `{ events(first: 1) { totalCount } }`, nil).Errors) // the gateway reads 13 left
	status, body = get()
	assert.Equal(t, http.StatusOK, status, "still serving: from the cache")
	assert.Contains(t, body, "degraded")
	assert.Contains(t, body, "13 of 100 calls left")
	assert.Contains(t, h.metrics(t), fmt.Sprintf(`gateway_quota_exhausted{workspace=%q} 1`, h.orgs[0].ID))
}

// TestCallerRateLimitOverWebSocket: the upgrade is one request, then each operation the
// socket carries is one more.
func TestCallerRateLimitOverWebSocket(t *testing.T) {
	h := newHarness(t, withAnonymousRole("public"), withLimits(func(l *LimitsConfig) {
		l.RateLimit["public"] = rateLimit{PerSecond: 0.01, Burst: 3}
	}))
	c := openSubscriber(t, protoTransportWS, h.gw.URL, "")
	defer c.close()
	// Three different documents: each starts an execution of its own and is charged
	// (a subscriber joining an execution that already runs costs no execution).
	docs := map[string]string{
		"first":  `subscription { sessionChanged { type } }`,
		"second": `subscription { sessionChanged { type occurredAt } }`,
		"third":  `subscription { sessionChanged { occurredAt } }`,
	}
	for id, doc := range docs {
		c.subscribe(t, id, doc, nil)
	}
	// The socket runs its operations concurrently: whichever comes last is refused.
	var refused []string
	deadline := time.After(10 * time.Second)
	for len(refused) == 0 {
		select {
		case e := <-c.events("first"):
			refused = append(refused, refusedBy(t, "first", e)...)
		case e := <-c.events("second"):
			refused = append(refused, refusedBy(t, "second", e)...)
		case e := <-c.events("third"):
			refused = append(refused, refusedBy(t, "third", e)...)
		case <-deadline:
			t.Fatal("no subscription was refused")
		}
	}
	assert.Len(t, refused, 1)
	h.waitSubscribers(t, h.orgs[0].ID, 2)
}

func refusedBy(t *testing.T, id string, e streamEvent) []string {
	t.Helper()
	if e.kind != "next" {
		return nil
	}
	r := e.result(t)
	require.Len(t, r.Errors, 1, "subscription %s", id)
	assert.Equal(t, "RATE_LIMITED", r.Errors[0].code())
	assert.Positive(t, r.Errors[0].Extensions["retryAfter"])
	return []string{id}
}
