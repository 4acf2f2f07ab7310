package livestormsim

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Size controls how much deterministic seed data each organization gets, so
// the same simulator serves a three-person unit-test fixture and a benchmark
// workspace with tens of thousands of registrations.
type Size struct {
	Events           int // events per organization
	SessionsPerEvent int
	PeoplePerSession int // registrants per session (participants); plus 1 team-member host row per session
}

// Size presets accepted by ParseSize and the -size flag.
var (
	SizeTiny  = Size{Events: 2, SessionsPerEvent: 2, PeoplePerSession: 3}
	SizeSmall = Size{Events: 8, SessionsPerEvent: 3, PeoplePerSession: 12}
	SizeDemo  = Size{Events: 20, SessionsPerEvent: 3, PeoplePerSession: 40}
	SizeLarge = Size{Events: 100, SessionsPerEvent: 5, PeoplePerSession: 200}
)

// maxSizeDimension bounds each Size dimension so a typo in -size cannot make
// the simulator allocate gigabytes.
const maxSizeDimension = 10000

// ParseSize accepts "tiny", "small", "demo", "large" or "EVENTSxSESSIONSxPEOPLE"
// (e.g. "10x3x50"), so command-line users can pick any data volume.
func ParseSize(s string) (Size, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "tiny":
		return SizeTiny, nil
	case "small":
		return SizeSmall, nil
	case "demo":
		return SizeDemo, nil
	case "large":
		return SizeLarge, nil
	}
	parts := strings.Split(strings.ToLower(strings.TrimSpace(s)), "x")
	if len(parts) != 3 {
		return Size{}, fmt.Errorf("invalid size %q: want tiny, small, demo, large or EVENTSxSESSIONSxPEOPLE", s)
	}
	var dims [3]int
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || n > maxSizeDimension {
			return Size{}, fmt.Errorf("invalid size %q: each dimension must be an integer between 0 and %d", s, maxSizeDimension)
		}
		dims[i] = n
	}
	return Size{Events: dims[0], SessionsPerEvent: dims[1], PeoplePerSession: dims[2]}, nil
}

// Faults configures random failure injection so clients can be tested against
// the failure modes a real upstream shows (429 storms, 5xx, hangs, bad bodies).
// Each field is a fraction of authenticated requests in [0,1].
type Faults struct {
	RateLimited  float64       // fraction of requests answered 429 (Retry-After: 1)
	ServerError  float64       // fraction answered 500/502/503 with a JSON:API error body
	Timeout      float64       // fraction that hang until the client gives up (request ctx done) or TimeoutAfter elapses
	Truncated    float64       // fraction whose 200 body is cut in half
	Malformed    float64       // fraction whose 200 body is not JSON
	TimeoutAfter time.Duration // default 30s
}

func (f Faults) validate() error {
	total := 0.0
	for _, v := range []struct {
		name string
		val  float64
	}{
		{"RateLimited", f.RateLimited}, {"ServerError", f.ServerError}, {"Timeout", f.Timeout},
		{"Truncated", f.Truncated}, {"Malformed", f.Malformed},
	} {
		if v.val < 0 || v.val > 1 {
			return fmt.Errorf("faults: %s must be within [0,1], got %v", v.name, v.val)
		}
		total += v.val
	}
	if total > 1 {
		return fmt.Errorf("faults: the fractions add up to %v, more than 1", total)
	}
	if f.TimeoutAfter < 0 {
		return errors.New("faults: TimeoutAfter must not be negative")
	}
	return nil
}

// FaultKind names an injected failure; it is recorded in RequestRecord.Fault.
type FaultKind string

// Fault kinds usable with InjectFaults.
const (
	FaultRateLimited FaultKind = "rate_limited" // 429 + Retry-After: 1 (+ RateLimit-* headers)
	FaultServerError FaultKind = "server_error" // 503
	FaultTimeout     FaultKind = "timeout"
	FaultTruncated   FaultKind = "truncated"
	FaultMalformed   FaultKind = "malformed"
)

func (k FaultKind) valid() bool {
	switch k {
	case FaultRateLimited, FaultServerError, FaultTimeout, FaultTruncated, FaultMalformed:
		return true
	}
	return false
}

