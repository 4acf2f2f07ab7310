package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/livestorm-gateway/gateway/livestormsim"
)

// upstreamWrites counts the non-GET requests the simulator received.
func (h *harness) upstreamWrites() int {
	return h.sim.CountRequests(func(r livestormsim.RequestRecord) bool { return r.Method != http.MethodGet })
}

// requireCode asserts exactly one error with the code (and, if given, the input field).
func requireCode(t *testing.T, r gqlResponse, code, field string) {
	t.Helper()
	require.Len(t, r.Errors, 1, "errors: %+v", r.Errors)
	assert.Equal(t, code, r.Errors[0].code(), r.Errors[0].Message)
	if field != "" {
		assert.Equal(t, field, r.Errors[0].Extensions["field"])
	}
}

type sessionState struct {
	Session struct {
		RegistrantsCount int
		People           struct {
			TotalCount int
			Nodes      []struct{ ID, Email string }
		}
	}
}

const sessionStateQuery = `query($s: ID!) { session(id: $s) { registrantsCount people(first: 200) { totalCount nodes { id email } } } }`

func (h *harness) sessionState(t *testing.T, sessionID string) sessionState {
	t.Helper()
	var s sessionState
	h.query(t, sessionStateQuery, map[string]any{"s": sessionID}).decode(t, &s)
	return s
}

const registerMutation = `mutation($in: RegisterPersonInput!) {
	registerPerson(input: $in) {
		registration {
			id connectionLink answers { fieldId value values } utm { source }
			person { id email firstName }
			session { id }
		}
		session { id registrantsCount }
	}
}`

func TestRegisterPerson(t *testing.T) {
	h := newHarness(t)
	sessionID := h.upcomingSession(t)
	before := h.sessionState(t, sessionID) // warm: the cache now holds the session and its people

	in := map[string]any{"sessionId": sessionID, "email": "grace.hopper@example.org", "firstName": "Grace", "lastName": "Hopper", "utmSource": "newsletter"}
	h.resetCalls()
	r := h.query(t, registerMutation, map[string]any{"in": in})
	var got struct {
		RegisterPerson struct {
			Registration struct {
				ID, ConnectionLink string
				Utm                struct{ Source string }
				Person             struct{ ID, Email, FirstName string }
				Session            struct{ ID string }
			}
			Session struct{ RegistrantsCount int }
		}
	}
	r.decode(t, &got)
	p := got.RegisterPerson
	assert.Equal(t, "grace.hopper@example.org", p.Registration.Person.Email)
	assert.Equal(t, "Grace", p.Registration.Person.FirstName)
	assert.Equal(t, sessionID, p.Registration.Session.ID)
	assert.NotEmpty(t, p.Registration.ConnectionLink)
	assert.Equal(t, "newsletter", p.Registration.Utm.Source)
	assert.Equal(t, before.Session.RegistrantsCount+1, p.Session.RegistrantsCount)
	assert.Equal(t, 1, h.upstreamWrites(), "one POST, never retried")

	t.Run("the new registration is readable by its id", func(t *testing.T) {
		r := h.query(t, `query($id: ID!) { node(id: $id) { ... on Registration { id person { email } utm { source } } } }`,
			map[string]any{"id": p.Registration.ID})
		require.Empty(t, r.Errors)
		assert.JSONEq(t, fmt.Sprintf(`{"node":{"id":%q,"person":{"email":"grace.hopper@example.org"},"utm":{"source":"newsletter"}}}`, p.Registration.ID), string(r.Data))
	})

	t.Run("a query right after sees the new person and count", func(t *testing.T) {
		after := h.sessionState(t, sessionID)
		assert.Equal(t, before.Session.RegistrantsCount+1, after.Session.RegistrantsCount)
		assert.Equal(t, before.Session.People.TotalCount+1, after.Session.People.TotalCount)
		assert.Contains(t, emails(after), "grace.hopper@example.org")
	})

	t.Run("a duplicate registration is a CONFLICT and changes nothing", func(t *testing.T) {
		before := h.sessionState(t, sessionID)
		requireCode(t, h.query(t, registerMutation, map[string]any{"in": in}), "CONFLICT", "")
		after := h.sessionState(t, sessionID)
		assert.Equal(t, before, after)
	})

	t.Run("single and multiple choice custom fields", func(t *testing.T) {
		in := map[string]any{"sessionId": sessionID, "email": "ada@example.org", "fields": []map[string]any{
			{"fieldId": "company", "value": "Analytical Engines"},
			{"fieldId": "department", "value": "Engineering"},
			{"fieldId": "interests", "values": []string{"Roadmap", "Integrations"}},
		}}
		r := h.query(t, registerMutation, map[string]any{"in": in})
		require.Empty(t, r.Errors)
		assert.Contains(t, string(r.Data), `"values":["Roadmap","Integrations"]`)
		assert.Contains(t, string(r.Data), `"value":"Analytical Engines"`)
	})

	t.Run("an unknown field is BAD_USER_INPUT with Livestorm's detail", func(t *testing.T) {
		in := map[string]any{"sessionId": sessionID, "email": "new@example.org", "fields": []map[string]any{{"fieldId": "shoe_size", "value": "42"}}}
		r := h.query(t, registerMutation, map[string]any{"in": in})
		requireCode(t, r, "BAD_USER_INPUT", "")
		assert.Contains(t, r.Errors[0].Message, "shoe_size")
	})

	t.Run("an unknown session is NOT_FOUND", func(t *testing.T) {
		in := map[string]any{"sessionId": missingID, "email": "new@example.org"}
		requireCode(t, h.query(t, registerMutation, map[string]any{"in": in}), "NOT_FOUND", "")
	})
}

