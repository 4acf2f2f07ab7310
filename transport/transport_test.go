package transport

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/testserver"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

func TestNegotiate(t *testing.T) {
	cases := []struct {
		accept string
		want   string // "" = 406
	}{
		{"", MediaTypeJSON},
		{"*/*", MediaTypeJSON},
		{"application/*", MediaTypeJSON},
		{"application/json", MediaTypeJSON},
		{"application/graphql-response+json", MediaTypeGraphQLResponse},
		{"application/graphql-response+json, application/json", MediaTypeGraphQLResponse},
		{"application/json, application/graphql-response+json", MediaTypeGraphQLResponse},
		{"application/graphql-response+json;q=0.8, application/json", MediaTypeJSON},
		{"application/graphql-response+json,application/json;q=0.9", MediaTypeGraphQLResponse}, // Apollo Client 4
		{"multipart/mixed;deferSpec=20220824,application/graphql-response+json,application/json;q=0.9", MediaTypeGraphQLResponse},
		{"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", MediaTypeJSON}, // a browser
		{"application/json;q=0, */*", MediaTypeGraphQLResponse},
		{"application/json; charset=utf-8", MediaTypeJSON},
		{"text/html", ""},
		{"application/xml", ""},
		{"application/json;q=0", ""},
		{"garbage;;", ""},
	}
	for _, tc := range cases {
		t.Run(tc.accept, func(t *testing.T) {
			got, ok := negotiate(tc.accept)
			assert.Equal(t, tc.want != "", ok)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestTooDeep(t *testing.T) {
	cases := []struct {
		name string
		json string
		max  int
		deep bool
	}{
		{"flat", `{"query":"{ a }"}`, 2, false},
		{"at the limit", `{"a":[{"b":1}]}`, 3, false},
		{"over the limit", `{"a":[{"b":[1]}]}`, 3, true},
		{"brackets inside strings do not count", `{"query":"[[[[[[{{{{{{"}`, 2, false},
		{"escaped quotes keep the string open", `{"q":"\"[[[[[[\\"}`, 2, false},
		{"an escaped backslash ends before the quote", `{"q":"\\\\"}` + `[[[`, 2, true},
		{"an escaped quote after backslashes", `{"q":"\\\"[[[["}`, 2, false},
		{"unterminated string", `{"q":"[[[[`, 2, false},
		{"10,000 nested arrays", strings.Repeat("[", 10_000) + strings.Repeat("]", 10_000), DefaultMaxJSONDepth, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.deep, tooDeep([]byte(tc.json), tc.max))
		})
	}
}

func TestDecodeObject(t *testing.T) {
	cases := []struct {
		name, body string
		err        string // substring of the refusal; "" = accepted
	}{
		{"query only", `{"query":"{ a }"}`, ""},
		{"nulls are absent", `{"query":"{ a }","operationName":null,"variables":null,"extensions":null}`, ""},
		{"APQ hash without query", `{"extensions":{"persistedQuery":{"version":1,"sha256Hash":"x"}}}`, ""},
		{"documentId without query", `{"documentId":"sha256:abc"}`, ""},
		{"doc_id without query", `{"doc_id":"abc"}`, ""},
		{"same id both ways", `{"doc_id":"abc","documentId":"abc"}`, ""},
		{"no query", `{"qeury":"{ a }"}`, "no query"},
		{"empty query", `{"query":""}`, "no query"},
		{"numeric query", `{"query":0}`, "query must be a string, got a number"},
		{"object query", `{"query":{"obj":"ect"}}`, "query must be a string, got an object"},
		{"array operationName", `{"query":"{ a }","operationName":["x"]}`, "operationName must be a string, got an array"},
		{"string variables", `{"query":"{ a }","variables":"{}"}`, "variables must be an object, got a string"},
		{"boolean extensions", `{"query":"{ a }","extensions":false}`, "extensions must be an object, got a boolean"},
		{"numeric documentId", `{"documentId":7}`, "documentId must be a string"},
		{"different ids", `{"doc_id":"a","documentId":"b"}`, "different documents"},
		{"not JSON", `{ "not a JSON`, "not valid JSON"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, rerr := decodeObject([]byte(tc.body), "the request body")
			if tc.err == "" {
				require.Nil(t, rerr)
				require.NotNil(t, p)
				return
			}
			require.NotNil(t, rerr)
			assert.Equal(t, http.StatusBadRequest, rerr.status)
			assert.Equal(t, CodeBadRequest, rerr.code)
			assert.Contains(t, rerr.message, tc.err)
			assert.NotContains(t, rerr.message, `{ a }`, "refusals never echo the request")
		})
	}

	t.Run("numbers keep their precision", func(t *testing.T) {
		p, rerr := decodeObject([]byte(`{"query":"{ a }","variables":{"big":9007199254740993}}`), "body")
		require.Nil(t, rerr)
		assert.Equal(t, json.Number("9007199254740993"), p.raw.Variables["big"])
	})
	t.Run("document ids land under PersistedDocumentExtension", func(t *testing.T) {
		for _, body := range []string{`{"documentId":"sha256:abc"}`, `{"doc_id":"sha256:abc"}`} {
			p, rerr := decodeObject([]byte(body), "body")
			require.Nil(t, rerr)
			assert.Equal(t, map[string]any{"id": "sha256:abc"}, p.raw.Extensions[PersistedDocumentExtension])
		}
	})
}

func TestDecodeQuery(t *testing.T) {
	p, rerr := decodeQuery(url.Values{
		"query": {"query Q($n: Int) { a }"}, "operationName": {"Q"},
		"variables": {`{"n":1}`}, "extensions": {`{"x":{"y":true}}`}, "doc_id": {"abc"},
	}.Encode(), DefaultMaxJSONDepth)
	require.Nil(t, rerr)
	assert.Equal(t, "Q", p.raw.OperationName)
	assert.Equal(t, json.Number("1"), p.raw.Variables["n"])
	assert.Equal(t, map[string]any{"id": "abc"}, p.raw.Extensions[PersistedDocumentExtension])

	for _, bad := range []url.Values{
		{},
		{"query": {"{ a }"}, "variables": {"[1]"}},
		{"query": {"{ a }"}, "variables": {"{"}},
		{"query": {"{ a }"}, "variables": {strings.Repeat(`{"a":`, 40) + "1" + strings.Repeat("}", 40)}},
	} {
		_, rerr := decodeQuery(bad.Encode(), DefaultMaxJSONDepth)
		require.NotNil(t, rerr, bad.Encode())
		assert.Equal(t, http.StatusBadRequest, rerr.status)
	}
}

func TestMergeDeferred(t *testing.T) {
	yes, no := true, false
	initial := json.RawMessage(`{"events":{"nodes":[{"title":"a","sessions":null},{"title":"b","sessions":null}]}}`)
	payloads := []*graphql.Response{
		// a nested payload may arrive before the one that carries its parent
		{Path: ast.Path{ast.PathName("events"), ast.PathName("nodes"), ast.PathIndex(1), ast.PathName("sessions"), ast.PathName("nodes"), ast.PathIndex(0)},
			Data: json.RawMessage(`{"people":{"totalCount":3}}`), HasNext: &yes},
		{Path: ast.Path{ast.PathName("events"), ast.PathName("nodes"), ast.PathIndex(0)}, Data: json.RawMessage(`{"sessions":{"nodes":[]}}`), HasNext: &yes},
		{Path: ast.Path{ast.PathName("events"), ast.PathName("nodes"), ast.PathIndex(1)},
			Data: json.RawMessage(`{"sessions":{"nodes":[{"id":"s","people":null}]},"extra":"<&>"}`), HasNext: &yes},
		{Path: ast.Path{ast.PathName("missing")}, Data: json.RawMessage(`{"x":1}`), HasNext: &yes}, // dropped
		{Path: ast.Path{ast.PathName("events")}, Data: json.RawMessage(`null`), HasNext: &no},      // nulled by its own error
	}
	got, err := mergeDeferred(initial, payloads)
	require.NoError(t, err)
	assert.Equal(t,
		`{"events":{"nodes":[{"title":"a","sessions":{"nodes":[]}},{"title":"b","sessions":{"nodes":[{"id":"s","people":{"totalCount":3}}]},"extra":"<&>"}]}}`,
		string(got), "order of keys and bytes of untouched values are kept")
}

func TestShared(t *testing.T) {
	n := 0
	create := func() int { n++; return n }
	assert.Equal(t, 1, Shared(t.Context(), "k", create), "outside a batch: a fresh value each time")
	assert.Equal(t, 2, Shared(t.Context(), "k", create))

	ctx := withScope(t.Context(), &Scope{})
	assert.Equal(t, 3, Shared(ctx, "k", create))
	assert.Equal(t, 3, Shared(ctx, "k", create), "inside a batch segment: one value")
	assert.Equal(t, 4, Shared(ctx, "other", create))
}

func TestStreamingRequestsAreLeftToStreamingTransports(t *testing.T) {
	post := POST{}
	get := GET{}
	cases := []struct {
		name   string
		method string
		target string
		header map[string]string
		claim  bool
	}{
		{"plain POST", http.MethodPost, "/graphql", map[string]string{"Content-Type": "application/json"}, true},
		{"POST with charset", http.MethodPost, "/graphql", map[string]string{"Content-Type": "application/json; charset=UTF-8"}, true},
		{"POST in another charset", http.MethodPost, "/graphql", map[string]string{"Content-Type": "application/json; charset=latin1"}, false},
		{"POST form", http.MethodPost, "/graphql", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, false},
		{"SSE", http.MethodPost, "/graphql", map[string]string{"Content-Type": "application/json", "Accept": "text/event-stream"}, false},
		{"Apollo multipart subscription", http.MethodPost, "/graphql", map[string]string{"Content-Type": "application/json",
			"Accept": `multipart/mixed;boundary="graphql";subscriptionSpec=1.0,application/json`}, false},
		{"graphql-sse single connection, header token", http.MethodPost, "/graphql", map[string]string{"Content-Type": "application/json", "X-GraphQL-Event-Stream-Token": "t"}, false},
		{"graphql-sse single connection, query token", http.MethodPost, "/graphql?token=t", map[string]string{"Content-Type": "application/json"}, false},
		{"WebSocket upgrade", http.MethodGet, "/graphql", map[string]string{"Upgrade": "websocket"}, false},
		{"plain GET", http.MethodGet, "/graphql?query=%7Ba%7D", nil, true},
		{"SSE GET", http.MethodGet, "/graphql?query=%7Ba%7D", map[string]string{"Accept": "text/event-stream"}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, tc.target, nil)
			for k, v := range tc.header {
				r.Header.Set(k, v)
			}
			claimed := post.Supports(r) || get.Supports(r)
			assert.Equal(t, tc.claim, claimed)
		})
	}
}

