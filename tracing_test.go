package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/livestorm-gateway/gateway/telemetry"
)

// newRecorder returns tracing that records every span in memory, as soon as it ends.
func newRecorder(t testing.TB) (*telemetry.Tracing, *tracetest.InMemoryExporter) {
	t.Helper()
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return telemetry.NewWithProvider(tp), exp
}

// waitSpan polls the exporter until a span named name has ended, and returns all spans.
func waitSpan(t testing.TB, exp *tracetest.InMemoryExporter, name string) tracetest.SpanStubs {
	t.Helper()
	var spans tracetest.SpanStubs
	require.Eventually(t, func() bool {
		spans = exp.GetSpans()
		return len(named(spans, name)) > 0
	}, 5*time.Second, time.Millisecond, "no span %q; have %v", name, spanNames(exp.GetSpans()))
	return spans
}

func named(spans tracetest.SpanStubs, name string) tracetest.SpanStubs {
	var out tracetest.SpanStubs
	for _, s := range spans {
		if s.Name == name {
			out = append(out, s)
		}
	}
	return out
}

func one(t testing.TB, spans tracetest.SpanStubs, name string) tracetest.SpanStub {
	t.Helper()
	got := named(spans, name)
	require.Len(t, got, 1, "spans named %q among %v", name, spanNames(spans))
	return got[0]
}

func spanNames(spans tracetest.SpanStubs) []string {
	var out []string
	for _, s := range spans {
		out = append(out, s.Name)
	}
	return out
}

func attr(s tracetest.SpanStub, key string) attribute.Value {
	for _, kv := range s.Attributes {
		if string(kv.Key) == key {
			return kv.Value
		}
	}
	return attribute.Value{}
}

// spanTree renders the spans under root as an indented tree, children by start time,
// identical consecutive sibling subtrees folded into one line with a count.
func spanTree(spans tracetest.SpanStubs, root tracetest.SpanStub) string {
	children := map[trace.SpanID]tracetest.SpanStubs{}
	for _, s := range spans {
		children[s.Parent.SpanID()] = append(children[s.Parent.SpanID()], s)
	}
	label := func(s tracetest.SpanStub) string {
		var b strings.Builder
		b.WriteString(s.Name)
		var parts []string
		for _, k := range []string{"http.response.status_code", "gateway.loader.keys", "gateway.cache.hits", "gateway.cache.misses",
			"gateway.upstream.calls", "livestorm.webhook.event", "gateway.cache.evicted"} {
			if v := attr(s, k); v.Type() != attribute.INVALID {
				parts = append(parts, strings.TrimPrefix(strings.TrimPrefix(k, "gateway."), "http.response.")+"="+v.Emit())
			}
		}
		if len(parts) > 0 {
			fmt.Fprintf(&b, "  [%s]", strings.Join(parts, " "))
		}
		return b.String()
	}
	var render func(s tracetest.SpanStub, indent string) []string
	render = func(s tracetest.SpanStub, indent string) []string {
		lines := []string{indent + label(s)}
		kids := children[s.SpanContext.SpanID()]
		slices.SortStableFunc(kids, func(a, b tracetest.SpanStub) int { return a.StartTime.Compare(b.StartTime) })
		var prev []string
		count := 0
		flush := func() {
			if count == 0 {
				return
			}
			if count > 1 {
				prev[0] += fmt.Sprintf("  ×%d", count)
			}
			lines = append(lines, prev...)
		}
		for _, k := range kids {
			sub := render(k, indent+"  ")
			if slices.Equal(sub, prev) {
				count++
				continue
			}
			flush()
			prev, count = sub, 1
		}
		flush()
		return lines
	}
	return strings.Join(render(root, ""), "\n")
}

const nestedQuery = `query EventsWithPeople { events(first: 3) { nodes { title
	sessions { nodes { name people(first: 5) { nodes { email } } } } } } }`

