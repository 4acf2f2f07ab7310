package livestorm_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/livestorm-gateway/gateway/livestorm"
)

type delivery struct {
	header http.Header
	body   []byte
}

// TestWebhookDeliveryFromSimulator subscribes an httptest receiver, registers
// a person through the client, and verifies and parses the signed delivery.
func TestWebhookDeliveryFromSimulator(t *testing.T) {
	t.Parallel()
	e := newEnv(t, fastConfig())
	ctx := ctxT(t)
	got := make(chan delivery, 16)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- delivery{header: r.Header.Clone(), body: b}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer recv.Close()
	wh, err := e.client.CreateWebhook(ctx, recv.URL+"/hook", livestorm.PeopleRegistered)
	require.NoError(t, err)
	sid := e.upcomingSession(t).ID
	p, err := e.client.RegisterPerson(ctx, sid, livestorm.Registration{Fields: []livestorm.FieldValue{
		{ID: "email", Value: strp("hooked@example.com")}, {ID: "first_name", Value: strp("Hook")}}})
	require.NoError(t, err)

	var d delivery
	select {
	case d = <-got:
	case <-time.After(10 * time.Second):
		t.Fatal("no webhook delivery within 10s")
	}
	sig := d.header.Get(livestorm.SignatureHeader)
	require.NotEmpty(t, sig)
	require.NoError(t, livestorm.VerifyWebhook(e.org.WebhookSecret, sig, d.body, time.Now(), time.Minute))
	assert.ErrorIs(t, livestorm.VerifyWebhook("wrong", sig, d.body, time.Now(), time.Minute), livestorm.ErrSignatureMismatch)
	assert.ErrorIs(t, livestorm.VerifyWebhook(e.org.WebhookSecret, sig, append(d.body, '\n'), time.Now(), time.Minute), livestorm.ErrSignatureMismatch)

	ev, err := livestorm.ParseWebhook(d.body)
	require.NoError(t, err)
	assert.Equal(t, livestorm.PeopleRegistered, ev.Name)
	assert.Equal(t, e.org.ID, ev.OrganizationID)
	assert.Equal(t, "people", ev.ResourceType)
	assert.Equal(t, p.ID, ev.ResourceID)
	require.NotNil(t, ev.Person)
	assert.Equal(t, "hooked@example.com", ev.Person.Email)
	require.NotNil(t, ev.Person.RegistrantDetail)
	assert.Equal(t, sid, ev.Person.RegistrantDetail.SessionID)
	require.NoError(t, e.client.DeleteWebhook(ctx, wh.ID))
}
