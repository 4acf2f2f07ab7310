package cluster

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// health is the replica's view of Redis: reachable or not, and which replicas announced
// themselves recently. It changes only on the heartbeat goroutine, which pings Redis
// every Heartbeat (and at once when a request path saw an error), so that callers check
// a flag instead of each waiting for a timeout while Redis is gone.
type health struct {
	c     *Cluster
	up    atomic.Bool
	n     atomic.Int64 // replicas heard from recently, ≥ 1
	pokeC chan struct{}

	mu     sync.Mutex
	others []string // ids of the other live replicas
}

func newHealth(c *Cluster) *health {
	h := &health{c: c, pokeC: make(chan struct{}, 1)}
	h.up.Store(true)
	h.n.Store(1)
	c.up.Set(1)
	c.replicas.Set(1)
	return h
}

func (h *health) isUp() bool { return h.up.Load() }
func (h *health) count() int { return int(h.n.Load()) }

// peers returns the ids of the other replicas heard from recently.
func (h *health) peers() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.others
}

// poke asks the heartbeat to check Redis now.
func (h *health) poke() {
	select {
	case h.pokeC <- struct{}{}:
	default:
	}
}

func (h *health) run(ctx context.Context) {
	t := time.NewTicker(h.c.opts.Heartbeat)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-h.pokeC:
		}
		bctx, cancel := context.WithTimeout(ctx, max(h.c.opts.Timeout, h.c.opts.Heartbeat/2))
		err := h.beat(bctx)
		cancel()
		if ctx.Err() != nil {
			return
		}
		h.set(ctx, err)
	}
}

// beat announces this replica and reads the others: one round trip.
func (h *health) beat(ctx context.Context) error {
	now := time.Now()
	key := h.c.key("replicas")
	var members *redis.StringSliceCmd
	_, err := h.c.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.ZAdd(ctx, key, redis.Z{Score: float64(now.UnixMilli()), Member: h.c.opts.ReplicaID})
		p.ZRemRangeByScore(ctx, key, "-inf", strconv.FormatInt(now.Add(-5*h.c.opts.Heartbeat).UnixMilli(), 10))
		p.PExpire(ctx, key, 10*h.c.opts.Heartbeat+time.Minute)
		members = p.ZRange(ctx, key, 0, -1)
		return nil
	})
	if err != nil {
		return err
	}
	var others []string
	for _, m := range members.Val() {
		if m != h.c.opts.ReplicaID {
			others = append(others, m)
		}
	}
	h.mu.Lock()
	h.others = others
	h.mu.Unlock()
	h.n.Store(int64(len(others) + 1))
	h.c.replicas.Set(float64(len(others) + 1))
	return nil
}

// set records the outcome of a heartbeat: an outage begins or ends.
func (h *health) set(ctx context.Context, err error) {
	log := h.c.log
	switch {
	case err != nil && h.up.CompareAndSwap(true, false):
		h.c.up.Set(0)
		log.Error("Redis unreachable: this replica now serves from its local cache, paces Livestorm at its share of the rate limit and delivers only the webhooks it receives; /readyz reports degraded",
			"addr", h.c.addr, "err", err, "replicas_last_known", h.count())
	case err == nil && h.up.CompareAndSwap(false, true):
		h.c.up.Set(1)
		log.Info("Redis reachable again: rejoining the other replicas", "addr", h.c.addr, "replicas", h.count())
		for _, f := range h.c.rejoinHooks() {
			f(ctx)
		}
	}
}

// leave withdraws this replica from the count (on shutdown).
func (h *health) leave(ctx context.Context) {
	_ = h.c.rdb.ZRem(ctx, h.c.key("replicas"), h.c.opts.ReplicaID).Err()
}