// TestTraceOfNestedQuery checks a nested query yields one trace: the HTTP server span,
// the operation span under it, a span per loader batch under that, and each Livestorm
// call as a client span under the loader batch that made it, one per upstream request
// the simulator counted.
func TestTraceOfNestedQuery(t *testing.T) {
	tr, exp := newRecorder(t)
	// The response cache off: the warm repeat below goes through the data cache (a
	// response-cache hit executes nothing at all).
	h := newHarness(t, withTracing(tr), withoutResponseCache())
	h.query(t, nestedQuery, nil).decode(t, &struct{}{})
	spans := waitSpan(t, exp, "POST /graphql")
	calls := h.upstreamCalls()
	require.Positive(t, calls)

	server := one(t, spans, "POST /graphql")
	assert.Equal(t, trace.SpanKindServer, server.SpanKind)
	assert.False(t, server.Parent.IsValid(), "a request without traceparent starts a trace")
	assert.Equal(t, "/graphql", attr(server, "http.route").AsString())
	assert.EqualValues(t, 200, attr(server, "http.response.status_code").AsInt64())
	for _, s := range spans {
		assert.Equal(t, server.SpanContext.TraceID(), s.SpanContext.TraceID(), "span %q is in another trace", s.Name)
	}

	op := one(t, spans, "query EventsWithPeople")
	assert.Equal(t, server.SpanContext.SpanID(), op.Parent.SpanID())
	assert.Equal(t, "EventsWithPeople", attr(op, "graphql.operation.name").AsString())
	assert.Equal(t, "query", attr(op, "graphql.operation.type").AsString())
	assert.Len(t, attr(op, "gateway.graphql.document.sha256").AsString(), 64)
	assert.EqualValues(t, calls, attr(op, "gateway.upstream.calls").AsInt64())

	byID := map[trace.SpanID]tracetest.SpanStub{}
	for _, s := range spans {
		byID[s.SpanContext.SpanID()] = s
	}
	var upstream, loaders int
	for _, s := range spans {
		switch {
		case s.SpanKind == trace.SpanKindClient:
			upstream++
			parent := byID[s.Parent.SpanID()]
			if s.Name == "GET /ping" && parent.SpanContext.SpanID() == op.SpanContext.SpanID() {
				// The operation's credential, verified once before its first read (the
				// loaders' cache-first path needs the workspace before any batch).
			} else {
				assert.True(t, strings.HasPrefix(parent.Name, "loader "), "upstream span %q is a child of %q, not of a loader", s.Name, parent.Name)
				assert.Equal(t, op.SpanContext.SpanID(), parent.Parent.SpanID(), "loader %q is not a child of the operation", parent.Name)
			}
			assert.NotEmpty(t, attr(s, "url.template").AsString())
			assert.NotContains(t, s.Name, "?")
			assert.EqualValues(t, 200, attr(s, "http.response.status_code").AsInt64())
			assert.Equal(t, "GET", attr(s, "http.request.method").AsString())
		case strings.HasPrefix(s.Name, "loader "):
			loaders++
			assert.Positive(t, attr(s, "gateway.loader.keys").AsInt64())
		}
	}
	assert.Equal(t, calls, upstream, "one client span per request the simulator received")
	assert.Positive(t, loaders)
	t.Logf("span tree of %s:\n%s", "EventsWithPeople", spanTree(spans, server))

	t.Run("a warm repeat is served by the cache, with no upstream span", func(t *testing.T) {
		exp.Reset()
		h.resetCalls()
		h.query(t, nestedQuery, nil).decode(t, &struct{}{})
		spans := waitSpan(t, exp, "POST /graphql")
		require.Zero(t, h.upstreamCalls())
		op := one(t, spans, "query EventsWithPeople")
		assert.Zero(t, attr(op, "gateway.upstream.calls").AsInt64())
		assert.Positive(t, attr(op, "gateway.cache.hits").AsInt64())
		for _, s := range spans {
			assert.NotEqual(t, trace.SpanKindClient, s.SpanKind)
		}
	})
}

