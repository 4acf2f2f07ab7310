package main

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Roles of callers, least privileged first (design.md §8). Per-role limits are keyed by
// these names; a caller with a role not listed here gets public's limits.
var roles = []string{"public", "viewer", "editor", "admin"}

const rolePublic = "public"

// unlimited marks a per-role limit that does not apply.
const unlimited = -1

// roleLimits is one integer limit per role; unlimited (-1) means none.
type roleLimits map[string]int

// of returns role's limit and whether there is one.
func (l roleLimits) of(role string) (int, bool) {
	n, ok := l[role]
	if !ok {
		n, ok = l[rolePublic]
	}
	return n, ok && n >= 0
}

func (l roleLimits) String() string {
	parts := make([]string, 0, len(roles))
	for _, r := range roles {
		if n := l[r]; n >= 0 {
			parts = append(parts, r+"="+strconv.Itoa(n))
		} else {
			parts = append(parts, r+"=unlimited")
		}
	}
	return strings.Join(parts, ",")
}

// rateLimit is a request rate: PerSecond requests per second with bursts of Burst;
// PerSecond < 0 means unlimited.
type rateLimit struct {
	PerSecond float64
	Burst     int
}

// roleRates is one rate per role.
type roleRates map[string]rateLimit

func (l roleRates) of(role string) (rateLimit, bool) {
	r, ok := l[role]
	if !ok {
		r, ok = l[rolePublic]
	}
	return r, ok && r.PerSecond >= 0
}

// LimitsConfig bounds what callers may spend (issue "No caller can burn the quota or
// the CPU"); every field is documented in README "Limits and budgets".
type LimitsConfig struct {
	// MaxUpstreamCalls is the most upstream calls one operation may be estimated to make
	// (GRAPHQL_MAX_UPSTREAM_CALLS).
	MaxUpstreamCalls roleLimits
	// UpstreamBudget is the upstream calls a caller may spend per hour
	// (CALLER_UPSTREAM_BUDGET).
	UpstreamBudget roleLimits
	// RateLimit is the requests per second of a caller (CALLER_RATE_LIMIT).
	RateLimit roleRates
	// PublicQuotaShare is the share of the workspace's monthly quota public callers may
	// use (PUBLIC_QUOTA_SHARE): once less than the rest remains, they are served from
	// the cache only.
	PublicQuotaShare float64
	// CostExtension adds extensions.cost to every response (GRAPHQL_COST_EXTENSION;
	// always on in demo mode).
	CostExtension bool
	// Timeout is the deadline of each query and mutation (GRAPHQL_TIMEOUT; 0: none).
	Timeout time.Duration
	// ShutdownTimeout is how long in-flight operations may finish on shutdown before they
	// are answered with what they have (SHUTDOWN_TIMEOUT).
	ShutdownTimeout time.Duration
	// Document limits, checked before parsing and validation do their work.
	MaxTokens          int // GRAPHQL_MAX_TOKENS
	MaxAliases         int // GRAPHQL_MAX_ALIASES
	MaxFields          int // GRAPHQL_MAX_FIELDS
	MaxSelectionFields int // GRAPHQL_MAX_SELECTION_FIELDS
	MaxDirectives      int // GRAPHQL_MAX_DIRECTIVES
	// Verifications bounds, per client IP, how many new credentials forwarded mode
	// shows Livestorm (each costs a /ping): 10 a minute.
	Verifications rateLimit
}

// defaultLimits are the documented defaults.
func defaultLimits() LimitsConfig {
	return LimitsConfig{
		MaxUpstreamCalls: roleLimits{"public": 10, "viewer": 50, "editor": 50, "admin": 50},
		UpstreamBudget:   roleLimits{"public": 600, "viewer": unlimited, "editor": unlimited, "admin": unlimited},
		RateLimit: roleRates{
			"public": {PerSecond: 20, Burst: 20},
			"viewer": {PerSecond: unlimited}, "editor": {PerSecond: unlimited}, "admin": {PerSecond: unlimited},
		},
		PublicQuotaShare:   0.5,
		Timeout:            30 * time.Second,
		ShutdownTimeout:    15 * time.Second,
		MaxTokens:          2_000,
		MaxAliases:         100,
		MaxFields:          2_000,
		MaxSelectionFields: 200,
		MaxDirectives:      50,
		Verifications:      rateLimit{PerSecond: 10.0 / 60, Burst: 10},
	}
}

// noLimits switches off every per-caller limit (tests that measure something else, and
// the "before" of the abuse benchmarks, build on it).
func noLimits() LimitsConfig {
	l := defaultLimits()
	for _, r := range roles {
		l.MaxUpstreamCalls[r] = unlimited
		l.UpstreamBudget[r] = unlimited
		l.RateLimit[r] = rateLimit{PerSecond: unlimited}
	}
	l.PublicQuotaShare = 1
	l.Verifications = rateLimit{PerSecond: unlimited}
	return l
}

