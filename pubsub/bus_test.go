package pubsub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/livestorm-gateway/gateway/livestorm"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// receive waits (bounded) for the next message of s.
func receive(t *testing.T, s *Subscription) *Message {
	t.Helper()
	select {
	case m, ok := <-s.C:
		require.True(t, ok, "subscription closed: %v", s.Err())
		return m
	case <-time.After(5 * time.Second):
		t.Fatal("no message within 5s")
		return nil
	}
}

// nothing asserts that s has no pending message (fan-out is synchronous, so anything
// published before the call is already buffered).
func nothing(t *testing.T, s *Subscription) {
	t.Helper()
	select {
	case m, ok := <-s.C:
		if ok {
			t.Fatalf("unexpected message %q", m.Name)
		}
		t.Fatalf("subscription unexpectedly closed: %v", s.Err())
	default:
	}
}

// closed waits (bounded) for s's channel to close, discarding buffered messages.
func closed(t *testing.T, s *Subscription) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case _, ok := <-s.C:
			if !ok {
				return
			}
		case <-deadline:
			t.Fatal("subscription not closed within 5s")
		}
	}
}

func TestFanOut(t *testing.T) {
	ctx := t.Context()
	byName := func(name string) Filter { return func(m *Message) bool { return m.Name == name } }
	cases := []struct {
		name    string
		scope   string
		filter  Filter
		publish []Message
		want    []string // names received, in order
	}{
		{
			name: "every message of its scope", scope: "org:a",
			publish: []Message{{Scope: "org:a", Name: "people.registered"}, {Scope: "org:a", Name: "session.started"}},
			want:    []string{"people.registered", "session.started"},
		},
		{
			name: "never another scope's", scope: "org:a",
			publish: []Message{{Scope: "org:b", Name: "people.registered"}, {Scope: "org:a", Name: "session.ended"}},
			want:    []string{"session.ended"},
		},
		{
			name: "only what the filter accepts", scope: "org:a", filter: byName("session.started"),
			publish: []Message{{Scope: "org:a", Name: "people.registered"}, {Scope: "org:a", Name: "session.started"}},
			want:    []string{"session.started"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := NewLocal()
			defer b.Close()
			s, err := b.Subscribe(ctx, tc.scope, tc.filter, 8)
			require.NoError(t, err)
			for _, m := range tc.publish {
				require.NoError(t, b.Publish(ctx, m))
			}
			for _, name := range tc.want {
				assert.Equal(t, name, receive(t, s).Name)
			}
			nothing(t, s)
		})
	}
}

func TestSlowSubscriberIsDroppedWithoutDelayingOthers(t *testing.T) {
	ctx := t.Context()
	b := NewLocal()
	defer b.Close()
	slow, err := b.Subscribe(ctx, "org:a", nil, 2) // never read until the end
	require.NoError(t, err)
	fast, err := b.Subscribe(ctx, "org:a", nil, 2)
	require.NoError(t, err)

	for i := range 10 {
		done := make(chan struct{})
		go func() {
			defer close(done)
			assert.NoError(t, b.Publish(ctx, Message{Scope: "org:a", Name: "people.registered", ID: fmt.Sprint(i)}))
		}()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("Publish blocked on a full subscriber")
		}
		assert.Equal(t, fmt.Sprint(i), receive(t, fast).ID, "the fast subscriber gets every message, in order")
	}

	// The slow one still holds what fitted in its buffer, then its channel is closed.
	assert.Equal(t, "0", receive(t, slow).ID)
	assert.Equal(t, "1", receive(t, slow).ID)
	_, ok := <-slow.C
	require.False(t, ok, "dropped subscriber's channel is closed")
	err = slow.Err()
	require.ErrorIs(t, err, ErrSlowSubscriber)
	var dropped *DroppedError
	require.ErrorAs(t, err, &dropped)
	assert.Equal(t, 1, dropped.Dropped, "dropped at the first message that did not fit")
	assert.Equal(t, 2, dropped.Buffer)
	assert.Contains(t, err.Error(), "subscriber too slow: 1 events dropped")
	assert.Equal(t, 1, b.Subscribers("org:a"), "only the fast subscriber remains")
	assert.NoError(t, fast.Err())
	assert.Equal(t, int64(1), b.Stats().Dropped)

	slow.Close() // closing a dropped subscription again is harmless
}

