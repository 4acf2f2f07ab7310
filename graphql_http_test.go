package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/livestorm-gateway/gateway/livestormsim"
	"github.com/livestorm-gateway/gateway/transport"
)

const (
	mediaJSON     = "application/json"
	mediaResponse = "application/graphql-response+json"
)

// httpReply is a raw /graphql answer.
type httpReply struct {
	status int
	header http.Header
	body   []byte
}

// object decodes a single-operation answer, keeping whether it had a data entry.
func (r httpReply) object(t testing.TB) (resp gqlResponse, hasData bool) {
	t.Helper()
	require.NoError(t, json.Unmarshal(r.body, &resp), "body: %s", r.body)
	var keys map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(r.body, &keys))
	_, hasData = keys["data"]
	return resp, hasData
}

// batch decodes a batch answer.
func (r httpReply) batch(t testing.TB) []map[string]json.RawMessage {
	t.Helper()
	var out []map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(r.body, &out), "body: %s", r.body)
	return out
}

// send makes one /graphql request: target is appended to /graphql (e.g. "?query=…"),
// header pairs are set, a nil body sends none.
func send(t testing.TB, base, method, target string, body io.Reader, header ...string) httpReply {
	t.Helper()
	req, err := http.NewRequest(method, base+"/graphql"+target, body)
	require.NoError(t, err)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return httpReply{status: res.StatusCode, header: res.Header, body: b}
}

func postJSON(t testing.TB, base, body string, header ...string) httpReply {
	t.Helper()
	return send(t, base, http.MethodPost, "", strings.NewReader(body), append([]string{"Content-Type", mediaJSON}, header...)...)
}

func gqlBody(t testing.TB, query string, vars map[string]any) string {
	t.Helper()
	b, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	require.NoError(t, err)
	return string(b)
}

// TestGraphQLOverHTTPAudit runs graphql-http's server audits (the GraphQL-over-HTTP
// conformance suite) with clients/audit.mjs against the real handler.
func TestGraphQLOverHTTPAudit(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is not installed: install Node.js ≥ 20, then run `npm ci` in clients/ (make test does it)")
	}
	if _, err := os.Stat("clients/node_modules/graphql-http/package.json"); err != nil {
		t.Fatal("clients/node_modules is missing: run `npm ci` in clients/ (make test does it)")
	}
	h := newHarness(t)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, node, "clients/audit.mjs", h.gw.URL+"/graphql")
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var summary struct {
		Total, OK, Warn, Notice, Error int
		Failures                       []struct{ ID, Name, Status, Reason string }
	}
	require.NoError(t, json.Unmarshal(out, &summary), "audit output: %s\nstderr: %s\nerr: %v", out, stderr.String(), err)
	assert.Equal(t, 61, summary.Total, "graphql-http 1.23.1 has 61 server audits")
	assert.Equal(t, 61, summary.OK)
	assert.Zero(t, summary.Warn+summary.Notice+summary.Error, "failures: %+v", summary.Failures)
	assert.Equal(t, 0, h.upstreamCalls(), "the audit's operations never reach Livestorm")
}

