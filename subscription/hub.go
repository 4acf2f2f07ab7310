// Package subscription runs each distinct GraphQL subscription once and fans its events
// out to every subscriber of it.
//
// A popular event page opens the same subscription from every visitor's browser. Executed
// per subscriber, one webhook would be resolved thousands of times, each with its own
// loaders. The Hub instead groups subscribers by what makes their results identical (the
// workspace, the caller's role, the document, the operation name and the variables),
// runs one gqlgen execution per group in a context the Hub owns, serializes each event
// once, and hands the same bytes to every member. Nested fields are still read through
// fresh loaders once per group and event (the executor's response middleware builds
// them per response).
//
// Transports never block the group: each Member has a bounded queue, and a member whose
// queue is full is dropped (told why with SUBSCRIBER_TOO_SLOW) without slowing the rest.
package subscription

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/livestorm-gateway/gateway/pubsub"
)

// Codes (extensions.code) of the errors that end a member's stream; the same codes the
// graph package uses when the bus ends a stream.
const (
	// CodeSubscriberTooSlow: the member read events more slowly than they came and fell
	// a whole buffer behind; it should resubscribe (and refetch what it shows).
	CodeSubscriberTooSlow = "SUBSCRIBER_TOO_SLOW"
	// CodeUnavailable: the hub is closed (the gateway is shutting down); reconnect.
	CodeUnavailable = "UNAVAILABLE"
)

// DefaultBuffer is how many events a member may fall behind by before it is dropped.
const DefaultBuffer = pubsub.DefaultBuffer

// Options configure a Hub. Scope, Role and Detach are how the Hub learns, from a
// subscriber's context, what its results depend on; they are functions so that the
// server (which owns the context keys) decides.
type Options struct {
	// Scope returns the verified workspace scope of a subscriber (verifying its
	// credential if nothing did yet) and the context carrying it. An error ends the
	// subscription with that error, presented like any resolver error.
	Scope func(ctx context.Context) (context.Context, string, error)
	// Role returns the caller role a subscriber's operation runs as. Nil, or "", when
	// callers have no roles.
	Role func(ctx context.Context) string
	// Detach returns a context derived from base carrying what an execution needs from
	// the subscriber's ctx (credential, tenant, caller role) and nothing of its
	// connection. A group runs in it, whoever joins or leaves.
	Detach func(base, ctx context.Context) context.Context
	// Buffer is how many events a member may fall behind by (<= 0: DefaultBuffer).
	Buffer int
	// Active counts members (gateway_subscriptions_active); may be nil.
	Active prometheus.Gauge
	// Logger may be nil.
	Logger *slog.Logger
}

// Hub groups subscribers and runs one execution per group.
type Hub struct {
	opts Options
	base context.Context
	stop context.CancelFunc
	wg   sync.WaitGroup

	mu     sync.Mutex
	groups map[groupKey]*group
	closed bool
}

// New returns a Hub.
func New(opts Options) *Hub {
	if opts.Buffer <= 0 {
		opts.Buffer = DefaultBuffer
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Detach == nil {
		opts.Detach = func(base, _ context.Context) context.Context { return base }
	}
	base, stop := context.WithCancel(context.Background())
	return &Hub{opts: opts, base: base, stop: stop, groups: map[groupKey]*group{}}
}

type groupKey [sha256.Size]byte

// Join subscribes ctx's caller to the subscription op (created by exec from params,
// already validated) and returns its Member. notify is called (from the group's
// goroutine, without blocking, holding no lock of the caller's) whenever the member has
// something new to Take; it must not call the Hub. Join never fails: a subscriber the
// Hub cannot serve gets a member whose stream holds the error and ends.
func (h *Hub) Join(ctx context.Context, exec graphql.GraphExecutor, params *graphql.RawParams, op *graphql.OperationContext, notify func()) *Member {
	m := &Member{notify: notify, limit: h.opts.Buffer, alias: rootAlias(op)}
	ctx, scope, err := h.opts.Scope(ctx)
	if err != nil {
		m.fail(present(ctx, exec, op, err))
		return m
	}
	role := ""
	if h.opts.Role != nil {
		role = h.opts.Role(ctx)
	}
	key, err := keyOf(scope, role, op)
	if err != nil {
		m.fail(present(ctx, exec, op, err))
		return m
	}

	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		m.fail(&gqlerror.Error{Message: "the gateway is shutting down; reconnect", Extensions: map[string]any{"code": CodeUnavailable}})
		return m
	}
	if g := h.groups[key]; g != nil && g.add(m) {
		h.mu.Unlock()
		return m
	}
	gctx, cancel := context.WithCancel(h.opts.Detach(h.base, ctx))
	g := &group{hub: h, key: key, cancel: cancel}
	g.add(m)
	h.groups[key] = g
	h.wg.Add(1)
	h.mu.Unlock()

	// The group's own copy of the request: no headers (nothing of one subscriber's
	// connection), the same document, variables and extensions (persisted documents).
	own := *params
	own.Headers = nil
	go g.run(gctx, exec, &own)
	return m
}

