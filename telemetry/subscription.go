package telemetry

import (
	"context"
	"strings"
	"sync"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// SubscriptionEvents traces the events one subscription delivers. The subscription's
// stream goroutine calls Begin when it takes an event from the bus and Delivered after
// handing it over; the GraphQL extension puts the event's span in the context of the
// event's fields and ends it once the event's response is produced. Delivered waits
// for that, so an event's span is never confused with the next one's. A nil
// *SubscriptionEvents (tracing off) does nothing and never waits.
type SubscriptionEvents struct {
	tracer trace.Tracer
	op     trace.SpanContext // the subscription operation's span, linked from each event
	name   string            // the subscription's operation name

	mu      sync.Mutex
	current trace.Span
	done    chan struct{} // one token per finished event
}

type eventsKey struct{}

func newSubscriptionEvents(tracer trace.Tracer, op trace.Span, name string) *SubscriptionEvents {
	return &SubscriptionEvents{tracer: tracer, op: op.SpanContext(), name: name, done: make(chan struct{}, 1)}
}

// SubscriptionEventsFrom returns the tracer of ctx's subscription events, or nil when
// tracing is off or ctx is not a subscription's.
func SubscriptionEventsFrom(ctx context.Context) *SubscriptionEvents {
	s, _ := ctx.Value(eventsKey{}).(*SubscriptionEvents)
	return s
}

// Begin starts the span of an event of Livestorm type eventType: a new trace, linked to
// the subscription's span and, when traceparent (W3C) names one, to the span of the
// webhook delivery that published the event.
func (s *SubscriptionEvents) Begin(ctx context.Context, eventType, traceparent string) {
	if s == nil {
		return
	}
	links := []trace.Link{{SpanContext: s.op, Attributes: []attribute.KeyValue{attribute.String("gateway.link", "subscription")}}}
	if traceparent != "" {
		pctx := propagation.TraceContext{}.Extract(context.Background(), propagation.MapCarrier{"traceparent": traceparent})
		if sc := trace.SpanContextFromContext(pctx); sc.IsValid() {
			links = append(links, trace.Link{SpanContext: sc, Attributes: []attribute.KeyValue{attribute.String("gateway.link", "webhook")}})
		}
	}
	attrs := []attribute.KeyValue{semconv.GraphQLOperationTypeSubscription, AttrWebhookEvent.String(eventType)}
	if s.name != "" {
		attrs = append(attrs, semconv.GraphQLOperationName(s.name))
	}
	_, span := s.tracer.Start(ctx, "subscription event "+eventType, trace.WithNewRoot(), trace.WithLinks(links...),
		trace.WithSpanKind(trace.SpanKindConsumer), trace.WithAttributes(attrs...))
	s.mu.Lock()
	if s.current != nil {
		s.current.End() // never finished: should not happen, but do not leak it
	}
	s.current = span
	s.mu.Unlock()
}

// Delivered waits until the event handed over last has been resolved into its response
// (true), or ctx is done (false).
func (s *SubscriptionEvents) Delivered(ctx context.Context) bool {
	if s == nil {
		return ctx.Err() == nil
	}
	select {
	case <-s.done:
		return true
	case <-ctx.Done():
		s.Abort()
		return false
	}
}

// Abort ends the span of an event that was never delivered (the stream ended first).
func (s *SubscriptionEvents) Abort() {
	if s == nil {
		return
	}
	s.mu.Lock()
	if s.current != nil {
		s.current.SetStatus(codes.Error, "not delivered: the subscription ended")
		s.current.End()
		s.current = nil
	}
	s.mu.Unlock()
}

// context returns ctx with the current event's span.
func (s *SubscriptionEvents) context(ctx context.Context) context.Context {
	s.mu.Lock()
	span := s.current
	s.mu.Unlock()
	if span == nil {
		return ctx
	}
	return trace.ContextWithSpan(ctx, span)
}

// finish ends the current event's span with what the event cost, and lets the stream
// goroutine take the next event.
func (s *SubscriptionEvents) finish(c Cost, codesList []string) {
	if s == nil {
		return
	}
	s.mu.Lock()
	span := s.current
	s.current = nil
	s.mu.Unlock()
	if span != nil {
		span.SetAttributes(AttrUpstream.Int(c.UpstreamCalls), AttrCacheHits.Int(c.CacheHits), AttrCacheMisses.Int(c.CacheMisses))
		if len(codesList) > 0 {
			span.SetAttributes(AttrErrorCodes.StringSlice(codesList))
			span.SetStatus(codes.Error, strings.Join(codesList, ","))
		}
		span.End()
	}
	select {
	case s.done <- struct{}{}:
	default:
	}
}
