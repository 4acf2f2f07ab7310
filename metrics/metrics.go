// Package metrics defines the gateway's Prometheus metrics. Their names are part of the
// public contract (design.md §3.4): dashboards and alerts are built on them.
package metrics

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/trace"

	"github.com/livestorm-gateway/gateway/cache"
	"github.com/livestorm-gateway/gateway/livestorm"
)

// Metrics holds every collector, registered on its own registry so tests can create
// as many gateways as they like.
type Metrics struct {
	Registry *prometheus.Registry

	UpstreamRequests    *prometheus.CounterVec
	UpstreamDuration    *prometheus.HistogramVec
	RateLimitRemaining  *prometheus.GaugeVec
	CacheRequests       *prometheus.CounterVec
	WebhooksReceived    *prometheus.CounterVec
	SubscriptionsActive prometheus.Gauge
	Operations          *prometheus.CounterVec
	// Auth counts authentications by method (jwt, api_key, anonymous, forwarded, demo)
	// and result (ok, unauthenticated, forbidden).
	Auth *prometheus.CounterVec
	// AccessDenied counts requests refused for the caller's role, by role.
	AccessDenied      *prometheus.CounterVec
	OperationDuration *prometheus.HistogramVec

	// KnownOperation says whether an operation name may be a label value of
	// gateway_graphql_operation_duration_seconds: set it to the persisted-document
	// manifest's lookup once there is one. Nil admits the first maxOperationNames
	// distinct names and labels every other "other", so that callers sending random
	// names cannot grow the series without bound.
	KnownOperation func(opName string) bool

	namesMu sync.Mutex
	names   map[string]struct{}
	// OperationUpstreamCalls, CostRejected and QuotaExhausted belong to the limits
	// (README "Limits and budgets").
	OperationUpstreamCalls *prometheus.HistogramVec
	CostRejected           *prometheus.CounterVec
	QuotaExhausted         *prometheus.GaugeVec
	// ResponseCacheRequests counts GraphQL operations over HTTP by what the response
	// cache did: hit (answered from it), miss (executed, to be kept if it can be), skip
	// (not for the response cache: a mutation, or a query whose workspace could not be
	// verified before it ran). ResponseCacheStores counts the misses answered without
	// errors by outcome: stored, or why not (stale, raced, expired, too_large, or a
	// resolver's reason such as rate_limit).
	ResponseCacheRequests *prometheus.CounterVec
	ResponseCacheStores   *prometheus.CounterVec
}

// maxOperationNames bounds the name label of the operation histogram when no
// KnownOperation is set.
const maxOperationNames = 100

// Label values of the name label of gateway_graphql_operation_duration_seconds besides
// the operations' names.
const (
	OtherOperation     = "other"     // a name outside the bounded set
	AnonymousOperation = "anonymous" // an operation without a name
)

