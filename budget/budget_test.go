package budget

import (
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func newClock() *clock { return &clock{now: time.Unix(1_700_000_000, 0)} }

func TestSpend(t *testing.T) {
	clk := newClock()
	s := NewSpend(clk.Now)

	r, _, ok := s.Reserve("a", 600, 500)
	require.True(t, ok)
	r.Settle(450) // spent less than estimated: 50 come back
	assert.Equal(t, 150, s.Remaining("a", 600))

	_, wait, ok := s.Reserve("a", 600, 200)
	assert.False(t, ok, "200 > 150 left")
	assert.Equal(t, 5*time.Minute, wait, "50 more calls refill in 5 minutes at 600 per hour")
	assert.Equal(t, 150, s.Remaining("a", 600), "a refusal takes nothing")

	_, _, ok = s.Reserve("b", 600, 200)
	assert.True(t, ok, "callers have allowances of their own")

	clk.Advance(5 * time.Minute)
	r, _, ok = s.Reserve("a", 600, 200)
	require.True(t, ok)
	r.Settle(260) // spent more than estimated: the allowance goes into debt
	assert.Equal(t, -60, s.Remaining("a", 600))

	clk.Advance(time.Hour)
	assert.Equal(t, 540, s.Remaining("a", 600), "600 an hour refill")
	clk.Advance(time.Hour)
	assert.Equal(t, 600, s.Remaining("a", 600), "up to the hourly allowance, no further")
}

func TestSpendForgetsIdleCallers(t *testing.T) {
	clk := newClock()
	s := NewSpend(clk.Now)
	for i := range 1000 {
		_, _, ok := s.Reserve("ip:"+strconv.Itoa(i), 10, 1)
		require.True(t, ok)
	}
	assert.Equal(t, 1000, s.Len())
	clk.Advance(2 * time.Minute) // 1 call refills in 6 minutes: not yet full
	_, _, _ = s.Reserve("another", 10, 1)
	assert.Equal(t, 1001, s.Len())
	clk.Advance(10 * time.Minute) // full again: the same as never seen
	_, _, _ = s.Reserve("another", 10, 1)
	assert.Equal(t, 1, s.Len())
}

func TestRates(t *testing.T) {
	clk := newClock()
	r := NewRates(clk.Now)
	for i := range 20 {
		_, ok := r.Allow("a", 20, 20)
		require.True(t, ok, "request %d is within the burst", i)
	}
	wait, ok := r.Allow("a", 20, 20)
	assert.False(t, ok)
	assert.Equal(t, 50*time.Millisecond, wait)
	_, ok = r.Allow("b", 20, 20)
	assert.True(t, ok)

	clk.Advance(50 * time.Millisecond)
	_, ok = r.Allow("a", 20, 20)
	assert.True(t, ok, "one token refilled")

	clk.Advance(2 * time.Minute)
	_, _ = r.Allow("c", 20, 20)
	assert.Equal(t, 1, r.Len(), "callers whose bucket is full again are forgotten")
}
