package transport

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/testserver"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestIfNoneMatch(t *testing.T) {
	const etag = `"abc"`
	cases := []struct {
		header []string
		match  bool
	}{
		{nil, false},
		{[]string{`"abc"`}, true},
		{[]string{`W/"abc"`}, true},
		{[]string{`"x", "abc"`}, true},
		{[]string{`"x"`, `"abc"`}, true},
		{[]string{`*`}, true},
		{[]string{`"abcd"`}, false},
		{[]string{`abc`}, false},
		{[]string{``}, false},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.match, ifNoneMatch(tc.header, etag), "%q", tc.header)
	}
}

// mapCache is a ResponseCache keeping responses by query text.
type mapCache struct {
	mu     sync.Mutex
	stored map[string]StoredResponse
}

func (m *mapCache) Lookup(ctx context.Context, rc *graphql.OperationContext) (*StoredResponse, context.Context, StoreFunc) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if r, ok := m.stored[rc.RawQuery]; ok {
		return &r, ctx, nil
	}
	return nil, ctx, func(_ *graphql.Response, body []byte, etag string) {
		m.mu.Lock()
		defer m.mu.Unlock()
		m.stored[rc.RawQuery] = StoredResponse{Body: body, ETag: etag}
	}
}

func TestCachingKeepsExecutionFiguresOut(t *testing.T) {
	cache := &mapCache{stored: map[string]StoredResponse{}}
	srv := testserver.New()
	calls := 0
	srv.AroundResponses(func(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
		calls++
		resp := next(ctx)
		resp.Extensions = map[string]any{"cost": map[string]any{"upstreamCalls": calls}, "note": "kept"}
		return resp
	})
	caching := Caching{Cache: cache, VolatileExtensions: []string{"cost"}}
	hits := caching
	hits.HitExtensions = func(context.Context) map[string]any { return map[string]any{"responseCache": "hit"} }
	srv.AddTransport(POST{Caching: hits})
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)

	post := func(inm string) (int, http.Header, string) {
		req, err := http.NewRequest(http.MethodPost, ts.URL, strings.NewReader(`{"query":"{ name }"}`))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		if inm != "" {
			req.Header.Set("If-None-Match", inm)
		}
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		return res.StatusCode, res.Header, string(b)
	}

	status, h, miss := post("")
	require.Equal(t, 200, status)
	assert.JSONEq(t, `{"data":{"name":"test"},"extensions":{"cost":{"upstreamCalls":1},"note":"kept"}}`, miss, "the miss shows what it cost")
	stored := cache.stored["{ name }"]
	assert.JSONEq(t, `{"data":{"name":"test"},"extensions":{"note":"kept"}}`, string(stored.Body), "not what it cost")
	assert.Equal(t, entityTag(stored.Body), h.Get("ETag"), "the ETag is the stored bytes'")
	assert.Equal(t, DefaultCacheControl, h.Get("Cache-Control"))

	status, h2, hit := post("")
	require.Equal(t, 200, status)
	assert.JSONEq(t, `{"data":{"name":"test"},"extensions":{"note":"kept","responseCache":"hit"}}`, hit)
	assert.Equal(t, h.Get("ETag"), h2.Get("ETag"))
	assert.Equal(t, 1, calls, "the hit executed nothing")

	status, _, body := post(h.Get("ETag"))
	assert.Equal(t, http.StatusNotModified, status)
	assert.Empty(t, body)
}
