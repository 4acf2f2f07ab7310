package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/livestorm-gateway/gateway/livestormsim"
)

// nodeIDs are the global ids of one object of every Node type, gathered through the graph.
type nodeIDs map[string]string // typename -> global id

// gatherNodeIDs reads one object of every Node type (creating a webhook and a bulk job,
// which the seed has none of) and returns their global ids, with the Livestorm ids the
// graph shows beside them.
func gatherNodeIDs(t *testing.T, h *harness) (ids nodeIDs, livestormIDs map[string]string) {
	t.Helper()
	ev := h.sim.Events(h.orgs[0].ID)[0]
	var got struct {
		Event struct {
			ID, LivestormID string
			Sessions        struct {
				Nodes []struct {
					ID, LivestormID string
					Registrations   struct {
						Nodes []struct {
							ID     string
							Person struct{ ID, LivestormID string }
						}
					}
				}
			}
		}
		Organization struct{ ID, LivestormID string }
		Users        struct {
			Nodes []struct{ ID, LivestormID string }
		}
		PeopleAttributes struct {
			Nodes []struct{ ID, LivestormID string }
		}
	}
	h.query(t, `query($e: ID!) {
		event(id: $e) { id livestormId sessions(first: 1) { nodes { id livestormId
			registrations(first: 1, filter: {role: PARTICIPANT}) { nodes { id person { id livestormId } } } } } }
		organization { id livestormId }
		users(first: 1) { nodes { id livestormId } }
		peopleAttributes(first: 1) { nodes { id livestormId } }
	}`, map[string]any{"e": ev.ID}).decode(t, &got)
	session := got.Event.Sessions.Nodes[0]
	reg := session.Registrations.Nodes[0]

	var wh struct {
		CreateWebhook struct {
			Webhook struct{ ID, LivestormID string }
		}
	}
	h.query(t, `mutation { createWebhook(input: {url: "https://hooks.example.org/x", event: SESSION_ENDED}) { webhook { id livestormId } } }`, nil).decode(t, &wh)
	var job struct {
		BulkRegister struct {
			Job struct{ ID, LivestormID string }
		}
	}
	h.query(t, `mutation($s: ID!) { bulkRegister(input: {sessionId: $s, registrations: [{email: "node@example.org"}]}) { job { id livestormId } } }`,
		map[string]any{"s": session.ID}).decode(t, &job)

	ids = nodeIDs{
		"Event": got.Event.ID, "Session": session.ID, "Registration": reg.ID, "Person": reg.Person.ID,
		"Organization": got.Organization.ID, "User": got.Users.Nodes[0].ID, "PeopleAttribute": got.PeopleAttributes.Nodes[0].ID,
		"Webhook": wh.CreateWebhook.Webhook.ID, "Job": job.BulkRegister.Job.ID,
	}
	livestormIDs = map[string]string{
		"Event": got.Event.LivestormID, "Session": session.LivestormID, "Person": reg.Person.LivestormID,
		"Organization": got.Organization.LivestormID, "User": got.Users.Nodes[0].LivestormID,
		"PeopleAttribute": got.PeopleAttributes.Nodes[0].LivestormID, "Webhook": wh.CreateWebhook.Webhook.LivestormID,
		"Job": job.BulkRegister.Job.LivestormID,
	}
	for typ, id := range ids {
		require.NotEmpty(t, id, typ)
	}
	return ids, livestormIDs
}

// nodeQuery selects __typename, id and livestormId (where the type has one) of a Node.
const nodeSelection = `__typename id
	... on Event { livestormId title } ... on Session { livestormId timezone } ... on Person { livestormId email }
	... on Registration { person { id } attended } ... on Job { livestormId totalItems } ... on Organization { livestormId name }
	... on User { livestormId pendingInvite } ... on Webhook { livestormId url } ... on PeopleAttribute { livestormId slug }`

// TestNodeResolvesEveryTypeFromItsIDAlone: node(id:) reads every Node type back from its
// global id with at most one upstream call (none when cached), and the object it returns
// is the one the id was read from.
func TestNodeResolvesEveryTypeFromItsIDAlone(t *testing.T) {
	h := newHarness(t, withSize(livestormsim.SizeTiny))
	ids, livestormIDs := gatherNodeIDs(t, h)
	cold := h.coldGateway(t)
	for typ, id := range ids {
		t.Run(typ, func(t *testing.T) {
			h.resetCalls()
			r := queryAt(t, cold, `query($id: ID!) { node(id: $id) { `+nodeSelection+` } }`, map[string]any{"id": id})
			var got struct {
				Node map[string]any
			}
			r.decode(t, &got)
			assert.Equal(t, typ, got.Node["__typename"])
			assert.Equal(t, id, got.Node["id"], "the same id back")
			if lid, ok := livestormIDs[typ]; ok {
				assert.Equal(t, lid, got.Node["livestormId"])
			}
			assert.Equal(t, 1, h.upstreamCalls(), "one upstream call, cold")

			h.resetCalls()
			again := queryAt(t, cold, `query($id: ID!) { node(id: $id) { `+nodeSelection+` } }`, map[string]any{"id": id})
			require.Empty(t, again.Errors)
			assert.JSONEq(t, string(r.Data), string(again.Data))
			assert.Equal(t, 0, h.upstreamCalls(), "none when cached")
		})
	}
}

