package livestormsim

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var allWebhookEvents = webhookEventNames

// createEventWithSession creates a published event (estimated_duration
// minutes) with one session starting at start; it returns the session id.
func (h *harness) createEventWithSession(start time.Time, duration int) (eventID, sessionID string) {
	h.t.Helper()
	r := h.do("POST", "/events", h.org.Token, map[string]any{"data": map[string]any{
		"type":          "events",
		"attributes":    map[string]any{"title": "Lifecycle", "status": "published", "estimated_duration": duration},
		"relationships": map[string]any{"sessions": []any{map[string]any{"type": "sessions", "attributes": map[string]any{"estimated_started_at": start.Unix(), "timezone": "Europe/Paris"}}}},
	}}).must(h.t, http.StatusCreated)
	rel, ok := relIDs(r.data(), "sessions")
	require.True(h.t, ok)
	require.Len(h.t, rel, 1)
	return r.data()["id"].(string), rel[0][len("sessions/"):]
}

func TestSessionLifecycle(t *testing.T) {
	h := newHarness(t, nil)
	rcv := newWebhookReceiver(t, nil)
	h.subscribe(h.org.Token, rcv.srv.URL, allWebhookEvents...)
	h.subscribe(h.org2.Token, rcv.srv.URL+"/other-org", "session.started")

	start := testStart.Add(10 * time.Minute)
	eventID, sessID := h.createEventWithSession(start, 30)
	for i := 0; i < 10; i++ {
		h.do("POST", "/sessions/"+sessID+"/people", h.org.Token, registrationBody(fmt.Sprintf("attendee%d@example.com", i))).must(t, http.StatusCreated)
	}
	eventually(t, func() bool { return rcv.count("people.registered") == 10 }, "registrations delivered")
	assert.Equal(t, 1, rcv.count("event.created"))
	assert.Equal(t, 1, rcv.count("event.published"))
	assert.Equal(t, 1, rcv.count("session.created"))

	sessionAttrs := func() map[string]any { return attrs(h.get("/sessions/"+sessID).must(t, http.StatusOK).data()) }
	eventStatus := func() string {
		return attrs(h.get("/events/"+eventID).must(t, http.StatusOK).data())["scheduling_status"].(string)
	}
	s := sessionAttrs()
	assert.Equal(t, "upcoming", s["status"])
	assert.Equal(t, float64(0), s["started_at"])
	assert.Nil(t, s["duration"])
	assert.Equal(t, float64(11), s["registrants_count"], "10 participants + the host")
	assert.Equal(t, "upcoming", eventStatus())

	require.NoError(t, h.sim.Advance(10*time.Minute))
	s = sessionAttrs()
	assert.Equal(t, "live", s["status"])
	assert.Equal(t, float64(start.Unix()), s["started_at"])
	assert.Equal(t, "live", eventStatus())
	eventually(t, func() bool { return rcv.countFor("session.started", sessID) == 1 }, "session.started delivered")

	require.NoError(t, h.sim.Advance(30*time.Minute))
	s = sessionAttrs()
	assert.Equal(t, "past", s["status"])
	assert.Equal(t, float64(start.Unix()+1800), s["ended_at"])
	assert.Equal(t, float64(1800), s["duration"])
	assert.Equal(t, "ended", eventStatus())
	people := h.listAll("/sessions/"+sessID+"/people", h.org.Token)
	attended := 0
	for _, p := range people {
		d := attrs(p)["registrant_detail"].(map[string]any)
		if d["attended"] == true {
			attended++
			assert.NotNil(t, d["attendance_rate"])
			assert.Greater(t, d["attendance_duration"], float64(0))
		} else {
			assert.Nil(t, d["attendance_rate"])
			assert.Equal(t, float64(0), d["attendance_duration"])
		}
	}
	assert.Equal(t, float64(attended), s["attendees_count"])
	assert.Greater(t, attended, 1, "the host plus some participants attended")
	assert.Less(t, attended, 11, "not everybody attended")

	eventually(t, func() bool {
		return rcv.countFor("people.attended", sessID)+rcv.countFor("people.not_attended", sessID) == 10
	}, "attendance delivered")
	assert.Equal(t, attended-1, rcv.countFor("people.attended", sessID), "one delivery per participant; the host is not a registrant")
	hooks := rcv.forSession(sessID)
	ended := slices.IndexFunc(hooks, func(r receivedHook) bool { return r.event == "session.ended" })
	require.GreaterOrEqual(t, ended, 0)
	for i, r := range hooks {
		if r.event == "people.attended" || r.event == "people.not_attended" {
			assert.Greater(t, i, ended, "session.ended is delivered before the attendance it causes")
		}
	}

	t.Run("deliveries are signed and shaped like Livestorm's", func(t *testing.T) {
		for _, r := range rcv.received() {
			verifySignature(t, r.signature, h.org.WebhookSecret, r.body)
			assert.Equal(t, "application/json", r.header.Get("Content-Type"))
			assert.Equal(t, "Livestorm-Webhooks/1.0", r.header.Get("User-Agent"))
			data := r.payload["data"].(map[string]any)
			meta := data["meta"].(map[string]any)["webhook"].(map[string]any)
			assert.Equal(t, h.org.ID, meta["organization_id"])
			assert.NotEmpty(t, data["id"])
			want := map[string]string{"event": "events", "session": "sessions", "people": "people", "job": "jobs"}
			assert.Equal(t, want[r.event[:slices.Index([]byte(r.event), '.')]], data["type"])
			if data["type"] == "people" {
				assert.NotEmpty(t, r.sessionID(), "people payloads carry the session's registrant_detail")
			}
		}
		assert.Zero(t, h.countOtherOrgDeliveries(h.org2.ID), "org2 subscribed only to its own session.started")
	})

	t.Run("recording after the end", func(t *testing.T) {
		r := h.get("/sessions/"+sessID+"/recordings").must(t, http.StatusOK)
		require.Len(t, r.list(), 1)
		assert.Equal(t, float64(43200), attrs(r.list()[0])["url_expires_in"])
	})

	t.Run("replay", func(t *testing.T) {
		var absent string
		for _, p := range people {
			if attrs(p)["registrant_detail"].(map[string]any)["attended"] == false {
				absent = p["id"].(string)
			}
		}
		require.NotEmpty(t, absent)
		require.NoError(t, h.sim.WatchReplay(sessID, absent))
		eventually(t, func() bool { return rcv.count("people.watched_replay") == 1 }, "watched_replay delivered")
		p := attrs(h.get("/sessions/"+sessID+"/people/"+absent).must(t, http.StatusOK).data())
		assert.Equal(t, true, p["registrant_detail"].(map[string]any)["has_viewed_replay"])
		assert.Equal(t, float64(h.sim.Now().Unix()), p["replay_view_detail"].(map[string]any)["watched_at"])
		assert.Error(t, h.sim.WatchReplay(sessID, "nobody"))
	})
}

