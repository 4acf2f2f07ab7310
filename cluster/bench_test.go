package cluster

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/livestorm-gateway/gateway/cache"
	"github.com/livestorm-gateway/gateway/cluster/clustertest"
	"github.com/livestorm-gateway/gateway/livestorm"
	"github.com/livestorm-gateway/gateway/pubsub"
)

// benchReplicas connects n replicas to a fresh redis-server for a benchmark.
func benchReplicas(b *testing.B, n int) []*Cluster {
	b.Helper()
	srv := clustertest.Start(b)
	out := make([]*Cluster, n)
	for i := range out {
		c, err := Connect(context.Background(), Options{URL: srv.URL, ReplicaID: fmt.Sprintf("bench-%d", i+1),
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = c.Close() })
		out[i] = c
	}
	return out
}

// BenchmarkCrossReplicaFanout publishes one webhook message on replica 1 of 3 and
// measures, for 1,000 subscribers spread over the 3 replicas (each read by its own
// goroutine, as a GraphQL subscription is), the time from Publish to the subscriber
// holding the message: through Redis (XADD by a script, one XREAD per replica) and each
// replica's in-process fan-out. Reports p50-µs, p99-µs (over every subscriber and
// iteration) and publish-µs (the webhook worker's cost).
//
// Run: go test -run '^$' -bench BenchmarkCrossReplicaFanout -benchtime 200x ./cluster/
func BenchmarkCrossReplicaFanout(b *testing.B) {
	const subscribers = 1_000
	rs := benchReplicas(b, 3)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var (
		mu        sync.Mutex
		latencies []time.Duration
		received  sync.WaitGroup
		readers   sync.WaitGroup
		sent      time.Time // written before each Publish, read after receipt
	)
	for i := range subscribers {
		s, err := rs[i%3].Bus().Subscribe(ctx, "org:bench", nil, pubsub.DefaultBuffer)
		if err != nil {
			b.Fatal(err)
		}
		readers.Go(func() {
			for range s.C {
				mu.Lock()
				latencies = append(latencies, time.Since(sent))
				mu.Unlock()
				received.Done()
			}
		})
	}
	var publish time.Duration
	b.ResetTimer()
	for range b.N {
		received.Add(subscribers)
		mu.Lock()
		sent = time.Now()
		mu.Unlock()
		if err := rs[0].Bus().Publish(ctx, pubsub.Message{Scope: "org:bench", Name: "people.registered"}); err != nil {
			b.Fatal(err)
		}
		publish += time.Since(sent)
		received.Wait()
	}
	b.StopTimer()
	cancel()
	readers.Wait()
	slices.Sort(latencies)
	q := func(p float64) float64 { return float64(latencies[int(p*float64(len(latencies)-1))].Microseconds()) }
	b.ReportMetric(q(0.50), "p50-µs")
	b.ReportMetric(q(0.99), "p99-µs")
	b.ReportMetric(float64(publish.Microseconds())/float64(b.N), "publish-µs")
}

// BenchmarkCacheHit compares an answer served by the replica's local tier with one
// served by the shared tier in Redis (a local miss: one script round trip, Snappy and
// MessagePack decoding, then the local fill), for a small value (an event) and the
// typical large one (a page of 50 session registrants).
//
// Run: go test -run '^$' -bench BenchmarkCacheHit -benchmem ./cluster/
func BenchmarkCacheHit(b *testing.B) {
	rs := benchReplicas(b, 2)
	caches := sharedCaches(rs)
	page := samplePeoplePage(b, 50)
	ev := &livestorm.Event{ID: "e1", Title: "Quarterly roadmap", Sessions: []livestorm.Session{{ID: "s1", EventID: "e1"}}}
	values := []struct {
		name  string
		fetch func(b *testing.B, c *cache.Cache, key cache.Key)
	}{
		{"event", func(b *testing.B, c *cache.Cache, key cache.Key) {
			if _, err := cache.Fetch(context.Background(), c, key, func(context.Context) (*livestorm.Event, error) { return ev, nil }, nil); err != nil {
				b.Fatal(err)
			}
		}},
		{"people-page-50", func(b *testing.B, c *cache.Cache, key cache.Key) {
			if _, err := cache.Fetch(context.Background(), c, key, func(context.Context) (*livestorm.List[livestorm.Person], error) { return page, nil }, nil); err != nil {
				b.Fatal(err)
			}
		}},
	}
	for _, v := range values {
		key := cache.Key{Scope: "org:bench", Resource: v.name, ID: "1"}
		v.fetch(b, caches[0], key) // fills both tiers of replica 1, and the shared one
		b.Run(v.name+"/local", func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				v.fetch(b, caches[0], key)
			}
		})
		b.Run(v.name+"/shared", func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				caches[1].Purge() // replica 2 has never read it: a local miss
				v.fetch(b, caches[1], key)
			}
		})
	}
}
