package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/livestorm-gateway/gateway/telemetry"
)

// logLines decodes JSON log lines.
func logLines(t testing.TB, logs string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		if line == "" {
			continue
		}
		var rec map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &rec), "not a JSON log line: %s", line)
		out = append(out, rec)
	}
	return out
}

func linesWithMsg(lines []map[string]any, msg string) []map[string]any {
	var out []map[string]any
	for _, l := range lines {
		if l["msg"] == msg {
			out = append(out, l)
		}
	}
	return out
}

// postQuery POSTs a GraphQL operation with extra headers and returns the response.
func postQuery(t testing.TB, base, query string, header ...string) *http.Response {
	t.Helper()
	body, err := json.Marshal(map[string]any{"query": query})
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, base+"/graphql", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res
}

// TestRequestLogs checks that every log line of a request carries its id (the caller's
// when sane) and trace id, that each operation logs one access line with what it cost,
// and that a slow one warns with the upstream calls it waited on, by route only.
func TestRequestLogs(t *testing.T) {
	tr, exp := newRecorder(t)
	var logs lockedBuffer
	logger := newLogger(Config{LogLevel: -4, LogFormat: "json"}, &logs)
	h := newHarness(t, withTracing(tr), withLogger(logger), withConfig(func(c *Config) { c.SlowOperation = time.Nanosecond }))

	res := postQuery(t, h.gw.URL, nestedQuery, "X-Request-Id", "checkout-7f3a.1")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "checkout-7f3a.1", res.Header.Get("X-Request-Id"))
	traceID := one(t, waitSpan(t, exp, "POST /graphql"), "POST /graphql").SpanContext.TraceID().String()
	calls := h.upstreamCalls()

	lines := logLines(t, logs.String())
	require.NotEmpty(t, lines)
	for _, l := range lines {
		assert.Equal(t, "checkout-7f3a.1", l["request_id"], "line without the request id: %v", l)
		assert.Equal(t, traceID, l["trace_id"], "line without the trace id: %v", l)
	}
	assert.NotEmpty(t, linesWithMsg(lines, "livestorm: request"), "the client's lines are the request's too")

	access := linesWithMsg(lines, "graphql operation")
	require.Len(t, access, 1, "one access line per operation")
	a := access[0]
	assert.Equal(t, "INFO", a["level"])
	assert.Equal(t, "EventsWithPeople", a["operation"])
	assert.Equal(t, "query", a["type"])
	assert.Equal(t, "ok", a["result"])
	assert.EqualValues(t, calls, a["upstream_calls"])
	assert.EqualValues(t, 10, a["cache_misses"])
	assert.Contains(t, a, "cache_hits")
	assert.Contains(t, a, "duration_ms")
	assert.Len(t, a["document_sha256"], 64)

	slow := linesWithMsg(lines, "slow operation")
	require.Len(t, slow, 1)
	assert.Equal(t, "WARN", slow[0]["level"])
	upstream, _ := slow[0]["upstream"].([]any)
	require.Len(t, upstream, calls)
	call := regexp.MustCompile(`^GET /[a-z/{}]+ 200 [0-9.]+[µm]?s( after [0-9.]+m?s of rate-limit wait)?$`)
	for _, u := range upstream {
		assert.Regexp(t, call, u, "templated route, status, duration: no ids, no query")
	}
	t.Logf("access line: %v", a)
	t.Logf("slow warning: %v", slow[0])

	t.Run("a bad request id is replaced", func(t *testing.T) {
		for _, bad := range []string{"two words", strings.Repeat("x", 129), "ünïcode", `"><script>`, "a;b=c"} {
			res := postQuery(t, h.gw.URL, `{ organization { name } }`, "X-Request-Id", bad)
			got := res.Header.Get("X-Request-Id")
			assert.NotEqual(t, bad, got)
			assert.Regexp(t, `^[A-Z2-7]{26}$`, got)
		}
	})
	t.Run("an error is logged with its code", func(t *testing.T) {
		before := len(logLines(t, logs.String()))
		postQuery(t, h.gw.URL, `query Missing { session(id: "nope") { id } }`)
		access := linesWithMsg(logLines(t, logs.String())[before:], "graphql operation")
		require.Len(t, access, 1)
		assert.Equal(t, "error", access[0]["result"])
		assert.Equal(t, []any{"NOT_FOUND"}, access[0]["codes"])
	})
	t.Run("a refused document is logged", func(t *testing.T) {
		before := len(logLines(t, logs.String()))
		postQuery(t, h.gw.URL, `query Broken { nope }`)
		access := linesWithMsg(logLines(t, logs.String())[before:], "graphql operation")
		require.Len(t, access, 1)
		assert.Equal(t, "refused", access[0]["result"])
		assert.Equal(t, []any{"GRAPHQL_VALIDATION_FAILED"}, access[0]["codes"])
	})
}

