package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/livestorm-gateway/gateway/bench/load"
	"github.com/livestorm-gateway/gateway/bench/plain"
)

const benchNestedQuery = `{ events(first: 10) { nodes { id title sessions { nodes { id status registrantsCount registrations(first: 20) { totalCount nodes { person { email } attended } } } } } } }`

// BenchmarkWarmNestedQuery measures the gateway's own cost: a nested query executed
// entirely from the shared cache, through the full HTTP handler (routing, CORS,
// parsing, validation, complexity, loaders, JSON). The response cache is off: with it,
// every repeat would be answered from stored bytes (BenchmarkEventPage/gateway-hit).
func BenchmarkWarmNestedQuery(b *testing.B) {
	h := newHarness(b, withoutResponseCache())
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
			var gw, baseline measurement
			for b.Loop() {
				gw = measureCalls(b, tc)
				baseline = measureCalls(b, tc, withoutReuse())
			}
			b.ReportMetric(float64(gw.cold), "calls-cold")
			b.ReportMetric(float64(gw.warm), "calls-warm")
			b.ReportMetric(float64(baseline.cold), "calls-baseline")
		})
	}
}

// measurement is what one row's query cost, run twice on a fresh gateway.
type measurement struct {
	seed               seedData
	cold, warm         int // upstream requests of each run (the credential's verification excluded)
	coldData, warmData json.RawMessage
}

func measureCalls(tb testing.TB, tc callCase, opts ...harnessOption) measurement {
	h := newHarness(tb, opts...)
	m := measurement{seed: loadSeed(h)}
	var vars map[string]any
	if tc.vars != nil {
		vars = tc.vars(m.seed)
	}
	h.warmTenant(tb)
	r := h.query(tb, tc.query, vars)
	require.Empty(tb, r.Errors)
	m.cold, m.coldData = h.upstreamCalls(), r.Data
	h.resetCalls()
	r = h.query(tb, tc.query, vars)
	require.Empty(tb, r.Errors)
	m.warm, m.warmData = h.upstreamCalls(), r.Data
	return m
}

// TestBaselineCostsMore keeps the benchmark's comparison honest: the baseline really
// makes the calls a resolver-per-field gateway would, and the gateway makes fewer.
func TestBaselineCostsMore(t *testing.T) {
	for _, tc := range callCases {
		t.Run(tc.name, func(t *testing.T) {
			gw := measureCalls(t, tc)
			base := measureCalls(t, tc, withoutReuse())
			require.Less(t, gw.cold, base.cold)
			require.Equal(t, base.cold, base.warm, "the baseline caches nothing")
		})
	}
}

// BenchmarkEventPage is the bench command's event page (bench_table_test.go) through
// each handler in process, for profiling:
//
//	go test -run '^$' -bench 'BenchmarkEventPage/gateway-miss' -cpuprofile cpu.out .
//
// gateway-miss executes every time (RESPONSE_CACHE=false) from the warm data cache;
// gateway-hit answers from the response cache; plain is the plain gqlgen server of the
// same shape, holding the same data in memory.
func BenchmarkEventPage(b *testing.B) {
	body, err := json.Marshal(map[string]any{"query": benchEventPage, "variables": benchVars})
	require.NoError(b, err)
	miss := newHarness(b, withoutResponseCache())
	hit := newHarness(b)
	hit.warmTenant(b)
	r := miss.query(b, benchEventPage, benchVars)
	require.Empty(b, r.Errors)
	plainHandler, err := plain.NewHandler(r.Data)
	require.NoError(b, err)
	for _, tc := range []struct {
		name string
		h    http.Handler
		sim  *harness
	}{
		{"gateway-miss", NewServer(miss.deps), miss},
		{"gateway-hit", NewServer(hit.deps), hit},
		{"plain", plainHandler, nil},
	} {
		b.Run(tc.name, func(b *testing.B) {
			do := func() *httptest.ResponseRecorder {
				req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				rec := httptest.NewRecorder()
				tc.h.ServeHTTP(rec, req)
				return rec
			}
			first := do()
			require.Equal(b, 200, first.Code)
			require.NotContains(b, first.Body.String(), `"errors"`)
			if tc.sim != nil {
				tc.sim.resetCalls()
			}
			b.ReportAllocs()
			cpu := load.CPUTime()
			for b.Loop() {
				if rec := do(); rec.Code != 200 {
					b.Fatalf("status %d", rec.Code)
				}
			}
			// Process CPU per operation (all goroutines, GC included): what the
			// bench compares, less sensitive to a busy machine than ns/op.
			b.ReportMetric(float64(load.CPUTime()-cpu)/float64(b.N), "cpu-ns/op")
			if tc.sim != nil {
				require.Zero(b, tc.sim.upstreamCalls(), "warm: no upstream call")
			}
		})
	}
}