// TestNodesReadsManyIDsWithOneCallEach: nodes(ids:) costs one upstream call per distinct
// id on a cold cache (a repeated id is read once), none when warm, keeps the order given
// and reports a missing id as null with an error naming its index.
func TestNodesReadsManyIDsWithOneCallEach(t *testing.T) {
	h := newHarness(t, withSize(livestormsim.SizeTiny))
	ids, _ := gatherNodeIDs(t, h)
	cold := h.coldGateway(t)
	var list []string
	var types []string
	for typ, id := range ids {
		list, types = append(list, id), append(types, typ)
	}
	missing := globalIDOf("Event", missingID)
	list = append(list, list[0], missing) // a repeat, and an id that resolves to nothing
	q := `query($ids: [ID!]!) { nodes(ids: $ids) { ` + nodeSelection + ` } }`

	h.resetCalls()
	r := queryAt(t, cold, q, map[string]any{"ids": list})
	require.Len(t, r.Errors, 1, "%+v", r.Errors)
	assert.Equal(t, "NOT_FOUND", r.Errors[0].code())
	assert.Equal(t, []any{"nodes", float64(len(list) - 1)}, r.Errors[0].Path, "the error names the missing id's index")
	var got struct{ Nodes []map[string]any }
	require.NoError(t, json.Unmarshal(r.Data, &got))
	require.Len(t, got.Nodes, len(list))
	for i, typ := range types {
		assert.Equal(t, typ, got.Nodes[i]["__typename"], "order kept")
		assert.Equal(t, list[i], got.Nodes[i]["id"])
	}
	assert.Equal(t, got.Nodes[0], got.Nodes[len(types)], "the repeated id")
	assert.Nil(t, got.Nodes[len(list)-1], "the missing id")
	assert.Equal(t, len(ids)+1, h.upstreamCalls(), "one call per distinct id (and one for the missing one)")

	h.resetCalls()
	warm := queryAt(t, cold, q, map[string]any{"ids": list[:len(types)]})
	require.Empty(t, warm.Errors)
	assert.Equal(t, 0, h.upstreamCalls(), "none when cached")
}

