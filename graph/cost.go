package graph

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/livestorm-gateway/gateway/loaders"
)

// Cost in upstream calls.
//
// The complexity limit prices fields; what an operation really spends is Livestorm calls,
// of which a workspace has 10,000 per 30 days. Estimate computes, before anything runs,
// the most calls an operation can make on a cold cache: every distinct fetch it can
// trigger, after fragment expansion, with what the per-operation loaders dedupe counted
// once. It is driven by CostTable, one row per field that can reach Livestorm, so a new
// field is a one-line addition (TestCostTableCoversTheSchema fails until it has one).

// Fetch says what resolving a field fetches from Livestorm.
type Fetch uint8

// What a field can fetch.
const (
	// FetchNone: the value is in the parent's document or computed from it: no call.
	FetchNone Fetch = iota
	// FetchThrough: the same objects as the parent (connection plumbing: nodes, edges,
	// node): no call.
	FetchThrough
	// FetchTenant: no data call, but the operation's credential must be verified.
	FetchTenant
	// FetchLookup: one by-id lookup keyed by the argument Arg (a list argument: one
	// lookup per distinct id). The same lookup selected twice (aliases, fragments) is one
	// call; lookups with distinct ids are one call each.
	FetchLookup
	// FetchRelated: one by-id lookup of the parent's relation Rel (Session.event), once
	// per distinct related object; free when the relation is the parent itself or was
	// loaded with it (see Rel). Via names a relation loaded first to find it.
	FetchRelated
	// FetchPages: a list read from Livestorm pages of loaders.PageSize, once per parent
	// object: `first` over 50 is several pages, an `after` window straddling a page
	// boundary one more.
	FetchPages
	// FetchSlice: a window over a list the parent's document carries: no call.
	FetchSlice
	// FetchWalk: reads the unfiltered list List page by page until an item turns up
	// (Livestorm has no lookup by id for it); Pages pages are assumed, shared with that
	// list and with every other walk of the operation.
	FetchWalk
	// FetchOnce: one call per parent object (Items bounds a list answer).
	FetchOnce
	// FetchWrite: a mutation field: Calls calls it always makes (the write and the reads
	// it does regardless of the selection), never shared with another field.
	FetchWrite
)

// FieldCost is one row of CostTable: what resolving "Type.field" fetches, and what the
// objects it returns already carry (Child), so that their own fields are priced right.
type FieldCost struct {
	Fetch Fetch
	Arg   string // FetchLookup: the argument holding the id(s), or "a,b": arguments forming one key
	Rel   string // FetchRelated: the relation of the parent it follows
	Via   string // FetchRelated: a relation loaded first to find Rel (deduped like Rel)
	List  string // FetchWalk: the "Type.field" list the walk reads (its pages are shared)
	Pages int    // FetchWalk: pages assumed (the list is read until the item turns up)
	Calls int    // FetchWrite: calls always made
	Items int    // FetchOnce/FetchNone returning a list: the most items (default defaultItems)
	Child []Rel  // relations of the returned objects
}

// Rel describes a relation of the objects a field returns: what a FetchRelated field on
// them would load.
type Rel struct {
	Name string
	kind relKind
}

type relKind uint8

const (
	relUnknown relKind = iota // one lookup per object (the default)
	relSelf                   // the parent object itself: loaded
	relInherit                // the parent's relation of the same name
	relLoaded                 // primed or embedded by the fetch that returned the objects
	relAbsent                 // the objects have none: the field resolves to null
)

// Self says the returned objects' relation name is the parent object (Event.sessions:
// each session's event is the event the sessions were read from).
func Self(name string) Rel { return Rel{Name: name, kind: relSelf} }

// Inherit says the returned objects share the parent's relation name (the people of a
// session share its event).
func Inherit(name string) Rel { return Rel{Name: name, kind: relInherit} }

// Loaded says the fetch that returned the objects also loaded their relation name (an
// include, or priming).
func Loaded(name string) Rel { return Rel{Name: name, kind: relLoaded} }

// Absent says the returned objects have no relation name (people read from /people carry
// no registration, so their session and event are null).
func Absent(name string) Rel { return Rel{Name: name, kind: relAbsent} }

