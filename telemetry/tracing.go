// Package telemetry is the gateway's observability: OpenTelemetry tracing configured by
// the standard OTEL_* variables, the HTTP server span and request ids, a log handler
// that stamps every line with the request and trace ids, and the GraphQL extension that
// traces, measures and logs each operation.
//
// Tracing is off unless an OTLP endpoint is configured, and then costs nothing: the
// tracer provider is a no-op one, no exporter or batching goroutine exists, the HTTP
// middleware is not installed, and Start returns its context unchanged.
//
// Spans started below the HTTP span (loader batches, Livestorm calls, webhook
// processing) use the tracer provider of their parent span, found in the context, so
// packages need no tracer wired into them.
package telemetry

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// ScopeName is the instrumentation scope of every span the gateway starts.
const ScopeName = "github.com/livestorm-gateway/gateway"

// Tracing is the gateway's tracer provider and propagator. A nil *Tracing is tracing
// off; every method accepts it.
type Tracing struct {
	provider   trace.TracerProvider
	tracer     trace.Tracer
	propagator propagation.TextMapPropagator
	shutdown   func(context.Context) error
}

// New builds the tracing of cfg: an OTLP exporter (HTTP or gRPC) behind a batch span
// processor, with the configured sampler and resource. A disabled cfg returns nil.
// Exporting starts lazily: a collector that is down costs failed batches (reported to
// the OpenTelemetry error handler), never a failed start.
func New(ctx context.Context, cfg Config) (*Tracing, error) {
	if !cfg.Enabled {
		return nil, nil
	}
	var exp sdktrace.SpanExporter
	var err error
	switch cfg.Protocol {
	case ProtocolGRPC:
		exp, err = otlptracegrpc.New(ctx, otlptracegrpc.WithEndpointURL(cfg.Endpoint))
	case ProtocolHTTPJSON:
		exp, err = otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(cfg.Endpoint), otlptracehttp.WithEncoding(otlptracehttp.EncodingJSON))
	default:
		exp, err = otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(cfg.Endpoint))
	}
	if err != nil {
		return nil, fmt.Errorf("OTEL_EXPORTER_OTLP_ENDPOINT: cannot create the %s exporter: %w", cfg.Protocol, err)
	}
	res, err := newResource(ctx, cfg)
	if err != nil {
		_ = exp.Shutdown(ctx)
		return nil, fmt.Errorf("OTEL_RESOURCE_ATTRIBUTES: %w", err)
	}
	sampler := cfg.Sampler
	if sampler == nil {
		sampler = sdktrace.ParentBased(sdktrace.AlwaysSample())
	}
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp),
		sdktrace.WithResource(res),
		sdktrace.WithSampler(sampler),
	)
	t := newTracing(tp, propagatorOf(cfg.Propagators))
	t.shutdown = tp.Shutdown
	return t, nil
}

// NewWithProvider wraps an existing tracer provider (tests use the SDK's with an
// in-memory exporter) with W3C trace-context and baggage propagation. Shutdown is the
// caller's business.
func NewWithProvider(tp trace.TracerProvider) *Tracing {
	return newTracing(tp, propagatorOf([]string{"tracecontext", "baggage"}))
}

func newTracing(tp trace.TracerProvider, prop propagation.TextMapPropagator) *Tracing {
	return &Tracing{
		provider:   tp,
		tracer:     tp.Tracer(ScopeName, trace.WithInstrumentationVersion(version())),
		propagator: prop,
		shutdown:   func(context.Context) error { return nil },
	}
}

func propagatorOf(names []string) propagation.TextMapPropagator {
	var ps []propagation.TextMapPropagator
	for _, n := range names {
		switch n {
		case "tracecontext":
			ps = append(ps, propagation.TraceContext{})
		case "baggage":
			ps = append(ps, propagation.Baggage{})
		}
	}
	return propagation.NewCompositeTextMapPropagator(ps...)
}

func newResource(ctx context.Context, cfg Config) (*resource.Resource, error) {
	attrs := append([]attribute.KeyValue{}, cfg.Resource...)
	attrs = append(attrs, semconv.ServiceName(cfg.ServiceName))
	if v := version(); v != "" {
		attrs = append(attrs, semconv.ServiceVersion(v))
	}
	return resource.New(ctx,
		resource.WithSchemaURL(semconv.SchemaURL),
		resource.WithTelemetrySDK(),
		resource.WithHost(),
		resource.WithAttributes(attrs...),
	)
}

// version is the gateway module's version when built from a tagged module, else "".
var version = sync.OnceValue(func() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return ""
})

// Enabled reports whether spans are recorded and exported.
func (t *Tracing) Enabled() bool { return t != nil }

// Tracer returns the gateway's tracer (a no-op one when tracing is off).
func (t *Tracing) Tracer() trace.Tracer {
	if t == nil {
		return noop.NewTracerProvider().Tracer(ScopeName)
	}
	return t.tracer
}

// Propagator returns the propagator of incoming trace context (nothing when off).
func (t *Tracing) Propagator() propagation.TextMapPropagator {
	if t == nil {
		return propagation.NewCompositeTextMapPropagator()
	}
	return t.propagator
}

// Shutdown flushes the spans not yet exported and stops the exporter, waiting at most
// until ctx is done (give it a few seconds at process exit).
func (t *Tracing) Shutdown(ctx context.Context) error {
	if t == nil {
		return nil
	}
	return t.shutdown(ctx)
}

// Start starts a span named name as a child of ctx's span, using that span's tracer
// provider. When ctx's span is not recording (tracing off, no span, or not sampled) it
// returns ctx and that span unchanged without allocating: callers may then call every
// Span method at no cost, and should guard expensive attribute computations with
// span.IsRecording().
func Start(ctx context.Context, name string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	parent := trace.SpanFromContext(ctx)
	if !parent.IsRecording() {
		return ctx, parent
	}
	return parent.TracerProvider().Tracer(ScopeName, trace.WithInstrumentationVersion(version())).Start(ctx, name, opts...)
}

// StartAfter starts a span named name as a child of parent, a span that may have ended
// already: work done after a request was answered, such as a webhook delivery processed
// on a worker after its acknowledgement. Like Start, it costs nothing when parent was
// not sampled.
func StartAfter(ctx context.Context, parent trace.Span, name string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	ctx = trace.ContextWithSpan(ctx, parent)
	if !parent.SpanContext().IsSampled() {
		return ctx, parent
	}
	return parent.TracerProvider().Tracer(ScopeName, trace.WithInstrumentationVersion(version())).Start(ctx, name, opts...)
}

// TraceID returns the id of ctx's trace, or "" when there is none.
func TraceID(ctx context.Context) string {
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		return sc.TraceID().String()
	}
	return ""
}

// Seconds is a duration as an attribute in seconds, the unit OpenTelemetry uses.
func Seconds(key string, d time.Duration) attribute.KeyValue {
	return attribute.Float64(key, d.Seconds())
}
