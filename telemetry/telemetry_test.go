package telemetry

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestParseEnv(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		enabled bool
		check   func(t *testing.T, c Config)
		wantErr []string // variables named in the error
	}{
		{name: "nothing set: off, spec defaults", env: nil, check: func(t *testing.T, c Config) {
			assert.Equal(t, ProtocolHTTPProtobuf, c.Protocol)
			assert.Equal(t, DefaultServiceName, c.ServiceName)
			assert.Equal(t, "parentbased_always_on", c.SamplerName)
			assert.Equal(t, []string{"tracecontext", "baggage"}, c.Propagators)
		}},
		{name: "base endpoint gets the traces path", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318/"},
			enabled: true, check: func(t *testing.T, c Config) { assert.Equal(t, "http://collector:4318/v1/traces", c.Endpoint) }},
		{name: "signal endpoint is used as given", env: map[string]string{
			"OTEL_EXPORTER_OTLP_ENDPOINT":        "http://ignored:4318",
			"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "https://collector.example/custom/traces"},
			enabled: true, check: func(t *testing.T, c Config) { assert.Equal(t, "https://collector.example/custom/traces", c.Endpoint) }},
		{name: "grpc endpoint is used as given", env: map[string]string{
			"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4317", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"},
			enabled: true, check: func(t *testing.T, c Config) {
				assert.Equal(t, ProtocolGRPC, c.Protocol)
				assert.Equal(t, "http://collector:4317", c.Endpoint)
			}},
		{name: "signal protocol wins", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318",
			"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/json"},
			enabled: true, check: func(t *testing.T, c Config) { assert.Equal(t, ProtocolHTTPJSON, c.Protocol) }},
		{name: "SDK disabled", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_SDK_DISABLED": "true"}},
		{name: "exporter none", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_TRACES_EXPORTER": "none"}},
		{name: "service name: variable over resource attribute over default", env: map[string]string{
			"OTEL_RESOURCE_ATTRIBUTES": "service.name=from-attrs,deployment.environment.name=prod%20eu", "OTEL_SERVICE_NAME": "from-var"},
			check: func(t *testing.T, c Config) {
				assert.Equal(t, "from-var", c.ServiceName)
				assert.Contains(t, c.Resource, attribute.String("deployment.environment.name", "prod eu"))
			}},
		{name: "service name from resource attributes", env: map[string]string{"OTEL_RESOURCE_ATTRIBUTES": "service.name=from-attrs"},
			check: func(t *testing.T, c Config) { assert.Equal(t, "from-attrs", c.ServiceName) }},
		{name: "ratio sampler", env: map[string]string{"OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0.25"},
			check: func(t *testing.T, c Config) {
				assert.Equal(t, "parentbased_traceidratio", c.SamplerName)
				assert.Contains(t, c.Sampler.Description(), "TraceIDRatioBased{0.25}")
			}},
		{name: "propagators", env: map[string]string{"OTEL_PROPAGATORS": "tracecontext"},
			check: func(t *testing.T, c Config) { assert.Equal(t, []string{"tracecontext"}, c.Propagators) }},
		{name: "errors are all reported, each naming its variable", env: map[string]string{
			"OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4318", "OTEL_EXPORTER_OTLP_PROTOCOL": "thrift",
			"OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "half", "OTEL_TRACES_EXPORTER": "zipkin",
			"OTEL_RESOURCE_ATTRIBUTES": "=x", "OTEL_PROPAGATORS": "b3"},
			wantErr: []string{"OTEL_EXPORTER_OTLP_ENDPOINT:", "OTEL_EXPORTER_OTLP_PROTOCOL:", "OTEL_TRACES_SAMPLER_ARG:",
				"OTEL_TRACES_EXPORTER:", "OTEL_RESOURCE_ATTRIBUTES:", "OTEL_PROPAGATORS:"}},
		{name: "unknown sampler", env: map[string]string{"OTEL_TRACES_SAMPLER": "jaeger_remote"}, wantErr: []string{"OTEL_TRACES_SAMPLER:"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ParseEnv(env(tc.env))
			if tc.wantErr != nil {
				require.Error(t, err)
				for _, w := range tc.wantErr {
					assert.Contains(t, err.Error(), w)
				}
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.enabled, c.Enabled)
			if tc.check != nil {
				tc.check(t, c)
			}
		})
	}
}

// TestTracingOffCostsNothing checks the default configuration builds no provider and
// no goroutine, installs no middleware and makes Start free.
func TestTracingOffCostsNothing(t *testing.T) {
	c, err := ParseEnv(env(nil))
	require.NoError(t, err)
	tr, err := New(context.Background(), c)
	require.NoError(t, err)
	assert.Nil(t, tr)
	assert.False(t, tr.Enabled())
	require.NoError(t, tr.Shutdown(context.Background()))

	next := http.NewServeMux()
	assert.Same(t, next, tr.Middleware(next), "no middleware at all")
	assert.Len(t, GraphQLExtensions(GraphQLOptions{Tracing: tr}), 1, "no field interceptor")

	ctx := context.Background()
	allocs := testing.AllocsPerRun(100, func() {
		c2, span := Start(ctx, "loader event")
		if span.IsRecording() { // how callers guard attribute work
			span.SetAttributes(AttrCacheHits.Int(1))
		}
		span.End()
		if c2 != ctx {
			t.Fatal("Start changed the context")
		}
	})
	assert.Zero(t, allocs)
	var events *SubscriptionEvents
	events.Begin(ctx, "people.registered", "")
	assert.True(t, events.Delivered(ctx), "no waiting without tracing")
}

// TestExportsOverOTLP sends a span through each supported protocol to a local collector.
func TestExportsOverOTLP(t *testing.T) {
	for _, protocol := range []string{ProtocolHTTPProtobuf, ProtocolHTTPJSON, ProtocolGRPC} {
		t.Run(protocol, func(t *testing.T) {
			received := make(chan *coltracepb.ExportTraceServiceRequest, 10)
			endpoint := startCollector(t, protocol, received)
			c, err := ParseEnv(env(map[string]string{
				"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint, "OTEL_EXPORTER_OTLP_PROTOCOL": protocol,
				"OTEL_RESOURCE_ATTRIBUTES": "k8s.pod.name=gw-0",
			}))
			require.NoError(t, err)
			tr, err := New(context.Background(), c)
			require.NoError(t, err)
			require.True(t, tr.Enabled())
			_, span := tr.Tracer().Start(context.Background(), "query EventPage")
			span.End()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			require.NoError(t, tr.Shutdown(ctx))

			select {
			case req := <-received:
				rs := req.ResourceSpans[0]
				assert.Equal(t, "query EventPage", rs.ScopeSpans[0].Spans[0].Name)
				assert.Equal(t, ScopeName, rs.ScopeSpans[0].Scope.Name)
				res := map[string]string{}
				for _, kv := range rs.Resource.Attributes {
					res[kv.Key] = kv.Value.GetStringValue()
				}
				assert.Equal(t, DefaultServiceName, res["service.name"])
				assert.Equal(t, "gw-0", res["k8s.pod.name"])
			case <-time.After(5 * time.Second):
				t.Fatal("the collector received nothing")
			}
		})
	}
}

// startCollector starts a fake OTLP collector on loopback and returns its endpoint.
func startCollector(t *testing.T, protocol string, received chan<- *coltracepb.ExportTraceServiceRequest) string {
	t.Helper()
	if protocol == ProtocolGRPC {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		srv := grpc.NewServer()
		coltracepb.RegisterTraceServiceServer(srv, &grpcCollector{received: received})
		go func() { _ = srv.Serve(ln) }()
		t.Cleanup(srv.Stop)
		return "http://" + ln.Addr().String()
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		req := &coltracepb.ExportTraceServiceRequest{}
		var err error
		if r.Header.Get("Content-Type") == "application/json" {
			err = protojson.Unmarshal(body, req)
		} else {
			err = proto.Unmarshal(body, req)
		}
		if r.URL.Path != "/v1/traces" || err != nil {
			http.Error(w, "bad export", http.StatusBadRequest)
			return
		}
		received <- req
		w.Header().Set("Content-Type", r.Header.Get("Content-Type"))
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

type grpcCollector struct {
	coltracepb.UnimplementedTraceServiceServer
	received chan<- *coltracepb.ExportTraceServiceRequest
}

func (g *grpcCollector) Export(_ context.Context, req *coltracepb.ExportTraceServiceRequest) (*coltracepb.ExportTraceServiceResponse, error) {
	g.received <- req
	return &coltracepb.ExportTraceServiceResponse{}, nil
}

func TestRequestID(t *testing.T) {
	handler := RequestID(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, RequestIDFrom(r.Context()))
	}))
	tests := []struct {
		name, sent string
		kept       bool
	}{
		{"uuid", "3f1c2a9e-8b7d-4c6e-9f0a-1b2c3d4e5f60", true},
		{"trace-like", "00-4bf92f35:77b3/4da6+a3ce=", true},
		{"none", "", false},
		{"spaces", "a b", false},
		{"too long", strings.Repeat("a", 129), false},
		{"longest kept", strings.Repeat("a", 128), true},
		{"markup", "<script>", false},
		{"non-ascii", "é", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			if tc.sent != "" {
				req.Header.Set(RequestIDHeader, tc.sent)
			}
			rec := httptest.NewRecorder()
			handler.ServeHTTP(rec, req)
			id := rec.Header().Get(RequestIDHeader)
			assert.Equal(t, id, rec.Body.String(), "the context carries the id the response names")
			if tc.kept {
				assert.Equal(t, tc.sent, id)
			} else {
				assert.Regexp(t, `^[A-Z2-7]{26}$`, id)
			}
		})
	}
}