// TestTraceparentIsContinued checks a caller's W3C trace context is continued: the
// server span joins the caller's trace under the caller's span, keeps its tracestate,
// and the response names the request id.
func TestTraceparentIsContinued(t *testing.T) {
	tr, exp := newRecorder(t)
	h := newHarness(t)
	srv := newHarnessServer(t, func() Deps { d := h.deps; d.Tracing = tr; return d }())

	const traceID, parentID = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	req, err := http.NewRequest(http.MethodPost, srv+"/graphql", strings.NewReader(`{"query":"query Org { organization { name } }"}`))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("traceparent", "00-"+traceID+"-"+parentID+"-01")
	req.Header.Set("tracestate", "vendor=opaque")
	req.Header.Set("baggage", "tenant=acme")
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Len(t, res.Header.Get("X-Request-Id"), 26, "a generated request id")

	spans := waitSpan(t, exp, "POST /graphql")
	server := one(t, spans, "POST /graphql")
	assert.Equal(t, traceID, server.SpanContext.TraceID().String())
	assert.Equal(t, parentID, server.Parent.SpanID().String())
	assert.True(t, server.Parent.IsRemote())
	assert.Equal(t, "vendor=opaque", server.SpanContext.TraceState().String())
	assert.Equal(t, res.Header.Get("X-Request-Id"), attr(server, "http.request.header.x-request-id").AsString())
	op := one(t, spans, "query Org")
	assert.Equal(t, server.SpanContext.SpanID(), op.Parent.SpanID())
}

// TestWebhookDeliveryHasItsOwnTrace checks a webhook delivery is a trace of its own,
// from the HTTP request through signature verification to the worker's eviction and
// publication, named by its event and workspace.
func TestWebhookDeliveryHasItsOwnTrace(t *testing.T) {
	tr, exp := newRecorder(t)
	h := newHarness(t, withWebhooks(), withTracing(tr))
	sess := h.openSession(t)
	queryTraces := map[trace.TraceID]bool{}
	for _, s := range named(waitSpan(t, exp, "POST /graphql"), "POST /graphql") {
		queryTraces[s.SpanContext.TraceID()] = true
	}
	exp.Reset()

	_, err := h.sim.RegisterPerson(sess.LivestormID, "traced.webhook@example.com", "Ada", "Lovelace")
	require.NoError(t, err)
	spans := waitSpan(t, exp, "webhook process people.registered")
	spans = waitSpan(t, exp, "POST /webhooks/livestorm")

	server := one(t, spans, "POST /webhooks/livestorm")
	assert.False(t, server.Parent.IsValid(), "each delivery starts a trace")
	assert.False(t, queryTraces[server.SpanContext.TraceID()], "not the trace of a query")
	assert.Equal(t, "people.registered", attr(server, "livestorm.webhook.event").AsString())
	assert.Equal(t, h.orgs[0].ID, attr(server, "livestorm.workspace.id").AsString())
	assert.EqualValues(t, http.StatusAccepted, attr(server, "http.response.status_code").AsInt64())

	verify := one(t, spans, "webhook verify")
	assert.Equal(t, server.SpanContext.SpanID(), verify.Parent.SpanID())
	assert.Equal(t, codes.Unset, verify.Status.Code)

	process := one(t, spans, "webhook process people.registered")
	assert.Equal(t, server.SpanContext.SpanID(), process.Parent.SpanID())
	assert.Equal(t, h.orgs[0].ID, attr(process, "livestorm.workspace.id").AsString())
	evict := one(t, spans, "cache invalidate")
	publish := one(t, spans, "pubsub publish")
	for _, s := range []tracetest.SpanStub{evict, publish} {
		assert.Equal(t, process.SpanContext.SpanID(), s.Parent.SpanID())
	}
	assert.Positive(t, attr(evict, "gateway.cache.evicted").AsInt64(), "the cached session was evicted")
	assert.True(t, evict.EndTime.Before(publish.StartTime) || evict.EndTime.Equal(publish.StartTime), "evict, then publish")
	t.Logf("span tree of a webhook delivery:\n%s", spanTree(spans, server))

	t.Run("a forged delivery is traced as refused", func(t *testing.T) {
		exp.Reset()
		status := postWebhook(t, h.gw.URL, signedDelivery{body: []byte(`{}`), signature: "1,deadbeef"})
		require.Equal(t, http.StatusUnauthorized, status)
		spans := waitSpan(t, exp, "POST /webhooks/livestorm")
		assert.Equal(t, codes.Error, one(t, spans, "webhook verify").Status.Code)
		assert.Empty(t, named(spans, "webhook process people.registered"))
	})
}

