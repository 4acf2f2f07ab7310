package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"
)

const benchNestedQuery = `{ events(first: 10) { nodes { id title sessions { nodes { id status registrantsCount people(first: 20) { totalCount nodes { email registrantDetail { attended } } } } } } } }`

// BenchmarkWarmNestedQuery measures the gateway's own cost: a nested query answered
// entirely from the shared cache, through the full HTTP handler (routing, CORS,
// parsing, validation, complexity, loaders, JSON).
func BenchmarkWarmNestedQuery(b *testing.B) {
	h := newHarness(b)
	handler := NewServer(h.deps)
	body, _ := json.Marshal(map[string]any{"query": benchNestedQuery})
	do := func() *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		return rec
	}
	first := do()
	require.Equal(b, 200, first.Code)
	require.NotContains(b, first.Body.String(), `"errors"`)
	h.resetCalls()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if rec := do(); rec.Code != 200 {
			b.Fatalf("status %d", rec.Code)
		}
	}
	b.StopTimer()
	require.Equal(b, 0, h.upstreamCalls(), "a warm query must not reach Livestorm")
}

// BenchmarkUpstreamCalls reports, for each row of the call table, the Livestorm requests
// one query costs: cold and warm through the gateway, and through the baseline that
// resolves every field with its own REST call (no loaders, no cache, no include).
func BenchmarkUpstreamCalls(b *testing.B) {
	for _, tc := range callCases {
		b.Run(tc.name, func(b *testing.B) {
			var cold, warm, baseline int
			for b.Loop() {
				cold, warm = measureCalls(b, tc)
				baseline, _ = measureCalls(b, tc, withoutReuse())
			}
			b.ReportMetric(float64(cold), "calls-cold")
			b.ReportMetric(float64(warm), "calls-warm")
			b.ReportMetric(float64(baseline), "calls-baseline")
		})
	}
}

// measureCalls runs a row's query twice on a fresh gateway and returns the upstream
// requests of each run (the credential's one verification call excluded).
func measureCalls(tb testing.TB, tc callCase, opts ...harnessOption) (first, second int) {
	h := newHarness(tb, opts...)
	d := loadSeed(h)
	var vars map[string]any
	if tc.vars != nil {
		vars = tc.vars(d)
	}
	h.warmTenant(tb)
	r := h.query(tb, tc.query, vars)
	require.Empty(tb, r.Errors)
	first = h.upstreamCalls()
	h.resetCalls()
	r = h.query(tb, tc.query, vars)
	require.Empty(tb, r.Errors)
	return first, h.upstreamCalls()
}

// TestBaselineCostsMore keeps the benchmark's comparison honest: the baseline really
// makes the calls a resolver-per-field gateway would, and the gateway makes fewer.
func TestBaselineCostsMore(t *testing.T) {
	for _, tc := range callCases {
		t.Run(tc.name, func(t *testing.T) {
			gw, _ := measureCalls(t, tc)
			base, baseAgain := measureCalls(t, tc, withoutReuse())
			require.Less(t, gw, base)
			require.Equal(t, base, baseAgain, "the baseline caches nothing")
		})
	}
}