func (h *harness) countOtherOrgDeliveries(orgID string) int {
	n := 0
	for _, d := range h.sim.Deliveries() {
		if d.OrgID == orgID {
			n++
		}
	}
	return n
}

func TestSessionTransitions(t *testing.T) {
	h := newHarness(t, nil)
	status := func(id string) string {
		return attrs(h.get("/sessions/"+id).must(t, http.StatusOK).data())["status"].(string)
	}

	t.Run("a jump over the whole session starts and ends it", func(t *testing.T) {
		rcv := newWebhookReceiver(t, nil)
		h.subscribe(h.org.Token, rcv.srv.URL, "session.started", "session.ended")
		_, id := h.createEventWithSession(h.sim.Now().Add(time.Minute), 30)
		require.NoError(t, h.sim.Advance(2*time.Hour))
		assert.Equal(t, "past", status(id))
		eventually(t, func() bool { return rcv.countFor("session.started", id) == 1 && rcv.countFor("session.ended", id) == 1 }, "both transitions delivered")
	})
	t.Run("forced start and end", func(t *testing.T) {
		_, id := h.createEventWithSession(h.sim.Now().Add(24*time.Hour), 30)
		assert.Error(t, h.sim.EndSession(id), "not live yet")
		require.NoError(t, h.sim.StartSession(id))
		assert.Equal(t, "live", status(id))
		assert.Error(t, h.sim.StartSession(id), "already live")
		require.NoError(t, h.sim.EndSession(id))
		assert.Equal(t, "past", status(id))
		assert.ErrorIs(t, h.sim.StartSession("unknown"), errUnknownSession)
		assert.ErrorIs(t, h.sim.EndSession("unknown"), errUnknownSession)
	})
	t.Run("a session scheduled in the past never started", func(t *testing.T) {
		_, id := h.createEventWithSession(h.sim.Now().Add(-48*time.Hour), 30)
		assert.Equal(t, "past_not_started", status(id))
		h.sim.Tick()
		assert.Equal(t, "past_not_started", status(id))
	})
	t.Run("draft events have draft sessions until published", func(t *testing.T) {
		r := h.do("POST", "/events", h.org.Token, map[string]any{"data": map[string]any{"type": "events", "attributes": map[string]any{"title": "Draft"}}}).must(t, http.StatusCreated)
		evID := r.data()["id"].(string)
		assert.Equal(t, "draft", attrs(r.data())["status"])
		assert.Equal(t, float64(0), attrs(r.data())["published_at"])
		assert.Equal(t, "draft", attrs(r.data())["scheduling_status"])
		s := h.do("POST", "/events/"+evID+"/sessions", h.org.Token, map[string]any{"data": map[string]any{"type": "sessions", "attributes": map[string]any{"estimated_started_at": "2026-03-10 18:00:00", "timezone": "America/New_York"}}}).must(t, http.StatusCreated)
		sa := attrs(s.data())
		assert.Equal(t, "draft", sa["status"])
		assert.Equal(t, float64(time.Date(2026, 3, 10, 22, 0, 0, 0, time.UTC).Unix()), sa["estimated_started_at"], "interpreted in the given timezone")
		rel, _ := relIDs(s.data(), "people")
		assert.Len(t, rel, 1, "the event owner is added as host")
		p := h.do("PATCH", "/events/"+evID, h.org.Token, map[string]any{"data": map[string]any{"type": "events", "attributes": map[string]any{"status": "published"}}}).must(t, http.StatusOK)
		assert.Equal(t, float64(h.sim.Now().Unix()), attrs(p.data())["published_at"])
		assert.Equal(t, "upcoming", status(s.data()["id"].(string)))
	})
	t.Run("Advance needs a manual clock", func(t *testing.T) {
		sim, err := New(Config{Size: SizeTiny, Clock: NewScaledClock(testStart, 60)})
		require.NoError(t, err)
		defer sim.Close()
		assert.Error(t, sim.Advance(time.Minute))
		assert.True(t, sim.Now().After(testStart.Add(-time.Second)))
	})
}

