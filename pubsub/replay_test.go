package pubsub

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// publishN publishes n messages named name-<i> to scope and returns their cursors.
func publishN(t *testing.T, b Bus, scope, name string, n int) {
	t.Helper()
	for i := range n {
		require.NoError(t, b.Publish(t.Context(), Message{Scope: scope, Name: name, ID: fmt.Sprintf("%s-%d", name, i)}))
	}
}

func TestSubscribeAfterReplaysWhatWasMissedThenContinuesLive(t *testing.T) {
	ctx := t.Context()
	b := NewLocal()
	defer b.Close()
	first, err := b.Subscribe(ctx, "org:a", nil, 8)
	require.NoError(t, err)
	publishN(t, b, "org:a", "before", 2)
	receive(t, first)
	last := receive(t, first)
	require.NotEmpty(t, last.Cursor)
	first.Close() // the client disconnects

	publishN(t, b, "org:a", "missed", 5)
	publishN(t, b, "org:b", "other-workspace", 1)

	again, err := b.SubscribeAfter(ctx, "org:a", last.Cursor, nil, 8)
	require.NoError(t, err)
	var cursors []string
	for i := range 5 {
		m := receive(t, again)
		assert.Equal(t, fmt.Sprintf("missed-%d", i), m.ID, "exactly what was missed, in order")
		cursors = append(cursors, m.Cursor)
	}
	nothing(t, again)
	publishN(t, b, "org:a", "live", 1)
	assert.Equal(t, "live-0", receive(t, again).ID)
	nothing(t, again)
	for i := 1; i < len(cursors); i++ {
		c0, _ := ParseCursor(cursors[i-1])
		c1, _ := ParseCursor(cursors[i])
		assert.True(t, c1.After(c0), "cursors increase")
	}
}

func TestSubscribeAfterAppliesTheFilterToTheReplay(t *testing.T) {
	ctx := t.Context()
	b := NewLocal()
	defer b.Close()
	s, err := b.Subscribe(ctx, "org:a", nil, 8)
	require.NoError(t, err)
	publishN(t, b, "org:a", "x", 1)
	cursor := receive(t, s).Cursor
	s.Close()
	publishN(t, b, "org:a", "wanted", 2)
	publishN(t, b, "org:a", "unwanted", 2)
	again, err := b.SubscribeAfter(ctx, "org:a", cursor, func(m *Message) bool { return m.Name == "wanted" }, 8)
	require.NoError(t, err)
	assert.Equal(t, "wanted-0", receive(t, again).ID)
	assert.Equal(t, "wanted-1", receive(t, again).ID)
	nothing(t, again)
}

func TestSubscribeAfterRefusesWhatItCannotReplay(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	cases := []struct {
		name   string
		cursor func(t *testing.T, b *Local, first string) string
		want   error
	}{
		{"not a cursor", func(*testing.T, *Local, string) string { return "yesterday" }, ErrInvalidCursor},
		{"another process's cursor", func(*testing.T, *Local, string) string { return "17-3" }, ErrReplayUnavailable},
		{"a cursor ahead of the stream", func(_ *testing.T, b *Local, _ string) string {
			return Cursor{Hi: b.boot, Lo: 99}.String()
		}, ErrReplayUnavailable},
		{"more missed than the count bound keeps", func(t *testing.T, b *Local, first string) string {
			publishN(t, b, "org:a", "flood", 5) // ReplayMax is 4
			return first
		}, ErrReplayUnavailable},
		{"missed messages older than the retention", func(t *testing.T, b *Local, first string) string {
			publishN(t, b, "org:a", "soon-old", 1)
			now = now.Add(2 * time.Hour)
			return first
		}, ErrReplayUnavailable},
		{"a cursor older than the retention with nothing missed after it", func(t *testing.T, b *Local, first string) string {
			now = now.Add(2 * time.Hour)
			return first
		}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := NewLocalWith(LocalOptions{Replay: time.Hour, ReplayMax: 4, Now: clock})
			defer b.Close()
			s, err := b.Subscribe(t.Context(), "org:a", nil, 8)
			require.NoError(t, err)
			publishN(t, b, "org:a", "seen", 1)
			first := receive(t, s).Cursor
			s.Close()
			again, err := b.SubscribeAfter(t.Context(), "org:a", tc.cursor(t, b, first), nil, 8)
			if tc.want == nil {
				require.NoError(t, err)
				nothing(t, again)
				again.Close()
			} else {
				require.ErrorIs(t, err, tc.want)
			}
			assert.Equal(t, 0, b.Subscribers("org:a"), "a refused resume leaves no subscriber")
		})
	}
}

