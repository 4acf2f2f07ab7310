package cluster

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/livestorm-gateway/gateway/livestorm"
)

// quotaSync is how often a replica sends the figures it read and reads the others'.
const quotaSync = 500 * time.Millisecond

// Quota is the livestorm.RateLimitShare of several replicas: the newest RateLimit-*
// figures any replica read for a credential, so that stale serving (and anything else
// reading Client.RateLimit) acts on the workspace's true remaining monthly quota. It
// never touches the network on the caller's path: a goroutine sends what was published
// and refreshes what is read every quotaSync.
type Quota struct {
	c *Cluster

	mu      sync.Mutex
	pending map[string]livestorm.RateLimit
	latest  map[string]livestorm.RateLimit // as last read from Redis
	known   map[string]time.Time           // keys to refresh, with when last used
}

var _ livestorm.RateLimitShare = (*Quota)(nil)

// Quota returns the replica's rate-limit share and starts its sync goroutine.
func (c *Cluster) Quota() *Quota {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.quota != nil {
		return c.quota
	}
	q := &Quota{c: c, pending: map[string]livestorm.RateLimit{}, latest: map[string]livestorm.RateLimit{}, known: map[string]time.Time{}}
	c.quota = q
	c.goRun(q.run)
	return q
}

// Publish queues the figures this replica read for key.
func (q *Quota) Publish(key string, rl livestorm.RateLimit) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if cur, ok := q.pending[key]; !ok || rl.Observed.After(cur.Observed) {
		q.pending[key] = rl
	}
	q.known[key] = time.Now()
}

// Latest returns the newest figures read from Redis for key.
func (q *Quota) Latest(key string) (livestorm.RateLimit, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.known[key] = time.Now()
	rl, ok := q.latest[key]
	return rl, ok
}

func (q *Quota) run(ctx context.Context) {
	t := time.NewTicker(quotaSync)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if q.c.health.isUp() {
			q.sync(ctx)
		}
	}
}

// sync sends the pending figures and reads back every known key's: one round trip.
func (q *Quota) sync(ctx context.Context) {
	q.mu.Lock()
	pending := q.pending
	q.pending = map[string]livestorm.RateLimit{}
	var keys []string
	for k, used := range q.known {
		if time.Since(used) > time.Hour {
			delete(q.known, k)
			delete(q.latest, k)
			continue
		}
		keys = append(keys, k)
	}
	q.mu.Unlock()
	if len(keys) == 0 {
		return
	}
	octx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	reads := make(map[string]*redis.MapStringStringCmd, len(keys))
	_, err := q.c.rdb.Pipelined(octx, func(p redis.Pipeliner) error {
		for key, rl := range pending {
			args := []any{rl.Observed.UnixMilli(),
				"il", rl.IntervalLimit, "ir", rl.IntervalRemaining, "ml", rl.MonthlyLimit, "mr", rl.MonthlyRemaining,
				"reset", rl.Reset.Unix(), time.Hour.Milliseconds()}
			// Eval, not Run: a pipeline cannot fall back from EVALSHA when Redis (say,
			// restarted) does not know the script.
			quotaScript.Eval(octx, p, []string{q.c.key("q", shortKey(key))}, args...)
		}
		for _, key := range keys {
			reads[key] = p.HGetAll(octx, q.c.key("q", shortKey(key)))
		}
		return nil
	})
	if err != nil && err != redis.Nil {
		q.c.failed("quota", err)
		q.mu.Lock()
		for k, rl := range pending { // try again next time, unless newer figures came
			if cur, ok := q.pending[k]; !ok || rl.Observed.After(cur.Observed) {
				q.pending[k] = rl
			}
		}
		q.mu.Unlock()
		return
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	for key, cmd := range reads {
		h := cmd.Val()
		obs := atoi64(h["obs"])
		if obs == 0 {
			continue
		}
		rl := livestorm.RateLimit{
			IntervalLimit: int(atoi64(h["il"])), IntervalRemaining: int(atoi64(h["ir"])),
			MonthlyLimit: int(atoi64(h["ml"])), MonthlyRemaining: int(atoi64(h["mr"])),
			Observed: time.UnixMilli(obs),
		}
		if r := atoi64(h["reset"]); r > 0 {
			rl.Reset = time.Unix(r, 0)
		}
		q.latest[key] = rl
	}
}

func atoi64(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}
