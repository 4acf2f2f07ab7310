package cache

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestInvalidationOvertakingAFetch is the webhook race: a fetch is in flight when a
// webhook evicts its tags. The fetch may have read the old state, so its answer must not
// be cached, and a caller arriving after the invalidation must not share it.
func TestInvalidationOvertakingAFetch(t *testing.T) {
	c := New(Options{TTL: time.Hour})
	key := Key{Scope: "org:a", Resource: "session", ID: "s1"}
	tagsOf := func(string) []string { return []string{"session:s1"} }

	var calls atomic.Int32
	started := make(chan struct{})
	release := make(chan struct{})
	slowOld := func(context.Context) (string, error) {
		calls.Add(1)
		close(started)
		<-release
		return "12 registrants (before the webhook)", nil
	}
	fresh := func(context.Context) (string, error) {
		calls.Add(1)
		return "13 registrants", nil
	}

	first := make(chan string, 1)
	go func() {
		v, err := Fetch(context.Background(), c, key, slowOld, tagsOf)
		assert.NoError(t, err)
		first <- v
	}()
	<-started
	c.Invalidate("org:a", "session:s1") // the webhook arrives while the fetch is in flight

	v, err := Fetch(context.Background(), c, key, fresh, tagsOf)
	require.NoError(t, err)
	assert.Equal(t, "13 registrants", v, "a caller after the invalidation does not join the older fetch")

	close(release)
	assert.Equal(t, "12 registrants (before the webhook)", <-first, "the older caller gets what it asked for")
	v, err = Fetch(context.Background(), c, key, fresh, tagsOf)
	require.NoError(t, err)
	assert.Equal(t, "13 registrants", v, "the overtaken answer was not cached over the fresh one")
	assert.Equal(t, int32(2), calls.Load())

	// Invalidations of another workspace do not hold this one's fetches back.
	c.Invalidate("org:b", "session:s1")
	_, err = Fetch(context.Background(), c, key, fresh, tagsOf)
	require.NoError(t, err)
	assert.Equal(t, int32(2), calls.Load(), "still cached")
}
