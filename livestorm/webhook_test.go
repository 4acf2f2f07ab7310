package livestorm

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSignWebhookKnownVector(t *testing.T) {
	// hex(sha256("1688725648" + "secret" + `{"a":1}`)), computed with Python's hashlib.
	got := SignWebhook("secret", time.Unix(1688725648, 0), []byte(`{"a":1}`))
	assert.Equal(t, "1688725648,90f7faacef227e0ac106600a539ab724b3677055780715c213a8c61121e923cf", got)
	assert.Equal(t, "1688725648,"+sha256Hex("1688725648secret{\"a\":1}"), got)
}

func TestVerifyWebhook(t *testing.T) {
	const secret = "whsec"
	body := []byte(`{"data":{"id":"p1","type":"people","attributes":{},"meta":{"webhook":{"event":"people.registered","organization_id":"o"}}}}`)
	now := time.Unix(1_700_000_000, 0)
	good := SignWebhook(secret, now, body)
	ts, sig, _ := strings.Cut(good, ",")
	tests := []struct {
		name   string
		secret string
		header string
		body   []byte
		now    time.Time
		want   error
	}{
		{"valid", secret, good, body, now, nil},
		{"valid with spaces", secret, " " + ts + " , " + sig + " ", body, now, nil},
		{"legacy order signature first", secret, sig + "," + ts, body, now, nil},
		{"upper-case hex", secret, ts + "," + strings.ToUpper(sig), body, now, nil},
		{"within tolerance", secret, good, body, now.Add(4 * time.Minute), nil},
		{"tampered body", secret, good, append([]byte(nil), append(body, ' ')...), now, ErrSignatureMismatch},
		{"wrong secret", "other", good, body, now, ErrSignatureMismatch},
		{"empty secret", "", good, body, now, ErrSignatureMismatch},
		{"stale", secret, good, body, now.Add(6 * time.Minute), ErrSignatureStale},
		{"from the future", secret, good, body, now.Add(-6 * time.Minute), ErrSignatureStale},
		{"missing", secret, "", body, now, ErrSignatureMissing},
		{"no comma", secret, ts + sig, body, now, ErrSignatureMalformed},
		{"three parts", secret, good + ",x", body, now, ErrSignatureMalformed},
		{"short signature", secret, ts + "," + sig[:10], body, now, ErrSignatureMalformed},
		{"non-hex signature", secret, ts + "," + strings.Repeat("z", 64), body, now, ErrSignatureMalformed},
		{"non-numeric timestamp", secret, "abc," + sig, body, now, ErrSignatureMalformed},
		{"timestamp moved", secret, fmt.Sprint(now.Unix()+1) + "," + sig, body, now, ErrSignatureMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := VerifyWebhook(tt.secret, tt.header, tt.body, tt.now, 5*time.Minute)
			if tt.want == nil {
				assert.NoError(t, err)
				return
			}
			assert.ErrorIs(t, err, tt.want)
		})
	}
	t.Run("default tolerance", func(t *testing.T) {
		assert.NoError(t, VerifyWebhook(secret, good, body, now.Add(DefaultWebhookTolerance-time.Second), 0))
		assert.ErrorIs(t, VerifyWebhook(secret, good, body, now.Add(DefaultWebhookTolerance+time.Second), 0), ErrSignatureStale)
	})
}

func TestParseWebhookVariants(t *testing.T) {
	tests := []struct {
		name  string
		body  string
		check func(t *testing.T, ev *WebhookEvent)
	}{
		{"people.registered", `{"data":{"id":"p1","type":"people","attributes":{"email":"a@b.c","registrant_detail":{"event_id":"e","session_id":"s","attended":false}},"meta":{"webhook":{"event":"people.registered","organization_id":"o1"}}}}`,
			func(t *testing.T, ev *WebhookEvent) {
				assert.Equal(t, PeopleRegistered, ev.Name)
				assert.Equal(t, "o1", ev.OrganizationID)
				require.NotNil(t, ev.Person)
				assert.Equal(t, "a@b.c", ev.Person.Email)
				assert.Equal(t, "s", ev.Person.RegistrantDetail.SessionID)
			}},
		{"session.ended", `{"data":{"id":"s1","type":"sessions","attributes":{"event_id":"e","status":"past","ended_at":1700000000},"meta":{"webhook":{"event":"session.ended","organization_id":"o1"}}}}`,
			func(t *testing.T, ev *WebhookEvent) {
				require.NotNil(t, ev.Session)
				assert.Equal(t, "s1", ev.ResourceID)
				assert.Equal(t, time.Unix(1700000000, 0).UTC(), ev.Session.EndedAt)
			}},
		{"event.published", `{"data":{"id":"e1","type":"events","attributes":{"title":"T"},"meta":{"webhook":{"event":"event.published","organization_id":"o1"}}}}`,
			func(t *testing.T, ev *WebhookEvent) {
				require.NotNil(t, ev.Event)
				assert.Equal(t, "T", ev.Event.Title)
			}},
		{"job.ended", `{"data":{"id":"j1","type":"jobs","attributes":{"status":"ended","total_items":2,"total_success":2},"meta":{"webhook":{"event":"job.ended","organization_id":"o1"}}}}`,
			func(t *testing.T, ev *WebhookEvent) {
				require.NotNil(t, ev.Job)
				assert.Equal(t, 2, ev.Job.TotalSucceeded)
			}},
		{"meta at top level", `{"data":{"id":"j1","type":"jobs","attributes":{}},"meta":{"webhook":{"event":"job.created","organization_id":"o2"}}}`,
			func(t *testing.T, ev *WebhookEvent) {
				assert.Equal(t, JobCreated, ev.Name)
				assert.Equal(t, "o2", ev.OrganizationID)
			}},
		{"unknown type keeps ids", `{"data":{"id":"x","type":"polls","attributes":{},"meta":{"webhook":{"event":"poll.created"}}}}`,
			func(t *testing.T, ev *WebhookEvent) {
				assert.Equal(t, "polls", ev.ResourceType)
				assert.Nil(t, ev.Person)
				assert.Nil(t, ev.Session)
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := ParseWebhook([]byte(tt.body))
			require.NoError(t, err)
			assert.JSONEq(t, tt.body, string(ev.Raw))
			tt.check(t, ev)
		})
	}
	for name, body := range map[string]string{"not json": "nope", "no data": `{"event_name":"x"}`, "no event name": `{"data":{"id":"x","type":"people","attributes":{}}}`, "empty": ""} {
		t.Run("rejects "+name, func(t *testing.T) {
			_, err := ParseWebhook([]byte(body))
			assert.Error(t, err)
		})
	}
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