// upcomingSession returns a session still open to registration.
func (h *harness) upcomingSession(t *testing.T) string {
	t.Helper()
	var got struct {
		Sessions struct{ Nodes []struct{ ID string } }
	}
	h.query(t, `{ sessions(first: 1, filter: {status: UPCOMING}) { nodes { id } } }`, nil).decode(t, &got)
	require.NotEmpty(t, got.Sessions.Nodes, "the seed has no upcoming session")
	return got.Sessions.Nodes[0].ID
}

func emails(s sessionState) []string {
	var out []string
	for _, n := range s.Session.People.Nodes {
		out = append(out, n.Email)
	}
	return out
}

// TestMutationInputValidation checks that bad input is refused, naming the field, before
// anything reaches Livestorm.
func TestMutationInputValidation(t *testing.T) {
	h := newHarness(t)
	sid := h.sim.Events(h.orgs[0].ID)[0].SessionIDs[0]
	tooMany := make([]map[string]any, 51)
	for i := range tooMany {
		tooMany[i] = map[string]any{"email": fmt.Sprintf("p%d@example.org", i)}
	}
	cases := []struct {
		name, mutation string
		input          map[string]any
		field          string
	}{
		{"register: bad email", registerMutation, map[string]any{"sessionId": sid, "email": "not-an-email"}, "input.email"},
		{"register: bad session id", registerMutation, map[string]any{"sessionId": "../events", "email": "a@example.org"}, "input.sessionId"},
		{"register: the id of another type as the session", registerMutation, map[string]any{"sessionId": globalIDOf("Event", sid), "email": "a@example.org"}, "input.sessionId"},
		{"register: email as a custom field", registerMutation, map[string]any{"sessionId": sid, "email": "a@example.org", "fields": []map[string]any{{"fieldId": "email", "value": "b@example.org"}}}, "input.fields[0].fieldId"},
		{"register: value and values", registerMutation, map[string]any{"sessionId": sid, "email": "a@example.org", "fields": []map[string]any{{"fieldId": "interests", "value": "x", "values": []string{"y"}}}}, "input.fields[0]"},
		{"createEvent: empty title", `mutation($in: CreateEventInput!) { createEvent(input: $in) { event { id } } }`, map[string]any{"title": " "}, "input.title"},
		{"createEvent: bad timezone", `mutation($in: CreateEventInput!) { createEvent(input: $in) { event { id } } }`, map[string]any{"title": "T", "sessions": []map[string]any{{"estimatedStartedAt": "2026-06-01T10:00:00Z", "timezone": "Mars/Olympus"}}}, "input.sessions[0].timezone"},
		{"updateEvent: nothing to change", `mutation($in: UpdateEventInput!) { updateEvent(input: $in) { event { id } } }`, map[string]any{"id": "abc"}, "input"},
		{"updateSession: nothing to change", `mutation($in: UpdateSessionInput!) { updateSession(input: $in) { session { id } } }`, map[string]any{"id": sid}, "input"},
		{"unregister: neither id nor email", `mutation($in: UnregisterPersonInput!) { unregisterPerson(input: $in) { personId } }`, map[string]any{"sessionId": sid}, "input"},
		{"unregister: both", `mutation($in: UnregisterPersonInput!) { unregisterPerson(input: $in) { personId } }`, map[string]any{"sessionId": sid, "personId": "p", "email": "a@example.org"}, "input"},
		{"bulk: more than 50", `mutation($in: BulkRegisterInput!) { bulkRegister(input: $in) { job { id } } }`, map[string]any{"sessionId": sid, "registrations": tooMany}, "input.registrations"},
		{"bulk: one bad email", `mutation($in: BulkRegisterInput!) { bulkRegister(input: $in) { job { id } } }`, map[string]any{"sessionId": sid, "registrations": []map[string]any{{"email": "ok@example.org"}, {"email": "nope"}}}, "input.registrations[1].email"},
		{"inviteUser: bad email", `mutation($in: InviteUserInput!) { inviteUser(input: $in) { user { id } } }`, map[string]any{"email": "x", "role": "HOST"}, "input.email"},
		{"inviteUser: unknown role", `mutation($in: InviteUserInput!) { inviteUser(input: $in) { user { id } } }`, map[string]any{"email": "x@example.org", "role": "UNKNOWN"}, "input.role"},
		{"createWebhook: relative url", `mutation($in: CreateWebhookInput!) { createWebhook(input: $in) { webhook { id } } }`, map[string]any{"url": "/hook", "event": "SESSION_ENDED"}, "input.url"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h.resetCalls()
			requireCode(t, h.query(t, tc.mutation, map[string]any{"in": tc.input}), "BAD_USER_INPUT", tc.field)
			assert.Equal(t, 0, h.upstreamWrites(), "nothing was written")
		})
	}
}

