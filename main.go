// Command livestorm-gateway serves Livestorm's REST API as one GraphQL graph.
//
// With no LIVESTORM_API_TOKEN it starts in demo mode: an embedded Livestorm simulator
// with a seeded workspace is the upstream, so everything works offline.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"
	_ "time/tzdata" // session timezones must resolve even on images without zoneinfo

	"github.com/livestorm-gateway/gateway/auth"
	"github.com/livestorm-gateway/gateway/budget"
	"github.com/livestorm-gateway/gateway/cache"
	"github.com/livestorm-gateway/gateway/cluster"
	"github.com/livestorm-gateway/gateway/livestorm"
	"github.com/livestorm-gateway/gateway/metrics"
	"github.com/livestorm-gateway/gateway/tenant"
	"github.com/livestorm-gateway/gateway/webhook"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args, os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// shutdownGrace is how long operations cut short at SHUTDOWN_TIMEOUT have to write
// their answer (what finished, plus UNAVAILABLE) before the process exits.
const shutdownGrace = 2 * time.Second

// run starts the gateway and serves until ctx is done. stdout gets the human-readable
// banner; stderr the structured logs.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 1 {
		return fmt.Errorf("unexpected arguments %q: the gateway is configured through environment variables (see README)", args[1:])
	}
	cfg, err := LoadConfig(getenv)
	if err != nil {
		return err
	}
	logger := newLogger(cfg, stderr)
	tracing, err := startTracing(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer stopTracing(tracing, logger) // last: flushes the spans of the shutdown too
	stopDebug, _, err := startDebugServer(cfg.DebugAddr, logger)
	if err != nil {
		return err
	}
	defer stopDebug()
	var cl *cluster.Cluster
	if cfg.RedisURL != "" {
		// Refuse to start without the Redis we were told to use: replicas that silently
		// ran alone would each spend the workspace's rate limit and miss each other's
		// webhooks.
		if cl, err = connectCluster(ctx, cfg, logger); err != nil {
			return err
		}
		defer cl.Close() // last: after the receiver drained and the bus closed
	}

	if cfg.WebhookSecretsFile != "" {
		if cfg.WebhookSecrets, err = webhook.LoadSecrets(cfg.WebhookSecretsFile); err != nil {
			return err
		}
	}
	host := cfg.Host
	var demo *demoUpstream
	if cfg.Demo() {
		if host == "" {
			host = "127.0.0.1" // demo callers are admin: never reachable from the network unless HOST says so
		}
		demo, err = startDemo(cfg, logger)
		if err != nil {
			return fmt.Errorf("demo mode: %w", err)
		}
		defer demo.Close()
		cfg.APIURL, cfg.APIToken, cfg.WebhookSecret = demo.BaseURL, demo.Token, demo.WebhookSecret
		if len(cfg.AllowedOrigins) == 0 {
			cfg.AllowedOrigins = []string{"*"} // a local playground: let any local frontend try it
		}
	}

	deps := newDepsWith(cfg, logger, cl)
	deps.Tracing = tracing
	deps.Demo = demo != nil
	defer deps.Client.CloseIdleConnections()
	defer deps.push.Close() // after the HTTP server stopped: drain the receiver, end subscriptions
	if deps.Auth, err = newAuthenticator(cfg, deps.Metrics, logger); err != nil {
		return err
	}
	defer deps.Auth.Close()
	if deps.Persisted, err = openPersisted(cfg, logger); err != nil {
		return err
	}
	defer reloadOnSignal(deps.Persisted)()

	addr := net.JoinHostPort(host, strconv.Itoa(cfg.Port))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("HOST, PORT: cannot listen on %s: %w", addr, err)
	}
	streams, endStreams := context.WithCancel(context.Background())
	defer endStreams()
	deps.Streams = streams
	operations, endOperations := context.WithCancel(context.Background())
	defer endOperations()
	deps.Operations = operations
	srv := &http.Server{
		Handler:           NewServer(deps),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	srv.RegisterOnShutdown(endStreams)

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()

	publicURL, startActivity := cfg.PublicURL, func() {}
	if demo != nil {
		// The embedded simulator delivers to this gateway on loopback; once the webhooks
		// exist, its live activity starts, so subscriptions receive events within seconds.
		publicURL = loopbackURL(ln.Addr())
		if cfg.DemoActivity {
			startActivity = demo.StartActivity
		}
	}
	if reg := startRegistrar(cfg, deps, publicURL, startActivity); reg != nil {
		defer reg.Close() // before the receiver closes
	}
	printBanner(stdout, cfg, ln.Addr(), demo, deps.Auth.AnonymousRole())
	logger.Info("gateway started", "addr", ln.Addr().String(), "demo", demo != nil, "forward_auth", cfg.ForwardAuth,
		"upstream", cfg.APIURL, "cache_ttl", cfg.CacheTTL.String(), "anonymous_role", deps.Auth.AnonymousRole().String(),
		"jwt", deps.Auth.JWT(), "api_keys", cfg.Auth.APIKeysFile != "")

	select {
	case err := <-serveErr:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down", "timeout", cfg.Limits.ShutdownTimeout)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.Limits.ShutdownTimeout)
	defer cancel()
	err = srv.Shutdown(shutdownCtx)
	if errors.Is(err, context.DeadlineExceeded) {
		// Operations still running are told to stop: each answers with what it has and
		// an UNAVAILABLE error, rather than the connection closing under the client.
		logger.Warn("shutdown timeout: ending in-flight operations")
		endOperations()
		graceCtx, cancelGrace := context.WithTimeout(context.Background(), shutdownGrace)
		defer cancelGrace()
		err = srv.Shutdown(graceCtx)
	}
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// newDeps builds the upstream client, shared cache, tenant resolver and metrics of a
// gateway configured by cfg, in this process alone. Extra client options (tests) come
// last and win.
func newDeps(cfg Config, logger *slog.Logger, clientOpts ...livestorm.Option) Deps {
	return newDepsWith(cfg, logger, nil, clientOpts...)
}

// connectCluster connects to the Redis of REDIS_URL (see package cluster).
func connectCluster(ctx context.Context, cfg Config, logger *slog.Logger) (*cluster.Cluster, error) {
	return cluster.Connect(ctx, cluster.Options{
		URL: cfg.RedisURL, Prefix: cfg.RedisPrefix,
		Replay: cfg.SubscriptionReplay, ReplayMax: cfg.SubscriptionReplayMax,
		Logger: logger,
	})
}

// newDepsWith is newDeps for one replica of several when cl is not nil (REDIS_URL): the
// limiter, the Livestorm quota figures, the cache's shared tier and invalidations, the
// bus, webhook de-duplication and the registrar's election then go through Redis.
func newDepsWith(cfg Config, logger *slog.Logger, cl *cluster.Cluster, clientOpts ...livestorm.Option) Deps {
	m := metrics.New()
	base := []livestorm.Option{
		livestorm.WithBaseURL(cfg.APIURL),
		livestorm.WithObserver(m.ObserveUpstream),
		livestorm.WithLogger(logger),
		// Retries wait at most a third of an operation's deadline (10 s by default).
		livestorm.WithRetryPolicy(livestorm.RetryPolicy{MaxTotalWait: min(10*time.Second, cfg.Limits.Timeout/3)}),
	}
	var shared cache.SharedTier
	if cl != nil {
		m.Registry.MustRegister(cl.Collectors()...)
		base = append(base, livestorm.WithLimiter(cl.Limiter(5, time.Second)), livestorm.WithRateLimitShare(cl.Quota()))
		shared = cl.Tier()
	}
	client := livestorm.New(append(base, clientOpts...)...)
	var serverCred livestorm.Credential
	if !cfg.ForwardAuth {
		serverCred = livestorm.APIToken(cfg.APIToken)
	}
	d := Deps{
		Config: cfg,
		Client: client,
		Cache: cache.New(cache.Options{
			TTL: cfg.CacheTTL,
			// A bulk job changes until it ends: pollers must see progress promptly.
			ResourceTTL:   map[string]time.Duration{"job": jobTTL, "jobTasks": jobTTL},
			Observer:      m.ObserveCache,
			AllowStale:    func(ctx context.Context) bool { return quotaNearlyExhausted(client.RateLimit(ctx)) },
			Shared:        shared,
			ResponseBytes: responseCacheBytes(cfg), // 0 turns the response cache off
		}),
		Tenants:          tenant.NewResolver(client, tenantOptions(cfg)),
		Metrics:          m,
		Logger:           logger,
		ServerCredential: serverCred,
		cluster:          cl,
	}
	if cl != nil {
		cl.Tier().Attach(d.Cache)
		d.Degraded = cl.Degraded
	}
	d.push = newPushDeps(cfg, d.Cache, m, serverCred, logger, cl)
	d.Bus = d.push.bus
	if d.push.receiver != nil {
		d.Webhooks = d.push.receiver
	}
	return d
}

// tenantOptions limits, in forwarded mode, how many new credentials each client IP may
// have verified (one /ping each); rejected ones are remembered 5 minutes either way.
func tenantOptions(cfg Config) tenant.Options {
	if !cfg.ForwardAuth {
		// The one credential is the operator's own: its workspace does not change, so it
		// is shown to Livestorm every 6 hours, not every 15 minutes (120 calls a month
		// instead of 2,880 of the 10,000); a token Livestorm stops accepting is still
		// refused on the very next call.
		return tenant.Options{TTL: serverCredentialTTL}
	}
	return tenant.Options{BeforeVerify: verificationLimit(budget.NewRates(nil), cfg.Limits.Verifications)}
}

// serverCredentialTTL is how long the server token's verification is trusted.
const serverCredentialTTL = 6 * time.Hour

// jobTTL is how long a bulk job's state is cached (job.ended webhooks evict it sooner).
const jobTTL = 2 * time.Second

// quotaNearlyExhausted says when to serve expired cache entries rather than spend the
// last calls of Livestorm's monthly quota: under 2% (at least 20 calls) left.
func quotaNearlyExhausted(rl livestorm.RateLimit) bool {
	if rl.Observed.IsZero() || rl.MonthlyLimit <= 0 {
		return false
	}
	return rl.MonthlyRemaining < max(20, rl.MonthlyLimit/50)
}

func printBanner(w io.Writer, cfg Config, addr net.Addr, demo *demoUpstream, anonymous auth.Role) {
	tcp := addr.(*net.TCPAddr)
	port := tcp.Port
	base := fmt.Sprintf("http://localhost:%d", port)
	if !tcp.IP.IsUnspecified() && !tcp.IP.IsLoopback() {
		base = "http://" + tcp.String()
	}
	fmt.Fprintf(w, "Livestorm GraphQL gateway listening on %s\n", addr)
	fmt.Fprintf(w, "  GraphiQL:  %s/\n  GraphQL:   %s/graphql (POST, GET, WebSocket, SSE)\n  Metrics:   %s/metrics\n", base, base, base)
	if demo != nil {
		fmt.Fprintf(w, "\nDemo mode: upstream is the embedded Livestorm simulator at %s\n", demo.BaseURL)
		if tcp.IP.IsLoopback() {
			fmt.Fprintf(w, "  listening on loopback only (set HOST=0.0.0.0 to reach it from other machines);")
		} else {
			fmt.Fprintf(w, "  listening on %s as HOST asked: reachable from the network;", tcp.IP)
		}
		fmt.Fprintf(w, " callers without credentials are %s\n", anonymous)
		fmt.Fprintf(w, "  workspace %q (%s)\n", demo.OrgName, demo.OrgID)
		fmt.Fprintf(w, "\nTry it:\n  curl -s %s/graphql -H 'Content-Type: application/json' \\\n    -d '{\"query\":\"{ events(first: 3) { totalCount nodes { title sessions { nodes { status registrantsCount } } } } }\"}'\n", base)
		fmt.Fprintf(w, "\nLive updates: the simulator registers someone every few seconds and runs a session every\n"+
			"30 s, delivered through signed webhooks. Open GraphiQL and run (WebSocket), or stream with curl (SSE):\n"+
			"  subscription { livestormEvents { type occurredAt person { email } session { name status registrantsCount } } }\n")
		fmt.Fprintf(w, "  curl -N %s/graphql -H 'Content-Type: application/json' -H 'Accept: text/event-stream' \\\n"+
			"    -d '{\"query\":\"subscription { registrationCreated { registration { id person { email } } session { id registrantsCount } } }\"}'\n", base)
		fmt.Fprintf(w, "\nTo use a real workspace instead: LIVESTORM_API_TOKEN=<your token> make run\n")
		fmt.Fprintf(w, "  (or LIVESTORM_FORWARD_AUTH=true to use each caller's own Authorization header)\n")
		return
	}
	if !cfg.ForwardAuth {
		fmt.Fprintf(w, "  Callers without credentials: %s (AUTH_ANONYMOUS_ROLE)\n", anonymous)
	}
}
