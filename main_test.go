package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// lockedBuffer is an io.Writer safe to read while run writes to it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// TestRunDemoMode runs the real main loop as `make run` does with no token: it must print
// where it listens, serve a query from the embedded simulator, push the simulator's live
// activity to a subscription opened the way GraphiQL opens one (through webhooks the
// gateway registered with the simulator itself), and stop cleanly.
func TestRunDemoMode(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr lockedBuffer
	done := make(chan error, 1)
	start := time.Now()
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
	require.Eventually(t, func() bool {
		res, err := http.Get(base + "/healthz")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == 200
	}, 5*time.Second, 10*time.Millisecond)
	t.Logf("demo mode ready in %s", time.Since(start))

	// Subscribed as soon as the gateway answers, the way GraphiQL opened right after start
	// would be: the demo's first registration must reach it within seconds.
	registrations := openSubscriber(t, protoTransportWS, base, "")
	defer registrations.close()
	registrations.subscribe(t, "reg", `subscription { registrationCreated { type registration { id person { email } } session { registrantsCount } } }`, nil)

	// Demo mode registers its webhooks with the simulator (eleven calls, paced at
	// Livestorm's 5 per second: ~2 s), then the simulator registers someone at once and
	// every 3 s after.
	t.Run("the first registration arrives within seconds of start", func(t *testing.T) {
		var got struct {
			RegistrationCreated struct {
				Type         string
				Registration struct {
					ID     string
					Person struct{ Email string }
				}
			}
		}
		nextEvent(t, registrations, "reg", 30*time.Second).result(t).decode(t, &got)
		first := time.Since(start)
		t.Logf("first registrationCreated %s after run started", first.Round(time.Millisecond))
		assert.Equal(t, "PEOPLE_REGISTERED", got.RegistrationCreated.Type)
		assert.NotEmpty(t, got.RegistrationCreated.Registration.ID)
		assert.NotEmpty(t, got.RegistrationCreated.Registration.Person.Email)
		nextEvent(t, registrations, "reg", 30*time.Second).result(t).decode(t, &got)
		t.Logf("second registrationCreated %s after the first", (time.Since(start) - first).Round(time.Millisecond))
	})

	banner := stdout.String()
	for _, want := range []string{"GraphiQL:", "Demo mode", "LIVESTORM_API_TOKEN", "subscription { livestormEvents",
		"listening on 127.0.0.1:", "loopback only", "callers without credentials are admin"} {
		assert.Contains(t, banner, want)
	}

	t.Run("queries are served by the embedded simulator", func(t *testing.T) {
		res, err := http.Post(base+"/graphql", "application/json",
			strings.NewReader(`{"query":"{ events(first: 3) { totalCount nodes { title sessions { nodes { status } } } } }"}`))
		require.NoError(t, err)
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		assert.Equal(t, 200, res.StatusCode)
		assert.Contains(t, string(body), `"totalCount":`)
		assert.NotContains(t, string(body), `"errors"`)
	})

	t.Run("a subscription receives live activity", func(t *testing.T) {
		subscribed := time.Now()
		c := openSubscriber(t, protoTransportWS, base, "")
		defer c.close()
		c.subscribe(t, "live", `subscription { livestormEvents { type occurredAt event { title } session { status registrantsCount } person { email } } }`, nil)
		var got struct {
			LivestormEvents struct{ Type string }
		}
		nextEvent(t, c, "live", 20*time.Second).result(t).decode(t, &got)
		t.Logf("first live event (%s) %s after subscribing", got.LivestormEvents.Type, time.Since(subscribed).Round(time.Millisecond))
		assert.NotEmpty(t, got.LivestormEvents.Type)
		assert.Contains(t, stderr.String(), "webhooks registered with Livestorm")
	})

	// A WebSocket left open must not hold shutdown up, and shutdown must close it.
	held := openSubscriber(t, protoTransportWS, base, "").(*wsClient)
	defer held.close()
	held.subscribe(t, "held", `subscription { sessionChanged { type } }`, nil)

	cancel()
	select {
	case err := <-done:
		assert.NoError(t, err)
	case <-time.After(15 * time.Second):
		t.Fatal("run did not return after its context was cancelled")
	}
	select {
	case <-held.done:
	case <-time.After(5 * time.Second):
		t.Fatal("shutdown left a WebSocket connection open")
	}
}

