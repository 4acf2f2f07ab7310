package telemetry

import (
	"context"
	"crypto/rand"
	"net/http"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// RequestIDHeader carries a request's id, from the caller when it sent a sane one, and
// back in every response.
const RequestIDHeader = "X-Request-Id"

// maxRequestIDLength bounds a caller's request id (a UUID is 36, a W3C trace id 32).
const maxRequestIDLength = 128

type requestIDKey struct{}

// WithRequestID returns ctx carrying the request id id.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestIDFrom returns the request id of ctx, or "".
func RequestIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// RequestID gives every request an id: the caller's X-Request-Id when it is sane (1 to
// 128 characters of letters, digits and - _ . : / + =), else a fresh random one. The id
// is set on the response before the handler runs and carried in the context, so every
// log line of the request carries it (see NewLogHandler). An id that is not sane is
// replaced rather than cleaned: it would otherwise reach log lines an attacker shaped.
func RequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(RequestIDHeader)
		if !saneRequestID(id) {
			id = rand.Text() // 26 base32 characters, 130 bits
		}
		w.Header().Set(RequestIDHeader, id)
		next.ServeHTTP(w, r.WithContext(WithRequestID(r.Context(), id)))
	})
}

func saneRequestID(id string) bool {
	if id == "" || len(id) > maxRequestIDLength {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("-_.:/+=", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// Middleware wraps next in the HTTP server span of each request, continuing the
// caller's trace (W3C traceparent/tracestate, and baggage) when it sent one. The span is
// named after the route pattern that served the request ("POST /graphql"), never the
// raw URL; it carries the semantic-convention HTTP attributes but not the query string,
// the client address or headers other than the request id, which may be personal data.
// With tracing off it returns next itself.
func (t *Tracing) Middleware(next http.Handler) http.Handler {
	if !t.Enabled() {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := t.propagator.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
		method := knownMethod(r.Method)
		attrs := []attribute.KeyValue{semconv.HTTPRequestMethodKey.String(method), semconv.URLScheme(scheme(r))}
		if r.Method != method {
			attrs = append(attrs, semconv.HTTPRequestMethodOriginal(truncate(r.Method, 16)))
		}
		if id := RequestIDFrom(ctx); id != "" {
			attrs = append(attrs, attribute.String("http.request.header.x-request-id", id))
		}
		ctx, span := t.tracer.Start(ctx, method, trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(attrs...))
		defer span.End()

		rec := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		r = r.WithContext(ctx)
		next.ServeHTTP(rec, r)

		// http.ServeMux records the pattern it matched on the request it was given.
		if route := routeOf(r.Pattern); route != "" {
			span.SetName(method + " " + route)
			span.SetAttributes(semconv.HTTPRoute(route), semconv.URLPath(truncate(r.URL.Path, 256)))
		}
		span.SetAttributes(semconv.HTTPResponseStatusCode(rec.status))
		if rec.status >= 500 {
			span.SetAttributes(semconv.ErrorTypeKey.String(http.StatusText(rec.status)))
			span.SetStatus(codes.Error, "")
		}
	})
}

// routeOf turns a ServeMux pattern ("GET /healthz", "/graphql", "GET /{$}") into the
// http.route attribute ("/healthz", "/graphql", "/").
func routeOf(pattern string) string {
	if i := strings.IndexByte(pattern, ' '); i >= 0 {
		pattern = pattern[i+1:]
	}
	if i := strings.IndexByte(pattern, '/'); i > 0 {
		pattern = pattern[i:] // a host-qualified pattern
	}
	return strings.TrimSuffix(pattern, "{$}")
}

// knownMethod keeps span names bounded: methods outside the HTTP standard become
// _OTHER, as the semantic conventions ask.
func knownMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodConnect, http.MethodOptions, http.MethodTrace:
		return m
	}
	return "_OTHER"
}

func scheme(r *http.Request) string {
	if r.TLS != nil {
		return "https"
	}
	return "http"
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// statusWriter remembers the status code while staying transparent to WebSocket
// upgrades and SSE flushing (http.ResponseController unwraps it).
type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (s *statusWriter) WriteHeader(code int) {
	if !s.wrote {
		s.status, s.wrote = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	s.wrote = true
	return s.ResponseWriter.Write(b)
}

func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func (s *statusWriter) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