// loadLimits reads the limits' variables into l; fail records an error naming the
// variable.
func loadLimits(getenv func(string) string, l *LimitsConfig, fail func(name, format string, args ...any)) {
	roleVar := func(name string, dst roleLimits) {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			if err := parseRoleLimits(v, dst); err != nil {
				fail(name, "%v (e.g. %q or %q)", err, "50", "50,public=10,admin=unlimited")
			}
		}
	}
	roleVar("GRAPHQL_MAX_UPSTREAM_CALLS", l.MaxUpstreamCalls)
	roleVar("CALLER_UPSTREAM_BUDGET", l.UpstreamBudget)
	if v := strings.TrimSpace(getenv("CALLER_RATE_LIMIT")); v != "" {
		if err := parseRoleRates(v, l.RateLimit); err != nil {
			fail("CALLER_RATE_LIMIT", "%v (e.g. %q or %q)", err, "public=20", "public=5:20,viewer=100")
		}
	}
	if v := strings.TrimSpace(getenv("PUBLIC_QUOTA_SHARE")); v != "" {
		p, err := strconv.ParseFloat(strings.TrimSuffix(v, "%"), 64)
		if err != nil || p < 0 || p > 100 {
			fail("PUBLIC_QUOTA_SHARE", "must be a percentage between 0 and 100 such as 50%%, got %q", v)
		} else {
			l.PublicQuotaShare = p / 100
		}
	}
	if v := strings.TrimSpace(getenv("GRAPHQL_COST_EXTENSION")); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			fail("GRAPHQL_COST_EXTENSION", "must be true or false, got %q", v)
		}
		l.CostExtension = b
	}
	durVar := func(name string, dst *time.Duration, lo time.Duration) {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil || d < lo {
				fail(name, "must be a duration of at least %s such as 30s, got %q", lo, v)
				return
			}
			*dst = d
		}
	}
	durVar("GRAPHQL_TIMEOUT", &l.Timeout, time.Second)
	durVar("SHUTDOWN_TIMEOUT", &l.ShutdownTimeout, 0)
	intVar := func(name string, dst *int) {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || n > 1_000_000 {
				fail(name, "must be an integer between 0 (no limit) and 1000000, got %q", v)
				return
			}
			*dst = n
		}
	}
	intVar("GRAPHQL_MAX_TOKENS", &l.MaxTokens)
	intVar("GRAPHQL_MAX_ALIASES", &l.MaxAliases)
	intVar("GRAPHQL_MAX_FIELDS", &l.MaxFields)
	intVar("GRAPHQL_MAX_SELECTION_FIELDS", &l.MaxSelectionFields)
	intVar("GRAPHQL_MAX_DIRECTIVES", &l.MaxDirectives)
}

// parseRoleLimits reads "VALUE" (every role), "role=VALUE,…" or both ("50,public=10"):
// named roles override the bare value whatever the order. VALUE is a non-negative
// integer or "unlimited".
func parseRoleLimits(v string, dst roleLimits) error {
	return parseRoleEntries(v, func(role, value string) error {
		n, err := parseLimitValue(value)
		if err != nil {
			return err
		}
		for _, r := range rolesOf(role) {
			dst[r] = n
		}
		return nil
	})
}

func parseLimitValue(v string) (int, error) {
	if strings.EqualFold(v, "unlimited") {
		return unlimited, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is neither a non-negative integer nor unlimited", v)
	}
	return n, nil
}

// parseRoleRates reads rates like parseRoleLimits; VALUE is RATE[:BURST] (requests per
// second, burst defaulting to the rate rounded up) or "unlimited".
func parseRoleRates(v string, dst roleRates) error {
	return parseRoleEntries(v, func(role, value string) error {
		r := rateLimit{PerSecond: unlimited}
		if !strings.EqualFold(value, "unlimited") {
			rateStr, burstStr, hasBurst := strings.Cut(value, ":")
			perSecond, err := strconv.ParseFloat(rateStr, 64)
			if err != nil || perSecond <= 0 || math.IsInf(perSecond, 0) || math.IsNaN(perSecond) {
				return fmt.Errorf("%q: the rate must be a positive number of requests per second", value)
			}
			r = rateLimit{PerSecond: perSecond, Burst: int(math.Ceil(perSecond))}
			if hasBurst {
				b, err := strconv.Atoi(burstStr)
				if err != nil || b < 1 {
					return fmt.Errorf("%q: the burst must be a positive integer", value)
				}
				r.Burst = b
			}
		}
		for _, role := range rolesOf(role) {
			dst[role] = r
		}
		return nil
	})
}

// parseRoleEntries splits "VALUE,role=VALUE,…" and calls set for the bare value first
// (role ""), then for each named role.
func parseRoleEntries(v string, set func(role, value string) error) error {
	var named [][2]string
	bare := ""
	for _, entry := range strings.Split(v, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		role, value, ok := strings.Cut(entry, "=")
		if !ok {
			if bare != "" {
				return fmt.Errorf("more than one value for every role")
			}
			bare = entry
			continue
		}
		role, value = strings.ToLower(strings.TrimSpace(role)), strings.TrimSpace(value)
		if !slices.Contains(roles, role) {
			return fmt.Errorf("unknown role %q (roles: %s)", role, strings.Join(roles, ", "))
		}
		named = append(named, [2]string{role, value})
	}
	if bare != "" {
		if err := set("", bare); err != nil {
			return err
		}
	}
	for _, e := range named {
		if err := set(e[0], e[1]); err != nil {
			return err
		}
	}
	return nil
}

// rolesOf is the roles an entry applies to: one, or all for the bare value.
func rolesOf(role string) []string {
	if role == "" {
		return roles
	}
	return []string{role}
}
