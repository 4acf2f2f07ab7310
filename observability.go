package main

// Observability wiring (issue 13): configuration of logs, traces and the debug listener,
// and what NewServer and run install from the telemetry package.

import (
	"context"
	"errors"
	"fmt"
	"github.com/livestorm-gateway/gateway/auth"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/url"
	"strings"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/trace"

	"github.com/livestorm-gateway/gateway/livestorm"
	"github.com/livestorm-gateway/gateway/telemetry"
)

// defaultSlowOperation is SLOW_OPERATION_THRESHOLD's default.
const defaultSlowOperation = time.Second

// loadObservability reads OTEL_*, LOG_FORMAT, SLOW_OPERATION_THRESHOLD and DEBUG_ADDR.
func loadObservability(c *Config, getenv func(string) string, fail func(name, format string, args ...any)) {
	tc, err := telemetry.ParseEnv(getenv)
	if err != nil {
		var joined interface{ Unwrap() []error }
		errs := []error{err}
		if errors.As(err, &joined) {
			errs = joined.Unwrap()
		}
		for _, e := range errs {
			name, msg, _ := strings.Cut(e.Error(), ": ")
			fail(name, "%s", msg)
		}
	}
	c.Tracing = tc

	switch f := strings.ToLower(strings.TrimSpace(getenv("LOG_FORMAT"))); f {
	case "", "json", "text":
		c.LogFormat = f
	default:
		fail("LOG_FORMAT", "must be json or text, got %q", f)
	}

	c.SlowOperation = defaultSlowOperation
	if v := strings.TrimSpace(getenv("SLOW_OPERATION_THRESHOLD")); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			fail("SLOW_OPERATION_THRESHOLD", "must be a duration such as 500ms or 2s (0 turns the warning off), got %q", v)
		} else {
			c.SlowOperation = d
		}
	}

	if v := strings.TrimSpace(getenv("DEBUG_ADDR")); v != "" {
		if err := checkDebugAddr(v); err != nil {
			fail("DEBUG_ADDR", "%v", err)
		} else {
			c.DebugAddr = v
		}
	}
}

// checkDebugAddr accepts only loopback listen addresses: profiles expose the process's
// memory layout and goroutine stacks, and a CPU profile on demand is a denial of service.
// Reach it with `kubectl port-forward` or from inside the container.
func checkDebugAddr(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || port == "" {
		return fmt.Errorf("must be a loopback host:port such as 127.0.0.1:6060, got %q", addr)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("must listen on a loopback address (127.0.0.1, [::1] or localhost), got %q: "+
			"the profiling endpoints must not be reachable from the network", addr)
	}
	return nil
}

// newLogger builds the process logger: JSON lines (text in demo mode, or as LOG_FORMAT
// says) on w, each stamped with the request and trace ids of its context.
func newLogger(cfg Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	format := cfg.LogFormat
	if format == "" {
		format = "json"
		if cfg.Demo() {
			format = "text" // a person reads demo mode's logs in a terminal
		}
	}
	var h slog.Handler = slog.NewJSONHandler(w, opts)
	if format == "text" {
		h = slog.NewTextHandler(w, opts)
	}
	return slog.New(telemetry.NewLogHandler(h))
}

// startTracing sets up tracing as OTEL_* configured it (nil when off) and routes the
// SDK's own errors (an unreachable collector) to the log.
func startTracing(ctx context.Context, cfg Config, logger *slog.Logger) (*telemetry.Tracing, error) {
	t, err := telemetry.New(ctx, cfg.Tracing)
	if err != nil || t == nil {
		return nil, err
	}
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) { logger.Warn("opentelemetry", "err", err) }))
	logger.Info("tracing on", "protocol", cfg.Tracing.Protocol, "endpoint", redactURL(cfg.Tracing.Endpoint),
		"service", cfg.Tracing.ServiceName, "sampler", cfg.Tracing.SamplerName)
	return t, nil
}

// stopTracing flushes the spans still buffered, for at most 5 seconds.
func stopTracing(t *telemetry.Tracing, logger *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := t.Shutdown(ctx); err != nil {
		logger.Warn("tracing: spans may be lost at shutdown", "err", err)
	}
}

// redactURL keeps the scheme, host and path of u (no credentials or query).
func redactURL(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return ""
	}
	return (&url.URL{Scheme: p.Scheme, Host: p.Host, Path: p.Path}).String()
}

// startDebugServer serves net/http/pprof on addr (DEBUG_ADDR, loopback only) on a
// listener of its own, so the profiling endpoints are never part of the public routes.
// It returns a function that closes it; with no addr it does nothing.
func startDebugServer(addr string, logger *slog.Logger) (stop func(), bound net.Addr, err error) {
	if addr == "" {
		return func() {}, nil, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("DEBUG_ADDR: cannot listen on %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	logger.Info("debug listener (net/http/pprof) started", "addr", ln.Addr().String())
	return func() { _ = srv.Close() }, ln.Addr(), nil
}

// httpObservability wraps the routes in the request-id and HTTP-span middleware.
func httpObservability(d Deps, next http.Handler) http.Handler {
	return telemetry.RequestID(d.Tracing.Middleware(next))
}

// callerOf names a request's caller and role for the access log and spans (never the
// credential: JWT subject, API-key name or client IP).
func callerOf(ctx context.Context) (id, role string) {
	c, ok := auth.CallerFrom(ctx)
	if !ok {
		return "", ""
	}
	return c.ID, c.Role.String()
}

// graphQLTelemetry configures the GraphQL extension of package telemetry: spans, the
// operation histogram, the access log and the per-operation count of upstream calls.
func graphQLTelemetry(d Deps) telemetry.GraphQLOptions {
	return telemetry.GraphQLOptions{
		Tracing:       d.Tracing,
		Logger:        d.Logger,
		SlowThreshold: d.Config.SlowOperation,
		Caller:        callerOf,
		Observe: func(ctx context.Context, s telemetry.OperationSummary) {
			d.Metrics.ObserveOperation(s.Type, s.Name, s.Duration, trace.SpanContextFromContext(ctx))
		},
		OperationContext: func(ctx context.Context, op *telemetry.Operation) context.Context {
			return livestorm.WithRequestObserver(ctx, func(i livestorm.RequestInfo) {
				op.AddUpstream(telemetry.UpstreamCall{Method: i.Method, Route: i.Route, Status: i.Status, Duration: i.Duration,
					Attempt: i.Attempt, Wait: i.RateLimitWait})
			})
		},
	}
}
