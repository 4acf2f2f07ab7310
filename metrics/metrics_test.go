package metrics

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/trace"
)

// TestOperationNamesAreBounded checks the name label of the operation histogram cannot
// grow without bound: without a manifest the first 100 names are kept, with one only
// its names are.
func TestOperationNamesAreBounded(t *testing.T) {
	tests := []struct {
		name   string
		known  func(string) bool
		series int // distinct label sets after 150 names, an anonymous operation and a repeat
	}{
		{"first come", nil, maxOperationNames + 2},                                 // 100 names, "other", "anonymous"
		{"manifest", func(n string) bool { return n == "op7" || n == "op140" }, 4}, // op7, op140, other, anonymous
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := New()
			m.KnownOperation = tc.known
			for i := range 150 {
				m.ObserveOperation("query", fmt.Sprintf("op%d", i), time.Millisecond, trace.SpanContext{})
			}
			m.ObserveOperation("query", "", time.Millisecond, trace.SpanContext{})
			m.ObserveOperation("query", "op7", time.Millisecond, trace.SpanContext{})
			require.Equal(t, tc.series, testutil.CollectAndCount(m.OperationDuration))
			want := `gateway_graphql_operation_duration_seconds_count{name="op7",type="query"} 2`
			got, err := testutil.CollectAndFormat(m.OperationDuration, expfmt.TypeTextPlain, "gateway_graphql_operation_duration_seconds")
			require.NoError(t, err)
			assert.True(t, strings.Contains(string(got), want), "%s", got)
			assert.Contains(t, string(got), `name="other"`)
			assert.Contains(t, string(got), `name="anonymous"`)
		})
	}
}
