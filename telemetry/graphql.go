package telemetry

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// Attribute keys the gateway adds beyond the semantic conventions.
const (
	// AttrDocumentHash is the SHA-256 (hex) of the GraphQL document: the hash automatic
	// persisted queries and persisted-document manifests use. The document itself is
	// never recorded: its literals may be personal data (an email in a filter).
	AttrDocumentHash = attribute.Key("gateway.graphql.document.sha256")
	// AttrErrorCodes are the distinct extensions.code values of a response's errors.
	AttrErrorCodes   = attribute.Key("gateway.graphql.error_codes")
	AttrUpstream     = attribute.Key("gateway.upstream.calls")
	AttrCacheHits    = attribute.Key("gateway.cache.hits")
	AttrCacheMisses  = attribute.Key("gateway.cache.misses")
	AttrCallerRole   = attribute.Key("gateway.caller.role")
	AttrWebhookEvent = attribute.Key("livestorm.webhook.event")
)

// GraphQLOptions configure the GraphQL extension.
type GraphQLOptions struct {
	// Tracing gives the operation spans (nil: none).
	Tracing *Tracing
	// Logger gets the access-log line of every operation. Required.
	Logger *slog.Logger
	// SlowThreshold: an operation slower than this also logs a "slow operation" warning
	// listing the upstream calls it waited on (SLOW_OPERATION_THRESHOLD; 0: never).
	SlowThreshold time.Duration
	// Observe is told of every operation that ran (metrics). Optional.
	Observe func(ctx context.Context, s OperationSummary)
	// Caller returns the id and role of the operation's caller, for the access log and
	// the span (role only: an id may be personal). Optional: "" until the front-door
	// issue's auth package provides them.
	Caller func(ctx context.Context) (id, role string)
	// OperationContext prepares the context each operation, and each subscription
	// event, runs with once its Operation exists: e.g. to feed it the operation's
	// upstream calls (livestorm.WithRequestObserver). Optional.
	OperationContext func(ctx context.Context, op *Operation) context.Context
	// Attributes are extra figures of an operation when it ends, such as its estimated
	// and actual cost (the quota issue): they go on the operation span and its
	// access-log line. Optional.
	Attributes func(ctx context.Context) []attribute.KeyValue
}

// OperationSummary is what Observe learns of one operation.
type OperationSummary struct {
	Type     string // query, mutation, subscription
	Name     string // the executed operation's name; "" when anonymous
	Duration time.Duration
	Cost
	Codes []string // distinct extensions.code of its errors
}

// GraphQLExtensions returns the gqlgen extensions that trace, measure and log every
// operation; register each with handler.Server.Use, and wrap the server's error presenter
// in PresentErrors.
//
// Per query or mutation: a span "query EventPage" (child of the HTTP span) covering
// parsing to response, with the semantic-convention graphql.operation.name/type and the
// document's hash; one access-log line; a warning when slow; Observe. Per subscription:
// the same for its setup (until the stream is open), then each event delivered gets a
// span of its own (a new trace, linked to the subscription's span and to the webhook
// delivery that published it) under which that event's loader and Livestorm spans are
// recorded. With tracing on, a field interceptor puts the event's span in the context of
// the event's fields; with tracing off there is none.
func GraphQLExtensions(o GraphQLOptions) []graphql.HandlerExtension {
	exts := []graphql.HandlerExtension{&operationExtension{o: o}}
	if o.Tracing.Enabled() {
		exts = append(exts, eventFields{})
	}
	return exts
}

type operationExtension struct{ o GraphQLOptions }

var (
	_ graphql.OperationInterceptor = (*operationExtension)(nil)
	_ graphql.ResponseInterceptor  = (*operationExtension)(nil)
)

func (*operationExtension) ExtensionName() string                   { return "Telemetry" }
func (*operationExtension) Validate(graphql.ExecutableSchema) error { return nil }

// opState is one running operation.
type opState struct {
	kind, name string
	hash       string
	start      time.Time
	op         *Operation
	// setupCodes are the error codes of a subscription's root resolver (written by the
	// setup goroutine only, until setupDone).
	setupCodes []string
	setupDone  atomic.Bool
}

type opStateKey struct{}

