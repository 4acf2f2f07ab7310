package main

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/livestorm-gateway/gateway/livestormsim"
	"github.com/livestorm-gateway/gateway/tenant"
)

type eventIDs struct {
	Events struct {
		Nodes []struct {
			ID       string `json:"id"`
			Sessions struct {
				Nodes []struct {
					ID string `json:"id"`
				} `json:"nodes"`
			} `json:"sessions"`
		} `json:"nodes"`
	} `json:"events"`
}

const isolationQuery = `{ events(first: 20) { nodes { id: livestormId sessions { nodes { id: livestormId people(first: 5) { nodes { email } } } } } } }`

// TestTenantIsolationWithWarmCache interleaves two workspaces' identical queries through
// forwarded credentials: each sees only its own objects, even once both are cached.
func TestTenantIsolationWithWarmCache(t *testing.T) {
	h := newHarness(t, withForwardAuth())
	a, b := h.orgs[0], h.orgs[1]
	own := map[string]map[string]bool{a.ID: {}, b.ID: {}}
	for _, org := range []string{a.ID, b.ID} {
		for _, e := range h.sim.Events(org) {
			own[org][e.ID] = true
			for _, s := range e.SessionIDs {
				own[org][s] = true
			}
		}
	}

	for round := range 3 { // cold, then warm twice, interleaved
		for _, org := range h.orgs[:2] {
			r := h.query(t, isolationQuery, nil, "Authorization", org.Token)
			var got eventIDs
			r.decode(t, &got)
			require.NotEmpty(t, got.Events.Nodes, "round %d", round)
			for _, e := range got.Events.Nodes {
				assert.True(t, own[org.ID][e.ID], "round %d: %s sees event %s of another workspace", round, org.Name, e.ID)
				for _, s := range e.Sessions.Nodes {
					assert.True(t, own[org.ID][s.ID], "round %d: %s sees session %s of another workspace", round, org.Name, s.ID)
				}
			}
		}
	}

	// An id of workspace A asked with B's credential is not found, warm cache or not.
	aEvent := h.sim.Events(a.ID)[0].ID
	r := h.query(t, `query($id: ID!) { event(id: $id) { title } }`, map[string]any{"id": aEvent}, "Authorization", b.Token)
	require.Len(t, r.Errors, 1)
	assert.Equal(t, "NOT_FOUND", r.Errors[0].code())
	assert.JSONEq(t, `{"event": null}`, string(r.Data))
}

// TestForgedOrgClaimGetsNoCachedData edits workspace A's token to claim workspace B:
// Livestorm rejects the signature, and the gateway never answers from B's warm cache.
func TestForgedOrgClaimGetsNoCachedData(t *testing.T) {
	h := newHarness(t, withForwardAuth())
	a, b := h.orgs[0], h.orgs[1]
	warm := h.query(t, isolationQuery, nil, "Authorization", b.Token)
	require.Empty(t, warm.Errors)

	forged := forgeOrgClaim(t, a.Token, b.ID)
	h.resetCalls()
	r := h.query(t, isolationQuery, nil, "Authorization", forged)
	require.NotEmpty(t, r.Errors)
	assert.Equal(t, "UNAUTHENTICATED", r.Errors[0].code())
	assert.JSONEq(t, `{"events": null}`, string(r.Data), "no data, cached or not")
	assert.NotContains(t, string(r.Data)+r.Errors[0].Message, forged, "the credential is never echoed")
	assert.Equal(t, 1, h.upstreamCalls(), "one verification call, rejected, then nothing")
}

// forgeOrgClaim rewrites the `org` claim of a JWT, keeping its (now invalid) signature.
func forgeOrgClaim(t *testing.T, token, org string) string {
	t.Helper()
	parts := strings.Split(token, ".")
	require.Len(t, parts, 3)
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	var claims map[string]any
	require.NoError(t, json.Unmarshal(payload, &claims))
	claims["org"] = org
	payload, err = json.Marshal(claims)
	require.NoError(t, err)
	parts[1] = base64.RawURLEncoding.EncodeToString(payload)
	return strings.Join(parts, ".")
}

func TestNoCredential(t *testing.T) {
	h := newHarness(t, withForwardAuth())

	t.Run("a query needing Livestorm gets UNAUTHENTICATED", func(t *testing.T) {
		r := h.query(t, `{ events { totalCount } }`, nil)
		assert.Equal(t, 200, r.status)
		require.Len(t, r.Errors, 1)
		assert.Equal(t, "UNAUTHENTICATED", r.Errors[0].code())
		assert.Equal(t, 0, h.upstreamCalls(), "nothing is sent upstream without a credential")
	})
	t.Run("introspection works without one", func(t *testing.T) {
		r := h.query(t, `{ __schema { queryType { name } } }`, nil)
		require.Empty(t, r.Errors)
		assert.JSONEq(t, `{"__schema":{"queryType":{"name":"Query"}}}`, string(r.Data))
	})
	t.Run("a bad token gets UNAUTHENTICATED", func(t *testing.T) {
		r := h.query(t, `{ events { totalCount } }`, nil, "Authorization", "not-a-token")
		require.Len(t, r.Errors, 1)
		assert.Equal(t, "UNAUTHENTICATED", r.Errors[0].code())
		assert.NotContains(t, r.Errors[0].Message, "not-a-token")
	})
	t.Run("an OAuth bearer token of the workspace works", func(t *testing.T) {
		r := h.query(t, `{ events(first: 1) { totalCount } }`, nil, "Authorization", "Bearer "+h.orgs[0].OAuthToken)
		require.Empty(t, r.Errors)
	})
}

// TestServerTokenIsReverifiedEverySixHours: in server-token mode the operator's token is
// shown to Livestorm once per serverCredentialTTL (6 h), not per the 15 minutes callers'
// forwarded credentials get: 120 /ping a month instead of 2,880.
func TestServerTokenIsReverifiedEverySixHours(t *testing.T) {
	h := newHarness(t)
	start := time.Now()
	now := start
	opts := tenantOptions(Config{})
	opts.Now = func() time.Time { return now }
	r := tenant.NewResolver(h.deps.Client, opts)
	pings := func() int {
		return h.sim.CountRequests(func(rec livestormsim.RequestRecord) bool { return rec.Route == "/ping" })
	}
	h.resetCalls()
	for _, after := range []time.Duration{0, time.Hour, 5*time.Hour + 59*time.Minute} {
		now = start.Add(after)
		_, err := r.Resolve(t.Context(), h.deps.ServerCredential)
		require.NoError(t, err)
	}
	assert.Equal(t, 1, pings(), "verified once within six hours")
	now = start.Add(6*time.Hour + time.Minute) // past 6 h since the verification
	_, err := r.Resolve(t.Context(), h.deps.ServerCredential)
	require.NoError(t, err)
	assert.Equal(t, 2, pings(), "verified again once six hours have passed")
}