func TestSubscriptionEnds(t *testing.T) {
	cases := []struct {
		name    string
		end     func(b *Local, s *Subscription, cancel context.CancelFunc)
		wantErr error
	}{
		{"when its context ends", func(_ *Local, _ *Subscription, cancel context.CancelFunc) { cancel() }, nil},
		{"when closed", func(_ *Local, s *Subscription, _ context.CancelFunc) { s.Close(); s.Close() }, nil},
		{"when the bus closes", func(b *Local, _ *Subscription, _ context.CancelFunc) { _ = b.Close() }, ErrClosed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := NewLocal()
			defer b.Close()
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			s, err := b.Subscribe(ctx, "org:a", nil, 4)
			require.NoError(t, err)
			require.Equal(t, 1, b.Subscribers("org:a"))
			tc.end(b, s, cancel)
			closed(t, s)
			if tc.wantErr == nil {
				assert.NoError(t, s.Err())
			} else {
				assert.ErrorIs(t, s.Err(), tc.wantErr)
			}
			assert.Equal(t, 0, b.Subscribers("org:a"))
			// Publishing afterwards reaches nobody and never panics on the closed channel.
			_ = b.Publish(t.Context(), Message{Scope: "org:a", Name: "x"})
		})
	}
}

func TestClosedBusRefusesUse(t *testing.T) {
	b := NewLocal()
	require.NoError(t, b.Close())
	require.NoError(t, b.Close())
	assert.ErrorIs(t, b.Publish(t.Context(), Message{Scope: "org:a"}), ErrClosed)
	_, err := b.Subscribe(t.Context(), "org:a", nil, 1)
	assert.ErrorIs(t, err, ErrClosed)
}

func TestSubscribeWithDoneContext(t *testing.T) {
	b := NewLocal()
	defer b.Close()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := b.Subscribe(ctx, "org:a", nil, 1)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 0, b.Subscribers("org:a"))
}

// TestConcurrentUse runs publishers, subscribers coming and going, and slow subscribers
// at once (for the race detector), then checks nothing is left behind.
func TestConcurrentUse(t *testing.T) {
	b := NewLocal()
	ctx, cancel := context.WithCancel(t.Context())
	var publishers, subscribers sync.WaitGroup
	for p := range 2 {
		publishers.Go(func() {
			for i := 0; ctx.Err() == nil; i++ {
				_ = b.Publish(ctx, Message{Scope: fmt.Sprintf("org:%d", i%3), Name: "people.registered", ID: fmt.Sprint(p, i)})
			}
		})
	}
	for range 4 {
		subscribers.Go(func() {
			for i := range 100 {
				sctx, scancel := context.WithCancel(ctx)
				s, err := b.Subscribe(sctx, fmt.Sprintf("org:%d", i%3), nil, 1+i%4)
				if err != nil {
					scancel()
					return
				}
				for range i % 3 {
					<-s.C // a message, or the close of a dropped subscriber
				}
				if i%2 == 0 {
					s.Close()
				}
				scancel()
				closed(t, s)
			}
		})
	}
	subscribers.Wait()
	cancel()
	publishers.Wait()
	require.NoError(t, b.Close())
	for i := range 3 {
		assert.Equal(t, 0, b.Subscribers(fmt.Sprintf("org:%d", i)))
	}
}

func TestMessageIsJSONSerializable(t *testing.T) {
	m := Message{
		Scope: "org:a", ID: "abc", Name: "people.registered", OccurredAt: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC),
		EventID: "e", SessionID: "s", PersonID: "p",
		Person: &livestorm.Person{ID: "p", Email: "a@example.com", RegistrantDetail: &livestorm.RegistrantDetail{EventID: "e", SessionID: "s"}},
		Err:    errors.New("never serialized"),
	}
	raw, err := json.Marshal(m)
	require.NoError(t, err)
	assert.NotContains(t, string(raw), "never serialized")
	var back Message
	require.NoError(t, json.Unmarshal(raw, &back))
	m.Err = nil
	assert.Equal(t, m, back)
}
