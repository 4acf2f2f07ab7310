package cluster

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// readBlock is how long one XREAD waits for entries before it is issued again.
const readBlock = 2 * time.Second

// reader is the replica's one goroutine reading Redis streams: the invalidation stream
// (every replica's cache invalidations), the stream of each workspace that has
// subscribers on this replica, and a wake stream of its own that makes it re-issue its
// XREAD when that set changes. Reading them in one XREAD keeps their order: an
// invalidation made before a webhook was published is applied before the webhook is
// delivered, so a subscriber never reads the old state from this replica's cache.
type reader struct {
	c    *Cluster
	wake func()

	mu       sync.Mutex
	inval    string // last invalidation id read
	wakeLast string
	scopes   map[string]*scopeState
	gapCheck bool // after an outage: were invalidations trimmed before we read them?

	// Set once by the Bus and the Tier before they are used.
	deliver    func(scope string, entries []redis.XMessage)
	subscribed func(scope string) int
	invalidate func(entries []redis.XMessage)
	purge      func()
}

// scopeState is the read position of one workspace's stream ("" = not known yet, while
// Redis is unreachable) and how many subscriptions are being set up on it.
type scopeState struct {
	last    string
	pending int
}

func newReader(ctx context.Context, c *Cluster) (*reader, error) {
	r := &reader{c: c, scopes: map[string]*scopeState{}}
	var err error
	if r.inval, err = lastID(ctx, c.rdb, c.key("inval")); err != nil {
		return nil, err
	}
	wakeKey := c.key("wake", c.opts.ReplicaID)
	if r.wakeLast, err = lastID(ctx, c.rdb, wakeKey); err != nil {
		return nil, err
	}
	r.wake = func() {
		ctx, cancel := context.WithTimeout(context.Background(), c.opts.Timeout)
		defer cancel()
		_, _ = c.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.XAdd(ctx, &redis.XAddArgs{Stream: wakeKey, MaxLen: 1, Values: []string{"w", "1"}})
			p.PExpire(ctx, wakeKey, time.Minute)
			return nil
		})
	}
	c.whenRejoined(func(context.Context) {
		r.mu.Lock()
		r.gapCheck = true
		r.mu.Unlock()
	})
	return r, nil
}

// lastID is the id of a stream's newest entry, "0-0" when it has none.
func lastID(ctx context.Context, rdb *redis.Client, key string) (string, error) {
	msgs, err := rdb.XRevRangeN(ctx, key, "+", "-", 1).Result()
	if err != nil {
		return "", err
	}
	if len(msgs) == 0 {
		return "0-0", nil
	}
	return msgs[0].ID, nil
}

// addScope makes the reader follow scope's stream from its current end, before a
// subscription of it registers; done must be called once the subscription is
// registered (or failed).
func (r *reader) addScope(ctx context.Context, scope string) (done func()) {
	r.mu.Lock()
	st, ok := r.scopes[scope]
	if !ok {
		st = &scopeState{}
		r.scopes[scope] = st
	}
	st.pending++
	r.mu.Unlock()
	done = func() {
		r.mu.Lock()
		st.pending--
		r.mu.Unlock()
	}
	if ok || !r.c.health.isUp() {
		return done // known already, or to be positioned by the reader once Redis is back
	}
	octx, cancel := r.c.op(ctx)
	defer cancel()
	last, err := lastID(octx, r.c.rdb, r.c.scoped("bus", scope))
	if err != nil {
		r.c.failed("subscribe", err)
		return done
	}
	r.mu.Lock()
	if st.last == "" {
		st.last = last
	}
	r.mu.Unlock()
	r.wake()
	return done
}

// position is the last id read from scope's stream ("" if unknown).
func (r *reader) position(scope string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if st := r.scopes[scope]; st != nil {
		return st.last
	}
	return ""
}

func (r *reader) run(ctx context.Context) {
	pause := 50 * time.Millisecond
	for ctx.Err() == nil {
		err := r.readOnce(ctx)
		if err == nil || errors.Is(err, redis.Nil) {
			pause = 50 * time.Millisecond
			continue
		}
		if ctx.Err() != nil {
			return
		}
		r.c.health.poke()
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		pause = min(2*pause, time.Second)
	}
}

