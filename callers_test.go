package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	coderws "github.com/coder/websocket"
	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/livestorm-gateway/gateway/auth"
	"github.com/livestorm-gateway/gateway/livestorm"
	"github.com/livestorm-gateway/gateway/livestormsim"
	"github.com/livestorm-gateway/gateway/persisted"
	"github.com/livestorm-gateway/gateway/tenant"
)

const (
	testJWTSecret = "integration-test-secret-0123456789abcdef"
	viewerAPIKey  = "3c1f9b7e2d4a6c8e0f1a3b5c7d9e1f2a"
)

func sha256Hex(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }

func writeTemp(t testing.TB, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
	return p
}

// testToken is an HS256 token for testJWTSecret, valid for an hour from now unless
// claims say otherwise.
func testToken(t testing.TB, claims jwt.MapClaims) string {
	t.Helper()
	c := jwt.MapClaims{"sub": "ada", "exp": time.Now().Add(time.Hour).Unix(), "role": "viewer"}
	for k, v := range claims {
		c[k] = v
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString([]byte(testJWTSecret))
	require.NoError(t, err)
	return s
}

// forgedToken is a well-formed token signed with a secret the gateway does not know.
func forgedToken(t testing.TB) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "mallory", "role": "admin", "exp": time.Now().Add(time.Hour).Unix()}).
		SignedString([]byte("not-the-gateway-secret-not-the-gateway-secret"))
	require.NoError(t, err)
	return s
}

// authServer serves the harness's gateway with caller authentication configured by
// ac (and, optionally, trusted documents), logging into logs.
func authServer(t testing.TB, h *harness, ac auth.Config, logs io.Writer, store *persisted.Store, only string) string {
	t.Helper()
	deps := h.deps
	deps.Config.Auth = ac
	deps.Persisted = store
	p, err := persisted.ParsePolicy(only)
	require.NoError(t, err)
	deps.Config.PersistedOnly = p
	if logs != nil {
		deps.Logger = slog.New(slog.NewTextHandler(logs, nil))
	}
	return newHarnessServer(t, deps)
}

type httpResult struct {
	status int
	header http.Header
	body   gqlResponse
	raw    string
}

// postGraphQL POSTs body (a map marshalled as JSON) to base/graphql with header pairs.
func postGraphQL(t testing.TB, base string, body any, header ...string) httpResult {
	t.Helper()
	b, err := json.Marshal(body)
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, base+"/graphql", bytes.NewReader(b))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	return do(t, req)
}

func getGraphQL(t testing.TB, base string, params url.Values, header ...string) httpResult {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+"/graphql?"+params.Encode(), nil)
	require.NoError(t, err)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	return do(t, req)
}

func do(t testing.TB, req *http.Request) httpResult {
	t.Helper()
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	r := httpResult{status: res.StatusCode, header: res.Header, raw: string(raw)}
	require.NoError(t, json.Unmarshal(raw, &r.body), "body: %s", raw)
	return r
}

const eventsQuery = `query Events { events(first: 2) { totalCount } }`

