package pubsub

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"
)

// BenchmarkFanout publishes one webhook message to N subscribers of one workspace, each
// read by its own goroutine (as each GraphQL subscription has one), and reports:
//
//   - p50-µs / p99-µs: delivery latency, from the Publish call until a subscriber's
//     goroutine holds the message, over every subscriber and iteration;
//   - publish-µs: how long Publish itself takes (the webhook worker's cost);
//   - B/subscriber: heap held per subscription by the bus (channel, subscription,
//     context registration), measured with runtime.MemStats around subscribing;
//   - B/subscriber+goroutine: the same plus the reading goroutine's stack.
//
// Run: go test -run '^$' -bench BenchmarkFanout -benchtime 200x ./pubsub/
func BenchmarkFanout(b *testing.B) {
	for _, n := range []int{1_000, 10_000} {
		b.Run(fmt.Sprintf("subscribers=%d", n), func(b *testing.B) { benchFanout(b, n) })
	}
}

func benchFanout(b *testing.B, n int) {
	bus := NewLocal()
	defer bus.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	// Memory of n subscriptions, before any reader goroutine exists.
	var before, afterSubs, afterReaders runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	subs := make([]*Subscription, n)
	cancels := make([]context.CancelFunc, n)
	for i := range subs {
		sctx, scancel := context.WithCancel(ctx) // one context per subscription, as gqlgen gives
		s, err := bus.Subscribe(sctx, "org:bench", nil, DefaultBuffer)
		if err != nil {
			b.Fatal(err)
		}
		subs[i], cancels[i] = s, scancel
	}
	runtime.GC()
	runtime.ReadMemStats(&afterSubs)

	var (
		mu        sync.Mutex
		latencies = make([]time.Duration, 0, n*16)
		received  sync.WaitGroup
		readers   sync.WaitGroup
	)
	for _, s := range subs {
		readers.Go(func() {
			local := make([]time.Duration, 0, 8)
			for m := range s.C {
				local = append(local, time.Since(m.OccurredAt))
				if len(local) == cap(local) {
					mu.Lock()
					latencies = append(latencies, local...)
					mu.Unlock()
					local = local[:0]
				}
				received.Done()
			}
			mu.Lock()
			latencies = append(latencies, local...)
			mu.Unlock()
		})
	}
	runtime.GC()
	runtime.ReadMemStats(&afterReaders)

	var publish time.Duration
	b.ResetTimer()
	for b.Loop() {
		received.Add(n)
		start := time.Now()
		if err := bus.Publish(ctx, Message{Scope: "org:bench", Name: "people.registered", OccurredAt: start}); err != nil {
			b.Fatal(err)
		}
		publish += time.Since(start)
		received.Wait()
	}
	b.StopTimer()
	if s := bus.Stats(); s.Dropped != 0 {
		b.Fatalf("%d subscribers dropped", s.Dropped)
	}
	for _, c := range cancels {
		c()
	}
	readers.Wait()

	slices.Sort(latencies)
	pct := func(p float64) float64 {
		if len(latencies) == 0 {
			return 0
		}
		return float64(latencies[int(float64(len(latencies)-1)*p)].Microseconds())
	}
	b.ReportMetric(pct(0.50), "p50-µs")
	b.ReportMetric(pct(0.99), "p99-µs")
	b.ReportMetric(float64(publish.Microseconds())/float64(b.N), "publish-µs")
	b.ReportMetric(float64(int64(afterSubs.HeapAlloc)-int64(before.HeapAlloc))/float64(n), "B/subscriber")
	withReaders := int64(afterReaders.HeapAlloc+afterReaders.StackInuse) - int64(before.HeapAlloc+before.StackInuse)
	b.ReportMetric(float64(withReaders)/float64(n), "B/subscriber+goroutine")
}
