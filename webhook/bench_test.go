package webhook

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/livestorm-gateway/gateway/cache"
	"github.com/livestorm-gateway/gateway/livestorm"
	"github.com/livestorm-gateway/gateway/pubsub"
)

// BenchmarkReceiverAck measures how long the receiver takes to answer one signed
// people.registered delivery (read, verify, parse, de-duplicate, queue): the time
// Livestorm waits for its 2xx. Processing (invalidation, publication) happens after.
//
// Run: go test -run '^$' -bench BenchmarkReceiverAck -benchmem ./webhook/
func BenchmarkReceiverAck(b *testing.B) {
	bus := pubsub.NewLocal()
	defer bus.Close()
	r, err := NewReceiver(Options{Secret: secret, Cache: cache.New(cache.Options{}), Bus: bus, QueueSize: 1 << 16})
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	bodies := make([][]byte, 0, 1024)
	for i := range cap(bodies) {
		bodies = append(bodies, payload("people.registered", "people", fmt.Sprint("p", i), "o",
			`{"email":"a@example.com","first_name":"Ada","registrant_detail":{"event_id":"e1","session_id":"s1"}}`))
	}
	now := time.Now()
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		body := append(bodies[i%len(bodies)], ' ') // unique, so never a duplicate
		bodies[i%len(bodies)] = body
		i++
		req := httptest.NewRequest(http.MethodPost, ReceiverPath, bytes.NewReader(body))
		req.Header.Set(livestorm.SignatureHeader, livestorm.SignWebhook(secret, now, body))
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, req)
		if rec.Code != http.StatusAccepted {
			b.Fatalf("status %d", rec.Code)
		}
	}
}
