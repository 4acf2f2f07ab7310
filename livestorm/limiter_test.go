package livestorm

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLocalLimiterSlidingWindowLog(t *testing.T) {
	now := time.Unix(1000, 0)
	l := newLocalLimiter(3, time.Second, func() time.Time { return now })
	guard := l.window - time.Second
	require.Equal(t, 50*time.Millisecond, guard)
	steps := []struct {
		name    string
		advance time.Duration
		want    time.Duration // 0 = admitted
	}{
		{"1st admitted", 0, 0},
		{"2nd admitted", 100 * time.Millisecond, 0},
		{"3rd admitted", 100 * time.Millisecond, 0},
		{"4th waits for the 1st to leave the window", 0, l.window - 200*time.Millisecond},
		{"still waiting just before", l.window - 200*time.Millisecond - time.Nanosecond, time.Nanosecond},
		{"admitted when the 1st leaves", time.Nanosecond, 0},
		{"next waits for the 2nd", 0, 100 * time.Millisecond},
		{"after a long idle the ring is free again", 10 * time.Second, 0},
		{"second of the new burst", 0, 0},
		{"third of the new burst", 0, 0},
		{"fourth waits a whole window", 0, l.window},
	}
	for _, st := range steps {
		now = now.Add(st.advance)
		assert.Equal(t, st.want, l.tryAcquire("k"), st.name)
	}
}

// maxInWindow returns the largest number of times within any window w.
func maxInWindow(times []time.Time, w time.Duration) int {
	best := 0
	for i := range times {
		n := 0
		for j := range times {
			if !times[j].Before(times[i]) && times[j].Sub(times[i]) < w {
				n++
			}
		}
		best = max(best, n)
	}
	return best
}

// TestLocalLimiterConcurrent runs real goroutines through short windows.
// Times are read after Wait returns, so the window checked is shortened by a
// scheduling allowance; the elapsed time proves callers really waited.
func TestLocalLimiterConcurrent(t *testing.T) {
	tests := []struct {
		name        string
		n           int
		per         time.Duration
		goroutines  int
		perRoutine  int
		minDuration time.Duration
	}{
		{"3 per 60ms, 12 calls", 3, 60 * time.Millisecond, 4, 3, 180 * time.Millisecond},
		{"5 per 50ms, 20 calls", 5, 50 * time.Millisecond, 10, 2, 150 * time.Millisecond},
		{"1 per 20ms, 5 calls", 1, 20 * time.Millisecond, 5, 1, 80 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := NewLocalLimiter(tt.n, tt.per)
			var mu sync.Mutex
			var times []time.Time
			start := time.Now()
			var wg sync.WaitGroup
			for range tt.goroutines {
				wg.Go(func() {
					for range tt.perRoutine {
						if !assert.NoError(t, l.Wait(t.Context(), "k")) {
							return
						}
						mu.Lock()
						times = append(times, time.Now())
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			assert.Len(t, times, tt.goroutines*tt.perRoutine)
			assert.LessOrEqual(t, maxInWindow(times, tt.per*3/5), tt.n)
			assert.GreaterOrEqual(t, time.Since(start), tt.minDuration)
		})
	}
}

func TestLocalLimiterKeysAreIndependent(t *testing.T) {
	l := NewLocalLimiter(1, time.Hour)
	ctx := t.Context()
	require.NoError(t, l.Wait(ctx, "a"))
	require.NoError(t, l.Wait(ctx, "b"), "another key is not blocked")
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	assert.ErrorIs(t, l.Wait(short, "a"), context.DeadlineExceeded, "a deadline before the next slot fails fast")
}

func TestLocalLimiterCancel(t *testing.T) {
	l := NewLocalLimiter(1, time.Hour)
	require.NoError(t, l.Wait(t.Context(), "k"))
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- l.Wait(ctx, "k") }()
	cancel()
	select {
	case err := <-done:
		assert.ErrorIs(t, err, context.Canceled)
	case <-time.After(5 * time.Second):
		t.Fatal("Wait did not return after cancel")
	}
}

func TestLocalLimiterEvictsIdleKeys(t *testing.T) {
	now := time.Unix(1000, 0)
	clock := func() time.Time { return now }
	l := newLocalLimiter(5, time.Second, clock)
	for _, k := range []string{"a", "b", "c"} {
		require.NoError(t, l.Wait(t.Context(), k))
	}
	assert.Equal(t, 3, l.size())
	now = now.Add(30 * time.Second)
	require.NoError(t, l.Wait(t.Context(), "a"))
	assert.Equal(t, 3, l.size(), "nothing idle long enough yet")
	now = now.Add(61 * time.Second)
	require.NoError(t, l.Wait(t.Context(), "d"))
	assert.Equal(t, 1, l.size(), "idle keys evicted lazily")
}

func TestLocalLimiterDisabled(t *testing.T) {
	l := NewLocalLimiter(0, time.Second)
	for range 100 {
		require.NoError(t, l.Wait(t.Context(), "k"))
	}
}
