package livestorm_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/livestorm-gateway/gateway/livestorm"
	"github.com/livestorm-gateway/gateway/livestormsim"
)

// TestErrorKinds provokes each error kind from the simulator and checks the
// classification, the templated route and the decoded error objects.
func TestErrorKinds(t *testing.T) {
	t.Parallel()
	e := newEnv(t, fastConfig())
	ctx := ctxT(t)
	c := e.client
	sessionID := e.upcomingSession(t).ID
	readOnly := e.newClient(livestorm.WithCredential(livestorm.APIToken(e.org.ReadOnlyToken)))
	forged := e.newClient(livestorm.WithCredential(livestorm.APIToken(e.org.Token + "x")))
	reg := func(email string) livestorm.Registration {
		return livestorm.Registration{Fields: []livestorm.FieldValue{{ID: "email", Value: strp(email)}}}
	}
	_, err := c.RegisterPerson(ctx, sessionID, reg("dup@example.com"))
	require.NoError(t, err)

	tests := []struct {
		name   string
		call   func() error
		kind   Kind
		status int
		method string
		route  string
		detail string // substring of the error message, "" = skip
	}{
		{"404 unknown event", func() error { _, err := c.GetEvent(ctx, "00000000-0000-4000-8000-000000000000"); return err },
			livestorm.KindNotFound, 404, "GET", "/events/{id}", ""},
		{"401 forged token", func() error { _, err := forged.ListEvents(ctx, livestorm.EventListOptions{}); return err },
			livestorm.KindUnauthorized, 401, "GET", "/events", ""},
		{"403 read-only token on a write", func() error {
			_, err := readOnly.CreateEvent(ctx, livestorm.EventInput{Title: strp("nope")})
			return err
		}, livestorm.KindForbidden, 403, "POST", "/events", ""},
		{"409 duplicate registration", func() error { _, err := c.RegisterPerson(ctx, sessionID, reg("dup@example.com")); return err },
			livestorm.KindConflict, 409, "POST", "/sessions/{id}/people", "already registered"},
		{"422 unknown registration field", func() error {
			_, err := c.RegisterPerson(ctx, sessionID, livestorm.Registration{Fields: []livestorm.FieldValue{
				{ID: "email", Value: strp("x@example.com")}, {ID: "shoe_size", Value: strp("42")}}})
			return err
		}, livestorm.KindInvalid, 422, "POST", "/sessions/{id}/people", "The field 'shoe_size' doesn't exist"},
		{"400 page past the end", func() error {
			_, err := c.ListEvents(ctx, livestorm.EventListOptions{Page: livestorm.Page{Number: 99}})
			return err
		}, livestorm.KindInvalid, 400, "GET", "/events", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			require.Error(t, err)
			le := asError(t, err)
			assert.Equal(t, tt.kind, le.Kind, err.Error())
			assert.Equal(t, tt.kind, livestorm.KindOf(err))
			assert.Equal(t, tt.status, le.StatusCode)
			assert.Equal(t, tt.method, le.Method)
			assert.Equal(t, tt.route, le.Route)
			assert.NotEmpty(t, le.Errors, "the JSON:API error objects are decoded")
			if tt.detail != "" {
				assert.Contains(t, err.Error(), tt.detail)
			}
			assert.True(t, strings.HasPrefix(err.Error(), "livestorm: "+tt.method+" "+tt.route+": "), err.Error())
		})
	}
}

type Kind = livestorm.Kind

func TestErrorSentinels(t *testing.T) {
	cases := map[livestorm.Kind]error{
		livestorm.KindNotFound: livestorm.ErrNotFound, livestorm.KindUnauthorized: livestorm.ErrUnauthorized,
		livestorm.KindForbidden: livestorm.ErrForbidden, livestorm.KindConflict: livestorm.ErrConflict,
		livestorm.KindInvalid: livestorm.ErrInvalid, livestorm.KindRateLimited: livestorm.ErrRateLimited,
		livestorm.KindQuotaExhausted: livestorm.ErrQuotaExhausted, livestorm.KindUnavailable: livestorm.ErrUnavailable,
	}
	for kind, sentinel := range cases {
		t.Run(kind.String(), func(t *testing.T) {
			err := error(&livestorm.Error{Kind: kind, Method: "GET", Route: "/x"})
			wrapped := errors.Join(errors.New("ctx"), err)
			assert.ErrorIs(t, wrapped, sentinel)
			assert.Equal(t, kind, livestorm.KindOf(wrapped))
			for other, s := range cases {
				if other != kind {
					assert.NotErrorIs(t, err, s)
				}
			}
		})
	}
	assert.Equal(t, livestorm.KindUnknown, livestorm.KindOf(nil))
	assert.Equal(t, livestorm.KindUnknown, livestorm.KindOf(errors.New("foreign")))
	assert.Equal(t, "livestorm: GET /events/{id}: 404 not found: Event not found",
		(&livestorm.Error{Kind: livestorm.KindNotFound, StatusCode: 404, Method: "GET", Route: "/events/{id}",
			Errors: []livestorm.ErrorObject{{Title: "Not Found", Detail: "Event not found"}}}).Error())
}