// TestObservabilityConfig checks the variables of logs, traces and the debug listener.
func TestObservabilityConfig(t *testing.T) {
	base := map[string]string{"LIVESTORM_API_TOKEN": "tok"}
	load := func(t *testing.T, extra map[string]string) (Config, error) {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return LoadConfig(env(m))
	}
	t.Run("defaults", func(t *testing.T) {
		c, err := load(t, nil)
		require.NoError(t, err)
		assert.False(t, c.Tracing.Enabled, "no endpoint: tracing off")
		assert.Equal(t, time.Second, c.SlowOperation)
		assert.Empty(t, c.DebugAddr)
		assert.Empty(t, c.LogFormat)
	})
	t.Run("set", func(t *testing.T) {
		c, err := load(t, map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318", "LOG_FORMAT": "text",
			"SLOW_OPERATION_THRESHOLD": "250ms", "DEBUG_ADDR": "127.0.0.1:6060"})
		require.NoError(t, err)
		assert.True(t, c.Tracing.Enabled)
		assert.Equal(t, "http://collector:4318/v1/traces", c.Tracing.Endpoint)
		assert.Equal(t, "text", c.LogFormat)
		assert.Equal(t, 250*time.Millisecond, c.SlowOperation)
		assert.Equal(t, "127.0.0.1:6060", c.DebugAddr)
	})
	for _, tc := range []struct{ name, value string }{
		{"LOG_FORMAT", "xml"},
		{"SLOW_OPERATION_THRESHOLD", "slow"},
		{"SLOW_OPERATION_THRESHOLD", "-1s"},
		{"DEBUG_ADDR", "0.0.0.0:6060"},
		{"DEBUG_ADDR", ":6060"},
		{"DEBUG_ADDR", "10.0.0.5:6060"},
		{"DEBUG_ADDR", "6060"},
		{"OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318"},
		{"OTEL_EXPORTER_OTLP_PROTOCOL", "thrift"},
		{"OTEL_TRACES_SAMPLER", "sometimes"},
		{"OTEL_TRACES_SAMPLER_ARG", "2"},
		{"OTEL_RESOURCE_ATTRIBUTES", "novalue"},
	} {
		t.Run("invalid "+tc.name+"="+tc.value, func(t *testing.T) {
			extra := map[string]string{tc.name: tc.value}
			if tc.name == "OTEL_TRACES_SAMPLER_ARG" {
				extra["OTEL_TRACES_SAMPLER"] = "traceidratio"
			}
			_, err := load(t, extra)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.name+":")
		})
	}
	t.Run("log format follows demo mode", func(t *testing.T) {
		var text, json bytes.Buffer
		newLogger(Config{}, &text).Info("hello") // demo mode
		newLogger(Config{APIToken: "tok"}, &json).Info("hello")
		assert.True(t, strings.HasPrefix(text.String(), "time="), text.String())
		assert.True(t, strings.HasPrefix(json.String(), "{"), json.String())
	})
}

// otlpCollector is a fake OTLP/HTTP collector recording the spans it receives.
type otlpCollector struct {
	mu    sync.Mutex
	names []string
	attrs map[string]string // resource attributes
}

func (c *otlpCollector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/v1/traces" || r.Header.Get("Content-Type") != "application/x-protobuf" {
		http.Error(w, "unexpected "+r.URL.Path, http.StatusNotFound)
		return
	}
	body, _ := io.ReadAll(r.Body)
	var req coltracepb.ExportTraceServiceRequest
	if err := proto.Unmarshal(body, &req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, rs := range req.ResourceSpans {
		for _, kv := range rs.GetResource().GetAttributes() {
			c.attrs[kv.Key] = kv.GetValue().GetStringValue()
		}
		for _, ss := range rs.ScopeSpans {
			for _, s := range ss.Spans {
				c.names = append(c.names, s.Name)
			}
		}
	}
	w.Header().Set("Content-Type", "application/x-protobuf")
	out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
	_, _ = w.Write(out)
}

func (c *otlpCollector) spanNames() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.names...)
}

