package transport

import (
	"context"
	"net/http"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Scope holds what the queries of one batch share: the server keeps its per-operation
// dataloaders here (see Shared), so two queries of a batch that read the same event cost
// one upstream call, as two fields of one query would.
//
// A batch is cut into segments at its mutations: the consecutive queries of a segment
// run concurrently and share one Scope; each mutation runs alone, in order, after
// everything before it finished and before anything after it starts, with no Scope
// (fresh loaders: a mutation reads what it just wrote), and the queries after it get a
// new Scope, so they never see what loaders cached before the mutation.
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

// runBatch prepares and executes a batch's operations (see Scope for the order) and
// returns their answers in request order.
func runBatch(ctx context.Context, exec graphql.GraphExecutor, media string, ps []*params) []outcome {
	out := make([]outcome, len(ps))
	ops := make([]operation, len(ps))
	var segment []int
	flush := func() {
		scope := &Scope{}
		var wg sync.WaitGroup
		for _, i := range segment {
			wg.Go(func() { out[i] = executeRecovering(withScope(ops[i].ctx, scope), exec, ops[i]) })
		}
		wg.Wait()
		segment = segment[:0]
	}
	for i, p := range ps {
		ops[i] = prepare(ctx, exec, media, p, http.MethodPost)
		switch {
		case ops[i].done != nil:
			out[i] = *ops[i].done
		case ops[i].rc.Operation.Operation == ast.Mutation:
			flush()
			out[i] = executeRecovering(ops[i].ctx, exec, ops[i])
		default:
			segment = append(segment, i)
		}
	}
	flush()
	return out
}

// recoveredErrorPresenter is implemented by gqlgen's executor: the server's recover
// function (which logs) and error presenter applied to a panic value.
type recoveredErrorPresenter interface {
	PresentRecoveredError(ctx context.Context, err any) error
}

// executeRecovering is execute on a goroutine of its own: a panic outside the resolvers
// (which gqlgen recovers itself) becomes this operation's INTERNAL error instead of
// taking the process down.
func executeRecovering(ctx context.Context, exec graphql.GraphExecutor, op operation) (o outcome) {
	defer func() {
		if v := recover(); v != nil {
			var gqlErr *gqlerror.Error
			if p, ok := exec.(recoveredErrorPresenter); ok {
				gqlErr, _ = p.PresentRecoveredError(ctx, v).(*gqlerror.Error)
			}
			if gqlErr == nil {
				gqlErr = &gqlerror.Error{Message: "internal error", Extensions: map[string]any{"code": "INTERNAL"}}
			}
			o = outcome{resp: &graphql.Response{Errors: gqlerror.List{gqlErr}}, status: http.StatusInternalServerError}
		}
	}()
	return execute(ctx, exec, op)
}
