package graph

import (
	"encoding/base64"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	uuidA = "3f2a9c1e-8b4d-4e6f-9a0b-1c2d3e4f5a6b"
	uuidB = "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"
)

func TestGlobalIDRoundTrip(t *testing.T) {
	cases := []struct {
		name  string
		id    string
		kind  nodeKind
		parts []string
		plain string // what the id encodes
	}{
		{"event", globalID(kindEvent, uuidA), kindEvent, []string{uuidA}, "Event:" + uuidA},
		{"session", globalID(kindSession, uuidA), kindSession, []string{uuidA}, "Session:" + uuidA},
		{"person", globalID(kindPerson, uuidA), kindPerson, []string{uuidA}, "Person:" + uuidA},
		{"job", globalID(kindJob, uuidA), kindJob, []string{uuidA}, "Job:" + uuidA},
		{"organization", globalID(kindOrganization, uuidA), kindOrganization, []string{uuidA}, "Organization:" + uuidA},
		{"user", globalID(kindUser, uuidA), kindUser, []string{uuidA}, "User:" + uuidA},
		{"webhook", globalID(kindWebhook, uuidA), kindWebhook, []string{uuidA}, "Webhook:" + uuidA},
		{"people attribute", globalID(kindPeopleAttribute, uuidA), kindPeopleAttribute, []string{uuidA}, "PeopleAttribute:" + uuidA},
		{"registration to a session", registrationID(uuidA, uuidB, uuidB), kindRegistration, []string{uuidA, uuidB}, "Registration:" + uuidA + ":" + uuidB},
		{"event-wide registration", registrationID("", uuidA, uuidB), kindRegistration, []string{"event", uuidA, uuidB}, "Registration:event:" + uuidA + ":" + uuidB},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			plain, err := base64.RawURLEncoding.DecodeString(tc.id)
			require.NoError(t, err)
			assert.Equal(t, tc.plain, string(plain), "base64url of Type:ids, the documented format")
			assert.Equal(t, url.PathEscape(tc.id), tc.id, "global ids are URL-safe")
			kind, parts, ok := parseGlobalID(tc.id)
			require.True(t, ok)
			assert.Equal(t, tc.kind, kind)
			assert.Equal(t, tc.parts, parts)
		})
	}
	t.Run("a same person's registrations to two sessions have two ids", func(t *testing.T) {
		assert.NotEqual(t, registrationID(uuidA, "", uuidB), registrationID(uuidB, "", uuidB))
	})
	t.Run("a user and the person of the same Livestorm id have distinct ids", func(t *testing.T) {
		assert.NotEqual(t, globalID(kindUser, uuidA), globalID(kindPerson, uuidA))
	})
	t.Run("padded base64 is accepted", func(t *testing.T) {
		padded := base64.URLEncoding.EncodeToString([]byte("Event:" + uuidA))
		kind, parts, ok := parseGlobalID(padded)
		require.True(t, ok)
		assert.Equal(t, kindEvent, kind)
		assert.Equal(t, []string{uuidA}, parts)
	})
}

func TestParseGlobalIDRejectsWhatItDidNotIssue(t *testing.T) {
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	for _, id := range []string{
		uuidA,                                   // a raw Livestorm id
		encodeCursor(3),                         // a cursor
		"",                                      // nothing
		"!!!",                                   // not base64
		enc("Tag:" + uuidA),                     // not a Node type
		enc("Event"),                            // no id
		enc("Event:"),                           // empty id
		enc("Event:" + uuidA + ":" + uuidB),     // too many parts
		enc("Registration:" + uuidA),            // too few parts
		enc("Registration:event:" + uuidA),      // event-wide without a person
		enc("Event:../" + uuidA),                // characters no Livestorm id has
		enc("Event:" + strings.Repeat("a", 65)), // too long
	} {
		_, _, ok := parseGlobalID(id)
		assert.False(t, ok, "%q", id)
	}
}

func TestLivestormIDAcceptsBothForms(t *testing.T) {
	cases := []struct {
		name, id string
		want     string
		wantErr  string
	}{
		{"global id of the right type", globalID(kindSession, uuidA), uuidA, ""},
		{"raw Livestorm id", uuidA, uuidA, ""},
		{"global id of another type", globalID(kindPerson, uuidA), "", "input.sessionId is the id of a Person, not of a Session"},
		{"registration id", registrationID(uuidA, "", uuidB), "", "input.sessionId is the id of a Registration, not of a Session"},
		{"empty", "", "", "input.sessionId is required"},
		{"not an id", "a/b", "", "input.sessionId is neither a global id nor a Livestorm id"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := livestormID("input.sessionId", kindSession, tc.id)
			if tc.wantErr == "" {
				require.NoError(t, err)
				assert.Equal(t, tc.want, got)
				return
			}
			var in *InputError
			require.ErrorAs(t, err, &in)
			assert.Equal(t, "input.sessionId", in.Field)
			assert.Equal(t, tc.wantErr, in.Message)
		})
	}
}
