// Package cluster is the gateway's Redis tier: what several replicas behind one load
// balancer share so that they act as one gateway. Each piece plugs into a seam that
// exists for the single-process gateway, which keeps working unchanged without Redis:
//
//   - Bus (pubsub.Bus): a Redis stream per workspace; a webhook received by any replica
//     reaches the subscribers of every replica, in order, once, and resumable by cursor.
//   - Tier (cache.SharedTier): a shared cache under each replica's LRU, with fill locks
//     (one upstream call for identical cold fetches on several replicas) and
//     invalidations that reach every replica's local tier.
//   - Limiter (livestorm.Limiter): at most n requests per window per workspace across
//     all replicas; Quota (livestorm.RateLimitShare) shares Livestorm's monthly figures.
//   - Deduper (webhook.Deduper) and Leadership (webhook.Leadership): a retried webhook
//     is processed once whichever replica it reaches, and one replica registers webhooks.
//
// When Redis becomes unreachable every replica carries on alone (its local cache, a
// local limiter at its share of the rate, local delivery of the webhooks it receives),
// reports itself degraded, and rejoins by itself when Redis is back. See README
// "Running several replicas (Redis)".
package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// Options configure a Cluster. Zero values take the documented defaults.
type Options struct {
	// URL is REDIS_URL: redis://[user:password@]host:port/db, rediss:// (TLS) or
	// unix:///path/to/socket.
	URL string
	// Prefix starts every key (default "lsgw"), so one Redis can serve several
	// deployments (REDIS_KEY_PREFIX).
	Prefix string
	// ReplicaID names this replica in Redis and in logs (default host name + random).
	ReplicaID string
	// Timeout bounds each Redis operation on a request path (default 250 ms): past it
	// the replica falls back to its local state rather than keep a caller waiting.
	Timeout time.Duration
	// Heartbeat is how often the replica checks Redis and announces itself (default 1
	// s); a replica silent for 5 heartbeats is no longer counted.
	Heartbeat time.Duration
	// Replay and ReplayMax bound each workspace's stream (SUBSCRIPTION_REPLAY,
	// SUBSCRIPTION_REPLAY_MAX; defaults pubsub.DefaultReplay, pubsub.DefaultReplayMax).
	Replay    time.Duration
	ReplayMax int
	// InvalidationWait bounds how long an invalidation waits for the other replicas to
	// have applied it (default 100 ms).
	InvalidationWait time.Duration
	Logger           *slog.Logger
}

// Cluster is one replica's connection to the Redis tier. Connect starts its goroutines
// (heartbeat, stream reader, quota sync); Close stops them.
type Cluster struct {
	opts Options
	rdb  *redis.Client
	addr string // for messages; never the URL (it may hold a password)
	log  *slog.Logger

	health *health
	reader *reader

	ctx    context.Context // ends at Close
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu     sync.Mutex
	bus    *Bus
	tier   *Tier
	quota  *Quota
	closed bool

	hookMu   sync.Mutex
	onRejoin []func(ctx context.Context)

	up        prometheus.Gauge
	replicas  prometheus.Gauge
	fallbacks *prometheus.CounterVec
}

// Connect connects to Redis and starts the replica's background work. It fails, naming
// REDIS_URL, when Redis cannot be reached: a gateway that silently ran split-brain would
// be worse than one that does not start.
func Connect(ctx context.Context, opts Options) (*Cluster, error) {
	ro, err := redis.ParseURL(opts.URL)
	if err != nil {
		return nil, fmt.Errorf("REDIS_URL: %v", redactURLError(err))
	}
	if opts.Prefix == "" {
		opts.Prefix = "lsgw"
	}
	if opts.ReplicaID == "" {
		opts.ReplicaID = newReplicaID()
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 250 * time.Millisecond
	}
	if opts.Heartbeat <= 0 {
		opts.Heartbeat = time.Second
	}
	if opts.InvalidationWait <= 0 {
		opts.InvalidationWait = 100 * time.Millisecond
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	// Fail fast and fall back rather than queue: the local tier is always there.
	ro.DialTimeout = time.Second
	ro.ReadTimeout = time.Second
	ro.WriteTimeout = time.Second
	ro.PoolTimeout = time.Second
	ro.MaxRetries = 1
	ro.ContextTimeoutEnabled = true
	ro.DisableIdentity = true
	ro.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	silenceClientLog()

	c := &Cluster{
		opts: opts,
		rdb:  redis.NewClient(ro),
		addr: ro.Addr,
		log:  opts.Logger.With("component", "redis", "replica", opts.ReplicaID),
		up: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "gateway_redis_up",
			Help: "1 while this replica reaches Redis (REDIS_URL), 0 while it runs alone on its local tier.",
		}),
		replicas: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "gateway_replicas",
			Help: "Gateway replicas heard from through Redis recently (this one included); the last known count while Redis is unreachable.",
		}),
		fallbacks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_redis_fallbacks_total",
			Help: "Operations this replica did locally because Redis failed or was unreachable, by operation.",
		}, []string{"op"}),
	}
	pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if err := c.rdb.Ping(pctx).Err(); err != nil {
		_ = c.rdb.Close()
		return nil, fmt.Errorf("REDIS_URL: cannot reach Redis at %s: %v (the gateway does not start without the Redis it was configured with: replicas would not share their cache, bus and rate limit)", c.addr, err)
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.health = newHealth(c)
	if err := c.health.beat(pctx); err != nil {
		c.cancel()
		_ = c.rdb.Close()
		return nil, fmt.Errorf("REDIS_URL: Redis at %s refused the replica heartbeat: %v", c.addr, err)
	}
	c.reader, err = newReader(pctx, c)
	if err != nil {
		c.cancel()
		_ = c.rdb.Close()
		return nil, fmt.Errorf("REDIS_URL: Redis at %s: %v", c.addr, err)
	}
	_ = c.rdb.SetNX(pctx, c.key("bus", "since"), time.Now().UnixMilli(), 0).Err()
	c.goRun(c.health.run)
	c.goRun(c.reader.run)
	c.log.Info("connected to Redis: cache, bus, rate limit and webhook de-duplication are shared with the other replicas",
		"addr", c.addr, "replicas", c.health.count())
	return c, nil
}

