package livestormsim

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"
	_ "time/tzdata" // IANA zones must resolve on machines without tzdata
)

// routes registers the 41 operations of livestorm-api.md §5 (plus the
// /chat-messages alias of wire decision 15). Templates use {id} for the first
// path id and {people_id} for the second, and are what the request log shows.
func (s *Simulator) routes() *router {
	rt := &router{}
	get, post, patch, put, del := http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodPut, http.MethodDelete

	rt.add(get, "/ping", areaAny, s.ping)                             // 1
	rt.add(get, "/me", areaIdentity, s.me)                            // 2
	rt.add(get, "/organization", areaOrganization, s.getOrganization) // 3

	rt.add(get, "/events", areaEvents, s.listEvents)                             // 4
	rt.add(post, "/events", areaEvents, s.createEvent)                           // 5
	rt.add(get, "/events/{id}", areaEvents, s.getEvent)                          // 6
	rt.add(patch, "/events/{id}", areaEvents, s.updateEvent)                     // 7
	rt.add(put, "/events/{id}", areaEvents, s.updateEvent)                       // 8
	rt.add(del, "/events/{id}", areaEvents, s.deleteEvent)                       // 9
	rt.add(post, "/events/{id}/tags", areaEvents, s.addEventTag)                 // 10
	rt.add(del, "/events/{id}/tags", areaEvents, s.removeEventTag)               // 11
	rt.add(get, "/events/{id}/people", areaEvents, s.listEventPeople)            // 12
	rt.add(get, "/events/{id}/people/{people_id}", areaEvents, s.getEventPerson) // 13
	rt.add(get, "/events/{id}/sessions", areaEvents, s.listEventSessions)        // 14
	rt.add(post, "/events/{id}/sessions", areaEvents, s.createSession)           // 15

	rt.add(get, "/sessions", areaEvents, s.listSessions)                                  // 16
	rt.add(get, "/sessions/{id}", areaEvents, s.getSession)                               // 17
	rt.add(patch, "/sessions/{id}", areaEvents, s.updateSession)                          // 18
	rt.add(put, "/sessions/{id}", areaEvents, s.updateSession)                            // 19
	rt.add(del, "/sessions/{id}", areaEvents, s.deleteSession)                            // 20
	rt.add(get, "/sessions/{id}/people", areaEvents, s.listSessionPeople)                 // 21
	rt.add(post, "/sessions/{id}/people", areaEvents, s.registerSessionPerson)            // 22
	rt.add(del, "/sessions/{id}/people", areaEvents, s.unregisterByEmail)                 // 23
	rt.add(get, "/sessions/{id}/people/{people_id}", areaEvents, s.getSessionPerson)      // 24
	rt.add(patch, "/sessions/{id}/people/{people_id}", areaEvents, s.updateSessionPerson) // 25
	rt.add(del, "/sessions/{id}/people/{people_id}", areaEvents, s.unregisterByID)        // 26
	rt.add(post, "/sessions/{id}/people/bulk", areaEvents, s.bulkRegister)                // 27
	rt.add(get, "/sessions/{id}/chat_messages", areaEvents, s.listChatMessages)           // 28
	rt.add(get, "/sessions/{id}/chat-messages", areaEvents, s.listChatMessages)           // 28 (alias)
	rt.add(get, "/sessions/{id}/questions", areaEvents, s.listQuestions)                  // 29
	rt.add(get, "/sessions/{id}/recordings", areaEvents, s.listRecordings)                // 30

	rt.add(get, "/people", areaEvents, s.listPeople)                      // 31
	rt.add(get, "/people/{id}", areaEvents, s.getPerson)                  // 32
	rt.add(get, "/people_attributes", areaEvents, s.listPeopleAttributes) // 33
	rt.add(get, "/jobs/{id}", areaEvents, s.getJob)                       // 34
	rt.add(get, "/jobs/{id}/tasks", areaEvents, s.listJobTasks)           // 35

	rt.add(get, "/users", areaAdmin, s.listUsers)                // 36
	rt.add(post, "/users", areaAdmin, s.inviteUser)              // 37
	rt.add(del, "/users/{id}", areaAdmin, s.removeUser)          // 38
	rt.add(get, "/webhooks", areaWebhooks, s.listWebhooks)       // 39
	rt.add(post, "/webhooks", areaWebhooks, s.createWebhook)     // 40
	rt.add(del, "/webhooks/{id}", areaWebhooks, s.deleteWebhook) // 41
	return rt
}

// dataEnvelope decodes {"data":{"type","id","attributes","relationships"}}
// write bodies; A and R are the attribute and relationship shapes.
type dataEnvelope[A, R any] struct {
	Data *struct {
		Type          string `json:"type"`
		ID            string `json:"id"`
		Attributes    A      `json:"attributes"`
		Relationships R      `json:"relationships"`
	} `json:"data"`
}

// decodeEnvelope reads a write body and checks its data member and type.
func decodeEnvelope[A, R any](r *http.Request, typ string) (*dataEnvelope[A, R], *apiError) {
	var env dataEnvelope[A, R]
	if err := readBody(r, &env); err != nil {
		return nil, err
	}
	if env.Data == nil {
		return nil, errorf(http.StatusBadRequest, "The request body must have a 'data' object")
	}
	if err := checkType(env.Data.Type, typ); err != nil {
		return nil, err
	}
	return &env, nil
}

// decodeUpdate reads the attributes of a PATCH or PUT body for the record of
// the URL: data.id may be left out, but must not name another record.
func decodeUpdate[A any](c *reqCtx, typ string) (A, *apiError) {
	var zero A
	env, e := decodeEnvelope[A, noRelationships](c.r, typ)
	if e != nil {
		return zero, e
	}
	if env.Data.ID != "" && env.Data.ID != c.param("id") {
		return zero, errorf(http.StatusBadRequest, "data.id does not match the URL")
	}
	return env.Data.Attributes, nil
}

// noRelationships is the relationship shape of bodies that take none.
type noRelationships struct{}

// loadLocation resolves an IANA zone name; unknown zones are a 422 (wire
// decision 18).
func loadLocation(tz string) (*time.Location, *apiError) {
	if tz == "" {
		return time.UTC, nil
	}
	loc, err := time.LoadLocation(tz)
	if err != nil || strings.EqualFold(tz, "local") {
		return nil, unprocessable("Unknown timezone '%s'", tz)
	}
	return loc, nil
}

// parseStart reads estimated_started_at: "YYYY-MM-DD HH:MM:SS", "YYYY-MM-DD",
// RFC 3339 or a Unix integer, interpreted in loc.
func parseStart(raw json.RawMessage, loc *time.Location) (int64, bool, *apiError) {
	if len(raw) == 0 || string(raw) == "null" {
		return 0, false, nil
	}
	var n int64
	if json.Unmarshal(raw, &n) == nil {
		return n, true, nil
	}
	var str string
	if json.Unmarshal(raw, &str) != nil {
		return 0, false, unprocessable("estimated_started_at must be a date-time string or a Unix timestamp")
	}
	ts, ok := parseTime(str, loc, false)
	if !ok {
		return 0, false, unprocessable("estimated_started_at '%s' is not a valid date-time", str)
	}
	return ts, true, nil
}