// TestBadCredentialsAreRefusedBeforeAnyUpstreamCall drives the real handler: every
// presented credential that fails is HTTP 401 with an UNAUTHENTICATED GraphQL error and
// costs no upstream call; good ones are served.
func TestBadCredentialsAreRefusedBeforeAnyUpstreamCall(t *testing.T) {
	h := newHarness(t)
	keys := writeTemp(t, "keys", "portal-bff viewer "+sha256Hex(viewerAPIKey)+"\n")
	var logs lockedBuffer
	base := authServer(t, h, auth.Config{JWTSecret: testJWTSecret, APIKeysFile: keys}, &logs, nil, "")
	expired := testToken(t, jwt.MapClaims{"exp": time.Now().Add(-time.Hour).Unix()})

	refused := []struct {
		name   string
		header []string
		reason string
	}{
		{"bad signature", []string{"Authorization", "Bearer " + forgedToken(t)}, "signature invalid"},
		{"expired", []string{"Authorization", "Bearer " + expired}, "token expired"},
		{"no Bearer scheme", []string{"Authorization", testToken(t, nil)}, "Bearer <token>"},
		{"unknown API key", []string{"X-API-Key", "guessed"}, "unknown API key"},
		{"both credentials", []string{"Authorization", "Bearer " + testToken(t, nil), "X-API-Key", viewerAPIKey}, "not both"},
		{"two Authorization headers", []string{"Authorization", "Bearer " + testToken(t, nil), "Authorization", "Bearer x"}, "one Authorization"},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			h.resetCalls()
			r := postGraphQL(t, base, map[string]any{"query": eventsQuery, "operationName": "Events"}, tc.header...)
			assert.Equal(t, http.StatusUnauthorized, r.status)
			assert.Equal(t, `Bearer realm="graphql"`, r.header.Get("WWW-Authenticate"))
			require.Len(t, r.body.Errors, 1)
			assert.Equal(t, "UNAUTHENTICATED", r.body.Errors[0].code())
			assert.Contains(t, r.body.Errors[0].Message, tc.reason)
			assert.Nil(t, r.body.Data)
			assert.Equal(t, 0, h.upstreamCalls(), "refused before any upstream call")
		})
	}
	t.Run("GET and SSE are refused alike", func(t *testing.T) {
		h.resetCalls()
		r := getGraphQL(t, base, url.Values{"query": {eventsQuery}}, "Authorization", "Bearer "+expired)
		assert.Equal(t, http.StatusUnauthorized, r.status)
		r = postGraphQL(t, base, map[string]any{"query": `subscription { sessionChanged { type } }`}, "Authorization", "Bearer "+expired, "Accept", "text/event-stream")
		assert.Equal(t, http.StatusUnauthorized, r.status)
		assert.Equal(t, "UNAUTHENTICATED", r.body.Errors[0].code())
		assert.Equal(t, 0, h.upstreamCalls())
	})

	accepted := []struct {
		name   string
		header []string
	}{
		{"JWT", []string{"Authorization", "Bearer " + testToken(t, nil)}},
		{"API key", []string{"X-API-Key", viewerAPIKey}},
		{"anonymous (public)", nil},
		{"a proxy's Basic credential is not ours", []string{"Authorization", "Basic dXNlcjpwdw=="}},
	}
	for _, tc := range accepted {
		t.Run("accepted: "+tc.name, func(t *testing.T) {
			r := postGraphQL(t, base, map[string]any{"query": eventsQuery}, tc.header...)
			assert.Equal(t, http.StatusOK, r.status)
			assert.Empty(t, r.body.Errors)
			assert.Contains(t, string(r.body.Data), "totalCount")
		})
	}

	// Every refusal is logged with who (the client IP: the credential failed), the
	// operation and why, and never the credential.
	text := logs.String()
	assert.Contains(t, text, `msg="request refused" caller=ip:127.0.0.1 role=none auth=jwt operation=Events code=UNAUTHENTICATED reason="token expired"`)
	assert.Contains(t, text, `caller=ip:127.0.0.1 role=none auth=api_key operation=Events code=UNAUTHENTICATED reason="unknown API key"`)
	assert.NotContains(t, text, expired)
	assert.NotContains(t, text, "guessed")
	assert.NotContains(t, text, viewerAPIKey)

	m := metricsText(t, base)
	for _, want := range []string{
		`gateway_auth_total{method="jwt",result="unauthenticated"} 6`,
		`gateway_auth_total{method="api_key",result="unauthenticated"} 1`,
		`gateway_auth_total{method="jwt",result="ok"} 1`,
		`gateway_auth_total{method="api_key",result="ok"} 1`,
		`gateway_auth_total{method="anonymous",result="ok"} 2`,
	} {
		assert.Contains(t, m, want)
	}
}

