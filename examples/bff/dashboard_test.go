package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Khan/genqlient/graphql"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// These tests put a fake gateway behind the BFF to pin what goes over the wire: the
// generated client must send only the inputs the BFF set (no "", no zero time) and read
// DateTime as time.Time. The root package's TestBFFExample runs the BFF against the
// real gateway in demo mode.

// fakeGateway answers every GraphQL request with answer and records the request bodies.
type fakeGateway struct {
	mu     sync.Mutex
	bodies []map[string]json.RawMessage
	status int
	answer string
}

func (f *fakeGateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body map[string]json.RawMessage
	b, _ := io.ReadAll(r.Body)
	_ = json.Unmarshal(b, &body)
	f.mu.Lock()
	f.bodies = append(f.bodies, body)
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if f.status != 0 {
		w.WriteHeader(f.status)
	}
	_, _ = io.WriteString(w, f.answer)
}

func (f *fakeGateway) variables(t *testing.T) string {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	require.Len(t, f.bodies, 1, "one GraphQL request per API call")
	return string(f.bodies[0]["variables"])
}

// bff starts the BFF's handler in front of gw and returns its base URL.
func bff(t *testing.T, gw http.Handler) string {
	t.Helper()
	upstream := httptest.NewServer(gw)
	t.Cleanup(upstream.Close)
	srv := httptest.NewServer(NewHandler(graphql.NewClient(upstream.URL+"/graphql", upstream.Client())))
	t.Cleanup(srv.Close)
	return srv.URL
}

const dashboardAnswer = `{"data":{"events":{"totalCount":2,"pageInfo":{"hasNextPage":true,"endCursor":"Y3Vyc29yOjE"},"nodes":[
  {"id":"RXZlbnQ6MQ","livestormId":"1","title":"Launch","status":"PUBLISHED","schedulingStatus":"UPCOMING",
   "publishedAt":"2026-03-02T09:00:00Z","registrantsCount":41,
   "sessions":{"nodes":[{"id":"U2Vzc2lvbjox","livestormId":"s1","name":null,"status":"UPCOMING",
     "estimatedStartedAt":"2026-04-01T15:30:00Z","registrantsCount":41,"attendeesCount":0}]}},
  {"id":"RXZlbnQ6Mg","livestormId":"2","title":"Draft","status":"DRAFT","schedulingStatus":"DRAFT",
   "publishedAt":null,"registrantsCount":0,"sessions":{"nodes":[]}}]}}}`

