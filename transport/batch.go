package transport

import (
	"context"
	"net/http"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// Scope holds what the queries of one batch share: the server keeps its per-operation
// dataloaders here (see Shared), so a batch dedupes across its operations as one query
// dedupes across its fields: two queries of a batch reading the same event cost one
// upstream call, and what a list primed in one (events → eventByID) serves the next.
//
// The operations of a batch run one after the other, in order. Concurrent execution would
// save latency when the operations read unrelated data, but it would lose most of that
// sharing (the second operation's fetches would start before the first one's list call
// returned and primed the loaders), and upstream calls are the scarcer resource.
// Mutations cut the batch into segments: the queries of a segment share one Scope; a
// mutation runs with none (fresh loaders: it reads what it just wrote), and the queries
// after it get a new Scope, so they never see what loaders held before the mutation.
type Scope struct {
	mu     sync.Mutex
	values map[any]any
}

type scopeKey struct{}

func withScope(ctx context.Context, s *Scope) context.Context {
	return context.WithValue(ctx, scopeKey{}, s)
}

// Shared returns the value of the current batch segment under key, creating it with
// create on first use; outside a batch (a single operation, a subscription event) it
// returns create(). Concurrent callers of one segment get the same value.
func Shared[T any](ctx context.Context, key any, create func() T) T {
	s, _ := ctx.Value(scopeKey{}).(*Scope)
	if s == nil {
		return create()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if v, ok := s.values[key].(T); ok {
		return v
	}
	v := create()
	if s.values == nil {
		s.values = map[any]any{}
	}
	s.values[key] = v
	return v
}

// runBatch prepares and executes a batch's operations in order (see Scope) and returns
// their answers in the same order. Each operation is prepared only once everything before
// it has run, exactly as if the client had sent them one by one.
func runBatch(ctx context.Context, exec graphql.GraphExecutor, media string, ps []*params, caching Caching) []answer {
	out := make([]answer, len(ps))
	scope := &Scope{}
	for i, p := range ps {
		op := prepare(ctx, exec, media, p, http.MethodPost)
		switch {
		case op.done != nil:
			out[i] = answer{outcome: *op.done}
		case op.rc.Operation.Operation == ast.Mutation:
			out[i] = caching.run(op.ctx, exec, op)
			scope = &Scope{}
		default:
			// Each query of the batch is looked up in the response cache and kept on its
			// own (its element's bytes); the batch as a whole gets no ETag.
			out[i] = caching.run(withScope(op.ctx, scope), exec, op)
		}
	}
	return out
}