func TestAnonymousRoleNone(t *testing.T) {
	h := newHarness(t)
	keys := writeTemp(t, "keys", "portal-bff viewer "+sha256Hex(viewerAPIKey)+"\n")
	var logs lockedBuffer
	base := authServer(t, h, auth.Config{AnonymousRole: "none", APIKeysFile: keys, JWTSecret: testJWTSecret}, &logs, nil, "")
	h.resetCalls()

	r := postGraphQL(t, base, map[string]any{"query": eventsQuery})
	assert.Equal(t, http.StatusUnauthorized, r.status)
	assert.Equal(t, "UNAUTHENTICATED", r.body.Errors[0].code())
	assert.Contains(t, r.body.Errors[0].Message, "requires a credential")

	r = postGraphQL(t, base, map[string]any{"query": eventsQuery}, "Authorization", "Bearer "+testToken(t, jwt.MapClaims{"role": "guest"}))
	assert.Equal(t, http.StatusForbidden, r.status, "a valid token naming no role, with anonymous callers refused")
	assert.Equal(t, "FORBIDDEN", r.body.Errors[0].code())
	assert.Equal(t, 0, h.upstreamCalls())
	assert.Contains(t, logs.String(), `caller=jwt:ada role=none auth=jwt`)
	assert.Contains(t, metricsText(t, base), `gateway_access_denied_total{role="none"} 1`)

	r = postGraphQL(t, base, map[string]any{"query": eventsQuery}, "X-API-Key", viewerAPIKey)
	assert.Equal(t, http.StatusOK, r.status)
	assert.Empty(t, r.body.Errors)
}

// wsInit opens a graphql-transport-ws connection and sends connection_init with
// payload; it returns the first message's type and payload, or the close status.
func wsInit(t *testing.T, base string, payload map[string]any) (string, coderws.StatusCode) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	conn, res, err := coderws.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/graphql",
		&coderws.DialOptions{Subprotocols: []string{protoTransportWS}})
	if res != nil && res.Body != nil {
		res.Body.Close()
	}
	require.NoError(t, err)
	defer conn.CloseNow()
	msg, err := json.Marshal(map[string]any{"type": "connection_init", "payload": payload})
	require.NoError(t, err)
	require.NoError(t, conn.Write(ctx, coderws.MessageText, msg))
	for {
		_, data, err := conn.Read(ctx)
		if err != nil {
			return "closed", coderws.CloseStatus(err)
		}
		var m wsMessage
		require.NoError(t, json.Unmarshal(data, &m))
		if m.Type == "connection_ack" {
			return m.Type, -1
		}
		if m.Type != "ka" && m.Type != "ping" {
			return m.Type + ": " + string(m.Payload), -1
		}
	}
}

// TestWebSocketInitAuthenticates: the caller of a WebSocket is resolved from the
// connection_init payload; a bad credential is refused at init, costing no upstream call.
func TestWebSocketInitAuthenticates(t *testing.T) {
	h := newHarness(t)
	keys := writeTemp(t, "keys", "portal-bff viewer "+sha256Hex(viewerAPIKey)+"\n")
	open := authServer(t, h, auth.Config{JWTSecret: testJWTSecret, APIKeysFile: keys}, nil, nil, "")
	closed := authServer(t, h, auth.Config{JWTSecret: testJWTSecret, APIKeysFile: keys, AnonymousRole: "none"}, nil, nil, "")
	cases := []struct {
		name    string
		base    string
		payload map[string]any
		ok      bool
	}{
		{"bad bearer token", open, map[string]any{"Authorization": "Bearer not-a-jwt"}, false},
		{"expired token", open, map[string]any{"authorization": "Bearer " + testToken(t, jwt.MapClaims{"exp": time.Now().Add(-time.Hour).Unix()})}, false},
		{"unknown API key", open, map[string]any{"X-API-Key": "guessed"}, false},
		{"no credential, anonymous none", closed, map[string]any{}, false},
		{"good token", closed, map[string]any{"Authorization": "Bearer " + testToken(t, nil)}, true},
		{"good API key (any letter case)", closed, map[string]any{"x-api-key": viewerAPIKey}, true},
		{"good API key under headers", closed, map[string]any{"headers": map[string]any{"X-API-Key": viewerAPIKey}}, true},
		{"anonymous public", open, nil, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h.resetCalls()
			got, status := wsInit(t, tc.base, tc.payload)
			if tc.ok {
				assert.Equal(t, "connection_ack", got)
				return
			}
			assert.NotEqual(t, "connection_ack", got, "refused at init (close status %d)", status)
			t.Logf("refused with %s (close status %d)", got, status)
			assert.Equal(t, 0, h.upstreamCalls(), "refused before the workspace is verified")
		})
	}
}

