package graph

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/livestorm-gateway/gateway/auth"
	"github.com/livestorm-gateway/gateway/graph/generated"
)

// policyTestSchema exercises every rule of the policy on a small schema.
const policyTestSchema = `
directive @access(role: Role!) on OBJECT | INTERFACE | FIELD_DEFINITION
enum Role { PUBLIC VIEWER EDITOR ADMIN }
interface Thing @access(role: PUBLIC) { id: ID! secret: String }
type Open implements Thing @access(role: PUBLIC) { id: ID! secret: String @access(role: ADMIN) name: String }
type Closed implements Thing { id: ID! @access(role: PUBLIC) secret: String }
type Query @access(role: PUBLIC) {
  open: Open
  closed: Closed @access(role: VIEWER)
  thing: Thing
  plain: Int
}
type Mutation @access(role: EDITOR) { act: Open  wipe: Int @access(role: ADMIN) }
type Subscription { ticks: Int  publicTicks: Open @access(role: PUBLIC) }
`

func testPolicy(t testing.TB) (*ast.Schema, *Policy) {
	t.Helper()
	s := gqlparser.MustLoadSchema(&ast.Source{Name: "test.graphqls", Input: policyTestSchema})
	p, err := NewPolicy(s)
	require.NoError(t, err)
	return s, p
}

func TestPolicyReadsTheDeclarations(t *testing.T) {
	_, p := testPolicy(t)
	cases := []struct {
		typ, field string
		want       auth.Role
	}{
		{"Open", "name", auth.RolePublic},     // the type's declaration
		{"Open", "secret", auth.RoleAdmin},    // the field's own
		{"Closed", "secret", auth.RoleViewer}, // undeclared type: viewer
		{"Closed", "id", auth.RolePublic},     // a field may be lower than its type
		{"Query", "closed", auth.RoleViewer},  // a root field
		{"Query", "plain", auth.RolePublic},   // the root type's declaration
		{"Subscription", "ticks", auth.RoleViewer},
		{"Unknown", "x", auth.RoleViewer},      // anything unknown: viewer
		{"Query", "__schema", auth.RolePublic}, // introspection: decided by Access
	}
	for _, tc := range cases {
		assert.Equal(t, tc.want, p.FieldRole(tc.typ, tc.field), "%s.%s", tc.typ, tc.field)
	}
	assert.Equal(t, auth.RolePublic, p.TypeRole("Open"))
	assert.Equal(t, auth.RoleViewer, p.TypeRole("Closed"))
	assert.True(t, p.SeesAll(auth.RoleAdmin, ast.Query))
	assert.False(t, p.SeesAll(auth.RoleEditor, ast.Query), "Open.secret is reachable from Query")
	assert.False(t, p.SeesAll(auth.RolePublic, ast.Query))
	assert.False(t, p.SeesAll(auth.RoleEditor, ast.Mutation))
	assert.True(t, p.SeesAll(auth.RoleAdmin, ast.Mutation))
	assert.False(t, p.SeesAll(auth.RoleNone, ast.Subscription))
	assert.Equal(t, auth.RoleAdmin, p.types["Thing"].implMax["secret"], "the strictest implementation")
}

func TestPolicyRefusesUnknownRoles(t *testing.T) {
	_, err := declaredRole(ast.DirectiveList{{Name: "access", Arguments: ast.ArgumentList{{Name: "role", Value: &ast.Value{Raw: "ROOT", Kind: ast.EnumValue}}}}}, DefaultRole)
	assert.ErrorContains(t, err, "ROOT")
	_, err = declaredRole(ast.DirectiveList{{Name: "access"}}, DefaultRole)
	assert.Error(t, err)
}

// TestTheSchemaDeclaresEveryRootField: the gateway's own schema parses into a policy
// whose operations need what design.md §8 says.
func TestTheSchemaDeclaresEveryRootField(t *testing.T) {
	p := DefaultPolicy()
	assert.True(t, p.SeesAll(auth.RoleViewer, ast.Query), "viewer reads everything")
	assert.True(t, p.SeesAll(auth.RoleViewer, ast.Subscription))
	assert.False(t, p.SeesAll(auth.RoleEditor, ast.Mutation), "team and webhooks need admin")
	assert.True(t, p.SeesAll(auth.RoleAdmin, ast.Mutation))
}

