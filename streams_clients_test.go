package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The real JavaScript client libraries against the gateway's streaming transports: the
// scripts in clients/streams/ take the gateway URL, print what they received as JSON
// lines, and these tests assert on it. They need Node and clients/node_modules.

// nodeLine is one line a client script printed.
type nodeLine struct {
	Event   string          `json:"event"`
	Payload json.RawMessage `json:"payload"`
	Code    int             `json:"code"`
	Reason  string          `json:"reason"`
	Message string          `json:"message"`
	raw     string
}

type nodeClient struct {
	lines  chan nodeLine
	stderr *lockedBuffer
}

// requireNodeClients fails (never skips: the suite must run them) when Node or the
// client packages are missing.
func requireNodeClients(t testing.TB) string {
	t.Helper()
	node, err := exec.LookPath("node")
	require.NoError(t, err, "node is not installed: install Node.js >= 20, then run `npm ci` in clients/")
	for _, pkg := range []string{"graphql-ws", "graphql-sse", "subscriptions-transport-ws", "@apollo/client", "ws"} {
		_, err := os.Stat(filepath.Join("clients", "node_modules", pkg, "package.json"))
		require.NoError(t, err, "clients/node_modules/%s is missing: run `npm ci` in clients/", pkg)
	}
	return node
}

// startNode runs clients/streams/<script> url mode options.
func startNode(t testing.TB, script, url, mode string, options any) *nodeClient {
	t.Helper()
	node := requireNodeClients(t)
	opts, err := json.Marshal(options)
	require.NoError(t, err)
	cmd := exec.Command(node, filepath.Join("streams", script), url, mode, string(opts))
	cmd.Dir = "clients"
	c := &nodeClient{lines: make(chan nodeLine, 64), stderr: &lockedBuffer{}}
	cmd.Stderr = c.stderr
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(c.lines)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 4<<20)
		for sc.Scan() {
			var l nodeLine
			if json.Unmarshal(sc.Bytes(), &l) != nil {
				l = nodeLine{Event: "unparsed"}
			}
			l.raw = sc.Text()
			c.lines <- l
		}
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
		_ = cmd.Wait()
	})
	return c
}

// next returns the next line the script printed, skipping the kinds in skip.
func (c *nodeClient) next(t testing.TB, within time.Duration, skip ...string) nodeLine {
	t.Helper()
	deadline := time.After(within)
	for {
		select {
		case l, ok := <-c.lines:
			require.True(t, ok, "the client script ended; stderr: %s", c.stderr.String())
			if l.Event == "error" || l.Event == "timeout" || l.Event == "unparsed" {
				t.Fatalf("client script: %s (stderr: %s)", l.raw, c.stderr.String())
			}
			if !strings.Contains(strings.Join(skip, " "), l.Event) || l.Event == "" {
				return l
			}
		case <-deadline:
			t.Fatalf("client script said nothing within %s; stderr: %s", within, c.stderr.String())
		}
	}
}

const clientSubscription = `subscription($s: ID) { registrationCreated(sessionId: $s) { type person { email } session { id registrantsCount } } }`

// TestRealClientsSubscribe subscribes with each real client library and transport, makes
// several registrations in the simulator, and checks every one arrives, with the fresh
// registrant count.
func TestRealClientsSubscribe(t *testing.T) {
	cases := []struct {
		name, script string
		options      map[string]any
	}{
		{"graphql-ws (graphql-transport-ws)", "graphql-ws.mjs", nil},
		{"subscriptions-transport-ws (legacy graphql-ws)", "subscriptions-transport-ws.mjs", nil},
		{"graphql-sse, distinct connections", "graphql-sse.mjs", map[string]any{"singleConnection": false}},
		{"graphql-sse, single connection", "graphql-sse.mjs", map[string]any{"singleConnection": true}},
		{"Apollo Client 4 HttpLink (multipart subscriptions)", "apollo.mjs", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, withWebhooks())
			sess := h.openSession(t)
			const events = 3
			opts := map[string]any{"query": clientSubscription, "variables": map[string]any{"s": sess.ID}, "count": events}
			for k, v := range tc.options {
				opts[k] = v
			}
			c := startNode(t, tc.script, h.gw.URL+"/graphql", "subscribe", opts)
			h.waitSubscribers(t, h.orgs[0].ID, 1)
			for i := range events {
				email := fmt.Sprintf("client%d@example.com", i)
				_, err := h.sim.RegisterPerson(sess.LivestormID, email, "Ada", "Lovelace")
				require.NoError(t, err)
				l := c.next(t, 10*time.Second, "connected")
				require.Equal(t, "next", l.Event, l.raw)
				var got struct {
					Data registrationPayload `json:"data"`
				}
				require.NoError(t, json.Unmarshal(l.Payload, &got), l.raw)
				ev := got.Data.RegistrationCreated
				assert.Equal(t, "PEOPLE_REGISTERED", ev.Type)
				assert.Equal(t, email, ev.Person.Email)
				assert.Equal(t, sess.RegistrantsCount+i+1, ev.Session.RegistrantsCount, "fresh count")
			}
			assert.Equal(t, "done", c.next(t, 10*time.Second, "connected", "complete").Event)
			h.waitSubscribers(t, h.orgs[0].ID, 0) // the client ended it: the group stopped
		})
	}
}

