package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/livestorm-gateway/gateway/livestormsim"
)

// callCase is one row of the upstream-call table: a query, its variables, and the
// number of Livestorm requests it must cost on a cold cache (computed from the
// simulator's data, so the row states the rule rather than a magic number).
type callCase struct {
	name  string
	query string
	vars  func(d seedData) map[string]any
	cold  func(d seedData) int
}

// seedData is what the rows need to know about the first organization's data.
type seedData struct {
	events   []livestormsim.EventInfo
	sessions int // sessions of all events
}

func (d seedData) firstEvent() livestormsim.EventInfo { return d.events[0] }

func loadSeed(h *harness) seedData {
	d := seedData{events: h.sim.Events(h.orgs[0].ID)}
	for _, e := range d.events {
		d.sessions += len(e.SessionIDs)
	}
	return d
}

// callCases is the table the README reports (see BenchmarkUpstreamCalls).
var callCases = []callCase{
	{
		name:  "events→sessions→people",
		query: `{ events(first: 10) { nodes { id title sessions { nodes { id status people(first: 20) { totalCount nodes { email } } } } } } }`,
		// One events page (sessions embedded with include=sessions), then one people page per session.
		cold: func(d seedData) int { return 1 + d.sessions },
	},
	{
		name: "one event reached by three paths",
		query: `query($e: ID!, $s: ID!) {
			event(id: $e) { title }
			session(id: $s) { event { title } }
			again: session(id: $s) { registrations(first: 5) { nodes { event { title } } } }
		}`,
		vars: func(d seedData) map[string]any {
			return map[string]any{"e": d.firstEvent().ID, "s": d.firstEvent().SessionIDs[0]}
		},
		// The event once, the session once, its people once.
		cold: func(seedData) int { return 3 },
	},
	{
		name:  "people of two sessions of one event",
		query: `query($e: ID!) { event(id: $e) { sessions(first: 2) { nodes { registrations(first: 20) { nodes { person { email } attended } } } } } }`,
		vars:  func(d seedData) map[string]any { return map[string]any{"e": d.firstEvent().ID} },
		cold:  func(seedData) int { return 1 + 2 },
	},
	{
		name:  "sessions with their events",
		query: `{ sessions(first: 50) { nodes { id event { title } } } }`,
		// One sessions page, then each distinct event once.
		cold: func(d seedData) int { return 1 + len(d.events) },
	},
	{
		name:  "event owners and the team",
		query: `{ events(first: 5) { nodes { owner { email role } } } users { totalCount nodes { email } } }`,
		// The owners are found in the same team page `users` reads.
		cold: func(seedData) int { return 1 + 1 },
	},
	{
		name:  "registration form with its attributes",
		query: `query($e: ID!) { event(id: $e) { registrationFields { fieldId required attribute { name type } } } }`,
		vars:  func(d seedData) map[string]any { return map[string]any{"e": d.firstEvent().ID} },
		cold:  func(seedData) int { return 1 + 1 },
	},
}

func TestUpstreamCallsColdAndWarm(t *testing.T) {
	for _, tc := range callCases {
		t.Run(tc.name, func(t *testing.T) {
			m := measureCalls(t, tc)
			assert.Equal(t, tc.cold(m.seed), m.cold, "cold cache")
			assert.Equal(t, 0, m.warm, "warm repeat within the TTL")
			assert.JSONEq(t, string(m.coldData), string(m.warmData), "the warm answer is the cold one")
		})
	}
}

// warmTenant verifies the server credential (one GET /ping, as every new credential
// costs) and clears the request log, so rows count only what queries cost.
func (h *harness) warmTenant(t testing.TB) {
	t.Helper()
	r := h.query(t, `{ rateLimit { monthlyLimit } }`, nil)
	require.Empty(t, r.Errors)
	h.resetCalls()
}

func TestConcurrentIdenticalQueriesShareUpstreamCalls(t *testing.T) {
	h := newHarness(t)
	h.warmTenant(t)
	q := `{ events(first: 5) { nodes { id sessions { nodes { registrantsCount } } } } }`
	const clients = 8
	body := `{"query":` + jsonString(q) + `}`
	done := make(chan error, clients)
	for range clients {
		go func() { // no require in goroutines: report errors to the test goroutine
			res, err := http.Post(h.gw.URL+"/graphql", "application/json", strings.NewReader(body))
			if err == nil {
				var r gqlResponse
				err = json.NewDecoder(res.Body).Decode(&r)
				res.Body.Close()
				if err == nil && len(r.Errors) > 0 {
					err = fmt.Errorf("graphql errors: %+v", r.Errors)
				}
			}
			done <- err
		}()
	}
	for range clients {
		assert.NoError(t, <-done)
	}
	assert.Equal(t, 1, h.upstreamCalls(), "eight concurrent identical queries collapse into one upstream call")
}

// TestPagingWalksEveryItemOnce pages through sessions 7 at a time (windows straddle
// Livestorm's pages of 50 on the large seed) and checks each item comes exactly once.
func TestPagingWalksEveryItemOnce(t *testing.T) {
	h := newHarness(t, withSize(livestormsim.Size{Events: 30, SessionsPerEvent: 4, PeoplePerSession: 1}))
	seen := map[string]bool{}
	var after *string
	total := -1
	for pages := 0; pages < 100; pages++ {
		r := h.query(t, `query($after: String) { sessions(first: 7, after: $after) { totalCount pageInfo { hasNextPage endCursor } nodes { id } } }`,
			map[string]any{"after": after})
		var got struct {
			Sessions struct {
				TotalCount int
				PageInfo   struct {
					HasNextPage bool
					EndCursor   *string
				}
				Nodes []struct{ ID string }
			}
		}
		r.decode(t, &got)
		total = got.Sessions.TotalCount
		for _, n := range got.Sessions.Nodes {
			assert.False(t, seen[n.ID], "session %s seen twice", n.ID)
			seen[n.ID] = true
		}
		if !got.Sessions.PageInfo.HasNextPage {
			break
		}
		after = got.Sessions.PageInfo.EndCursor
	}
	assert.Equal(t, 120, total)
	assert.Len(t, seen, total)
	assert.Equal(t, 3, h.sim.CountRequests(func(r livestormsim.RequestRecord) bool { return r.Route == "/sessions" }),
		"120 sessions are 3 upstream pages of 50, each fetched once")
}

func TestFirstAboveFiftySpansUpstreamPages(t *testing.T) {
	h := newHarness(t, withSize(livestormsim.Size{Events: 30, SessionsPerEvent: 4, PeoplePerSession: 1}))
	h.warmTenant(t)
	r := h.query(t, `{ sessions(first: 120) { totalCount pageInfo { hasNextPage } nodes { id } } }`, nil)
	var got struct {
		Sessions struct {
			TotalCount int
			PageInfo   struct{ HasNextPage bool }
			Nodes      []struct{ ID string }
		}
	}
	r.decode(t, &got)
	assert.Len(t, got.Sessions.Nodes, 120)
	assert.False(t, got.Sessions.PageInfo.HasNextPage)
	assert.Equal(t, 3, h.upstreamCalls())
}