func TestLogHandlerStampsRequestAndTrace(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(NewLogHandler(slog.NewJSONHandler(&buf, nil))).With("component", "test")
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	defer func() { _ = tp.Shutdown(context.Background()) }()
	ctx, span := tp.Tracer("t").Start(WithRequestID(context.Background(), "req-1"), "op")
	defer span.End()

	logger.InfoContext(ctx, "inside")
	logger.Info("outside")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	require.Len(t, lines, 2)
	var in, out map[string]any
	require.NoError(t, json.Unmarshal([]byte(lines[0]), &in))
	require.NoError(t, json.Unmarshal([]byte(lines[1]), &out))
	assert.Equal(t, "req-1", in["request_id"])
	assert.Equal(t, span.SpanContext().TraceID().String(), in["trace_id"])
	assert.Equal(t, span.SpanContext().SpanID().String(), in["span_id"])
	assert.Equal(t, "test", in["component"])
	assert.NotContains(t, out, "request_id")
	assert.NotContains(t, out, "trace_id")
}

// TestMiddlewareNamesSpansByRoute checks span names come from the matched pattern (never
// the raw path), unknown methods are folded, and 5xx marks the span as an error.
func TestMiddlewareNamesSpansByRoute(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	defer func() { _ = tp.Shutdown(context.Background()) }()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(http.ResponseWriter, *http.Request) {})
	mux.HandleFunc("GET /{$}", func(http.ResponseWriter, *http.Request) {})
	mux.HandleFunc("/graphql", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusBadGateway) })
	h := NewWithProvider(tp).Middleware(mux)
	tests := []struct{ method, path, span, route string }{
		{"GET", "/healthz", "GET /healthz", "/healthz"},
		{"GET", "/", "GET /", "/"},
		{"POST", "/graphql?query=%7Bx%7D", "POST /graphql", "/graphql"},
		{"GET", "/events/3f1c2a9e/secret", "GET", ""},
		{"BREW", "/graphql", "_OTHER /graphql", "/graphql"},
	}
	for _, tc := range tests {
		t.Run(tc.span, func(t *testing.T) {
			exp.Reset()
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(tc.method, tc.path, nil))
			spans := exp.GetSpans()
			require.Len(t, spans, 1)
			s := spans[0]
			assert.Equal(t, tc.span, s.Name)
			assert.Equal(t, trace.SpanKindServer, s.SpanKind)
			route := ""
			for _, kv := range s.Attributes {
				if kv.Key == "http.route" {
					route = kv.Value.AsString()
				}
				assert.NotContains(t, kv.Value.Emit(), "3f1c2a9e", "an unmatched path is not recorded")
				assert.NotContains(t, kv.Value.Emit(), "query=", "no query string")
			}
			assert.Equal(t, tc.route, route)
		})
	}
}

