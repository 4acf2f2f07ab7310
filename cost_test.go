package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// estimateCase is a query whose estimate is checked against what it really costs.
type estimateCase struct {
	name  string
	query string
	vars  func(h *harness, d seedData) map[string]any
}

// readmeEventPage and readmeRegister are the README's example operations, verbatim.
const readmeEventPage = `query EventPage($eventId: ID!) {
  event(id: $eventId) {
    id title schedulingStatus registrantsCount
    owner { id firstName lastName }
    registrationFields { fieldId required options }
    sessions(filter: { status: UPCOMING }) {
      nodes {
        id estimatedStartedAt registrantsCount
        registrations(first: 20, filter: { role: PARTICIPANT }) {
          totalCount
          nodes { id attended utm { source } person { id email } }
        }
      }
    }
  }
}`

const readmeRegister = `mutation Register($sessionId: ID!) {
  registerPerson(input: {
    sessionId: $sessionId, email: "ada@example.org", firstName: "Ada",
    fields: [{ fieldId: "department", value: "Engineering" }, { fieldId: "interests", values: ["Roadmap"] }],
    utmSource: "newsletter"
  }) {
    registration { id connectionLink person { id email } }
    session { id registrantsCount }
  }
}`

// bannerQuery is the query the demo-mode banner suggests.
const bannerQuery = `{ events(first: 3) { totalCount nodes { title sessions { nodes { status registrantsCount } } } } }`

// estimateCases are the README's example operations, the rows of its upstream-call table
// and every golden query.
func estimateCases(t *testing.T) []estimateCase {
	cases := []estimateCase{
		{name: "README: EventPage", query: readmeEventPage,
			vars: func(_ *harness, d seedData) map[string]any { return map[string]any{"eventId": d.firstEvent().ID} }},
		{name: "README: Register (registerPerson)", query: readmeRegister,
			vars: func(h *harness, _ seedData) map[string]any {
				s := h.upcomingSession(t)
				h.resetCalls()
				h.deps.Tenants.Forget(h.deps.ServerCredential) // measured from a cold credential like the rest
				return map[string]any{"sessionId": s}
			}},
		{name: "README: demo banner query", query: bannerQuery},
	}
	for _, c := range callCases {
		vars := c.vars
		cases = append(cases, estimateCase{name: "table: " + c.name, query: c.query,
			vars: func(_ *harness, d seedData) map[string]any {
				if vars == nil {
					return nil
				}
				return vars(d)
			}})
	}
	files, err := filepath.Glob("testdata/golden/*.graphql")
	require.NoError(t, err)
	for _, f := range files {
		q, err := os.ReadFile(f)
		require.NoError(t, err)
		cases = append(cases, estimateCase{name: "golden: " + strings.TrimSuffix(filepath.Base(f), ".graphql"), query: string(q),
			vars: func(_ *harness, d seedData) map[string]any { return map[string]any{"event": d.firstEvent().ID} }})
	}
	return cases
}

// TestCostEstimateCoversColdCalls runs each query on a cold gateway (empty cache, a
// credential not verified yet) against the small seed and checks that the estimate made
// before it ran is at least what the simulator counted, and that extensions.cost reports
// those calls. Run with -v for the README's estimate-vs-actual table.
func TestCostEstimateCoversColdCalls(t *testing.T) {
	var table []string
	for _, tc := range estimateCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, withLimits(func(l *LimitsConfig) { l.CostExtension = true }))
			var vars map[string]any
			if tc.vars != nil {
				vars = tc.vars(h, loadSeed(h))
			}
			r := h.query(t, tc.query, vars)
			require.Empty(t, r.Errors)
			actual := h.upstreamCalls()
			cost := r.costExtension(t)
			assert.GreaterOrEqual(t, cost.Estimated, actual, "the estimate must cover the cold calls")
			assert.Equal(t, actual, cost.UpstreamCalls, "extensions.cost.upstreamCalls counts what the simulator received")
			table = append(table, fmt.Sprintf("| %s | %d | %d |", tc.name, cost.Estimated, actual))
		})
	}
	t.Logf("estimate vs actual cold calls (small seed, credential verification included):\n| query | estimated | actual |\n|---|---|---|\n%s",
		strings.Join(table, "\n"))
}