func TestCORSAllowsTheAPIKeyHeader(t *testing.T) {
	h := newHarness(t)
	deps := h.deps
	deps.Config.AllowedOrigins = []string{"https://portal.example"}
	base := newHarnessServer(t, deps)
	req, err := http.NewRequest(http.MethodOptions, base+"/graphql", nil)
	require.NoError(t, err)
	req.Header.Set("Origin", "https://portal.example")
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "content-type,x-api-key") // as browsers send it: lowercase, sorted
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusNoContent, res.StatusCode)
	assert.Contains(t, strings.ToLower(res.Header.Get("Access-Control-Allow-Headers")), "x-api-key")
}

// The documents of the trusted-documents tests: an event page the frontend was built
// with, and a query it was not.
const (
	manifestQuery = `query Events { events(first: 2) { totalCount nodes { title } } }`
	freeQuery     = `query Team { users { nodes { email } } }`
)

func apolloManifestFile(t testing.TB, docs ...string) string {
	t.Helper()
	var ops []map[string]string
	for _, d := range docs {
		ops = append(ops, map[string]string{"id": sha256Hex(d), "name": "Op", "type": "query", "body": d})
	}
	b, err := json.Marshal(map[string]any{"format": "apollo-persisted-query-manifest", "version": 1, "operations": ops})
	require.NoError(t, err)
	return writeTemp(t, "manifest.json", string(b))
}

func apq(hash string) map[string]any {
	return map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hash}}
}

// TestPersistedDocuments drives trusted documents through the real handler: the public
// caller runs manifest documents by id (POST and GET), and nothing else, while a viewer
// (API key) keeps free text and APQ; a refusal costs no upstream call.
func TestPersistedDocuments(t *testing.T) {
	flat, err := json.Marshal(map[string]string{sha256Hex(manifestQuery): manifestQuery, "relay-md5-3f2a": manifestQuery})
	require.NoError(t, err)
	formats := map[string]string{
		"apollo manifest": apolloManifestFile(t, manifestQuery),
		"flat map":        writeTemp(t, "persisted-documents.json", string(flat)),
	}
	keys := writeTemp(t, "keys", "portal-bff viewer "+sha256Hex(viewerAPIKey)+"\n")
	for name, file := range formats {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			store, err := persisted.Open(file, nil)
			require.NoError(t, err)
			var logs lockedBuffer
			base := authServer(t, h, auth.Config{APIKeysFile: keys}, &logs, store, "")

			ok := func(t *testing.T, r httpResult) {
				t.Helper()
				assert.Equal(t, http.StatusOK, r.status, r.raw)
				assert.Empty(t, r.body.Errors)
				assert.Contains(t, string(r.body.Data), "totalCount")
			}
			refused := func(t *testing.T, r httpResult, code string) {
				t.Helper()
				require.Len(t, r.body.Errors, 1, r.raw)
				assert.Equal(t, code, r.body.Errors[0].code())
				assert.Equal(t, 0, h.upstreamCalls(), "refused before parsing: no upstream call")
			}
			t.Run("public: Apollo hash by POST", func(t *testing.T) {
				ok(t, postGraphQL(t, base, map[string]any{"extensions": apq(sha256Hex(manifestQuery))}))
			})
			t.Run("public: Apollo hash by GET", func(t *testing.T) {
				ext, _ := json.Marshal(apq(sha256Hex(manifestQuery)))
				ok(t, getGraphQL(t, base, url.Values{"extensions": {string(ext)}}))
			})
			t.Run("public: the transport's document id (documentId, doc_id)", func(t *testing.T) {
				id := "sha256:" + sha256Hex(manifestQuery)
				if name == "flat map" {
					id = "relay-md5-3f2a"
				}
				ok(t, postGraphQL(t, base, map[string]any{"documentId": id}))
				ok(t, postGraphQL(t, base, map[string]any{"doc_id": id}))
				ok(t, getGraphQL(t, base, url.Values{"documentId": {id}}))
			})
			t.Run("public: free text refused", func(t *testing.T) {
				h.resetCalls()
				r := postGraphQL(t, base, map[string]any{"query": freeQuery, "operationName": "Team"})
				refused(t, r, persisted.CodeRequired)
				t.Logf("HTTP %d: %s", r.status, r.raw)
			})
			t.Run("public: APQ registration refused, and nothing registered", func(t *testing.T) {
				h.resetCalls()
				refused(t, postGraphQL(t, base, map[string]any{"query": freeQuery, "extensions": apq(sha256Hex(freeQuery))}), persisted.CodeRequired)
				refused(t, postGraphQL(t, base, map[string]any{"extensions": apq(sha256Hex(freeQuery))}), persisted.CodeNotFound)
			})
			t.Run("viewer: free text and APQ as usual", func(t *testing.T) {
				r := postGraphQL(t, base, map[string]any{"query": eventsQuery}, "X-API-Key", viewerAPIKey)
				assert.Empty(t, r.body.Errors)
				// The viewer registers a hash by APQ; a public caller still cannot use it.
				other := `query Other { events(first: 1) { totalCount } }`
				r = postGraphQL(t, base, map[string]any{"query": other, "extensions": apq(sha256Hex(other))}, "X-API-Key", viewerAPIKey)
				assert.Empty(t, r.body.Errors)
				r = postGraphQL(t, base, map[string]any{"extensions": apq(sha256Hex(other))}, "X-API-Key", viewerAPIKey)
				assert.Empty(t, r.body.Errors, "registered for the viewer")
				h.resetCalls()
				refused(t, postGraphQL(t, base, map[string]any{"extensions": apq(sha256Hex(other))}), persisted.CodeNotFound)
			})
			assert.Contains(t, logs.String(), `caller=ip:127.0.0.1 role=public auth=anonymous operation=Team code=PERSISTED_QUERY_REQUIRED`)
			assert.Contains(t, metricsText(t, base), `gateway_access_denied_total{role="public"} 2`)
		})
	}
}