// IsPlumbing reports whether fields of the type are connection plumbing (edges, nodes,
// node): they return the objects their connection already fetched.
func IsPlumbing(typeName string) bool {
	return strings.HasSuffix(typeName, "Connection") || strings.HasSuffix(typeName, "Edge")
}

// ruleFor returns the row of a field, or a conservative default inferred from the schema
// for fields without one (TestCostTableCoversTheSchema makes those rare).
func ruleFor(schema *ast.Schema, f *ast.Field) FieldCost {
	parent := ""
	if f.ObjectDefinition != nil {
		parent = f.ObjectDefinition.Name
	}
	if r, ok := CostTable[parent+"."+f.Name]; ok {
		return r
	}
	if f.Definition == nil || f.Definition.Type == nil {
		return FieldCost{}
	}
	def := f.Definition
	named := def.Type.Name()
	switch {
	case isLeaf(schema, named), EmbeddedTypes[named]:
		return FieldCost{}
	case IsPlumbing(parent):
		return FieldCost{Fetch: FetchThrough}
	case strings.HasSuffix(named, "Connection") && (def.Arguments.ForName("first") != nil || def.Arguments.ForName("last") != nil):
		return FieldCost{Fetch: FetchPages}
	default:
		// An object we know nothing about: one lookup per parent object.
		return FieldCost{Fetch: FetchRelated, Rel: f.Name}
	}
}

// isLeaf reports whether the named type is a scalar or an enum.
func isLeaf(schema *ast.Schema, name string) bool {
	if schema == nil {
		return false
	}
	t := schema.Types[name]
	return t != nil && (t.Kind == ast.Scalar || t.Kind == ast.Enum)
}

// Estimate is the worst-case number of upstream calls of one operation on a cold cache,
// and whether it needs the operation's verified credential at all.
type Estimate struct {
	Calls       int
	NeedsTenant bool
}

// maxCost saturates the arithmetic: an estimate this large is refused anyway.
const maxCost = math.MaxInt32

// maxSteps bounds the estimator's own work; a document that needs more is priced
// maxCost (document limits refuse such documents earlier).
const maxSteps = 200_000

// EstimateOperation prices op of doc with the request's variables.
func EstimateOperation(schema *ast.Schema, doc *ast.QueryDocument, op *ast.OperationDefinition, vars map[string]any) (est Estimate) {
	return estimateOperation(schema, doc, op, vars, nil, false)
}

// estimateOperation prices op, skipping the fields skip says will not run (the caller's
// role may not see them: they answer FORBIDDEN and cost nothing, nor does what is below).
//
// public prices what hiding drafts from a caller who sees published events only costs on
// top (graph/published.go): the event of each session looked up, the count of drafts
// subtracted from a list's totalCount, registerPerson's read of the session and its event.
func estimateOperation(schema *ast.Schema, doc *ast.QueryDocument, op *ast.OperationDefinition, vars map[string]any, skip func(*ast.Field) bool, public bool) (est Estimate) {
	e := &estimator{schema: schema, doc: doc, vars: vars, keys: map[string]*fetchKey{}, expanded: map[string]bool{}, skip: skip, public: public}
	defer func() {
		if recover() != nil { // a malformed argument: never fail the request here
			est = Estimate{Calls: maxCost, NeedsTenant: true}
		}
	}()
	root := position{id: "Query", n: 1}
	if op.Operation == ast.Mutation {
		// Mutations run one after another and each write forgets what the operation
		// loaded: every root field is priced on its own.
		for i, sel := range op.SelectionSet {
			e.scope = "m" + strconv.Itoa(i) + ":"
			e.walk(ast.SelectionSet{sel}, position{id: e.scope + "Mutation", n: 1})
		}
	} else {
		e.walk(op.SelectionSet, root)
	}
	if e.steps > maxSteps {
		return Estimate{Calls: maxCost, NeedsTenant: true}
	}
	total := 0
	for _, k := range e.keys {
		total = satAdd(total, k.calls())
	}
	return Estimate{Calls: total, NeedsTenant: e.tenant}
}

