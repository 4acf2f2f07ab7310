package livestorm

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		value string
		want  time.Duration
		ok    bool
	}{
		{"seconds", "3", 3 * time.Second, true},
		{"fractional", "0.5", 500 * time.Millisecond, true},
		{"http date", now.Add(7 * time.Second).Format(http.TimeFormat), 7 * time.Second, true},
		{"past date", now.Add(-time.Minute).Format(http.TimeFormat), 0, true},
		{"negative", "-4", 0, true},
		{"absent", "", 0, false},
		{"garbage", "soon", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.value != "" {
				h.Set("Retry-After", tt.value)
			}
			got, ok := parseRetryAfter(h, now)
			assert.Equal(t, tt.ok, ok)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestBackoffIsBoundedFullJitter(t *testing.T) {
	p := RetryPolicy{BaseDelay: 10 * time.Millisecond, MaxDelay: 40 * time.Millisecond}.withDefaults()
	for retry, ceiling := range map[int]time.Duration{1: 10 * time.Millisecond, 2: 20 * time.Millisecond, 3: 40 * time.Millisecond, 10: 40 * time.Millisecond} {
		for range 200 {
			d := p.backoff(retry)
			assert.GreaterOrEqual(t, d, time.Duration(0))
			assert.LessOrEqual(t, d, ceiling)
		}
	}
}

func TestRetryPolicyDefaults(t *testing.T) {
	assert.Equal(t, DefaultRetryPolicy, RetryPolicy{}.withDefaults())
	assert.Equal(t, 1, RetryPolicy{MaxAttempts: -1}.withDefaults().MaxAttempts)
	assert.True(t, idempotent(http.MethodGet))
	assert.True(t, idempotent(http.MethodHead))
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		assert.False(t, idempotent(m), m)
	}
}

func TestKindForStatus(t *testing.T) {
	tests := map[int]Kind{400: KindInvalid, 401: KindUnauthorized, 402: KindQuotaExhausted, 403: KindForbidden, 404: KindNotFound,
		409: KindConflict, 422: KindInvalid, 429: KindRateLimited, 500: KindUnavailable, 503: KindUnavailable, 302: KindUnknown}
	for status, want := range tests {
		assert.Equal(t, want, kindForStatus(status), status)
	}
}