// TestHTTPStatusesAndMediaTypes pins the answer to each kind of request: status, media
// type, code, whether data is present; none of them reaches Livestorm.
func TestHTTPStatusesAndMediaTypes(t *testing.T) {
	h := newHarness(t)
	typename := `{"query":"{ __typename }"}`
	tooComplex := gqlBody(t, `{ events(first: 200) { nodes { sessions(first: 200) { nodes { people(first: 200) { nodes { email } } } } } } }`, nil)
	tooDeep := gqlBody(t, `{ events(first: 1) { nodes { sessions(first: 1) { nodes { event { sessions(first: 1) { nodes { event { sessions(first: 1) { nodes { event { sessions(first: 1) { nodes { id } } } } } } } } } } } } } }`, nil)
	get := func(q string) string { return "?query=" + url.QueryEscape(q) }
	cases := []struct {
		name                string
		method, target      string
		contentType, accept string
		body                string
		status              int
		media, code, allow  string
		data                bool // a data entry is present
	}{
		{name: "query, no Accept", method: "POST", contentType: mediaJSON, body: typename, status: 200, media: mediaJSON, data: true},
		{name: "query, Accept */*", method: "POST", contentType: mediaJSON, accept: "*/*", body: typename, status: 200, media: mediaJSON, data: true},
		{name: "query, Apollo Client 4's Accept", method: "POST", contentType: mediaJSON, accept: "application/graphql-response+json,application/json;q=0.9", body: typename, status: 200, media: mediaResponse, data: true},
		{name: "GET query", method: "GET", target: get("{ __typename }"), status: 200, media: mediaJSON, data: true},
		{name: "GET query, graphql-response+json", method: "GET", target: get("{ __typename }"), accept: mediaResponse, status: 200, media: mediaResponse, data: true},

		{name: "parse failure, json", method: "POST", contentType: mediaJSON, body: `{"query":"{"}`, status: 200, media: mediaJSON, code: "GRAPHQL_PARSE_FAILED"},
		{name: "parse failure, graphql-response+json", method: "POST", contentType: mediaJSON, accept: mediaResponse, body: `{"query":"{"}`, status: 400, media: mediaResponse, code: "GRAPHQL_PARSE_FAILED"},
		{name: "validation failure, json", method: "POST", contentType: mediaJSON, body: `{"query":"{ nope }"}`, status: 200, media: mediaJSON, code: "GRAPHQL_VALIDATION_FAILED"},
		{name: "validation failure, graphql-response+json", method: "POST", contentType: mediaJSON, accept: mediaResponse, body: `{"query":"{ nope }"}`, status: 400, media: mediaResponse, code: "GRAPHQL_VALIDATION_FAILED"},
		{name: "variable coercion, json", method: "POST", contentType: mediaJSON, body: `{"query":"query($id: ID!) { event(id: $id) { id } }","variables":{"id":null}}`, status: 200, media: mediaJSON, code: "GRAPHQL_VALIDATION_FAILED"},
		{name: "variable coercion, graphql-response+json", method: "POST", contentType: mediaJSON, accept: mediaResponse, body: `{"query":"query($id: ID!) { event(id: $id) { id } }","variables":{"id":null}}`, status: 400, media: mediaResponse, code: "GRAPHQL_VALIDATION_FAILED"},
		{name: "too complex, json", method: "POST", contentType: mediaJSON, body: tooComplex, status: 200, media: mediaJSON, code: "COMPLEXITY_LIMIT_EXCEEDED"},
		{name: "too complex, graphql-response+json", method: "POST", contentType: mediaJSON, accept: mediaResponse, body: tooComplex, status: 400, media: mediaResponse, code: "COMPLEXITY_LIMIT_EXCEEDED"},
		{name: "too deep, graphql-response+json", method: "POST", contentType: mediaJSON, accept: mediaResponse, body: tooDeep, status: 400, media: mediaResponse, code: "BAD_USER_INPUT"},

		{name: "no query", method: "POST", contentType: mediaJSON, body: `{"qeury":"{ __typename }"}`, status: 400, media: mediaJSON, code: "BAD_REQUEST"},
		{name: "query not a string", method: "POST", contentType: mediaJSON, accept: mediaResponse, body: `{"query":["{ __typename }"]}`, status: 400, media: mediaResponse, code: "BAD_REQUEST"},
		{name: "variables not an object", method: "POST", contentType: mediaJSON, body: `{"query":"{ __typename }","variables":[]}`, status: 400, media: mediaJSON, code: "BAD_REQUEST"},
		{name: "empty body", method: "POST", contentType: mediaJSON, status: 400, media: mediaJSON, code: "BAD_REQUEST"},
		{name: "not JSON", method: "POST", contentType: mediaJSON, body: `{ "not a JSON`, status: 400, media: mediaJSON, code: "BAD_REQUEST"},
		{name: "a JSON string", method: "POST", contentType: mediaJSON, body: `"{ __typename }"`, status: 400, media: mediaJSON, code: "BAD_REQUEST"},
		{name: "GET without query", method: "GET", status: 400, media: mediaJSON, code: "BAD_REQUEST"},
		{name: "GET with variables not JSON", method: "GET", target: get("{ __typename }") + "&variables=%7B", status: 400, media: mediaJSON, code: "BAD_REQUEST"},

		{name: "mutation over GET", method: "GET", target: get(`mutation { deleteEvent(input: {id: "x"}) { deletedEventId } }`), status: 405, media: mediaJSON, code: "BAD_REQUEST", allow: "POST"},
		{name: "subscription over POST", method: "POST", contentType: mediaJSON, body: `{"query":"subscription { livestormEvents { type } }"}`, status: 400, media: mediaJSON, code: "BAD_REQUEST"},
		{name: "subscription over GET", method: "GET", target: get("subscription { livestormEvents { type } }"), status: 400, media: mediaJSON, code: "BAD_REQUEST"},
		{name: "documentId without a persisted-document store", method: "POST", contentType: mediaJSON, body: `{"documentId":"sha256:abc"}`, status: 400, media: mediaJSON, code: "PERSISTED_QUERY_NOT_SUPPORTED"},
		{name: "doc_id over GET without a store", method: "GET", target: "?doc_id=abc", status: 400, media: mediaJSON, code: "PERSISTED_QUERY_NOT_SUPPORTED"},

		{name: "nothing acceptable", method: "POST", contentType: mediaJSON, accept: "text/html", body: typename, status: 406, media: mediaJSON, code: "BAD_REQUEST"},
		{name: "GET, nothing acceptable", method: "GET", target: get("{ __typename }"), accept: "application/xml", status: 406, media: mediaJSON, code: "BAD_REQUEST"},
		{name: "no Content-Type", method: "POST", body: typename, status: 415, media: mediaJSON, code: "BAD_REQUEST"},
		{name: "text/plain", method: "POST", contentType: "text/plain", body: typename, status: 415, media: mediaJSON, code: "BAD_REQUEST"},
		{name: "JSON in latin1", method: "POST", contentType: "application/json; charset=latin1", body: typename, status: 415, media: mediaJSON, code: "BAD_REQUEST"},
		// PUT and DELETE are graphql-sse's single-connection reservations (streams_test.go).
		{name: "PATCH", method: "PATCH", contentType: mediaJSON, body: typename, status: 405, media: mediaJSON, code: "BAD_REQUEST", allow: "GET, POST, PUT, DELETE, OPTIONS"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h.resetCalls()
			var header []string
			if tc.contentType != "" {
				header = append(header, "Content-Type", tc.contentType)
			}
			if tc.accept != "" {
				header = append(header, "Accept", tc.accept)
			}
			var body io.Reader
			if tc.body != "" {
				body = strings.NewReader(tc.body)
			}
			r := send(t, h.gw.URL, tc.method, tc.target, body, header...)
			assert.Equal(t, tc.status, r.status, "body: %s", r.body)
			assert.Equal(t, tc.media, r.header.Get("Content-Type"))
			assert.Equal(t, tc.allow, r.header.Get("Allow"))
			resp, hasData := r.object(t)
			assert.Equal(t, tc.data, hasData, "data entry; body: %s", r.body)
			if tc.code == "" {
				assert.Empty(t, resp.Errors)
			} else {
				require.NotEmpty(t, resp.Errors)
				assert.Equal(t, tc.code, resp.Errors[0].code(), resp.Errors[0].Message)
			}
			assert.Equal(t, 0, h.upstreamCalls())
		})
	}

	t.Run("execution errors keep 200 and data under graphql-response+json", func(t *testing.T) {
		r := postJSON(t, h.gw.URL, gqlBody(t, `query($id: ID!) { event(id: $id) { id } }`, map[string]any{"id": missingID}), "Accept", mediaResponse)
		assert.Equal(t, 200, r.status)
		resp, hasData := r.object(t)
		assert.True(t, hasData)
		assert.JSONEq(t, `{"event":null}`, string(resp.Data))
		require.Len(t, resp.Errors, 1)
		assert.Equal(t, "NOT_FOUND", resp.Errors[0].code())
	})
}

