package graph

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/livestorm-gateway/gateway/auth"
)

// AccessError is a field (or, through node/nodes, an object type) the caller's role may
// not see. It is shown as FORBIDDEN with extensions.field and extensions.requiredRole.
type AccessError struct {
	What string    // "User.email", "Person" (node of a type), "Query.__schema"
	Need auth.Role // the role it needs
	Have auth.Role // the caller's
	// Reason replaces the default message (introspection turned off).
	Reason string
	// Code is extensions.code: FORBIDDEN, or UNAUTHENTICATED where any credential would
	// do (forwarded mode, a caller without one).
	Code string
}

func (e *AccessError) Error() string {
	if e.Reason != "" {
		return e.Reason
	}
	have := "a " + e.Have.String() + " caller"
	if e.Have == auth.RoleNone {
		have = "a caller without a role"
	}
	return fmt.Sprintf("%s needs the %s role; this is %s", e.What, e.Need, have)
}

func (e *AccessError) code() string {
	if e.Code == "" {
		return CodeForbidden
	}
	return e.Code
}

func (e *AccessError) extensions() map[string]any {
	return map[string]any{"field": e.What, "requiredRole": e.Need.String()}
}

// RoleKey is the caller's role as a string ("public", "viewer", …; "none" without a
// caller): what decides which fields of an operation its caller sees, so subscribers of
// one document and one RoleKey receive the same payloads.
func RoleKey(ctx context.Context) string {
	c, _ := auth.CallerFrom(ctx)
	return c.Role.String()
}

// AccessConfig configures the Access extension.
type AccessConfig struct {
	// PublicIntrospection lets public callers introspect the schema
	// (GRAPHQL_INTROSPECTION; frontends generate their types from it). Viewer and above
	// always may; callers without a role never.
	PublicIntrospection bool
	// Logger gets one line per operation with a refused field: caller id, role, auth
	// method, operation name and the first refused field (never a credential).
	Logger *slog.Logger
	// Denied counts those operations, by role (gateway_access_denied_total{role}).
	Denied func(role string)
	// Policy is who may see what (nil: DefaultPolicy).
	Policy *Policy
	// Forwarded is forwarded mode (LIVESTORM_FORWARD_AUTH), where any Livestorm
	// credential makes its caller admin within its own scopes: a caller without one is
	// refused UNAUTHENTICATED rather than FORBIDDEN, since a credential is what it lacks.
	Forwarded bool
}

// Access is the gqlgen extension that enforces the schema's @access declarations before
// any resolver runs. After validation it walks the operation once (fragments included,
// each fragment once) and finds the fields the caller's role may not see:
//
//   - a query's forbidden field answers null with a FORBIDDEN error, at no upstream
//     cost, and everything else is answered as usual (one error per response path the
//     field would have filled, as GraphQL wants an error beside every null it causes);
//   - a mutation with a forbidden field anywhere in it is refused whole, before any
//     upstream call;
//   - a subscription whose root field is forbidden is refused at subscribe; a forbidden
//     field inside its payload answers null with FORBIDDEN in every event delivered.
//
// Fields selected on an interface are checked against the concrete type at runtime,
// when some implementation would refuse them. Operations of callers whose role sees
// everything the operation type can reach are not walked at all, and operations with
// nothing forbidden run without any check; the others pay one map lookup per field.
type Access struct {
	cfg    AccessConfig
	policy *Policy
}