// position is a set of objects of the walk: a symbolic identity shared by every path
// that reaches the same objects (so their fetches dedupe as the loaders do), how many
// distinct objects it holds at most, and what is known of their relations.
type position struct {
	id   string
	n    int
	rels map[string]relation
}

// relation is the set of objects a relation of a position's objects points to.
type relation struct {
	id     string
	n      int
	free   bool // already loaded: the parent, or primed with the objects
	absent bool // null: nothing to load
	rels   map[string]relation
}

func (p position) rel(name string) relation {
	if r, ok := p.rels[name]; ok {
		return r
	}
	return relation{id: p.id + "/" + name, n: p.n}
}

// fetchKey is one distinct fetch (or list of pages) and how many parent objects make it.
type fetchKey struct {
	n     int
	pages map[int]bool // nil: a single call per parent object
	fixed int          // FetchWrite: calls, whatever n
}

func (k *fetchKey) calls() int {
	if k.fixed > 0 {
		return k.fixed
	}
	if k.pages == nil {
		return k.n
	}
	return satMul(k.n, len(k.pages))
}

type estimator struct {
	schema   *ast.Schema
	doc      *ast.QueryDocument
	vars     map[string]any
	keys     map[string]*fetchKey
	expanded map[string]bool // fragment@position already walked: walking it again adds nothing
	scope    string
	tenant   bool
	steps    int
	skip     func(*ast.Field) bool // fields that will not run (forbidden to the caller)
	public   bool                  // the caller sees published events only (publicExtra)
}

func (e *estimator) add(key string, n int, pages []int) {
	k := e.keys[key]
	if k == nil {
		k = &fetchKey{}
		if pages != nil {
			k.pages = map[int]bool{}
		}
		e.keys[key] = k
	}
	k.n = max(k.n, n)
	for _, p := range pages {
		k.pages[p] = true
	}
}

func (e *estimator) walk(set ast.SelectionSet, pos position) {
	for _, sel := range set {
		e.steps++
		if e.steps > maxSteps || pos.n == 0 {
			return
		}
		switch s := sel.(type) {
		case *ast.Field:
			e.field(s, pos)
		case *ast.InlineFragment:
			e.walk(s.SelectionSet, pos)
		case *ast.FragmentSpread:
			// The same fragment at the same position yields the same fetches: walk it
			// once, so fragment doubling costs the estimator linear time.
			memo := s.Name + "@" + pos.id + "#" + strconv.Itoa(pos.n)
			if e.expanded[memo] {
				continue
			}
			e.expanded[memo] = true
			if def := e.doc.Fragments.ForName(s.Name); def != nil {
				e.walk(def.SelectionSet, pos)
			}
		}
	}
}