// chunked hides a reader's length so the request goes out with Transfer-Encoding: chunked.
type chunked struct{ io.Reader }

// TestBadBodiesAreClientErrors: oversized, undecodable and hostile bodies are refused with
// a client status and BAD_REQUEST, never INTERNAL, and cost no upstream call.
func TestBadBodiesAreClientErrors(t *testing.T) {
	h := newHarness(t)
	pad := func(n int) string {
		return `{"query":"{ __typename }","variables":{"x":"` + strings.Repeat("a", n) + `"}}`
	}
	nested := `{"query":"query($v: [String]) { __typename }","variables":{"v":` + strings.Repeat("[", 10_000) + strings.Repeat("]", 10_000) + `}}`
	cases := []struct {
		name    string
		body    func() io.Reader
		target  string
		method  string
		status  int
		message string
	}{
		{"chunked body over 1 MiB", func() io.Reader { return chunked{strings.NewReader(pad(maxBodyBytes + 64<<10))} }, "", "POST", 413, "exceeds 1048576 bytes"},
		{"announced body over 1 MiB", func() io.Reader { return strings.NewReader(pad(maxBodyBytes)) }, "", "POST", 413, "exceeds 1048576 bytes"},
		{"chunked body under the limit is served", func() io.Reader { return chunked{strings.NewReader(pad(1000))} }, "", "POST", 200, ""},
		{"undecodable body", func() io.Reader { return strings.NewReader(`{"query": "{ __typename }",,}`) }, "", "POST", 400, "not valid JSON"},
		{"truncated body", func() io.Reader { return strings.NewReader(`{"query": "{ __typename }", "variables": {"a": [1, 2`) }, "", "POST", 400, "not valid JSON"},
		{"10,000 nested arrays in a variable", func() io.Reader { return strings.NewReader(nested) }, "", "POST", 400, "nests deeper than 32 levels"},
		{"10,000 nested arrays, chunked", func() io.Reader { return chunked{strings.NewReader(nested)} }, "", "POST", 400, "nests deeper than 32 levels"},
		{"10,000 nested arrays in a GET variable", func() io.Reader { return nil },
			"?query=" + url.QueryEscape(`query($v: [String]) { __typename }`) + "&variables=" + url.QueryEscape(`{"v":`+strings.Repeat("[", 10_000)+strings.Repeat("]", 10_000)+`}`), "GET", 400, "nests deeper than 32 levels"},
		{"a batch nested too deep", func() io.Reader { return strings.NewReader(`[` + nested + `]`) }, "", "POST", 400, "nests deeper than 32 levels"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h.resetCalls()
			header := []string{}
			if tc.method == "POST" {
				header = append(header, "Content-Type", mediaJSON)
			}
			r := send(t, h.gw.URL, tc.method, tc.target, tc.body(), header...)
			assert.Equal(t, tc.status, r.status, "body: %.300s", r.body)
			resp, _ := r.object(t)
			if tc.status == 200 {
				assert.Empty(t, resp.Errors)
				return
			}
			require.Len(t, resp.Errors, 1)
			assert.Equal(t, transport.CodeBadRequest, resp.Errors[0].code())
			assert.Contains(t, resp.Errors[0].Message, tc.message)
			assert.Equal(t, 0, h.upstreamCalls())
		})
	}
}

