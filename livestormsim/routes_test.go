package livestormsim

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestEveryOperation calls each of the 41 operations of livestorm-api.md §5
// once, in an order where later calls use what earlier ones created, and
// checks the status, the document shape and the templated route in the log.
func TestEveryOperation(t *testing.T) {
	h := newHarness(t, nil)
	past := h.sessionWithStatus(statusPast, func(s *session) bool { return len(s.chat) > 0 && len(s.questions) > 0 && len(s.recordings) > 0 })
	upcoming := h.sessionWithStatus(statusUpcoming, nil)
	participant := h.participantOf(past)
	eventID := past.event.id

	var createdEvent, createdSession, registeredPerson, jobID, invitedUser, webhookID string
	const email = "ops.person@example.com"
	tests := []struct {
		name   string
		method string
		path   func() string
		body   any
		status int
		route  string
		typ    string // type of data (or of list items); "" when no body
		list   bool
		save   *string // store data.id here
	}{
		{"ping", "GET", fixed("/ping"), nil, 200, "/ping", "", false, nil},
		{"me", "GET", fixed("/me"), nil, 200, "/me", "organizations", false, nil},
		{"organization", "GET", fixed("/organization"), nil, 200, "/organization", "organizations", false, nil},
		{"list events", "GET", fixed("/events"), nil, 200, "/events", "events", true, nil},
		{"create event", "POST", fixed("/events"), map[string]any{"data": map[string]any{"type": "events", "attributes": map[string]any{"title": "Ops event", "status": "published"},
			"relationships": map[string]any{"sessions": []any{map[string]any{"type": "sessions", "attributes": map[string]any{"estimated_started_at": "2026-04-01 10:00:00", "timezone": "Europe/Paris"}}}}}},
			201, "/events", "events", false, &createdEvent},
		{"get event", "GET", func() string { return "/events/" + eventID }, nil, 200, "/events/{id}", "events", false, nil},
		{"patch event", "PATCH", func() string { return "/events/" + createdEvent }, map[string]any{"data": map[string]any{"type": "events", "attributes": map[string]any{"title": "Renamed"}}}, 200, "/events/{id}", "events", false, nil},
		{"put event", "PUT", func() string { return "/events/" + createdEvent }, map[string]any{"data": map[string]any{"type": "events", "id": createdEvent, "attributes": map[string]any{"description": "<p>x</p>"}}}, 200, "/events/{id}", "events", false, nil},
		{"add tag", "POST", func() string { return "/events/" + createdEvent + "/tags" }, map[string]any{"data": map[string]any{"type": "tags", "attributes": map[string]any{"title": "Brand New"}}}, 201, "/events/{id}/tags", "tags", false, nil},
		{"remove tag", "DELETE", func() string { return "/events/" + createdEvent + "/tags" }, map[string]any{"data": map[string]any{"type": "tags", "attributes": map[string]any{"title": "brand new"}}}, 204, "/events/{id}/tags", "", false, nil},
		{"event people", "GET", func() string { return "/events/" + eventID + "/people" }, nil, 200, "/events/{id}/people", "people", true, nil},
		{"event person", "GET", func() string { return "/events/" + eventID + "/people/" + participant.id }, nil, 200, "/events/{id}/people/{people_id}", "people", false, nil},
		{"event sessions", "GET", func() string { return "/events/" + eventID + "/sessions" }, nil, 200, "/events/{id}/sessions", "sessions", true, nil},
		{"create session", "POST", func() string { return "/events/" + createdEvent + "/sessions" }, map[string]any{"data": map[string]any{"type": "sessions", "attributes": map[string]any{"estimated_started_at": "2026-05-01 09:30:00", "timezone": "America/New_York", "name": "Second run"}}}, 201, "/events/{id}/sessions", "sessions", false, &createdSession},
		{"list sessions", "GET", fixed("/sessions"), nil, 200, "/sessions", "sessions", true, nil},
		{"get session", "GET", func() string { return "/sessions/" + past.id }, nil, 200, "/sessions/{id}", "sessions", false, nil},
		{"patch session", "PATCH", func() string { return "/sessions/" + upcoming.id }, map[string]any{"data": map[string]any{"type": "sessions", "attributes": map[string]any{"embed_url": "https://my.example.com/embed"}}}, 200, "/sessions/{id}", "sessions", false, nil},
		{"put session", "PUT", func() string { return "/sessions/" + createdSession }, map[string]any{"data": map[string]any{"type": "sessions", "attributes": map[string]any{"timezone": "Europe/Paris", "estimated_started_at": "2026-05-02 00:00:00"}}}, 200, "/sessions/{id}", "sessions", false, nil},
		{"session people", "GET", func() string { return "/sessions/" + past.id + "/people" }, nil, 200, "/sessions/{id}/people", "people", true, nil},
		{"register", "POST", func() string { return "/sessions/" + upcoming.id + "/people" }, registrationBody(email), 201, "/sessions/{id}/people", "people", false, &registeredPerson},
		{"session person", "GET", func() string { return "/sessions/" + upcoming.id + "/people/" + registeredPerson }, nil, 200, "/sessions/{id}/people/{people_id}", "people", false, nil},
		{"update registration", "PATCH", func() string { return "/sessions/" + upcoming.id + "/people/" + registeredPerson }, registrationBody(email, map[string]any{"id": "first_name", "value": "Changed"}), 200, "/sessions/{id}/people/{people_id}", "people", false, nil},
		{"unregister by email", "DELETE", func() string { return "/sessions/" + upcoming.id + "/people?filter[email]=" + email }, nil, 204, "/sessions/{id}/people", "", false, nil},
		{"register again", "POST", func() string { return "/sessions/" + upcoming.id + "/people" }, registrationBody(email), 201, "/sessions/{id}/people", "people", false, nil},
		{"unregister by id", "DELETE", func() string { return "/sessions/" + upcoming.id + "/people/" + registeredPerson }, nil, 204, "/sessions/{id}/people/{people_id}", "", false, nil},
		{"bulk", "POST", func() string { return "/sessions/" + upcoming.id + "/people/bulk" }, map[string]any{"data": map[string]any{"type": "jobs", "attributes": map[string]any{"tasks": []any{map[string]any{"fields": []any{map[string]any{"id": "email", "value": "bulk1@example.com"}}}}}}}, 202, "/sessions/{id}/people/bulk", "", false, nil},
		{"chat messages", "GET", func() string { return "/sessions/" + past.id + "/chat_messages" }, nil, 200, "/sessions/{id}/chat_messages", "chat_messages", true, nil},
		{"chat messages alias", "GET", func() string { return "/sessions/" + past.id + "/chat-messages" }, nil, 200, "/sessions/{id}/chat-messages", "chat_messages", true, nil},
		{"questions", "GET", func() string { return "/sessions/" + past.id + "/questions" }, nil, 200, "/sessions/{id}/questions", "questions", true, nil},
		{"recordings", "GET", func() string { return "/sessions/" + past.id + "/recordings" }, nil, 200, "/sessions/{id}/recordings", "recordings", true, nil},
		{"people", "GET", fixed("/people"), nil, 200, "/people", "people", true, nil},
		{"person", "GET", func() string { return "/people/" + participant.id }, nil, 200, "/people/{id}", "people", false, nil},
		{"people attributes", "GET", fixed("/people_attributes"), nil, 200, "/people_attributes", "people_attributes", true, nil},
		{"job", "GET", func() string { return "/jobs/" + jobID }, nil, 200, "/jobs/{id}", "jobs", false, nil},
		{"job tasks", "GET", func() string { return "/jobs/" + jobID + "/tasks" }, nil, 200, "/jobs/{id}/tasks", "tasks", true, nil},
		{"users", "GET", fixed("/users"), nil, 200, "/users", "users", true, nil},
		{"invite user", "POST", fixed("/users"), map[string]any{"data": map[string]any{"type": "users", "attributes": map[string]any{"email": "new.mod@example.com", "role": "moderator"}}}, 201, "/users", "users", false, &invitedUser},
		{"remove user", "DELETE", func() string { return "/users/" + invitedUser }, nil, 204, "/users/{id}", "", false, nil},
		{"webhooks", "GET", fixed("/webhooks"), nil, 200, "/webhooks", "webhooks", true, nil},
		{"create webhook", "POST", fixed("/webhooks"), map[string]any{"data": map[string]any{"type": "webhooks", "attributes": map[string]any{"url": "https://hooks.example.com/ls", "event": "session.ended"}}}, 201, "/webhooks", "webhooks", false, &webhookID},
		{"delete webhook", "DELETE", func() string { return "/webhooks/" + webhookID }, nil, 204, "/webhooks/{id}", "", false, nil},
		{"delete session", "DELETE", func() string { return "/sessions/" + createdSession }, nil, 204, "/sessions/{id}", "", false, nil},
		{"delete event", "DELETE", func() string { return "/events/" + createdEvent }, nil, 204, "/events/{id}", "", false, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "job" {
				// The bulk call above answered with a root-level job document.
				require.NotEmpty(t, jobID)
			}
			r := h.do(tc.method, tc.path(), h.org.Token, tc.body).must(t, tc.status)
			reqs := h.sim.Requests()
			assert.Equal(t, tc.route, reqs[len(reqs)-1].Route)
			assert.Equal(t, h.org.ID, reqs[len(reqs)-1].OrgID)
			if tc.typ == "" {
				if tc.status == http.StatusAccepted {
					assert.Equal(t, "jobs", r.doc["type"])
					assert.NotContains(t, r.doc, "data", "the bulk response is a root-level resource")
					jobID, _ = r.doc["id"].(string)
				} else {
					assert.Empty(t, r.body)
				}
				return
			}
			assert.Equal(t, mediaType, r.header.Get("Content-Type"))
			if tc.list {
				for _, item := range r.list() {
					assert.Equal(t, tc.typ, item["type"])
					assert.NotEmpty(t, item["id"])
					assert.NotNil(t, item["attributes"])
				}
				assert.Len(t, r.meta(), 6, "meta has the six pagination keys")
				return
			}
			d := r.data()
			require.NotNil(t, d, "data object")
			assert.Equal(t, tc.typ, d["type"])
			assert.NotEmpty(t, d["id"])
			if tc.save != nil {
				*tc.save = d["id"].(string)
			}
		})
	}
}

func fixed(p string) func() string { return func() string { return p } }

// TestRouting covers the router's edges: unknown paths, wrong methods and
// paths outside /v1 are JSON:API errors.
func TestRouting(t *testing.T) {
	h := newHarness(t, nil)
	tests := []struct {
		name, method, path string
		status             int
		errStatus          string
	}{
		{"unknown route", "GET", "/nope", 404, "not_found"},
		{"wrong method", "PATCH", "/people", 405, "method_not_allowed"},
		{"trailing slash", "GET", "/events/", 200, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := h.do(tc.method, tc.path, h.org.Token, nil).must(t, tc.status)
			if tc.errStatus != "" {
				assert.Equal(t, tc.errStatus, r.errorStatus())
			}
		})
	}
	t.Run("outside /v1", func(t *testing.T) {
		resp, err := h.http.Get(h.srv.URL + "/events")
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	})
	t.Run("405 names the allowed methods", func(t *testing.T) {
		r := h.do("PATCH", "/people", h.org.Token, nil)
		assert.Equal(t, "GET", r.header.Get("Allow"))
	})
}
