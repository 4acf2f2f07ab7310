package livestormsim

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestErrorResponses(t *testing.T) {
	h := newHarness(t, nil)
	upcoming := h.sessionWithStatus(statusUpcoming, func(s *session) bool { _, ok := s.event.field("interests"); return ok })
	canceled := h.sessionWithStatus(statusCanceled, nil)
	past := h.sessionWithStatus(statusPast, nil)
	member := h.participantOf(past)
	h.do("POST", "/sessions/"+upcoming.id+"/people", h.org.Token, registrationBody("dup@example.com")).must(t, http.StatusCreated)
	h.do("POST", "/users", h.org.Token, map[string]any{"data": map[string]any{"type": "users", "attributes": map[string]any{"email": "mod@example.com", "role": "moderator"}}}).must(t, http.StatusCreated)
	reg := func(fields ...map[string]any) map[string]any {
		return map[string]any{"data": map[string]any{"type": "people", "attributes": map[string]any{"fields": fields}}}
	}
	field := func(id string, v any) map[string]any { return map[string]any{"id": id, "value": v} }
	unknownID := "00000000-0000-4000-8000-000000000000"
	tasks := make([]any, 51)
	for i := range tasks {
		tasks[i] = map[string]any{"fields": []any{field("email", "b"+strings.Repeat("x", i)+"@example.com")}}
	}

	tests := []struct {
		name, method, path string
		body               any
		status             int
		detail             string
	}{
		// 400
		{"malformed JSON", "POST", "/events", `{"data": {`, 400, "Malformed JSON"},
		{"empty body", "POST", "/events", "", 400, "empty"},
		{"missing data", "POST", "/events", `{"type":"events"}`, 400, "data"},
		{"wrong resource type", "POST", "/events", `{"data":{"type":"sessions","attributes":{}}}`, 400, "data.type"},
		{"wrong attribute type", "POST", "/events", `{"data":{"type":"events","attributes":{"title":5}}}`, 400, "title"},
		{"data.id mismatch", "PATCH", "/events/" + past.event.id, `{"data":{"type":"events","id":"x","attributes":{}}}`, 400, "data.id"},
		{"unregister without email", "DELETE", "/sessions/" + upcoming.id + "/people", nil, 400, "filter[email]"},
		{"recordings expiry too short", "GET", "/sessions/" + past.id + "/recordings?url_expires_in=3599", nil, 400, "url_expires_in"},
		{"recordings expiry too long", "GET", "/sessions/" + past.id + "/recordings?url_expires_in=604801", nil, 400, "url_expires_in"},
		{"recordings expiry not a number", "GET", "/sessions/" + past.id + "/recordings?url_expires_in=soon", nil, 400, "url_expires_in"},
		{"recordings expiry repeated", "GET", "/sessions/" + past.id + "/recordings?url_expires_in=3600&url_expires_in=7200", nil, 400, "url_expires_in"},
		{"recordings expiry nested", "GET", "/sessions/" + past.id + "/recordings?url_expires_in[seconds]=3600", nil, 400, "single integer"},
		{"bulk task not an object", "POST", "/sessions/" + upcoming.id + "/people/bulk", `{"data":{"type":"jobs","attributes":{"tasks":[42]}}}`, 400, "tasks[0]"},
		// 404
		{"unknown event", "GET", "/events/" + unknownID, nil, 404, "Event not found"},
		{"unknown session", "GET", "/sessions/" + unknownID, nil, 404, "Session not found"},
		{"unknown person", "GET", "/people/" + unknownID, nil, 404, "Person not found"},
		{"person not in session", "GET", "/sessions/" + upcoming.id + "/people/" + member.id, nil, 404, "not found"},
		{"unregister unknown email", "DELETE", "/sessions/" + upcoming.id + "/people?filter[email]=nobody@example.com", nil, 404, "not found"},
		{"unknown job", "GET", "/jobs/" + unknownID, nil, 404, "Job not found"},
		{"unknown webhook", "DELETE", "/webhooks/" + unknownID, nil, 404, "Webhook not found"},
		{"unknown user", "DELETE", "/users/" + unknownID, nil, 404, "Team member not found"},
		{"remove unassigned tag", "DELETE", "/events/" + past.event.id + "/tags", map[string]any{"data": map[string]any{"type": "tags", "attributes": map[string]any{"title": "never-assigned"}}}, 404, "Tag"},
		{"sessions of unknown event", "GET", "/events/" + unknownID + "/sessions", nil, 404, "Event not found"},
		// 409
		{"already registered", "POST", "/sessions/" + upcoming.id + "/people", registrationBody("DUP@example.com"), 409, "Person already registered to this session"},
		{"duplicate team member", "POST", "/users", map[string]any{"data": map[string]any{"type": "users", "attributes": map[string]any{"email": "mod@example.com", "role": "host"}}}, 409, "already exists"},
		// 422
		{"registration without email", "POST", "/sessions/" + upcoming.id + "/people", reg(field("first_name", "A")), 422, "The field 'email' is required"},
		{"registration unknown field", "POST", "/sessions/" + upcoming.id + "/people", reg(field("email", "a@example.com"), field("xyz", "1")), 422, "The field 'xyz' doesn't exist"},
		{"registration invalid email", "POST", "/sessions/" + upcoming.id + "/people", reg(field("email", "not-an-email")), 422, "email"},
		{"multi-select not a list", "POST", "/sessions/" + upcoming.id + "/people", reg(field("email", "a@example.com"), field("interests", "Roadmap")), 422, "list"},
		{"multi-select bad option", "POST", "/sessions/" + upcoming.id + "/people", reg(field("email", "a@example.com"), field("interests", []string{"Roadmap", "Cooking"})), 422, "'Cooking' is not a valid option"},
		{"text field not a string", "POST", "/sessions/" + upcoming.id + "/people", reg(field("email", "a@example.com"), field("first_name", 12)), 422, "string"},
		{"registration to canceled session", "POST", "/sessions/" + canceled.id + "/people", registrationBody("c@example.com"), 422, "canceled"},
		{"registration to past session", "POST", "/sessions/" + past.id + "/people", registrationBody("p@example.com"), 422, "ended"},
		{"change email on update", "PATCH", "/sessions/" + upcoming.id + "/people/" + h.sim.mustPersonByEmail(t, h.org.ID, "dup@example.com"), reg(field("email", "other@example.com")), 422, "email"},
		{"event owner not a team member", "POST", "/events", map[string]any{"data": map[string]any{"type": "events", "attributes": map[string]any{"owner_id": member.id}}}, 422, "Team member not found"},
		{"event bad status", "POST", "/events", map[string]any{"data": map[string]any{"type": "events", "attributes": map[string]any{"status": "live"}}}, 422, "status"},
		{"copy from unknown event", "POST", "/events", map[string]any{"data": map[string]any{"type": "events", "attributes": map[string]any{"copy_from_event_id": unknownID}}}, 422, "copy"},
		{"event session bad timezone", "POST", "/events", map[string]any{"data": map[string]any{"type": "events", "attributes": map[string]any{}, "relationships": map[string]any{"sessions": []any{map[string]any{"type": "sessions", "attributes": map[string]any{"estimated_started_at": "2026-05-01", "timezone": "Mars/Olympus"}}}}}}, 422, "timezone"},
		{"session without start", "POST", "/events/" + past.event.id + "/sessions", map[string]any{"data": map[string]any{"type": "sessions", "attributes": map[string]any{"name": "x"}}}, 422, "estimated_started_at"},
		{"session bad start", "POST", "/events/" + past.event.id + "/sessions", map[string]any{"data": map[string]any{"type": "sessions", "attributes": map[string]any{"estimated_started_at": "next tuesday"}}}, 422, "estimated_started_at"},
		{"session with non-member", "POST", "/events/" + past.event.id + "/sessions", map[string]any{"data": map[string]any{"type": "sessions", "attributes": map[string]any{"estimated_started_at": 1790000000}, "relationships": map[string]any{"people": []any{map[string]any{"data": map[string]any{"type": "people", "id": member.id, "role": "team_member"}}}}}}, 422, "Team member not found"},
		{"reschedule a past session", "PATCH", "/sessions/" + past.id, map[string]any{"data": map[string]any{"type": "sessions", "attributes": map[string]any{"estimated_started_at": "2030-01-01 10:00:00"}}}, 422, "rescheduled"},
		{"invite bad role", "POST", "/users", map[string]any{"data": map[string]any{"type": "users", "attributes": map[string]any{"email": "boss@example.com", "role": "owner"}}}, 422, "role"},
		{"invite bad email", "POST", "/users", map[string]any{"data": map[string]any{"type": "users", "attributes": map[string]any{"email": "boss", "role": "host"}}}, 422, "email"},
		{"remove the owner", "DELETE", "/users/" + h.sim.ownerID(h.org.ID), nil, 422, "owner"},
		{"webhook unknown event", "POST", "/webhooks", map[string]any{"data": map[string]any{"type": "webhooks", "attributes": map[string]any{"url": "https://x.example.com", "event": "session.exploded"}}}, 422, "Unknown webhook event"},
		{"webhook bad url", "POST", "/webhooks", map[string]any{"data": map[string]any{"type": "webhooks", "attributes": map[string]any{"url": "not a url", "event": "session.ended"}}}, 422, "url"},
		{"tag without title", "POST", "/events/" + past.event.id + "/tags", map[string]any{"data": map[string]any{"type": "tags", "attributes": map[string]any{"title": " "}}}, 422, "title"},
		{"bulk over 50 tasks", "POST", "/sessions/" + upcoming.id + "/people/bulk", map[string]any{"data": map[string]any{"type": "jobs", "attributes": map[string]any{"tasks": tasks}}}, 422, "between 1 and 50"},
		{"bulk without tasks", "POST", "/sessions/" + upcoming.id + "/people/bulk", map[string]any{"data": map[string]any{"type": "jobs", "attributes": map[string]any{"tasks": []any{}}}}, 422, "between 1 and 50"},
		// 500
		{"job tasks with pagination", "GET", "/jobs/" + unknownID + "/tasks?page[size]=10", nil, 500, "Internal"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := h.do(tc.method, tc.path, h.org.Token, tc.body).must(t, tc.status)
			assert.Equal(t, mediaType, r.header.Get("Content-Type"))
			errs, ok := r.doc["errors"].([]any)
			require.True(t, ok, "JSON:API errors document")
			require.Len(t, errs, 1)
			e := errs[0].(map[string]any)
			code, title := reason(tc.status)
			assert.Equal(t, code, e["status"])
			assert.Equal(t, code, e["code"])
			assert.Equal(t, title, e["title"])
			assert.Contains(t, e["detail"], tc.detail)
		})
	}

	t.Run("body over 1 MiB is 413", func(t *testing.T) {
		big := `{"data":{"type":"events","attributes":{"description":"` + strings.Repeat("a", maxBodyBytes) + `"}}}`
		r := h.do("POST", "/events", h.org.Token, big).must(t, http.StatusRequestEntityTooLarge)
		assert.Equal(t, "payload_too_large", r.errorStatus())
	})
}

// mustPersonByEmail returns the id of the person with that email.
func (s *Simulator) mustPersonByEmail(t *testing.T, orgID, email string) string {
	t.Helper()
	s.store.mu.RLock()
	defer s.store.mu.RUnlock()
	p := s.store.orgByID[orgID].personByEmail[email]
	require.NotNil(t, p)
	return p.id
}

func (s *Simulator) ownerID(orgID string) string {
	s.store.mu.RLock()
	defer s.store.mu.RUnlock()
	return s.store.orgByID[orgID].ownerID
}

// TestPanicRecovery: a handler panic becomes a 500 JSON:API error, is logged
// in the request log, and the server keeps serving.
func TestPanicRecovery(t *testing.T) {
	h := newHarness(t, nil)
	h.sim.router.add(http.MethodGet, "/boom", areaAny, func(*reqCtx) response { panic("boom") })
	r := h.get("/boom").must(t, http.StatusInternalServerError)
	assert.Equal(t, "internal_server_error", r.errorStatus())
	reqs := h.sim.Requests()
	assert.Equal(t, http.StatusInternalServerError, reqs[len(reqs)-1].Status)
	h.get("/ping").must(t, http.StatusOK)
}