// New creates and registers the collectors (plus Go runtime and process collectors).
func New() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		UpstreamRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "livestorm_upstream_requests_total",
			Help: "HTTP requests sent to Livestorm, by method, templated route and status code (0 = transport error).",
		}, []string{"method", "route", "code"}),
		UpstreamDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "livestorm_upstream_request_duration_seconds",
			Help:    "Duration of HTTP requests sent to Livestorm.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"method", "route"}),
		RateLimitRemaining: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "livestorm_ratelimit_remaining",
			Help: "Requests left in Livestorm's current window, from its RateLimit-* response headers.",
		}, []string{"window"}),
		CacheRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_cache_requests_total",
			Help: "Shared-cache lookups by resource kind and result (hit, miss, stale).",
		}, []string{"resource", "result"}),
		WebhooksReceived: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_webhooks_received_total",
			Help: "Livestorm webhook deliveries received, by Livestorm event and result.",
		}, []string{"event", "result"}),
		SubscriptionsActive: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "gateway_subscriptions_active",
			Help: "GraphQL subscriptions currently open.",
		}),
		Operations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_graphql_operations_total",
			Help: "GraphQL operations executed, by operation type and whether they returned errors.",
		}, []string{"type", "result"}),
		Auth: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_auth_total",
			Help: "Caller authentications (one per HTTP request or WebSocket connection), by method and result.",
		}, []string{"method", "result"}),
		AccessDenied: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_access_denied_total",
			Help: "Requests refused because of the caller's role (persisted documents only, no role), by role.",
		}, []string{"role"}),
		OperationDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "gateway_graphql_operation_duration_seconds",
			Help: "Duration of GraphQL operations from request to response (subscriptions: until the stream is open), " +
				"by type and name (names outside a bounded set are \"other\"), with trace-id exemplars.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"type", "name"}),
		names: map[string]struct{}{},
		OperationUpstreamCalls: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "gateway_operation_upstream_calls",
			Help:    "Livestorm calls made by each GraphQL query or mutation (retries included).",
			Buckets: []float64{0, 1, 2, 5, 10, 20, 50, 100, 200},
		}, []string{"type"}),
		CostRejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_cost_rejected_total",
			Help: "Requests and operations refused by a limit before spending upstream calls, by reason (cost_limit, budget, rate_limit, public_quota, document).",
		}, []string{"reason"}),
		QuotaExhausted: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "gateway_quota_exhausted",
			Help: "1 while a workspace's Livestorm monthly quota is below the stale-serving threshold (cached data is served, stale if need be), else 0.",
		}, []string{"workspace"}),
		ResponseCacheRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_response_cache_requests_total",
			Help: "GraphQL operations over HTTP by response-cache result (hit, miss, skip).",
		}, []string{"result"}),
		ResponseCacheStores: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_response_cache_stores_total",
			Help: "Response-cache misses by outcome: stored, or why the response was not kept.",
		}, []string{"result"}),
	}
	m.Registry.MustRegister(
		m.UpstreamRequests, m.UpstreamDuration, m.RateLimitRemaining, m.CacheRequests,
		m.WebhooksReceived, m.SubscriptionsActive, m.Operations, m.OperationDuration, m.Auth, m.AccessDenied,
		m.OperationUpstreamCalls, m.CostRejected, m.QuotaExhausted,
		m.ResponseCacheRequests, m.ResponseCacheStores,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// ObserveUpstream records one HTTP attempt to Livestorm; pass it to livestorm.WithObserver.
func (m *Metrics) ObserveUpstream(info livestorm.RequestInfo) {
	m.UpstreamRequests.WithLabelValues(info.Method, info.Route, strconv.Itoa(info.Status)).Inc()
	observe(m.UpstreamDuration.WithLabelValues(info.Method, info.Route), info.Duration, info.Span)
	if !info.RateLimit.Observed.IsZero() {
		m.RateLimitRemaining.WithLabelValues("interval").Set(float64(info.RateLimit.IntervalRemaining))
		m.RateLimitRemaining.WithLabelValues("monthly").Set(float64(info.RateLimit.MonthlyRemaining))
	}
}

// ObserveCache records one shared-cache lookup; pass it as cache.Options.Observer.
func (m *Metrics) ObserveCache(resource string, r cache.Result) {
	m.CacheRequests.WithLabelValues(resource, string(r)).Inc()
}

// ObserveOperation records one GraphQL operation of type kind ("query", …) named name,
// with the trace id of sc as exemplar when it is sampled.
func (m *Metrics) ObserveOperation(kind, name string, d time.Duration, sc trace.SpanContext) {
	observe(m.OperationDuration.WithLabelValues(kind, m.operationLabel(name)), d, sc)
}

func (m *Metrics) operationLabel(name string) string {
	switch {
	case name == "":
		return AnonymousOperation
	case m.KnownOperation != nil:
		if m.KnownOperation(name) {
			return name
		}
		return OtherOperation
	}
	m.namesMu.Lock()
	defer m.namesMu.Unlock()
	if _, ok := m.names[name]; ok {
		return name
	}
	if len(m.names) < maxOperationNames {
		m.names[name] = struct{}{}
		return name
	}
	return OtherOperation
}

// observe records d on h, with an exemplar pointing at sc's trace when it was sampled
// (an exemplar of a trace that was not exported leads nowhere).
func observe(h prometheus.Observer, d time.Duration, sc trace.SpanContext) {
	if eo, ok := h.(prometheus.ExemplarObserver); ok && sc.IsSampled() {
		eo.ObserveWithExemplar(d.Seconds(), prometheus.Labels{"trace_id": sc.TraceID().String()})
		return
	}
	h.Observe(d.Seconds())
}

// Handler serves the registry in the Prometheus text format, or in OpenMetrics (which
// carries the exemplars) to scrapers that ask for it.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry, EnableOpenMetrics: true})
}
