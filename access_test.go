package main

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/livestorm-gateway/gateway/auth"
	"github.com/livestorm-gateway/gateway/cache"
	"github.com/livestorm-gateway/gateway/graph"
	"github.com/livestorm-gateway/gateway/graph/generated"
	"github.com/livestorm-gateway/gateway/livestormsim"
	"github.com/livestorm-gateway/gateway/tenant"
)

// roleGateway serves the harness's gateway with JWT callers of every role and anonymous
// callers as public (the server-token default).
type roleGateway struct {
	h    *harness
	deps Deps
	base string
	logs *lockedBuffer
	// auth is the Authorization header of each role ("" for public: anonymous).
	auth map[auth.Role]string
}

func newRoleGateway(t *testing.T, h *harness, change func(*Config)) *roleGateway {
	t.Helper()
	deps := h.deps
	deps.Config.Auth = auth.Config{JWTSecret: testJWTSecret, AnonymousRole: "public"}
	if change != nil {
		change(&deps.Config)
	}
	logs := &lockedBuffer{}
	deps.Logger = slog.New(slog.NewTextHandler(logs, nil))
	g := &roleGateway{h: h, deps: deps, base: newHarnessServer(t, deps), logs: logs, auth: map[auth.Role]string{auth.RolePublic: ""}}
	for _, r := range auth.Roles[1:] {
		g.auth[r] = "Bearer " + testToken(t, jwt.MapClaims{"sub": r.String() + "-caller", "role": r.String()})
	}
	return g
}

// cold is the same gateway with an empty shared cache (over the same simulator, bus and
// verified credential), so a test counts what a query costs cold.
func (g *roleGateway) cold(t testing.TB) *roleGateway {
	t.Helper()
	c := *g
	c.deps.Cache = cache.New(cache.Options{TTL: g.deps.Config.CacheTTL})
	c.base = newHarnessServer(t, c.deps)
	g.h.resetCalls()
	return &c
}

func (g *roleGateway) query(t testing.TB, role auth.Role, q string, vars map[string]any) gqlResponse {
	t.Helper()
	if a := g.auth[role]; a != "" {
		return queryAt(t, g.base, q, vars, "Authorization", a)
	}
	return queryAt(t, g.base, q, vars)
}

// subscriber opens a graphql-transport-ws connection as role.
func (g *roleGateway) subscriber(t testing.TB, role auth.Role) *wsClient {
	t.Helper()
	c, err := dialWS(t, g.base, protoTransportWS, g.auth[role])
	require.NoError(t, err)
	return c
}

// accessFixture holds ids of the seed's objects, read as admin.
type accessFixture struct {
	nodes nodeIDs
	// event is a published event with an upcoming session (session); draft is a draft
	// event and draftSession one of its sessions.
	event, eventLS, session, sessionLS string
	draft, draftLS                     string
	draftSession, draftSessionLS       string
	person, personLS                   string
	publishedEvents, draftEvents       int
	sessionsTotal, draftSessions       int
}

func newAccessFixture(t *testing.T, h *harness) *accessFixture {
	t.Helper()
	f := &accessFixture{}
	f.nodes, _ = gatherNodeIDs(t, h)
	var got struct {
		Events struct {
			Nodes []struct {
				ID, LivestormID, Status string
				Sessions                struct {
					Nodes []struct{ ID, LivestormID, Status string }
				}
			}
		}
		Sessions struct{ TotalCount int }
	}
	h.query(t, `{ events(first: 200) { nodes { id livestormId status sessions { nodes { id livestormId status } } } }
		sessions(first: 1) { totalCount } }`, nil).decode(t, &got)
	f.sessionsTotal = got.Sessions.TotalCount
	for _, ev := range got.Events.Nodes {
		switch ev.Status {
		case "PUBLISHED":
			f.publishedEvents++
			for _, s := range ev.Sessions.Nodes {
				if s.Status == "UPCOMING" && f.session == "" {
					f.event, f.eventLS, f.session, f.sessionLS = ev.ID, ev.LivestormID, s.ID, s.LivestormID
				}
			}
		default:
			f.draftEvents++
			f.draftSessions += len(ev.Sessions.Nodes)
			if f.draft == "" && len(ev.Sessions.Nodes) > 0 {
				f.draft, f.draftLS = ev.ID, ev.LivestormID
				f.draftSession, f.draftSessionLS = ev.Sessions.Nodes[0].ID, ev.Sessions.Nodes[0].LivestormID
			}
		}
	}
	require.NotEmpty(t, f.session, "the seed has a published event with an upcoming session")
	require.NotEmpty(t, f.draft, "the seed has a draft event with a session")
	var reg struct {
		Session struct {
			Registrations struct {
				Nodes []struct {
					Person struct{ ID, LivestormID string }
				}
			}
		}
	}
	h.query(t, `query($s: ID!) { session(id: $s) { registrations(first: 1, filter: {role: PARTICIPANT}) { nodes { person { id livestormId } } } } }`,
		map[string]any{"s": f.session}).decode(t, &reg)
	require.NotEmpty(t, reg.Session.Registrations.Nodes)
	f.person, f.personLS = reg.Session.Registrations.Nodes[0].Person.ID, reg.Session.Registrations.Nodes[0].Person.LivestormID
	return f
}

// rootCase is the sample operation of one root field. vars (nil: none) runs before each
// role's attempt, as admin through h, to make what the operation needs (an event to
// delete, …); the attempt itself is then the only thing counted.
type rootCase struct {
	need auth.Role
	doc  string
	vars func(t *testing.T, h *harness, f *accessFixture, role auth.Role) map[string]any
}

func idVar(pick func(f *accessFixture) string) func(*testing.T, *harness, *accessFixture, auth.Role) map[string]any {
	return func(_ *testing.T, _ *harness, f *accessFixture, _ auth.Role) map[string]any {
		return map[string]any{"id": pick(f)}
	}
}

// created runs a mutation as admin and returns the id at path in its data.
func created(t *testing.T, h *harness, q string, vars map[string]any, path ...string) string {
	t.Helper()
	r := h.query(t, q, vars)
	require.Empty(t, r.Errors, "setup: %s", q)
	var v any
	require.NoError(t, json.Unmarshal(r.Data, &v))
	for _, p := range path {
		v = v.(map[string]any)[p]
	}
	return v.(string)
}

func newEvent(t *testing.T, h *harness) string {
	return created(t, h, `mutation { createEvent(input: {title: "Setup"}) { event { id } } }`, nil, "createEvent", "event", "id")
}