func TestRegisterPersonHelper(t *testing.T) {
	h := newHarness(t, nil)
	rcv := newWebhookReceiver(t, nil)
	h.subscribe(h.org.Token, rcv.srv.URL, "people.registered")
	upcoming := h.sessionWithStatus(statusUpcoming, nil)
	other := h.sessionWithStatus(statusUpcoming, func(s *session) bool { return s.id != upcoming.id })
	id, err := h.sim.RegisterPerson(upcoming.id, "Walk.In@Example.com", "Walk", "In")
	require.NoError(t, err)
	id2, err := h.sim.RegisterPerson(other.id, "walk.in@example.com", "", "")
	require.NoError(t, err)
	assert.Equal(t, id, id2, "one person, one id across sessions")
	_, err = h.sim.RegisterPerson(upcoming.id, "walk.in@example.com", "", "")
	assert.Error(t, err)
	_, err = h.sim.RegisterPerson("nope", "a@example.com", "", "")
	assert.ErrorIs(t, err, errUnknownSession)
	eventually(t, func() bool { return rcv.count("people.registered") == 2 }, "registrations delivered")
	p := attrs(h.get("/sessions/"+upcoming.id+"/people/"+id).must(t, http.StatusOK).data())
	assert.Equal(t, "registration_page", p["registrant_detail"].(map[string]any)["registration_type"])
	assert.Equal(t, "walk.in@example.com", p["email"])
	r := h.get("/people?filter[email]=walk.in@example.com").must(t, http.StatusOK)
	require.Len(t, r.list(), 1)
}

// TestTickerDrivesScaledClock: without manual stepping, the background ticker
// starts and ends sessions as a fast scaled clock passes their times.
func TestTickerDrivesScaledClock(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Clock = NewScaledClock(testStart, 1200) }) // a minute every 50 ms
	_, id := h.createEventWithSession(h.sim.Now().Add(5*time.Minute), 1)
	eventually(t, func() bool {
		return attrs(h.get("/sessions/"+id).must(t, http.StatusOK).data())["status"] == "past"
	}, "the ticker ran the session")
	s := attrs(h.get("/sessions/"+id).must(t, http.StatusOK).data())
	assert.Equal(t, float64(60), s["duration"])
}
