package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/livestorm-gateway/gateway/auth"
	"github.com/livestorm-gateway/gateway/budget"
	"github.com/livestorm-gateway/gateway/cache"
	"github.com/livestorm-gateway/gateway/graph"
	"github.com/livestorm-gateway/gateway/livestorm"
	"github.com/livestorm-gateway/gateway/metrics"
	"github.com/livestorm-gateway/gateway/tenant"
)

// Limits and budgets: who may spend what (README "Limits and budgets").
//
//   - per operation: the worst-case upstream calls (graph.CostLimit) and the document's
//     size (graph.DocumentLimits), both before anything runs;
//   - per caller: a request rate and an hourly allowance of upstream calls (package
//     budget), and for public callers a share of the workspace's monthly quota;
//   - per request: a deadline, and an answer (never a bare EOF) when the gateway stops.

// callerIdentity is who sends a request, as far as limits are concerned: ID keys the
// caller's budget and rate, Role picks its limits (one of roles), IP is the client
// address (verifications in forwarded mode are limited per IP).
type callerIdentity struct {
	ID, Role, IP string
}

// CallerInfo tells the limits who sends the request of ctx (tests substitute their own;
// the gateway uses authCaller).
type CallerInfo func(ctx context.Context) callerIdentity

// unidentified is the caller of a request package auth has not resolved yet: a WebSocket
// upgrade, whose caller comes with its connection_init.
const unidentified = "unidentified"

// authCaller is the caller package auth resolved for the request (JWT subject, API-key
// name or client IP, with its role; the client IP as TRUSTED_PROXIES says). A request
// that reached the limits without one (none does: the credentials middleware runs first)
// fails closed, as one public caller.
func authCaller(ctx context.Context) callerIdentity {
	c, ok := auth.CallerFrom(ctx)
	if !ok {
		return callerIdentity{ID: unidentified, Role: rolePublic}
	}
	id := callerIdentity{ID: c.ID, Role: c.Role.String()}
	if c.IP.IsValid() {
		id.IP = c.IP.String()
	}
	return id
}

// limits holds the per-caller state of one gateway and applies every limit.
type limits struct {
	cfg     LimitsConfig
	caller  CallerInfo
	costExt bool
	spend   *budget.Spend
	rates   *budget.Rates
	client  *livestorm.Client
	tenants *tenant.Resolver
	metrics *metrics.Metrics
	logger  *slog.Logger
	ops     context.Context

	trusted []netip.Prefix // TRUSTED_PROXIES, for callers auth has not named yet

	quotaMu  sync.Mutex
	quotaLow map[string]bool // workspace -> below the stale-serving threshold, for log transitions
}

func newLimits(d Deps) *limits {
	caller := d.Caller
	if caller == nil {
		caller = authCaller
	}
	return &limits{
		cfg: d.Config.Limits, caller: caller, costExt: d.Config.Limits.CostExtension || d.Demo,
		spend: budget.NewSpend(nil), rates: budget.NewRates(nil),
		client: d.Client, tenants: d.Tenants, metrics: d.Metrics, logger: d.Logger, ops: d.Operations,
		quotaLow: map[string]bool{}, trusted: d.Config.Auth.TrustedProxies,
	}
}

// connectionCaller names a request that has no caller yet (a WebSocket upgrade) by its
// client IP, as package auth would, so that upgrades are rated per client.
func (l *limits) connectionCaller(r *http.Request) callerIdentity {
	ip := auth.ClientIP(r.RemoteAddr, strings.Join(r.Header.Values("X-Forwarded-For"), ","), l.trusted).String()
	return callerIdentity{ID: "ip:" + ip, Role: rolePublic, IP: ip}
}

