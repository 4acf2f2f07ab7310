package tenant_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/livestorm-gateway/gateway/livestorm"
	"github.com/livestorm-gateway/gateway/livestormsim"
	"github.com/livestorm-gateway/gateway/tenant"
)

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func setup(t *testing.T) (*livestormsim.Simulator, *tenant.Resolver, *clock) {
	t.Helper()
	sim, err := livestormsim.New(livestormsim.Config{Seed: 3, Size: livestormsim.SizeTiny, IntervalLimit: -1})
	require.NoError(t, err)
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(func() { srv.Close(); sim.Close() })
	client := livestorm.New(livestorm.WithBaseURL(srv.URL+"/v1"),
		livestorm.WithRetryPolicy(livestorm.RetryPolicy{MaxAttempts: 1}))
	t.Cleanup(client.CloseIdleConnections)
	c := &clock{now: time.Unix(1_800_000_000, 0)}
	return sim, tenant.NewResolver(client, tenant.Options{TTL: time.Minute, Grace: time.Hour, Now: c.Now}), c
}

func TestResolve(t *testing.T) {
	sim, r, clk := setup(t)
	org := sim.Organizations()[0]
	ctx := context.Background()

	t.Run("an API token is verified once per TTL", func(t *testing.T) {
		sim.ResetRequests()
		for range 3 {
			tn, err := r.Resolve(ctx, livestorm.APIToken(org.Token))
			require.NoError(t, err)
			assert.Equal(t, tenant.ScopeForOrg(org.ID), tn.Scope)
			assert.Equal(t, org.ID, tn.OrgID)
		}
		assert.Equal(t, 1, sim.RequestCount())
		clk.Advance(2 * time.Minute)
		_, err := r.Resolve(ctx, livestorm.APIToken(org.Token))
		require.NoError(t, err)
		assert.Equal(t, 2, sim.RequestCount(), "re-verified after the TTL")
	})

	t.Run("an outage does not lock a known credential out", func(t *testing.T) {
		clk.Advance(2 * time.Minute)
		sim.InjectFaults(livestormsim.FaultServerError, 1)
		tn, err := r.Resolve(ctx, livestorm.APIToken(org.Token))
		require.NoError(t, err, "within the grace period the last verification stands")
		assert.Equal(t, org.ID, tn.OrgID)
	})

	t.Run("an unknown credential is not trusted during an outage", func(t *testing.T) {
		other := sim.Organizations()[1]
		sim.InjectFaults(livestormsim.FaultServerError, 1)
		_, err := r.Resolve(ctx, livestorm.APIToken(other.Token))
		assert.Equal(t, livestorm.KindUnavailable, livestorm.KindOf(err))
	})

	t.Run("an OAuth token gets its workspace from /organization", func(t *testing.T) {
		tn, err := r.Resolve(ctx, livestorm.OAuthToken(org.OAuthToken))
		require.NoError(t, err)
		assert.Equal(t, tenant.ScopeForOrg(org.ID), tn.Scope)
	})

	t.Run("an OAuth token without identity scope is scoped to itself", func(t *testing.T) {
		tok, err := sim.IssueOAuthToken(org.ID, livestormsim.Scopes{Events: livestormsim.AccessRead})
		require.NoError(t, err)
		cred := livestorm.OAuthToken(tok)
		tn, err := r.Resolve(ctx, cred)
		require.NoError(t, err)
		assert.Equal(t, "cred:"+cred.Fingerprint(), tn.Scope)
		assert.Empty(t, tn.OrgID)
	})

	t.Run("rejected and missing credentials", func(t *testing.T) {
		_, err := r.Resolve(ctx, livestorm.APIToken("garbage"))
		assert.Equal(t, livestorm.KindUnauthorized, livestorm.KindOf(err))
		_, err = r.Resolve(ctx, livestorm.Credential{})
		assert.ErrorIs(t, err, tenant.ErrNoCredential)
	})
}

func TestRejectedCredentialsAreRemembered(t *testing.T) {
	sim, r, clk := setup(t)
	ctx := context.Background()
	bad := livestorm.APIToken("made-up")
	sim.ResetRequests()
	for range 5 {
		_, err := r.Resolve(ctx, bad)
		assert.Equal(t, livestorm.KindUnauthorized, livestorm.KindOf(err))
	}
	assert.Equal(t, 1, sim.RequestCount(), "Livestorm is asked once")
	clk.Advance(6 * time.Minute)
	_, err := r.Resolve(ctx, bad)
	assert.Equal(t, livestorm.KindUnauthorized, livestorm.KindOf(err))
	assert.Equal(t, 2, sim.RequestCount(), "and again after 5 minutes")
	_, known := r.Verified(bad)
	assert.False(t, known)
}

func TestBeforeVerify(t *testing.T) {
	sim, err := livestormsim.New(livestormsim.Config{Seed: 3, Size: livestormsim.SizeTiny, IntervalLimit: -1})
	require.NoError(t, err)
	srv := httptest.NewServer(sim.Handler())
	defer func() { srv.Close(); sim.Close() }()
	client := livestorm.New(livestorm.WithBaseURL(srv.URL + "/v1"))
	defer client.CloseIdleConnections()
	limited := errors.New("too many new credentials")
	asked := 0
	r := tenant.NewResolver(client, tenant.Options{BeforeVerify: func(context.Context) error {
		asked++
		if asked > 1 {
			return limited
		}
		return nil
	}})
	org := sim.Organizations()[0]
	_, err = r.Resolve(context.Background(), livestorm.APIToken(org.Token))
	require.NoError(t, err)
	_, err = r.Resolve(context.Background(), livestorm.APIToken(org.Token))
	require.NoError(t, err, "a verified credential is not verified again: no check")
	_, err = r.Resolve(context.Background(), livestorm.APIToken(sim.Organizations()[1].Token))
	require.ErrorIs(t, err, limited)
	assert.Equal(t, 1, sim.RequestCount(), "the refused verification never reached Livestorm")
	tn, ok := r.Verified(livestorm.APIToken(org.Token))
	assert.True(t, ok)
	assert.Equal(t, org.ID, tn.OrgID)
}