// TestSubscriptionEventSpans checks each event a subscription delivers gets a span of
// its own, linked to the subscription and to the webhook delivery that published it,
// with the event's fresh loader reads and Livestorm calls beneath it.
func TestSubscriptionEventSpans(t *testing.T) {
	tr, exp := newRecorder(t)
	h := newHarness(t, withWebhooks(), withTracing(tr))
	sess := h.openSession(t)
	c := openSubscriber(t, protoSSE, h.gw.URL, "")
	defer c.close()
	c.subscribe(t, "reg", `subscription Registrations($s: ID) { registrationCreated(sessionId: $s) {
		type person { firstName } session { id registrantsCount } } }`, map[string]any{"s": sess.ID})
	h.waitSubscribers(t, h.orgs[0].ID, 1)
	setup := one(t, waitSpan(t, exp, "subscription Registrations"), "subscription Registrations")

	for i := range 2 {
		_, err := h.sim.RegisterPerson(sess.LivestormID, fmt.Sprintf("traced.event%d@example.com", i), "Ada", "Lovelace")
		require.NoError(t, err)
		nextEvent(t, c, "reg", 5*time.Second).result(t).decode(t, &struct{}{})
	}
	var events tracetest.SpanStubs
	require.Eventually(t, func() bool {
		events = named(exp.GetSpans(), "subscription event people.registered")
		return len(events) == 2
	}, 5*time.Second, time.Millisecond)
	spans := exp.GetSpans()
	processes := named(spans, "webhook process people.registered")
	require.Len(t, processes, 2)

	for i, ev := range events {
		assert.False(t, ev.Parent.IsValid(), "an event starts a trace of its own")
		assert.Equal(t, trace.SpanKindConsumer, ev.SpanKind)
		assert.NotEqual(t, events[1-i].SpanContext.TraceID(), ev.SpanContext.TraceID())
		var linked []trace.SpanID
		for _, l := range ev.Links {
			linked = append(linked, l.SpanContext.SpanID())
		}
		assert.Contains(t, linked, setup.SpanContext.SpanID(), "linked to the subscription")
		assert.Contains(t, linked, processes[i].SpanContext.SpanID(), "linked to its webhook delivery")

		var loader tracetest.SpanStub
		for _, s := range spans {
			if s.Parent.SpanID() == ev.SpanContext.SpanID() && strings.HasPrefix(s.Name, "loader ") {
				loader = s
			}
		}
		require.Equal(t, "loader session", loader.Name, "the event's session is read afresh under the event's span")
		var client []string
		for _, s := range spans {
			if s.Parent.SpanID() == loader.SpanContext.SpanID() {
				client = append(client, s.Name)
			}
		}
		assert.Equal(t, []string{"GET /sessions/{id}"}, client)
		assert.EqualValues(t, 1, attr(ev, "gateway.upstream.calls").AsInt64())
		assert.Equal(t, "Registrations", attr(ev, "graphql.operation.name").AsString())
	}
	t.Logf("span tree of a subscription event:\n%s", spanTree(spans, events[0]))
}