// use installs the document limits, the cost limit and the per-operation budget,
// quota, deadline and accounting on srv (after the other extensions: the document
// limits run after APQ has put the query in place, and the response accounting inside
// the response middleware that creates the cache tracker).
func (l *limits) use(srv interface {
	Use(graphql.HandlerExtension)
	SetParserTokenLimit(int)
}, queries graphql.Cache[*ast.QueryDocument]) {
	srv.SetParserTokenLimit(l.cfg.MaxTokens)
	doc := graph.DocumentLimitOptions{
		MaxTokens: l.cfg.MaxTokens, MaxAliases: l.cfg.MaxAliases, MaxFields: l.cfg.MaxFields,
		MaxSelectionFields: l.cfg.MaxSelectionFields, MaxDirectives: l.cfg.MaxDirectives,
		Cache:    queries,
		Rejected: func(context.Context, string) { l.metrics.CostRejected.WithLabelValues("document").Inc() },
	}
	if doc.MaxTokens+doc.MaxAliases+doc.MaxFields+doc.MaxSelectionFields+doc.MaxDirectives > 0 {
		srv.Use(graph.DocumentLimits(doc))
	}
	srv.Use(graph.CostLimit(graph.CostOptions{
		Limit: func(ctx context.Context) (int, bool) { return l.cfg.MaxUpstreamCalls.of(l.caller(ctx).Role) },
		Extra: func(ctx context.Context) int { return l.verificationCost(credentialFrom(ctx)) },
		Rejected: func(context.Context, graph.Cost) {
			l.metrics.CostRejected.WithLabelValues("cost_limit").Inc()
		},
	}))
	srv.Use(operationLimits{l})
}

// verificationCost is what showing cred to Livestorm costs before the first fetch: nothing
// when it was verified lately, one /ping for an API token, up to two calls for OAuth.
func (l *limits) verificationCost(cred livestorm.Credential) int {
	if cred.IsZero() {
		return 0
	}
	if _, ok := l.tenants.Verified(cred); ok {
		return 0
	}
	if cred.IsOAuth() {
		return 2
	}
	return 1
}

// allowRequest applies the caller's request rate.
func (l *limits) allowRequest(c callerIdentity) (time.Duration, bool) {
	r, limited := l.cfg.RateLimit.of(c.Role)
	if !limited {
		return 0, true
	}
	return l.rates.Allow(c.ID, r.PerSecond, r.Burst)
}

func (l *limits) rateRefusal(c callerIdentity, wait time.Duration) *graph.LimitError {
	r, _ := l.cfg.RateLimit.of(c.Role)
	return &graph.LimitError{Code: graph.CodeRateLimited, RetryAfter: wait,
		Message: fmt.Sprintf("too many requests: this caller may send %s per second (bursts of %d); retry later", formatRate(r.PerSecond), r.Burst)}
}

func formatRate(r float64) string { return strconv.FormatFloat(r, 'f', -1, 64) }

type requestChargedKey struct{}

// middleware applies the request rate to every HTTP request (429 with Retry-After), and
// prepares what the operation limits need: the HTTP status of refusals found inside
// gqlgen, and the end of in-flight operations at shutdown.
func (l *limits) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		c := l.caller(ctx)
		if c.ID == unidentified {
			c = l.connectionCaller(r)
		}
		if wait, ok := l.allowRequest(c); !ok {
			l.metrics.CostRejected.WithLabelValues("rate_limit").Inc()
			writeRefusal(w, http.StatusTooManyRequests, l.rateRefusal(c, wait))
			return
		}
		if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
			// A WebSocket's operations are charged one by one (operationLimits).
			ctx = context.WithValue(ctx, requestChargedKey{}, true)
		}
		if !isStream(r) {
			hint := &statusHint{}
			ctx = context.WithValue(ctx, statusHintKey{}, hint)
			w = &hintWriter{ResponseWriter: w, hint: hint}
			if l.ops != nil {
				// Shutdown ends what is still running after SHUTDOWN_TIMEOUT: its
				// resolvers return, and the client gets what finished plus UNAVAILABLE.
				var cancel context.CancelCauseFunc
				ctx, cancel = context.WithCancelCause(ctx)
				stop := context.AfterFunc(l.ops, func() { cancel(graph.ErrShuttingDown) })
				defer stop()
				defer cancel(nil)
			}
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// writeRefusal answers a plain HTTP request with a GraphQL error response.
func writeRefusal(w http.ResponseWriter, status int, e *graph.LimitError) {
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(e.RetryAfter.Seconds()))))
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"errors": gqlerror.List{e.GraphQL()}})
}

// statusHint lets a refusal decided inside gqlgen (which answers 200) set the HTTP status
// and Retry-After of a plain HTTP response.
type statusHint struct {
	status     int
	retryAfter time.Duration
}

type statusHintKey struct{}

func hintStatus(ctx context.Context, status int, retryAfter time.Duration) {
	if h, _ := ctx.Value(statusHintKey{}).(*statusHint); h != nil {
		h.status, h.retryAfter = status, retryAfter
	}
}

