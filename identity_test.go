package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/formatter"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"

	"github.com/livestorm-gateway/gateway/graph/generated"
)

// readmeOperation is one GraphQL operation of the README, alone in its document.
type readmeOperation struct {
	name  string
	kind  ast.Operation
	doc   *ast.QueryDocument
	query string
}

// readmeOperations extracts every operation of the README: the ```graphql blocks and the
// "query" of the curl examples, so that no example can drift from the schema.
func readmeOperations(t *testing.T) []readmeOperation {
	t.Helper()
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	var sources []string
	for _, m := range regexp.MustCompile("(?s)```graphql\n(.*?)```").FindAllStringSubmatch(string(readme), -1) {
		sources = append(sources, m[1])
	}
	for _, m := range regexp.MustCompile(`"query":("(?:[^"\\]|\\.)*")`).FindAllStringSubmatch(string(readme), -1) {
		var q string
		require.NoError(t, json.Unmarshal([]byte(m[1]), &q))
		sources = append(sources, q)
	}
	var ops []readmeOperation
	for _, src := range sources {
		doc, err := parser.ParseQuery(&ast.Source{Input: src})
		require.NoError(t, err, "README example does not parse:\n%s", src)
		for i, op := range doc.Operations {
			one := &ast.QueryDocument{Operations: ast.OperationList{op}, Fragments: doc.Fragments}
			name := op.Name
			if name == "" {
				name = fmt.Sprintf("anonymous %s %d", op.Operation, i)
			}
			ops = append(ops, readmeOperation{name: name, kind: op.Operation, doc: one, query: format(one)})
		}
	}
	require.NotEmpty(t, ops)
	return ops
}

func format(doc *ast.QueryDocument) string {
	var b bytes.Buffer
	formatter.NewFormatter(&b).FormatQueryDocument(doc)
	return b.String()
}

// withTypename returns the operation with __typename selected in every selection set, as
// Apollo Client and urql add it, so that every object of the response names its type.
func withTypename(doc *ast.QueryDocument) string {
	var add func(ast.SelectionSet) ast.SelectionSet
	add = func(set ast.SelectionSet) ast.SelectionSet {
		if len(set) == 0 {
			return set
		}
		for _, sel := range set {
			switch s := sel.(type) {
			case *ast.Field:
				s.SelectionSet = add(s.SelectionSet)
			case *ast.InlineFragment:
				s.SelectionSet = add(s.SelectionSet)
			}
		}
		return append(set, &ast.Field{Name: "__typename", Alias: "__typename"})
	}
	for _, op := range doc.Operations {
		op.SelectionSet = add(op.SelectionSet)
	}
	for _, f := range doc.Fragments {
		f.SelectionSet = add(f.SelectionSet)
	}
	return format(doc)
}

// readmeVars are the values of the variables the README's examples declare: an
// upcoming session (open to registration), its event, and a Node id.
func readmeVars(t *testing.T, h *harness) map[string]any {
	t.Helper()
	var got struct {
		Sessions struct {
			Nodes []struct {
				ID    string
				Event struct{ ID string }
			}
		}
	}
	h.query(t, `{ sessions(first: 1, filter: {status: UPCOMING}) { nodes { id event { id } } } }`, nil).decode(t, &got)
	require.NotEmpty(t, got.Sessions.Nodes)
	s := got.Sessions.Nodes[0]
	return map[string]any{"eventId": s.Event.ID, "sessionId": s.ID, "id": s.Event.ID}
}

// declared keeps the variables an operation declares.
func declared(op *ast.OperationDefinition, all map[string]any) map[string]any {
	vars := map[string]any{}
	for _, v := range op.VariableDefinitions {
		if val, ok := all[v.Variable]; ok {
			vars[v.Variable] = val
		}
	}
	return vars
}

// TestReadmeExamplesRunAgainstTheSchema validates every example of the README against the
// schema and runs its queries and mutations against the simulator without an error.
func TestReadmeExamplesRunAgainstTheSchema(t *testing.T) {
	schema := generated.NewExecutableSchema(generated.Config{}).Schema()
	h := newHarness(t)
	all := readmeVars(t, h)
	for _, op := range readmeOperations(t) {
		t.Run(op.name, func(t *testing.T) {
			doc, errs := parser.ParseQuery(&ast.Source{Input: op.query})
			require.Nil(t, errs)
			require.Empty(t, validator.Validate(schema, doc), "%s", op.query)
			if op.kind == ast.Subscription {
				return // validated; the subscription tests run subscriptions
			}
			r := h.query(t, op.query, declared(doc.Operations[0], all))
			require.Empty(t, r.Errors, "%s", op.query)
		})
	}
}

