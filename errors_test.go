package main

import (
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/livestorm-gateway/gateway/livestorm"
	"github.com/livestorm-gateway/gateway/livestormsim"
)

const missingID = "00000000-0000-4000-8000-000000000000"

// fastRetries keeps failing tests quick: one retry at most, and a Retry-After beyond
// half a second is reported at once instead of waited for.
var fastRetries = withClient(livestorm.WithRetryPolicy(livestorm.RetryPolicy{
	MaxAttempts: 2, MaxTotalWait: 500 * time.Millisecond, BaseDelay: time.Millisecond, MaxDelay: 10 * time.Millisecond,
}))

func TestPartialDataKeepsTheRest(t *testing.T) {
	h := newHarness(t, fastRetries)
	ev := h.sim.Events(h.orgs[0].ID)[0]

	t.Run("a missing session next to a real event", func(t *testing.T) {
		r := h.query(t, `query($e: ID!, $ghost: ID!) { event(id: $e) { title } ghost: session(id: $ghost) { id } }`,
			map[string]any{"e": ev.ID, "ghost": missingID})
		require.Len(t, r.Errors, 1)
		assert.Equal(t, "NOT_FOUND", r.Errors[0].code())
		assert.Equal(t, []any{"ghost"}, r.Errors[0].Path)
		assert.JSONEq(t, `{"event":{"title":`+jsonString(ev.Title)+`},"ghost":null}`, string(r.Data))
	})

	t.Run("a 429 after retries leaves cached fields intact", func(t *testing.T) {
		warm := h.query(t, `{ events(first: 1) { totalCount } }`, nil)
		require.Empty(t, warm.Errors)
		h.sim.InjectFaults(livestormsim.FaultRateLimited, 1) // Retry-After 1s exceeds the retry budget: reported at once
		// An id no list embeds, so its lookup surely reaches Livestorm (and meets the 429):
		// sessions are primed from the cached events page, and answered without a call.
		r := h.query(t, `query($s: ID!) { events(first: 1) { totalCount } session: event(id: $s) { id } }`,
			map[string]any{"s": missingID})
		require.Len(t, r.Errors, 1)
		assert.Equal(t, "RATE_LIMITED", r.Errors[0].code())
		assert.EqualValues(t, 1, r.Errors[0].Extensions["retryAfter"])
		assert.JSONEq(t, `{"events":{"totalCount":`+jsonInt(len(h.sim.Events(h.orgs[0].ID)))+`},"session":null}`, string(r.Data))
	})

	t.Run("5xx after retries is UPSTREAM_UNAVAILABLE", func(t *testing.T) {
		h.sim.InjectFaults(livestormsim.FaultServerError, 2)
		r := h.query(t, `query($s: ID!) { session(id: $s) { id } }`, map[string]any{"s": ev.SessionIDs[0]})
		require.Len(t, r.Errors, 1)
		assert.Equal(t, "UPSTREAM_UNAVAILABLE", r.Errors[0].code())
	})

	t.Run("a transient 5xx is retried and the query succeeds", func(t *testing.T) {
		h.sim.InjectFaults(livestormsim.FaultServerError, 1)
		r := h.query(t, `query($e: ID!) { event(id: $e) { people(first: 1) { totalCount } } }`, map[string]any{"e": ev.ID})
		require.Empty(t, r.Errors)
	})
}

func TestBadInput(t *testing.T) {
	h := newHarness(t)
	cases := []struct {
		name, query string
		code, field string
	}{
		{"first above the maximum", `{ events(first: 500) { totalCount } }`, "BAD_USER_INPUT", "first"},
		{"negative first", `{ users(first: -1) { totalCount } }`, "BAD_USER_INPUT", "first"},
		{"a cursor not from this API", `{ events(after: "bm9wZQ") { totalCount } }`, "BAD_USER_INPUT", "after"},
		{"an unknown field", `{ events { nope } }`, "GRAPHQL_VALIDATION_FAILED", ""},
		{"too deep", `{ events(first: 1) { nodes { sessions(first: 1) { nodes { event { sessions(first: 1) { nodes { event { sessions(first: 1) { nodes { event { sessions(first: 1) { nodes { id } } } } } } } } } } } } } }`, "BAD_USER_INPUT", ""},
		{"too complex", `{ events(first: 200) { nodes { sessions(first: 200) { nodes { people(first: 200) { nodes { email } } } } } } }`, "COMPLEXITY_LIMIT_EXCEEDED", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h.resetCalls()
			r := h.query(t, tc.query, nil)
			require.NotEmpty(t, r.Errors)
			assert.Equal(t, tc.code, r.Errors[0].code(), r.Errors[0].Message)
			if tc.field != "" {
				assert.Equal(t, tc.field, r.Errors[0].Extensions["field"])
			}
			assert.Equal(t, 0, h.upstreamCalls(), "bad input never reaches Livestorm")
		})
	}
}

func TestScopesAreEnforcedUpstream(t *testing.T) {
	h := newHarness(t, withForwardAuth())
	org := h.orgs[0]
	noEvents, err := h.sim.IssueAPIToken(org.ID, livestormsim.Scopes{
		Identity: livestormsim.AccessRead, Events: livestormsim.AccessNone,
		Admin: livestormsim.AccessRead, Webhooks: livestormsim.AccessRead,
	})
	require.NoError(t, err)
	r := h.query(t, `{ users { totalCount } events { totalCount } }`, nil, "Authorization", noEvents)
	require.Len(t, r.Errors, 1)
	assert.Equal(t, "FORBIDDEN", r.Errors[0].code())
	assert.Equal(t, []any{"events"}, r.Errors[0].Path)
}

func jsonString(s string) string { b, _ := json.Marshal(s); return string(b) }
func jsonInt(n int) string       { return strconv.Itoa(n) }

// TestQuotaNearlyExhaustedServesStale: with the monthly quota almost gone, an expired
// cached answer is served (and flagged) instead of spending one of the last calls; once
// the quota is gone, uncached reads fail with QUOTA_EXHAUSTED.
func TestQuotaNearlyExhaustedServesStale(t *testing.T) {
	h := newHarness(t, withCacheTTL(time.Nanosecond), fastRetries,
		withSim(func(c *livestormsim.Config) { c.MonthlyQuota = 21 }))
	q := `{ events(first: 2) { totalCount nodes { title } } }`
	first := h.query(t, q, nil) // GET /ping + GET /events: 19 calls left, under the 20-call floor
	require.Empty(t, first.Errors)
	assert.Nil(t, first.Extensions["stale"], "fresh data is not flagged")

	h.resetCalls()
	again := h.query(t, q, nil)
	require.Empty(t, again.Errors)
	assert.Equal(t, 0, h.upstreamCalls(), "the expired answer is served instead of a call")
	assert.JSONEq(t, string(first.Data), string(again.Data))
	require.NotNil(t, again.Extensions["stale"])
	assert.Contains(t, again.Extensions["stale"], "resources")

	for range 19 { // spend the rest of the quota on uncached reads
		h.query(t, `query($id: ID!) { event(id: $id) { title } }`, map[string]any{"id": missingID})
	}
	r := h.query(t, `{ users { totalCount } }`, nil)
	require.Len(t, r.Errors, 1)
	assert.Equal(t, "QUOTA_EXHAUSTED", r.Errors[0].code())
}