func TestDashboardSendsOnlyTheInputsItWasGiven(t *testing.T) {
	cases := []struct {
		name, query, variables string
	}{
		{"nothing", "", `{}`},
		{"first", "?first=3", `{"first":3}`},
		{"since", "?since=2026-03-02T10:00:00%2B01:00", `{"filter":{"createdSince":"2026-03-02T10:00:00+01:00"}}`},
		{"tags", "?tag=Marketing&tag=Sales", `{"filter":{"tags":["Marketing","Sales"]}}`},
		{"page", "?first=2&after=Y3Vyc29yOjE", `{"first":2,"after":"Y3Vyc29yOjE"}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			gw := &fakeGateway{answer: dashboardAnswer}
			res, err := http.Get(bff(t, gw) + "/api/events" + tc.query)
			require.NoError(t, err)
			defer res.Body.Close()
			require.Equal(t, http.StatusOK, res.StatusCode)
			vars := gw.variables(t)
			assert.JSONEq(t, tc.variables, vars)
			for _, zero := range []string{`""`, `0001-01-01T00:00:00Z`, `null`, `false`} {
				assert.NotContains(t, vars, zero, "an input the BFF did not set went over the wire")
			}
		})
	}
}

func TestDashboardReadsDateTimesAsTime(t *testing.T) {
	res, err := http.Get(bff(t, &fakeGateway{answer: dashboardAnswer}) + "/api/events")
	require.NoError(t, err)
	defer res.Body.Close()
	var page EventsPage
	require.NoError(t, json.NewDecoder(res.Body).Decode(&page))
	require.Len(t, page.Events, 2)
	assert.Equal(t, 2, page.TotalCount)
	assert.Equal(t, "Y3Vyc29yOjE", page.NextCursor)
	launch := page.Events[0]
	require.NotNil(t, launch.PublishedAt)
	assert.True(t, launch.PublishedAt.Equal(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)))
	require.Len(t, launch.Sessions, 1)
	assert.True(t, launch.Sessions[0].StartsAt.Equal(time.Date(2026, 4, 1, 15, 30, 0, 0, time.UTC)))
	assert.Equal(t, 41, launch.Sessions[0].Registrants)
	assert.Nil(t, page.Events[1].PublishedAt, "null stays null, not the zero time")
}

func TestRegisterSendsOnlyTheFieldsGiven(t *testing.T) {
	answer := `{"data":{"registerPerson":{"registration":{"id":"UmVnOjE","createdAt":"2026-03-02T09:00:00Z",
	  "connectionLink":"https://app.livestorm.co/p/1/live?s=abc","person":{"id":"UGVyc29uOjE","email":"ada@example.org","firstName":"Ada","lastName":null}},
	  "session":{"id":"U2Vzc2lvbjox","registrantsCount":42}}}}`
	cases := []struct {
		name, body, input string
	}{
		{"required only", `{"sessionId":"U2Vzc2lvbjox","email":"ada@example.org"}`, `{"sessionId":"U2Vzc2lvbjox","email":"ada@example.org"}`},
		{"empty optional fields", `{"sessionId":"U2Vzc2lvbjox","email":"ada@example.org","firstName":"","lastName":"  "}`, `{"sessionId":"U2Vzc2lvbjox","email":"ada@example.org"}`},
		{"with names and UTM", `{"sessionId":"U2Vzc2lvbjox","email":"ada@example.org","firstName":"Ada","utmSource":"newsletter"}`,
			`{"sessionId":"U2Vzc2lvbjox","email":"ada@example.org","firstName":"Ada","utmSource":"newsletter"}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			gw := &fakeGateway{answer: answer}
			res, err := http.Post(bff(t, gw)+"/api/registrations", "application/json", strings.NewReader(tc.body))
			require.NoError(t, err)
			defer res.Body.Close()
			require.Equal(t, http.StatusCreated, res.StatusCode)
			assert.JSONEq(t, `{"input":`+tc.input+`}`, gw.variables(t))
			var reg Registration
			require.NoError(t, json.NewDecoder(res.Body).Decode(&reg))
			assert.Equal(t, "UmVnOjE", reg.ID)
			assert.Equal(t, 42, reg.SessionRegistrants)
			assert.Equal(t, "https://app.livestorm.co/p/1/live?s=abc", reg.JoinLink)
		})
	}
}

func TestGatewayErrorsBecomeStatuses(t *testing.T) {
	cases := []struct {
		name   string
		status int
		answer string
		want   int
		code   string
	}{
		{"bad input", 200, `{"errors":[{"message":"input.email: not an email address","extensions":{"code":"BAD_USER_INPUT","field":"input.email"}}],"data":{"registerPerson":null}}`, 400, "BAD_USER_INPUT"},
		{"already registered", 200, `{"errors":[{"message":"already registered","extensions":{"code":"CONFLICT"}}],"data":{"registerPerson":null}}`, 409, "CONFLICT"},
		{"unknown session", 200, `{"errors":[{"message":"session not found","extensions":{"code":"NOT_FOUND"}}],"data":{"registerPerson":null}}`, 404, "NOT_FOUND"},
		{"gateway refuses the BFF's key", 401, `{"errors":[{"message":"unknown API key","extensions":{"code":"UNAUTHENTICATED"}}]}`, 502, "UNAUTHENTICATED"},
		{"gateway down", 502, `<html>bad gateway</html>`, 502, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			gw := &fakeGateway{status: tc.status, answer: tc.answer}
			res, err := http.Post(bff(t, gw)+"/api/registrations", "application/json",
				strings.NewReader(`{"sessionId":"U2Vzc2lvbjox","email":"ada@example.org"}`))
			require.NoError(t, err)
			defer res.Body.Close()
			assert.Equal(t, tc.want, res.StatusCode)
			var body map[string]string
			require.NoError(t, json.NewDecoder(res.Body).Decode(&body))
			assert.Equal(t, tc.code, body["code"])
			assert.NotEmpty(t, body["error"])
		})
	}
}
