// Command livestorm-sim runs the Livestorm API simulator on its own, so the
// gateway (or any Livestorm client) can be developed and demoed without access
// to the real API. It prints the base URL and every organization's tokens,
// then serves until SIGINT or SIGTERM.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/livestorm-gateway/gateway/livestormsim"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	case errors.As(err, new(*usageError)):
		fmt.Fprintln(os.Stderr, "livestorm-sim:", err)
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "livestorm-sim:", err)
		os.Exit(1)
	}
}

// usageError is an invalid command line; main exits with status 2 for it.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{msg: fmt.Sprintf(format, args...)} }

// options are the parsed command-line flags.
type options struct {
	addr, size, webhookSecret, tokensOut                         string
	seed                                                         int64
	orgs, intervalLimit, monthlyQuota                            int
	latency, jitter, registrationEvery, sessionCycle             time.Duration
	fault429, fault5xx, faultTimeout, faultTrunc, faultMalformed float64
	clockSpeed, webhookTimeScale                                 float64
	activity                                                     bool
}

func parseFlags(args []string, stderr io.Writer) (options, livestormsim.Config, error) {
	var o options
	fs := flag.NewFlagSet("livestorm-sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.addr, "addr", "127.0.0.1:9000", "listen address")
	fs.Int64Var(&o.seed, "seed", 1, "seed of the deterministic data (same seed => same ids)")
	fs.StringVar(&o.size, "size", "demo", "data size: tiny, small, demo, large or EVENTSxSESSIONSxPEOPLE (e.g. 10x3x50)")
	fs.IntVar(&o.orgs, "orgs", 2, "number of organizations (1-50)")
	fs.IntVar(&o.intervalLimit, "interval-limit", 5, "requests per second per organization (negative = unlimited)")
	fs.IntVar(&o.monthlyQuota, "monthly-quota", 10000, "requests per 30-day window per organization (negative = unlimited)")
	fs.DurationVar(&o.latency, "latency", 0, "latency added to every response")
	fs.DurationVar(&o.jitter, "latency-jitter", 0, "random +/- jitter on the latency")
	fs.Float64Var(&o.fault429, "fault-429", 0, "fraction of requests answered 429")
	fs.Float64Var(&o.fault5xx, "fault-5xx", 0, "fraction of requests answered 500/502/503")
	fs.Float64Var(&o.faultTimeout, "fault-timeout", 0, "fraction of requests that hang")
	fs.Float64Var(&o.faultTrunc, "fault-truncated", 0, "fraction of successful bodies cut in half")
	fs.Float64Var(&o.faultMalformed, "fault-malformed", 0, "fraction of successful bodies replaced by non-JSON")
	fs.Float64Var(&o.clockSpeed, "clock-speed", 1, "simulated time speed: 1 = real time, 60 = a minute per second")
	fs.StringVar(&o.webhookSecret, "webhook-secret", "livestorm-sim-secret", "secret used to sign webhook deliveries")
	fs.Float64Var(&o.webhookTimeScale, "webhook-time-scale", 1, "multiplier of the webhook retry delays (0.01 = 100x faster)")
	fs.BoolVar(&o.activity, "activity", false, "simulate live activity (registrations, sessions starting and ending)")
	fs.DurationVar(&o.registrationEvery, "activity-registration-every", 4*time.Second, "interval between simulated registrations")
	fs.DurationVar(&o.sessionCycle, "activity-session-cycle", 30*time.Second, "length of one demo session cycle")
	fs.StringVar(&o.tokensOut, "tokens-out", "", "write the organizations' tokens as JSON to this file")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return o, livestormsim.Config{}, err
		}
		return o, livestormsim.Config{}, &usageError{msg: err.Error()}
	}
	if fs.NArg() > 0 {
		return o, livestormsim.Config{}, usagef("unexpected argument %q", fs.Arg(0))
	}
	cfg, err := o.config()
	return o, cfg, err
}

// config validates the options and turns them into a simulator Config.
func (o options) config() (livestormsim.Config, error) {
	size, err := livestormsim.ParseSize(o.size)
	if err != nil {
		return livestormsim.Config{}, usagef("invalid -size: %v", err)
	}
	if err := o.validate(); err != nil {
		return livestormsim.Config{}, err
	}
	cfg := livestormsim.Config{
		Seed: o.seed, Size: size, Organizations: o.orgs, IntervalLimit: o.intervalLimit, MonthlyQuota: o.monthlyQuota,
		Latency: o.latency, LatencyJitter: o.jitter, WebhookSecret: o.webhookSecret, WebhookTimeScale: o.webhookTimeScale,
		Faults: livestormsim.Faults{RateLimited: o.fault429, ServerError: o.fault5xx, Timeout: o.faultTimeout,
			Truncated: o.faultTrunc, Malformed: o.faultMalformed},
	}
	if o.clockSpeed != 1 {
		cfg.Clock = livestormsim.NewScaledClock(time.Now(), o.clockSpeed)
	}
	return cfg, nil
}