func (e *operationExtension) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	oc := graphql.GetOperationContext(ctx)
	st := &opState{kind: "unknown", start: oc.Stats.OperationStart}
	if oc.Operation != nil {
		st.kind, st.name = string(oc.Operation.Operation), oc.Operation.Name
	}
	if st.start.IsZero() {
		st.start = time.Now()
	}
	sum := sha256.Sum256([]byte(oc.RawQuery))
	st.hash = hex.EncodeToString(sum[:])
	ctx = context.WithValue(ctx, opStateKey{}, st)
	ctx, st.op = WithOperation(ctx)
	if e.o.OperationContext != nil {
		ctx = e.o.OperationContext(ctx, st.op)
	}
	span := trace.SpanFromContext(ctx)
	if e.o.Tracing.Enabled() {
		ctx, span = Start(ctx, spanName(st.kind, st.name), trace.WithTimestamp(st.start), trace.WithAttributes(
			semconv.GraphQLOperationTypeKey.String(st.kind), AttrDocumentHash.String(st.hash)))
		if st.name != "" {
			span.SetAttributes(semconv.GraphQLOperationName(st.name))
		}
		if st.kind == string(ast.Subscription) {
			ctx = context.WithValue(ctx, eventsKey{}, newSubscriptionEvents(e.o.Tracing.Tracer(), span, st.name))
		}
	}

	h := next(ctx)
	if st.kind == string(ast.Subscription) {
		// The root resolver has run: the stream is open (or refused). Its events are
		// traced and counted one by one (InterceptResponse).
		st.setupDone.Store(true)
		slices.Sort(st.setupCodes)
		e.finish(ctx, st, span, st.setupCodes)
		return h
	}
	done := false
	return func(ctx context.Context) *graphql.Response {
		resp := h(ctx)
		if !done && (resp == nil || resp.HasNext == nil || !*resp.HasNext) {
			done = true
			var codes []string
			if resp != nil {
				codes = errorCodes(resp.Errors)
			}
			e.finish(ctx, st, span, codes)
		}
		return resp
	}
}

// PresentErrors wraps the gqlgen error presenter so that the extension learns the codes
// of the errors a subscription's root resolver raises: gqlgen answers those outside the
// response chain, so without it a refused subscription would be logged as opened.
func PresentErrors(next graphql.ErrorPresenterFunc) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		gqlErr := next(ctx, err)
		if st, _ := ctx.Value(opStateKey{}).(*opState); st != nil && st.kind == string(ast.Subscription) && !st.setupDone.Load() {
			for _, c := range errorCodes(gqlerror.List{gqlErr}) {
				if !slices.Contains(st.setupCodes, c) {
					st.setupCodes = append(st.setupCodes, c)
				}
			}
		}
		return gqlErr
	}
}

func (e *operationExtension) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	st, _ := ctx.Value(opStateKey{}).(*opState)
	switch {
	case st == nil:
		// Refused before it could run (parse or validation error, complexity limit):
		// gqlgen answers through the response chain only.
		resp := next(ctx)
		e.logRefused(ctx, resp)
		return resp
	case st.kind != string(ast.Subscription):
		return next(ctx) // measured by InterceptOperation
	}
	// One event of a subscription, with its own cost.
	ctx, op := WithOperation(ctx)
	if e.o.OperationContext != nil {
		ctx = e.o.OperationContext(ctx, op)
	}
	resp := next(ctx)
	if resp != nil {
		c := op.Cost()
		codes := errorCodes(resp.Errors)
		SubscriptionEventsFrom(ctx).finish(c, codes)
		if e.o.Logger.Enabled(ctx, slog.LevelDebug) {
			e.o.Logger.LogAttrs(ctx, slog.LevelDebug, "subscription event", slog.String("operation", st.name),
				slog.Int("upstream_calls", c.UpstreamCalls), slog.Int("cache_hits", c.CacheHits), slog.Any("codes", codes))
		}
	}
	return resp
}