func TestWritesAreNotRetried(t *testing.T) {
	h := newHarness(t)
	sid := h.sim.Events(h.orgs[0].ID)[0].SessionIDs[0]
	h.warmTenant(t)

	t.Run("a 429 is RATE_LIMITED with retryAfter", func(t *testing.T) {
		h.resetCalls()
		h.sim.InjectFaults(livestormsim.FaultRateLimited, 1)
		r := h.query(t, registerMutation, map[string]any{"in": map[string]any{"sessionId": sid, "email": "once@example.org"}})
		requireCode(t, r, "RATE_LIMITED", "")
		assert.EqualValues(t, 1, r.Errors[0].Extensions["retryAfter"])
		assert.Equal(t, 1, h.upstreamWrites())
	})
	t.Run("a 503 is UPSTREAM_UNAVAILABLE after one attempt", func(t *testing.T) {
		h.resetCalls()
		h.sim.InjectFaults(livestormsim.FaultServerError, 1)
		r := h.query(t, registerMutation, map[string]any{"in": map[string]any{"sessionId": sid, "email": "once@example.org"}})
		requireCode(t, r, "UPSTREAM_UNAVAILABLE", "")
		assert.Equal(t, 1, h.upstreamWrites())
	})
}

func TestReadOnlyTokenCannotWrite(t *testing.T) {
	h := newHarness(t, withForwardAuth())
	sid := h.sim.Events(h.orgs[0].ID)[0].SessionIDs[0]
	r := h.query(t, registerMutation, map[string]any{"in": map[string]any{"sessionId": sid, "email": "ro@example.org"}},
		"Authorization", h.orgs[0].ReadOnlyToken)
	requireCode(t, r, "FORBIDDEN", "")
}

