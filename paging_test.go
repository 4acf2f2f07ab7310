package main

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/livestorm-gateway/gateway/livestormsim"
)

// connPage is the part of a connection a paging walk reads; queries alias the
// connection as `conn`.
type connPage struct {
	TotalCount int
	PageInfo   struct {
		HasNextPage, HasPreviousPage bool
		StartCursor, EndCursor       *string
	}
	Nodes []struct{ ID string }
}

// findConn digs the `conn` alias out of a response, wherever the query nests it.
func findConn(t *testing.T, data json.RawMessage) connPage {
	t.Helper()
	var walk func(v any) any
	walk = func(v any) any {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		if c, ok := m["conn"]; ok {
			return c
		}
		for _, child := range m {
			if c := walk(child); c != nil {
				return c
			}
		}
		return nil
	}
	var root any
	require.NoError(t, json.Unmarshal(data, &root))
	raw, err := json.Marshal(walk(root))
	require.NoError(t, err)
	var c connPage
	require.NoError(t, json.Unmarshal(raw, &c))
	return c
}

// TestPagingWalksBackwards walks lists from their end to their start with last/before,
// 7 items at a time (windows straddle Livestorm's pages of 50), and checks that every
// item comes exactly once and in order, that pageInfo is right at every step, and what
// the walk costs upstream: each page of 50 once, plus nothing for the in-memory
// Event.sessions.
func TestPagingWalksBackwards(t *testing.T) {
	h := newHarness(t, withSize(livestormsim.Size{Events: 2, SessionsPerEvent: 60, PeoplePerSession: 55}))
	ev := h.sim.Events(h.orgs[0].ID)[0]
	session := globalIDOf("Session", ev.SessionIDs[0])
	cases := []struct {
		name          string
		forward, back string // the whole list in one window; one step backwards
		vars          map[string]any
		calls         int // upstream calls of the backward walk, from a cold cache
	}{
		{
			name:    "Query.sessions (120, three upstream pages)",
			forward: `{ conn: sessions(first: 200) { totalCount nodes { id } } }`,
			back:    `query($before: String) { conn: sessions(last: 7, before: $before) { totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } nodes { id } } }`,
			calls:   3, // pages 0 (the length), 2, 1
		},
		{
			name:    "Session.registrations (56: 55 registrants and the host, two upstream pages)",
			forward: `query($s: ID!) { session(id: $s) { conn: registrations(first: 200) { totalCount nodes { id } } } }`,
			back:    `query($s: ID!, $before: String) { session(id: $s) { conn: registrations(last: 7, before: $before) { totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } nodes { id } } } }`,
			vars:    map[string]any{"s": session},
			calls:   1 + 2, // the session, people pages 0 and 1
		},
		{
			name:    "Event.sessions (60, embedded in the event document)",
			forward: `query($e: ID!) { event(id: $e) { conn: sessions(first: 200) { totalCount nodes { id } } } }`,
			back:    `query($e: ID!, $before: String) { event(id: $e) { conn: sessions(last: 7, before: $before) { totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } nodes { id } } } }`,
			vars:    map[string]any{"e": ev.ID},
			calls:   1, // the event
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			gw := h.coldGateway(t)
			h.warmTenant(t)
			var walked []string
			var before *string
			total := -1
			for step := 0; step < 100; step++ {
				vars := map[string]any{"before": before}
				for k, v := range tc.vars {
					vars[k] = v
				}
				r := queryAt(t, gw, tc.back, vars)
				require.Empty(t, r.Errors)
				c := findConn(t, r.Data)
				total = c.TotalCount
				require.NotEmpty(t, c.Nodes, "step %d", step)
				assert.Equal(t, step > 0, c.PageInfo.HasNextPage, "step %d: items follow `before` from the second step on", step)
				assert.LessOrEqual(t, len(c.Nodes), 7)
				ids := make([]string, len(c.Nodes))
				for i, n := range c.Nodes {
					ids[i] = n.ID
				}
				walked = append(ids, walked...)
				if !c.PageInfo.HasPreviousPage {
					break
				}
				before = c.PageInfo.StartCursor
			}
			assert.Equal(t, tc.calls, h.upstreamCalls(), "what the backward walk cost upstream")

			r := queryAt(t, gw, tc.forward, tc.vars)
			require.Empty(t, r.Errors)
			all := findConn(t, r.Data)
			want := make([]string, len(all.Nodes))
			for i, n := range all.Nodes {
				want[i] = n.ID
			}
			assert.Equal(t, total, len(want))
			assert.Equal(t, want, walked, "the backward walk saw every item once, in order")
			assert.Len(t, slices.Compact(slices.Clone(walked)), len(walked))
		})
	}
}

// TestLastOnALongListCostsTheFirstPageToo: `last` without `before` needs the list's
// length first (page 0, usually cached), then only the pages the window covers.
func TestLastOnALongListCostsTheFirstPageToo(t *testing.T) {
	h := newHarness(t, withSize(livestormsim.Size{Events: 30, SessionsPerEvent: 4, PeoplePerSession: 1}))
	h.warmTenant(t)
	r := h.query(t, `{ conn: sessions(last: 3) { totalCount pageInfo { hasNextPage hasPreviousPage } nodes { id } } }`, nil)
	require.Empty(t, r.Errors)
	c := findConn(t, r.Data)
	assert.Equal(t, 120, c.TotalCount)
	assert.Len(t, c.Nodes, 3)
	assert.True(t, c.PageInfo.HasPreviousPage)
	assert.False(t, c.PageInfo.HasNextPage)
	assert.Equal(t, 2, h.upstreamCalls(), "page 0 for the length, then page 2")
	h.resetCalls()
	r = h.query(t, `{ conn: sessions(first: 50) { nodes { id } } }`, nil)
	require.Empty(t, r.Errors)
	assert.Equal(t, 0, h.upstreamCalls(), "page 0 is now cached for forward readers too")
}

func TestFirstAndLastTogetherAreRefused(t *testing.T) {
	h := newHarness(t, withSize(livestormsim.SizeTiny))
	h.warmTenant(t)
	requireCode(t, h.query(t, `{ sessions(first: 2, last: 2) { totalCount } }`, nil), "BAD_USER_INPUT", "last")
	assert.Equal(t, 0, h.upstreamCalls())
}