// finish ends an operation: span, Observe, access-log line and slow warning.
func (e *operationExtension) finish(ctx context.Context, st *opState, span trace.Span, codesList []string) {
	d := time.Since(st.start)
	c := st.op.Cost()
	var callerID, role string
	if e.o.Caller != nil {
		callerID, role = e.o.Caller(ctx)
	}
	var extra []attribute.KeyValue
	if e.o.Attributes != nil {
		extra = e.o.Attributes(ctx)
	}
	if span.IsRecording() {
		span.SetAttributes(AttrUpstream.Int(c.UpstreamCalls), AttrCacheHits.Int(c.CacheHits), AttrCacheMisses.Int(c.CacheMisses))
		if role != "" {
			span.SetAttributes(AttrCallerRole.String(role))
		}
		if len(codesList) > 0 {
			span.SetAttributes(AttrErrorCodes.StringSlice(codesList))
			span.SetStatus(codes.Error, strings.Join(codesList, ","))
		}
		span.SetAttributes(extra...)
	}
	span.End()
	if e.o.Observe != nil {
		e.o.Observe(ctx, OperationSummary{Type: st.kind, Name: st.name, Duration: d, Cost: c, Codes: codesList})
	}

	result := "ok"
	if len(codesList) > 0 {
		result = "error"
	}
	attrs := []slog.Attr{
		slog.String("operation", st.name), slog.String("type", st.kind), slog.String("document_sha256", st.hash),
		slog.Float64("duration_ms", millis(d)), slog.String("result", result),
		slog.Int("upstream_calls", c.UpstreamCalls), slog.Int("cache_hits", c.CacheHits), slog.Int("cache_misses", c.CacheMisses),
	}
	if len(codesList) > 0 {
		attrs = append(attrs, slog.Any("codes", codesList))
	}
	if callerID != "" {
		attrs = append(attrs, slog.String("caller", callerID))
	}
	if role != "" {
		attrs = append(attrs, slog.String("role", role))
	}
	for _, kv := range extra {
		attrs = append(attrs, slog.Any(string(kv.Key), kv.Value.AsInterface()))
	}
	e.o.Logger.LogAttrs(ctx, slog.LevelInfo, "graphql operation", attrs...)

	if e.o.SlowThreshold > 0 && d > e.o.SlowThreshold {
		calls := make([]string, len(c.Calls))
		for i, call := range c.Calls {
			calls[i] = call.String()
		}
		warn := []slog.Attr{
			slog.String("operation", st.name), slog.String("type", st.kind), slog.Float64("duration_ms", millis(d)),
			slog.Float64("threshold_ms", millis(e.o.SlowThreshold)), slog.Int("upstream_calls", c.UpstreamCalls),
			slog.Any("upstream", calls),
		}
		if n := c.UpstreamCalls - len(c.Calls); n > 0 {
			warn = append(warn, slog.Int("upstream_not_listed", n))
		}
		e.o.Logger.LogAttrs(ctx, slog.LevelWarn, "slow operation", warn...)
	}
}

// logRefused logs an operation gqlgen refused before running it.
func (e *operationExtension) logRefused(ctx context.Context, resp *graphql.Response) {
	var name string
	if oc := graphql.GetOperationContext(ctx); oc != nil {
		name = truncate(oc.OperationName, 64)
	}
	var codesList []string
	if resp != nil {
		codesList = errorCodes(resp.Errors)
	}
	e.o.Logger.LogAttrs(ctx, slog.LevelInfo, "graphql operation", slog.String("operation", name), slog.String("type", "unknown"),
		slog.String("result", "refused"), slog.Any("codes", codesList), slog.Int("upstream_calls", 0))
}

func spanName(kind, name string) string {
	if name == "" {
		return kind
	}
	return kind + " " + name
}

// errorCodes returns the distinct extensions.code values of errs, sorted.
func errorCodes(errs gqlerror.List) []string {
	var out []string
	for _, e := range errs {
		code := "UNKNOWN"
		if c, ok := e.Extensions["code"].(string); ok && c != "" {
			code = c
		}
		if !slices.Contains(out, code) {
			out = append(out, code)
		}
	}
	slices.Sort(out)
	return out
}

func millis(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// eventFields puts a subscription event's span in the context of the event's fields,
// so the loader and Livestorm spans of that event are its children.
type eventFields struct{}

var _ graphql.FieldInterceptor = eventFields{}

func (eventFields) ExtensionName() string                   { return "TelemetrySubscriptionEvents" }
func (eventFields) Validate(graphql.ExecutableSchema) error { return nil }

func (eventFields) InterceptField(ctx context.Context, next graphql.Resolver) (any, error) {
	// The fields of an event's payload are resolved with the event's response context,
	// so they have no parent field; only queries' root fields share that shape.
	if fc := graphql.GetFieldContext(ctx); fc == nil || fc.Parent != nil {
		return next(ctx)
	}
	if ev := SubscriptionEventsFrom(ctx); ev != nil {
		ctx = ev.context(ctx)
	}
	return next(ctx)
}
