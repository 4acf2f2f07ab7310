package graph

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/livestorm-gateway/gateway/auth"
	"github.com/livestorm-gateway/gateway/graph/generated"
)

// DefaultRole is what a type or field without an @access declaration needs: viewer, so a
// field added later is never public by accident.
const DefaultRole = auth.RoleViewer

// accessDirective is the schema directive declaring who may see a type or field
// (schema/schema.graphqls). gqlgen skips it at runtime (gqlgen.yml: skip_runtime); it is
// read once from the parsed schema into a Policy.
const accessDirective = "access"

// Policy is who may see what, as the schema's @access directives declare it: the role each
// object and interface type needs (to be reached through node/nodes, and by default for
// its fields) and the role each field needs. It is built once from the schema and never
// changes.
type Policy struct {
	types map[string]*typeAccess
	// rootMax is, per operation type, the highest role any field reachable from its root
	// type needs: a caller holding it sees everything such an operation can ask, so its
	// operations are not even walked.
	rootMax map[ast.Operation]auth.Role
}

type typeAccess struct {
	name   string
	kind   ast.DefinitionKind
	role   auth.Role
	fields map[string]auth.Role
	// implMax (interfaces) is, per field, the highest role that field needs in any type
	// implementing the interface: a caller holding it may select the field on the
	// interface without a check of the concrete type.
	implMax map[string]auth.Role
}

// NewPolicy reads the @access declarations of a schema. A declaration naming no known
// role is an error.
func NewPolicy(s *ast.Schema) (*Policy, error) {
	p := &Policy{types: map[string]*typeAccess{}, rootMax: map[ast.Operation]auth.Role{}}
	for name, def := range s.Types {
		if strings.HasPrefix(name, "__") {
			continue // introspection types: decided by the introspection policy
		}
		switch def.Kind {
		case ast.Object, ast.Interface, ast.Union:
		default:
			continue
		}
		role, err := declaredRole(def.Directives, DefaultRole)
		if err != nil {
			return nil, fmt.Errorf("type %s: %w", name, err)
		}
		t := &typeAccess{name: name, kind: def.Kind, role: role, fields: map[string]auth.Role{}}
		for _, f := range def.Fields {
			if strings.HasPrefix(f.Name, "__") {
				continue
			}
			if t.fields[f.Name], err = declaredRole(f.Directives, role); err != nil {
				return nil, fmt.Errorf("field %s.%s: %w", name, f.Name, err)
			}
		}
		p.types[name] = t
	}
	for _, t := range p.types {
		if t.kind == ast.Object {
			continue
		}
		t.implMax = map[string]auth.Role{}
		for _, impl := range s.PossibleTypes[t.name] {
			for f := range t.fields {
				t.implMax[f] = max(t.implMax[f], t.fields[f], p.FieldRole(impl.Name, f))
			}
		}
	}
	roots := map[ast.Operation]*ast.Definition{ast.Query: s.Query, ast.Mutation: s.Mutation, ast.Subscription: s.Subscription}
	for op, root := range roots {
		if root != nil {
			p.rootMax[op] = p.reachableMax(s, root)
		}
	}
	return p, nil
}

// declaredRole is the role an @access directive in dirs declares, or def without one.
func declaredRole(dirs ast.DirectiveList, def auth.Role) (auth.Role, error) {
	d := dirs.ForName(accessDirective)
	if d == nil {
		return def, nil
	}
	arg := d.Arguments.ForName("role")
	if arg == nil || arg.Value == nil {
		return 0, fmt.Errorf("@%s needs a role", accessDirective)
	}
	r, ok := auth.ParseRole(arg.Value.Raw)
	if !ok || r == auth.RoleNone {
		return 0, fmt.Errorf("@%s(role: %s) names no role", accessDirective, arg.Value.Raw)
	}
	return r, nil
}

// reachableMax is the highest role needed by any field of the types reachable from root.
func (p *Policy) reachableMax(s *ast.Schema, root *ast.Definition) auth.Role {
	highest := auth.RolePublic
	seen := map[string]bool{}
	queue := []string{root.Name}
	for len(queue) > 0 {
		name := queue[0]
		queue = queue[1:]
		if seen[name] || p.types[name] == nil {
			continue
		}
		seen[name] = true
		t := p.types[name]
		highest = max(highest, t.role)
		for _, r := range t.fields {
			highest = max(highest, r)
		}
		for _, f := range s.Types[name].Fields {
			queue = append(queue, f.Type.Name())
		}
		for _, impl := range s.PossibleTypes[name] {
			queue = append(queue, impl.Name)
		}
	}
	return highest
}

// TypeRole is the role needed to reach an object of the named type through node/nodes
// (and, by default, to see its fields).
func (p *Policy) TypeRole(typeName string) auth.Role {
	if t := p.types[typeName]; t != nil {
		return t.role
	}
	return DefaultRole
}

// FieldRole is the role needed to see a field of the named type: its own declaration, or
// its type's. Introspection fields are decided elsewhere (see Access) and answer public.
func (p *Policy) FieldRole(typeName, field string) auth.Role {
	if strings.HasPrefix(field, "__") || strings.HasPrefix(typeName, "__") {
		return auth.RolePublic
	}
	t := p.types[typeName]
	if t == nil {
		return DefaultRole
	}
	if r, ok := t.fields[field]; ok {
		return r
	}
	return t.role
}

// Fields lists the fields of the named type (introspection fields excluded), sorted.
func (p *Policy) Fields(typeName string) []string {
	t := p.types[typeName]
	if t == nil {
		return nil
	}
	names := make([]string, 0, len(t.fields))
	for f := range t.fields {
		names = append(names, f)
	}
	slices.Sort(names)
	return names
}

// Types lists every object, interface and union type the policy covers, sorted.
func (p *Policy) Types() []string {
	names := make([]string, 0, len(p.types))
	for n := range p.types {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// SeesAll reports whether role sees everything an operation of type op can select, so
// its operations need no check.
func (p *Policy) SeesAll(role auth.Role, op ast.Operation) bool {
	top, ok := p.rootMax[op]
	return ok && role.Allows(top)
}

// DefaultPolicy is the policy of the gateway's schema (graph/generated), read once. The
// schema is compiled in, so a bad declaration fails every test at once.
var DefaultPolicy = sync.OnceValue(func() *Policy {
	p, err := NewPolicy(generated.NewExecutableSchema(generated.Config{}).Schema())
	if err != nil {
		panic("schema @access declarations: " + err.Error())
	}
	return p
})
