// Package load drives bounded HTTP load against servers in this process and measures
// what the bench command reports: closed-loop throughput, open-loop latency percentiles
// at a fixed arrival rate, and process CPU per request.
//
// Every loop is bounded twice, by a duration and by a request count, so a mistake can
// never turn a benchmark into an unbounded load on a shared machine.
package load

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Do sends one request and reports whether its answer was right (nil) or not.
type Do func(ctx context.Context) error

// Result is what one load run measured.
type Result struct {
	// Requests counts requests completed; Errors those whose Do returned an error;
	// Dropped (open loop) those never sent because too many were already in flight.
	Requests, Errors, Dropped int
	// Elapsed is the wall-clock time of the run.
	Elapsed time.Duration
	// CPU is the process's user+system CPU time spent during the run (client and
	// servers together: everything runs in this process).
	CPU time.Duration
	// Latencies of the completed requests, sorted ascending. In the open loop they are
	// measured from each request's scheduled start, so a server that falls behind shows
	// it (no coordinated omission).
	Latencies []time.Duration
	// FirstError is the first error a Do returned, for the report.
	FirstError error
}

// RPS is the completed requests per second.
func (r Result) RPS() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Requests) / r.Elapsed.Seconds()
}

// CPUPerRequest is the process CPU time per completed request.
func (r Result) CPUPerRequest() time.Duration {
	if r.Requests == 0 {
		return 0
	}
	return r.CPU / time.Duration(r.Requests)
}

// Percentile returns the latency below which fraction p (0–1) of the requests completed.
func (r Result) Percentile(p float64) time.Duration {
	if len(r.Latencies) == 0 {
		return 0
	}
	i := int(p*float64(len(r.Latencies))+0.5) - 1
	return r.Latencies[min(max(i, 0), len(r.Latencies)-1)]
}

// Max is the slowest request's latency.
func (r Result) Max() time.Duration {
	if len(r.Latencies) == 0 {
		return 0
	}
	return r.Latencies[len(r.Latencies)-1]
}

// Closed runs workers concurrent loops, each sending its next request as soon as the
// previous one is answered, until d has passed or max requests have been sent.
func Closed(ctx context.Context, workers int, d time.Duration, max int, do Do) Result {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var (
		sent atomic.Int64
		mu   sync.Mutex
		res  Result
		wg   sync.WaitGroup
	)
	cpu0, start := CPUTime(), time.Now()
	for range workers {
		wg.Go(func() {
			var lat []time.Duration
			var errs int
			var first error
			for ctx.Err() == nil && sent.Add(1) <= int64(max) {
				t := time.Now()
				err := do(ctx)
				if ctx.Err() != nil && err != nil {
					break // cut off by the deadline: neither a result nor an error
				}
				lat = append(lat, time.Since(t))
				if err != nil {
					errs++
					if first == nil {
						first = err
					}
				}
			}
			mu.Lock()
			res.Latencies = append(res.Latencies, lat...)
			res.Errors += errs
			if res.FirstError == nil {
				res.FirstError = first
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	res.Elapsed, res.CPU = time.Since(start), CPUTime()-cpu0
	res.Requests = len(res.Latencies)
	slices.Sort(res.Latencies)
	return res
}

// Open sends requests at a fixed rate (per second) for d, each on its own goroutine
// whatever the server's speed, as independent clients arriving would. At most
// maxInFlight are outstanding; a request due while that many are is dropped and counted.
// The number of requests is bounded by rate × d.
func Open(ctx context.Context, rate int, d time.Duration, maxInFlight int, do Do) Result {
	if rate <= 0 {
		return Result{FirstError: errors.New("load: rate must be positive")}
	}
	total := int(float64(rate) * d.Seconds())
	interval := time.Second / time.Duration(rate)
	var (
		mu       sync.Mutex
		res      Result
		wg       sync.WaitGroup
		inFlight atomic.Int64
	)
	lat := make([]time.Duration, 0, total)
	cpu0, start := CPUTime(), time.Now()
	for i := range total {
		due := start.Add(time.Duration(i) * interval)
		if wait := time.Until(due); wait > 0 {
			select {
			case <-ctx.Done():
				total = i
			case <-time.After(wait):
			}
		}
		if ctx.Err() != nil {
			break
		}
		if inFlight.Load() >= int64(maxInFlight) {
			mu.Lock()
			res.Dropped++
			mu.Unlock()
			continue
		}
		inFlight.Add(1)
		wg.Go(func() {
			defer inFlight.Add(-1)
			err := do(ctx)
			took := time.Since(due)
			mu.Lock()
			defer mu.Unlock()
			lat = append(lat, took)
			if err != nil {
				res.Errors++
				if res.FirstError == nil {
					res.FirstError = err
				}
			}
		})
	}
	wg.Wait()
	res.Elapsed, res.CPU = time.Since(start), CPUTime()-cpu0
	res.Latencies, res.Requests = lat, len(lat)
	slices.Sort(res.Latencies)
	return res
}

// Merge adds up runs of the same scenario (e.g. rounds interleaved with other
// scenarios, so that a machine whose load changes weighs on all of them alike).
func Merge(rs ...Result) Result {
	var m Result
	for _, r := range rs {
		m.Requests += r.Requests
		m.Errors += r.Errors
		m.Dropped += r.Dropped
		m.Elapsed += r.Elapsed
		m.CPU += r.CPU
		m.Latencies = append(m.Latencies, r.Latencies...)
		if m.FirstError == nil {
			m.FirstError = r.FirstError
		}
	}
	slices.Sort(m.Latencies)
	return m
}

// CPUTime is the user+system CPU time this process has used so far.
func CPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
