package cluster

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/livestorm-gateway/gateway/cluster/clustertest"
	"github.com/livestorm-gateway/gateway/pubsub"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// replicas connects n replicas to srv, closed at the end of the test.
func replicas(t *testing.T, srv *clustertest.Server, n int, tune ...func(*Options)) []*Cluster {
	t.Helper()
	out := make([]*Cluster, n)
	for i := range out {
		o := Options{URL: srv.URL, ReplicaID: fmt.Sprintf("replica-%d", i+1), Heartbeat: 100 * time.Millisecond,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
		for _, f := range tune {
			f(&o)
		}
		c, err := Connect(t.Context(), o)
		require.NoError(t, err)
		t.Cleanup(func() { _ = c.Close() })
		out[i] = c
	}
	return out
}

// recv waits (bounded) for the next message of s.
func recv(t *testing.T, s *pubsub.Subscription) *pubsub.Message {
	t.Helper()
	select {
	case m, ok := <-s.C:
		require.True(t, ok, "subscription ended: %v", s.Err())
		return m
	case <-time.After(5 * time.Second):
		t.Fatal("nothing within 5s")
		return nil
	}
}

// none asserts s receives nothing more within a short grace period (messages cross
// Redis asynchronously, so "nothing yet" needs a moment to mean something).
func none(t *testing.T, s *pubsub.Subscription, grace time.Duration) {
	t.Helper()
	select {
	case m, ok := <-s.C:
		if ok {
			t.Fatalf("unexpected message %q (%s)", m.Name, m.Cursor)
		}
	case <-time.After(grace):
	}
}

func TestConnectRefusesAnUnreachableRedis(t *testing.T) {
	for _, tc := range []struct{ name, url, want string }{
		{"nothing listens", "redis://user:s3cret@127.0.0.1:1/0", "REDIS_URL: cannot reach Redis at 127.0.0.1:1"},
		{"not a URL", "http://user:s3cret@example.com", "REDIS_URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Connect(t.Context(), Options{URL: tc.url})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), "s3cret", "the password never appears")
		})
	}
}

func TestBusAcrossReplicas(t *testing.T) {
	srv := clustertest.Start(t)
	rs := replicas(t, srv, 3)
	ctx := t.Context()
	var subs []*pubsub.Subscription
	for _, r := range rs {
		s, err := r.Bus().Subscribe(ctx, "org:a", nil, 16)
		require.NoError(t, err)
		subs = append(subs, s)
	}
	other, err := rs[1].Bus().Subscribe(ctx, "org:b", nil, 16)
	require.NoError(t, err)
	for i := range 3 {
		require.NoError(t, rs[i%3].Bus().Publish(ctx, pubsub.Message{Scope: "org:a", Name: fmt.Sprint(i), ID: fmt.Sprint("d", i)}))
	}
	var cursors [3][]string
	for i, s := range subs {
		for want := range 3 {
			m := recv(t, s)
			assert.Equal(t, fmt.Sprint(want), m.Name, "replica %d: one order for all", i+1)
			assert.False(t, m.Fallback)
			cursors[i] = append(cursors[i], m.Cursor)
		}
	}
	assert.Equal(t, cursors[0], cursors[1])
	assert.Equal(t, cursors[0], cursors[2])
	for _, s := range subs {
		none(t, s, 50*time.Millisecond)
	}
	none(t, other, 0)
}

func TestBusResume(t *testing.T) {
	srv := clustertest.Start(t)
	rs := replicas(t, srv, 2)
	ctx := t.Context()
	s, err := rs[0].Bus().Subscribe(ctx, "org:a", nil, 16)
	require.NoError(t, err)
	require.NoError(t, rs[1].Bus().Publish(ctx, pubsub.Message{Scope: "org:a", Name: "seen"}))
	last := recv(t, s).Cursor
	s.Close()
	for i := range 5 {
		require.NoError(t, rs[1].Bus().Publish(ctx, pubsub.Message{Scope: "org:a", Name: fmt.Sprint("missed-", i)}))
	}
	for _, r := range rs { // on the same replica, and on another one
		again, err := r.Bus().SubscribeAfter(ctx, "org:a", last, nil, 16)
		require.NoError(t, err)
		for i := range 5 {
			assert.Equal(t, fmt.Sprint("missed-", i), recv(t, again).Name)
		}
		defer again.Close()
	}
	require.NoError(t, rs[0].Bus().Publish(ctx, pubsub.Message{Scope: "org:a", Name: "live"}))

	t.Run("cursors it cannot honour", func(t *testing.T) {
		_, err := rs[0].Bus().SubscribeAfter(ctx, "org:a", "not-a-cursor", nil, 4)
		assert.ErrorIs(t, err, pubsub.ErrInvalidCursor)
		_, err = rs[0].Bus().SubscribeAfter(ctx, "org:a", "1-0", nil, 4) // before this Redis's history
		assert.ErrorIs(t, err, pubsub.ErrReplayUnavailable)
	})
	_ = strings.TrimSpace
}
