package main

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDemoModePushesLiveEvents runs `go run .` as a user would and opens a subscription
// the way GraphiQL does: the embedded simulator's activity reaches it within seconds,
// through webhooks the gateway registered with the simulator itself.
func TestDemoModePushesLiveEvents(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr lockedBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"livestorm-gateway"}, env(map[string]string{"PORT": "0"}), &stdout, &stderr)
	}()
	addr := regexp.MustCompile(`listening on (\S+)`)
	var base string
	require.Eventually(t, func() bool {
		if m := addr.FindStringSubmatch(stdout.String()); m != nil {
			base = "http://" + strings.Replace(m[1], "[::]", "127.0.0.1", 1)
			return true
		}
		return false
	}, 10*time.Second, 10*time.Millisecond, "no banner; stderr: %s", stderr.String())
	assert.Contains(t, stdout.String(), "subscription { livestormEvents")

	start := time.Now()
	c := openSubscriber(t, protoTransportWS, base, "")
	c.subscribe(t, "live", `subscription { livestormEvents { type occurredAt event { title } session { status registrantsCount } person { email } } }`, nil)
	var got struct {
		LivestormEvents struct {
			Type  string
			Event *struct{ Title string }
		}
	}
	nextEvent(t, c, "live", 20*time.Second).result(t).decode(t, &got)
	t.Logf("first live event (%s) %s after subscribing", got.LivestormEvents.Type, time.Since(start).Round(time.Millisecond))
	assert.NotEmpty(t, got.LivestormEvents.Type)
	c.close()
	assert.Contains(t, stderr.String(), "webhooks registered with Livestorm")

	cancel()
	select {
	case err := <-done:
		assert.NoError(t, err)
	case <-time.After(15 * time.Second):
		t.Fatal("run did not return after its context was cancelled")
	}
}

func TestWebhookResyncInterval(t *testing.T) {
	c, err := LoadConfig(env(map[string]string{"LIVESTORM_API_TOKEN": "tok"}))
	require.NoError(t, err)
	assert.Equal(t, time.Hour, c.WebhookResync, "hourly: 720 of the 10,000 monthly calls")
	c, err = LoadConfig(env(map[string]string{"LIVESTORM_API_TOKEN": "tok", "WEBHOOK_RESYNC_INTERVAL": "6h"}))
	require.NoError(t, err)
	assert.Equal(t, 6*time.Hour, c.WebhookResync)
	for _, bad := range []string{"soon", "30s"} {
		_, err = LoadConfig(env(map[string]string{"LIVESTORM_API_TOKEN": "tok", "WEBHOOK_RESYNC_INTERVAL": bad}))
		assert.ErrorContains(t, err, "WEBHOOK_RESYNC_INTERVAL")
	}
}