// TestPerWorkspaceWebhookSecrets wires LIVESTORM_WEBHOOK_SECRETS in forwarded mode: a
// delivery is verified with the secret of the workspace it names, so workspace A's
// secret cannot push events to workspace B's subscribers.
func TestPerWorkspaceWebhookSecrets(t *testing.T) {
	h := newHarness(t, withForwardAuth())
	a, b := h.orgs[0], h.orgs[1]
	cfg := h.deps.Config
	cfg.WebhookSecret = ""
	cfg.WebhookSecrets = map[string]string{a.ID: "secret-of-a", b.ID: "secret-of-b"}
	deps := newDeps(cfg, slog.New(slog.DiscardHandler))
	t.Cleanup(deps.push.Close)
	base := newHarnessServer(t, deps)
	subB, err := deps.Bus.Subscribe(t.Context(), tenant.ScopeForOrg(b.ID), nil, 8)
	require.NoError(t, err)
	defer subB.Close()
	sess := h.sim.Events(b.ID)[0]
	injected := registrationDelivery(b.ID, "p-injected", "mallory@example.com", sess.ID, sess.SessionIDs[0])
	assert.Equal(t, http.StatusUnauthorized, postWebhook(t, base, signedDelivery{body: injected, signature: livestorm.SignWebhook("secret-of-a", time.Now(), injected)}))
	unknown := registrationDelivery("org-z", "p1", "x@example.com", sess.ID, sess.SessionIDs[0])
	assert.Equal(t, http.StatusUnauthorized, postWebhook(t, base, signedDelivery{body: unknown, signature: livestorm.SignWebhook("secret-of-a", time.Now(), unknown)}))
	own := registrationDelivery(b.ID, "p-own", "b@example.com", sess.ID, sess.SessionIDs[0])
	assert.Equal(t, http.StatusAccepted, postWebhook(t, base, signedDelivery{body: own, signature: livestorm.SignWebhook("secret-of-b", time.Now(), own)}))
	assert.Equal(t, "p-own", busMessage(t, subB).PersonID, "B's subscribers get B's own event first: the injected one was never published")
}

func newSimServer(t testing.TB, sim *livestormsim.Simulator) string {
	t.Helper()
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(func() { srv.Close(); sim.Close() })
	return srv.URL
}