// Close ends every group (members' streams complete) and refuses new subscribers; it
// waits for the groups' goroutines to end.
func (h *Hub) Close() {
	h.mu.Lock()
	h.closed = true
	h.mu.Unlock()
	h.stop()
	h.wg.Wait()
}

// Stats are the Hub's current counts.
type Stats struct {
	// Groups is the number of executions running, Members the subscribers they serve.
	Groups, Members int
}

// Stats counts groups and members.
func (h *Hub) Stats() Stats {
	h.mu.Lock()
	groups := make([]*group, 0, len(h.groups))
	for _, g := range h.groups {
		groups = append(groups, g)
	}
	h.mu.Unlock()
	s := Stats{Groups: len(groups)}
	for _, g := range groups {
		g.mu.RLock()
		s.Members += len(g.members)
		g.mu.RUnlock()
	}
	return s
}

// keyOf is what makes two subscribers' results identical. Variables are the coerced
// ones, marshalled with sorted keys, so {"a":1,"b":2} and {"b":2,"a":1} share a group.
func keyOf(scope, role string, op *graphql.OperationContext) (groupKey, error) {
	vars, err := json.Marshal(op.Variables)
	if err != nil {
		return groupKey{}, fmt.Errorf("variables: %w", err)
	}
	s := sha256.New()
	for _, part := range []string{scope, role, op.OperationName, op.RawQuery} {
		fmt.Fprintf(s, "%d:%s;", len(part), part)
	}
	s.Write(vars)
	var k groupKey
	s.Sum(k[:0])
	return k, nil
}

// rootAlias is the response key of the subscription's root field (errors that end a
// member's stream carry it as their path).
func rootAlias(op *graphql.OperationContext) string {
	if op == nil || op.Operation == nil {
		return ""
	}
	for _, sel := range op.Operation.SelectionSet {
		if f, ok := sel.(*ast.Field); ok {
			if f.Alias != "" {
				return f.Alias
			}
			return f.Name
		}
	}
	return ""
}

// present turns err into the GraphQL error a client sees, through the executor's error
// presenter (so a rejected credential is UNAUTHENTICATED, as from a resolver).
func present(ctx context.Context, exec graphql.GraphExecutor, op *graphql.OperationContext, err error) *gqlerror.Error {
	if op != nil {
		ctx = graphql.WithOperationContext(ctx, op)
	}
	var gqlErr *gqlerror.Error
	if !errors.As(err, &gqlErr) {
		gqlErr = gqlerror.WrapIfUnwrapped(err)
	}
	resp := exec.DispatchError(ctx, gqlerror.List{gqlErr})
	if resp != nil && len(resp.Errors) > 0 {
		return resp.Errors[0]
	}
	return &gqlerror.Error{Message: "internal error", Extensions: map[string]any{"code": "INTERNAL"}}
}

// group is one execution and its members.
type group struct {
	hub    *Hub
	key    groupKey
	cancel context.CancelFunc

	mu      sync.RWMutex
	members []*Member
	closed  bool // no member may join: the execution is ending
}

// add makes m a member, unless the group is ending.
func (g *group) add(m *Member) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return false
	}
	m.group, m.idx = g, len(g.members)
	g.members = append(g.members, m)
	if a := g.hub.opts.Active; a != nil {
		a.Inc()
	}
	return true
}

// remove drops m from the group; it reports whether m was a member and whether the
// group is now empty (and so closed).
func (g *group) remove(m *Member) (was, empty bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if m.group != g || m.idx < 0 || m.idx >= len(g.members) || g.members[m.idx] != m {
		return false, false
	}
	last := len(g.members) - 1
	g.members[m.idx] = g.members[last]
	g.members[m.idx].idx = m.idx
	g.members[last] = nil
	g.members = g.members[:last]
	m.idx = -1
	if a := g.hub.opts.Active; a != nil {
		a.Dec()
	}
	if len(g.members) == 0 && !g.closed {
		g.closed = true
		return true, true
	}
	return true, false
}

// forget removes the group from the hub's index (if it is still the one indexed).
func (g *group) forget() {
	h := g.hub
	h.mu.Lock()
	if h.groups[g.key] == g {
		delete(h.groups, g.key)
	}
	h.mu.Unlock()
}

