package load

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLoopsAreBounded(t *testing.T) {
	var n atomic.Int64
	do := func(context.Context) error { n.Add(1); return nil }

	r := Closed(t.Context(), 4, time.Minute, 50, do)
	assert.Equal(t, 50, r.Requests, "the count bound stops a closed loop long before its minute")
	assert.EqualValues(t, 50, n.Load())

	n.Store(0)
	r = Open(t.Context(), 1000, 30*time.Millisecond, 10, do)
	assert.Equal(t, 30, r.Requests+r.Dropped, "an open loop sends rate × duration requests")
	assert.EqualValues(t, r.Requests, n.Load())
	assert.Len(t, r.Latencies, r.Requests)
}

func TestOpenLoopDropsWhenTooManyAreInFlight(t *testing.T) {
	release := make(chan struct{})
	do := func(ctx context.Context) error {
		select {
		case <-release:
		case <-ctx.Done():
		}
		return nil
	}
	done := make(chan Result)
	go func() { done <- Open(t.Context(), 1000, 20*time.Millisecond, 3, do) }()
	time.AfterFunc(500*time.Millisecond, func() { close(release) }) // frees the three, well after the 20 ms of sending
	r := <-done
	assert.Equal(t, 3, r.Requests)
	assert.Equal(t, 17, r.Dropped)
}

func TestResultFigures(t *testing.T) {
	r := Merge(
		Result{Requests: 2, Elapsed: time.Second, CPU: 2 * time.Millisecond, Latencies: []time.Duration{3, 1}},
		Result{Requests: 2, Errors: 1, Elapsed: time.Second, CPU: 2 * time.Millisecond, Latencies: []time.Duration{2, 4}, FirstError: errors.New("x")},
	)
	assert.Equal(t, 4, r.Requests)
	assert.Equal(t, 1, r.Errors)
	assert.InDelta(t, 2.0, r.RPS(), 1e-9)
	assert.Equal(t, time.Millisecond, r.CPUPerRequest())
	assert.Equal(t, []time.Duration{1, 2, 3, 4}, r.Latencies)
	assert.Equal(t, time.Duration(2), r.Percentile(0.5))
	assert.Equal(t, time.Duration(4), r.Percentile(0.99))
	assert.Equal(t, time.Duration(4), r.Max())
	require.Error(t, r.FirstError)
	assert.Zero(t, Result{}.Percentile(0.5))
}

func TestTable(t *testing.T) {
	tbl := &Table{Title: "T", Columns: []string{"a", "b"}}
	tbl.Add(map[string]string{"a": "1"})
	tbl.Note("n %d", 2)
	var buf bytes.Buffer
	tbl.Print(&buf)
	assert.Equal(t, "\nT\n\n| a | b |\n|---|---|\n| 1 | – |\n\nn 2\n", buf.String())
	assert.True(t, strings.HasSuffix(Ms(1500*time.Microsecond), "1.50 ms"))
}

func TestParseCounts(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []int
		err  bool
	}{
		{in: "1000,5000,10000", want: []int{1000, 5000, 10000}},
		{in: " 10_000 , 1 ", want: []int{10000, 1}},
		{in: "", want: nil},
		{in: "0", want: nil},
		{in: "none", want: nil},
		{in: "1000,0", err: true},
		{in: "-5", err: true},
		{in: "20001", err: true},
		{in: "1,x", err: true},
		{in: "1,2,3,4,5,6,7,8,9,10,11", err: true},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseCounts(tc.in, 20_000)
			if tc.err {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}