// TestRunServerTokenMode runs the real main loop against a simulator: HOST binds the
// address, trusted documents are enforced, and SIGHUP (delivered through the hook run
// installs, not to the test process) reloads the manifest, keeping the old one when
// the new file is bad.
func TestRunServerTokenMode(t *testing.T) {
	sim, err := livestormsim.New(livestormsim.Config{Seed: 7, Size: livestormsim.SizeTiny, Clock: livestormsim.NewManualClock(testClock), IntervalLimit: -1})
	require.NoError(t, err)
	simSrv := newSimServer(t, sim)
	manifest := apolloManifestFile(t, manifestQuery)

	signals := make(chan chan<- os.Signal, 1)
	saved := notifyReload
	notifyReload = func(c chan<- os.Signal) { signals <- c }
	t.Cleanup(func() { notifyReload = saved })

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr lockedBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"gw"}, env(map[string]string{
			"PORT": "0", "HOST": "127.0.0.1", "LIVESTORM_API_URL": simSrv + "/v1", "LIVESTORM_API_TOKEN": sim.Organizations()[0].Token,
			"PERSISTED_DOCUMENTS": manifest,
		}), &stdout, &stderr)
	}()
	var base string
	re := regexp.MustCompile(`listening on (\S+)`)
	require.Eventually(t, func() bool {
		if m := re.FindStringSubmatch(stdout.String()); m != nil {
			base = "http://" + m[1]
			return true
		}
		return false
	}, 10*time.Second, 10*time.Millisecond, "no banner; stderr: %s", stderr.String())
	assert.True(t, strings.HasPrefix(base, "http://127.0.0.1:"), "HOST is the listen address: %s", base)
	assert.Contains(t, stdout.String(), "Callers without credentials: public")

	hashOf := func(q string) map[string]any { return map[string]any{"extensions": apq(sha256Hex(q))} }
	r := postGraphQL(t, base, map[string]any{"query": freeQuery})
	assert.Equal(t, persisted.CodeRequired, r.body.Errors[0].code())
	assert.Empty(t, postGraphQL(t, base, hashOf(manifestQuery)).body.Errors)
	second := `query Second { events(first: 1) { totalCount } }`
	assert.Equal(t, persisted.CodeNotFound, postGraphQL(t, base, hashOf(second)).body.Errors[0].code())

	var reload chan<- os.Signal
	select {
	case reload = <-signals:
	case <-time.After(5 * time.Second):
		t.Fatal("run did not subscribe to SIGHUP")
	}
	require.NoError(t, os.WriteFile(manifest, []byte(readFile(t, apolloManifestFile(t, manifestQuery, second))), 0o600))
	reload <- syscall.SIGHUP
	require.Eventually(t, func() bool { return len(postGraphQL(t, base, hashOf(second)).body.Errors) == 0 }, 5*time.Second, 10*time.Millisecond)

	require.NoError(t, os.WriteFile(manifest, []byte(`{"broken`), 0o600))
	reload <- syscall.SIGHUP
	require.Eventually(t, func() bool { return strings.Contains(stderr.String(), "persisted documents not reloaded") }, 5*time.Second, 10*time.Millisecond)
	assert.Empty(t, postGraphQL(t, base, hashOf(second)).body.Errors, "the previous manifest stays in service")

	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(15 * time.Second):
		t.Fatal("run did not return")
	}
}

func readFile(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(b)
}

func TestRunListensOnEveryInterfaceByDefault(t *testing.T) {
	sim, err := livestormsim.New(livestormsim.Config{Seed: 7, Size: livestormsim.SizeTiny, Clock: livestormsim.NewManualClock(testClock), IntervalLimit: -1})
	require.NoError(t, err)
	simSrv := newSimServer(t, sim)
	ctx, cancel := context.WithCancel(context.Background())
	var stdout lockedBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"gw"}, env(map[string]string{"PORT": "0", "LIVESTORM_API_URL": simSrv + "/v1", "LIVESTORM_API_TOKEN": sim.Organizations()[0].Token}), &stdout, io.Discard)
	}()
	require.Eventually(t, func() bool { return strings.Contains(stdout.String(), "listening on") }, 10*time.Second, 10*time.Millisecond)
	assert.Regexp(t, `listening on (\[::\]|0\.0\.0\.0):\d+`, stdout.String())
	cancel()
	require.NoError(t, <-done)
}

