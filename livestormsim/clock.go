package livestormsim

import (
	"sync"
	"time"
)

// Clock lets tests and demos control time. Sessions go upcoming -> live -> past
// according to Clock.Now() whenever the simulator "ticks".
type Clock interface{ Now() time.Time }

// realClock is the wall clock, used when Config.Clock is nil.
type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

// ManualClock only moves when told to, so tests can step session lifecycles
// deterministically without sleeping.
type ManualClock struct {
	mu  sync.Mutex
	now time.Time
}

// NewManualClock returns a clock frozen at start.
func NewManualClock(start time.Time) *ManualClock { return &ManualClock{now: start} }

// Now returns the clock's current time.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d (negative values are ignored: time
// never goes backwards for a running simulator).
func (c *ManualClock) Advance(d time.Duration) {
	if d <= 0 {
		return
	}
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// scaledClock runs factor times faster than real time, for demos where a
// 30-minute webinar should pass in 30 seconds.
type scaledClock struct {
	start     time.Time
	realStart time.Time
	factor    float64
}

// NewScaledClock runs factor× faster than real time from start (factor <= 0 is
// treated as 1).
func NewScaledClock(start time.Time, factor float64) Clock {
	if factor <= 0 {
		factor = 1
	}
	return &scaledClock{start: start, realStart: time.Now(), factor: factor}
}

func (c *scaledClock) Now() time.Time {
	elapsed := time.Since(c.realStart)
	return c.start.Add(time.Duration(float64(elapsed) * c.factor))
}