func TestBatch(t *testing.T) {
	h := newHarness(t)
	ev := h.sim.Events(h.orgs[0].ID)[0]
	batchOf := func(ops ...string) string { return "[" + strings.Join(ops, ",") + "]" }

	t.Run("answers in order", func(t *testing.T) {
		r := postJSON(t, h.gw.URL, batchOf(
			`{"query":"{ organization { name } }"}`,
			`{"query":"query Q { __typename }","operationName":"Q"}`,
			gqlBody(t, `query($id: ID!) { event(id: $id) { title } }`, map[string]any{"id": ev.ID}),
		))
		require.Equal(t, 200, r.status, "%s", r.body)
		assert.Equal(t, mediaJSON, r.header.Get("Content-Type"))
		out := r.batch(t)
		require.Len(t, out, 3)
		assert.JSONEq(t, `{"organization":{"name":`+jsonString(h.orgs[0].Name)+`}}`, string(out[0]["data"]))
		assert.JSONEq(t, `{"__typename":"Query"}`, string(out[1]["data"]))
		assert.JSONEq(t, `{"event":{"title":`+jsonString(ev.Title)+`}}`, string(out[2]["data"]))
	})

	t.Run("each operation meets every limit as if sent alone", func(t *testing.T) {
		h.resetCalls()
		r := postJSON(t, h.gw.URL, batchOf(
			`{"query":"{ __typename }"}`,
			gqlBody(t, `{ events(first: 200) { nodes { sessions(first: 200) { nodes { people(first: 200) { nodes { email } } } } } } }`, nil),
			`{"query":"{ nope }"}`,
			`{"query":"{"}`,
			gqlBody(t, `{ events(first: 1) { nodes { sessions(first: 1) { nodes { event { sessions(first: 1) { nodes { event { sessions(first: 1) { nodes { event { sessions(first: 1) { nodes { id } } } } } } } } } } } } } }`, nil),
		), "Accept", mediaResponse)
		require.Equal(t, 200, r.status, "a batch is answered 200; each entry carries its own errors")
		assert.Equal(t, mediaResponse, r.header.Get("Content-Type"))
		out := r.batch(t)
		require.Len(t, out, 5)
		assert.JSONEq(t, `{"__typename":"Query"}`, string(out[0]["data"]))
		for i, code := range map[int]string{1: "COMPLEXITY_LIMIT_EXCEEDED", 2: "GRAPHQL_VALIDATION_FAILED", 3: "GRAPHQL_PARSE_FAILED", 4: "BAD_USER_INPUT"} {
			var errs []gqlError
			require.NoError(t, json.Unmarshal(out[i]["errors"], &errs))
			require.NotEmpty(t, errs, "entry %d", i)
			assert.Equal(t, code, errs[0].code(), "entry %d", i)
			assert.NotContains(t, out[i], "data", "entry %d was refused before execution", i)
		}
		assert.Equal(t, 0, h.upstreamCalls())
	})

	t.Run("APQ works across the operations of a batch", func(t *testing.T) {
		q := `{ __typename }`
		sum := sha256.Sum256([]byte(q))
		ext := `"extensions":{"persistedQuery":{"version":1,"sha256Hash":"` + hex.EncodeToString(sum[:]) + `"}}`
		out := postJSON(t, h.gw.URL, batchOf(`{"query":"`+q+`",`+ext+`}`, `{`+ext+`}`)).batch(t)
		require.Len(t, out, 2)
		assert.JSONEq(t, `{"__typename":"Query"}`, string(out[0]["data"]))
		assert.JSONEq(t, `{"__typename":"Query"}`, string(out[1]["data"]))
	})

	ten := strings.TrimSuffix(strings.Repeat(`{"query":"{ __typename }"},`, 10), ",")
	refusals := []struct{ name, body, message string }{
		{"over GRAPHQL_MAX_BATCH", batchOf(ten, `{"query":"{ __typename }"}`), "at most 10 operations; this one has 11"},
		{"empty", `[]`, "the batch is empty"},
		{"an element that is not an object", batchOf(`{"query":"{ __typename }"}`, `"{ __typename }"`), "batch element 1 must be an object, got a string"},
		{"an element with a bad parameter", batchOf(`{"query":"{ __typename }"}`, `{"query":"{ __typename }","variables":7}`), "batch element 1: variables must be an object"},
		{"an element without a query", batchOf(`{"query":"{ __typename }"}`, `{}`), "batch element 1: the request has no query"},
		{"not JSON", `[{"query":"{ __typename }"}`, "not valid JSON"},
	}
	for _, tc := range refusals {
		t.Run("refused: "+tc.name, func(t *testing.T) {
			h.resetCalls()
			r := postJSON(t, h.gw.URL, tc.body)
			assert.Equal(t, 400, r.status)
			resp, hasData := r.object(t)
			assert.False(t, hasData)
			require.Len(t, resp.Errors, 1)
			assert.Equal(t, transport.CodeBadRequest, resp.Errors[0].code())
			assert.Contains(t, resp.Errors[0].Message, tc.message)
			assert.Equal(t, 0, h.upstreamCalls())
		})
	}
	t.Run("exactly GRAPHQL_MAX_BATCH is served", func(t *testing.T) {
		r := postJSON(t, h.gw.URL, batchOf(ten))
		assert.Equal(t, 200, r.status)
		assert.Len(t, r.batch(t), 10)
	})
	t.Run("GRAPHQL_MAX_BATCH=0 refuses arrays", func(t *testing.T) {
		deps := h.deps
		deps.Config.MaxBatch = 0
		r := postJSON(t, newHarnessServer(t, deps), batchOf(`{"query":"{ __typename }"}`))
		assert.Equal(t, 400, r.status)
		assert.Contains(t, string(r.body), "does not accept batches")
	})
}

