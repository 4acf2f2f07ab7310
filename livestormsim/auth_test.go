package livestormsim

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestScopes(t *testing.T) {
	h := newHarness(t, nil)
	token := func(sc Scopes) string {
		tok, err := h.sim.IssueAPIToken(h.org.ID, sc)
		require.NoError(t, err)
		return tok
	}
	eventsRead := token(Scopes{Events: AccessRead})
	eventsWrite := token(Scopes{Events: AccessWrite})
	adminRead := token(Scopes{Admin: AccessRead})
	identityRead := token(Scopes{Identity: AccessRead})
	webhooksWrite := token(Scopes{Webhooks: AccessWrite})
	none := token(Scopes{})
	newEvent := map[string]any{"data": map[string]any{"type": "events", "attributes": map[string]any{"title": "Scoped"}}}
	newHook := map[string]any{"data": map[string]any{"type": "webhooks", "attributes": map[string]any{"url": "https://h.example.com", "event": "session.ended"}}}
	tests := []struct {
		name, token, method, path string
		body                      any
		status                    int
	}{
		{"ping needs any valid token", none, "GET", "/ping", nil, 200},
		{"events read can list", eventsRead, "GET", "/events", nil, 200},
		{"events read cannot create", eventsRead, "POST", "/events", newEvent, 403},
		{"events write can create", eventsWrite, "POST", "/events", newEvent, 201},
		{"events scope covers people attributes", eventsRead, "GET", "/people_attributes", nil, 200},
		{"events scope covers jobs", eventsRead, "GET", "/jobs/00000000-0000-4000-8000-000000000000", nil, 404},
		{"events scope does not cover users", eventsWrite, "GET", "/users", nil, 403},
		{"events scope does not cover webhooks", eventsWrite, "GET", "/webhooks", nil, 403},
		{"events scope does not cover me", eventsWrite, "GET", "/me", nil, 403},
		{"admin read covers users", adminRead, "GET", "/users", nil, 200},
		{"admin read cannot invite", adminRead, "POST", "/users", map[string]any{"data": map[string]any{"type": "users", "attributes": map[string]any{"email": "x@example.com", "role": "host"}}}, 403},
		{"admin read covers organization", adminRead, "GET", "/organization", nil, 200},
		{"identity read covers organization", identityRead, "GET", "/organization", nil, 200},
		{"identity read covers me", identityRead, "GET", "/me", nil, 200},
		{"identity does not cover events", identityRead, "GET", "/events", nil, 403},
		{"no scope: organization forbidden", none, "GET", "/organization", nil, 403},
		{"webhooks write can subscribe", webhooksWrite, "POST", "/webhooks", newHook, 201},
		{"read-only token cannot write", h.org.ReadOnlyToken, "POST", "/webhooks", newHook, 403},
		{"read-only token can read", h.org.ReadOnlyToken, "GET", "/webhooks", nil, 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := h.do(tc.method, tc.path, tc.token, tc.body).must(t, tc.status)
			if tc.status == http.StatusForbidden {
				assert.Equal(t, "forbidden", r.errorStatus())
			}
		})
	}
	t.Run("invalid access level", func(t *testing.T) {
		_, err := h.sim.IssueAPIToken(h.org.ID, Scopes{Events: "admin"})
		assert.Error(t, err)
		_, err = h.sim.IssueAPIToken("no-such-org", Scopes{})
		assert.Error(t, err)
		_, err = h.sim.IssueOAuthToken("no-such-org", Scopes{})
		assert.Error(t, err)
	})
}