func (e *estimator) field(f *ast.Field, pos position) {
	if strings.HasPrefix(f.Name, "__") {
		return // introspection and __typename are answered by the gateway
	}
	if e.skip != nil && e.skip(f) {
		return // forbidden to the caller: answered FORBIDDEN, no call
	}
	rule := ruleFor(e.schema, f)
	args := f.ArgumentMap(e.vars)
	list := f.Definition != nil && f.Definition.Type != nil && f.Definition.Type.Elem != nil
	self := pos.id + "/" + f.Name + canonicalArgs(args)
	var child position
	switch rule.Fetch {
	case FetchNone:
		n := pos.n
		if list {
			n = satMul(n, orDefaultInt(rule.Items, defaultItems))
		}
		child = position{id: self, n: n}
	case FetchThrough:
		e.walk(f.SelectionSet, pos)
		return
	case FetchTenant:
		e.tenant = true
		child = position{id: self, n: pos.n}
	case FetchLookup:
		e.tenant = true
		ids := lookupIDs(args, rule.Arg)
		typ := ""
		if f.Definition != nil {
			typ = f.Definition.Type.Name()
		}
		for _, id := range ids {
			e.add(e.scope+"lookup:"+typ+":"+id, 1, nil)
		}
		child = position{id: e.scope + "lookup:" + typ + ":" + strings.Join(ids, ","), n: len(ids)}
	case FetchRelated:
		if rule.Via != "" {
			e.related(pos.rel(rule.Via))
		}
		r := pos.rel(rule.Rel)
		if r.absent {
			return
		}
		e.related(r)
		child = position{id: r.id, n: r.n, rels: r.rels}
	case FetchPages:
		items, at, pages, ok := listWindow(args)
		if !ok {
			return // refused before any call
		}
		e.tenant = true
		e.add(self, pos.n, pages)
		child = position{id: self + "@" + at, n: satMul(pos.n, items)}
	case FetchSlice:
		items, at, _, ok := listWindow(args)
		if !ok {
			return
		}
		child = position{id: self + "@" + at, n: satMul(pos.n, items)}
	case FetchWalk:
		e.tenant = true
		pages := make([]int, max(rule.Pages, 1))
		for i := range pages {
			pages[i] = i
		}
		listType, listField, _ := strings.Cut(rule.List, ".")
		e.add(e.scope+listType+"/"+listField+"()", 1, pages)
		child = position{id: self, n: pos.n}
	case FetchOnce:
		e.tenant = true
		e.add(self, pos.n, nil)
		n := pos.n
		if list {
			n = satMul(n, orDefaultInt(rule.Items, defaultItems))
		}
		child = position{id: self, n: n}
	case FetchWrite:
		e.tenant = true
		e.keys[e.scope+"write"] = &fetchKey{fixed: max(rule.Calls, 1)}
		child = position{id: self, n: 1}
	}
	if e.public {
		e.publicExtra(f, self, child)
	}
	if len(f.SelectionSet) == 0 {
		return
	}
	child.rels = childRels(rule.Child, pos, child)
	e.walk(f.SelectionSet, child)
}

// publicExtra prices the reads that hide drafts from a public caller (graph/published.go).
func (e *estimator) publicExtra(f *ast.Field, self string, child position) {
	if f.ObjectDefinition == nil {
		return
	}
	switch f.ObjectDefinition.Name + "." + f.Name {
	case "Query.session", "Query.node", "Query.nodes":
		e.add(e.scope+"published:"+self, child.n, nil) // each session's event (a node may be one)
	case "Query.sessions":
		e.add(e.scope+"published:"+self, child.n, nil) // at most one event per listed session
		if e.selects(f.SelectionSet, "totalCount", map[string]bool{}) {
			e.add(e.scope+"drafts:"+self, 1, nil)
		}
	case "Query.events":
		if e.selects(f.SelectionSet, "totalCount", map[string]bool{}) {
			e.add(e.scope+"drafts:"+self, 1, nil)
		}
	case "Mutation.registerPerson":
		e.add(e.scope+"published:"+self, 2, nil) // the session, then its event
	}
}

// selects reports whether set selects a field named name, through fragments too.
func (e *estimator) selects(set ast.SelectionSet, name string, seen map[string]bool) bool {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if s.Name == name {
				return true
			}
		case *ast.InlineFragment:
			if e.selects(s.SelectionSet, name, seen) {
				return true
			}
		case *ast.FragmentSpread:
			if seen[s.Name] {
				continue
			}
			seen[s.Name] = true
			if def := e.doc.Fragments.ForName(s.Name); def != nil && e.selects(def.SelectionSet, name, seen) {
				return true
			}
		}
	}
	return false
}

// related prices loading the objects of relation r (nothing when they are loaded).
func (e *estimator) related(r relation) {
	if r.absent || r.free {
		return
	}
	e.tenant = true
	e.add("related:"+r.id, r.n, nil)
}

// childRels computes what is known of the relations of a field's objects.
func childRels(spec []Rel, parent, child position) map[string]relation {
	rels := make(map[string]relation, len(spec)+len(child.rels))
	for k, v := range child.rels {
		rels[k] = v
	}
	for _, r := range spec {
		switch r.kind {
		case relSelf:
			rels[r.Name] = relation{id: parent.id, n: parent.n, free: true, rels: parent.rels}
		case relInherit:
			if pr, ok := parent.rels[r.Name]; ok {
				rels[r.Name] = pr
			} else {
				rels[r.Name] = parent.rel(r.Name)
			}
		case relLoaded:
			rels[r.Name] = relation{id: child.id + "/" + r.Name, n: child.n, free: true}
		case relAbsent:
			rels[r.Name] = relation{absent: true}
		}
	}
	return rels
}

