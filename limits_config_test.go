package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLimitsConfig(t *testing.T) {
	load := func(vars map[string]string) (LimitsConfig, error) {
		vars["LIVESTORM_API_TOKEN"] = "tok"
		c, err := LoadConfig(env(vars))
		return c.Limits, err
	}
	t.Run("defaults", func(t *testing.T) {
		l, err := load(map[string]string{})
		require.NoError(t, err)
		assert.Equal(t, "public=10,viewer=50,editor=50,admin=50", l.MaxUpstreamCalls.String())
		assert.Equal(t, "public=600,viewer=unlimited,editor=unlimited,admin=unlimited", l.UpstreamBudget.String())
		r, limited := l.RateLimit.of("public")
		assert.True(t, limited)
		assert.Equal(t, rateLimit{PerSecond: 20, Burst: 20}, r)
		_, limited = l.RateLimit.of("viewer")
		assert.False(t, limited)
		assert.InDelta(t, 0.5, l.PublicQuotaShare, 1e-9)
		assert.Equal(t, 30*time.Second, l.Timeout)
		assert.Equal(t, 15*time.Second, l.ShutdownTimeout)
		assert.False(t, l.CostExtension)
		n, limited := l.MaxUpstreamCalls.of("some-future-role")
		assert.Equal(t, 10, n, "a role without limits of its own gets public's")
		assert.True(t, limited)
	})
	t.Run("set", func(t *testing.T) {
		l, err := load(map[string]string{
			"GRAPHQL_MAX_UPSTREAM_CALLS": "public=5, 100",
			"CALLER_UPSTREAM_BUDGET":     "1000,admin=unlimited",
			"CALLER_RATE_LIMIT":          "public=2.5:10,viewer=50",
			"PUBLIC_QUOTA_SHARE":         "25%",
			"GRAPHQL_COST_EXTENSION":     "true",
			"GRAPHQL_TIMEOUT":            "10s",
			"SHUTDOWN_TIMEOUT":           "1m",
			"GRAPHQL_MAX_TOKENS":         "5000",
			"GRAPHQL_MAX_ALIASES":        "0",
		})
		require.NoError(t, err)
		assert.Equal(t, "public=5,viewer=100,editor=100,admin=100", l.MaxUpstreamCalls.String(), "named roles win over the bare value")
		assert.Equal(t, "public=1000,viewer=1000,editor=1000,admin=unlimited", l.UpstreamBudget.String())
		assert.Equal(t, rateLimit{PerSecond: 2.5, Burst: 10}, l.RateLimit["public"])
		assert.Equal(t, rateLimit{PerSecond: 50, Burst: 50}, l.RateLimit["viewer"])
		assert.InDelta(t, 0.25, l.PublicQuotaShare, 1e-9)
		assert.True(t, l.CostExtension)
		assert.Equal(t, 10*time.Second, l.Timeout)
		assert.Equal(t, time.Minute, l.ShutdownTimeout)
		assert.Equal(t, 5000, l.MaxTokens)
		assert.Zero(t, l.MaxAliases, "0 turns a document limit off")
	})
	for _, tc := range []struct{ name, value string }{
		{"GRAPHQL_MAX_UPSTREAM_CALLS", "lots"},
		{"GRAPHQL_MAX_UPSTREAM_CALLS", "guest=5"},
		{"GRAPHQL_MAX_UPSTREAM_CALLS", "-1"},
		{"GRAPHQL_MAX_UPSTREAM_CALLS", "5,6"},
		{"CALLER_UPSTREAM_BUDGET", "public=1.5"},
		{"CALLER_RATE_LIMIT", "public=0"},
		{"CALLER_RATE_LIMIT", "public=5:0"},
		{"PUBLIC_QUOTA_SHARE", "150%"},
		{"GRAPHQL_COST_EXTENSION", "sometimes"},
		{"GRAPHQL_TIMEOUT", "10ms"},
		{"SHUTDOWN_TIMEOUT", "soon"},
		{"GRAPHQL_MAX_TOKENS", "-3"},
	} {
		t.Run("invalid "+tc.name+"="+tc.value, func(t *testing.T) {
			_, err := load(map[string]string{tc.name: tc.value})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.name)
		})
	}
}