// TestBatchSharesLoaders: the queries of one batch share one set of loaders, so a batch
// dedupes across its operations as one query does across its fields.
func TestBatchSharesLoaders(t *testing.T) {
	route := func(h *harness, r string) int {
		return h.sim.CountRequests(func(rec livestormsim.RequestRecord) bool { return rec.Route == r })
	}

	t.Run("two operations reading the same event cost one call", func(t *testing.T) {
		// The shared cache is made useless (1 ns TTL): only the loaders can dedupe.
		h := newHarness(t, withCacheTTL(time.Nanosecond))
		ev := h.sim.Events(h.orgs[0].ID)[0]
		title := gqlBody(t, `query($id: ID!) { event(id: $id) { title } }`, map[string]any{"id": ev.ID})
		owner := gqlBody(t, `query($id: ID!) { event(id: $id) { livestormId owner { id } } }`, map[string]any{"id": ev.ID})

		h.resetCalls()
		postJSON(t, h.gw.URL, title)
		postJSON(t, h.gw.URL, owner)
		require.Equal(t, 2, route(h, "/events/{id}"), "sent one by one, each operation reads the event")

		h.resetCalls()
		r := postJSON(t, h.gw.URL, "["+title+","+owner+"]")
		require.Equal(t, 200, r.status)
		out := r.batch(t)
		require.Len(t, out, 2)
		assert.JSONEq(t, `{"event":{"title":`+jsonString(ev.Title)+`}}`, string(out[0]["data"]))
		assert.Contains(t, string(out[1]["data"]), ev.ID)
		assert.Equal(t, 1, route(h, "/events/{id}"), "in one batch the event is read once")
	})

	t.Run("a list in one operation serves a lookup in the next", func(t *testing.T) {
		list := `{"query":"{ events(first: 5) { nodes { id title } } }"}`
		lookup := func(h *harness) string {
			return gqlBody(t, `query($id: ID!) { event(id: $id) { title } }`, map[string]any{"id": h.sim.Events(h.orgs[0].ID)[0].ID})
		}
		alone := newHarness(t)
		alone.resetCalls()
		postJSON(t, alone.gw.URL, list)
		postJSON(t, alone.gw.URL, lookup(alone))
		assert.Equal(t, 1, route(alone, "/events/{id}"), "sent one by one, the lookup is a call of its own")

		h := newHarness(t)
		h.resetCalls()
		out := postJSON(t, h.gw.URL, "["+list+","+lookup(h)+"]").batch(t)
		require.Len(t, out, 2)
		assert.Contains(t, string(out[1]["data"]), jsonString(h.sim.Events(h.orgs[0].ID)[0].Title))
		assert.Equal(t, 1, route(h, "/events"))
		assert.Equal(t, 0, route(h, "/events/{id}"), "in one batch the list primed the lookup")
	})
}