// listWindow prices the window a connection's arguments ask for: how many items, a key
// for where they start, and the Livestorm pages read. ok is false for arguments the
// resolver refuses before any call.
//
// `last` (with or without `before`) is priced without knowing how the list is read
// backwards: the pages its items can straddle plus page 0 (for the count), and when
// `before` is not a cursor this API issued, pages at unknown positions.
func listWindow(args map[string]any) (items int, at string, pages []int, ok bool) {
	w, err := newWindow(intArg(args["first"]), strArg(args["after"]), intArg(args["last"]), strArg(args["before"]))
	if err != nil {
		return 0, "", nil, false
	}
	switch {
	case !w.fromEnd: // first/after: the pages from the cursor on
		return w.n, strconv.Itoa(w.start), windowPages(w.start, w.n), true
	case w.hasBefore: // last/before: the pages below the cursor
		from := max(w.start, w.end-w.n, 0)
		n := max(w.end-from, 0)
		return n, strconv.Itoa(from), windowPages(from, n), true
	}
	// last alone: page 0 (for the count), then the tail at an unknown position: each
	// page is counted as a distinct one (negative numbers never merge with a forward
	// window's pages).
	pages = []int{0}
	for i := 1; i <= (w.n+loaders.PageSize-1)/loaders.PageSize+1; i++ {
		pages = append(pages, -i)
	}
	return w.n, "last", pages, true
}

// windowPages lists the Livestorm pages pagedConnection loads for n items from offset:
// those the window covers and, past the first page, page 0 (read when the list shrank
// under the cursor).
func windowPages(offset, n int) []int {
	first := offset / loaders.PageSize
	last := first
	if n > 0 {
		last = (offset + n - 1) / loaders.PageSize
	}
	pages := make([]int, 0, last-first+2)
	for p := first; p <= last; p++ {
		pages = append(pages, p)
	}
	if first > 0 {
		pages = append(pages, 0)
	}
	return pages
}

// lookupIDs returns the ids a lookup's arguments name: the values of arg (one lookup per
// distinct id of a list), or, when arg names several arguments ("sessionId,personId"),
// the one composite key they form together.
func lookupIDs(args map[string]any, arg string) []string {
	names := strings.Split(arg, ",")
	if len(names) == 1 {
		return idValues(args[arg])
	}
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = strings.Join(idValues(args[n]), "|")
	}
	return []string{strings.Join(parts, "/")}
}

// canonicalArgs renders a field's arguments, except the window ones, so that the same
// list asked twice has one key whatever the order or spelling of its filter.
func canonicalArgs(args map[string]any) string {
	keys := make([]string, 0, len(args))
	for k := range args {
		switch k {
		case "first", "after", "last", "before":
			continue
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return "()"
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteByte('(')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k)
		b.WriteByte('=')
		writeCanonical(&b, args[k])
	}
	b.WriteByte(')')
	return b.String()
}

func writeCanonical(b *strings.Builder, v any) {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(k)
			b.WriteByte(':')
			writeCanonical(b, x[k])
		}
		b.WriteByte('}')
	case []any:
		b.WriteByte('[')
		for i, it := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			writeCanonical(b, it)
		}
		b.WriteByte(']')
	default:
		fmt.Fprintf(b, "%q", fmt.Sprint(x))
	}
}