// readOnce issues one blocking XREAD and applies what it returns.
func (r *reader) readOnce(ctx context.Context) error {
	if err := r.checkGap(ctx); err != nil {
		return err
	}
	keys, ids, err := r.streams(ctx)
	if err != nil {
		return err
	}
	rctx, cancel := context.WithTimeout(ctx, readBlock+2*time.Second)
	defer cancel()
	res, err := r.c.rdb.XRead(rctx, &redis.XReadArgs{Streams: append(keys, ids...), Count: 512, Block: readBlock}).Result()
	if err != nil {
		return err
	}
	invalKey, wakeKey := keys[0], keys[1]
	r.mu.Lock()
	deliver, invalidate := r.deliver, r.invalidate
	r.mu.Unlock()
	// Invalidations first, then deliveries (see reader).
	for _, s := range res {
		if s.Stream == invalKey && len(s.Messages) > 0 {
			if invalidate != nil {
				invalidate(s.Messages)
			}
			last := s.Messages[len(s.Messages)-1].ID
			r.mu.Lock()
			r.inval = last
			r.mu.Unlock()
			actx, acancel := r.c.op(ctx)
			_ = r.c.rdb.Set(actx, r.c.key("inval", "ack", r.c.opts.ReplicaID), last, time.Minute).Err()
			acancel()
		}
	}
	for _, s := range res {
		if len(s.Messages) == 0 {
			continue
		}
		last := s.Messages[len(s.Messages)-1].ID
		switch {
		case s.Stream == invalKey:
		case s.Stream == wakeKey:
			r.mu.Lock()
			r.wakeLast = last
			r.mu.Unlock()
		default:
			scope := scopeOfStream(s.Stream)
			if deliver != nil {
				deliver(scope, s.Messages)
			}
			r.mu.Lock()
			if st := r.scopes[scope]; st != nil {
				st.last = last
			}
			r.mu.Unlock()
		}
	}
	return nil
}

// streams lists the keys and ids to read: the invalidation stream, the wake stream, then
// every followed workspace. Workspaces left without subscribers are dropped; those whose
// position is not known yet (subscribed while Redis was unreachable) are positioned at
// their stream's end.
func (r *reader) streams(ctx context.Context) (keys, ids []string, err error) {
	r.mu.Lock()
	var unknown []string
	for scope, st := range r.scopes {
		if st.pending == 0 && (r.subscribed == nil || r.subscribed(scope) == 0) {
			delete(r.scopes, scope)
			continue
		}
		if st.last == "" {
			unknown = append(unknown, scope)
		}
	}
	r.mu.Unlock()
	for _, scope := range unknown {
		last, err := lastID(ctx, r.c.rdb, r.c.scoped("bus", scope))
		if err != nil {
			return nil, nil, err
		}
		r.mu.Lock()
		if st := r.scopes[scope]; st != nil && st.last == "" {
			st.last = last
		}
		r.mu.Unlock()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	keys = []string{r.c.key("inval"), r.c.key("wake", r.c.opts.ReplicaID)}
	ids = []string{r.inval, r.wakeLast}
	for scope, st := range r.scopes {
		keys = append(keys, r.c.scoped("bus", scope))
		ids = append(ids, st.last)
	}
	return keys, ids, nil
}

// checkGap runs after an outage: if the invalidation stream was trimmed past what this
// replica had read, invalidations were lost to it and its local tier is purged.
func (r *reader) checkGap(ctx context.Context) error {
	r.mu.Lock()
	check, since := r.gapCheck, r.inval
	r.mu.Unlock()
	if !check {
		return nil
	}
	r.mu.Lock()
	purge := r.purge
	r.mu.Unlock()
	octx, cancel := r.c.op(ctx)
	defer cancel()
	info, err := r.c.rdb.XInfoStream(octx, r.c.key("inval")).Result()
	switch {
	case err != nil && strings.Contains(err.Error(), "no such key"):
	case err != nil:
		return err
	case idAfter(info.MaxDeletedEntryID, since):
		r.c.log.Warn("invalidations made while this replica was cut off from Redis are gone: its local cache is emptied")
		if purge != nil {
			purge()
		}
	}
	r.mu.Lock()
	r.gapCheck = false
	r.mu.Unlock()
	return nil
}

// scopeOfStream is the scope of a workspace stream key "<prefix>:bus:{<scope>}".
func scopeOfStream(key string) string {
	i := strings.IndexByte(key, '{')
	j := strings.LastIndexByte(key, '}')
	if i < 0 || j <= i {
		return ""
	}
	return key[i+1 : j]
}
