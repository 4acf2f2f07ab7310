package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	gqltransport "github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/rs/cors"
	"github.com/vektah/gqlparser/v2/ast"
	"go.opentelemetry.io/otel/trace"

	"github.com/livestorm-gateway/gateway/auth"
	"github.com/livestorm-gateway/gateway/cache"
	"github.com/livestorm-gateway/gateway/cluster"
	"github.com/livestorm-gateway/gateway/graph"
	"github.com/livestorm-gateway/gateway/graph/generated"
	"github.com/livestorm-gateway/gateway/graphiql"
	"github.com/livestorm-gateway/gateway/livestorm"
	"github.com/livestorm-gateway/gateway/loaders"
	"github.com/livestorm-gateway/gateway/metrics"
	"github.com/livestorm-gateway/gateway/persisted"
	"github.com/livestorm-gateway/gateway/pubsub"
	"github.com/livestorm-gateway/gateway/subscription"
	"github.com/livestorm-gateway/gateway/telemetry"
	"github.com/livestorm-gateway/gateway/tenant"
	"github.com/livestorm-gateway/gateway/transport"
	"github.com/livestorm-gateway/gateway/transport/stream"
)

// maxBodyBytes bounds a GraphQL request body.
const maxBodyBytes = 1 << 20

// Deps are what the HTTP server is built from.
type Deps struct {
	Config  Config
	Client  *livestorm.Client
	Cache   *cache.Cache
	Tenants *tenant.Resolver
	Metrics *metrics.Metrics
	Logger  *slog.Logger
	// ServerCredential is used upstream unless callers' credentials are forwarded.
	ServerCredential livestorm.Credential
	// Webhooks handles /webhooks/livestorm; nil answers 501.
	Webhooks http.Handler
	// Bus carries webhook notifications to GraphQL subscriptions; nil disables them.
	Bus pubsub.Bus
	// SubscriptionBuffer is how many events a subscriber may fall behind by before it is
	// dropped (0: pubsub.DefaultBuffer).
	SubscriptionBuffer int
	// KeepAlive is the keep-alive interval of WebSocket (both protocols) and SSE
	// streams (0: defaultKeepAlive).
	KeepAlive time.Duration
	// Streams is cancelled when the server shuts down, ending WebSocket and SSE streams
	// that http.Server.Shutdown would otherwise wait for forever.
	Streams context.Context
	// Auth resolves each request's caller (nil: one built from Config.Auth).
	Auth *auth.Authenticator
	// Persisted is the trusted documents manifest (nil: none).
	Persisted *persisted.Store
	// WebSocketInitTimeout is how long a WebSocket may take to send connection_init
	// before it is closed with 4408 (0: 10 s).
	WebSocketInitTimeout time.Duration
	// Operations is cancelled when in-flight queries and mutations must end (shutdown
	// past SHUTDOWN_TIMEOUT): they answer with what they have and UNAVAILABLE.
	Operations context.Context
	// Caller identifies who sends a request for the limits (nil: anonymous callers by
	// client IP, role public, or admin in demo mode).
	Caller CallerInfo
	// Demo is set in demo mode (anonymous callers are admin; extensions.cost is on).
	Demo bool

	// Degraded, if set, says why this replica runs degraded ("" when it does not), for
	// /readyz: with REDIS_URL, while Redis is unreachable.
	Degraded func() string

	// push owns the bus and receiver that run closes on shutdown.
	push pushDeps
	// cluster is the Redis tier (nil in one process); registrarRenew overrides how often
	// the registering replica renews its lead (tests).
	cluster        *cluster.Cluster
	registrarRenew time.Duration

	// Tracing records spans (nil: tracing off).
	Tracing *telemetry.Tracing

	// noReuse builds loaders without cache or dedupe: the baseline of the upstream-call
	// benchmark (see loaders.Deps.NoReuse).
	noReuse bool
}