// TestRealClientsRunQueriesAndMutationsOnStreams: the stream clients also send queries
// and mutations over their transport.
func TestRealClientsRunQueriesAndMutationsOnStreams(t *testing.T) {
	cases := []struct {
		name, script string
		options      map[string]any
	}{
		{"graphql-ws", "graphql-ws.mjs", nil},
		{"subscriptions-transport-ws", "subscriptions-transport-ws.mjs", nil},
		{"graphql-sse, distinct connections", "graphql-sse.mjs", map[string]any{"singleConnection": false}},
		{"graphql-sse, single connection", "graphql-sse.mjs", map[string]any{"singleConnection": true}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			sess := h.openSession(t)
			opts := map[string]any{
				"query":             `query($s: ID!) { session(id: $s) { id registrantsCount } }`,
				"queryVariables":    map[string]any{"s": sess.ID},
				"mutation":          `mutation($s: ID!, $email: String!) { registerPerson(input: {sessionId: $s, email: $email}) { registration { person { email } } session { registrantsCount } } }`,
				"mutationVariables": map[string]any{"s": sess.ID, "email": "stream.client@example.org"},
			}
			for k, v := range tc.options {
				opts[k] = v
			}
			c := startNode(t, tc.script, h.gw.URL+"/graphql", "operations", opts)
			var q struct {
				Data struct{ Session sessionInfo }
			}
			l := c.next(t, 10*time.Second, "connected")
			require.Equal(t, "result", l.Event, l.raw)
			require.NoError(t, json.Unmarshal(l.Payload, &q))
			assert.Equal(t, sess.ID, q.Data.Session.ID)
			var m struct {
				Data struct {
					RegisterPerson struct {
						Registration struct{ Person struct{ Email string } }
						Session      struct{ RegistrantsCount int }
					}
				}
			}
			l = c.next(t, 10*time.Second, "connected")
			require.Equal(t, "result", l.Event, l.raw)
			require.NoError(t, json.Unmarshal(l.Payload, &m))
			assert.Equal(t, "stream.client@example.org", m.Data.RegisterPerson.Registration.Person.Email)
			assert.Equal(t, sess.RegistrantsCount+1, m.Data.RegisterPerson.Session.RegistrantsCount)
			assert.Equal(t, "done", c.next(t, 10*time.Second, "connected").Event)
		})
	}
}

// TestGraphQLWSClientIsRefusedWith4403: a rejected connection_init closes with 4403. The
// graphql-ws client retries 4403 by design (its source: "Forbidden, might grant access
// out after retry"), but with its exponential back-off: a handful of attempts, not a
// reconnect storm; an app that sets shouldRetry to exclude 4403 gets the error at once.
func TestGraphQLWSClientIsRefusedWith4403(t *testing.T) {
	h := newHarness(t, withForwardAuth())
	c := startNode(t, "graphql-ws.mjs", h.gw.URL+"/graphql", "rejected",
		map[string]any{"connectionParams": map[string]any{"Authorization": "not-a-livestorm-token"}, "watchMs": 2500})
	l := c.next(t, 15*time.Second)
	require.Equal(t, "rejected", l.Event, l.raw)
	var got struct {
		Default struct {
			Attempts int
			Closes   []struct {
				Code   int
				Reason string
			}
		}
		Strict struct {
			Code   int
			Reason string
		}
	}
	require.NoError(t, json.Unmarshal([]byte(l.raw), &got))
	assert.Equal(t, 4403, got.Strict.Code, "the app sees the refusal")
	assert.Contains(t, got.Strict.Reason, "UNAUTHENTICATED")
	require.NotEmpty(t, got.Default.Closes)
	for _, cl := range got.Default.Closes {
		assert.Equal(t, 4403, cl.Code)
	}
	assert.LessOrEqual(t, got.Default.Attempts, 3, "back-off, not a reconnect storm (2.5 s watched)")
	t.Logf("default graphql-ws client: %d connection attempts in 2.5 s, each closed with 4403", got.Default.Attempts)
}

// TestGraphQLWSClientWithoutInitGets4408: a client that sends no connection_init within
// the configured time is closed with 4408.
func TestGraphQLWSClientWithoutInitGets4408(t *testing.T) {
	h := newHarness(t)
	deps := h.deps
	deps.WebSocketInitTimeout = 200 * time.Millisecond
	base := newHarnessServer(t, deps)
	c := startNode(t, "graphql-ws.mjs", base+"/graphql", "inittimeout", map[string]any{"delayMs": 3000})
	l := c.next(t, 10*time.Second)
	require.Equal(t, "closed", l.Event, l.raw)
	assert.Equal(t, 4408, l.Code)
	assert.Equal(t, "Connection initialisation timeout", l.Reason)
}