// TestSubscriptionEventsDoNotMix drives the stream handshake the way a subscription and
// its responses do, from two goroutines, and checks each response sees its own event.
func TestSubscriptionEventsDoNotMix(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	defer func() { _ = tp.Shutdown(context.Background()) }()
	_, op := tp.Tracer("t").Start(context.Background(), "subscription S")
	op.End()
	ev := newSubscriptionEvents(tp.Tracer("t"), op, "S")
	ctx := context.Background()

	out := make(chan string)
	var wg sync.WaitGroup
	wg.Go(func() { // the stream goroutine
		defer close(out)
		for _, name := range []string{"people.registered", "session.started", "session.ended"} {
			ev.Begin(ctx, name, "")
			out <- name
			if !ev.Delivered(ctx) {
				return
			}
		}
	})
	for name := range out { // the responses
		_, span := Start(ev.context(ctx), "loader "+name)
		span.End()
		ev.finish(Cost{UpstreamCalls: 1}, nil)
	}
	wg.Wait()
	parents := map[trace.SpanID]string{}
	for _, s := range exp.GetSpans() {
		if strings.HasPrefix(s.Name, "subscription event ") {
			parents[s.SpanContext.SpanID()] = strings.TrimPrefix(s.Name, "subscription event ")
		}
	}
	require.Len(t, parents, 3)
	for _, s := range exp.GetSpans() {
		if strings.HasPrefix(s.Name, "loader ") {
			assert.Equal(t, strings.TrimPrefix(s.Name, "loader "), parents[s.Parent.SpanID()])
		}
	}
}
