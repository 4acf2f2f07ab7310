package cluster

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"sync"
	"time"

	"github.com/livestorm-gateway/gateway/webhook"
)

// Deduper is the webhook.Deduper of several replicas: a delivery's body hash is claimed
// with SET NX in Redis, so that a retry Livestorm sends to another replica is
// recognised. This replica's own memory (local) is kept as well and answers alone while
// Redis is unreachable.
type Deduper struct {
	c     *Cluster
	ttl   time.Duration
	local webhook.Deduper
}

var _ webhook.Deduper = (*Deduper)(nil)

// Deduper returns a shared de-duplicator remembering deliveries for ttl, backed locally
// by local (used alone while Redis is unreachable).
func (c *Cluster) Deduper(ttl time.Duration, local webhook.Deduper) *Deduper {
	return &Deduper{c: c, ttl: ttl, local: local}
}

func (d *Deduper) key(k [sha256.Size]byte) string { return d.c.key("wh", hex.EncodeToString(k[:16])) }

// FirstSeen reports whether no replica accepted this delivery within the TTL.
func (d *Deduper) FirstSeen(ctx context.Context, k [sha256.Size]byte, now time.Time) bool {
	first := d.local.FirstSeen(ctx, k, now)
	if !d.c.health.isUp() {
		d.c.fallback("dedupe")
		return first
	}
	octx, cancel := d.c.op(ctx)
	defer cancel()
	claimed, err := d.c.rdb.SetNX(octx, d.key(k), d.c.opts.ReplicaID, d.ttl).Result()
	if err != nil {
		d.c.failed("dedupe", err)
		return first
	}
	return claimed && first
}

// Forget releases the claim (the delivery was not accepted after all).
func (d *Deduper) Forget(ctx context.Context, k [sha256.Size]byte) {
	d.local.Forget(ctx, k)
	if !d.c.health.isUp() {
		return
	}
	octx, cancel := d.c.op(ctx)
	defer cancel()
	_ = unlockScript.Run(octx, d.c.rdb, []string{d.key(k)}, d.c.opts.ReplicaID).Err()
}

// Leadership is a webhook.Leadership in Redis: a lock with an expiry that its holder
// renews every renew; a holder that dies stops renewing and another replica takes the
// lock once it expires (ttl = 3 renewals).
type Leadership struct {
	c     *Cluster
	key   string
	renew time.Duration
	ttl   time.Duration

	mu       sync.Mutex
	leading  bool
	leaseEnd time.Time // when the lead is surely lost if not renewed
}

var _ webhook.Leadership = (*Leadership)(nil)

// Leadership returns the election called name, renewed every renew.
func (c *Cluster) Leadership(name string, renew time.Duration) *Leadership {
	if renew <= 0 {
		renew = 5 * time.Second
	}
	return &Leadership{c: c, key: c.key("lead", name), renew: renew, ttl: 3 * renew}
}

// Renew is how often Lead must be called.
func (l *Leadership) Renew() time.Duration { return l.renew }

// Lead takes or renews the lead. While Redis is unreachable a leader keeps leading until
// its lease would have expired (nobody else can take it meanwhile), then stands down.
func (l *Leadership) Lead(ctx context.Context) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	start := time.Now()
	octx, cancel := l.c.op(ctx)
	defer cancel()
	var (
		held bool
		err  error
	)
	if l.leading {
		var n int64
		n, err = renewScript.Run(octx, l.c.rdb, []string{l.key}, l.c.opts.ReplicaID, l.ttl.Milliseconds()).Int64()
		held = n == 1
	}
	if err == nil && !held {
		held, err = l.c.rdb.SetNX(octx, l.key, l.c.opts.ReplicaID, l.ttl).Result()
	}
	if err != nil {
		l.c.failed("leadership", err)
		l.leading = l.leading && time.Now().Before(l.leaseEnd)
		return l.leading
	}
	l.leading = held
	if held {
		l.leaseEnd = start.Add(l.ttl)
	}
	return held
}

// Resign releases the lead if this replica holds it.
func (l *Leadership) Resign(ctx context.Context) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.leading {
		return
	}
	l.leading = false
	octx, cancel := l.c.op(ctx)
	defer cancel()
	_ = unlockScript.Run(octx, l.c.rdb, []string{l.key}, l.c.opts.ReplicaID).Err()
}