func TestEventAndSessionMutations(t *testing.T) {
	h := newHarness(t)
	org := h.orgs[0]
	count := func() int {
		var got struct{ Events struct{ TotalCount int } }
		h.query(t, `{ events { totalCount } }`, nil).decode(t, &got)
		return got.Events.TotalCount
	}
	before := count()

	// createEvent with a session
	r := h.query(t, `mutation($in: CreateEventInput!) { createEvent(input: $in) { event { id title status sessions { totalCount nodes { id timezone estimatedStartedAt } } } } }`,
		map[string]any{"in": map[string]any{"title": "Quarterly roadmap", "sessions": []map[string]any{{"estimatedStartedAt": "2026-06-01T10:00:00Z", "timezone": "Europe/Paris"}}}})
	var created struct {
		CreateEvent struct {
			Event struct {
				ID, Title, Status string
				Sessions          struct {
					TotalCount int
					Nodes      []struct{ ID, Timezone, EstimatedStartedAt string }
				}
			}
		}
	}
	r.decode(t, &created)
	ev := created.CreateEvent.Event
	assert.Equal(t, "Quarterly roadmap", ev.Title)
	require.Equal(t, 1, ev.Sessions.TotalCount)
	assert.Equal(t, "Europe/Paris", ev.Sessions.Nodes[0].Timezone)
	assert.Equal(t, "2026-06-01T10:00:00Z", ev.Sessions.Nodes[0].EstimatedStartedAt)
	assert.Equal(t, before+1, count(), "the events list sees the new event at once")

	t.Run("createEvent with an unknown owner is BAD_USER_INPUT", func(t *testing.T) {
		r := h.query(t, `mutation($in: CreateEventInput!) { createEvent(input: $in) { event { id } } }`,
			map[string]any{"in": map[string]any{"title": "X", "ownerId": missingID}})
		requireCode(t, r, "BAD_USER_INPUT", "")
		assert.Contains(t, r.Errors[0].Message, "Team member not found")
	})

	t.Run("updateEvent", func(t *testing.T) {
		r := h.query(t, `mutation($in: UpdateEventInput!) { updateEvent(input: $in) { event { title status } } }`,
			map[string]any{"in": map[string]any{"id": ev.ID, "title": "Quarterly roadmap (v2)", "status": "PUBLISHED"}})
		require.Empty(t, r.Errors)
		assert.JSONEq(t, `{"updateEvent":{"event":{"title":"Quarterly roadmap (v2)","status":"PUBLISHED"}}}`, string(r.Data))
		r = h.query(t, `query($id: ID!) { event(id: $id) { title } }`, map[string]any{"id": ev.ID})
		assert.JSONEq(t, `{"event":{"title":"Quarterly roadmap (v2)"}}`, string(r.Data))
		requireCode(t, h.query(t, `mutation { updateEvent(input: {id: "`+missingID+`", title: "x"}) { event { id } } }`, nil), "NOT_FOUND", "")
	})

	t.Run("tags", func(t *testing.T) {
		r := h.query(t, `mutation { addEventTag(input: {eventId: "`+ev.ID+`", title: "Roadmap"}) { tag { livestormId title } event { tags { title } } } }`, nil)
		require.Empty(t, r.Errors)
		assert.Contains(t, string(r.Data), `"tags":[{"title":"Roadmap"}]`)
		r = h.query(t, `{ events(filter: {tags: ["roadmap"]}) { nodes { id } } }`, nil)
		assert.Contains(t, string(r.Data), ev.ID, "the tag filter sees it")
		r = h.query(t, `mutation { removeEventTag(input: {eventId: "`+ev.ID+`", title: "Roadmap"}) { tag { title } event { tags { title } } } }`, nil)
		require.Empty(t, r.Errors)
		assert.JSONEq(t, `{"removeEventTag":{"tag":{"title":"Roadmap"},"event":{"tags":[]}}}`, string(r.Data))
	})

	var sessionID string
	t.Run("createSession, updateSession, deleteSession", func(t *testing.T) {
		r := h.query(t, `mutation { createSession(input: {eventId: "`+ev.ID+`", estimatedStartedAt: "2026-07-01T15:30:00Z", name: "Encore"}) { session { id name timezone } event { sessions { totalCount } } } }`, nil)
		var cs struct {
			CreateSession struct {
				Session struct{ ID, Name, Timezone string }
				Event   struct{ Sessions struct{ TotalCount int } }
			}
		}
		r.decode(t, &cs)
		sessionID = cs.CreateSession.Session.ID
		assert.Equal(t, "Encore", cs.CreateSession.Session.Name)
		assert.Equal(t, 2, cs.CreateSession.Event.Sessions.TotalCount)

		r = h.query(t, `mutation { updateSession(input: {id: "`+sessionID+`", name: "Encore!", embedUrl: "https://example.org/live"}) { session { name } } }`, nil)
		require.Empty(t, r.Errors)
		assert.JSONEq(t, `{"updateSession":{"session":{"name":"Encore!"}}}`, string(r.Data))

		r = h.query(t, `mutation { deleteSession(input: {id: "`+sessionID+`"}) { deletedSessionId event { sessions { totalCount } } } }`, nil)
		require.Empty(t, r.Errors)
		assert.JSONEq(t, `{"deleteSession":{"deletedSessionId":"`+sessionID+`","event":{"sessions":{"totalCount":1}}}}`, string(r.Data))
		requireCode(t, h.query(t, `{ session(id: "`+sessionID+`") { id } }`, nil), "NOT_FOUND", "")
		requireCode(t, h.query(t, `mutation { createSession(input: {eventId: "`+missingID+`", estimatedStartedAt: "2026-07-01T15:30:00Z"}) { session { id } } }`, nil), "NOT_FOUND", "")
	})

	t.Run("deleteEvent", func(t *testing.T) {
		r := h.query(t, `mutation { deleteEvent(input: {id: "`+ev.ID+`"}) { deletedEventId } }`, nil)
		require.Empty(t, r.Errors)
		assert.JSONEq(t, `{"deleteEvent":{"deletedEventId":"`+ev.ID+`"}}`, string(r.Data), "the global id a normalized cache evicts")
		assert.Equal(t, before, count())
		requireCode(t, h.query(t, `{ event(id: "`+ev.ID+`") { id } }`, nil), "NOT_FOUND", "")
		requireCode(t, h.query(t, `mutation { deleteEvent(input: {id: "`+ev.ID+`"}) { deletedEventId } }`, nil), "NOT_FOUND", "")
	})
	_ = org
}