// rootCases has one row per root field of the schema (TestEveryRootFieldByRole fails
// on a root field without one): the role it needs, and an operation calling it.
var rootCases = map[string]rootCase{
	"Query.node":     {auth.RolePublic, `query($id: ID!) { node(id: $id) { id } }`, idVar(func(f *accessFixture) string { return f.event })},
	"Query.nodes":    {auth.RolePublic, `query($id: ID!) { nodes(ids: [$id]) { id } }`, idVar(func(f *accessFixture) string { return f.session })},
	"Query.event":    {auth.RolePublic, `query($id: ID!) { event(id: $id) { title } }`, idVar(func(f *accessFixture) string { return f.event })},
	"Query.events":   {auth.RolePublic, `{ events(first: 5) { totalCount nodes { title } } }`, nil},
	"Query.session":  {auth.RolePublic, `query($id: ID!) { session(id: $id) { status } }`, idVar(func(f *accessFixture) string { return f.session })},
	"Query.sessions": {auth.RolePublic, `{ sessions(first: 5) { totalCount nodes { status } } }`, nil},
	"Query.person":   {auth.RoleViewer, `query($id: ID!) { person(id: $id) { email } }`, idVar(func(f *accessFixture) string { return f.person })},
	"Query.people":   {auth.RoleViewer, `{ people(first: 2) { nodes { email } } }`, nil},
	"Query.registration": {auth.RoleViewer, `query($s: ID!, $p: ID!) { registration(sessionId: $s, personId: $p) { connectionLink } }`,
		func(_ *testing.T, _ *harness, f *accessFixture, _ auth.Role) map[string]any {
			return map[string]any{"s": f.session, "p": f.person}
		}},
	"Query.users":            {auth.RoleViewer, `{ users(first: 2) { nodes { email } } }`, nil},
	"Query.webhooks":         {auth.RoleViewer, `{ webhooks(first: 2) { nodes { url } } }`, nil},
	"Query.job":              {auth.RoleViewer, `query($id: ID!) { job(id: $id) { status } }`, idVar(func(f *accessFixture) string { return f.nodes["Job"] })},
	"Query.organization":     {auth.RolePublic, `{ organization { name } }`, nil},
	"Query.peopleAttributes": {auth.RoleViewer, `{ peopleAttributes(first: 2) { nodes { slug } } }`, nil},
	"Query.rateLimit":        {auth.RoleViewer, `{ rateLimit { monthlyLimit } }`, nil},

	"Mutation.createEvent": {auth.RoleEditor, `mutation { createEvent(input: {title: "Role test"}) { event { id } } }`, nil},
	"Mutation.updateEvent": {auth.RoleEditor, `mutation($id: ID!) { updateEvent(input: {id: $id, description: "<p>New</p>"}) { event { id } } }`,
		idVar(func(f *accessFixture) string { return f.event })},
	"Mutation.deleteEvent": {auth.RoleEditor, `mutation($id: ID!) { deleteEvent(input: {id: $id}) { deletedEventId } }`,
		func(t *testing.T, h *harness, _ *accessFixture, _ auth.Role) map[string]any {
			return map[string]any{"id": newEvent(t, h)}
		}},
	"Mutation.addEventTag": {auth.RoleEditor, `mutation($id: ID!) { addEventTag(input: {eventId: $id, title: "role-test"}) { tag { title } } }`,
		idVar(func(f *accessFixture) string { return f.event })},
	"Mutation.removeEventTag": {auth.RoleEditor, `mutation($id: ID!) { removeEventTag(input: {eventId: $id, title: "to-remove"}) { event { id } } }`,
		func(t *testing.T, h *harness, _ *accessFixture, _ auth.Role) map[string]any {
			id := newEvent(t, h)
			created(t, h, `mutation($id: ID!) { addEventTag(input: {eventId: $id, title: "to-remove"}) { event { id } } }`, map[string]any{"id": id}, "addEventTag", "event", "id")
			return map[string]any{"id": id}
		}},
	"Mutation.createSession": {auth.RoleEditor, `mutation($id: ID!) { createSession(input: {eventId: $id, estimatedStartedAt: "2026-06-01T10:00:00Z"}) { session { id } } }`,
		idVar(func(f *accessFixture) string { return f.event })},
	"Mutation.updateSession": {auth.RoleEditor, `mutation($id: ID!) { updateSession(input: {id: $id, name: "Renamed"}) { session { id } } }`,
		idVar(func(f *accessFixture) string { return f.session })},
	"Mutation.deleteSession": {auth.RoleEditor, `mutation($id: ID!) { deleteSession(input: {id: $id}) { deletedSessionId } }`,
		func(t *testing.T, h *harness, f *accessFixture, _ auth.Role) map[string]any {
			id := created(t, h, `mutation($id: ID!) { createSession(input: {eventId: $id, estimatedStartedAt: "2026-06-02T10:00:00Z"}) { session { id } } }`,
				map[string]any{"id": f.event}, "createSession", "session", "id")
			return map[string]any{"id": id}
		}},
	"Mutation.registerPerson": {auth.RolePublic, `mutation($s: ID!, $email: String!) { registerPerson(input: {sessionId: $s, email: $email}) { connectionLink } }`,
		func(_ *testing.T, _ *harness, f *accessFixture, role auth.Role) map[string]any {
			return map[string]any{"s": f.session, "email": "register-" + role.String() + "@example.org"}
		}},
	"Mutation.updateRegistration": {auth.RoleEditor, `mutation($s: ID!, $p: ID!) { updateRegistration(input: {sessionId: $s, personId: $p, referrer: "https://example.org/r"}) { registration { id } } }`,
		func(_ *testing.T, _ *harness, f *accessFixture, _ auth.Role) map[string]any {
			return map[string]any{"s": f.session, "p": f.person}
		}},
	"Mutation.unregisterPerson": {auth.RoleEditor, `mutation($s: ID!, $email: String!) { unregisterPerson(input: {sessionId: $s, email: $email}) { email } }`,
		func(t *testing.T, h *harness, f *accessFixture, role auth.Role) map[string]any {
			email := "unregister-" + role.String() + "@example.org"
			created(t, h, `mutation($s: ID!, $email: String!) { registerPerson(input: {sessionId: $s, email: $email}) { session { id } } }`,
				map[string]any{"s": f.session, "email": email}, "registerPerson", "session", "id")
			return map[string]any{"s": f.session, "email": email}
		}},
	"Mutation.bulkRegister": {auth.RoleEditor, `mutation($s: ID!, $email: String!) { bulkRegister(input: {sessionId: $s, registrations: [{email: $email}]}) { job { id } } }`,
		func(_ *testing.T, _ *harness, f *accessFixture, role auth.Role) map[string]any {
			return map[string]any{"s": f.session, "email": "bulk-" + role.String() + "@example.org"}
		}},
	"Mutation.inviteUser": {auth.RoleAdmin, `mutation($email: String!) { inviteUser(input: {email: $email, role: MODERATOR}) { user { id } } }`,
		func(_ *testing.T, _ *harness, _ *accessFixture, role auth.Role) map[string]any {
			return map[string]any{"email": "invite-" + role.String() + "@example.org"}
		}},
	"Mutation.removeUser": {auth.RoleAdmin, `mutation($id: ID!) { removeUser(input: {id: $id}) { removedUserId } }`,
		func(t *testing.T, h *harness, _ *accessFixture, role auth.Role) map[string]any {
			id := created(t, h, `mutation($email: String!) { inviteUser(input: {email: $email, role: HOST}) { user { id } } }`,
				map[string]any{"email": "remove-" + role.String() + "@example.org"}, "inviteUser", "user", "id")
			return map[string]any{"id": id}
		}},
	"Mutation.createWebhook": {auth.RoleAdmin, `mutation { createWebhook(input: {url: "https://hooks.example.org/role", event: SESSION_ENDED}) { webhook { id } } }`, nil},
	"Mutation.deleteWebhook": {auth.RoleAdmin, `mutation($id: ID!) { deleteWebhook(input: {id: $id}) { deletedWebhookId } }`,
		func(t *testing.T, h *harness, _ *accessFixture, _ auth.Role) map[string]any {
			id := created(t, h, `mutation { createWebhook(input: {url: "https://hooks.example.org/delete", event: SESSION_ENDED}) { webhook { id } } }`,
				nil, "createWebhook", "webhook", "id")
			return map[string]any{"id": id}
		}},

	"Subscription.sessionChanged":      {auth.RolePublic, `subscription { sessionChanged { type } }`, nil},
	"Subscription.registrationCreated": {auth.RolePublic, `subscription { registrationCreated { type } }`, nil},
	"Subscription.attendanceRecorded":  {auth.RolePublic, `subscription { attendanceRecorded { type } }`, nil},
	"Subscription.eventChanged":        {auth.RolePublic, `subscription { eventChanged { type } }`, nil},
	"Subscription.replayWatched":       {auth.RoleViewer, `subscription { replayWatched { type } }`, nil},
	"Subscription.jobEnded":            {auth.RoleViewer, `subscription { jobEnded { type } }`, nil},
	"Subscription.livestormEvents":     {auth.RoleViewer, `subscription { livestormEvents { type } }`, nil},
}

