package graph

import (
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
	gqlvalidator "github.com/vektah/gqlparser/v2/validator"

	"github.com/livestorm-gateway/gateway/graph/generated"
)

func testSchema(t testing.TB) *ast.Schema {
	t.Helper()
	return generated.NewExecutableSchema(generated.Config{Resolvers: &Resolver{}}).Schema()
}

// TestCostTableCoversTheSchema fails when a field that can reach Livestorm (one
// returning an object, interface or union that is not embedded in its parent's
// document) has no CostTable row, and when a row names a field the schema lacks.
func TestCostTableCoversTheSchema(t *testing.T) {
	s := testSchema(t)
	for name, def := range s.Types {
		if strings.HasPrefix(name, "__") || (def.Kind != ast.Object && def.Kind != ast.Interface) {
			continue
		}
		if IsPlumbing(name) {
			continue // nodes/edges/node return what their connection fetched
		}
		for _, f := range def.Fields {
			if strings.HasPrefix(f.Name, "__") {
				continue
			}
			ret := s.Types[f.Type.Name()]
			require.NotNil(t, ret, "%s.%s", name, f.Name)
			upstream := (ret.Kind == ast.Object || ret.Kind == ast.Interface || ret.Kind == ast.Union) && !EmbeddedTypes[ret.Name]
			if upstream {
				_, ok := CostTable[name+"."+f.Name]
				assert.True(t, ok, "%s.%s returns %s: add a CostTable row saying what it fetches", name, f.Name, ret.Name)
			}
		}
	}
	for key := range CostTable {
		typ, field, _ := strings.Cut(key, ".")
		def := s.Types[typ]
		if assert.NotNil(t, def, "CostTable row %s: no type %s", key, typ) {
			assert.NotNil(t, def.Fields.ForName(field), "CostTable row %s: no field %s", key, field)
		}
	}
}

func estimate(t testing.TB, s *ast.Schema, q string, vars map[string]any) Estimate {
	t.Helper()
	doc, err := parser.ParseQuery(&ast.Source{Input: q})
	require.NoError(t, err)
	require.Empty(t, gqlvalidator.Validate(s, doc))
	op := doc.Operations[0]
	coerced, gerr := gqlvalidator.VariableValues(s, op, vars)
	require.Nil(t, gerr)
	return EstimateOperation(s, doc, op, coerced)
}