// TestBatchMutationsRunInOrder: a mutation runs after everything before it and before
// everything after it, and the queries after it do not see what the loaders held before.
func TestBatchMutationsRunInOrder(t *testing.T) {
	h := newHarness(t)
	ev := h.sim.Events(h.orgs[0].ID)[0]
	read := gqlBody(t, `query($id: ID!) { event(id: $id) { title } }`, map[string]any{"id": ev.ID})
	rename := func(title string) string {
		return gqlBody(t, `mutation($in: UpdateEventInput!) { updateEvent(input: $in) { event { title } } }`,
			map[string]any{"in": map[string]any{"id": ev.ID, "title": title}})
	}
	r := postJSON(t, h.gw.URL, "["+strings.Join([]string{read, rename("First"), read, rename("Second"), rename("Third"), read}, ",")+"]")
	require.Equal(t, 200, r.status)
	out := r.batch(t)
	require.Len(t, out, 6)
	want := []string{
		`{"event":{"title":` + jsonString(ev.Title) + `}}`,
		`{"updateEvent":{"event":{"title":"First"}}}`,
		`{"event":{"title":"First"}}`,
		`{"updateEvent":{"event":{"title":"Second"}}}`,
		`{"updateEvent":{"event":{"title":"Third"}}}`,
		`{"event":{"title":"Third"}}`,
	}
	for i, w := range want {
		assert.JSONEq(t, w, string(out[i]["data"]), "entry %d", i)
	}
}