// TestSpansCarryNoPersonalData runs operations that read and write people (emails in
// responses, in filters and in mutation inputs), receives a webhook carrying a person,
// and checks no exported span, event, link or status names an email or the token.
func TestSpansCarryNoPersonalData(t *testing.T) {
	tr, exp := newRecorder(t)
	h := newHarness(t, withWebhooks(), withTracing(tr))
	sess := h.openSession(t)

	var people struct {
		Session struct {
			People struct{ Nodes []struct{ Email string } }
		}
	}
	h.query(t, `query($id: ID!) { session(id: $id) { people(first: 20) { nodes { email firstName lastName } } } }`,
		map[string]any{"id": sess.ID}).decode(t, &people)
	require.NotEmpty(t, people.Session.People.Nodes)
	emails := []string{"probe.mutation@example.com", "probe.webhook@example.com"}
	for _, p := range people.Session.People.Nodes {
		emails = append(emails, p.Email)
	}
	h.query(t, `query($id: ID!, $e: String) { session(id: $id) { people(filter: {email: $e}) { nodes { id } } } }`,
		map[string]any{"id": sess.ID, "e": emails[2]}).decode(t, &struct{}{})
	h.query(t, `mutation($s: ID!) { registerPerson(input: {sessionId: $s, email: "probe.mutation@example.com", firstName: "Probe"}) {
		registration { id person { email } } } }`, map[string]any{"s": sess.ID}).decode(t, &struct{}{})
	h.query(t, `{ person(id: "no-such-person") { email } }`, nil) // a NOT_FOUND
	_, err := h.sim.RegisterPerson(sess.LivestormID, "probe.webhook@example.com", "Probe", "Webhook")
	require.NoError(t, err)
	waitSpan(t, exp, "webhook process people.registered")

	spans := exp.GetSpans()
	require.NotEmpty(t, spans)
	var text strings.Builder
	for _, s := range spans {
		fmt.Fprintln(&text, s.Name, s.Status.Description)
		for _, kv := range s.Attributes {
			fmt.Fprintln(&text, kv.Key, kv.Value.Emit())
		}
		for _, e := range s.Events {
			fmt.Fprintln(&text, e.Name, e.Attributes)
		}
		for _, l := range s.Links {
			fmt.Fprintln(&text, l.Attributes)
		}
		for _, kv := range s.Resource.Attributes() {
			fmt.Fprintln(&text, kv.Key, kv.Value.Emit())
		}
	}
	scanned := strings.ToLower(text.String())
	for _, e := range emails {
		assert.NotContains(t, scanned, strings.ToLower(e))
	}
	assert.NotContains(t, scanned, "@", "no email of any kind")
	for _, org := range h.orgs {
		assert.NotContains(t, text.String(), org.Token)
	}
	assert.NotContains(t, scanned, "authorization")
	assert.NotContains(t, scanned, "?", "no query strings")
	t.Logf("scanned %d spans (%d bytes of names and attributes)", len(spans), text.Len())
}

// TestExemplarsCarryTheTraceID checks the operation and upstream histograms carry the
// trace id of a request as an exemplar in the OpenMetrics exposition.
func TestExemplarsCarryTheTraceID(t *testing.T) {
	tr, exp := newRecorder(t)
	h := newHarness(t, withTracing(tr))
	h.query(t, nestedQuery, nil).decode(t, &struct{}{})
	traceID := one(t, waitSpan(t, exp, "POST /graphql"), "POST /graphql").SpanContext.TraceID().String()

	req, err := http.NewRequest(http.MethodGet, h.gw.URL+"/metrics", nil)
	require.NoError(t, err)
	req.Header.Set("Accept", "application/openmetrics-text; version=1.0.0; charset=utf-8")
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	var body bytes.Buffer
	_, err = body.ReadFrom(res.Body)
	require.NoError(t, err)
	assert.Contains(t, res.Header.Get("Content-Type"), "application/openmetrics-text")

	exemplar := `# {trace_id="` + traceID + `"}`
	var opLine, upstreamLine string
	for _, line := range strings.Split(body.String(), "\n") {
		switch {
		case strings.HasPrefix(line, `gateway_graphql_operation_duration_seconds_bucket{name="EventsWithPeople",type="query"`) && strings.Contains(line, exemplar):
			opLine = line
		case strings.HasPrefix(line, "livestorm_upstream_request_duration_seconds_bucket{") && strings.Contains(line, exemplar):
			upstreamLine = line
		}
	}
	assert.NotEmpty(t, opLine, "no operation bucket with the exemplar %s", exemplar)
	assert.NotEmpty(t, upstreamLine, "no upstream bucket with the exemplar %s", exemplar)
	t.Logf("%s\n%s", opLine, upstreamLine)

	t.Run("the plain text format still serves", func(t *testing.T) {
		text := metricsText(t, h.gw.URL)
		assert.Contains(t, text, `gateway_graphql_operation_duration_seconds_count{name="EventsWithPeople",type="query"} 1`)
	})
}

// TestTracingOffRecordsNothing checks the default (no OTEL endpoint) adds no span
// context: no trace id on log lines, exemplars or responses, and requests still get ids.
func TestTracingOffRecordsNothing(t *testing.T) {
	var logs lockedBuffer
	h := newHarness(t, withLogger(newLogger(Config{LogLevel: -4, LogFormat: "json"}, &logs)))
	res := h.query(t, nestedQuery, nil)
	require.Empty(t, res.Errors)
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var rec map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &rec), line)
		assert.NotContains(t, rec, "trace_id", line)
		assert.Contains(t, rec, "request_id", line)
	}
	assert.NotContains(t, metricsText(t, h.gw.URL), "trace_id")
}