// NewAccess returns the extension for cfg.
func NewAccess(cfg AccessConfig) *Access {
	if cfg.Policy == nil {
		cfg.Policy = DefaultPolicy()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Access{cfg: cfg, policy: cfg.Policy}
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = (*Access)(nil)

// ExtensionName implements graphql.HandlerExtension.
func (*Access) ExtensionName() string { return "Access" }

// Validate implements graphql.HandlerExtension.
func (*Access) Validate(graphql.ExecutableSchema) error { return nil }

// introspection reports whether role may introspect.
func (a *Access) introspection(role auth.Role) bool {
	return role.Allows(auth.RoleViewer) || role == auth.RolePublic && a.cfg.PublicIntrospection
}

// MutateOperationContext implements graphql.OperationContextMutator. It must run after
// extension.Introspection (which turns introspection on for everyone).
func (a *Access) MutateOperationContext(ctx context.Context, rc *graphql.OperationContext) *gqlerror.Error {
	caller, _ := auth.CallerFrom(ctx)
	introspection := a.introspection(caller.Role)
	if !introspection {
		rc.DisableIntrospection = true
	}
	if rc.Operation == nil || a.policy.SeesAll(caller.Role, rc.Operation.Operation) {
		return nil
	}
	p := a.plan(rc, caller, introspection)
	rc.Stats.SetExtension(planKey, p)
	if p.empty() {
		return nil
	}
	switch {
	case rc.Operation.Operation == ast.Mutation && p.first != nil:
		return a.refuse(ctx, p, p.first, "the mutation selects a field this caller may not see; nothing was done")
	case rc.Operation.Operation == ast.Subscription && p.rootDenied != nil:
		return a.refuse(ctx, p, p.rootDenied, "")
	}
	if p.first != nil {
		p.report(ctx, "fields refused", p.first)
	}
	next := rc.ResolverMiddleware
	rc.ResolverMiddleware = p.middleware(next)
	return nil
}

// adjust words e for the caller: in forwarded mode a caller without a credential lacks
// the credential, not a role.
func (a *Access) adjust(e *AccessError, caller auth.Caller) {
	if a.cfg.Forwarded && caller.Method != auth.MethodForwarded && e.Reason == "" {
		e.Code = CodeUnauthenticated
		e.Reason = e.What + " needs a Livestorm credential: send it as Authorization (in connection_init for WebSockets)"
	}
}

// refuse reports an operation refused whole and returns its error.
func (a *Access) refuse(ctx context.Context, p *plan, e *AccessError, note string) *gqlerror.Error {
	p.report(ctx, "request refused", e)
	msg := e.Error()
	if note != "" {
		msg += ": " + note
	}
	ext := e.extensions()
	ext["code"] = e.code()
	return &gqlerror.Error{Message: msg, Extensions: ext}
}

const planKey = "access"

// plan is what one operation's caller may not see: the forbidden fields, keyed by their
// node in the (possibly cached and shared) document, and the fields selected on an
// interface whose concrete type decides.
type plan struct {
	access    *Access
	caller    auth.Caller
	operation string
	forbidden map[*ast.Field]*AccessError
	dynamic   map[*ast.Field]struct{}
	// first is the first forbidden field the operation would execute (not under
	// @skip/@include that exclude it), for logs and whole refusals; rootDenied the first
	// forbidden root field.
	first, rootDenied *AccessError
	reported          atomic.Bool
}

func (p *plan) empty() bool { return len(p.forbidden) == 0 && len(p.dynamic) == 0 }

// ForbiddenField reports whether the Access extension found f (a field of rc's document)
// forbidden to the caller of the operation rc: it will answer null without running, so
// neither it nor its selections cost anything upstream. For extensions that run after
// Access, such as a cost estimate. False when Access did not check rc or f is allowed;
// fields selected on an interface are decided at run time and count as allowed here.
func ForbiddenField(rc *graphql.OperationContext, f *ast.Field) bool {
	p, _ := rc.Stats.GetExtension(planKey).(*plan)
	if p == nil {
		return false
	}
	_, ok := p.forbidden[f]
	return ok
}

// report logs and counts the operation's refusal, once.
func (p *plan) report(ctx context.Context, msg string, e *AccessError) {
	if !p.reported.CompareAndSwap(false, true) {
		return
	}
	a := p.access
	if a.cfg.Denied != nil {
		a.cfg.Denied(p.caller.Role.String())
	}
	a.cfg.Logger.InfoContext(ctx, msg, "caller", p.caller.ID, "role", p.caller.Role.String(), "auth", p.caller.Method,
		"operation", p.operation, "code", e.code(), "field", e.What, "reason", e.Error())
}

// middleware checks each field before it runs: one map lookup (two for fields selected
// on an interface).
func (p *plan) middleware(next graphql.FieldMiddleware) graphql.FieldMiddleware {
	return func(ctx context.Context, resolve graphql.Resolver) (any, error) {
		fc := graphql.GetFieldContext(ctx)
		if fc == nil || fc.Field.Field == nil {
			return next(ctx, resolve)
		}
		if e, ok := p.forbidden[fc.Field.Field]; ok {
			return nil, e
		}
		if _, ok := p.dynamic[fc.Field.Field]; ok {
			if need := p.access.policy.FieldRole(fc.Object, fc.Field.Name); !p.caller.Role.Allows(need) {
				e := &AccessError{What: fc.Object + "." + fc.Field.Name, Need: need, Have: p.caller.Role}
				p.access.adjust(e, p.caller)
				p.report(ctx, "fields refused", e)
				return nil, e
			}
		}
		return next(ctx, resolve)
	}
}

// plan walks the operation's selections.
func (a *Access) plan(rc *graphql.OperationContext, caller auth.Caller, introspection bool) *plan {
	p := &plan{access: a, caller: caller, operation: rc.OperationName}
	if p.operation == "" {
		p.operation = rc.Operation.Name
	}
	w := walker{p: p, policy: a.policy, doc: rc.Doc, vars: rc.Variables, introspection: introspection, seen: map[string]bool{},
		static: rc.Operation.Operation == ast.Mutation}
	w.walk(rc.Operation.SelectionSet, true, true)
	return p
}

type walker struct {
	p             *plan
	policy        *Policy
	doc           *ast.QueryDocument
	vars          map[string]any
	introspection bool
	// static decides fields selected on an interface without waiting for the concrete
	// type (mutations are refused whole, before anything runs): refused when any
	// implementation would refuse them.
	static bool
	// seen holds the fragments already walked: what a field needs depends only on its
	// parent type and name, so each fragment is walked once however often it is spread
	// (a fragment-doubling document costs its size, not 2ⁿ).
	seen map[string]bool
}

// walk records the forbidden fields of set. live is false under @skip/@include that
// exclude the selection: such fields are recorded too (they would be refused if they
// ran; gqlgen decides), but do not make the operation refused or logged.
func (w *walker) walk(set ast.SelectionSet, live, root bool) {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if w.field(s, live && included(s.Directives, w.vars), root) {
				w.walk(s.SelectionSet, live && included(s.Directives, w.vars), false)
			}
		case *ast.InlineFragment:
			w.walk(s.SelectionSet, live && included(s.Directives, w.vars), root)
		case *ast.FragmentSpread:
			if w.seen[s.Name] {
				continue
			}
			w.seen[s.Name] = true
			if def := w.doc.Fragments.ForName(s.Name); def != nil {
				w.walk(def.SelectionSet, live && included(s.Directives, w.vars), root)
			}
		}
	}
}