// TestRunExportsTracesAndServesPprof runs the real main loop with OTEL_* pointing at a
// fake collector and DEBUG_ADDR set: the spans of a query reach the collector over
// OTLP/HTTP by shutdown, with the configured resource, and pprof answers on its own
// loopback listener.
func TestRunExportsTracesAndServesPprof(t *testing.T) {
	col := &otlpCollector{attrs: map[string]string{}}
	collector := httptest.NewServer(col)
	defer collector.Close()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr lockedBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"livestorm-gateway"}, env(map[string]string{
			"PORT": "0", "DEMO_ACTIVITY": "false", "LOG_FORMAT": "json",
			"OTEL_EXPORTER_OTLP_ENDPOINT": collector.URL,
			"OTEL_SERVICE_NAME":           "gateway-under-test",
			"OTEL_RESOURCE_ATTRIBUTES":    "deployment.environment.name=test,team=events%20platform",
			"DEBUG_ADDR":                  "127.0.0.1:0",
		}), &stdout, &stderr)
	}()
	addr := regexp.MustCompile(`listening on \S+:(\d+)`)
	var base string
	require.Eventually(t, func() bool {
		if m := addr.FindStringSubmatch(stdout.String()); m != nil {
			base = "http://127.0.0.1:" + m[1]
			return true
		}
		return false
	}, 10*time.Second, 10*time.Millisecond, "no banner; stderr: %s", stderr.String())

	res := postQuery(t, base, `query Titles { events(first: 2) { nodes { title } } }`)
	require.Equal(t, http.StatusOK, res.StatusCode)

	var debugAddr string
	for _, l := range logLines(t, stderr.String()) {
		if l["msg"] == "debug listener (net/http/pprof) started" {
			debugAddr, _ = l["addr"].(string)
		}
	}
	require.NotEmpty(t, debugAddr, "stderr: %s", stderr.String())
	pprofRes, err := http.Get("http://" + debugAddr + "/debug/pprof/goroutine?debug=1")
	require.NoError(t, err)
	pprofBody, _ := io.ReadAll(pprofRes.Body)
	pprofRes.Body.Close()
	assert.Equal(t, http.StatusOK, pprofRes.StatusCode)
	assert.Contains(t, string(pprofBody), "goroutine profile")
	gwRes, err := http.Get(base + "/debug/pprof/")
	require.NoError(t, err)
	gwRes.Body.Close()
	assert.NotEqual(t, http.StatusOK, gwRes.StatusCode, "pprof is not on the public listener")

	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(15 * time.Second):
		t.Fatal("run did not return")
	}
	names := col.spanNames()
	assert.Contains(t, names, "POST /graphql")
	assert.Contains(t, names, "query Titles")
	assert.Contains(t, names, "GET /events")
	col.mu.Lock()
	assert.Equal(t, "gateway-under-test", col.attrs["service.name"])
	assert.Equal(t, "events platform", col.attrs["team"])
	assert.Equal(t, "test", col.attrs["deployment.environment.name"])
	col.mu.Unlock()
	assert.Contains(t, stderr.String(), `"msg":"tracing on"`)
	_, err = http.Get("http://" + debugAddr + "/debug/pprof/")
	assert.Error(t, err, "the debug listener closes with the gateway")
}

// BenchmarkTracingOverhead measures what tracing adds to a warm nested query through the
// full handler: off (the default), and on with every span recorded.
func BenchmarkTracingOverhead(b *testing.B) {
	for _, bc := range []struct {
		name    string
		tracing func(b *testing.B) *telemetry.Tracing
	}{
		{"off", func(*testing.B) *telemetry.Tracing { return nil }},
		{"on", func(b *testing.B) *telemetry.Tracing { tr, _ := newRecorder(b); return tr }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			h := newHarness(b, withTracing(bc.tracing(b)))
			h.query(b, nestedQuery, nil).decode(b, &struct{}{}) // warm the cache
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				h.query(b, nestedQuery, nil)
			}
		})
	}
}

// TestSubscriptionSetupIsLogged checks a subscription gets its access line when its stream
// opens, and a refused one names its error code.
func TestSubscriptionSetupIsLogged(t *testing.T) {
	var logs lockedBuffer
	h := newHarness(t, withForwardAuth(), withLogger(newLogger(Config{LogFormat: "json", ForwardAuth: true}, &logs)))
	for _, tc := range []struct {
		name, authorization, result string
		codes                       []any
	}{
		{"accepted", h.orgs[0].Token, "ok", nil},
		// Refused before its operation exists (the workspace is verified first): the line
		// names the refusal and its code, not the operation.
		{"refused", "not-a-livestorm-token", "refused", []any{"UNAUTHENTICATED"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(logLines(t, logs.String()))
			c := openSubscriber(t, protoSSE, h.gw.URL, tc.authorization)
			defer c.close()
			c.subscribe(t, "s", `subscription Live { livestormEvents { type } }`, nil)
			var access []map[string]any
			require.Eventually(t, func() bool {
				access = linesWithMsg(logLines(t, logs.String())[before:], "graphql operation")
				return len(access) == 1
			}, 5*time.Second, time.Millisecond)
			assert.Equal(t, tc.result, access[0]["result"])
			if tc.result == "ok" {
				assert.Equal(t, "subscription", access[0]["type"])
				assert.Equal(t, "Live", access[0]["operation"])
			}
			if tc.codes != nil {
				assert.Equal(t, tc.codes, access[0]["codes"])
			}
		})
	}
}
