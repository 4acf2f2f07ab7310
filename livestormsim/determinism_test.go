package livestormsim

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDeterministicSeed: the same seed produces the same ids and documents;
// another seed produces other data.
func TestDeterministicSeed(t *testing.T) {
	a := newHarness(t, nil)
	b := newHarness(t, nil)
	c := newHarness(t, func(cfg *Config) { cfg.Seed = 8 })
	require.Equal(t, orgIDs(a.sim), orgIDs(b.sim))
	assert.NotEqual(t, orgIDs(a.sim), orgIDs(c.sim))
	for _, path := range []string{"/events?include=sessions,tags&page[size]=50", "/sessions?page[size]=50", "/people?page[size]=50", "/users", "/people_attributes"} {
		t.Run(path, func(t *testing.T) {
			ra := a.get(path).must(t, http.StatusOK)
			rb := b.get(path).must(t, http.StatusOK)
			assert.Equal(t, string(ra.body), string(rb.body))
		})
	}
	assert.NotEqual(t, string(a.get("/events").body), string(c.get("/events").body))
}

func orgIDs(s *Simulator) []string {
	var out []string
	for _, o := range s.Organizations() {
		out = append(out, o.ID)
	}
	return out
}

// TestSeedData checks the seeded workspace looks like the brief: named
// organizations, team members with one pending invite, built-in and custom
// people attributes, and consistent counters.
func TestSeedData(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Organizations = 3 })
	orgs := h.sim.Organizations()
	require.Len(t, orgs, 3)
	assert.Equal(t, []string{"Acme Webinars", "Globex Events", "Initech Academy"}, []string{orgs[0].Name, orgs[1].Name, orgs[2].Name})
	for _, o := range orgs {
		assert.Equal(t, defaultWebhookSecret, o.WebhookSecret)
		assert.NotEmpty(t, o.ReadOnlyToken)
		assert.NotEmpty(t, o.OAuthToken)
	}

	users := h.listAll("/users", h.org.Token)
	require.GreaterOrEqual(t, len(users), 3)
	assert.Equal(t, "host", attrs(users[0])["role"], "the first team member (owner) is a host")
	assert.Len(t, h.listAll("/users?filter[pending_invite]=true", h.org.Token), 1)

	slugs := map[string]string{}
	for _, a := range h.listAll("/people_attributes", h.org.Token) {
		slugs[attrs(a)["slug"].(string)] = attrs(a)["type"].(string)
	}
	for slug, typ := range map[string]string{"email": "email", "first_name": "text", "last_name": "text", "avatar": "avatar",
		"company": "text", "job_title": "text", "department": "unique_select", "interests": "multiple_select"} {
		assert.Equal(t, typ, slugs[slug], slug)
	}

	emails := map[string]bool{}
	for _, p := range h.listAll("/people", h.org.Token) {
		e := attrs(p)["email"].(string)
		assert.False(t, emails[e], "emails are unique within an organization: %s", e)
		emails[e] = true
	}

	t.Run("counters match the data", func(t *testing.T) {
		for _, ev := range h.listAll("/events?include=sessions", h.org.Token) {
			rel, _ := relIDs(ev, "sessions")
			assert.Equal(t, float64(len(rel)), attrs(ev)["sessions_count"])
		}
		for _, s := range h.listAll("/sessions", h.org.Token) {
			people := h.listAll("/sessions/"+s["id"].(string)+"/people", h.org.Token)
			attended := 0
			for _, p := range people {
				if attrs(p)["registrant_detail"].(map[string]any)["attended"] == true {
					attended++
				}
			}
			assert.Equal(t, float64(len(people)), attrs(s)["registrants_count"])
			assert.Equal(t, float64(attended), attrs(s)["attendees_count"])
		}
		past := h.sessionWithStatus(statusPast, func(s *session) bool { return len(s.chat) > 0 })
		perAuthor := map[string]int{}
		for _, m := range h.listAll("/sessions/"+past.id+"/chat_messages", h.org.Token) {
			perAuthor[attrs(m)["author_id"].(string)]++
		}
		for author, n := range perAuthor {
			p := attrs(h.get("/sessions/"+past.id+"/people/"+author).must(t, http.StatusOK).data())
			assert.Equal(t, float64(n), p["messages_count"])
		}
	})
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want Size
		ok   bool
	}{
		{"tiny", SizeTiny, true}, {"Small", SizeSmall, true}, {"demo", SizeDemo, true}, {"large", SizeLarge, true},
		{"10x3x50", Size{10, 3, 50}, true}, {"0x0x0", Size{}, true},
		{"huge", Size{}, false}, {"10x3", Size{}, false}, {"1x-1x2", Size{}, false}, {"1x2x99999999", Size{}, false},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseSize(tc.in)
			if !tc.ok {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestConfigValidation(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
	}{
		{"negative fault", Config{Faults: Faults{ServerError: -0.1}}},
		{"faults over 1", Config{Faults: Faults{ServerError: 0.6, Timeout: 0.6}}},
		{"too many organizations", Config{Organizations: 51}},
		{"page sizes", Config{DefaultPageSize: 60, MaxPageSize: 50}},
		{"negative latency", Config{Latency: -time.Second}},
		{"negative time scale", Config{WebhookTimeScale: -1}},
		{"negative size", Config{Size: Size{Events: -1}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.cfg)
			assert.Error(t, err)
		})
	}
}

// BenchmarkSeedLarge measures seeding SizeLarge (two organizations of 100
// events x 5 sessions x 200 people).
func BenchmarkSeedLarge(b *testing.B) {
	for b.Loop() {
		seedStore(Config{Seed: 1, Size: SizeLarge, Organizations: 2}, testStart)
	}
}

// BenchmarkListSessionPeopleLarge measures a page of a large session's people.
func BenchmarkListSessionPeopleLarge(b *testing.B) {
	sim, err := New(Config{Size: SizeLarge, IntervalLimit: -1, MonthlyQuota: -1, Clock: NewManualClock(testStart)})
	require.NoError(b, err)
	defer sim.Close()
	org := sim.Organizations()[0]
	sessID := sim.Events(org.ID)[10].SessionIDs[2]
	handler := sim.Handler()
	b.ResetTimer()
	for b.Loop() {
		req, _ := http.NewRequest(http.MethodGet, "/v1/sessions/"+sessID+"/people?page[size]=50&page[number]=3", nil)
		req.Header.Set("Authorization", org.Token)
		rec := &discardWriter{header: http.Header{}}
		handler.ServeHTTP(rec, req)
		if rec.status != http.StatusOK {
			b.Fatalf("status %d", rec.status)
		}
	}
}

type discardWriter struct {
	header http.Header
	status int
}

func (d *discardWriter) Header() http.Header         { return d.header }
func (d *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (d *discardWriter) WriteHeader(code int)        { d.status = code }