func (c *Cluster) goRun(f func(ctx context.Context)) {
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		f(c.ctx)
	}()
}

// Close stops the replica's goroutines, withdraws it from the replica count and closes
// the connections. Close the Bus and the registrar first.
func (c *Cluster) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	c.mu.Unlock()
	c.cancel()
	c.reader.wake() // unblock its XREAD
	c.wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), c.opts.Timeout)
	defer cancel()
	c.health.leave(ctx)
	return c.rdb.Close()
}

// ReplicaID names this replica.
func (c *Cluster) ReplicaID() string { return c.opts.ReplicaID }

// Up reports whether this replica currently reaches Redis.
func (c *Cluster) Up() bool { return c.health.isUp() }

// Replicas is the number of replicas heard from recently (the last known number while
// Redis is unreachable); at least 1.
func (c *Cluster) Replicas() int { return c.health.count() }

// Degraded says why the replica is degraded ("" when it is not), for /readyz.
func (c *Cluster) Degraded() string {
	if c.health.isUp() {
		return ""
	}
	return fmt.Sprintf("Redis unreachable: this replica serves from its own cache, at its share (1/%d) of the rate limit, and delivers only the webhooks it receives", c.health.count())
}

// Collectors are the Prometheus metrics of the tier: gateway_redis_up, gateway_replicas,
// gateway_redis_fallbacks_total{op}.
func (c *Cluster) Collectors() []prometheus.Collector {
	return []prometheus.Collector{c.up, c.replicas, c.fallbacks}
}

// fallback counts an operation done locally instead of in Redis.
func (c *Cluster) fallback(op string) { c.fallbacks.WithLabelValues(op).Inc() }

// failed handles a Redis error on a request path: counted, and the heartbeat checks at
// once whether Redis is gone, so the next callers skip it rather than wait for it.
func (c *Cluster) failed(op string, err error) {
	c.fallback(op)
	if err != nil && !errors.Is(err, context.Canceled) {
		c.health.poke()
	}
}

// whenRejoined registers f to run (on the heartbeat goroutine) each time Redis becomes
// reachable again after an outage.
func (c *Cluster) whenRejoined(f func(ctx context.Context)) {
	c.hookMu.Lock()
	c.onRejoin = append(c.onRejoin, f)
	c.hookMu.Unlock()
}

func (c *Cluster) rejoinHooks() []func(context.Context) {
	c.hookMu.Lock()
	defer c.hookMu.Unlock()
	return append([]func(context.Context){}, c.onRejoin...)
}

// op returns a context bounded by the operation timeout.
func (c *Cluster) op(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, c.opts.Timeout)
}

// key joins the prefix and parts with ':'.
func (c *Cluster) key(parts ...string) string {
	return c.opts.Prefix + ":" + strings.Join(parts, ":")
}

// scoped is a key of one workspace; the scope is in braces (a Redis Cluster hash tag)
// so that every key of a workspace a script touches lives together.
func (c *Cluster) scoped(kind, scope string, rest ...string) string {
	return c.key(append([]string{kind, "{" + scope + "}"}, rest...)...)
}

func newReplicaID() string {
	host, _ := os.Hostname()
	if host == "" {
		host = "gateway"
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	return host + "-" + hex.EncodeToString(b[:])
}

// redactURLError keeps a URL parse error from echoing the URL (it may hold a password).
func redactURLError(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, "://"); i >= 0 {
		return "not a valid redis://, rediss:// or unix:// URL"
	}
	return msg
}

var silenceOnce sync.Once

// silenceClientLog routes go-redis's own log lines (reconnection chatter) away from
// stderr: the tier logs outages itself, once, with what they mean for the gateway.
func silenceClientLog() {
	silenceOnce.Do(func() { redis.SetLogger(discardLogger{}) })
}

type discardLogger struct{}

func (discardLogger) Printf(context.Context, string, ...any) {}
