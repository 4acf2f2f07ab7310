package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// BenchmarkAbusiveDocuments measures what each abusive shape costs the gateway through
// its full HTTP handler, before ("old": no document, token or cost limit, as the gateway
// was) and after ("new": the defaults). Reported per operation: CPU time (ns/op), the
// upstream calls it made and the HTTP status. The old heavy shapes take seconds each:
//
//	go test -run '^$' -bench BenchmarkAbusiveDocuments -benchtime 1x .          (old and new, once)
//	go test -run '^$' -bench 'BenchmarkAbusiveDocuments/.*/new' .              (new, steady state)
func BenchmarkAbusiveDocuments(b *testing.B) {
	gateways := []struct {
		name   string
		limits func(*LimitsConfig)
	}{
		{"old", func(l *LimitsConfig) {
			l.MaxTokens, l.MaxAliases, l.MaxFields, l.MaxSelectionFields, l.MaxDirectives = 0, 0, 0, 0, 0
		}},
		{"new", func(l *LimitsConfig) { l.MaxUpstreamCalls = defaultLimits().MaxUpstreamCalls }},
	}
	shapes := append(abusiveShapes(), abusiveShape{name: "60 aliased event(id:) with distinct ids", query: aliasedLookups(60)})
	for _, shape := range shapes {
		body := `{"query":` + jsonString(shape.query) + `}`
		for _, gw := range gateways {
			b.Run("shape="+shape.name+"/gateway="+gw.name, func(b *testing.B) {
				if gw.name == "old" && shape.slowBefore {
					b.Skip("minutes per operation without limits (validation is quadratic in the fields of a selection set)")
				}
				h := newHarness(b, withLimits(gw.limits))
				h.warmTenant(b)
				srv := NewServer(h.deps)
				status, n := 0, 0
				for b.Loop() {
					req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(body))
					req.Header.Set("Content-Type", "application/json")
					rec := httptest.NewRecorder()
					srv.ServeHTTP(rec, req)
					status = rec.Code
					n++
				}
				b.ReportMetric(float64(h.upstreamCalls())/float64(n), "upstream-calls/op")
				b.ReportMetric(float64(status), "http-status")
				b.ReportMetric(float64(len(body))/1024, "body-KiB")
			})
		}
	}
}