// broadQuery reaches the same objects by many paths: people through sessions, events and
// the workspace list, sessions through events and registrations, events through sessions,
// registrations and the root, and everything again through node(s).
const broadQuery = `query Broad($eventId: ID!, $sessionId: ID!, $nodeIds: [ID!]!) {
  events(first: 5) {
    nodes {
      id livestormId title registrantsCount
      owner { id email firstName }
      tags { livestormId title }
      registrationFields { fieldId type required options attribute { id slug name type } }
      sessions {
        nodes {
          id livestormId status registrantsCount attendeesCount
          event { id title registrantsCount }
          registrations(first: 8) {
            nodes {
              id attended attendanceRate messagesCount questionsCount connectionLink
              answers { fieldId type value values }
              utm { source medium campaign } device { browserName osName } location { city countryCode }
              person { id livestormId email firstName role updatedAt }
              session { id status }
              event { id title }
            }
          }
          people(first: 8) { nodes { id email firstName role updatedAt } }
          chatMessages(first: 5) { nodes { livestormId text author { id email role updatedAt } } }
          questions(first: 5) { nodes { livestormId question asker { id email } responder { id email } } }
          recordings { nodes { livestormId fileName session { id status } } }
        }
      }
      registrations(first: 8) {
        nodes { id attended messagesCount answers { fieldId value values } person { id email role } session { id status } event { id title } }
      }
      people(first: 8) { nodes { id email role } }
    }
  }
  event(id: $eventId) { id title registrantsCount sessions(last: 2) { nodes { id status } } }
  session(id: $sessionId) {
    id status event { id title }
    registrations(last: 5) { nodes { id attended answers { fieldId value } person { id email } } }
  }
  people(first: 30) { nodes { id email role updatedAt } }
  users { nodes { id email role } }
  peopleAttributes(first: 50) { nodes { id slug name type } }
  organization { id name }
  nodes(ids: $nodeIds) {
    id
    ... on Person { email role }
    ... on Registration { attended messagesCount answers { fieldId value } person { id email } }
    ... on Session { status registrantsCount }
    ... on Event { title }
  }
}`

// TestNormalizedIdentity is the property normalized caches rely on: in every response,
// and across the responses of a page that runs them together, any two objects with the
// same __typename and id carry the same value for every field both select. It runs the
// README's example queries and broadQuery with __typename added everywhere.
func TestNormalizedIdentity(t *testing.T) {
	h := newHarness(t)
	all := readmeVars(t, h)
	ev := h.sim.Events(h.orgs[0].ID)[0]

	// node ids to refetch: people and registrations that other paths also reach.
	var seed struct {
		Event struct {
			Sessions struct {
				Nodes []struct {
					ID            string
					Registrations struct {
						Nodes []struct {
							ID     string
							Person struct{ ID string }
						}
					}
				}
			}
		}
	}
	h.query(t, `query($e: ID!) { event(id: $e) { sessions { nodes { id registrations(first: 3) { nodes { id person { id } } } } } } }`,
		map[string]any{"e": ev.ID}).decode(t, &seed)
	var nodeIDs []string
	for _, s := range seed.Event.Sessions.Nodes {
		nodeIDs = append(nodeIDs, s.ID)
		for _, r := range s.Registrations.Nodes {
			nodeIDs = append(nodeIDs, r.ID, r.Person.ID)
		}
	}
	all["nodeIds"] = nodeIDs
	all["eventId"] = globalIDOf("Event", ev.ID)
	all["sessionId"] = globalIDOf("Session", ev.SessionIDs[0])

	broad, err := parser.ParseQuery(&ast.Source{Input: broadQuery})
	require.NoError(t, err)
	ops := []readmeOperation{{name: "broad", kind: ast.Query, doc: broad}}
	for _, op := range readmeOperations(t) {
		if op.kind == ast.Query {
			ops = append(ops, op)
		}
	}
	var responses []json.RawMessage
	for _, op := range ops {
		r := h.query(t, withTypename(op.doc), declared(op.doc.Operations[0], all))
		require.Empty(t, r.Errors, op.name)
		responses = append(responses, r.Data)
	}
	report := checkIdentity(responses...)
	assert.Empty(t, report.violations, "objects with the same (__typename, id) disagree")
	t.Logf("%d identified objects, %d of them reached more than once", report.objects, report.repeated)
	assert.Greater(t, report.repeated, 100, "the queries reach many objects by several paths")
	for _, typ := range []string{"Person", "Registration", "Session", "Event"} {
		assert.Contains(t, report.repeatedTypes, typ, "%s objects are reached by several paths", typ)
	}
}

// identityReport is what checkIdentity found.
type identityReport struct {
	violations    []string
	objects       int // distinct (__typename, id)
	repeated      int // of which seen more than once
	repeatedTypes []string
}