// Config configures a Simulator. The zero value is usable: every field has a
// default matching the real Livestorm API.
type Config struct {
	Seed          int64 // default 1
	Size          Size  // default SizeSmall
	Organizations int   // default 2
	// Rate limits per organization.
	IntervalLimit   int           // requests per second, default 5 (0 => default; negative => unlimited)
	MonthlyQuota    int           // default 10000 (0 => default; negative => unlimited)
	QuotaWindow     time.Duration // default 30*24h, rolling from first request
	DefaultPageSize int           // 20
	MaxPageSize     int           // 50 (larger page[size] is clamped to this)
	Latency         time.Duration // added to every response
	LatencyJitter   time.Duration
	Faults          Faults
	Clock           Clock // nil => real clock
	// WebhookSecret signs deliveries: x-livestorm-signature "<ts>,<hex(sha256(ts + secret + body))>". Default "livestorm-sim-secret". Same for every org.
	WebhookSecret string
	// WebhookRetrySchedule: delays between attempts; default {30s, 1m, 2m30s, 6m, 12m} (5 retries, then the webhook is disabled = removed).
	WebhookRetrySchedule []time.Duration
	// WebhookTimeScale multiplies every retry delay (0.001 makes 30s => 30ms). Default 1.
	WebhookTimeScale     float64
	WebhookHTTPClient    *http.Client  // default: 5s timeout
	RequireHTTPSWebhooks bool          // real Livestorm requires https URLs; default false so loopback http works
	JobTaskInterval      time.Duration // time to process one bulk task, default 50ms (real clock time, not sim clock)
	Logger               *slog.Logger  // nil => discard
}

// Defaults documented on Config.
const (
	defaultSeed            = 1
	defaultOrganizations   = 2
	defaultIntervalLimit   = 5
	defaultMonthlyQuota    = 10000
	defaultQuotaWindow     = 30 * 24 * time.Hour
	defaultPageSize        = 20
	defaultMaxPageSize     = 50
	defaultTimeoutAfter    = 30 * time.Second
	defaultWebhookSecret   = "livestorm-sim-secret"
	defaultWebhookTimeout  = 5 * time.Second
	defaultJobTaskInterval = 50 * time.Millisecond
	maxOrganizations       = 50
)

// defaultRetrySchedule is Livestorm's documented webhook back-off (§9.5).
func defaultRetrySchedule() []time.Duration {
	return []time.Duration{30 * time.Second, time.Minute, 150 * time.Second, 6 * time.Minute, 12 * time.Minute}
}

// withDefaults fills zero fields and validates the result.
func (c Config) withDefaults() (Config, error) {
	if c.Seed == 0 {
		c.Seed = defaultSeed
	}
	if c.Size == (Size{}) {
		c.Size = SizeSmall
	}
	if c.Size.Events < 0 || c.Size.SessionsPerEvent < 0 || c.Size.PeoplePerSession < 0 ||
		c.Size.Events > maxSizeDimension || c.Size.SessionsPerEvent > maxSizeDimension || c.Size.PeoplePerSession > maxSizeDimension {
		return c, fmt.Errorf("size: every dimension must be between 0 and %d", maxSizeDimension)
	}
	if c.Organizations == 0 {
		c.Organizations = defaultOrganizations
	}
	if c.Organizations < 0 || c.Organizations > maxOrganizations {
		return c, fmt.Errorf("organizations: must be between 1 and %d", maxOrganizations)
	}
	if c.IntervalLimit == 0 {
		c.IntervalLimit = defaultIntervalLimit
	}
	if c.MonthlyQuota == 0 {
		c.MonthlyQuota = defaultMonthlyQuota
	}
	if c.QuotaWindow == 0 {
		c.QuotaWindow = defaultQuotaWindow
	}
	if c.QuotaWindow < 0 {
		return c, errors.New("quota window must be positive")
	}
	if c.DefaultPageSize == 0 {
		c.DefaultPageSize = defaultPageSize
	}
	if c.MaxPageSize == 0 {
		c.MaxPageSize = defaultMaxPageSize
	}
	if c.DefaultPageSize < 1 || c.MaxPageSize < 1 || c.DefaultPageSize > c.MaxPageSize {
		return c, errors.New("page sizes: need 1 <= DefaultPageSize <= MaxPageSize")
	}
	if c.Latency < 0 || c.LatencyJitter < 0 {
		return c, errors.New("latency and jitter must not be negative")
	}
	if err := c.Faults.validate(); err != nil {
		return c, err
	}
	if c.Faults.TimeoutAfter == 0 {
		c.Faults.TimeoutAfter = defaultTimeoutAfter
	}
	if c.Clock == nil {
		c.Clock = realClock{}
	}
	if c.WebhookSecret == "" {
		c.WebhookSecret = defaultWebhookSecret
	}
	if c.WebhookRetrySchedule == nil {
		c.WebhookRetrySchedule = defaultRetrySchedule()
	}
	for _, d := range c.WebhookRetrySchedule {
		if d < 0 {
			return c, errors.New("webhook retry schedule: delays must not be negative")
		}
	}
	if c.WebhookTimeScale == 0 {
		c.WebhookTimeScale = 1
	}
	if c.WebhookTimeScale < 0 {
		return c, errors.New("webhook time scale must be positive")
	}
	if c.WebhookHTTPClient == nil {
		c.WebhookHTTPClient = &http.Client{Timeout: defaultWebhookTimeout, Transport: http.DefaultTransport.(*http.Transport).Clone()}
	}
	if c.JobTaskInterval == 0 {
		c.JobTaskInterval = defaultJobTaskInterval
	}
	if c.JobTaskInterval < 0 {
		return c, errors.New("job task interval must not be negative")
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c, nil
}