type hintWriter struct {
	http.ResponseWriter
	hint  *statusHint
	wrote bool
}

func (w *hintWriter) WriteHeader(code int) {
	if !w.wrote {
		w.wrote = true
		if w.hint.status != 0 && code == http.StatusOK {
			code = w.hint.status
			if w.hint.retryAfter > 0 {
				w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(w.hint.retryAfter.Seconds()))))
			}
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *hintWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

func (w *hintWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// operationLimits applies, per query or mutation, the public share of the quota, the
// caller's hourly budget and the deadline, and accounts for what the operation spent.
type operationLimits struct{ l *limits }

var _ interface {
	graphql.OperationInterceptor
	graphql.ResponseInterceptor
} = operationLimits{}

func (operationLimits) ExtensionName() string                   { return "OperationLimits" }
func (operationLimits) Validate(graphql.ExecutableSchema) error { return nil }

// opStats is what one operation spent, filled as it runs.
type opStats struct {
	kind        string
	estimated   int
	calls       livestorm.CallCounter
	reservation *budget.Reservation
	once        sync.Once
}

type opStatsKey struct{}

func (o operationLimits) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	l := o.l
	op := graphql.GetOperationContext(ctx)
	if op == nil || op.Operation == nil {
		return next(ctx)
	}
	kind := op.Operation.Operation
	c := l.caller(ctx)
	if charged, _ := ctx.Value(requestChargedKey{}).(bool); !charged {
		if wait, ok := l.allowRequest(c); !ok {
			l.metrics.CostRejected.WithLabelValues("rate_limit").Inc()
			return refuseOperation(l.rateRefusal(c, wait))
		}
	}
	if kind == ast.Subscription {
		return next(ctx) // priced per event by CostLimit; budgets do not apply
	}
	st := &opStats{kind: string(kind)}
	if cost := graph.OperationCost(ctx); cost != nil {
		st.estimated = cost.Estimated
	}

	cacheOnly := false
	if c.Role == rolePublic && st.estimated > 0 {
		if refusal := l.publicShareSpent(ctx); refusal != nil {
			if kind == ast.Mutation {
				l.metrics.CostRejected.WithLabelValues("public_quota").Inc()
				hintStatus(ctx, http.StatusTooManyRequests, refusal.RetryAfter)
				return refuseOperation(refusal)
			}
			ctx = cache.WithCacheOnly(ctx, refusal)
			cacheOnly = true
		}
	}
	if perHour, limited := l.cfg.UpstreamBudget.of(c.Role); limited && !cacheOnly && st.estimated > 0 {
		r, wait, ok := l.spend.Reserve(c.ID, perHour, st.estimated)
		if !ok {
			l.metrics.CostRejected.WithLabelValues("budget").Inc()
			hintStatus(ctx, http.StatusTooManyRequests, wait)
			return refuseOperation(&graph.LimitError{Code: graph.CodeRateLimited, RetryAfter: wait,
				Message: fmt.Sprintf("this caller's allowance of %d Livestorm calls per hour cannot cover this operation (up to %d calls) now; retry later or ask for less",
					perHour, st.estimated),
				Extensions: map[string]any{"cost": map[string]any{"estimated": st.estimated}}})
		}
		st.reservation = r
	}

	ctx = livestorm.ContextWithCallCounter(ctx, &st.calls)
	ctx = context.WithValue(ctx, opStatsKey{}, st)
	cancel := context.CancelFunc(func() {})
	if l.cfg.Timeout > 0 {
		ctx, cancel = context.WithTimeoutCause(ctx, l.cfg.Timeout, graph.ErrOperationTimeout)
	}
	h := next(ctx)
	var done sync.Once
	return func(ctx context.Context) *graphql.Response {
		resp := h(ctx)
		if resp == nil || resp.HasNext == nil || !*resp.HasNext {
			done.Do(cancel) // the last response (a @defer query has several)
		}
		return resp
	}
}