func TestNodeArgumentsAreChecked(t *testing.T) {
	h := newHarness(t, withSize(livestormsim.SizeTiny))
	ev := h.sim.Events(h.orgs[0].ID)[0]
	h.warmTenant(t)
	tooMany := make([]string, 101)
	for i := range tooMany {
		tooMany[i] = globalIDOf("Event", ev.ID)
	}
	cases := []struct {
		name, query string
		vars        map[string]any
		code, field string
	}{
		{"node with a Livestorm id", `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": ev.ID}, "BAD_USER_INPUT", "id"},
		{"node with garbage", `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": "not an id"}, "BAD_USER_INPUT", "id"},
		{"node of a missing object", `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": globalIDOf("Session", missingID)}, "NOT_FOUND", ""},
		{"node of another workspace", `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": globalIDOf("Organization", h.orgs[1].ID)}, "NOT_FOUND", ""},
		{"nodes over the limit", `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, map[string]any{"ids": tooMany}, "BAD_USER_INPUT", "ids"},
		{"a typed lookup given the id of another type", `query($id: ID!) { event(id: $id) { id } }`, map[string]any{"id": globalIDOf("Session", ev.SessionIDs[0])}, "BAD_USER_INPUT", "id"},
		{"a registration given a session as person", `query($s: ID!) { registration(sessionId: $s, personId: $s) { id } }`, map[string]any{"s": globalIDOf("Session", ev.SessionIDs[0])}, "BAD_USER_INPUT", "personId"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h.resetCalls()
			r := h.query(t, tc.query, tc.vars)
			requireCode(t, r, tc.code, tc.field)
			if tc.code == "BAD_USER_INPUT" {
				assert.Equal(t, 0, h.upstreamCalls(), "refused before any upstream call")
			}
		})
	}
}

// TestRootLookupsTakeBothIDForms: every typed root lookup takes the global id or the
// Livestorm id (ids copied from Livestorm keep working), and answers the same object.
func TestRootLookupsTakeBothIDForms(t *testing.T) {
	h := newHarness(t, withSize(livestormsim.SizeTiny))
	ids, livestormIDs := gatherNodeIDs(t, h)
	cases := []struct{ typ, query string }{
		{"Event", `query($id: ID!) { x: event(id: $id) { id livestormId title } }`},
		{"Session", `query($id: ID!) { x: session(id: $id) { id livestormId status } }`},
		{"Person", `query($id: ID!) { x: person(id: $id) { id livestormId email } }`},
		{"Job", `query($id: ID!) { x: job(id: $id) { id livestormId totalItems } }`},
	}
	for _, tc := range cases {
		t.Run(tc.typ, func(t *testing.T) {
			byGlobal := h.query(t, tc.query, map[string]any{"id": ids[tc.typ]})
			byLivestorm := h.query(t, tc.query, map[string]any{"id": livestormIDs[tc.typ]})
			require.Empty(t, byGlobal.Errors)
			require.Empty(t, byLivestorm.Errors)
			assert.JSONEq(t, string(byGlobal.Data), string(byLivestorm.Data))
			assert.Contains(t, string(byGlobal.Data), ids[tc.typ])
		})
	}
	t.Run("registration by session and person, in either form", func(t *testing.T) {
		_, parts := decodeGlobalID(t, ids["Registration"])
		q := `query($s: ID!, $p: ID!) { registration(sessionId: $s, personId: $p) { id person { email } } }`
		byLivestorm := h.query(t, q, map[string]any{"s": parts[0], "p": parts[1]})
		byGlobal := h.query(t, q, map[string]any{"s": ids["Session"], "p": ids["Person"]})
		require.Empty(t, byLivestorm.Errors)
		assert.JSONEq(t, string(byLivestorm.Data), string(byGlobal.Data))
		assert.Contains(t, string(byGlobal.Data), ids["Registration"])
	})
	t.Run("filters take global ids", func(t *testing.T) {
		q := `query($u: ID!) { peopleAttributes(filter: {userId: $u}) { totalCount } }`
		byGlobal := h.query(t, q, map[string]any{"u": ids["User"]})
		byLivestorm := h.query(t, q, map[string]any{"u": livestormIDs["User"]})
		require.Empty(t, byGlobal.Errors)
		assert.JSONEq(t, string(byLivestorm.Data), string(byGlobal.Data))
		requireCode(t, h.query(t, q, map[string]any{"u": ids["Person"]}), "BAD_USER_INPUT", "filter.userId")
	})
	t.Run("mutation inputs and subscription filters take global ids", func(t *testing.T) {
		r := h.query(t, `mutation($s: ID!) { updateSession(input: {id: $s, name: "Renamed"}) { session { id name } } }`,
			map[string]any{"s": ids["Session"]})
		require.Empty(t, r.Errors)
		assert.JSONEq(t, fmt.Sprintf(`{"updateSession":{"session":{"id":%q,"name":"Renamed"}}}`, ids["Session"]), string(r.Data))

		c := openSubscriber(t, protoTransportWS, h.gw.URL, "")
		defer c.close()
		c.subscribe(t, "bad", `subscription($s: ID) { registrationCreated(sessionId: $s) { type } }`, map[string]any{"s": ids["Person"]})
		e := nextEvent(t, c, "bad", 5*time.Second)
		assert.Contains(t, strings.ToLower(string(e.payload)), "sessionid is the id of a person")
	})
}

// decodeGlobalID splits a global id by its documented format.
func decodeGlobalID(t *testing.T, id string) (string, []string) {
	t.Helper()
	plain, err := base64.RawURLEncoding.DecodeString(id)
	require.NoError(t, err)
	kind, rest, ok := strings.Cut(string(plain), ":")
	require.True(t, ok)
	return kind, strings.Split(rest, ":")
}

// TestEventWideRegistrationsResolveFromTheirID: rows of an event's people list that
// Livestorm gives without a session (the simulator does, as the captured examples do) are
// registrations to the event, with an id of their own that node(id:) reads back with one
// call (GET /events/{id}/people/{person_id}); their counters cover the event, so they never
// share an id with a session's registration.
func TestEventWideRegistrationsResolveFromTheirID(t *testing.T) {
	h := newHarness(t, withSize(livestormsim.SizeTiny))
	ev := h.sim.Events(h.orgs[0].ID)[0]
	var got struct {
		Event struct {
			Registrations struct {
				Nodes []struct {
					ID      string
					Session *struct{ ID string }
					Person  struct{ LivestormID string }
				}
			}
		}
	}
	h.query(t, `query($e: ID!) { event(id: $e) { registrations(first: 1) { nodes { id session { id } person { livestormId } } } } }`,
		map[string]any{"e": ev.ID}).decode(t, &got)
	require.NotEmpty(t, got.Event.Registrations.Nodes)
	row := got.Event.Registrations.Nodes[0]
	assert.Nil(t, row.Session, "the simulator's event rows name no session")
	kind, parts := decodeGlobalID(t, row.ID)
	assert.Equal(t, "Registration", kind)
	assert.Equal(t, []string{"event", ev.ID, row.Person.LivestormID}, parts)

	cold := h.coldGateway(t)
	h.resetCalls()
	r := queryAt(t, cold, `query($id: ID!) { node(id: $id) { id ... on Registration { person { livestormId } event { livestormId } } } }`,
		map[string]any{"id": row.ID})
	require.Empty(t, r.Errors)
	assert.JSONEq(t, fmt.Sprintf(`{"node":{"id":%q,"person":{"livestormId":%q},"event":{"livestormId":%q}}}`, row.ID, row.Person.LivestormID, ev.ID), string(r.Data))
	assert.Equal(t, 2, h.upstreamCalls(), "the registration, then its event (selected)")
	assert.Equal(t, 1, h.sim.CountRequests(func(r livestormsim.RequestRecord) bool { return r.Route == "/events/{id}/people/{people_id}" }))
}