// field records f if the caller may not see it, and reports whether its selections need
// walking (not when it is refused: they never run).
func (w *walker) field(f *ast.Field, live, root bool) bool {
	role := w.p.caller.Role
	parent := f.ObjectDefinition
	switch {
	case f.Name == "__typename":
		return false
	case parent == nil:
		return true // not validated against the schema: nothing to decide here
	case f.Name == "__schema" || f.Name == "__type":
		if !w.introspection {
			reason := "introspection is turned off for " + role.String() + " callers (GRAPHQL_INTROSPECTION=false)"
			w.deny(f, &AccessError{What: parent.Name + "." + f.Name, Need: auth.RoleViewer, Have: role, Reason: reason}, live, root)
		}
		return false // the introspection types hold no data
	}
	need := w.policy.FieldRole(parent.Name, f.Name)
	if !role.Allows(need) {
		w.deny(f, &AccessError{What: parent.Name + "." + f.Name, Need: need, Have: role}, live, root)
		return false
	}
	if parent.Kind == ast.Interface || parent.Kind == ast.Union {
		if t := w.policy.types[parent.Name]; t != nil && !role.Allows(t.implMax[f.Name]) {
			if w.static {
				w.deny(f, &AccessError{What: parent.Name + "." + f.Name, Need: t.implMax[f.Name], Have: role}, live, root)
				return false
			}
			if w.p.dynamic == nil {
				w.p.dynamic = map[*ast.Field]struct{}{}
			}
			w.p.dynamic[f] = struct{}{}
		}
	}
	return true
}

func (w *walker) deny(f *ast.Field, e *AccessError, live, root bool) {
	w.p.access.adjust(e, w.p.caller)
	if w.p.forbidden == nil {
		w.p.forbidden = map[*ast.Field]*AccessError{}
	}
	w.p.forbidden[f] = e
	if !live {
		return
	}
	if w.p.first == nil {
		w.p.first = e
	}
	if root && w.p.rootDenied == nil {
		w.p.rootDenied = e
	}
}

// included evaluates @skip and @include. When their condition cannot be read the
// selection counts as included (the stricter reading for refusals).
func included(dirs ast.DirectiveList, vars map[string]any) bool {
	for _, d := range dirs {
		if d.Name != "skip" && d.Name != "include" {
			continue
		}
		arg := d.Arguments.ForName("if")
		if arg == nil || arg.Value == nil {
			continue
		}
		v, err := arg.Value.Value(vars)
		b, ok := v.(bool)
		if err != nil || !ok {
			continue
		}
		if skip := d.Name == "skip"; skip && b || !skip && !b {
			return false
		}
	}
	return true
}

// checkType refuses a node/nodes lookup of an object type the caller's role may not
// reach: decided from the global id, before any upstream call.
func checkType(ctx context.Context, typeName string) error {
	caller, _ := auth.CallerFrom(ctx)
	need := DefaultPolicy().TypeRole(typeName)
	if caller.Role.Allows(need) {
		return nil
	}
	e := &AccessError{What: typeName, Need: need, Have: caller.Role}
	if graphql.HasOperationContext(ctx) {
		if p, ok := graphql.GetOperationContext(ctx).Stats.GetExtension(planKey).(*plan); ok {
			p.access.adjust(e, caller)
			p.report(ctx, "fields refused", e)
		}
	}
	return e
}