// idValues returns the distinct ids of an id or list-of-ids argument, sorted.
func idValues(v any) []string {
	var ids []string
	switch x := v.(type) {
	case nil:
	case []any:
		for _, it := range x {
			if it != nil {
				ids = append(ids, fmt.Sprint(it))
			}
		}
	default:
		ids = append(ids, fmt.Sprint(x))
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

func intArg(v any) *int {
	var n int
	switch x := v.(type) {
	case int:
		n = x
	case int32:
		n = int(x)
	case int64:
		n = int(x)
	case float64:
		n = int(x)
	case interface{ Int64() (int64, error) }: // json.Number
		i, err := x.Int64()
		if err != nil {
			return nil
		}
		n = int(i)
	default:
		return nil
	}
	return &n
}

func strArg(v any) *string {
	s, ok := v.(string)
	if !ok {
		return nil
	}
	return &s
}

func orDefaultInt(v, d int) int {
	if v > 0 {
		return v
	}
	return d
}

func satAdd(a, b int) int {
	if a > maxCost-b {
		return maxCost
	}
	return a + b
}

func satMul(a, b int) int {
	if a == 0 || b == 0 {
		return 0
	}
	if a > maxCost/b {
		return maxCost
	}
	return a * b
}

// CodeCostLimitExceeded refuses an operation whose worst-case upstream calls exceed the
// caller's limit, before any call.
const CodeCostLimitExceeded = "COST_LIMIT_EXCEEDED"

func init() {
	// A refused document is a request error (422 with application/json, 400 with
	// application/graphql-response+json), like a validation failure.
	errcode.RegisterErrorType(CodeCostLimitExceeded, errcode.KindProtocol)
}

// Cost is an operation's price, kept on its operation context (OperationCost).
type Cost struct {
	// Estimated is the worst-case upstream calls, credential verification included.
	Estimated int
	// Limit is the caller's per-operation limit; negative when unlimited.
	Limit int
}

// CostOptions configure CostLimit.
type CostOptions struct {
	// Limit returns the caller's per-operation limit; ok false means unlimited.
	Limit func(ctx context.Context) (limit int, ok bool)
	// Extra returns the calls an operation needing its credential makes before any field
	// (verifying a credential Livestorm has not seen lately). Optional.
	Extra func(ctx context.Context) int
	// Rejected is told of each refusal (metrics). Optional.
	Rejected func(ctx context.Context, c Cost)
}

// CostLimit returns the extension that prices each operation in upstream calls before it
// runs (after validation, with its variables) and refuses those above the caller's
// limit with COST_LIMIT_EXCEEDED and extensions.cost {estimated, limit}.
func CostLimit(o CostOptions) graphql.HandlerExtension { return &costLimit{o: o} }

type costLimit struct {
	o      CostOptions
	schema *ast.Schema
}

var _ graphql.OperationContextMutator = &costLimit{}

const costExtension = "UpstreamCost"

func (*costLimit) ExtensionName() string { return costExtension }

func (c *costLimit) Validate(s graphql.ExecutableSchema) error {
	c.schema = s.Schema()
	return nil
}

func (c *costLimit) MutateOperationContext(ctx context.Context, rc *graphql.OperationContext) *gqlerror.Error {
	if rc.Operation == nil {
		return nil
	}
	est := estimateOperation(c.schema, rc.Doc, rc.Operation, rc.Variables, func(f *ast.Field) bool { return ForbiddenField(rc, f) },
		publishedOnly(ctx))
	cost := &Cost{Estimated: est.Calls, Limit: -1}
	if est.NeedsTenant && c.o.Extra != nil {
		cost.Estimated = satAdd(cost.Estimated, c.o.Extra(ctx))
	}
	if c.o.Limit != nil {
		if limit, ok := c.o.Limit(ctx); ok {
			cost.Limit = limit
		}
	}
	rc.Stats.SetExtension(costExtension, cost)
	if cost.Limit >= 0 && cost.Estimated > cost.Limit {
		if c.o.Rejected != nil {
			c.o.Rejected(ctx, *cost)
		}
		err := gqlerror.Errorf("this operation may make up to %d calls to Livestorm; the limit is %d per operation: "+
			"ask for smaller pages (first), fewer lists per item, or split it", cost.Estimated, cost.Limit)
		err.Extensions = map[string]any{
			"code": CodeCostLimitExceeded,
			"cost": map[string]any{"estimated": cost.Estimated, "limit": cost.Limit},
		}
		return err
	}
	return nil
}

// OperationCost returns the price CostLimit put on ctx's operation, or nil.
func OperationCost(ctx context.Context) *Cost {
	if !graphql.HasOperationContext(ctx) {
		return nil
	}
	c, _ := graphql.GetOperationContext(ctx).Stats.GetExtension(costExtension).(*Cost)
	return c
}