func TestRunRejectsBadConfig(t *testing.T) {
	err := run(context.Background(), []string{"gw"}, env(map[string]string{"PORT": "eighty"}), io.Discard, io.Discard)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "PORT")
}

func TestLoadConfig(t *testing.T) {
	t.Run("defaults", func(t *testing.T) {
		c, err := LoadConfig(env(nil))
		require.NoError(t, err)
		assert.Equal(t, 8080, c.Port)
		assert.Equal(t, "https://api.livestorm.co/v1", c.APIURL)
		assert.Equal(t, 5*time.Minute, c.CacheTTL)
		assert.Equal(t, 10, c.MaxBatch)
		assert.Contains(t, c.AllowedHeaders, "apollographql-client-name")
		assert.True(t, c.Demo())
	})
	t.Run("a token leaves demo mode", func(t *testing.T) {
		c, err := LoadConfig(env(map[string]string{"LIVESTORM_API_TOKEN": "tok", "CORS_ALLOWED_ORIGINS": "https://a.example, https://b.example/"}))
		require.NoError(t, err)
		assert.False(t, c.Demo())
		assert.Equal(t, []string{"https://a.example", "https://b.example"}, c.AllowedOrigins)
	})
	bad := []struct{ name, value, want string }{
		{"PORT", "70000", "PORT"},
		{"LIVESTORM_API_URL", "ftp://x", "LIVESTORM_API_URL"},
		{"LIVESTORM_FORWARD_AUTH", "maybe", "LIVESTORM_FORWARD_AUTH"},
		{"PUBLIC_URL", "not a url", "PUBLIC_URL"},
		{"REDIS_URL", "http://x", "REDIS_URL"},
		{"CORS_ALLOWED_ORIGINS", "https://a.example/path", "CORS_ALLOWED_ORIGINS"},
		{"CORS_ALLOWED_HEADERS", "Authorization, X Bad", "CORS_ALLOWED_HEADERS"},
		{"CACHE_TTL", "-5m", "CACHE_TTL"},
		{"LOG_LEVEL", "loud", "LOG_LEVEL"},
		{"GRAPHQL_MAX_DEPTH", "0", "GRAPHQL_MAX_DEPTH"},
		{"GRAPHQL_MAX_BATCH", "101", "GRAPHQL_MAX_BATCH"},
	}
	for _, tc := range bad {
		t.Run("invalid "+tc.name, func(t *testing.T) {
			_, err := LoadConfig(env(map[string]string{tc.name: tc.value, "LIVESTORM_API_TOKEN": "tok"}))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	t.Run("forwarding excludes a server token", func(t *testing.T) {
		_, err := LoadConfig(env(map[string]string{"LIVESTORM_API_TOKEN": "tok", "LIVESTORM_FORWARD_AUTH": "true"}))
		require.ErrorContains(t, err, "LIVESTORM_FORWARD_AUTH")
	})
	t.Run("webhooks need a secret", func(t *testing.T) {
		_, err := LoadConfig(env(map[string]string{"LIVESTORM_API_TOKEN": "tok", "PUBLIC_URL": "https://gw.example"}))
		require.ErrorContains(t, err, "LIVESTORM_WEBHOOK_SECRET")
	})
	t.Run("webhook resync interval", func(t *testing.T) {
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
	})
	t.Run("errors never echo the token", func(t *testing.T) {
		_, err := LoadConfig(env(map[string]string{"LIVESTORM_API_TOKEN": "secret-token-value", "PORT": "x"}))
		require.Error(t, err)
		assert.NotContains(t, err.Error(), "secret-token-value")
	})
}
