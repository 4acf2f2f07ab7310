package livestorm

import (
	"context"
	"sync/atomic"
)

// CallCounter counts the HTTP requests sent to Livestorm under a context, retries
// included (each one is a call of the workspace's quota): the gateway gives one to each
// GraphQL operation to report and charge what the operation really spent.
type CallCounter struct{ n atomic.Int64 }

type callCounterKey struct{}

// ContextWithCallCounter returns ctx whose requests are counted on c.
func ContextWithCallCounter(ctx context.Context, c *CallCounter) context.Context {
	return context.WithValue(ctx, callCounterKey{}, c)
}

// Calls returns the requests counted so far.
func (c *CallCounter) Calls() int64 {
	if c == nil {
		return 0
	}
	return c.n.Load()
}

func countCall(ctx context.Context) {
	if c, _ := ctx.Value(callCounterKey{}).(*CallCounter); c != nil {
		c.n.Add(1)
	}
}