// NewServer returns the gateway's HTTP handler: every route of design.md §3.2.
func NewServer(d Deps) http.Handler {
	d.Auth = d.authenticator()
	mux := http.NewServeMux()
	lim := newLimits(d)
	gql := newGraphQLHandler(d, lim)
	allowedHeaders := d.Config.AllowedHeaders
	if allowedHeaders == nil {
		allowedHeaders = DefaultAllowedHeaders
	}
	corsMW := cors.New(cors.Options{
		AllowedOrigins: d.Config.AllowedOrigins,
		AllowedMethods: []string{http.MethodGet, http.MethodPost, http.MethodOptions, http.MethodPut, http.MethodDelete},
		AllowedHeaders: allowedHeaders,
		ExposedHeaders: exposedHeaders,
		MaxAge:         600,
	})
	mux.Handle("/graphql", corsMW.Handler(credentials(d, gql)))

	ui := graphiql.Handler(graphiql.Options{Endpoint: "/graphql", Title: "Livestorm GraphQL gateway", Logger: d.Logger})
	mux.Handle("GET /{$}", ui)
	mux.Handle("HEAD /{$}", ui)
	mux.Handle("/graphiql/", ui)

	if d.Webhooks != nil {
		mux.Handle("POST /webhooks/livestorm", d.Webhooks)
	} else {
		mux.HandleFunc("/webhooks/livestorm", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "webhook receiver not enabled", http.StatusNotImplemented)
		})
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", readiness(d, lim))
	mux.Handle("GET /metrics", d.Metrics.Handler())
	return httpObservability(d, logRequests(d.Logger, mux))
}

// exposedHeaders are the response headers a cross-origin page may read: caching and
// retry hints (ETag, Retry-After, RateLimit-*) and the request id to quote in a report.
var exposedHeaders = []string{"ETag", "Retry-After", "X-Request-Id", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"}

// defaultKeepAlive is how often idle streams get a keep-alive: well under the idle
// timeouts of common proxies and load balancers (60 s and up).
const defaultKeepAlive = 10 * time.Second

// newGraphQLHandler builds the gqlgen server with every transport of the contract.
func newGraphQLHandler(d Deps, lim *limits) http.Handler {
	// gateway_subscriptions_active counts the hub's members (subscribers), not the
	// resolver's bus subscriptions (one per group).
	cfg := generated.Config{Resolvers: &graph.Resolver{
		Client: d.Client, Logger: d.Logger,
		Bus: d.Bus, SubscriptionBuffer: d.SubscriptionBuffer,
	}}
	graph.SetComplexity(&cfg.Complexity)
	srv := handler.New(generated.NewExecutableSchema(cfg))

	for _, t := range streamTransports(d) {
		srv.AddTransport(t)
	}
	// Streaming transports first (WebSocket, SSE in both graphql-sse modes, Apollo
	// multipart), all fed by one subscription hub; then queries and mutations over plain
	// HTTP (POST and GET decline streaming requests anyway); Fallback last answers what
	// none claimed (405/415).
	for _, t := range streamTransports(d) {
		srv.AddTransport(t)
	}
	srv.AddTransport(gqltransport.Options{})
	httpLimits := transport.Limits{MaxBodyBytes: maxBodyBytes, MaxBatch: d.Config.MaxBatch}
	caching := responseCaching(d) // see responsecache.go
	srv.AddTransport(transport.GET{Limits: httpLimits, Caching: caching})
	srv.AddTransport(transport.POST{Limits: httpLimits, Caching: caching})
	srv.AddTransport(transport.Fallback{Allow: "GET, POST, PUT, DELETE, OPTIONS"}) // PUT/DELETE: graphql-sse reservations

	queryCache := lru.New[*ast.QueryDocument](1000)
	srv.SetQueryCache(queryCache)
	srv.Use(extension.Introspection{})
	// Right after Introspection (it may turn introspection off again for public callers)
	// and before any extension that wants to know which fields will not run
	// (graph.ForbiddenField).
	srv.Use(graph.NewAccess(graph.AccessConfig{
		PublicIntrospection: d.Config.Introspection, Logger: d.Logger, Forwarded: d.Config.ForwardAuth,
		Denied: func(role string) { d.Metrics.AccessDenied.WithLabelValues(role).Inc() },
	}))
	if d.Persisted != nil {
		// Before APQ, which must never see a restricted caller's new hash or a hash the
		// manifest does not hold (see persisted.Extension).
		srv.Use(persisted.Extension{Store: d.Persisted, Policy: d.Config.PersistedOnly, Logger: d.Logger,
			Denied: func(role string) { d.Metrics.AccessDenied.WithLabelValues(role).Inc() }})
	}
	srv.Use(transport.AutomaticPersistedQuery{Cache: lru.New[string](1000)})
	srv.Use(extension.FixedComplexityLimit(d.Config.MaxComplexity))
	srv.Use(graph.DepthLimit(d.Config.MaxDepth))
	for _, ext := range telemetry.GraphQLExtensions(graphQLTelemetry(d)) {
		srv.Use(ext)
	}
	srv.SetErrorPresenter(telemetry.PresentErrors(graph.ErrorPresenter(d.Logger)))
	srv.SetRecoverFunc(func(ctx context.Context, err any) error {
		d.Logger.ErrorContext(ctx, "resolver panic", "panic", fmt.Sprint(err))
		return errors.New("internal error")
	})

	deps := loaders.Deps{Client: d.Client, Cache: d.Cache, Tenants: d.Tenants, NoReuse: d.noReuse}
	// Fresh loaders per response: one per query or mutation, one per subscription event,
	// so an event's nested fields are read anew rather than from the subscription's start.
	// The queries of one batch share theirs (transport.Shared), so a batch dedupes across
	// its operations; mutations always get fresh ones.
	srv.AroundResponses(func(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
		ctx = loaders.NewContext(ctx, responseLoaders(ctx, deps))
		ctx, stale := cache.WithStaleTracker(ctx)
		resp := next(ctx)
		if resp != nil {
			if kinds := stale.Resources(); len(kinds) > 0 {
				if resp.Extensions == nil {
					resp.Extensions = map[string]any{}
				}
				resp.Extensions["stale"] = map[string]any{"resources": kinds, "reason": "Livestorm quota nearly exhausted; serving cached data"}
			}
		}
		return resp
	})
	srv.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		op := graphql.GetOperationContext(ctx)
		kind := "unknown"
		if op != nil && op.Operation != nil {
			kind = string(op.Operation.Operation)
		}
		if kind == string(ast.Subscription) {
			// A subscription's root resolver runs before any response: give it loaders
			// of its own to learn the verified workspace it subscribes to.
			ctx = loaders.NewContext(ctx, loaders.New(deps, credentialFrom(ctx)))
		}
		h := next(ctx)
		return func(ctx context.Context) *graphql.Response {
			resp := h(ctx)
			if resp != nil {
				result := "ok"
				if len(resp.Errors) > 0 {
					result = "error"
				}
				d.Metrics.Operations.WithLabelValues(kind, result).Inc()
			}
			return resp
		}
	})
	lim.use(srv, queryCache)
	return lim.middleware(limitBody(srv))
}

