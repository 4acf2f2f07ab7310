package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/livestorm-gateway/gateway/pubsub"
)

// Bus is the pubsub.Bus of several replicas: Publish appends the message to its
// workspace's Redis stream (capped by count and age), the replica's reader reads the
// streams of the workspaces it has subscribers for and hands each entry, in stream
// order, to a pubsub.Local for the in-process fan-out. A webhook received by any replica
// thus reaches every replica's subscribers, in one order per workspace, once; the
// stream id is the message's cursor, and the retained stream is what SubscribeAfter
// replays.
//
// One stream per workspace rather than one for all: a replica reads only the workspaces
// it has subscribers of, a resuming subscriber replays only its own workspace's entries,
// and a busy workspace cannot push a quiet one's history out of the count bound.
//
// When Redis cannot take a message (unreachable, or slower than Options.Timeout),
// Publish delivers it to this replica's subscribers only, marked Fallback, and counts
// gateway_redis_fallbacks_total{op="publish"}: the webhook's acknowledgement never waits
// on Redis, and the replica that received it still pushes it.
type Bus struct {
	c     *Cluster
	local *pubsub.Local

	replay    time.Duration
	replayMax int

	mu sync.Mutex
	// fellBack remembers the deliveries published locally, so that if Redis took one
	// after all (its reply was lost) the stream's copy is not delivered again.
	fellBack map[string]time.Time
}

var _ pubsub.Bus = (*Bus)(nil)

// Bus returns the replica's bus (one per Cluster).
func (c *Cluster) Bus() *Bus {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.bus != nil {
		return c.bus
	}
	b := &Bus{
		c:         c,
		local:     pubsub.NewLocal(),
		replay:    c.opts.Replay,
		replayMax: c.opts.ReplayMax,
		fellBack:  map[string]time.Time{},
	}
	if b.replay <= 0 {
		b.replay = pubsub.DefaultReplay
	}
	if b.replayMax <= 0 {
		b.replayMax = pubsub.DefaultReplayMax
	}
	c.reader.mu.Lock()
	c.reader.deliver = b.deliver
	c.reader.subscribed = b.local.Subscribers
	c.reader.mu.Unlock()
	c.bus = b
	return b
}

// Publish appends m to its workspace's stream; see Bus.
func (b *Bus) Publish(ctx context.Context, m pubsub.Message) error {
	if b.c.health.isUp() {
		payload, err := json.Marshal(m)
		if err != nil {
			return err
		}
		octx, cancel := b.c.op(ctx)
		err = publishScript.Run(octx, b.c.rdb,
			[]string{b.c.scoped("bus", m.Scope), b.c.key("bus", "since")},
			payload, b.replayMax, b.replay.Milliseconds(), (2 * b.replay).Milliseconds()).Err()
		cancel()
		if err == nil {
			return nil
		}
		b.c.log.Warn("webhook published on this replica only: Redis did not take it", "event", m.Name, "err", err)
		b.c.failed("publish", err)
	} else {
		b.c.fallback("publish")
	}
	m.Fallback = true
	m.Cursor = b.c.reader.position(m.Scope)
	if m.Cursor == "" {
		m.Cursor = "0-0"
	}
	if m.ID != "" {
		b.mu.Lock()
		now := time.Now()
		for id, at := range b.fellBack {
			if now.Sub(at) > time.Minute {
				delete(b.fellBack, id)
			}
		}
		if len(b.fellBack) < 10_000 {
			b.fellBack[m.ID] = now
		}
		b.mu.Unlock()
	}
	return b.local.Deliver(m)
}

// deliver hands entries read from scope's stream to the local fan-out (reader goroutine).
func (b *Bus) deliver(scope string, entries []redis.XMessage) {
	for _, e := range entries {
		m, err := decodeEntry(e)
		if err != nil {
			b.c.log.Warn("unreadable bus entry skipped", "scope", scope, "id", e.ID, "err", err)
			continue
		}
		if m.ID != "" {
			b.mu.Lock()
			_, dup := b.fellBack[m.ID]
			delete(b.fellBack, m.ID)
			b.mu.Unlock()
			if dup {
				continue
			}
		}
		_ = b.local.Deliver(m)
	}
}