// operation parses and validates q against s, as the executor would.
func operation(t testing.TB, s *ast.Schema, q string, vars map[string]any) *graphql.OperationContext {
	t.Helper()
	doc, errs := gqlparser.LoadQuery(s, q)
	require.Empty(t, errs, "%v", errs)
	return &graphql.OperationContext{Doc: doc, Operation: doc.Operations[0], Variables: vars,
		ResolverMiddleware: func(ctx context.Context, next graphql.Resolver) (any, error) { return next(ctx) }}
}

func caller(r auth.Role) context.Context {
	return auth.NewContext(context.Background(), auth.Caller{ID: "test", Role: r, Method: auth.MethodAnonymous})
}

// forbiddenIn lists what the plan of rc refuses, as "Type.field".
func forbiddenIn(rc *graphql.OperationContext) []string {
	p, _ := rc.Stats.GetExtension(planKey).(*plan)
	if p == nil {
		return nil
	}
	var out []string
	for _, e := range p.forbidden {
		out = append(out, e.What)
	}
	return out
}

func TestAccessPlans(t *testing.T) {
	s, p := testPolicy(t)
	a := NewAccess(AccessConfig{Policy: p, PublicIntrospection: true})
	cases := []struct {
		name      string
		role      auth.Role
		query     string
		forbidden []string
		dynamic   int
		refused   string // the field a whole refusal names
	}{
		{"viewer: what it may see", auth.RoleViewer, `{ closed { secret } }`, nil, 0, ""},
		{"public: nested and root", auth.RolePublic, `{ open { name secret } closed { id } }`, []string{"Open.secret", "Query.closed"}, 0, ""},
		{"fragments, each walked once", auth.RolePublic, `{ open { ...F ...F } thing { ...F } } fragment F on Open { secret }`, []string{"Open.secret"}, 0, ""},
		{"a field on an interface: the concrete type decides", auth.RolePublic, `{ thing { id secret } }`, nil, 1, ""},
		{"skipped fields are still refused if they run", auth.RolePublic, `{ open { secret @skip(if: true) } }`, []string{"Open.secret"}, 0, ""},
		{"mutation: refused whole", auth.RoleEditor, `mutation { act { name } wipe }`, []string{"Mutation.wipe"}, 0, "Mutation.wipe"},
		{"mutation: a nested field refuses it too", auth.RoleEditor, `mutation { act { name secret } }`, []string{"Open.secret"}, 0, "Open.secret"},
		{"admin: not walked", auth.RoleAdmin, `mutation { act { secret } wipe }`, nil, 0, ""},
		{"subscription root: refused at subscribe", auth.RolePublic, `subscription { ticks }`, []string{"Subscription.ticks"}, 0, "Subscription.ticks"},
		{"subscription payload: per event", auth.RolePublic, `subscription { publicTicks { secret } }`, []string{"Open.secret"}, 0, ""},
		{"no role at all: nothing but __typename", auth.RoleNone, `{ __typename plain }`, []string{"Query.plain"}, 0, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rc := operation(t, s, tc.query, nil)
			err := a.MutateOperationContext(caller(tc.role), rc)
			assert.ElementsMatch(t, tc.forbidden, forbiddenIn(rc))
			if tc.refused != "" {
				require.NotNil(t, err)
				assert.Equal(t, CodeForbidden, err.Extensions["code"])
				assert.Equal(t, tc.refused, err.Extensions["field"])
				return
			}
			assert.Nil(t, err)
			if p, _ := rc.Stats.GetExtension(planKey).(*plan); p != nil {
				assert.Len(t, p.dynamic, tc.dynamic)
			}
		})
	}
	t.Run("mutation: skip evaluated with variables", func(t *testing.T) {
		rc := operation(t, s, `mutation($no: Boolean!) { act { name secret @include(if: $no) } }`, map[string]any{"no": false})
		assert.Nil(t, a.MutateOperationContext(caller(auth.RoleEditor), rc), "the forbidden field would not run: the mutation may")
		rc = operation(t, s, `mutation($no: Boolean!) { act { name secret @include(if: $no) } }`, map[string]any{"no": true})
		assert.NotNil(t, a.MutateOperationContext(caller(auth.RoleEditor), rc))
	})
}