type costExt struct {
	Estimated, UpstreamCalls, CacheHits int
	ResponseCache                       string // "hit" when served from the response cache
}

func (r gqlResponse) costExtension(t testing.TB) costExt {
	t.Helper()
	raw, ok := r.Extensions["cost"].(map[string]any)
	require.True(t, ok, "no extensions.cost in %v", r.Extensions)
	n := func(k string) int { f, _ := raw[k].(float64); return int(f) }
	hit, _ := raw["responseCache"].(string)
	return costExt{Estimated: n("estimated"), UpstreamCalls: n("upstreamCalls"), CacheHits: n("cacheHits"), ResponseCache: hit}
}

func TestCostExtension(t *testing.T) {
	q := `{ events(first: 5) { nodes { title sessions { nodes { id } } } } }`
	t.Run("off by default", func(t *testing.T) {
		h := newHarness(t)
		r := h.query(t, q, nil)
		require.Empty(t, r.Errors)
		assert.NotContains(t, r.Extensions, "cost")
	})
	t.Run("cold, then warm", func(t *testing.T) {
		h := newHarness(t, withLimits(func(l *LimitsConfig) { l.CostExtension = true }))
		cold := h.query(t, q, nil).costExtension(t)
		assert.Equal(t, costExt{Estimated: 2, UpstreamCalls: 2, CacheHits: 0}, cold, "the events page and the credential's /ping")
		warm := h.query(t, q, nil).costExtension(t)
		assert.Equal(t, costExt{Estimated: 1, UpstreamCalls: 0, CacheHits: 1}, warm, "the page comes from the cache; the credential is known")
		again := h.query(t, q, nil).costExtension(t)
		assert.Equal(t, costExt{Estimated: 1, UpstreamCalls: 0, CacheHits: 0, ResponseCache: "hit"}, again,
			"the response itself comes from the response cache: nothing executed")
		m := h.metrics(t)
		assert.Contains(t, m, `gateway_operation_upstream_calls_count{type="query"} 2`)
		assert.Contains(t, m, `gateway_operation_upstream_calls_sum{type="query"} 2`)
	})
}