// validate checks the flags -size aside (config parses it); every error is a
// usage error that names the offending flag.
func (o options) validate() error {
	switch {
	case o.orgs < 1 || o.orgs > 50:
		return usagef("invalid -orgs %d: must be between 1 and 50", o.orgs)
	case o.intervalLimit == 0:
		return usagef("invalid -interval-limit 0: use a positive limit or a negative value for unlimited")
	case o.monthlyQuota == 0:
		return usagef("invalid -monthly-quota 0: use a positive quota or a negative value for unlimited")
	case o.latency < 0:
		return usagef("invalid -latency %v: must not be negative", o.latency)
	case o.jitter < 0:
		return usagef("invalid -latency-jitter %v: must not be negative", o.jitter)
	case o.clockSpeed <= 0:
		return usagef("invalid -clock-speed %v: must be positive", o.clockSpeed)
	case o.webhookTimeScale <= 0:
		return usagef("invalid -webhook-time-scale %v: must be positive", o.webhookTimeScale)
	case o.webhookSecret == "":
		return usagef("invalid -webhook-secret: must not be empty")
	case o.registrationEvery <= 0:
		return usagef("invalid -activity-registration-every %v: must be positive", o.registrationEvery)
	case o.sessionCycle <= 0:
		return usagef("invalid -activity-session-cycle %v: must be positive", o.sessionCycle)
	}
	total := 0.0
	for _, f := range []struct {
		name string
		v    float64
	}{{"fault-429", o.fault429}, {"fault-5xx", o.fault5xx}, {"fault-timeout", o.faultTimeout},
		{"fault-truncated", o.faultTrunc}, {"fault-malformed", o.faultMalformed}} {
		if f.v < 0 || f.v > 1 {
			return usagef("invalid -%s %v: must be a fraction between 0 and 1", f.name, f.v)
		}
		total += f.v
	}
	if total > 1 {
		return usagef("invalid -fault-* flags: the fractions add up to %v, more than 1", total)
	}
	if o.seed == 0 {
		return usagef("invalid -seed 0: use a non-zero seed")
	}
	return nil
}

// tokenEntry is one element of the -tokens-out file.
type tokenEntry struct {
	OrganizationID string `json:"organization_id"`
	Name           string `json:"name"`
	Token          string `json:"token"`
}

// run starts the simulator described by args and serves until ctx is done.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, cfg, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	cfg.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	sim, err := livestormsim.New(cfg)
	if err != nil {
		return err
	}
	defer sim.Close()
	base, err := sim.Start(o.addr)
	if err != nil {
		return err
	}
	if o.activity {
		sim.StartActivity(livestormsim.Activity{RegistrationEvery: o.registrationEvery, SessionCycle: o.sessionCycle})
	}
	orgs := sim.Organizations()
	fmt.Fprintf(stdout, "Livestorm simulator listening on %s\n", base)
	fmt.Fprintf(stdout, "  seed %d, size %s (%d events x %d sessions x %d people per organization), clock speed %vx, activity %v\n",
		cfg.Seed, o.size, cfg.Size.Events, cfg.Size.SessionsPerEvent, cfg.Size.PeoplePerSession, o.clockSpeed, o.activity)
	fmt.Fprintf(stdout, "  webhook secret: %s\n", cfg.WebhookSecret)
	for _, org := range orgs {
		fmt.Fprintf(stdout, "\n%s (organization %s)\n", org.Name, org.ID)
		fmt.Fprintf(stdout, "  API token (Authorization: <token>):     %s\n", org.Token)
		fmt.Fprintf(stdout, "  read-only API token:                    %s\n", org.ReadOnlyToken)
		fmt.Fprintf(stdout, "  OAuth token (Authorization: Bearer <token>): %s\n", org.OAuthToken)
	}
	if o.tokensOut != "" {
		if err := writeTokens(o.tokensOut, orgs); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "\nTokens written to %s\n", o.tokensOut)
	}
	<-ctx.Done()
	fmt.Fprintln(stdout, "shutting down")
	return nil
}

// writeTokens writes the -tokens-out file atomically.
func writeTokens(path string, orgs []livestormsim.Organization) error {
	entries := make([]tokenEntry, 0, len(orgs))
	for _, org := range orgs {
		entries = append(entries, tokenEntry{OrganizationID: org.ID, Name: org.Name, Token: org.Token})
	}
	data, err := json.MarshalIndent(entries, "", "  ")
	if err != nil {
		return err
	}
	// Written beside the target then renamed, so a script waiting for the file to appear
	// never reads it half-written.
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(data, '\n'), 0o600); err != nil {
		return fmt.Errorf("write -tokens-out file: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("write -tokens-out file: %w", err)
	}
	return nil
}
