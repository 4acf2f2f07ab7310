package main

import (
	"fmt"
	"log/slog"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/livestorm-gateway/gateway/auth"
	"github.com/livestorm-gateway/gateway/persisted"
	"github.com/livestorm-gateway/gateway/telemetry"
	"github.com/livestorm-gateway/gateway/transport"
)

// Config is the gateway's configuration, read from the environment (design.md §3.3).
type Config struct {
	Port           int           // PORT
	Host           string        // HOST: the listen address ("" = every interface; loopback in demo mode)
	APIURL         string        // LIVESTORM_API_URL
	APIToken       string        // LIVESTORM_API_TOKEN
	ForwardAuth    bool          // LIVESTORM_FORWARD_AUTH
	WebhookSecret  string        // LIVESTORM_WEBHOOK_SECRET
	PublicURL      string        // PUBLIC_URL
	RedisURL       string        // REDIS_URL
	RedisPrefix    string        // REDIS_KEY_PREFIX
	AllowedOrigins []string      // CORS_ALLOWED_ORIGINS
	AllowedHeaders []string      // CORS_ALLOWED_HEADERS
	CacheTTL       time.Duration // CACHE_TTL
	LogLevel       slog.Level    // LOG_LEVEL
	MaxComplexity  int           // GRAPHQL_MAX_COMPLEXITY
	MaxDepth       int           // GRAPHQL_MAX_DEPTH
	// MaxBatch is how many operations one POST may carry as a JSON array
	// (GRAPHQL_MAX_BATCH; 0 refuses batches).
	MaxBatch int
	// Introspection lets public callers introspect the schema (GRAPHQL_INTROSPECTION,
	// default true: frontends generate their types from it); viewer and above always may.
	Introspection bool
	// DemoActivity controls the simulated live activity of demo mode (DEMO_ACTIVITY).
	DemoActivity bool
	// WebhookResync is how often the webhooks registered with Livestorm are checked and
	// re-created if Livestorm disabled them (WEBHOOK_RESYNC_INTERVAL; with PUBLIC_URL).
	// Each check is one upstream call: hourly is 720 of the 10,000 calls of 30 days.
	WebhookResync time.Duration
	// WebhookTolerance is the freshness window of webhook signatures
	// (LIVESTORM_WEBHOOK_TOLERANCE; 0 = webhook.DefaultTolerance).
	WebhookTolerance time.Duration
	// WebhookSecretsFile holds per-workspace webhook secrets (LIVESTORM_WEBHOOK_SECRETS,
	// forwarded mode); run loads it into WebhookSecrets.
	WebhookSecretsFile string
	WebhookSecrets     map[string]string

	// Auth is caller identity: AUTH_JWKS_URL, AUTH_JWT_SECRET, AUTH_JWT_ISSUER,
	// AUTH_JWT_AUDIENCE, AUTH_ROLE_CLAIM, AUTH_API_KEYS_FILE, AUTH_ANONYMOUS_ROLE and
	// TRUSTED_PROXIES; run adds the logger, metrics and HTTP client.
	Auth auth.Config
	// PersistedDocuments is the trusted documents manifest (PERSISTED_DOCUMENTS), and
	// PersistedOnly the roles restricted to it (PERSISTED_DOCUMENTS_ONLY).
	PersistedDocuments string
	PersistedOnly      persisted.Policy

	// Observability (observability.go, package telemetry).
	Tracing       telemetry.Config // OTEL_*: tracing is off without an OTLP endpoint
	LogFormat     string           // LOG_FORMAT: json or text ("": text in demo mode, else json)
	SlowOperation time.Duration    // SLOW_OPERATION_THRESHOLD (default 1s; 0: no warning)
	DebugAddr     string           // DEBUG_ADDR: loopback address of the pprof listener ("": none)
	// Limits bound what each caller and operation may spend (limits_config.go).
	Limits LimitsConfig
	// SubscriptionReplay is how long webhook notifications are kept for subscribers that
	// reconnect with their last cursor (SUBSCRIPTION_REPLAY); SubscriptionReplayMax bounds
	// how many are kept per workspace (SUBSCRIPTION_REPLAY_MAX).
	SubscriptionReplay    time.Duration
	SubscriptionReplayMax int
	// ResponseCache keeps the serialized responses of queries (RESPONSE_CACHE), in at
	// most ResponseCacheSize bytes (RESPONSE_CACHE_SIZE, given in MB), and answers them
	// with ETag and Cache-Control: ResponseCacheControl (RESPONSE_CACHE_CONTROL).
	ResponseCache        bool
	ResponseCacheSize    int64
	ResponseCacheControl string
}