type batchLoadersKey struct{}

// responseLoaders returns the loaders of one response: those of the query's batch segment
// when it is part of a batch, fresh ones otherwise.
func responseLoaders(ctx context.Context, deps loaders.Deps) *loaders.Loaders {
	fresh := func() *loaders.Loaders {
		l := loaders.New(deps, credentialFrom(ctx))
		l.CollectReads(cache.ReadsFrom(ctx)) // for the response cache, when it runs this query
		return l
	}
	if graphql.HasOperationContext(ctx) {
		if op := graphql.GetOperationContext(ctx).Operation; op != nil && op.Operation == ast.Query {
			return transport.Shared(ctx, batchLoadersKey{}, fresh)
		}
	}
	return fresh()
}

// limitBody refuses request bodies over maxBodyBytes with 413 before gqlgen reads them
// (gqlgen would answer a truncated body with a generic decoding error).
func limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > maxBodyBytes {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusRequestEntityTooLarge)
			_, _ = fmt.Fprintf(w, `{"errors":[{"message":"the request body exceeds %d bytes","extensions":{"code":"%s"}}]}`, maxBodyBytes, transport.CodeBadRequest)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
		next.ServeHTTP(w, r)
	})
}

type credentialKey struct{}

func withCredential(ctx context.Context, c livestorm.Credential) context.Context {
	return context.WithValue(ctx, credentialKey{}, c)
}

func credentialFrom(ctx context.Context) livestorm.Credential {
	c, _ := ctx.Value(credentialKey{}).(livestorm.Credential)
	return c
}