func decodeEntry(e redis.XMessage) (pubsub.Message, error) {
	var m pubsub.Message
	raw, ok := e.Values["m"].(string)
	if !ok {
		return m, fmt.Errorf("no payload")
	}
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		return m, err
	}
	m.Cursor = e.ID
	return m, nil
}

// Subscribe registers a live subscriber of scope; see pubsub.Bus.
func (b *Bus) Subscribe(ctx context.Context, scope string, filter pubsub.Filter, buffer int) (*pubsub.Subscription, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	done := b.c.reader.addScope(ctx, scope)
	defer done()
	return b.local.Subscribe(ctx, scope, filter, buffer)
}

// SubscribeAfter replays scope's stream after cursor after, then continues live; see
// pubsub.Bus. The subscription registers (held) before the replay is read, and the
// replay is merged with what arrived meanwhile by cursor, so nothing falls between.
func (b *Bus) SubscribeAfter(ctx context.Context, scope, after string, filter pubsub.Filter, buffer int) (*pubsub.Subscription, error) {
	if after == "" {
		return b.Subscribe(ctx, scope, filter, buffer)
	}
	cur, err := pubsub.ParseCursor(after)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !b.c.health.isUp() {
		return nil, pubsub.ReplayUnavailable("the replay store (Redis) is unreachable")
	}
	done := b.c.reader.addScope(ctx, scope)
	s, err := b.local.SubscribeHeld(ctx, scope, filter, buffer)
	done()
	if err != nil {
		return nil, err
	}
	replay, err := b.replayAfter(ctx, scope, cur)
	if err != nil {
		s.Close()
		return nil, err
	}
	b.local.Release(s, cur, replay)
	return s, nil
}

// replayAfter reads the retained entries of scope after cur.
func (b *Bus) replayAfter(ctx context.Context, scope string, cur pubsub.Cursor) ([]*pubsub.Message, error) {
	octx, cancel := context.WithTimeout(ctx, max(b.c.opts.Timeout, time.Second))
	defer cancel()
	minMs := time.Now().Add(-2 * b.replay).UnixMilli()
	limit := b.replayMax + 1000 // approximate trimming keeps a little more than the bound
	res, err := replayScript.Run(octx, b.c.rdb, []string{b.c.scoped("bus", scope), b.c.key("bus", "since")},
		cur.Hi, cur.Lo, minMs, limit).Slice()
	if err != nil {
		b.c.failed("replay", err)
		return nil, pubsub.ReplayUnavailable("the replay store (Redis) did not answer")
	}
	status, _ := res[0].(string)
	switch status {
	case "ok":
	case "since":
		return nil, pubsub.ReplayUnavailable("Redis lost the history since the cursor (it restarted)")
	default:
		return nil, pubsub.ReplayUnavailable("messages after the cursor are older than the replay retention")
	}
	raw, _ := res[1].([]any)
	if len(raw) >= limit {
		return nil, pubsub.ReplayUnavailable("more messages were missed than the replay keeps")
	}
	out := make([]*pubsub.Message, 0, len(raw))
	for _, r := range raw {
		e, ok := xmessage(r)
		if !ok {
			continue
		}
		m, err := decodeEntry(e)
		if err != nil {
			continue
		}
		out = append(out, &m)
	}
	return out, nil
}

// xmessage reads one entry of a script's XRANGE reply: {id, {field, value, ...}}.
func xmessage(v any) (redis.XMessage, bool) {
	pair, ok := v.([]any)
	if !ok || len(pair) != 2 {
		return redis.XMessage{}, false
	}
	id, _ := pair[0].(string)
	fields, _ := pair[1].([]any)
	values := make(map[string]any, len(fields)/2)
	for i := 0; i+1 < len(fields); i += 2 {
		k, _ := fields[i].(string)
		values[k] = fields[i+1]
	}
	return redis.XMessage{ID: id, Values: values}, id != ""
}

// Subscribers is the number of this replica's subscribers of scope.
func (b *Bus) Subscribers(scope string) int { return b.local.Subscribers(scope) }

// Close ends every subscription of this replica (Err reports pubsub.ErrClosed).
func (b *Bus) Close() error {
	b.c.reader.mu.Lock()
	b.c.reader.deliver = nil
	b.c.reader.mu.Unlock()
	return b.local.Close()
}
