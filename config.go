package main

import (
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Config is the gateway's configuration, read from the environment (design.md §3.3).
type Config struct {
	Port           int           // PORT
	APIURL         string        // LIVESTORM_API_URL
	APIToken       string        // LIVESTORM_API_TOKEN
	ForwardAuth    bool          // LIVESTORM_FORWARD_AUTH
	WebhookSecret  string        // LIVESTORM_WEBHOOK_SECRET
	PublicURL      string        // PUBLIC_URL
	RedisURL       string        // REDIS_URL
	RedisPrefix    string        // REDIS_KEY_PREFIX
	AllowedOrigins []string      // CORS_ALLOWED_ORIGINS
	CacheTTL       time.Duration // CACHE_TTL
	LogLevel       slog.Level    // LOG_LEVEL
	MaxComplexity  int           // GRAPHQL_MAX_COMPLEXITY
	MaxDepth       int           // GRAPHQL_MAX_DEPTH
	// DemoActivity controls the simulated live activity of demo mode (DEMO_ACTIVITY).
	DemoActivity bool
	// WebhookResync is how often the webhooks registered with Livestorm are checked and
	// re-created if Livestorm disabled them (WEBHOOK_RESYNC_INTERVAL; with PUBLIC_URL).
	// Each check is one upstream call: hourly is 720 of the 10,000 calls of 30 days.
	WebhookResync time.Duration
	// SubscriptionReplay is how long webhook notifications are kept for subscribers that
	// reconnect with their last cursor (SUBSCRIPTION_REPLAY); SubscriptionReplayMax bounds
	// how many are kept per workspace (SUBSCRIPTION_REPLAY_MAX).
	SubscriptionReplay    time.Duration
	SubscriptionReplayMax int
}

// Demo reports whether the gateway runs its embedded simulator: no credential configured
// and callers not forwarding their own.
func (c Config) Demo() bool { return c.APIToken == "" && !c.ForwardAuth }

// defaultAPIURL is Livestorm's public API.
const defaultAPIURL = "https://api.livestorm.co/v1"

// LoadConfig reads the configuration through getenv and validates it; every error names
// the variable at fault.
func LoadConfig(getenv func(string) string) (Config, error) {
	c := Config{
		Port:          8080,
		APIURL:        defaultAPIURL,
		CacheTTL:      5 * time.Minute,
		LogLevel:      slog.LevelInfo,
		MaxComplexity: 200_000,
		MaxDepth:      12,
		DemoActivity:  true,
		WebhookResync: time.Hour,
		RedisPrefix:   "lsgw",

		SubscriptionReplay:    time.Hour,
		SubscriptionReplayMax: 10_000,
	}
	var errs []string
	fail := func(name, format string, args ...any) {
		errs = append(errs, name+": "+fmt.Sprintf(format, args...))
	}
	intVar := func(name string, dst *int, lo, hi int) {
		v := strings.TrimSpace(getenv(name))
		if v == "" {
			return
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			fail(name, "must be an integer between %d and %d, got %q", lo, hi, v)
			return
		}
		*dst = n
	}
	boolVar := func(name string, dst *bool) {
		v := strings.TrimSpace(getenv(name))
		if v == "" {
			return
		}
		b, err := strconv.ParseBool(v)
		if err != nil {
			fail(name, "must be true or false, got %q", v)
			return
		}
		*dst = b
	}
	urlVar := func(name string, dst *string, schemes ...string) {
		v := strings.TrimSpace(getenv(name))
		if v == "" {
			return
		}
		u, err := url.Parse(v)
		if err != nil || u.Host == "" || !slices.Contains(schemes, u.Scheme) {
			fail(name, "must be an absolute %s URL, got %q", strings.Join(schemes, " or "), v)
			return
		}
		*dst = strings.TrimRight(v, "/")
	}

	intVar("PORT", &c.Port, 0, 65535)
	urlVar("LIVESTORM_API_URL", &c.APIURL, "https", "http")
	c.APIToken = strings.TrimSpace(getenv("LIVESTORM_API_TOKEN"))
	boolVar("LIVESTORM_FORWARD_AUTH", &c.ForwardAuth)
	c.WebhookSecret = getenv("LIVESTORM_WEBHOOK_SECRET")
	urlVar("PUBLIC_URL", &c.PublicURL, "https", "http")
	if v := strings.TrimSpace(getenv("REDIS_URL")); v != "" {
		// Not echoed: a Redis URL may carry a password.
		u, err := url.Parse(v)
		if err != nil || !slices.Contains([]string{"redis", "rediss", "unix"}, u.Scheme) || (u.Host == "" && u.Scheme != "unix") || (u.Scheme == "unix" && u.Path == "") {
			fail("REDIS_URL", "must be a redis://host:port, rediss://host:port or unix:///path URL")
		} else {
			c.RedisURL = v
		}
	}
	if v := strings.TrimSpace(getenv("REDIS_KEY_PREFIX")); v != "" {
		if strings.ContainsAny(v, " {}\t\n") || len(v) > 64 {
			fail("REDIS_KEY_PREFIX", "must be up to 64 characters without spaces or braces, got %q", v)
		} else {
			c.RedisPrefix = v
		}
	}
	for _, o := range strings.Split(getenv("CORS_ALLOWED_ORIGINS"), ",") {
		o = strings.TrimSpace(o)
		if o == "" {
			continue
		}
		if o != "*" {
			u, err := url.Parse(o)
			if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") || (u.Path != "" && u.Path != "/") {
				fail("CORS_ALLOWED_ORIGINS", "entries must be origins like https://app.example.com or *, got %q", o)
				continue
			}
			o = strings.TrimRight(o, "/")
		}
		c.AllowedOrigins = append(c.AllowedOrigins, o)
	}
	if v := strings.TrimSpace(getenv("CACHE_TTL")); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			fail("CACHE_TTL", "must be a positive duration such as 90s or 5m, got %q", v)
		} else {
			c.CacheTTL = d
		}
	}
	if v := strings.TrimSpace(getenv("LOG_LEVEL")); v != "" {
		if err := c.LogLevel.UnmarshalText([]byte(v)); err != nil {
			fail("LOG_LEVEL", "must be debug, info, warn or error, got %q", v)
		}
	}
	intVar("GRAPHQL_MAX_COMPLEXITY", &c.MaxComplexity, 1, 10_000_000)
	intVar("GRAPHQL_MAX_DEPTH", &c.MaxDepth, 1, 100)
	boolVar("DEMO_ACTIVITY", &c.DemoActivity)
	if v := strings.TrimSpace(getenv("WEBHOOK_RESYNC_INTERVAL")); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Minute {
			fail("WEBHOOK_RESYNC_INTERVAL", "must be a duration of at least 1m such as 1h, got %q", v)
		} else {
			c.WebhookResync = d
		}
	}

	if v := strings.TrimSpace(getenv("SUBSCRIPTION_REPLAY")); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Minute || d > 7*24*time.Hour {
			fail("SUBSCRIPTION_REPLAY", "must be a duration between 1m and 168h such as 1h, got %q", v)
		} else {
			c.SubscriptionReplay = d
		}
	}
	intVar("SUBSCRIPTION_REPLAY_MAX", &c.SubscriptionReplayMax, 100, 1_000_000)

	if c.ForwardAuth && c.APIToken != "" {
		fail("LIVESTORM_FORWARD_AUTH", "cannot be combined with LIVESTORM_API_TOKEN: choose the server token or the callers' credentials")
	}
	if c.PublicURL != "" && c.WebhookSecret == "" && !c.Demo() {
		fail("LIVESTORM_WEBHOOK_SECRET", "is required with PUBLIC_URL: unsigned webhooks would let anyone push events")
	}
	if len(errs) > 0 {
		return c, fmt.Errorf("invalid configuration:\n  %s", strings.Join(errs, "\n  "))
	}
	return c, nil
}
