package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime/pprof"
	"strings"
	"syscall"
	"testing"
	"time"

	coderws "github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// smallSendBuffers hands out accepted sockets with a 4 KiB send buffer, so that a client
// that stops reading fills its socket within a few events.
type smallSendBuffers struct{ net.Listener }

func (l smallSendBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		_ = c.(*net.TCPConn).SetWriteBuffer(4096)
	}
	return c, err
}

// TestStalledSubscriberHoldsUpNobody: a WebSocket subscriber that stops reading fills its
// socket; the gateway's shared writers, whose writes never wait, hand that connection to
// a writer goroutine of its own, and every other subscriber of the same subscription
// still gets each event at once. Once the stalled client reads again it gets every
// event, whole and in order.
func TestStalledSubscriberHoldsUpNobody(t *testing.T) {
	h := newHarness(t)
	org := h.orgs[0]
	sess := h.openSession(t)
	deps := h.deps
	deps.SubscriptionBuffer = 1000 // the socket fills long before the subscriber's queue
	srv := httptest.NewUnstartedServer(NewServer(deps))
	srv.Listener = smallSendBuffers{srv.Listener}
	srv.Start()
	t.Cleanup(srv.Close)

	const query = `subscription { registrationCreated { type person { email firstName lastName } session { id registrantsCount } } }`
	ctx := t.Context()
	stalled := dialStalledClient(t, ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/graphql", query)
	fast := openSubscriber(t, protoTransportWS, srv.URL, "")
	defer fast.close()
	fast.subscribe(t, "fast", query, nil)
	h.waitSubscribers(t, org.ID, 1) // one group: one execution serves both
	require.Eventually(t, func() bool { return gaugeValue(t, h) == 2 }, 5*time.Second, time.Millisecond, "both members joined")

	const n = 300 // ~90 KB of events for the stalled socket: far more than its buffers hold
	email := func(i int) string { return fmt.Sprintf("stall%03d@example.com", i) }
	for i := range n {
		body := registrationDelivery(org.ID, fmt.Sprint("p-stall-", i), email(i), sess.Event.LivestormID, sess.LivestormID)
		require.Equal(t, http.StatusAccepted, postWebhook(t, h.gw.URL, sign(body, time.Now())))
		var p struct {
			RegistrationCreated struct{ Person struct{ Email string } }
		}
		nextEvent(t, fast, "fast", 2*time.Second).result(t).decode(t, &p)
		require.Equal(t, email(i), p.RegistrationCreated.Person.Email, "the reading subscriber has each event before the next webhook")
	}
	assert.Equal(t, 1, goroutinesIn("stream.(*wsConn).flush("),
		"the stalled connection's rest waits in a writer of its own (if 0: its socket never filled, and this test proves nothing)")

	for i := range n {
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		_, msg, err := stalled.Read(rctx)
		cancel()
		require.NoError(t, err, "event %d", i)
		var m struct {
			Type    string
			Payload struct {
				Data struct {
					RegistrationCreated struct{ Person struct{ Email string } }
				}
				Errors []json.RawMessage
			}
		}
		require.NoError(t, json.Unmarshal(msg, &m), "%s", msg)
		require.Equal(t, "next", m.Type, "%s", msg)
		require.Empty(t, m.Payload.Errors, "%s", msg)
		require.Equal(t, email(i), m.Payload.Data.RegistrationCreated.Person.Email, "every event, in order")
	}
	require.Eventually(t, func() bool { return goroutinesIn("stream.(*wsConn).flush(") == 0 }, 5*time.Second, 10*time.Millisecond,
		"once written, the connection's own writer ends")
}

// dialStalledClient subscribes with query over graphql-transport-ws through a socket with
// a 4 KiB receive buffer, and then reads nothing until the test does.
func dialStalledClient(t *testing.T, ctx context.Context, url, query string) *coderws.Conn {
	t.Helper()
	dialer := &net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
		if err != nil {
			return err
		}
		return serr
	}}
	client := &http.Client{Transport: &http.Transport{DialContext: dialer.DialContext}}
	conn, res, err := coderws.Dial(ctx, url, &coderws.DialOptions{HTTPClient: client, Subprotocols: []string{protoTransportWS}})
	if res != nil && res.Body != nil {
		res.Body.Close()
	}
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.CloseNow() })
	require.NoError(t, conn.Write(ctx, coderws.MessageText, []byte(`{"type":"connection_init","payload":{}}`)))
	_, ack, err := conn.Read(ctx)
	require.NoError(t, err)
	require.True(t, bytes.Contains(ack, []byte(`"connection_ack"`)), "%s", ack)
	sub, err := json.Marshal(map[string]any{"id": "stalled", "type": "subscribe", "payload": map[string]any{"query": query}})
	require.NoError(t, err)
	require.NoError(t, conn.Write(ctx, coderws.MessageText, sub))
	return conn
}

// goroutinesIn counts this process's goroutines whose stack contains fn.
func goroutinesIn(fn string) int {
	var b strings.Builder
	_ = pprof.Lookup("goroutine").WriteTo(&b, 2)
	n := 0
	for g := range strings.SplitSeq(b.String(), "\n\n") {
		if strings.Contains(g, fn) {
			n++
		}
	}
	return n
}
