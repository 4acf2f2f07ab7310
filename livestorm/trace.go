package livestorm

import (
	"context"
	"net/url"
	"strconv"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/livestorm-gateway/gateway/telemetry"
)

type requestObserverKey struct{}

// WithRequestObserver returns ctx whose calls also report each HTTP attempt to f, after
// the client's own observer (WithObserver): e.g. to count the upstream calls of one
// GraphQL operation. Observers added to a context derived from one that has some run
// after them. f runs synchronously on the calling goroutine.
//
// A fetch shared by concurrent callers (the cache's singleflight) runs with the context
// of the caller that started it, so only that caller's observers see its attempts.
func WithRequestObserver(ctx context.Context, f func(RequestInfo)) context.Context {
	if f == nil {
		return ctx
	}
	if prev, ok := ctx.Value(requestObserverKey{}).(func(RequestInfo)); ok {
		inner := f
		f = func(info RequestInfo) { prev(info); inner(info) }
	}
	return context.WithValue(ctx, requestObserverKey{}, f)
}

func observeContext(ctx context.Context, info RequestInfo) {
	if f, ok := ctx.Value(requestObserverKey{}).(func(RequestInfo)); ok {
		f(info)
	}
}

// Attribute keys of the client span beyond the HTTP semantic conventions.
const (
	attrRateLimitWait    = "livestorm.rate_limit.wait_seconds"
	attrMonthlyRemaining = "livestorm.rate_limit.monthly_remaining"
	attrErrorKind        = "livestorm.error.kind"
)

// startSpan starts the client span of one HTTP attempt, as a child of ctx's span (none
// when ctx's span is not recording). The span begins when the attempt started waiting
// for the rate limiter (queued), so the trace shows the time the caller waited;
// livestorm.rate_limit.wait_seconds says how much of it was pacing. It is named and
// attributed by the templated route: URLs carry ids and queries carry emails, so
// url.full is never recorded. Livestorm takes no part in tracing, so no traceparent is
// sent to it (and no baggage, which may carry the caller's data).
func (c *Client) startSpan(ctx context.Context, method, route string, attempt int, queued time.Time) (context.Context, trace.Span) {
	if !trace.SpanFromContext(ctx).IsRecording() {
		return ctx, trace.SpanFromContext(ctx)
	}
	attrs := []attribute.KeyValue{
		semconv.HTTPRequestMethodKey.String(method),
		semconv.URLTemplate(route),
		telemetry.Seconds(attrRateLimitWait, time.Since(queued)),
	}
	if attempt > 1 {
		attrs = append(attrs, semconv.HTTPRequestResendCount(attempt-1))
	}
	if u, err := url.Parse(c.baseURL); err == nil {
		attrs = append(attrs, semconv.ServerAddress(u.Hostname()))
		if p, err := strconv.Atoi(u.Port()); err == nil {
			attrs = append(attrs, semconv.ServerPort(p))
		} else if u.Scheme == "https" {
			attrs = append(attrs, semconv.ServerPort(443))
		} else {
			attrs = append(attrs, semconv.ServerPort(80))
		}
	}
	return telemetry.Start(ctx, method+" "+route, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithTimestamp(queued), trace.WithAttributes(attrs...))
}

// endSpan records the attempt's outcome: status code, Livestorm's remaining monthly
// quota, and for failures error.type and the error's kind (never its message, which
// may quote Livestorm's explanation of a caller's input).
func endSpan(span trace.Span, info RequestInfo, err *Error) {
	if !span.IsRecording() {
		return
	}
	if info.Status > 0 {
		span.SetAttributes(semconv.HTTPResponseStatusCode(info.Status))
	}
	if !info.RateLimit.Observed.IsZero() {
		span.SetAttributes(attribute.Int(attrMonthlyRemaining, info.RateLimit.MonthlyRemaining))
	}
	if err != nil {
		errType := "transport"
		if err.StatusCode > 0 {
			errType = strconv.Itoa(err.StatusCode)
		}
		span.SetAttributes(semconv.ErrorTypeKey.String(errType), attribute.String(attrErrorKind, err.Kind.String()))
		span.SetStatus(codes.Error, err.Kind.String())
	}
	span.End()
}