// TestResumeUnderConcurrentPublishing resumes again and again while a publisher keeps
// publishing: every resumed subscription continues exactly after its cursor, with no
// gap and no duplicate, whatever the interleaving of replay and live messages.
func TestResumeUnderConcurrentPublishing(t *testing.T) {
	b := NewLocalWith(LocalOptions{ReplayMax: 50_000})
	defer b.Close()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ctx.Err() == nil && i < 50_000; i++ {
			_ = b.Publish(ctx, Message{Scope: "org:a", Name: "n", ID: fmt.Sprint(i)})
		}
	})
	defer wg.Wait()
	defer cancel()

	s, err := b.Subscribe(ctx, "org:a", nil, 4096)
	require.NoError(t, err)
	last := receive(t, s)
	s.Close()
	for range 50 {
		s, err := b.SubscribeAfter(ctx, "org:a", last.Cursor, nil, 4096)
		require.NoError(t, err)
		for range 20 {
			m := receive(t, s)
			prev, _ := ParseCursor(last.Cursor)
			got, _ := ParseCursor(m.Cursor)
			require.Equal(t, prev.Lo+1, got.Lo, "the message right after %s", last.Cursor)
			last = m
		}
		s.Close()
	}
}

func TestHeldSubscription(t *testing.T) {
	seq := func(n uint64) *Message {
		c := Cursor{Hi: 1, Lo: n}
		return &Message{Scope: "org:a", Name: fmt.Sprint(n), Cursor: c.String(), pos: c}
	}
	t.Run("live messages published while held follow the replay, without duplicates", func(t *testing.T) {
		b := NewLocal()
		defer b.Close()
		s, err := b.SubscribeHeld(t.Context(), "org:a", nil, 4)
		require.NoError(t, err)
		assert.Equal(t, 1, b.Subscribers("org:a"))
		for _, n := range []uint64{3, 4, 5} { // live, already past the replay's start
			require.NoError(t, b.Deliver(*seq(n)))
		}
		require.NoError(t, b.Deliver(Message{Scope: "org:a", Name: "fallback", Fallback: true, Cursor: "1-4"}))
		b.Release(s, Cursor{Hi: 1, Lo: 1}, []*Message{seq(1), seq(2), seq(3), seq(4)})
		for _, want := range []string{"2", "3", "4", "5", "fallback"} {
			assert.Equal(t, want, receive(t, s).Name)
		}
		require.NoError(t, b.Deliver(*seq(4))) // a late duplicate of the replay
		require.NoError(t, b.Deliver(*seq(6)))
		assert.Equal(t, "6", receive(t, s).Name)
		nothing(t, s)
	})
	t.Run("a subscriber that falls a buffer behind while held is dropped", func(t *testing.T) {
		b := NewLocal()
		defer b.Close()
		s, err := b.SubscribeHeld(t.Context(), "org:a", nil, 2)
		require.NoError(t, err)
		for n := range uint64(3) {
			require.NoError(t, b.Deliver(*seq(n + 10)))
		}
		b.Release(s, Cursor{}, nil)
		closed(t, s)
		assert.ErrorIs(t, s.Err(), ErrSlowSubscriber)
		assert.Equal(t, 0, b.Subscribers("org:a"))
	})
	t.Run("a subscription that ends while held has a closed channel", func(t *testing.T) {
		b := NewLocal()
		defer b.Close()
		ctx, cancel := context.WithCancel(t.Context())
		s, err := b.SubscribeHeld(ctx, "org:a", nil, 2)
		require.NoError(t, err)
		cancel()
		require.Eventually(t, func() bool { return b.Subscribers("org:a") == 0 }, 5*time.Second, time.Millisecond)
		b.Release(s, Cursor{}, []*Message{seq(1)})
		closed(t, s)
		assert.NoError(t, s.Err())
	})
}

func TestRingForgetsQuietScopes(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	b := NewLocalWith(LocalOptions{Replay: time.Minute, Now: func() time.Time { return now }})
	defer b.Close()
	publishN(t, b, "org:quiet", "x", 3)
	now = now.Add(3 * time.Minute)
	publishN(t, b, "org:busy", "y", 1)
	b.pubMu.Lock()
	defer b.pubMu.Unlock()
	assert.Zero(t, b.rings["org:quiet"].n, "its messages are forgotten")
	assert.Equal(t, uint64(3), b.rings["org:quiet"].seq, "its numbering goes on")
}