func TestAuthentication(t *testing.T) {
	h := newHarness(t, nil)
	parts := strings.Split(h.org.Token, ".")
	require.Len(t, parts, 3)
	header, err := base64.RawURLEncoding.DecodeString(parts[0])
	require.NoError(t, err)
	assert.JSONEq(t, `{"alg":"HS256"}`, string(header), "header as in Livestorm's tokens")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	var claims map[string]any
	require.NoError(t, json.Unmarshal(payload, &claims))
	assert.Equal(t, "api.livestorm.co", claims["aud"])
	assert.Equal(t, h.org.ID, claims["org"])
	assert.NotEmpty(t, claims["jti"])
	assert.NotZero(t, claims["iat"])

	claims["org"] = h.org2.ID
	forgedPayload, _ := json.Marshal(claims)
	forged := parts[0] + "." + base64.RawURLEncoding.EncodeToString(forgedPayload) + "." + parts[2]
	otherKey, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"aud": "api.livestorm.co", "jti": claims["jti"], "org": h.org.ID}).SignedString([]byte("guessed"))
	require.NoError(t, err)
	unknownJTI, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"aud": "api.livestorm.co", "jti": "7f1f2b6e-0000-4000-8000-000000000000", "org": h.org.ID}).SignedString(h.sim.tokens.key)
	require.NoError(t, err)

	tests := []struct {
		name, auth string
		status     int
		doorkeeper bool
	}{
		{"missing header", "", 401, false},
		{"garbage", "sometoken123", 401, false},
		{"forged org claim", forged, 401, false},
		{"signed with another key", otherKey, 401, false},
		{"valid signature, unknown jti", unknownJTI, 401, false},
		{"bearer garbage", "Bearer nope", 401, true},
		{"bearer with an API token", "Bearer " + h.org.Token, 401, true},
		{"raw API token", h.org.Token, 200, false},
		{"OAuth token", "Bearer " + h.org.OAuthToken, 200, false},
		{"OAuth token, lower-case scheme", "bearer " + h.org.OAuthToken, 200, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := h.do("GET", "/events", tc.auth, nil).must(t, tc.status)
			if tc.status == 401 {
				assert.Equal(t, "unauthorized", r.errorStatus())
				assert.Empty(t, r.header.Get("RateLimit-Monthly-Remaining"))
				if tc.doorkeeper {
					assert.Contains(t, r.header.Get("WWW-Authenticate"), `Bearer realm="Doorkeeper", error="invalid_token"`)
				} else {
					assert.Empty(t, r.header.Get("WWW-Authenticate"))
				}
			}
		})
	}
}

func TestMe(t *testing.T) {
	h := newHarness(t, nil)
	t.Run("API token: the organization", func(t *testing.T) {
		r := h.get("/me").must(t, http.StatusOK)
		assert.Equal(t, "organizations", r.data()["type"])
		assert.Equal(t, h.org.ID, r.data()["id"])
		assert.Equal(t, map[string]any{"name": "Acme Webinars", "slug": "acme-webinars", "parent_id": nil}, attrs(r.data()))
	})
	t.Run("OAuth token: the connected user with its organization", func(t *testing.T) {
		r := h.do("GET", "/me", "Bearer "+h.org.OAuthToken, nil).must(t, http.StatusOK)
		assert.Equal(t, "users", r.data()["type"])
		assert.Equal(t, "host", attrs(r.data())["role"])
		rel, ok := relIDs(r.data(), "organization")
		require.True(t, ok)
		assert.Equal(t, []string{"organizations/" + h.org.ID}, rel)
		require.Len(t, r.included(), 1)
		assert.Equal(t, "Acme Webinars", attrs(r.included()[0])["name"])
	})
	t.Run("OAuth token with limited scopes", func(t *testing.T) {
		tok, err := h.sim.IssueOAuthToken(h.org2.ID, Scopes{Identity: AccessRead})
		require.NoError(t, err)
		r := h.do("GET", "/me", "Bearer "+tok, nil).must(t, http.StatusOK)
		assert.Equal(t, h.org2.ID, relOrg(r))
		h.do("GET", "/events", "Bearer "+tok, nil).must(t, http.StatusForbidden)
	})
}

func relOrg(r apiResp) string {
	ids, _ := relIDs(r.data(), "organization")
	if len(ids) == 0 {
		return ""
	}
	return strings.TrimPrefix(ids[0], "organizations/")
}

// TestOrganizationIsolation: one workspace's token never sees another's data.
func TestOrganizationIsolation(t *testing.T) {
	h := newHarness(t, nil)
	other := h.sim.Events(h.org2.ID)[0]
	h.get("/events/"+other.ID).must(t, http.StatusNotFound)
	h.get("/sessions/"+other.SessionIDs[0]).must(t, http.StatusNotFound)
	h.get("/sessions/"+other.SessionIDs[0]+"/people").must(t, http.StatusNotFound)
	h.do("GET", "/events/"+other.ID, h.org2.Token, nil).must(t, http.StatusOK)
	mine := ids(h.listAll("/events", h.org.Token))
	theirs := ids(h.listAll("/events", h.org2.Token))
	assert.NotEmpty(t, mine)
	for _, id := range theirs {
		assert.NotContains(t, mine, id)
	}
}