func TestLoadConfigSecurity(t *testing.T) {
	base := map[string]string{"LIVESTORM_API_TOKEN": "tok"}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == "" {
				delete(m, kv[i])
			} else {
				m[kv[i]] = kv[i+1]
			}
		}
		return m
	}
	t.Run("HOST", func(t *testing.T) {
		for in, want := range map[string]string{"127.0.0.1": "127.0.0.1", "::1": "::1", "[::1]": "::1", "localhost": "localhost", "0.0.0.0": "0.0.0.0", "gw.internal.example": "gw.internal.example"} {
			c, err := LoadConfig(env(with("HOST", in)))
			require.NoError(t, err, in)
			assert.Equal(t, want, c.Host)
		}
		c, err := LoadConfig(env(base))
		require.NoError(t, err)
		assert.Empty(t, c.Host, "every interface by default")
		for _, bad := range []string{"http://gw", "a b", "1.2.3.4:80", "-x-"} {
			_, err := LoadConfig(env(with("HOST", bad)))
			assert.ErrorContains(t, err, "HOST", bad)
		}
	})
	t.Run("auth", func(t *testing.T) {
		c, err := LoadConfig(env(with("AUTH_JWKS_URL", "https://idp.example/certs", "AUTH_JWT_ISSUER", "https://idp.example", "AUTH_ROLE_CLAIM", "realm_access.roles",
			"AUTH_API_KEYS_FILE", "/etc/gw/keys", "AUTH_ANONYMOUS_ROLE", "none", "TRUSTED_PROXIES", "10.0.0.0/8,192.168.0.1")))
		require.NoError(t, err)
		assert.Equal(t, "https://idp.example/certs", c.Auth.JWKSURL)
		assert.Equal(t, "realm_access.roles", c.Auth.RoleClaim)
		assert.Equal(t, "none", c.Auth.AnonymousRole)
		assert.Len(t, c.Auth.TrustedProxies, 2)
		assert.False(t, c.Auth.Demo)
		d, err := LoadConfig(env(nil))
		require.NoError(t, err)
		assert.True(t, d.Auth.Demo, "demo mode: anonymous callers are admin")
	})
	bad := []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"forwarded with AUTH_*", with("LIVESTORM_API_TOKEN", "", "LIVESTORM_FORWARD_AUTH", "true", "AUTH_JWT_SECRET", testJWTSecret, "AUTH_ANONYMOUS_ROLE", "none"),
			[]string{"LIVESTORM_FORWARD_AUTH", "AUTH_JWT_SECRET", "AUTH_ANONYMOUS_ROLE"}},
		{"short JWT secret", with("AUTH_JWT_SECRET", "hunter2"), []string{"AUTH_JWT_SECRET", "32 bytes"}},
		{"JWKS and secret", with("AUTH_JWT_SECRET", testJWTSecret, "AUTH_JWKS_URL", "https://idp.example/certs"), []string{"AUTH_JWKS_URL and AUTH_JWT_SECRET"}},
		{"JWKS URL", with("AUTH_JWKS_URL", "idp.example/certs"), []string{"AUTH_JWKS_URL"}},
		{"audience without JWT", with("AUTH_JWT_AUDIENCE", "gw"), []string{"AUTH_JWT_AUDIENCE"}},
		{"anonymous role", with("AUTH_ANONYMOUS_ROLE", "guest"), []string{"AUTH_ANONYMOUS_ROLE"}},
		{"trusted proxies", with("TRUSTED_PROXIES", "10.0.0.0/8, proxy.internal"), []string{"TRUSTED_PROXIES"}},
		{"documents-only without a manifest", with("PERSISTED_DOCUMENTS_ONLY", "public"), []string{"PERSISTED_DOCUMENTS_ONLY", "needs PERSISTED_DOCUMENTS"}},
		{"documents-only role", with("PERSISTED_DOCUMENTS", "/m.json", "PERSISTED_DOCUMENTS_ONLY", "visitors"), []string{"PERSISTED_DOCUMENTS_ONLY"}},
		{"webhook tolerance", with("LIVESTORM_WEBHOOK_TOLERANCE", "30s"), []string{"LIVESTORM_WEBHOOK_TOLERANCE"}},
		{"per-workspace secrets with a server token", with("LIVESTORM_WEBHOOK_SECRETS", "/s"), []string{"LIVESTORM_WEBHOOK_SECRETS", "forwarded mode"}},
		{"per-workspace and one secret", with("LIVESTORM_API_TOKEN", "", "LIVESTORM_FORWARD_AUTH", "true", "LIVESTORM_WEBHOOK_SECRETS", "/s", "LIVESTORM_WEBHOOK_SECRET", "x"),
			[]string{"LIVESTORM_WEBHOOK_SECRETS", "LIVESTORM_WEBHOOK_SECRET"}},
	}
	for _, tc := range bad {
		t.Run("invalid: "+tc.name, func(t *testing.T) {
			_, err := LoadConfig(env(tc.env))
			require.Error(t, err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.NotContains(t, err.Error(), testJWTSecret)
			assert.NotContains(t, err.Error(), "hunter2")
		})
	}
	t.Run("valid combinations", func(t *testing.T) {
		c, err := LoadConfig(env(with("LIVESTORM_API_TOKEN", "", "LIVESTORM_FORWARD_AUTH", "true", "LIVESTORM_WEBHOOK_SECRETS", "/s", "PUBLIC_URL", "https://gw.example")))
		require.NoError(t, err, "per-workspace secrets satisfy PUBLIC_URL")
		assert.Equal(t, "/s", c.WebhookSecretsFile)
		c, err = LoadConfig(env(with("LIVESTORM_WEBHOOK_TOLERANCE", "45m", "PERSISTED_DOCUMENTS", "/m.json", "PERSISTED_DOCUMENTS_ONLY", "public,viewer")))
		require.NoError(t, err)
		assert.Equal(t, 45*time.Minute, c.WebhookTolerance)
		assert.Equal(t, "public,viewer", c.PersistedOnly.String())
		c, err = LoadConfig(env(with("PERSISTED_DOCUMENTS", "/m.json")))
		require.NoError(t, err)
		assert.Equal(t, "public", c.PersistedOnly.String(), "default: public callers run manifest documents only")
	})
}

