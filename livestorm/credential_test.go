package livestorm

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func fakeJWT(claims string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"HS256"}`)) + "." + enc([]byte(claims)) + ".c2lnbmF0dXJl"
}

func TestParseAuthorization(t *testing.T) {
	tests := []struct {
		name    string
		header  string
		oauth   bool
		secret  string
		wantErr error
	}{
		{"raw api token", "eyJ.abc.def", false, "eyJ.abc.def", nil},
		{"bearer", "Bearer tok123", true, "tok123", nil},
		{"bearer lower case and spaces", "  bearer   tok123 ", true, "tok123", nil},
		{"empty", "", false, "", ErrNoCredential},
		{"blank", "   ", false, "", ErrNoCredential},
		{"bearer without token", "Bearer ", false, "", ErrNoCredential},
		{"word starting with bearer is a token", "Bearerish", false, "Bearerish", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseAuthorization(tt.header)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				assert.True(t, c.IsZero())
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.oauth, c.IsOAuth())
			assert.Equal(t, tt.secret, c.secret)
		})
	}
}

func TestCredentialNeverRevealsSecret(t *testing.T) {
	const secret = "super-secret-token-value"
	for _, c := range []Credential{APIToken(secret), OAuthToken(secret)} {
		t.Run(c.String(), func(t *testing.T) {
			var logs bytes.Buffer
			logger := slog.New(slog.NewJSONHandler(&logs, nil))
			logger.Info("x", "cred", c, "ptr", &c)
			js, err := json.Marshal(struct{ C Credential }{c})
			require.NoError(t, err)
			outputs := []string{
				c.String(), c.GoString(), fmt.Sprintf("%v %+v %#v %s", c, c, c, c),
				fmt.Sprint(&c), logs.String(), string(js), c.Fingerprint(),
			}
			for _, out := range outputs {
				assert.NotContains(t, out, secret)
			}
			assert.Contains(t, c.String(), c.Fingerprint()[:6])
		})
	}
	assert.Equal(t, "credential(none)", Credential{}.String())
}

func TestFingerprint(t *testing.T) {
	a, b := APIToken("t"), OAuthToken("t")
	assert.Len(t, a.Fingerprint(), 64)
	assert.Equal(t, a.Fingerprint(), APIToken("t").Fingerprint(), "stable")
	assert.NotEqual(t, a.Fingerprint(), b.Fingerprint(), "kind is part of the key")
	assert.Empty(t, Credential{}.Fingerprint())
	assert.True(t, APIToken("  ").IsZero())
}

func TestUnverifiedOrg(t *testing.T) {
	tests := []struct {
		name string
		cred Credential
		org  string
		ok   bool
	}{
		{"jwt with org", APIToken(fakeJWT(`{"aud":"api.livestorm.co","jti":"j","iat":1,"org":"7dd9eceb"}`)), "7dd9eceb", true},
		{"jwt without org", APIToken(fakeJWT(`{"aud":"x"}`)), "", false},
		{"org not a string", APIToken(fakeJWT(`{"org":5}`)), "", false},
		{"not a jwt", APIToken("opaque"), "", false},
		{"bad base64", APIToken("a.!!!.c"), "", false},
		{"oauth", OAuthToken(fakeJWT(`{"org":"x"}`)), "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			org, ok := tt.cred.UnverifiedOrg()
			assert.Equal(t, tt.ok, ok)
			assert.Equal(t, tt.org, org)
		})
	}
}

func TestContextCredential(t *testing.T) {
	ctx := t.Context()
	_, ok := CredentialFrom(ctx)
	assert.False(t, ok)
	ctx = ContextWithCredential(ctx, OAuthToken("x"))
	c, ok := CredentialFrom(ctx)
	require.True(t, ok)
	assert.True(t, c.IsOAuth())
	assert.Equal(t, "Bearer x", c.authorization())
	assert.Equal(t, "raw", APIToken("raw").authorization())
	_, ok = CredentialFrom(ContextWithCredential(t.Context(), Credential{}))
	assert.False(t, ok, "a zero credential in the context falls back to the default")
}