// fakePersisted resolves persisted-document ids the way the persisted extension does.
type fakePersisted map[string]string

func (fakePersisted) ExtensionName() string                   { return "fakePersisted" }
func (fakePersisted) Validate(graphql.ExecutableSchema) error { return nil }
func (f fakePersisted) MutateOperationParameters(_ context.Context, raw *graphql.RawParams) *gqlerror.Error {
	doc, ok := raw.Extensions[PersistedDocumentExtension].(map[string]any)
	if !ok {
		return nil
	}
	q, ok := f[doc["id"].(string)]
	if !ok {
		return coded(CodePersistedQueryNotFound, "unknown document")
	}
	raw.Query = q
	return nil
}

func TestPersistedDocumentIDs(t *testing.T) {
	serve := func(t *testing.T, persisted bool) string {
		srv := testserver.New()
		srv.AddTransport(GET{})
		srv.AddTransport(POST{Limits: Limits{MaxBatch: 5}})
		if persisted {
			srv.Use(fakePersisted{"doc1": "{ name }"})
		}
		ts := httptest.NewServer(srv)
		t.Cleanup(ts.Close)
		return ts.URL
	}
	do := func(t *testing.T, base, method, query, body string) (int, string) {
		req, err := http.NewRequest(method, base+query, strings.NewReader(body))
		require.NoError(t, err)
		if method == http.MethodPost {
			req.Header.Set("Content-Type", "application/json")
		}
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		return res.StatusCode, string(b)
	}
	requests := []struct{ name, method, query, body string }{
		{"POST documentId", http.MethodPost, "", `{"documentId":"doc1"}`},
		{"POST doc_id", http.MethodPost, "", `{"doc_id":"doc1"}`},
		{"GET documentId", http.MethodGet, "?documentId=doc1", ""},
		{"GET doc_id", http.MethodGet, "?doc_id=doc1", ""},
		{"batch", http.MethodPost, "", `[{"doc_id":"doc1"}]`},
	}

	t.Run("resolved by the extension", func(t *testing.T) {
		base := serve(t, true)
		for _, r := range requests {
			t.Run(r.name, func(t *testing.T) {
				status, body := do(t, base, r.method, r.query, r.body)
				assert.Equal(t, http.StatusOK, status)
				assert.Contains(t, body, `"data":{"name":"test"}`)
			})
		}
		status, body := do(t, base, http.MethodPost, "", `{"documentId":"nope"}`)
		assert.Equal(t, http.StatusOK, status, "NOT_FOUND is answered like APQ's")
		assert.Contains(t, body, CodePersistedQueryNotFound)
	})
	t.Run("no extension: PERSISTED_QUERY_NOT_SUPPORTED", func(t *testing.T) {
		base := serve(t, false)
		for _, r := range requests[:4] {
			t.Run(r.name, func(t *testing.T) {
				status, body := do(t, base, r.method, r.query, r.body)
				assert.Equal(t, http.StatusBadRequest, status)
				assert.Contains(t, body, CodePersistedQueryNotSupported)
				assert.NotContains(t, body, `"data"`)
			})
		}
	})
}
