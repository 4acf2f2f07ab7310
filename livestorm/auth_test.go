package livestorm_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/livestorm-gateway/gateway/livestorm"
	"github.com/livestorm-gateway/gateway/livestormsim"
)

func TestAuthentication(t *testing.T) {
	t.Parallel()
	e := newEnv(t, fastConfig())
	ctx := ctxT(t)
	anon := e.newClient() // no default credential

	t.Run("raw API token", func(t *testing.T) {
		require.NoError(t, anon.Ping(livestorm.ContextWithCredential(ctx, livestorm.APIToken(e.org.Token))))
		assert.Equal(t, e.org.Token, e.lastHeader().Get("Authorization"), "API tokens are sent raw")
	})
	t.Run("OAuth bearer", func(t *testing.T) {
		require.NoError(t, anon.Ping(livestorm.ContextWithCredential(ctx, livestorm.OAuthToken(e.org.OAuthToken))))
		assert.Equal(t, "Bearer "+e.org.OAuthToken, e.lastHeader().Get("Authorization"))
	})
	t.Run("forwarded Authorization header", func(t *testing.T) {
		cred, err := livestorm.ParseAuthorization("Bearer " + e.org.OAuthToken)
		require.NoError(t, err)
		_, err = anon.Organization(livestorm.ContextWithCredential(ctx, cred))
		require.NoError(t, err)
	})
	t.Run("forged token", func(t *testing.T) {
		err := anon.Ping(livestorm.ContextWithCredential(ctx, livestorm.APIToken(e.org.Token[:len(e.org.Token)-2]+"xx")))
		assert.ErrorIs(t, err, livestorm.ErrUnauthorized)
	})
	t.Run("API token sent as bearer is refused", func(t *testing.T) {
		err := anon.Ping(livestorm.ContextWithCredential(ctx, livestorm.OAuthToken(e.org.Token)))
		assert.ErrorIs(t, err, livestorm.ErrUnauthorized)
	})
	t.Run("no credential makes no request", func(t *testing.T) {
		before := e.sim.RequestCount()
		err := anon.Ping(ctx)
		assert.ErrorIs(t, err, livestorm.ErrNoCredential)
		assert.ErrorIs(t, err, livestorm.ErrUnauthorized)
		assert.Equal(t, livestorm.KindUnauthorized, livestorm.KindOf(err))
		assert.Equal(t, before, e.sim.RequestCount())
	})
	t.Run("context credential overrides the default", func(t *testing.T) {
		other := e.orgs[1]
		o, err := e.client.Organization(livestorm.ContextWithCredential(ctx, livestorm.APIToken(other.Token)))
		require.NoError(t, err)
		assert.Equal(t, other.ID, o.ID)
		o, err = e.client.Organization(ctx)
		require.NoError(t, err)
		assert.Equal(t, e.org.ID, o.ID)
	})
	t.Run("unverified org claim matches the workspace", func(t *testing.T) {
		org, ok := livestorm.APIToken(e.org.Token).UnverifiedOrg()
		require.True(t, ok)
		assert.Equal(t, e.org.ID, org)
	})
}

func TestScopes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, fastConfig())
	ctx := ctxT(t)
	tok, err := e.sim.IssueAPIToken(e.org.ID, livestormsim.Scopes{Identity: livestormsim.AccessRead, Events: livestormsim.AccessNone, Admin: livestormsim.AccessRead, Webhooks: livestormsim.AccessWrite})
	require.NoError(t, err)
	c := e.newClient(livestorm.WithCredential(livestorm.APIToken(tok)))
	tests := []struct {
		name string
		call func() error
		want livestorm.Kind
	}{
		{"identity read allows /organization", func() error { _, err := c.Organization(ctx); return err }, livestorm.KindUnknown},
		{"events none forbids /events", func() error { _, err := c.ListEvents(ctx, livestorm.EventListOptions{}); return err }, livestorm.KindForbidden},
		{"events none forbids /sessions", func() error { _, err := c.ListSessions(ctx, livestorm.SessionListOptions{}); return err }, livestorm.KindForbidden},
		{"admin read allows /users", func() error { _, err := c.ListUsers(ctx, livestorm.UserListOptions{}); return err }, livestorm.KindUnknown},
		{"admin read forbids inviting", func() error { _, err := c.InviteUser(ctx, "x@example.com", "host"); return err }, livestorm.KindForbidden},
		{"webhooks write allows creating", func() error {
			_, err := c.CreateWebhook(ctx, "http://127.0.0.1:1/h", livestorm.PeopleRegistered)
			return err
		}, livestorm.KindUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if tt.want == livestorm.KindUnknown {
				assert.NoError(t, err)
				return
			}
			assert.Equal(t, tt.want, livestorm.KindOf(err), "%v", err)
		})
	}
}