func TestAccessMiddlewareChecksTheConcreteType(t *testing.T) {
	s, p := testPolicy(t)
	a := NewAccess(AccessConfig{Policy: p})
	rc := operation(t, s, `{ thing { secret } }`, nil)
	require.Nil(t, a.MutateOperationContext(caller(auth.RoleViewer), rc))
	secret := rc.Operation.SelectionSet[0].(*ast.Field).SelectionSet[0].(*ast.Field)
	run := func(object string) (any, error) {
		ctx := graphql.WithFieldContext(context.Background(), &graphql.FieldContext{Object: object, Field: graphql.CollectedField{Field: secret}})
		return rc.ResolverMiddleware(ctx, func(context.Context) (any, error) { return "data", nil })
	}
	_, err := run("Open")
	var denied *AccessError
	require.ErrorAs(t, err, &denied, "Open.secret needs admin")
	assert.Equal(t, "Open.secret", denied.What)
	assert.Equal(t, auth.RoleAdmin, denied.Need)
	v, err := run("Closed")
	assert.NoError(t, err, "Closed.secret needs viewer")
	assert.Equal(t, "data", v)
}

// BenchmarkAccess measures the check on a public event page (the walk, once per
// operation) and the cost per field it adds at run time; a viewer's operation is not
// walked at all.
func BenchmarkAccess(b *testing.B) {
	s := generated.NewExecutableSchema(generated.Config{}).Schema()
	a := NewAccess(AccessConfig{PublicIntrospection: true})
	page := `query EventPage($id: ID!) { event(id: $id) { id title schedulingStatus registrantsCount
		owner { id firstName lastName } registrationFields { fieldId required options attribute { name placeholder } }
		sessions(filter: { status: UPCOMING }) { nodes { id estimatedStartedAt registrantsCount attendeesCount } } } }`
	withPII := strings.Replace(page, "attendeesCount", "attendeesCount registrations { nodes { person { email } } }", 1)
	var doubled strings.Builder
	doubled.WriteString("query { events { nodes { ...F0 } } }\n")
	for i := 0; i < 12; i++ {
		fmt.Fprintf(&doubled, "fragment F%d on Event { ...F%d ...F%d }\n", i, i+1, i+1)
	}
	doubled.WriteString("fragment F12 on Event { title owner { email } }\n")
	for _, bc := range []struct {
		name  string
		role  auth.Role
		query string
	}{
		{"walk/public event page", auth.RolePublic, page},
		{"walk/public event page with PII", auth.RolePublic, withPII},
		{"walk/public 2^12 fragment spreads", auth.RolePublic, doubled.String()},
		{"walk/viewer (skipped)", auth.RoleViewer, withPII},
	} {
		rc := operation(b, s, bc.query, map[string]any{"id": "x"})
		ctx := caller(bc.role)
		next := rc.ResolverMiddleware
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				rc.ResolverMiddleware = next
				rc.Stats = graphql.Stats{}
				_ = a.MutateOperationContext(ctx, rc)
			}
		})
	}
	rc := operation(b, s, withPII, map[string]any{"id": "x"})
	require.Nil(b, a.MutateOperationContext(caller(auth.RolePublic), rc))
	title := rc.Operation.SelectionSet[0].(*ast.Field).SelectionSet[1].(*ast.Field)
	ctx := graphql.WithFieldContext(context.Background(), &graphql.FieldContext{Object: "Event", Field: graphql.CollectedField{Field: title}})
	resolve := func(context.Context) (any, error) { return "t", nil }
	b.Run("field/allowed", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = rc.ResolverMiddleware(ctx, resolve)
		}
	})
}

func TestForbiddenFieldAndRoleKey(t *testing.T) {
	s, p := testPolicy(t)
	a := NewAccess(AccessConfig{Policy: p})
	rc := operation(t, s, `{ open { name secret } }`, nil)
	require.Nil(t, a.MutateOperationContext(caller(auth.RolePublic), rc))
	open := rc.Operation.SelectionSet[0].(*ast.Field)
	assert.False(t, ForbiddenField(rc, open))
	assert.False(t, ForbiddenField(rc, open.SelectionSet[0].(*ast.Field)))
	assert.True(t, ForbiddenField(rc, open.SelectionSet[1].(*ast.Field)), "Open.secret: no upstream cost")
	assert.False(t, ForbiddenField(&graphql.OperationContext{}, open), "not checked")

	assert.Equal(t, "public", RoleKey(caller(auth.RolePublic)))
	assert.Equal(t, "admin", RoleKey(caller(auth.RoleAdmin)))
	assert.Equal(t, "none", RoleKey(context.Background()))
}