// TestInvalidInputsMakeNoRequest checks caller mistakes fail before any
// HTTP request.
func TestInvalidInputsMakeNoRequest(t *testing.T) {
	t.Parallel()
	e := newEnv(t, fastConfig())
	ctx := ctxT(t)
	c := e.client
	many := make([]livestorm.Registration, 51)
	for i := range many {
		many[i] = livestorm.Registration{Fields: []livestorm.FieldValue{{ID: "email", Value: strp("a@b.c")}}}
	}
	start := time.Now()
	tests := map[string]func() error{
		"bulk over 50":  func() error { _, err := c.BulkRegister(ctx, "s", many); return err },
		"bulk empty":    func() error { _, err := c.BulkRegister(ctx, "s", nil); return err },
		"empty path id": func() error { _, err := c.GetEvent(ctx, ""); return err },
		"blank sub id":  func() error { _, err := c.GetSessionPerson(ctx, "s", " "); return err },
		"negative page": func() error {
			_, err := c.ListPeople(ctx, livestorm.PeopleListOptions{Page: livestorm.Page{Number: -1}})
			return err
		},
		"empty tag":                func() error { _, err := c.AddEventTag(ctx, "e", " "); return err },
		"unregister without email": func() error { return c.UnregisterByEmail(ctx, "s", "") },
		"field without id": func() error {
			_, err := c.RegisterPerson(ctx, "s", livestorm.Registration{Fields: []livestorm.FieldValue{{Value: strp("x")}}})
			return err
		},
		"unknown timezone": func() error {
			_, err := c.CreateSession(ctx, "e", livestorm.SessionInput{Timezone: strp("Mars/Olympus"), EstimatedStartedAt: &start})
			return err
		},
		"sessions on update": func() error {
			_, err := c.UpdateEvent(ctx, "e", livestorm.EventInput{Sessions: []livestorm.SessionInput{{}}})
			return err
		},
		"team members on session update": func() error {
			_, err := c.UpdateSession(ctx, "s", livestorm.SessionInput{TeamMemberIDs: []string{"p"}})
			return err
		},
		"webhook without url":  func() error { _, err := c.CreateWebhook(ctx, "", livestorm.PeopleRegistered); return err },
		"invite without email": func() error { _, err := c.InviteUser(ctx, "", "host"); return err },
	}
	for name, call := range tests {
		t.Run(name, func(t *testing.T) {
			err := call()
			assert.Equal(t, livestorm.KindInvalid, livestorm.KindOf(err), "%v", err)
		})
	}
	assert.Zero(t, e.sim.RequestCount())
}

// TestSecretsNeverLeak makes failing and succeeding calls with a debug
// logger and checks that no token appears in any error or log line.
func TestSecretsNeverLeak(t *testing.T) {
	t.Parallel()
	cfg := fastConfig()
	e := newEnv(t, cfg)
	ctx := ctxT(t)
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var infos []livestorm.RequestInfo
	secrets := []string{e.org.Token, e.org.OAuthToken, e.org.Token + "x"}
	var errs []error
	for _, cred := range []livestorm.Credential{livestorm.APIToken(e.org.Token), livestorm.OAuthToken(e.org.OAuthToken), livestorm.APIToken(e.org.Token + "x")} {
		c := e.newClient(livestorm.WithCredential(cred), livestorm.WithLogger(logger), livestorm.WithObserver(func(i livestorm.RequestInfo) { infos = append(infos, i) }))
		_, err := c.GetEvent(ctx, "missing")
		errs = append(errs, err)
		_, err = c.ListSessionPeople(ctx, "missing", livestorm.SessionPeopleListOptions{Email: "secret.person@example.com"})
		errs = append(errs, err)
		e.sim.InjectFaults(livestormsim.FaultServerError, 3)
		_, err = c.ListEvents(ctx, livestorm.EventListOptions{})
		errs = append(errs, err)
		_, err = c.ListEvents(ctx, livestorm.EventListOptions{})
		errs = append(errs, err)
	}
	var all strings.Builder
	failures := 0
	for _, err := range errs {
		if err != nil {
			failures++
			all.WriteString(err.Error())
			all.WriteString("\n")
		}
	}
	require.GreaterOrEqual(t, failures, 9)
	for _, i := range infos {
		if i.Err != nil {
			all.WriteString(i.Err.Error())
		}
	}
	all.WriteString(logs.String())
	require.NotEmpty(t, logs.String())
	for _, s := range secrets {
		assert.NotContains(t, all.String(), s)
	}
	assert.NotContains(t, all.String(), "secret.person@example.com", "query strings (emails) stay out of errors and logs")
}

// TestTransportErrorsHideURL checks a connection error names the route and
// not the URL with its query.
func TestTransportErrorsHideURL(t *testing.T) {
	t.Parallel()
	c := livestorm.New(livestorm.WithBaseURL("http://127.0.0.1:1/v1"), livestorm.WithCredential(livestorm.APIToken("tok")),
		livestorm.WithLimiter(nil), livestorm.WithRetryPolicy(livestorm.RetryPolicy{MaxAttempts: 2, BaseDelay: time.Millisecond}))
	_, err := c.ListPeople(ctxT(t), livestorm.PeopleListOptions{Email: "who@example.com"})
	require.Error(t, err)
	assert.Equal(t, livestorm.KindUnavailable, livestorm.KindOf(err))
	assert.NotContains(t, err.Error(), "who@example.com")
	assert.Contains(t, err.Error(), "GET /people")
}

func TestContextCancellation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, fastConfig())
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := e.client.ListEvents(ctx, livestorm.EventListOptions{})
	require.Error(t, err)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Zero(t, e.sim.RequestCount())
	dctx, dcancel := context.WithDeadline(t.Context(), time.Now().Add(-time.Second))
	defer dcancel()
	_, err = e.client.ListEvents(dctx, livestorm.EventListOptions{})
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Equal(t, livestorm.KindUnavailable, livestorm.KindOf(err))
}