// credentials resolves each request's caller (auth.Caller, in the context; a credential
// that fails is answered 401 here, before any GraphQL work) and decides which Livestorm
// credential it runs with: the server's token, or in forwarded mode the caller's
// Authorization header (verified lazily, on the first upstream call, so introspection
// needs none). A WebSocket's caller is resolved from its connection_init instead
// (websocketInit). Streaming requests are tied to the server's stream context so
// shutdown ends them.
func credentials(d Deps, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		presented, err := presentedCredentials(r)
		if err != nil {
			ip := auth.ClientIP(r.RemoteAddr, strings.Join(r.Header.Values("X-Forwarded-For"), ","), d.Config.Auth.TrustedProxies)
			refuse(w, r, d, auth.Caller{ID: "ip:" + ip.String(), IP: ip}, err)
			return
		}
		ctx := r.Context()
		if strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
			ctx = withUpgradeCredentials(ctx, presented)
		} else {
			caller, err := d.Auth.Authenticate(ctx, presented)
			if err != nil {
				refuse(w, r, d, caller, err)
				return
			}
			ctx = auth.NewContext(ctx, caller)
		}
		cred := d.ServerCredential
		if d.Config.ForwardAuth {
			cred, _ = livestorm.ParseAuthorization(presented.Authorization)
		}
		ctx = withCredential(ctx, cred)
		if d.Streams != nil && isStream(r) {
			var cancel context.CancelFunc
			ctx, cancel = context.WithCancel(ctx)
			stop := context.AfterFunc(d.Streams, cancel)
			defer stop()
			defer cancel()
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

func isStream(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket") ||
		strings.Contains(r.Header.Get("Accept"), "text/event-stream")
}

// websocketInit resolves a WebSocket connection's caller from its connection_init
// payload (Authorization, X-API-Key; see initCredentials), fixed for the connection: a
// credential that fails, or none when anonymous callers are refused, closes the
// connection at init. In forwarded mode the payload's Authorization is the Livestorm
// credential (a missing or rejected one closes the connection); otherwise the server
// credential is verified, so subscriptions know their workspace from the start.
func websocketInit(d Deps) gqltransport.WebsocketInitFunc {
	return func(ctx context.Context, payload gqltransport.InitPayload) (context.Context, *gqltransport.InitPayload, error) {
		presented := initCredentials(ctx, payload)
		caller, err := d.Auth.Authenticate(ctx, presented)
		if err != nil {
			logRefusal(ctx, d, caller, "", err)
			code, _ := refusalCode(err)
			return ctx, nil, fmt.Errorf("%s: %s", code, err)
		}
		ctx = auth.NewContext(ctx, caller)
		cred := credentialFrom(ctx)
		if d.Config.ForwardAuth {
			cred, err = livestorm.ParseAuthorization(presented.Authorization)
			if err != nil {
				return ctx, nil, errors.New("UNAUTHENTICATED: send your Livestorm credential as Authorization in the connection_init payload")
			}
		}
		t, err := d.Tenants.Resolve(ctx, cred)
		if err != nil {
			code, _, _ := graph.Classify(err)
			return ctx, nil, fmt.Errorf("%s: the Livestorm credential was not accepted", code)
		}
		return tenant.NewContext(withCredential(ctx, cred), t), nil, nil
	}
}

// streamTransports are the streaming transports of /graphql (WebSocket, SSE in both
// graphql-sse modes, Apollo multipart), all fed by one subscription hub.
func streamTransports(d Deps) []graphql.Transport {
	keepAlive := d.KeepAlive
	if keepAlive <= 0 {
		keepAlive = defaultKeepAlive
	}
	hub := subscription.New(subscription.Options{
		Scope:  subscriberScope(d),
		Role:   callerRole,
		Detach: detachCaller,
		Buffer: d.SubscriptionBuffer,
		Active: d.Metrics.SubscriptionsActive,
		Logger: d.Logger.With("component", "subscriptions"),
	})
	o := stream.Options{
		Hub:             hub,
		KeepAlive:       keepAlive,
		Heartbeat:       min(keepAlive, stream.DefaultHeartbeat),
		InitTimeout:     d.WebSocketInitTimeout,
		InitFunc:        websocketInit(d),
		OriginPatterns:  originPatterns(d.Config.AllowedOrigins),
		Owner:           func(ctx context.Context) string { return credentialFrom(ctx).Fingerprint() },
		Streams:         d.Streams,
		MaxMessageBytes: maxBodyBytes,
		Logger:          d.Logger,
	}
	return []graphql.Transport{stream.NewWebSocket(o), stream.NewSSE(o), stream.NewMultipart(o)}
}

// subscriberScope gives the hub a subscriber's verified workspace: the tenant the
// WebSocket init verified, or (SSE, multipart) the request's credential verified now.
func subscriberScope(d Deps) func(ctx context.Context) (context.Context, string, error) {
	return func(ctx context.Context) (context.Context, string, error) {
		cred := credentialFrom(ctx)
		if t, ok := tenant.FromContext(ctx); ok && t.Credential.Fingerprint() == cred.Fingerprint() {
			return ctx, t.Scope, nil
		}
		t, err := d.Tenants.Resolve(ctx, cred)
		if err != nil {
			return ctx, "", err
		}
		return tenant.NewContext(ctx, t), t.Scope, nil
	}
}

// callerRole is the role a caller's subscriptions run as: subscribers are grouped (one
// execution per group) by workspace, role, document and variables, so two roles never
// share an execution (they may see different fields).
func callerRole(ctx context.Context) string {
	c, _ := auth.CallerFrom(ctx)
	return c.Role.String()
}

// detachCaller is what a subscription group runs with: the caller's credential, identity
// and verified tenant, on the hub's own context (nothing of one subscriber's connection).
func detachCaller(base, ctx context.Context) context.Context {
	out := withCredential(base, credentialFrom(ctx))
	if c, ok := auth.CallerFrom(ctx); ok {
		out = auth.NewContext(out, c)
	}
	// The group's setup span is a child of the request that started it (its events are
	// traces of their own, linked to it): without a parent, nothing would be traced.
	if span := trace.SpanFromContext(ctx); span.SpanContext().IsValid() {
		out = trace.ContextWithSpan(out, span)
	}
	if t, ok := tenant.FromContext(ctx); ok {
		out = tenant.NewContext(out, t)
	}
	return out
}

// originPatterns turns CORS origins into the host patterns the WebSocket library checks
// the Origin header against; same-origin connections are always accepted.
func originPatterns(origins []string) []string {
	var out []string
	for _, o := range origins {
		if o == "*" {
			return []string{"*"}
		}
		if u, err := url.Parse(o); err == nil {
			out = append(out, u.Host)
		}
	}
	return out
}

// readiness answers 200 when Livestorm accepts the server credential (verified at most
// once per verification TTL, so probes cost no quota), or when Livestorm is unreachable
// but the cache still holds answers to serve. In forwarded mode there is no credential
// of its own to check, so it is ready once Livestorm answers at all. It says "degraded"
// (still 200: cached data is served) while the monthly quota is below the stale-serving
// threshold, and while this replica runs alone because Redis is unreachable.
func readiness(d Deps, lim *limits) http.HandlerFunc {
	var mu sync.Mutex
	return func(w http.ResponseWriter, r *http.Request) {
		mu.Lock() // one probe at a time reaches Livestorm
		defer mu.Unlock()
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		var err error
		var t tenant.Tenant
		if d.ServerCredential.IsZero() {
			err = d.Client.Ping(livestorm.ContextWithCredential(ctx, livestorm.APIToken("readiness-probe")))
			if livestorm.KindOf(err) == livestorm.KindUnauthorized {
				err = nil // Livestorm answered: reachable
			}
		} else {
			t, err = d.Tenants.Resolve(ctx, d.ServerCredential)
		}
		rl := d.Client.RateLimit(livestorm.ContextWithCredential(ctx, d.ServerCredential))
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		degraded := ""
		if d.Degraded != nil {
			degraded = d.Degraded()
		}
		switch {
		case err == nil && t.OrgID != "" && lim.quotaState(t.OrgID, rl):
			_, _ = fmt.Fprintf(w, "ready (degraded: Livestorm monthly quota nearly exhausted, %d of %d calls left; serving cached data)\n",
				rl.MonthlyRemaining, rl.MonthlyLimit)
		case err == nil && degraded != "":
			// Still ready: the replica serves, from its own cache; say so for operators.
			_, _ = fmt.Fprintf(w, "ready (degraded: %s)\n", degraded)
		case err == nil:
			_, _ = w.Write([]byte("ready\n"))
		case livestorm.KindOf(err) == livestorm.KindUnavailable && d.Cache.Len() > 0:
			_, _ = w.Write([]byte("ready (Livestorm unreachable; serving cached data)\n"))
		default:
			w.WriteHeader(http.StatusServiceUnavailable)
			code, msg, _ := graph.Classify(err)
			_, _ = fmt.Fprintf(w, "not ready: %s: %s\n", code, msg)
		}
	}
}

// logRequests logs one line per request at debug level, and server errors at warn.
func logRequests(logger *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		level := slog.LevelDebug
		if rec.status >= 500 && rec.status != http.StatusNotImplemented {
			level = slog.LevelWarn
		}
		if logger.Enabled(r.Context(), level) { // no attributes built for a line not written
			logger.Log(r.Context(), level, "http request", "method", r.Method, "path", r.URL.Path,
				"status", rec.status, "duration", time.Since(start))
		}
	})
}

// statusRecorder remembers the status code while staying transparent to the WebSocket
// upgrade and SSE flushing (http.ResponseController unwraps it).
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func (s *statusRecorder) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