// Demo reports whether the gateway runs its embedded simulator: no credential configured
// and callers not forwarding their own.
func (c Config) Demo() bool { return c.APIToken == "" && !c.ForwardAuth }

// defaultResponseCacheMB is the default memory of the response cache: about 2,000
// event pages of 30 KB.
const defaultResponseCacheMB = 64

// defaultAPIURL is Livestorm's public API.
const defaultAPIURL = "https://api.livestorm.co/v1"

// DefaultAllowedHeaders are the request headers browsers may send cross-origin
// (CORS_ALLOWED_HEADERS): the credential and content negotiation; what GraphQL clients
// add (Apollo Client's client awareness, graphql-sse's single-connection token, API keys);
// W3C trace context and request ids, so traces cross from the frontend; and
// If-None-Match, for clients revalidating a response themselves.
var DefaultAllowedHeaders = []string{
	"Authorization", "Content-Type", "Accept",
	"apollographql-client-name", "apollographql-client-version", "graphql-client-name", "X-API-Key",
	"X-GraphQL-Event-Stream-Token",
	"traceparent", "tracestate", "baggage", "X-Request-Id",
	"If-None-Match", // revalidating a cached response (304)
}

// headerName matches an HTTP header field name (RFC 9110 token).
var headerName = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")

// LoadConfig reads the configuration through getenv and validates it; every error names
// the variable at fault.
func LoadConfig(getenv func(string) string) (Config, error) {
	c := Config{
		AllowedHeaders: DefaultAllowedHeaders,
		Port:           8080,
		APIURL:         defaultAPIURL,
		CacheTTL:       5 * time.Minute,
		LogLevel:       slog.LevelInfo,
		MaxComplexity:  200_000,
		MaxDepth:       12,
		MaxBatch:       10,
		Introspection:  true,
		DemoActivity:   true,
		WebhookResync:  time.Hour,
		Limits:         defaultLimits(),
		RedisPrefix:    "lsgw",

		SubscriptionReplay:    time.Hour,
		SubscriptionReplayMax: 10_000,

		ResponseCache:        true,
		ResponseCacheSize:    defaultResponseCacheMB << 20,
		ResponseCacheControl: transport.DefaultCacheControl,
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
	if v := strings.TrimSpace(getenv("HOST")); v != "" {
		if !validHost(v) {
			fail("HOST", "must be an IP address or a host name such as 127.0.0.1, :: or localhost, got %q", v)
		} else {
			c.Host = strings.Trim(v, "[]")
		}
	}
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
	if v := strings.TrimSpace(getenv("CORS_ALLOWED_HEADERS")); v != "" {
		var headers []string
		for _, h := range strings.Split(v, ",") {
			h = strings.TrimSpace(h)
			if h == "" {
				continue
			}
			if h != "*" && !headerName.MatchString(h) {
				fail("CORS_ALLOWED_HEADERS", "entries must be header names like Authorization or *, got %q", h)
				continue
			}
			headers = append(headers, h)
		}
		c.AllowedHeaders = headers
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
	intVar("GRAPHQL_MAX_BATCH", &c.MaxBatch, 0, 100)
	boolVar("GRAPHQL_INTROSPECTION", &c.Introspection)
	boolVar("DEMO_ACTIVITY", &c.DemoActivity)
	boolVar("RESPONSE_CACHE", &c.ResponseCache)
	mb := defaultResponseCacheMB
	intVar("RESPONSE_CACHE_SIZE", &mb, 1, 65536)
	c.ResponseCacheSize = int64(mb) << 20
	if v := strings.TrimSpace(getenv("RESPONSE_CACHE_CONTROL")); v != "" {
		if strings.ContainsAny(v, "\r\n") {
			fail("RESPONSE_CACHE_CONTROL", "must be one header value such as %q", transport.DefaultCacheControl)
		} else {
			c.ResponseCacheControl = v
		}
	}
	if v := strings.TrimSpace(getenv("WEBHOOK_RESYNC_INTERVAL")); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Minute {
			fail("WEBHOOK_RESYNC_INTERVAL", "must be a duration of at least 1m such as 1h, got %q", v)
		} else {
			c.WebhookResync = d
		}
	}

	if v := strings.TrimSpace(getenv("LIVESTORM_WEBHOOK_TOLERANCE")); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Minute || d > 24*time.Hour {
			fail("LIVESTORM_WEBHOOK_TOLERANCE", "must be a duration between 1m and 24h such as 30m, got %q", v)
		} else {
			c.WebhookTolerance = d
		}
	}
	c.WebhookSecretsFile = strings.TrimSpace(getenv("LIVESTORM_WEBHOOK_SECRETS"))

	c.Auth = auth.Config{
		JWTSecret:     getenv("AUTH_JWT_SECRET"),
		Issuer:        strings.TrimSpace(getenv("AUTH_JWT_ISSUER")),
		Audience:      strings.TrimSpace(getenv("AUTH_JWT_AUDIENCE")),
		RoleClaim:     strings.TrimSpace(getenv("AUTH_ROLE_CLAIM")),
		APIKeysFile:   strings.TrimSpace(getenv("AUTH_API_KEYS_FILE")),
		AnonymousRole: strings.TrimSpace(getenv("AUTH_ANONYMOUS_ROLE")),
		Forwarded:     c.ForwardAuth,
		Demo:          c.Demo(),
	}
	urlVar("AUTH_JWKS_URL", &c.Auth.JWKSURL, "https", "http")
	if err := c.Auth.Validate(); err != nil {
		errs = append(errs, strings.Split(err.Error(), "\n")...)
	}
	if v := getenv("TRUSTED_PROXIES"); strings.TrimSpace(v) != "" {
		p, err := auth.ParsePrefixes(v)
		if err != nil {
			fail("TRUSTED_PROXIES", "must be comma-separated CIDRs or addresses of your proxies: %v", err)
		}
		c.Auth.TrustedProxies = p
	}
	c.PersistedDocuments = strings.TrimSpace(getenv("PERSISTED_DOCUMENTS"))
	if only := getenv("PERSISTED_DOCUMENTS_ONLY"); c.PersistedDocuments == "" && strings.TrimSpace(only) != "" && !strings.EqualFold(strings.TrimSpace(only), "none") {
		fail("PERSISTED_DOCUMENTS_ONLY", "needs PERSISTED_DOCUMENTS, the manifest the restricted roles may run")
	} else if p, err := persisted.ParsePolicy(only); err != nil {
		errs = append(errs, err.Error())
	} else {
		c.PersistedOnly = p
	}

	if c.WebhookSecretsFile != "" {
		switch {
		case !c.ForwardAuth:
			fail("LIVESTORM_WEBHOOK_SECRETS", "is for forwarded mode (LIVESTORM_FORWARD_AUTH=true), where each workspace signs with its own secret; with a server token use LIVESTORM_WEBHOOK_SECRET")
		case c.WebhookSecret != "":
			fail("LIVESTORM_WEBHOOK_SECRETS", "cannot be combined with LIVESTORM_WEBHOOK_SECRET: with per-workspace secrets, every workspace is verified with its own")
		}
	}
	loadObservability(&c, getenv, fail)
	loadLimits(getenv, &c.Limits, fail)
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
	if c.PublicURL != "" && c.WebhookSecret == "" && c.WebhookSecretsFile == "" && !c.Demo() {
		fail("LIVESTORM_WEBHOOK_SECRET", "is required with PUBLIC_URL: unsigned webhooks would let anyone push events")
	}
	if len(errs) > 0 {
		return c, fmt.Errorf("invalid configuration:\n  %s", strings.Join(errs, "\n  "))
	}
	return c, nil
}

var hostName = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,62}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}[A-Za-z0-9])?)*$`)

// validHost accepts an IP address (IPv6 with or without brackets) or a DNS name.
func validHost(h string) bool {
	if _, err := netip.ParseAddr(strings.Trim(h, "[]")); err == nil {
		return true
	}
	return len(h) <= 253 && hostName.MatchString(h)
}