// InterceptResponse accounts for a query's or mutation's spend once it has run: the
// budget is charged what was really spent, the histogram observed, extensions.cost added.
func (o operationLimits) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	resp := next(ctx)
	st, _ := ctx.Value(opStatsKey{}).(*opStats)
	if st == nil || resp == nil {
		return resp
	}
	st.once.Do(func() {
		l := o.l
		calls := st.calls.Calls()
		st.reservation.Settle(int(calls))
		l.metrics.OperationUpstreamCalls.WithLabelValues(st.kind).Observe(float64(calls))
		l.observeQuota(ctx)
		if l.costExt {
			var hits int64
			if t := cache.StaleTrackerFrom(ctx); t != nil {
				hits = t.Hits()
			}
			if resp.Extensions == nil {
				resp.Extensions = map[string]any{}
			}
			resp.Extensions["cost"] = map[string]any{"estimated": st.estimated, "upstreamCalls": calls, "cacheHits": hits}
		}
	})
	return resp
}

func refuseOperation(e *graph.LimitError) graphql.ResponseHandler {
	return graphql.OneShot(&graphql.Response{Errors: gqlerror.List{e.GraphQL()}})
}

// publicShareSpent returns the refusal public callers get once the workspace's remaining
// monthly quota is below what is reserved for everyone else (1 - PUBLIC_QUOTA_SHARE of
// it), or nil while they may still spend.
func (l *limits) publicShareSpent(ctx context.Context) *graph.LimitError {
	share := l.cfg.PublicQuotaShare
	if share >= 1 {
		return nil
	}
	rl := l.client.RateLimit(livestorm.ContextWithCredential(ctx, credentialFrom(ctx)))
	if rl.Observed.IsZero() || rl.MonthlyLimit <= 0 {
		return nil
	}
	reserved := int(math.Ceil((1 - share) * float64(rl.MonthlyLimit)))
	if rl.MonthlyRemaining >= reserved {
		return nil
	}
	wait := time.Hour
	if d := time.Until(rl.Reset); d > 0 {
		wait = d
	}
	return &graph.LimitError{Code: graph.CodeRateLimited, RetryAfter: wait,
		Message: fmt.Sprintf("anonymous callers have used their share (%s%%) of this workspace's Livestorm quota for the month: only cached data is served to them until it resets",
			formatRate(share*100))}
}

// observeQuota updates gateway_quota_exhausted for the operation's workspace (once its
// credential is verified, so the workspace label is trustworthy) and logs when the
// workspace crosses the stale-serving threshold.
func (l *limits) observeQuota(ctx context.Context) {
	cred := credentialFrom(ctx)
	if cred.IsZero() {
		return
	}
	t, ok := l.tenants.Verified(cred)
	if !ok || t.OrgID == "" {
		return
	}
	l.quotaState(t.OrgID, l.client.RateLimit(livestorm.ContextWithCredential(ctx, cred)))
}

// quotaState records whether a workspace's monthly quota is below the stale-serving
// threshold and returns it.
func (l *limits) quotaState(workspace string, rl livestorm.RateLimit) bool {
	low := quotaNearlyExhausted(rl)
	l.metrics.QuotaExhausted.WithLabelValues(workspace).Set(map[bool]float64{false: 0, true: 1}[low])
	l.quotaMu.Lock()
	was := l.quotaLow[workspace]
	l.quotaLow[workspace] = low
	l.quotaMu.Unlock()
	switch {
	case low && !was:
		l.logger.Warn("Livestorm monthly quota nearly exhausted: serving cached data, stale if need be",
			"workspace", workspace, "remaining", rl.MonthlyRemaining, "limit", rl.MonthlyLimit, "resets", rl.Reset)
	case !low && was:
		l.logger.Info("Livestorm monthly quota available again", "workspace", workspace, "remaining", rl.MonthlyRemaining)
	}
	return low
}

// verificationLimit returns the tenant.Options.BeforeVerify of forwarded mode: each
// client IP may have lim new credentials shown to Livestorm (one /ping each).
func verificationLimit(rates *budget.Rates, lim rateLimit) func(context.Context) error {
	if lim.PerSecond < 0 {
		return nil
	}
	return func(ctx context.Context) error {
		// The caller's address as package auth named it (behind TRUSTED_PROXIES, the
		// client's, not the load balancer's).
		c, _ := auth.CallerFrom(ctx)
		if !c.IP.IsValid() {
			return nil
		}
		ip := c.IP.String()
		if wait, ok := rates.Allow("verify:"+ip, lim.PerSecond, lim.Burst); !ok {
			return &graph.LimitError{Code: graph.CodeRateLimited, RetryAfter: wait,
				Message: "too many new Livestorm credentials from this address; retry later"}
		}
		return nil
	}
}