func TestEstimateOperation(t *testing.T) {
	s := testSchema(t)
	aliases := func(n int, distinct bool) string {
		var b strings.Builder
		b.WriteString("{")
		for i := range n {
			id := "same"
			if distinct {
				id = "e" + strconv.Itoa(i)
			}
			b.WriteString(" a" + strconv.Itoa(i) + `: event(id: "` + id + `") { title }`)
		}
		b.WriteString(" }")
		return b.String()
	}
	cases := []struct {
		name   string
		query  string
		vars   map[string]any
		calls  int
		tenant bool
	}{
		{"introspection is free", `{ __schema { types { name } } }`, nil, 0, false},
		{"rateLimit needs the credential only", `{ rateLimit { monthlyRemaining } }`, nil, 0, true},
		{"one lookup", `{ event(id: "a") { title } }`, nil, 1, true},
		{"the same lookup twice is one call", `{ a: event(id: "a") { title } b: event(id: "a") { slug } }`, nil, 1, true},
		{"distinct aliased lookups are one call each", aliases(450, true), nil, 450, true},
		{"identical aliased lookups are one call", aliases(450, false), nil, 1, true},
		{"a lookup by variable", `query($id: ID!) { a: event(id: $id) { title } b: event(id: "x") { title } }`, map[string]any{"id": "x"}, 1, true},
		{"default page", `{ events { nodes { title } } }`, nil, 1, true},
		{"first over 50 is several pages", `{ events(first: 120) { nodes { title } } }`, nil, 3, true},
		{"first over the maximum is refused before any call", `{ events(first: 500) { nodes { title } } }`, nil, 0, false},
		{"an after window straddling pages (and page 0 in case the list shrank)",
			`query($c: String) { events(first: 50, after: $c) { nodes { title } } }`, map[string]any{"c": encodeCursor(9)}, 2, true},
		{"embedded sessions and tags cost nothing", `{ event(id: "a") { sessions { nodes { id registrantsCount } } tags { title } registrantsCount } }`, nil, 1, true},
		{"a nested page per parent item, bounded by the parent's first",
			`{ events(first: 10) { nodes { sessions { nodes { people(first: 20) { nodes { email } } } } } } }`, nil, 1 + 10*20, true},
		{"a nested page of more than 50 is several pages per parent",
			`{ event(id: "a") { sessions(first: 2) { nodes { people(first: 120) { nodes { email } } } } } }`, nil, 1 + 2*3, true},
		{"Session.event of a listed session: a lookup per item",
			`{ sessions(first: 50) { nodes { event { title } } } }`, nil, 1 + 50, true},
		{"Session.event of an event's session is the event",
			`{ event(id: "a") { sessions { nodes { event { title sessions { nodes { id } } } } } } }`, nil, 1, true},
		{"registrations reached through a session carry their session; their event is the session's",
			`{ session(id: "s") { event { title } registrations(first: 5) { nodes { session { id } event { title } person { email } } } } }`, nil, 3, true},
		{"the three paths of the upstream-call table",
			`{ event(id: "e") { title } session(id: "s") { event { title } } again: session(id: "s") { registrations(first: 5) { nodes { event { title } } } } }`, nil, 4, true},
		{"people of /people and a person are plain lookups",
			`{ people(first: 50) { nodes { email } } person(id: "p") { email } }`, nil, 2, true},
		{"a registration by its two ids, once per distinct pair",
			`{ a: registration(sessionId: "s", personId: "p") { attended } b: registration(sessionId: "s", personId: "p") { person { email } } c: registration(sessionId: "t", personId: "p") { attended } }`, nil, 2, true},
		{"node and nodes: one lookup per distinct id",
			`{ node(id: "a") { id } nodes(ids: ["a", "b", "c"]) { id } }`, nil, 3, true},
		{"owners and the team share one team page",
			`{ events(first: 5) { nodes { owner { email } } } users { nodes { email } } }`, nil, 2, true},
		{"a filtered team list is another list",
			`{ events(first: 5) { nodes { owner { email } } } users(filter: { role: HOST }) { nodes { email } } }`, nil, 3, true},
		{"registration attributes: one walk for every field",
			`{ event(id: "a") { registrationFields { attribute { name } } } }`, nil, 2, true},
		{"the same list under the same parent through two fragments",
			`{ event(id: "a") { ...A ...B } } fragment A on Event { people(first: 10) { totalCount } } fragment B on Event { more: people(first: 30) { nodes { id } } }`, nil, 2, true},
		{"fragment doubling is priced in linear time",
			doubling(40), nil, 1, true},
		{"chat authors are included", `{ session(id: "s") { chatMessages(first: 50) { nodes { author { email } } } } }`, nil, 2, true},
		{"bulk job tasks", `{ job(id: "j") { tasks { person { email } } } }`, nil, 1 + 1 + 50, true},
		{"a write and the session it reads", `mutation { registerPerson(input: { sessionId: "s", email: "a@b.c" }) { registration { session { id } event { title } } session { registrantsCount } } }`, nil, 1 + 1 + 1, true},
		{"each write is priced on its own",
			`mutation { a: registerPerson(input: { sessionId: "s", email: "a@b.c" }) { session { id } } b: registerPerson(input: { sessionId: "s", email: "a@b.c" }) { session { id } } }`, nil, 4, true},
		{"a subscription event", `subscription { registrationCreated { person { email } session { registrantsCount } event { title } } }`, nil, 2, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := estimate(t, s, tc.query, tc.vars)
			assert.Equal(t, tc.calls, got.Calls)
			assert.Equal(t, tc.tenant, got.NeedsTenant)
		})
	}
}

// doubling is the fragment-doubling shape: n fragments, each spreading the next twice
// (2^n fields once expanded) in a few hundred bytes.
func doubling(n int) string {
	var b strings.Builder
	b.WriteString(`{ event(id: "a") { ...F0 } }`)
	for i := range n {
		b.WriteString(" fragment F" + strconv.Itoa(i) + " on Event { ...F" + strconv.Itoa(i+1) + " ...F" + strconv.Itoa(i+1) + " }")
	}
	b.WriteString(" fragment F" + strconv.Itoa(n) + " on Event { title sessions { nodes { id } } }")
	return b.String()
}

// TestListWindowBackwards prices `last`/`before`, which today's schema does not offer yet,
// so that connections gaining them are never priced below what they read.
func TestListWindowBackwards(t *testing.T) {
	cases := []struct {
		name  string
		args  map[string]any
		items int
		pages int
	}{
		{"first", map[string]any{"first": 120}, 120, 3},
		{"last without a cursor: the pages it can straddle, and page 0 for the count", map[string]any{"last": 120}, 120, 1 + 4},
		{"last before a cursor: exact", map[string]any{"last": 30, "before": encodeCursor(120)}, 30, 2 + 1},
		{"last over the maximum is refused", map[string]any{"last": 500}, 0, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			items, _, pages, ok := listWindow(tc.args)
			assert.Equal(t, tc.pages > 0, ok)
			assert.Equal(t, tc.items, items)
			seen := map[int]bool{}
			for _, p := range pages {
				seen[p] = true
			}
			assert.Len(t, seen, tc.pages)
		})
	}
}