// TestMutationEstimatesCoverTheirCalls runs every mutation, selecting what each payload
// can read, and checks that each estimate covers the calls it made (including a
// credential verification for the first).
func TestMutationEstimatesCoverTheirCalls(t *testing.T) {
	h := newHarness(t, withLimits(func(l *LimitsConfig) { l.CostExtension = true }))
	ids := map[string]string{}
	steps := []struct {
		name, query string
		keep        map[string]string // ids[name] = value at this JSON path of data
	}{
		{"createEvent", `mutation { createEvent(input: {title: "Cost check", sessions: [{estimatedStartedAt: "2026-06-01T10:00:00Z"}]}) { event { id tags { title } registrantsCount sessions { nodes { id event { title } } } } } }`,
			map[string]string{"event": "createEvent.event.id"}},
		{"updateEvent", `mutation { updateEvent(input: {id: "{event}", title: "Cost check 2"}) { event { title sessions { totalCount } owner { email } } } }`, nil},
		{"addEventTag", `mutation { addEventTag(input: {eventId: "{event}", title: "Costs"}) { tag { livestormId } event { tags { title } } } }`, nil},
		{"removeEventTag", `mutation { removeEventTag(input: {eventId: "{event}", title: "Costs"}) { tag { title } event { tags { title } } } }`, nil},
		{"createSession", `mutation { createSession(input: {eventId: "{event}", estimatedStartedAt: "2026-07-01T15:30:00Z"}) { session { id event { title } } event { sessions { totalCount } } } }`,
			map[string]string{"session": "createSession.session.id"}},
		{"updateSession", `mutation { updateSession(input: {id: "{session}", name: "Encore"}) { session { name event { title } people { totalCount } } } }`, nil},
		{"registerPerson", `mutation { registerPerson(input: {sessionId: "{session}", email: "cost@example.org"}) { registration { id person { id } session { id } event { title } } session { registrantsCount } } }`,
			map[string]string{"person": "registerPerson.registration.person.id"}},
		{"updateRegistration", `mutation { updateRegistration(input: {sessionId: "{session}", personId: "{person}", utmCampaign: "c"}) { registration { session { name } event { title } } session { registrantsCount } } }`, nil},
		{"bulkRegister", `mutation { bulkRegister(input: {sessionId: "{session}", registrations: [{email: "b1@example.org"}, {email: "b2@example.org"}]}) { job { id tasks { person { email } } } } }`, nil},
		{"unregisterPerson", `mutation { unregisterPerson(input: {sessionId: "{session}", personId: "{person}"}) { personId session { registrantsCount event { title } } } }`, nil},
		{"deleteSession", `mutation { deleteSession(input: {id: "{session}"}) { deletedSessionId event { sessions { totalCount } } } }`, nil},
		{"inviteUser", `mutation { inviteUser(input: {email: "cost.host@example.org", role: HOST}) { user { id email } } }`,
			map[string]string{"user": "inviteUser.user.id"}},
		{"removeUser", `mutation { removeUser(input: {id: "{user}"}) { removedUserId } }`, nil},
		{"createWebhook", `mutation { createWebhook(input: {url: "https://hooks.example.org/cost", event: SESSION_ENDED}) { webhook { id } } }`,
			map[string]string{"webhook": "createWebhook.webhook.id"}},
		{"deleteWebhook", `mutation { deleteWebhook(input: {id: "{webhook}"}) { deletedWebhookId } }`, nil},
		{"deleteEvent", `mutation { deleteEvent(input: {id: "{event}"}) { deletedEventId } }`, nil},
	}
	for _, st := range steps {
		q := st.query
		for k, v := range ids {
			q = strings.ReplaceAll(q, "{"+k+"}", v)
		}
		h.resetCalls()
		r := h.query(t, q, nil)
		require.Empty(t, r.Errors, st.name)
		cost := r.costExtension(t)
		assert.Equal(t, h.upstreamCalls(), cost.UpstreamCalls, st.name)
		assert.GreaterOrEqual(t, cost.Estimated, cost.UpstreamCalls, "%s: estimated %d, made %d", st.name, cost.Estimated, cost.UpstreamCalls)
		t.Logf("%-18s estimated %2d, made %d", st.name, cost.Estimated, cost.UpstreamCalls)
		var data map[string]any
		require.NoError(t, json.Unmarshal(r.Data, &data))
		for k, path := range st.keep {
			var v any = data
			for _, p := range strings.Split(path, ".") {
				v = v.(map[string]any)[p]
			}
			ids[k] = v.(string)
		}
	}
}

// TestPublicCostEstimateCoversColdCalls: for a caller who sees published events only, the
// estimate also covers the reads that hide drafts (each session's event, the count of
// drafts under totalCount, registerPerson's session and event).
func TestPublicCostEstimateCoversColdCalls(t *testing.T) {
	cases := []estimateCase{
		{name: "events with their totalCount", query: `{ events(first: 5) { totalCount nodes { title sessions { nodes { id status } } } } }`},
		{name: "sessions with their events and totalCount", query: `{ sessions(first: 10) { totalCount nodes { id event { title } } } }`},
		{name: "a session and its event", query: `query($id: ID!) { session(id: $id) { name event { title } } }`,
			vars: func(h *harness, _ seedData) map[string]any { return map[string]any{"id": h.upcomingSession(t)} }},
		{name: "registerPerson with the join link", query: `mutation($s: ID!) { registerPerson(input: {sessionId: $s, email: "public.cost@example.org"}) { connectionLink session { registrantsCount } } }`,
			vars: func(h *harness, _ seedData) map[string]any { return map[string]any{"s": h.upcomingSession(t)} }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, withAnonymousRole("public"), withLimits(func(l *LimitsConfig) { l.CostExtension = true }))
			var vars map[string]any
			if tc.vars != nil {
				vars = tc.vars(h, loadSeed(h))
			}
			h.resetCalls()
			h.deps.Tenants.Forget(h.deps.ServerCredential) // measured from a cold credential
			r := h.query(t, tc.query, vars)
			require.Empty(t, r.Errors)
			actual := h.upstreamCalls()
			cost := r.costExtension(t)
			assert.GreaterOrEqual(t, cost.Estimated, actual, "the estimate must cover the cold calls")
			t.Logf("%s: estimated %d, actual %d", tc.name, cost.Estimated, actual)
		})
	}
}