// rootFields lists the schema's root fields as "Query.event", … (introspection excluded).
func rootFields(t testing.TB) []string {
	t.Helper()
	s := generated.NewExecutableSchema(generated.Config{}).Schema()
	var out []string
	for _, root := range []*ast.Definition{s.Query, s.Mutation, s.Subscription} {
		for _, f := range root.Fields {
			if !strings.HasPrefix(f.Name, "__") {
				out = append(out, root.Name+"."+f.Name)
			}
		}
	}
	return out
}

// TestEveryRootFieldByRole calls every root field of the schema (queries, mutations,
// subscriptions) as each role: a role below the field's is refused with FORBIDDEN naming
// the field and the role it needs, at zero upstream calls (mutations with no data at
// all, subscriptions at subscribe); a role at or above it is served. A root field added
// to the schema without a row here fails the test, and so does a row whose role is not
// the schema's @access.
func TestEveryRootFieldByRole(t *testing.T) {
	h := newHarness(t)
	f := newAccessFixture(t, h)
	g := newRoleGateway(t, h, nil)
	policy := graph.DefaultPolicy()
	fields := rootFields(t)
	for name := range rootCases {
		assert.Contains(t, fields, name, "a row for a root field the schema does not have")
	}
	counts := map[string]int{}
	for _, name := range fields {
		c, ok := rootCases[name]
		if !assert.True(t, ok, "%s has no row in rootCases: add one with the role it needs", name) {
			continue
		}
		root, field, _ := strings.Cut(name, ".")
		require.Equal(t, c.need, policy.FieldRole(root, field), "%s: the schema's @access and this table disagree", name)
		for _, role := range auth.Roles {
			t.Run(name+"/"+role.String(), func(t *testing.T) {
				var vars map[string]any
				if c.vars != nil {
					vars = c.vars(t, h, f, role)
				}
				allowed := role.Allows(c.need)
				if root == "Subscription" {
					checkSubscriptionRole(t, g, role, c, allowed)
				} else {
					checkOperationRole(t, g, role, root, field, c, vars, allowed)
				}
				if allowed {
					counts["allowed"]++
				} else {
					counts["forbidden"]++
				}
			})
		}
	}
	t.Logf("%d root fields × %d roles: %d allowed, %d forbidden (each forbidden at 0 upstream calls)",
		len(fields), len(auth.Roles), counts["allowed"], counts["forbidden"])
}

func checkOperationRole(t *testing.T, g *roleGateway, role auth.Role, root, field string, c rootCase, vars map[string]any, allowed bool) {
	t.Helper()
	g.h.resetCalls()
	r := g.query(t, role, c.doc, vars)
	if allowed {
		require.Empty(t, r.Errors, "%s as %s", field, role)
		var data map[string]any
		require.NoError(t, json.Unmarshal(r.Data, &data))
		assert.NotNil(t, data[field], "%s as %s: data", field, role)
		return
	}
	assert.Zero(t, g.h.upstreamCalls(), "a forbidden %s costs no upstream call", field)
	require.Len(t, r.Errors, 1, "%+v", r.Errors)
	e := r.Errors[0]
	assert.Equal(t, "FORBIDDEN", e.code(), e.Message)
	assert.Equal(t, root+"."+field, e.Extensions["field"])
	assert.Equal(t, c.need.String(), e.Extensions["requiredRole"])
	assert.Contains(t, e.Message, c.need.String())
	if root == "Mutation" {
		assert.Empty(t, string(r.Data), "a forbidden mutation is refused whole, before execution")
		return
	}
	assert.Equal(t, []any{field}, e.Path)
	assert.JSONEq(t, fmt.Sprintf(`{%q: null}`, field), string(r.Data))
}

func checkSubscriptionRole(t *testing.T, g *roleGateway, role auth.Role, c rootCase, allowed bool) {
	t.Helper()
	ws := g.subscriber(t, role)
	defer ws.close()
	g.h.resetCalls()
	ws.subscribe(t, "s", c.doc, nil)
	if allowed {
		g.h.waitSubscribers(t, g.h.orgs[0].ID, 1)
		ws.unsubscribe(t, "s")
		g.h.waitSubscribers(t, g.h.orgs[0].ID, 0)
		return
	}
	errs := refusedAtSubscribe(t, ws, "s")
	require.Len(t, errs, 1)
	assert.Equal(t, "FORBIDDEN", errs[0].code())
	assert.Equal(t, c.need.String(), errs[0].Extensions["requiredRole"])
	assert.Zero(t, g.h.upstreamCalls(), "a forbidden subscription costs no upstream call")
	assert.Zero(t, g.h.deps.push.bus.Subscribers(tenantScope(g.h)), "and never reaches the bus")
}

// tenantScope is the bus scope of the harness's server-token workspace.
func tenantScope(h *harness) string { return tenant.ScopeForOrg(h.orgs[0].ID) }