func TestAutomaticPersistedQueries(t *testing.T) {
	h := newHarness(t)
	var logs lockedBuffer
	deps := h.deps
	deps.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	gw := newHarnessServer(t, deps)

	q := `query APQ { organization { name } }`
	sum := sha256.Sum256([]byte(q))
	hash := hex.EncodeToString(sum[:])
	apq := func(query string, version any, hash string) string {
		m := map[string]any{"extensions": map[string]any{"persistedQuery": map[string]any{"version": version, "sha256Hash": hash}}}
		if query != "" {
			m["query"] = query
		}
		b, err := json.Marshal(m)
		require.NoError(t, err)
		return string(b)
	}

	t.Run("Apollo's round trip: unknown hash, then query and hash, then hash alone", func(t *testing.T) {
		for _, accept := range []string{mediaJSON, mediaResponse} {
			r := postJSON(t, gw, apq("", 1, strings.Repeat("0", 64)), "Accept", accept)
			assert.Equal(t, 200, r.status, "PERSISTED_QUERY_NOT_FOUND is APQ's normal first answer")
			resp, _ := r.object(t)
			require.Len(t, resp.Errors, 1)
			assert.Equal(t, "PERSISTED_QUERY_NOT_FOUND", resp.Errors[0].code())
			assert.Equal(t, "PersistedQueryNotFound", resp.Errors[0].Message, "Apollo clients match the message too")
		}
		r := postJSON(t, gw, apq(q, 1, hash))
		require.Equal(t, 200, r.status)
		resp, _ := r.object(t)
		require.Empty(t, resp.Errors)
		h.resetCalls()
		r = postJSON(t, gw, apq("", 1, strings.ToUpper(hash)))
		resp, _ = r.object(t)
		require.Empty(t, resp.Errors)
		assert.JSONEq(t, `{"organization":{"name":`+jsonString(h.orgs[0].Name)+`}}`, string(resp.Data))
		r = send(t, gw, http.MethodGet, "?extensions="+url.QueryEscape(`{"persistedQuery":{"version":1,"sha256Hash":"`+hash+`"}}`), nil)
		resp, _ = r.object(t)
		assert.Empty(t, resp.Errors, "hashed GETs (useGETForHashedQueries) work too")
	})

	refusals := []struct {
		name, body, accept, code string
		status                   int
	}{
		{"hash mismatch, graphql-response+json", apq(`{ __typename }`, 1, hash), mediaResponse, "PERSISTED_QUERY_HASH_MISMATCH", 400},
		{"hash mismatch, json", apq(`{ __typename }`, 1, hash), mediaJSON, "PERSISTED_QUERY_HASH_MISMATCH", 200},
		{"version 2", apq(q, 2, hash), mediaJSON, "PERSISTED_QUERY_NOT_SUPPORTED", 400},
		{"no version", apq(q, nil, hash), mediaResponse, "PERSISTED_QUERY_NOT_SUPPORTED", 400},
		{"hash not hex", apq(q, 1, "abc"), mediaJSON, "BAD_REQUEST", 400},
		{"persistedQuery not an object", `{"query":"{ __typename }","extensions":{"persistedQuery":"x"}}`, mediaJSON, "BAD_REQUEST", 400},
	}
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			h.resetCalls()
			before := strings.Count(logs.String(), "level=ERROR")
			r := postJSON(t, gw, tc.body, "Accept", tc.accept)
			assert.Equal(t, tc.status, r.status)
			resp, hasData := r.object(t)
			assert.False(t, hasData)
			require.Len(t, resp.Errors, 1)
			assert.Equal(t, tc.code, resp.Errors[0].code(), resp.Errors[0].Message)
			assert.Equal(t, before, strings.Count(logs.String(), "level=ERROR"), "a client's mistake is not logged as an error")
			assert.Equal(t, 0, h.upstreamCalls())
		})
	}
}