// run executes the subscription and fans its responses out until the stream ends (the
// bus ended it, the last member left, or the hub closed).
func (g *group) run(ctx context.Context, exec graphql.GraphExecutor, params *graphql.RawParams) {
	defer g.hub.wg.Done()
	defer g.cancel()
	var ending *gqlerror.Error
	defer func() {
		if r := recover(); r != nil {
			g.hub.opts.Logger.Error("subscription execution panicked", "panic", fmt.Sprint(r))
			ending = &gqlerror.Error{Message: "internal error", Extensions: map[string]any{"code": "INTERNAL"}}
		}
		g.end(ending)
	}()
	ctx = graphql.StartOperationTrace(ctx)
	op, errs := exec.CreateOperationContext(ctx, params)
	if errs != nil {
		g.broadcast(mustMarshal(exec.DispatchError(graphql.WithOperationContext(ctx, op), errs)))
		return
	}
	responses, ctx := exec.DispatchOperation(ctx, op)
	for {
		resp := responses(ctx)
		if resp == nil {
			return
		}
		// Marshal copies resp.Data, which the executor reuses for the next event.
		g.broadcast(mustMarshal(resp))
	}
}

func mustMarshal(resp *graphql.Response) []byte {
	b, err := json.Marshal(resp)
	if err != nil { // a Response is plain data; Data is valid JSON from the executor
		b, _ = json.Marshal(&graphql.Response{Errors: gqlerror.List{{Message: "internal error", Extensions: map[string]any{"code": "INTERNAL"}}}})
	}
	return b
}

// broadcast queues payload for every member; members whose queue is full are dropped.
func (g *group) broadcast(payload []byte) {
	var slow []*Member
	g.mu.RLock()
	for _, m := range g.members {
		if m.push(payload) {
			slow = append(slow, m)
		}
	}
	g.mu.RUnlock()
	for _, m := range slow {
		g.hub.opts.Logger.Info("subscriber dropped: too slow", "buffer", m.limit)
		if _, empty := g.remove(m); empty {
			g.forget()
			g.cancel()
		}
	}
}

// end closes the group and ends every member's stream (with ending, when not nil).
func (g *group) end(ending *gqlerror.Error) {
	g.forget()
	g.mu.Lock()
	g.closed = true
	members := g.members
	g.members = nil
	if a := g.hub.opts.Active; a != nil {
		a.Sub(float64(len(members)))
	}
	for _, m := range members {
		m.idx = -1
	}
	g.mu.Unlock()
	for _, m := range members {
		m.finish(ending)
	}
}

// Member is one subscriber's stream: a bounded queue of serialized responses the
// transport takes and writes, then the end.
type Member struct {
	notify func()
	limit  int
	alias  string

	group *group // nil for a member that failed to join
	idx   int    // in group.members; guarded by group.mu

	mu    sync.Mutex
	queue [][]byte
	ended bool
	end   End
	gone  bool // left: Take returns nothing more
}

// End says how a member's stream ended.
type End struct {
	// Err is why the gateway ended the stream (the member was too slow, the hub closed);
	// nil when the subscription completed or the member left.
	Err *gqlerror.Error
}

// push queues payload; it reports whether the member was dropped for being full.
func (m *Member) push(payload []byte) (dropped bool) {
	m.mu.Lock()
	if m.ended {
		m.mu.Unlock()
		return false
	}
	if len(m.queue) >= m.limit {
		m.ended = true
		drop := &pubsub.DroppedError{Dropped: 1, Buffer: m.limit}
		m.end.Err = &gqlerror.Error{Message: drop.Error(), Extensions: map[string]any{"code": CodeSubscriberTooSlow}}
		if m.alias != "" {
			m.end.Err.Path = ast.Path{ast.PathName(m.alias)}
		}
		dropped = true
	} else {
		m.queue = append(m.queue, payload)
	}
	m.mu.Unlock()
	m.notify()
	return dropped
}

// finish ends the stream after what is queued.
func (m *Member) finish(err *gqlerror.Error) {
	m.mu.Lock()
	if m.ended {
		m.mu.Unlock()
		return
	}
	m.ended = true
	m.end.Err = err
	m.mu.Unlock()
	m.notify()
}

// fail ends a member that never joined a group with err.
func (m *Member) fail(err *gqlerror.Error) {
	m.idx = -1
	m.ended, m.end.Err = true, err
}

// Take returns the responses queued since the last Take (serialized graphql.Response
// documents, shared with other members: read-only) and, once the stream has ended
// after them, how it ended. buf is reused for the next queue (pass back what the
// previous Take returned once written). Take never blocks.
func (m *Member) Take(buf [][]byte) (events [][]byte, ended bool, end End) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.gone {
		return nil, true, End{}
	}
	events = m.queue
	clear(buf)
	m.queue = buf[:0]
	return events, m.ended, m.end
}

// Leave unsubscribes: nothing more is taken, and the group stops when its last member
// leaves. It is safe to call more than once and after the stream ended.
func (m *Member) Leave() {
	m.mu.Lock()
	m.gone, m.ended, m.queue = true, true, nil
	m.mu.Unlock()
	g := m.group
	if g == nil {
		return
	}
	if _, empty := g.remove(m); empty {
		g.forget()
		g.cancel()
	}
}