// checkIdentity walks responses and compares, for every object with __typename and id,
// each field with what earlier occurrences of the same object had for it. Nested objects
// with an id compare by reference (they are checked on their own); connections are skipped
// (their arguments differ between paths); other nested objects and lists compare by value
// on the fields both selected, as a normalized cache embeds them in their parent.
func checkIdentity(responses ...json.RawMessage) identityReport {
	type seen struct {
		path   string
		fields map[string]any
		count  int
	}
	objects := map[string]*seen{}
	var report identityReport
	var walk func(v any, path string)
	record := func(key string, obj map[string]any, path string) {
		s := objects[key]
		if s == nil {
			s = &seen{path: path, fields: map[string]any{}}
			objects[key] = s
		}
		s.count++
		for f, v := range obj {
			if f == "__typename" || isConnection(v) {
				continue
			}
			n := normalize(v)
			if prev, ok := s.fields[f]; ok && !consistent(prev, n) {
				a, _ := json.Marshal(prev)
				b, _ := json.Marshal(n)
				report.violations = append(report.violations,
					fmt.Sprintf("%s.%s is %s at %s but %s at %s", key, f, a, s.path, b, path))
				continue
			}
			s.fields[f] = n
		}
	}
	walk = func(v any, path string) {
		switch v := v.(type) {
		case map[string]any:
			if key, ok := identity(v); ok {
				record(key, v, path)
			}
			for f, child := range v {
				walk(child, path+"."+f)
			}
		case []any:
			for i, child := range v {
				walk(child, fmt.Sprintf("%s[%d]", path, i))
			}
		}
	}
	for i, r := range responses {
		var v any
		if err := json.Unmarshal(r, &v); err != nil {
			report.violations = append(report.violations, err.Error())
			continue
		}
		walk(v, fmt.Sprintf("response%d", i))
	}
	types := map[string]bool{}
	for key, s := range objects {
		report.objects++
		if s.count > 1 {
			report.repeated++
			types[strings.SplitN(key, " ", 2)[0]] = true
		}
	}
	for typ := range types {
		report.repeatedTypes = append(report.repeatedTypes, typ)
	}
	sort.Strings(report.repeatedTypes)
	sort.Strings(report.violations)
	return report
}

// consistent reports whether two values of one field agree wherever both say something:
// embedded objects on the keys both selected (queries select different subsets),
// lists element by element.
func consistent(a, b any) bool {
	switch a := a.(type) {
	case map[string]any:
		b, ok := b.(map[string]any)
		if !ok {
			return false
		}
		for k, av := range a {
			if bv, ok := b[k]; ok && !consistent(av, bv) {
				return false
			}
		}
		return true
	case []any:
		b, ok := b.([]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for i := range a {
			if !consistent(a[i], b[i]) {
				return false
			}
		}
		return true
	default:
		return a == b
	}
}

// identity is the cache key of an object: "Type id", when it has both.
func identity(obj map[string]any) (string, bool) {
	typ, ok1 := obj["__typename"].(string)
	id, ok2 := obj["id"].(string)
	return typ + " " + id, ok1 && ok2
}

func isConnection(v any) bool {
	obj, ok := v.(map[string]any)
	if !ok {
		return false
	}
	typ, _ := obj["__typename"].(string)
	return strings.HasSuffix(typ, "Connection")
}

// normalize replaces identified objects by references and drops connections, leaving
// what a normalized cache stores in the parent's record.
func normalize(v any) any {
	switch v := v.(type) {
	case map[string]any:
		if key, ok := identity(v); ok {
			return "ref:" + key
		}
		out := map[string]any{}
		for k, child := range v {
			if !isConnection(child) {
				out[k] = normalize(child)
			}
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, child := range v {
			out[i] = normalize(child)
		}
		return out
	default:
		return v
	}
}

// TestIdentityCheckerCatchesTheOldShape runs checkIdentity on the shape the schema had
// before Registration existed: one Person reached through two sessions, each with that
// session's registrantDetail, and form answers keyed by field slug. It must report both.
func TestIdentityCheckerCatchesTheOldShape(t *testing.T) {
	old := `{"a": {"__typename": "Session", "id": "s1", "people": {"__typename": "PersonConnection", "nodes": [
	    {"__typename": "Person", "id": "p1", "email": "ada@example.org",
	     "registrantDetail": {"__typename": "RegistrantDetail", "attended": true,
	       "fields": [{"__typename": "RegistrantFieldValue", "id": "email", "value": "ada@example.org"}]}}]}},
	  "b": {"__typename": "Session", "id": "s2", "people": {"__typename": "PersonConnection", "nodes": [
	    {"__typename": "Person", "id": "p1", "email": "ada@example.org",
	     "registrantDetail": {"__typename": "RegistrantDetail", "attended": false,
	       "fields": [{"__typename": "RegistrantFieldValue", "id": "email", "value": "ada@example.org"}]}},
	    {"__typename": "Person", "id": "p2", "email": "bob@example.org",
	     "registrantDetail": {"__typename": "RegistrantDetail", "attended": false,
	       "fields": [{"__typename": "RegistrantFieldValue", "id": "email", "value": "bob@example.org"}]}}]}}}`
	report := checkIdentity(json.RawMessage(old))
	require.Len(t, report.violations, 2, "%v", report.violations)
	assert.True(t, slices.ContainsFunc(report.violations, func(v string) bool { return strings.HasPrefix(v, "Person p1.registrantDetail ") }),
		"one person, two sessions' details: %v", report.violations)
	assert.True(t, slices.ContainsFunc(report.violations, func(v string) bool { return strings.HasPrefix(v, "RegistrantFieldValue email.value ") }),
		"two people's answers under one id: %v", report.violations)
}