// TestRunRefusesBadFiles: files named by the configuration are read at start, and a bad
// one stops the gateway with a message naming the variable and the line.
func TestRunRefusesBadFiles(t *testing.T) {
	sim, err := livestormsim.New(livestormsim.Config{Seed: 7, Size: livestormsim.SizeTiny, Clock: livestormsim.NewManualClock(testClock), IntervalLimit: -1})
	require.NoError(t, err)
	simSrv := newSimServer(t, sim)
	server := map[string]string{"PORT": "0", "HOST": "127.0.0.1", "LIVESTORM_API_URL": simSrv + "/v1", "LIVESTORM_API_TOKEN": sim.Organizations()[0].Token}
	cases := []struct {
		name, variable, content, want string
		forwarded                     bool
	}{
		{"API keys", "AUTH_API_KEYS_FILE", "# keys\nbff viewer " + viewerAPIKey + "-not-a-hash\n", "AUTH_API_KEYS_FILE: line 2", false},
		{"manifest", "PERSISTED_DOCUMENTS", `{"abc": "query {"}`, "PERSISTED_DOCUMENTS", false},
		{"webhook secrets", "LIVESTORM_WEBHOOK_SECRETS", "org-a\n", "LIVESTORM_WEBHOOK_SECRETS: line 1", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := map[string]string{}
			for k, v := range server {
				e[k] = v
			}
			if tc.forwarded {
				delete(e, "LIVESTORM_API_TOKEN")
				e["LIVESTORM_FORWARD_AUTH"] = "true"
			}
			e[tc.variable] = writeTemp(t, "file", tc.content)
			err := run(t.Context(), []string{"gw"}, env(e), io.Discard, io.Discard)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), viewerAPIKey)
		})
	}
}
