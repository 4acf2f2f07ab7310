package livestormsim

import (
	"math/rand/v2"
	"net/http"
	"sync"
	"time"
)

// faultInjector decides, per authenticated request, whether to fail it and
// how long to delay it. Random decisions use a seeded generator; InjectFaults
// queues deterministic failures that take precedence.
type faultInjector struct {
	mu      sync.Mutex
	faults  Faults
	latency time.Duration
	jitter  time.Duration
	rng     *rand.Rand
	queue   []injectedFault
}

type injectedFault struct {
	kind FaultKind
	n    int
}

func newFaultInjector(cfg Config) *faultInjector {
	return &faultInjector{
		faults: cfg.Faults, latency: cfg.Latency, jitter: cfg.LatencyJitter,
		rng: rand.New(rand.NewPCG(uint64(cfg.Seed), 0xfa017)),
	}
}

// pick returns the fault for the next request ("" for none) and, for server
// errors, the status to answer with.
func (f *faultInjector) pick() (FaultKind, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.queue) > 0 {
		kind := f.queue[0].kind
		if f.queue[0].n--; f.queue[0].n <= 0 {
			f.queue = f.queue[1:]
		}
		return kind, http.StatusServiceUnavailable
	}
	fl := f.faults
	if fl.RateLimited+fl.ServerError+fl.Timeout+fl.Truncated+fl.Malformed == 0 {
		return "", 0
	}
	u := f.rng.Float64()
	for _, c := range []struct {
		kind FaultKind
		p    float64
	}{
		{FaultRateLimited, fl.RateLimited}, {FaultServerError, fl.ServerError}, {FaultTimeout, fl.Timeout},
		{FaultTruncated, fl.Truncated}, {FaultMalformed, fl.Malformed},
	} {
		if u < c.p {
			statuses := []int{http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable}
			return c.kind, statuses[f.rng.IntN(len(statuses))]
		}
		u -= c.p
	}
	return "", 0
}

// delay is the latency to add to the next response.
func (f *faultInjector) delay() time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	d := f.latency
	if f.jitter > 0 {
		d += time.Duration(f.rng.Int64N(int64(2*f.jitter)+1)) - f.jitter
	}
	return max(d, 0)
}

func (f *faultInjector) timeoutAfter() time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.faults.TimeoutAfter
}

// SetFaults replaces the random fault rates at run time (invalid rates are
// ignored and logged, since the signature has no error to return).
func (s *Simulator) SetFaults(f Faults) {
	if err := f.validate(); err != nil {
		s.log.Warn("livestormsim: SetFaults ignored", "err", err)
		return
	}
	if f.TimeoutAfter == 0 {
		f.TimeoutAfter = defaultTimeoutAfter
	}
	s.faults.mu.Lock()
	s.faults.faults = f
	s.faults.mu.Unlock()
}

// SetLatency changes the delay added to every response (negative values are
// treated as zero).
func (s *Simulator) SetLatency(d, jitter time.Duration) {
	s.faults.mu.Lock()
	s.faults.latency, s.faults.jitter = max(d, 0), max(jitter, 0)
	s.faults.mu.Unlock()
}

// InjectFaults makes the next n requests (of any org, after auth) fail with kind, deterministically.
func (s *Simulator) InjectFaults(kind FaultKind, n int) {
	if n <= 0 || !kind.valid() {
		s.log.Warn("livestormsim: InjectFaults ignored", "kind", kind, "n", n)
		return
	}
	s.faults.mu.Lock()
	s.faults.queue = append(s.faults.queue, injectedFault{kind: kind, n: n})
	s.faults.mu.Unlock()
}