func TestRegistrationUpdatesAndUnregistration(t *testing.T) {
	h := newHarness(t)
	sid := h.upcomingSession(t)
	var reg struct {
		RegisterPerson struct {
			Registration struct {
				ID     string
				Person struct{ ID, LivestormID string }
			}
		}
	}
	h.query(t, registerMutation, map[string]any{"in": map[string]any{"sessionId": sid, "email": "lin@example.org"}}).decode(t, &reg)
	pid, regID := reg.RegisterPerson.Registration.Person.ID, reg.RegisterPerson.Registration.ID
	base := h.sessionState(t, sid)

	r := h.query(t, `mutation($in: UpdateRegistrationInput!) { updateRegistration(input: $in) { registration { id utm { campaign } answers { fieldId value } } } }`,
		map[string]any{"in": map[string]any{"sessionId": sid, "personId": pid, "utmCampaign": "spring", "fields": []map[string]any{{"fieldId": "company", "value": "Initech"}}}})
	require.Empty(t, r.Errors)
	assert.Contains(t, string(r.Data), `"campaign":"spring"`)
	assert.Contains(t, string(r.Data), `"value":"Initech"`)
	assert.Contains(t, string(r.Data), `"id":"`+regID+`"`, "the same registration, so a normalized cache updates it in place")

	r = h.query(t, `mutation { unregisterPerson(input: {sessionId: "`+sid+`", personId: "`+pid+`"}) { personId deletedRegistrationId session { registrantsCount } } }`, nil)
	require.Empty(t, r.Errors)
	assert.JSONEq(t, fmt.Sprintf(`{"unregisterPerson":{"personId":%q,"deletedRegistrationId":%q,"session":{"registrantsCount":%d}}}`, pid, regID, base.Session.RegistrantsCount-1), string(r.Data))
	assert.NotContains(t, emails(h.sessionState(t, sid)), "lin@example.org")

	h.query(t, registerMutation, map[string]any{"in": map[string]any{"sessionId": sid, "email": "lin@example.org"}})
	r = h.query(t, `mutation { unregisterPerson(input: {sessionId: "`+sid+`", email: "lin@example.org"}) { email session { registrantsCount } } }`, nil)
	require.Empty(t, r.Errors)
	assert.Contains(t, string(r.Data), fmt.Sprintf(`"registrantsCount":%d`, base.Session.RegistrantsCount-1))
	requireCode(t, h.query(t, `mutation { unregisterPerson(input: {sessionId: "`+sid+`", email: "lin@example.org"}) { email } }`, nil), "NOT_FOUND", "")
}