// TestDeferIsAnsweredWhole: over plain JSON an operation with @defer gets one complete
// response (the deferred payloads merged in), the same as without @defer.
func TestDeferIsAnsweredWhole(t *testing.T) {
	h := newHarness(t)
	ev := h.sim.Events(h.orgs[0].ID)[0]
	deferred := `query($id: ID!) { event(id: $id) { title ... @defer(label: "sessions") { sessions(first: 2) { nodes { id ... @defer { people(first: 2) { totalCount } } } } } } }`
	plain := `query($id: ID!) { event(id: $id) { title sessions(first: 2) { nodes { id people(first: 2) { totalCount } } } } }`
	vars := map[string]any{"id": ev.ID}

	h.resetCalls()
	d := h.query(t, deferred, vars)
	coldDeferred := h.upstreamCalls()
	require.Empty(t, d.Errors)
	p := h.query(t, plain, vars)
	require.Empty(t, p.Errors)
	assert.JSONEq(t, string(p.Data), string(d.Data))
	assert.NotContains(t, string(d.Data), "null")
	assert.NotContains(t, d.Extensions, "hasNext")
	assert.Positive(t, coldDeferred)
}

// BenchmarkHTTPRefusals measures what a hostile request costs the gateway before it is
// refused, through the full handler (routing, CORS, credentials, body limit, transport).
func BenchmarkHTTPRefusals(b *testing.B) {
	h := newHarness(b)
	handler := NewServer(h.deps)
	nested := `{"query":"query($v: [String]) { __typename }","variables":{"v":` + strings.Repeat("[", 10_000) + strings.Repeat("]", 10_000) + `}}`
	flatDeepEnd := `{"query":"{ __typename }","variables":{"x":"` + strings.Repeat("a", maxBodyBytes-200) + `","v":` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `}}`
	oversized := strings.Repeat(" ", 2*maxBodyBytes)
	batch := "[" + strings.TrimSuffix(strings.Repeat(`{"query":"{ __typename }"},`, 11), ",") + "]"
	cases := []struct {
		name   string
		body   func() io.Reader
		status int
	}{
		{"10,000 nested arrays (20 KB)", func() io.Reader { return strings.NewReader(nested) }, 400},
		{"1 MiB body nested too deep at its end", func() io.Reader { return strings.NewReader(flatDeepEnd) }, 400},
		{"2 MiB chunked body", func() io.Reader { return chunked{strings.NewReader(oversized)} }, 413},
		{"batch over the limit", func() io.Reader { return strings.NewReader(batch) }, 400},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			h.resetCalls()
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, "/graphql", tc.body())
				req.Header.Set("Content-Type", mediaJSON)
				rec := httptest.NewRecorder()
				handler.ServeHTTP(rec, req)
				if rec.Code != tc.status {
					b.Fatalf("status %d, want %d: %.200s", rec.Code, tc.status, rec.Body.String())
				}
			}
			b.StopTimer()
			require.Equal(b, 0, h.upstreamCalls())
		})
	}
}