// refusedAtSubscribe reads the refusal of subscription id: an "error" message, or (as
// gqlgen's graphql-transport-ws sends a request error today) one "next" with errors and
// null data; either way the stream then ends.
func refusedAtSubscribe(t testing.TB, ws *wsClient, id string) []gqlError {
	t.Helper()
	ev := nextEvent(t, ws, id, 5*time.Second)
	var errs []gqlError
	switch ev.kind {
	case "error":
		require.NoError(t, json.Unmarshal(ev.payload, &errs))
		return errs
	case "next":
		r := ev.result(t)
		assert.Equal(t, "null", strings.TrimSpace(string(r.Data)), "no data for a refused subscription")
		select {
		case end, open := <-ws.events(id):
			if open {
				assert.Equal(t, "complete", end.kind, "the stream ends after its refusal")
			}
		case <-time.After(5 * time.Second):
			t.Fatal("the refused subscription did not end")
		}
		return r.Errors
	}
	t.Fatalf("refused at subscribe: got %s %s", ev.kind, ev.payload)
	return nil
}

// requireForbidden asserts that every error of r is FORBIDDEN, that their paths are
// exactly paths, and that each names the field and role wanted.
func requireForbidden(t *testing.T, r gqlResponse, field string, need auth.Role, paths ...string) {
	t.Helper()
	var got []string
	for _, e := range r.Errors {
		assert.Equal(t, "FORBIDDEN", e.code(), e.Message)
		assert.Equal(t, field, e.Extensions["field"], e.Message)
		assert.Equal(t, need.String(), e.Extensions["requiredRole"])
		var parts []string
		for _, p := range e.Path {
			parts = append(parts, fmt.Sprint(p))
		}
		got = append(got, strings.Join(parts, "."))
	}
	assert.ElementsMatch(t, paths, got)
}

// routes lists the upstream routes the simulator served since the last reset.
func (h *harness) routes() []string {
	var out []string
	for _, r := range h.sim.Requests() {
		out = append(out, r.Method+" "+r.Route)
	}
	return out
}