func TestBulkRegister(t *testing.T) {
	h := newHarness(t)
	sid := h.upcomingSession(t)
	existing := h.sessionState(t, sid).Session.People.Nodes[1].Email
	r := h.query(t, `mutation($in: BulkRegisterInput!) { bulkRegister(input: $in) { job { id status totalItems } } }`, map[string]any{"in": map[string]any{
		"sessionId": sid,
		"registrations": []map[string]any{
			{"email": "bulk1@example.org", "firstName": "Bulk"},
			{"email": existing},
			{"email": "bulk3@example.org", "fields": []map[string]any{{"fieldId": "no_such_field", "value": "x"}}},
			{"email": "bulk4@example.org"},
		},
	}})
	var got struct {
		BulkRegister struct {
			Job struct {
				ID, Status string
				TotalItems int
			}
		}
	}
	r.decode(t, &got)
	job := got.BulkRegister.Job
	assert.Equal(t, "PROCESSING", job.Status)
	assert.Equal(t, 4, job.TotalItems)

	var final struct {
		Job struct {
			Status                      string
			TotalSucceeded, TotalFailed int
			Tasks                       []struct {
				Status, Email string
				Person        *struct{ Email string }
				Errors        []struct{ Detail string }
			}
		}
	}
	require.Eventually(t, func() bool {
		raw := h.query(t, `query($id: ID!) { job(id: $id) { status totalSucceeded totalFailed tasks { status email person { email } errors { detail } } } }`, map[string]any{"id": job.ID})
		require.Empty(t, raw.Errors)
		require.NoError(t, json.Unmarshal(raw.Data, &final))
		return final.Job.Status != "PROCESSING"
	}, 10*time.Second, 50*time.Millisecond, "the job never ended (job responses are cached for a few seconds at most)")
	assert.Equal(t, "FAILED", final.Job.Status, "at least one task failed")
	assert.Equal(t, 2, final.Job.TotalSucceeded)
	assert.Equal(t, 2, final.Job.TotalFailed)
	failed := map[string]string{}
	for _, task := range final.Job.Tasks {
		if task.Status == "failed" {
			require.NotEmpty(t, task.Errors)
			failed[task.Email] = task.Errors[0].Detail
			assert.Nil(t, task.Person)
		} else {
			require.NotNil(t, task.Person)
			assert.Equal(t, task.Email, task.Person.Email)
		}
	}
	assert.Contains(t, failed, existing)
	assert.Contains(t, failed, "bulk3@example.org")
	assert.Contains(t, failed["bulk3@example.org"], "no_such_field")
}

