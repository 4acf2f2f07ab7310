package livestorm

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/livestorm-gateway/gateway/livestormsim"
)

// TestLosslessAgainstSimulator applies the contract tests' lossless check to
// raw documents of the simulator, so an attribute it emits that the decoder
// would drop is caught as well.
func TestLosslessAgainstSimulator(t *testing.T) {
	t.Parallel()
	sim, err := livestormsim.New(livestormsim.Config{Seed: 3, Size: livestormsim.SizeTiny, IntervalLimit: -1, WebhookTimeScale: 0.001})
	require.NoError(t, err)
	srv := httptest.NewServer(sim.Handler())
	defer func() { srv.Close(); sim.Close() }()
	org := sim.Organizations()[0]
	ev := sim.Events(org.ID)[0]
	get := func(t *testing.T, path string) []byte {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+"/v1"+path, nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", org.Token)
		resp, err := srv.Client().Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode, string(b))
		return b
	}
	checkPeople := func(t *testing.T, body []byte, primary, _ []map[string]any) {
		l := mustDecodeList(t, body, personDeep)
		for i, p := range l.Items {
			checkResource(t, "data", primary[i], p.ID, encPerson(p))
		}
	}
	tests := []struct {
		name  string
		path  string
		check func(t *testing.T, body []byte, primary, included []map[string]any)
	}{
		{"events with sessions", "/events?include=sessions", func(t *testing.T, body []byte, primary, included []map[string]any) {
			l := mustDecodeList(t, body, eventDeep)
			for i, e := range l.Items {
				checkResource(t, "data", primary[i], e.ID, encEvent(e))
			}
			byID := map[string]Session{}
			for _, e := range l.Items {
				for _, s := range e.Sessions {
					byID[s.ID] = s
				}
			}
			for _, inc := range included {
				s, ok := byID[inc["id"].(string)]
				require.True(t, ok, "included session attached")
				checkResource(t, "included", inc, s.ID, encSession(s))
			}
		}},
		{"session people", "/sessions/" + ev.SessionIDs[0] + "/people", func(t *testing.T, body []byte, primary, _ []map[string]any) {
			l := mustDecodeList(t, body, personDeep)
			require.NotEmpty(t, l.Items)
			for i, p := range l.Items {
				checkResource(t, "data", primary[i], p.ID, encPerson(p))
			}
		}},
		{"event people", "/events/" + ev.ID + "/people", checkPeople},
		{"people", "/people", checkPeople},
		{"users", "/users", func(t *testing.T, body []byte, primary, _ []map[string]any) {
			l := mustDecodeList(t, body, (*decoder).user)
			for i, u := range l.Items {
				checkResource(t, "data", primary[i], u.ID, encUser(u))
			}
		}},
		{"sessions", "/sessions", func(t *testing.T, body []byte, primary, _ []map[string]any) {
			l := mustDecodeList(t, body, sessionDeep)
			for i, s := range l.Items {
				checkResource(t, "data", primary[i], s.ID, encSession(s))
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := get(t, tt.path)
			primary, included := docResources(t, body)
			tt.check(t, body, primary, included)
		})
	}
}