// TestPersonalDataIsNotPublic reaches every kind of personal data a public caller might
// ask for through nested paths: each such field answers null with FORBIDDEN at its own
// path and costs no upstream call (the only calls are those the allowed fields make,
// listed route by route), while the rest of the response is intact.
func TestPersonalDataIsNotPublic(t *testing.T) {
	h := newHarness(t)
	f := newAccessFixture(t, h)
	g := newRoleGateway(t, h, nil)
	g.query(t, auth.RolePublic, `{ organization { name } }`, nil) // verifies the server credential once

	t.Run("event.sessions.registrations.person.email and event.sessions.people.email", func(t *testing.T) {
		r := g.cold(t).query(t, auth.RolePublic, `query($id: ID!) { event(id: $id) { title sessions { nodes { id registrantsCount
			registrations { nodes { person { email } } } people { nodes { email } } } } } }`, map[string]any{"id": f.event})
		var got struct {
			Event struct {
				Title    string
				Sessions struct {
					Nodes []struct {
						ID               string
						RegistrantsCount int
						Registrations    *struct{}
						People           *struct{}
					}
				}
			}
		}
		require.NoError(t, json.Unmarshal(r.Data, &got))
		require.NotEmpty(t, got.Event.Title)
		n := len(got.Event.Sessions.Nodes)
		require.Positive(t, n)
		var regPaths, peoplePaths []string
		for i, s := range got.Event.Sessions.Nodes {
			assert.NotEmpty(t, s.ID)
			assert.Nil(t, s.Registrations)
			assert.Nil(t, s.People)
			regPaths = append(regPaths, fmt.Sprintf("event.sessions.nodes.%d.registrations", i))
			peoplePaths = append(peoplePaths, fmt.Sprintf("event.sessions.nodes.%d.people", i))
		}
		var regErrs, peopleErrs gqlResponse
		for _, e := range r.Errors {
			if e.Extensions["field"] == "Session.registrations" {
				regErrs.Errors = append(regErrs.Errors, e)
			} else {
				peopleErrs.Errors = append(peopleErrs.Errors, e)
			}
		}
		requireForbidden(t, regErrs, "Session.registrations", auth.RoleViewer, regPaths...)
		requireForbidden(t, peopleErrs, "Session.people", auth.RoleViewer, peoplePaths...)
		assert.Equal(t, []string{"GET /events/{id}"}, h.routes(), "the event document only: sessions are embedded in it")
	})

	cases := []struct {
		name, query, field string
		vars               map[string]any
		paths              []string
		// routes are the upstream calls the allowed part of the query makes, cold.
		routes []string
	}{
		{"event.owner.email", `query($id: ID!) { event(id: $id) { owner { firstName lastName avatarLink email } } }`, "User.email",
			map[string]any{"id": f.event}, []string{"event.owner.email"}, []string{"GET /events/{id}", "GET /users"}},
		{"event.people and event.registrations", `query($id: ID!) { event(id: $id) { title people { nodes { email } } registrations { nodes { passwordKey } } } }`, "",
			map[string]any{"id": f.event}, []string{"event.people", "event.registrations"}, []string{"GET /events/{id}"}},
		{"session.people.email", `query($id: ID!) { session(id: $id) { status people { nodes { email } } } }`, "Session.people",
			map[string]any{"id": f.session}, []string{"session.people"}, []string{"GET /sessions/{id}", "GET /events/{id}"}},
		{"session recordings, chat and questions", `query($id: ID!) { session(id: $id) { status recordings { nodes { url } }
			chatMessages { nodes { text author { email } } } questions { nodes { question asker { email } } } roomLink } }`, "",
			map[string]any{"id": f.session}, []string{"session.recordings", "session.chatMessages", "session.questions", "session.roomLink"},
			[]string{"GET /sessions/{id}", "GET /events/{id}"}},
		{"node of a person", `query($id: ID!) { node(id: $id) { id ... on Person { email } } }`, "Person",
			map[string]any{"id": f.person}, []string{"node"}, nil},
		{"node of a registration", `query($id: ID!) { node(id: $id) { ... on Registration { connectionLink } } }`, "Registration",
			map[string]any{"id": f.nodes["Registration"]}, []string{"node"}, nil},
		{"node of a team member", `query($id: ID!) { node(id: $id) { ... on User { firstName email } } }`, "User",
			map[string]any{"id": f.nodes["User"]}, []string{"node"}, nil},
		{"node of a webhook", `query($id: ID!) { node(id: $id) { ... on Webhook { url } } }`, "Webhook",
			map[string]any{"id": f.nodes["Webhook"]}, []string{"node"}, nil},
		{"node of a job", `query($id: ID!) { node(id: $id) { ... on Job { tasks { email } } } }`, "Job",
			map[string]any{"id": f.nodes["Job"]}, []string{"node"}, nil},
		{"nodes: the event, not the person", `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, "Person",
			map[string]any{"ids": []string{f.event, f.person}}, []string{"nodes.1"}, []string{"GET /events/{id}"}},
		{"organization.parentId", `{ organization { name parentId } }`, "Organization.parentId",
			nil, []string{"organization.parentId"}, []string{"GET /organization"}},
		{"registration form attribute, not the workspace's attribute list", `query($id: ID!) { event(id: $id) { registrationFields { fieldId attribute { name createdAt } } } }`,
			"PeopleAttribute.createdAt", map[string]any{"id": f.event}, nil, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := g.cold(t).query(t, auth.RolePublic, tc.query, tc.vars)
			var paths []string
			for _, e := range r.Errors {
				assert.Equal(t, "FORBIDDEN", e.code(), e.Message)
				if tc.field != "" {
					assert.Equal(t, tc.field, e.Extensions["field"])
				}
				var parts []string
				for _, p := range e.Path {
					parts = append(parts, fmt.Sprint(p))
				}
				paths = append(paths, strings.Join(parts, "."))
			}
			if tc.paths != nil {
				assert.ElementsMatch(t, tc.paths, paths)
			} else {
				assert.NotEmpty(t, paths, "one error per registration field whose attribute is selected")
			}
			if tc.routes != nil {
				assert.ElementsMatch(t, tc.routes, h.routes(), "no upstream call for what is forbidden")
			} else if strings.HasPrefix(tc.name, "node") {
				assert.Empty(t, h.routes(), "decided from the id, before any upstream call")
			}
			assert.NotEqual(t, "null", string(r.Data), "the rest of the response is intact")
			// The same query as a viewer: everything, no error.
			v := g.query(t, auth.RoleViewer, tc.query, tc.vars)
			assert.Empty(t, v.Errors, "a viewer reads it")
		})
	}
	t.Run("event.owner keeps its name", func(t *testing.T) {
		var got struct {
			Event struct {
				Owner struct {
					FirstName, LastName string
					Email               *string
				}
			}
		}
		r := g.query(t, auth.RolePublic, `query($id: ID!) { event(id: $id) { owner { firstName lastName email } } }`, map[string]any{"id": f.event})
		require.NoError(t, json.Unmarshal(r.Data, &got))
		assert.NotEmpty(t, got.Event.Owner.FirstName)
		assert.Nil(t, got.Event.Owner.Email)
	})
}

// TestPublicSeesPublishedEventsOnly: a draft event, and its sessions, answer a public
// caller NOT_FOUND with the very message an id that does not exist gets, through every
// path (event, node, session, session.event, registerPerson); lists leave them out and
// count without them; a viewer sees them all.
func TestPublicSeesPublishedEventsOnly(t *testing.T) {
	h := newHarness(t)
	f := newAccessFixture(t, h)
	g := newRoleGateway(t, h, nil)
	missingEvent := globalIDOf("Event", "00000000-0000-4000-8000-000000000000")
	missingSession := globalIDOf("Session", "00000000-0000-4000-8000-000000000000")

	notFound := func(t *testing.T, q string, id string) string {
		t.Helper()
		r := g.query(t, auth.RolePublic, q, map[string]any{"id": id})
		require.Len(t, r.Errors, 1, "%+v", r.Errors)
		assert.Equal(t, "NOT_FOUND", r.Errors[0].code())
		return r.Errors[0].Message
	}
	for _, tc := range []struct{ name, query, draft, missing string }{
		{"event(id:)", `query($id: ID!) { event(id: $id) { title } }`, f.draft, missingEvent},
		{"event(id:) by Livestorm id", `query($id: ID!) { event(id: $id) { title } }`, f.draftLS, "00000000-0000-4000-8000-000000000000"},
		{"node(id:) of an event", `query($id: ID!) { node(id: $id) { id } }`, f.draft, missingEvent},
		{"session(id:)", `query($id: ID!) { session(id: $id) { status event { title } } }`, f.draftSession, missingSession},
		{"node(id:) of a session", `query($id: ID!) { node(id: $id) { ... on Session { status } } }`, f.draftSession, missingSession},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, notFound(t, tc.query, tc.missing), notFound(t, tc.query, tc.draft),
				"a draft cannot be told from an id that does not exist")
			v := g.query(t, auth.RoleViewer, tc.query, map[string]any{"id": tc.draft})
			assert.Empty(t, v.Errors, "a viewer sees drafts")
		})
	}

	t.Run("events leaves drafts out and counts without them", func(t *testing.T) {
		var got struct {
			Events struct {
				TotalCount int
				Nodes      []struct{ ID, Status string }
			}
		}
		cold := g.cold(t)
		cold.query(t, auth.RolePublic, `{ events(first: 200) { totalCount nodes { id status } } }`, nil).decode(t, &got)
		assert.Len(t, got.Events.Nodes, f.publishedEvents)
		assert.Equal(t, f.publishedEvents, got.Events.TotalCount)
		for _, ev := range got.Events.Nodes {
			assert.Equal(t, "PUBLISHED", ev.Status)
		}
		assert.Equal(t, []string{"GET /events", "GET /events"}, h.routes(), "the page, and the drafts' count for totalCount")
		h.resetCalls()
		cold.query(t, auth.RolePublic, `{ events(first: 200) { nodes { id } } }`, nil).decode(t, &got)
		assert.Zero(t, h.upstreamCalls(), "cached")

		h.resetCalls()
		r := cold.query(t, auth.RolePublic, `{ events(filter: {schedulingStatus: DRAFT}) { totalCount nodes { id } } }`, nil)
		assert.JSONEq(t, `{"events": {"totalCount": 0, "nodes": []}}`, string(r.Data))
		assert.Zero(t, h.upstreamCalls(), "drafts only: nothing to ask Livestorm")
	})
	t.Run("paging through the events as public reaches every published event", func(t *testing.T) {
		var ids []string
		after := ""
		for range 20 {
			var page struct {
				Events struct {
					Nodes    []struct{ ID string }
					PageInfo struct {
						HasNextPage bool
						EndCursor   *string
					}
				}
			}
			g.query(t, auth.RolePublic, `query($after: String) { events(first: 2, after: $after) { nodes { id } pageInfo { hasNextPage endCursor } } }`,
				map[string]any{"after": after}).decode(t, &page)
			for _, n := range page.Events.Nodes {
				ids = append(ids, n.ID)
			}
			if !page.Events.PageInfo.HasNextPage {
				break
			}
			require.NotNil(t, page.Events.PageInfo.EndCursor, "a page of drafts still has cursors to go on from")
			after = *page.Events.PageInfo.EndCursor
		}
		assert.Len(t, ids, f.publishedEvents)
		assert.NotContains(t, ids, f.draft)
	})
	t.Run("sessions leaves the drafts' sessions out", func(t *testing.T) {
		var got struct {
			Sessions struct {
				TotalCount int
				Nodes      []struct{ ID string }
			}
		}
		g.cold(t).query(t, auth.RolePublic, `{ sessions(first: 200) { totalCount nodes { id } } }`, nil).decode(t, &got)
		assert.Len(t, got.Sessions.Nodes, f.sessionsTotal-f.draftSessions)
		assert.Equal(t, f.sessionsTotal-f.draftSessions, got.Sessions.TotalCount)
		assert.NotContains(t, got.Sessions.Nodes, struct{ ID string }{f.draftSession})
		reads := 0
		for _, r := range h.routes() {
			if r == "GET /events/{id}" {
				reads++
			}
		}
		assert.Equal(t, f.publishedEvents+f.draftEvents, reads, "one read per distinct event of the page, to know it is published")
	})
	t.Run("registerPerson to a draft's session", func(t *testing.T) {
		h.resetCalls()
		r := g.query(t, auth.RolePublic, `mutation($s: ID!) { registerPerson(input: {sessionId: $s, email: "early@example.org"}) { connectionLink } }`,
			map[string]any{"s": f.draftSession})
		require.Len(t, r.Errors, 1)
		assert.Equal(t, "NOT_FOUND", r.Errors[0].code())
		assert.Zero(t, h.upstreamWrites(), "nothing registered")
	})
}

// TestRegisterPersonAsPublic: a visitor registering on a public page gets their own join
// link and the session, and nothing else personal; asking for the registration (its
// person, answers, …) refuses the mutation whole, before anything is written.
func TestRegisterPersonAsPublic(t *testing.T) {
	h := newHarness(t)
	f := newAccessFixture(t, h)
	g := newRoleGateway(t, h, nil)

	var got struct {
		RegisterPerson struct {
			ConnectionLink string
			Session        struct{ RegistrantsCount int }
		}
	}
	g.query(t, auth.RolePublic, `mutation($s: ID!) { registerPerson(input: {sessionId: $s, email: "visitor@example.org", firstName: "Vi"}) {
		connectionLink session { registrantsCount } } }`, map[string]any{"s": f.session}).decode(t, &got)
	require.NotEmpty(t, got.RegisterPerson.ConnectionLink)
	var check struct {
		Session struct {
			Registrations struct {
				Nodes []struct{ ConnectionLink string }
			}
		}
	}
	h.query(t, `query($s: ID!) { session(id: $s) { registrations(filter: {email: "visitor@example.org"}) { nodes { connectionLink } } } }`,
		map[string]any{"s": f.session}).decode(t, &check)
	require.Len(t, check.Session.Registrations.Nodes, 1)
	assert.Equal(t, check.Session.Registrations.Nodes[0].ConnectionLink, got.RegisterPerson.ConnectionLink, "their own join link")

	var public []string
	p := graph.DefaultPolicy()
	for _, field := range p.Fields("RegisterPersonPayload") {
		if auth.RolePublic.Allows(p.FieldRole("RegisterPersonPayload", field)) {
			public = append(public, field)
		}
	}
	assert.Equal(t, []string{"connectionLink", "session"}, public, "the payload shows a public caller nothing else")

	h.resetCalls()
	r := g.query(t, auth.RolePublic, `mutation($s: ID!) { registerPerson(input: {sessionId: $s, email: "nosy@example.org"}) {
		connectionLink registration { person { email } answers { value } } } }`, map[string]any{"s": f.session})
	require.Len(t, r.Errors, 1)
	assert.Equal(t, "FORBIDDEN", r.Errors[0].code())
	assert.Equal(t, "RegisterPersonPayload.registration", r.Errors[0].Extensions["field"])
	assert.Empty(t, string(r.Data), "refused whole")
	assert.Zero(t, h.upstreamCalls(), "refused before any upstream call: nobody was registered")
}

// TestPublicSubscriptions: a public subscriber hears about registrations and attendance
// without who registered (registration and person answer null with FORBIDDEN in every
// event, checked per event), and hears nothing about draft events; a viewer on the same
// bus gets everything.
func TestPublicSubscriptions(t *testing.T) {
	h := newHarness(t, withWebhooks())
	f := newAccessFixture(t, h)
	g := newRoleGateway(t, h, nil)
	public, viewer := g.subscriber(t, auth.RolePublic), g.subscriber(t, auth.RoleViewer)
	defer public.close()
	defer viewer.close()
	const registrations = `subscription { registrationCreated { type registration { id } person { email } session { id registrantsCount } event { title } } }`
	const attendance = `subscription($s: ID) { attendanceRecorded(sessionId: $s) { type attended registration { attended } person { email } session { id } } }`
	const events = `subscription { eventChanged { type event { id status } } }`
	for _, c := range []*wsClient{public, viewer} {
		c.subscribe(t, "reg", registrations, nil)
		c.subscribe(t, "att", attendance, map[string]any{"s": f.session})
		c.subscribe(t, "ev", events, nil)
	}
	h.waitSubscribers(t, h.orgs[0].ID, 6)

	type regEvent struct {
		RegistrationCreated struct {
			Type         string
			Registration *struct{ ID string }
			Person       *struct{ Email string }
			Session      struct{ ID string }
			Event        struct{ Title string }
		}
	}
	receive := func(c *wsClient, id string, v any) gqlResponse {
		t.Helper()
		r := nextEvent(t, c, id, 5*time.Second).result(t)
		require.NoError(t, json.Unmarshal(r.Data, v))
		return r
	}

	// A registration to a draft's session first: the public subscriber must never see it.
	_, err := h.sim.RegisterPerson(f.draftSessionLS, "draft-visitor@example.org", "", "")
	require.NoError(t, err)
	var vr regEvent
	receive(viewer, "reg", &vr)
	assert.Equal(t, f.draftSession, vr.RegistrationCreated.Session.ID, "the viewer hears about the draft")

	for i, email := range []string{"first@example.org", "second@example.org"} {
		_, err := h.sim.RegisterPerson(f.sessionLS, email, "", "")
		require.NoError(t, err)
		var pr regEvent
		r := receive(public, "reg", &pr)
		assert.Equal(t, f.session, pr.RegistrationCreated.Session.ID, "event %d: the published session's, not the draft's", i)
		assert.NotEmpty(t, pr.RegistrationCreated.Event.Title)
		assert.Nil(t, pr.RegistrationCreated.Registration)
		assert.Nil(t, pr.RegistrationCreated.Person)
		assert.ElementsMatch(t, []string{"RegistrationEvent.registration", "RegistrationEvent.person"}, forbiddenFields(t, r))

		r = receive(viewer, "reg", &vr)
		assert.Empty(t, r.Errors)
		require.NotNil(t, vr.RegistrationCreated.Person)
		assert.Equal(t, email, vr.RegistrationCreated.Person.Email)
	}

	// Attendance: the session runs and ends; Livestorm reports each registrant.
	require.NoError(t, h.sim.StartSession(f.sessionLS))
	require.NoError(t, h.sim.EndSession(f.sessionLS))
	var att struct {
		AttendanceRecorded struct {
			Type         string
			Registration *struct{ Attended bool }
			Person       *struct{ Email string }
			Session      struct{ ID string }
		}
	}
	for range 2 {
		r := receive(public, "att", &att)
		assert.Contains(t, []string{"PEOPLE_ATTENDED", "PEOPLE_NOT_ATTENDED"}, att.AttendanceRecorded.Type)
		assert.Equal(t, f.session, att.AttendanceRecorded.Session.ID)
		assert.Nil(t, att.AttendanceRecorded.Registration)
		assert.Nil(t, att.AttendanceRecorded.Person)
		assert.ElementsMatch(t, []string{"AttendanceEvent.registration", "AttendanceEvent.person"}, forbiddenFields(t, r))
		r = receive(viewer, "att", &att)
		assert.Empty(t, r.Errors)
		assert.NotNil(t, att.AttendanceRecorded.Person)
	}

	// A new event is a draft: only the viewer hears of it, until it is published.
	id := created(t, h, `mutation { createEvent(input: {title: "Launch"}) { event { id } } }`, nil, "createEvent", "event", "id")
	var ec struct {
		EventChanged struct {
			Type  string
			Event struct{ ID, Status string }
		}
	}
	receive(viewer, "ev", &ec)
	assert.Equal(t, "EVENT_CREATED", ec.EventChanged.Type)
	created(t, h, `mutation($id: ID!) { updateEvent(input: {id: $id, status: PUBLISHED}) { event { id } } }`, map[string]any{"id": id}, "updateEvent", "event", "id")
	receive(public, "ev", &ec)
	assert.Equal(t, "EVENT_PUBLISHED", ec.EventChanged.Type, "the public subscriber's first event: the publication, not the draft's creation")
	assert.Equal(t, id, ec.EventChanged.Event.ID)
	assert.Equal(t, "PUBLISHED", ec.EventChanged.Event.Status)
}

// forbiddenFields lists the fields r's errors refuse, checking each is FORBIDDEN for
// want of the viewer role and sits at a path ending with the field. (gqlgen gives the
// errors of a subscription's payload fields paths relative to the payload, e.g.
// ["person"] rather than ["registrationCreated", "person"].)
func forbiddenFields(t *testing.T, r gqlResponse) []string {
	t.Helper()
	var out []string
	for _, e := range r.Errors {
		assert.Equal(t, "FORBIDDEN", e.code(), e.Message)
		assert.Equal(t, "viewer", e.Extensions["requiredRole"])
		field, _ := e.Extensions["field"].(string)
		if assert.NotEmpty(t, e.Path) {
			_, name, _ := strings.Cut(field, ".")
			assert.Equal(t, name, e.Path[len(e.Path)-1])
		}
		out = append(out, field)
	}
	return out
}

// publicAllowlist is everything a public caller may see, type by type: the test below
// fails on any field or type the schema makes public that is not listed here, so
// nothing becomes public by accident (a field added to a public type without an
// @access declaration is public: add it here, or declare it VIEWER). Types marked
// "type" are public as a whole (reachable through node/nodes and by default for their
// fields); the others only lend public callers the fields listed.
var publicAllowlist = map[string][]string{
	"Query":        {"event", "events", "node", "nodes", "organization", "session", "sessions"},
	"Mutation":     {"registerPerson"},
	"Subscription": {"attendanceRecorded", "eventChanged", "registrationCreated", "sessionChanged"},

	"type Event": {"chatEnabled", "createdAt", "description", "detailedRegistrationPageEnabled", "estimatedDuration", "everyoneCanSpeak",
		"id", "language", "lightRegistrationPageEnabled", "livestormId", "owner", "pollsEnabled", "publishedAt", "questionsEnabled",
		"recordingEnabled", "recordingPublic", "registrantsCount", "registrationFields", "registrationLink", "registrationPageEnabled",
		"schedulingStatus", "sessions", "sessionsCount", "showInCompanyPage", "slug", "status", "tags", "title", "updatedAt"},
	"type Session": {"attendeesCount", "breakoutRoomParentSessionId", "canceledAt", "createdAt", "duration", "endedAt", "estimatedStartedAt",
		"event", "id", "livestormId", "name", "registrantsCount", "startedAt", "status", "timezone", "updatedAt"},
	"type Tag":                   {"livestormId", "title"},
	"type RegistrationField":     {"attribute", "custom", "fieldId", "multipleAnswers", "options", "order", "required", "type"},
	"PeopleAttribute":            {"builtin", "description", "id", "livestormId", "name", "options", "placeholder", "slug", "type"},
	"type PeopleAttributeOption": {"label", "position", "value"},
	"User":                       {"avatarLink", "firstName", "id", "lastName", "livestormId"},
	"type Organization":          {"id", "livestormId", "name", "slug"},
	"type Node":                  {"id"},
	"type PageInfo":              {"endCursor", "hasNextPage", "hasPreviousPage", "startCursor"},
	"type EventConnection":       {"edges", "nodes", "pageInfo", "totalCount"},
	"type EventEdge":             {"cursor", "node"},
	"type SessionConnection":     {"edges", "nodes", "pageInfo", "totalCount"},
	"type SessionEdge":           {"cursor", "node"},
	"type RegisterPersonPayload": {"connectionLink", "session"},
	"type SessionChange":         {"cursor", "event", "occurredAt", "session", "type"},
	"type EventChange":           {"cursor", "event", "occurredAt", "type"},
	"type RegistrationEvent":     {"cursor", "event", "occurredAt", "session", "type"},
	"type AttendanceEvent":       {"attended", "cursor", "event", "occurredAt", "session", "type"},
}

// publicNonNullDenied are the non-null fields of types public callers read that they
// may not see: asking for one nulls its parent (GraphQL's rule for a null where none is
// allowed). Personal data public may not see is nullable so that the rest of its object
// stays (User.email); these two are not personal and keep their contract for viewers.
var publicNonNullDenied = []string{"User.pendingInvite", "User.role"}

// TestNothingIsPublicByAccident walks the schema and compares everything a public
// caller may see with publicAllowlist, both ways.
func TestNothingIsPublicByAccident(t *testing.T) {
	p := graph.DefaultPolicy()
	s := generated.NewExecutableSchema(generated.Config{}).Schema()
	got := map[string][]string{}
	var nonNull []string
	for _, name := range p.Types() {
		var fields []string
		for _, f := range p.Fields(name) {
			if auth.RolePublic.Allows(p.FieldRole(name, f)) {
				fields = append(fields, f)
			}
		}
		key := name
		if auth.RolePublic.Allows(p.TypeRole(name)) {
			key = "type " + name
		} else if len(fields) == 0 {
			continue
		}
		got[key] = fields
		if len(fields) > 0 && name != "Mutation" && name != "Subscription" {
			for _, f := range s.Types[name].Fields {
				if !strings.HasPrefix(f.Name, "__") && f.Type.NonNull && !auth.RolePublic.Allows(p.FieldRole(name, f.Name)) {
					nonNull = append(nonNull, name+"."+f.Name)
				}
			}
		}
	}
	for key, fields := range got {
		want, ok := publicAllowlist[key]
		if !assert.True(t, ok, "%s is visible to public callers and not on the allowlist (fields %v): declare it @access(role: VIEWER) or list it", key, fields) {
			continue
		}
		assert.ElementsMatch(t, want, fields, "%s: the fields public callers may see", key)
	}
	for key := range publicAllowlist {
		assert.Contains(t, got, key, "%s is on the allowlist but not public in the schema", key)
	}
	slices.Sort(nonNull)
	assert.Equal(t, publicNonNullDenied, nonNull, "non-null fields public may not see, on types it reads")
}

// renderRoleTable renders the README's role table from the schema's @access
// declarations: every root field with the roles that may call it, then what public
// callers may read, type by type.
func renderRoleTable(t testing.TB) string {
	t.Helper()
	p := graph.DefaultPolicy()
	var b strings.Builder
	b.WriteString("| root field | public | viewer | editor | admin |\n|---|:-:|:-:|:-:|:-:|\n")
	for _, name := range rootFields(t) {
		root, field, _ := strings.Cut(name, ".")
		fmt.Fprintf(&b, "| `%s` |", name)
		for _, r := range auth.Roles {
			mark := " — |"
			if r.Allows(p.FieldRole(root, field)) {
				mark = " ✓ |"
			}
			b.WriteString(mark)
		}
		b.WriteString("\n")
	}
	b.WriteString("\nWhat a `public` caller may read (of published events only); every other type and field needs `viewer`:\n\n")
	b.WriteString("| type | fields |\n|---|---|\n")
	for _, name := range p.Types() {
		if name == "Query" || name == "Mutation" || name == "Subscription" {
			continue
		}
		var fields []string
		for _, f := range p.Fields(name) {
			if auth.RolePublic.Allows(p.FieldRole(name, f)) {
				fields = append(fields, "`"+f+"`")
			}
		}
		switch {
		case len(fields) == 0:
			continue
		case len(fields) == len(p.Fields(name)):
			fmt.Fprintf(&b, "| `%s` | all |\n", name)
		default:
			fmt.Fprintf(&b, "| `%s` | %s |\n", name, strings.Join(fields, ", "))
		}
	}
	return b.String()
}

const (
	roleTableBegin = "<!-- BEGIN ROLE TABLE: generated from the schema's @access declarations; `go test -run TestRoleTableInREADME -update .` rewrites it -->\n"
	roleTableEnd   = "<!-- END ROLE TABLE -->\n"
)

// TestRoleTableInREADME keeps the README's role table what the schema declares.
func TestRoleTableInREADME(t *testing.T) {
	raw, err := os.ReadFile("README.md")
	require.NoError(t, err)
	readme := string(raw)
	begin := strings.Index(readme, roleTableBegin)
	end := strings.Index(readme, roleTableEnd)
	require.True(t, begin >= 0 && end > begin, "README.md needs the role table markers")
	want := roleTableBegin + renderRoleTable(t) + roleTableEnd
	got := readme[begin : end+len(roleTableEnd)]
	if *update && got != want {
		require.NoError(t, os.WriteFile("README.md", []byte(readme[:begin]+want+readme[end+len(roleTableEnd):]), 0o644))
		got = want
	}
	assert.Equal(t, want, got, "the README's role table is out of date: run go test -run TestRoleTableInREADME -update .")
}

// TestIntrospectionByRole: introspection is open to every role by default (frontends
// generate their types from it); GRAPHQL_INTROSPECTION=false closes it to public callers
// only, and __typename always answers.
func TestIntrospectionByRole(t *testing.T) {
	h := newHarness(t, withSize(livestormsim.SizeTiny))
	const schemaQuery = `{ __schema { queryType { name } } }`
	const typeQuery = `{ __type(name: "Event") { name } __typename }`
	t.Run("default: every role", func(t *testing.T) {
		g := newRoleGateway(t, h, nil)
		for _, role := range auth.Roles {
			assert.Empty(t, g.query(t, role, schemaQuery, nil).Errors, role.String())
		}
	})
	t.Run("GRAPHQL_INTROSPECTION=false", func(t *testing.T) {
		g := newRoleGateway(t, h, func(c *Config) { c.Introspection = false })
		r := g.query(t, auth.RolePublic, schemaQuery, nil)
		require.Len(t, r.Errors, 1)
		assert.Equal(t, "FORBIDDEN", r.Errors[0].code())
		assert.Contains(t, r.Errors[0].Message, "GRAPHQL_INTROSPECTION")
		assert.Equal(t, "null", string(r.Data), "__schema is non-null: data is null")

		r = g.query(t, auth.RolePublic, typeQuery, nil)
		assert.JSONEq(t, `{"__type": null, "__typename": "Query"}`, string(r.Data))
		require.Len(t, r.Errors, 1)
		assert.Equal(t, "Query.__type", r.Errors[0].Extensions["field"])

		for _, role := range auth.Roles[1:] {
			assert.Empty(t, g.query(t, role, schemaQuery, nil).Errors, "%s still introspects", role)
		}
	})
	t.Run("config", func(t *testing.T) {
		c, err := LoadConfig(env(map[string]string{"LIVESTORM_API_TOKEN": "x"}))
		require.NoError(t, err)
		assert.True(t, c.Introspection)
		c, err = LoadConfig(env(map[string]string{"LIVESTORM_API_TOKEN": "x", "GRAPHQL_INTROSPECTION": "false"}))
		require.NoError(t, err)
		assert.False(t, c.Introspection)
		_, err = LoadConfig(env(map[string]string{"LIVESTORM_API_TOKEN": "x", "GRAPHQL_INTROSPECTION": "sometimes"}))
		assert.ErrorContains(t, err, "GRAPHQL_INTROSPECTION")
	})
}

// TestAccessDenialsAreLoggedAndCounted: one log line and one count per operation that
// selects something its caller may not see (however many times the field would have
// answered), naming the caller, role, operation and first refused field; never the
// credential.
func TestAccessDenialsAreLoggedAndCounted(t *testing.T) {
	h := newHarness(t)
	f := newAccessFixture(t, h)
	g := newRoleGateway(t, h, nil)

	r := g.query(t, auth.RolePublic, `query EventPage($id: ID!) { event(id: $id) { title sessions { nodes { people { nodes { email } } } } } }`,
		map[string]any{"id": f.event})
	assert.Greater(t, len(r.Errors), 1, "one error per session")
	refusal := postGraphQL(t, g.base, map[string]any{"query": `mutation Invite { inviteUser(input: {email: "x@example.org", role: HOST}) { user { id } } }`},
		"Authorization", g.auth[auth.RoleEditor])
	require.Len(t, refusal.body.Errors, 1)

	logs := g.logs.String()
	assert.Equal(t, 1, strings.Count(logs, `msg="fields refused"`), logs)
	assert.Contains(t, logs, `msg="fields refused" caller=ip:127.0.0.1 role=public auth=anonymous operation=EventPage code=FORBIDDEN field=Session.people`)
	assert.Contains(t, logs, `msg="request refused" caller=jwt:editor-caller role=editor auth=jwt operation=Invite code=FORBIDDEN field=Mutation.inviteUser`)
	assert.NotContains(t, logs, strings.TrimPrefix(g.auth[auth.RoleEditor], "Bearer "), "never the credential")
	metrics := metricsText(t, g.base)
	assert.Contains(t, metrics, `gateway_access_denied_total{role="public"} 1`)
	assert.Contains(t, metrics, `gateway_access_denied_total{role="editor"} 1`)
}