func TestTeamAndWebhookMutations(t *testing.T) {
	h := newHarness(t)
	r := h.query(t, `mutation { inviteUser(input: {email: "new.host@example.org", role: HOST}) { user { id email role pendingInvite } } }`, nil)
	var inv struct {
		InviteUser struct {
			User struct {
				ID, Email, Role string
				PendingInvite   bool
			}
		}
	}
	r.decode(t, &inv)
	assert.Equal(t, "HOST", inv.InviteUser.User.Role)
	assert.True(t, inv.InviteUser.User.PendingInvite)
	r = h.query(t, `{ users(filter: {email: "new.host@example.org"}) { totalCount } }`, nil)
	assert.JSONEq(t, `{"users":{"totalCount":1}}`, string(r.Data))
	requireCode(t, h.query(t, `mutation { inviteUser(input: {email: "new.host@example.org", role: MODERATOR}) { user { id } } }`, nil), "CONFLICT", "")
	r = h.query(t, `mutation { removeUser(input: {id: "`+inv.InviteUser.User.ID+`"}) { removedUserId } }`, nil)
	require.Empty(t, r.Errors)
	r = h.query(t, `{ users(filter: {email: "new.host@example.org"}) { totalCount } }`, nil)
	assert.JSONEq(t, `{"users":{"totalCount":0}}`, string(r.Data))
	requireCode(t, h.query(t, `mutation { removeUser(input: {id: "`+missingID+`"}) { removedUserId } }`, nil), "NOT_FOUND", "")

	r = h.query(t, `mutation { createWebhook(input: {url: "https://hooks.example.org/livestorm", event: PEOPLE_REGISTERED}) { webhook { id url event } } }`, nil)
	var wh struct {
		CreateWebhook struct {
			Webhook struct{ ID, URL, Event string }
		}
	}
	r.decode(t, &wh)
	assert.Equal(t, "PEOPLE_REGISTERED", wh.CreateWebhook.Webhook.Event)
	r = h.query(t, `{ webhooks(filter: {event: PEOPLE_REGISTERED}) { nodes { id url } } }`, nil)
	assert.Contains(t, string(r.Data), wh.CreateWebhook.Webhook.ID)
	r = h.query(t, `mutation { deleteWebhook(input: {id: "`+wh.CreateWebhook.Webhook.ID+`"}) { deletedWebhookId } }`, nil)
	require.Empty(t, r.Errors)
	r = h.query(t, `{ webhooks(filter: {event: PEOPLE_REGISTERED}) { nodes { id } } }`, nil)
	assert.NotContains(t, string(r.Data), wh.CreateWebhook.Webhook.ID)
	requireCode(t, h.query(t, `mutation { deleteWebhook(input: {id: "`+missingID+`"}) { deletedWebhookId } }`, nil), "NOT_FOUND", "")
}

// TestRegisterPersonReachesSubscribers: a registration made through the gateway comes
// back from Livestorm as a signed people.registered webhook and reaches the
// registrationCreated subscribers of the session.
func TestRegisterPersonReachesSubscribers(t *testing.T) {
	h := newHarness(t, withWebhooks())
	sess := h.openSession(t)
	c := openSubscriber(t, protoTransportWS, h.gw.URL, "")
	defer c.close()
	c.subscribe(t, "reg", registrationSubscription, map[string]any{"s": sess.ID})
	h.waitSubscribers(t, h.orgs[0].ID, 1)

	r := h.query(t, registerMutation, map[string]any{"in": map[string]any{"sessionId": sess.ID, "email": "sub.scriber@example.org"}})
	require.Empty(t, r.Errors)
	var got registrationPayload
	nextEvent(t, c, "reg", 2*time.Second).result(t).decode(t, &got)
	assert.Equal(t, "PEOPLE_REGISTERED", got.RegistrationCreated.Type)
	assert.Equal(t, "sub.scriber@example.org", got.RegistrationCreated.Person.Email)
	assert.Equal(t, sess.RegistrantsCount+1, got.RegistrationCreated.Session.RegistrantsCount)
}
