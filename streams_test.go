package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	coderws "github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/livestorm-gateway/gateway/tenant"
	"github.com/livestorm-gateway/gateway/transport/stream"
)

// Protocol-level tests of the streaming transports, written against the wire formats
// (graphql-ws's PROTOCOL.md, graphql-sse's PROTOCOL.md, Apollo's multipart subscription
// protocol) with plain Go clients.

// rawWS is a WebSocket whose messages the test reads one by one.
type rawWS struct {
	t    testing.TB
	conn *coderws.Conn
}

func dialRaw(t testing.TB, base, protocol string) *rawWS {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	opts := &coderws.DialOptions{}
	if protocol != "" {
		opts.Subprotocols = []string{protocol}
	}
	conn, res, err := coderws.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/graphql", opts)
	if res != nil && res.Body != nil {
		res.Body.Close()
	}
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.CloseNow() })
	return &rawWS{t: t, conn: conn}
}

func (c *rawWS) send(msg string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(c.t, c.conn.Write(ctx, coderws.MessageText, []byte(msg)))
}

// read returns the next message, skipping keep-alives; or the close error.
func (c *rawWS) read() (wsMessage, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for {
		_, raw, err := c.conn.Read(ctx)
		if err != nil {
			return wsMessage{}, err
		}
		var m wsMessage
		require.NoError(c.t, json.Unmarshal(raw, &m), "%s", raw)
		if m.Type == "ka" || m.Type == "ping" {
			continue
		}
		return m, nil
	}
}

func (c *rawWS) expect(typ string) wsMessage {
	c.t.Helper()
	m, err := c.read()
	require.NoError(c.t, err)
	require.Equal(c.t, typ, m.Type, "payload: %s", m.Payload)
	return m
}

// expectClose reads until the gateway closes the socket and returns how.
func (c *rawWS) expectClose() coderws.CloseError {
	c.t.Helper()
	for {
		_, err := c.read()
		if err != nil {
			var ce coderws.CloseError
			require.ErrorAs(c.t, err, &ce, "closed without a close frame")
			return ce
		}
	}
}

func (c *rawWS) init() {
	c.t.Helper()
	c.send(`{"type":"connection_init","payload":{}}`)
	c.expect("connection_ack")
}

// TestGraphQLTransportWSCloseCodes: every protocol violation closes the socket with the
// code graphql-ws's PROTOCOL.md gives it.
func TestGraphQLTransportWSCloseCodes(t *testing.T) {
	h := newHarness(t)
	deps := h.deps
	deps.WebSocketInitTimeout = 100 * time.Millisecond
	base := newHarnessServer(t, deps)
	const sub = `{"id":"1","type":"subscribe","payload":{"query":"subscription { livestormEvents { type } }"}}`
	cases := []struct {
		name     string
		protocol string
		do       func(c *rawWS)
		code     coderws.StatusCode
		reason   string
	}{
		{"no connection_init in time", protoTransportWS, func(*rawWS) {}, 4408, "Connection initialisation timeout"},
		{"subscribe before connection_ack", protoTransportWS, func(c *rawWS) { c.send(sub) }, 4401, "Unauthorized"},
		{"a second connection_init", protoTransportWS, func(c *rawWS) { c.init(); c.send(`{"type":"connection_init"}`) }, 4429, "Too many initialisation requests"},
		{"a subscriber id in use", protoTransportWS, func(c *rawWS) { c.init(); c.send(sub); c.send(sub) }, 4409, "Subscriber for 1 already exists"},
		{"a message that is not JSON", protoTransportWS, func(c *rawWS) { c.init(); c.send(`{nope`) }, 4400, "Invalid message received"},
		{"an unknown message type", protoTransportWS, func(c *rawWS) { c.init(); c.send(`{"type":"start","id":"1"}`) }, 4400, "Invalid message received"},
		{"subscribe without a query", protoTransportWS, func(c *rawWS) { c.init(); c.send(`{"id":"1","type":"subscribe","payload":{}}`) }, 4400, "Invalid message received"},
		{"subscribe without an id", protoTransportWS, func(c *rawWS) {
			c.init()
			c.send(`{"type":"subscribe","payload":{"query":"{ organization { name } }"}}`)
		}, 4400, "Invalid message received"},
		{"no subprotocol", "", func(*rawWS) {}, 4406, "Subprotocol not acceptable"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := dialRaw(t, base, tc.protocol)
			tc.do(c)
			ce := c.expectClose()
			assert.Equal(t, tc.code, ce.Code)
			assert.Equal(t, tc.reason, ce.Reason)
		})
	}
	h.waitSubscribers(t, h.orgs[0].ID, 0) // nothing left subscribed
}

// TestWebSocketOperations: queries, mutations and errors over both WebSocket protocols.
func TestWebSocketOperations(t *testing.T) {
	h := newHarness(t)
	org := h.orgs[0]
	for _, proto := range []string{protoTransportWS, protoLegacyWS} {
		start, stop, next := "subscribe", "complete", "next"
		if proto == protoLegacyWS {
			start, stop, next = "start", "stop", "data"
		}
		t.Run(proto, func(t *testing.T) {
			c := dialRaw(t, h.gw.URL, proto)
			c.init()
			if proto == protoLegacyWS {
				assert.Equal(t, "ka", func() string { // the legacy protocol: ka right after the ack
					_, raw, err := c.conn.Read(t.Context())
					require.NoError(t, err)
					var m wsMessage
					require.NoError(t, json.Unmarshal(raw, &m))
					return m.Type
				}())
			}

			c.send(`{"id":"q","type":"` + start + `","payload":{"query":"{ organization { name } }"}}`)
			m := c.expect(next)
			assert.Equal(t, "q", m.ID)
			assert.JSONEq(t, fmt.Sprintf(`{"data":{"organization":{"name":%q}}}`, org.Name), string(m.Payload))
			assert.Equal(t, "q", c.expect("complete").ID)

			t.Run("a validation error is an error message", func(t *testing.T) {
				c.send(`{"id":"v","type":"` + start + `","payload":{"query":"{ nope }"}}`)
				m := c.expect("error")
				assert.Equal(t, "v", m.ID)
				var errs []gqlError
				require.NoError(t, json.Unmarshal(m.Payload, &errs), "%s", m.Payload)
				require.NotEmpty(t, errs)
				assert.Equal(t, "GRAPHQL_VALIDATION_FAILED", errs[0].code())
			})
			t.Run("stopping an unknown or finished id is ignored", func(t *testing.T) {
				c.send(`{"id":"q","type":"` + stop + `"}`)
				c.send(`{"id":"q2","type":"` + start + `","payload":{"query":"{ organization { id } }"}}`)
				assert.Equal(t, "q2", c.expect(next).ID)
				c.expect("complete")
			})
			t.Run("a subscription, then the client stops it", func(t *testing.T) {
				c.send(`{"id":"s","type":"` + start + `","payload":{"query":"subscription { livestormEvents { type } }"}}`)
				h.waitSubscribers(t, org.ID, 1)
				c.send(`{"id":"s","type":"` + stop + `"}`)
				h.waitSubscribers(t, org.ID, 0)
			})
			if proto == protoTransportWS {
				t.Run("ping is answered with pong", func(t *testing.T) {
					c.send(`{"type":"ping"}`)
					_, raw, err := c.conn.Read(t.Context())
					require.NoError(t, err)
					assert.JSONEq(t, `{"type":"pong"}`, string(raw))
				})
			} else {
				t.Run("an unknown message type is an error, the connection stays", func(t *testing.T) {
					c.send(`{"id":"x","type":"subscribe"}`)
					assert.Equal(t, "x", c.expect("error").ID)
					c.send(`{"type":"connection_terminate"}`)
					assert.Equal(t, coderws.StatusNormalClosure, c.expectClose().Code)
				})
			}
		})
	}
}

// TestLegacyRejectedInit: subscriptions-transport-ws clients get connection_error with
// the reason, then the socket closes with 4403.
func TestLegacyRejectedInit(t *testing.T) {
	h := newHarness(t, withForwardAuth())
	c := dialRaw(t, h.gw.URL, protoLegacyWS)
	c.send(`{"type":"connection_init","payload":{"Authorization":"not-a-token"}}`)
	m := c.expect("connection_error")
	assert.Contains(t, string(m.Payload), "UNAUTHENTICATED")
	ce := c.expectClose()
	assert.Equal(t, coderws.StatusCode(4403), ce.Code)
}

// streamReader reads SSE events or multipart parts of one HTTP response.
type streamReader struct {
	res    *http.Response
	events chan streamEvent // kind: next, complete, heartbeat; payload: the data
	done   chan struct{}
}

func openStream(t testing.TB, req *http.Request, multipart bool) *streamReader {
	t.Helper()
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	s := &streamReader{res: res, events: make(chan streamEvent, 64), done: make(chan struct{})}
	t.Cleanup(func() { res.Body.Close(); <-s.done })
	go func() {
		defer close(s.done)
		defer close(s.events)
		if multipart {
			readParts(res.Body, s.events)
			return
		}
		sc := bufio.NewScanner(res.Body)
		kind := ""
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				kind = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: ") || line == "data:":
				s.events <- streamEvent{kind: kind, payload: json.RawMessage(strings.TrimSpace(strings.TrimPrefix(line, "data:")))}
			case strings.HasPrefix(line, ": ping"):
				s.events <- streamEvent{kind: "heartbeat"}
			}
		}
	}()
	return s
}

// readParts splits Apollo's multipart body on its boundary: each part's JSON is a
// "next" (or "heartbeat" for {}); the closing delimiter is "complete".
func readParts(r io.Reader, out chan<- streamEvent) {
	const boundary = "\r\n--graphql"
	br := bufio.NewReader(r)
	var buf bytes.Buffer
	for {
		b, err := br.ReadByte()
		if err != nil {
			return
		}
		buf.WriteByte(b)
		for {
			data := buf.Bytes()
			i := bytes.Index(data, []byte(boundary))
			if i < 0 {
				break
			}
			part := data[:i]
			rest := append([]byte(nil), data[i+len(boundary):]...)
			buf.Reset()
			buf.Write(rest)
			if j := bytes.Index(part, []byte("\r\n\r\n")); j >= 0 {
				body := bytes.TrimSpace(part[j+4:])
				kind := "next"
				if string(body) == "{}" {
					kind = "heartbeat"
				}
				out <- streamEvent{kind: kind, payload: json.RawMessage(body)}
			}
		}
		if bytes.HasPrefix(buf.Bytes(), []byte("--")) {
			out <- streamEvent{kind: "complete"}
			return
		}
	}
}

func (s *streamReader) next(t testing.TB, skipHeartbeats bool) streamEvent {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case e, ok := <-s.events:
			require.True(t, ok, "stream ended")
			if e.kind == "heartbeat" && skipHeartbeats {
				continue
			}
			return e
		case <-deadline:
			t.Fatal("nothing on the stream within 5s")
		}
	}
}

func newPostRequest(t testing.TB, url, body string, header ...string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return req
}

func doRequest(t testing.TB, req *http.Request) (*http.Response, string) {
	t.Helper()
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res, string(body)
}

// TestSSEOverGET: graphql-sse's distinct mode also streams a GET with URL parameters;
// mutations are refused over GET.
func TestSSEOverGET(t *testing.T) {
	h := newHarness(t, withWebhooks())
	sess := h.openSession(t)
	q := url.Values{"query": {clientSubscription}, "variables": {`{"s":"` + sess.ID + `"}`}}
	req, err := http.NewRequest(http.MethodGet, h.gw.URL+"/graphql?"+q.Encode(), nil)
	require.NoError(t, err)
	req.Header.Set("Accept", "text/event-stream")
	s := openStream(t, req, false)
	assert.Equal(t, "text/event-stream; charset=utf-8", s.res.Header.Get("Content-Type"))
	h.waitSubscribers(t, h.orgs[0].ID, 1)
	_, err = h.sim.RegisterPerson(sess.LivestormID, "over.get@example.com", "", "")
	require.NoError(t, err)
	e := s.next(t, true)
	assert.Equal(t, "next", e.kind)
	assert.Contains(t, string(e.payload), "over.get@example.com")

	m := url.Values{"query": {`mutation { deleteEvent(input: {id: "x"}) { deletedEventId } }`}}
	req, err = http.NewRequest(http.MethodGet, h.gw.URL+"/graphql?"+m.Encode(), nil)
	require.NoError(t, err)
	req.Header.Set("Accept", "text/event-stream")
	res, _ := doRequest(t, req)
	assert.Equal(t, http.StatusMethodNotAllowed, res.StatusCode)
}

// TestSSESingleConnectionMode drives graphql-sse's single-connection mode on the wire:
// reservation, stream, operations, stop.
func TestSSESingleConnectionMode(t *testing.T) {
	h := newHarness(t, withWebhooks())
	sess := h.openSession(t)
	endpoint := h.gw.URL + "/graphql"

	put, err := http.NewRequest(http.MethodPut, endpoint, nil)
	require.NoError(t, err)
	res, token := doRequest(t, put)
	require.Equal(t, http.StatusCreated, res.StatusCode)
	assert.Equal(t, "text/plain; charset=utf-8", res.Header.Get("Content-Type"))
	require.NotEmpty(t, token)

	streamReq, err := http.NewRequest(http.MethodGet, endpoint+"?token="+url.QueryEscape(token), nil)
	require.NoError(t, err)
	streamReq.Header.Set("Accept", "text/event-stream")
	s := openStream(t, streamReq, false)
	require.Equal(t, http.StatusOK, s.res.StatusCode)

	op := func(id, query string, vars map[string]any) (*http.Response, string) {
		body, _ := json.Marshal(map[string]any{"query": query, "variables": vars, "extensions": map[string]any{"operationId": id}})
		return doRequest(t, newPostRequest(t, endpoint, string(body), "X-GraphQL-Event-Stream-Token", token))
	}
	t.Run("a second stream for the reservation is refused", func(t *testing.T) {
		again, err := http.NewRequest(http.MethodGet, endpoint, nil)
		require.NoError(t, err)
		again.Header.Set("Accept", "text/event-stream")
		again.Header.Set("X-GraphQL-Event-Stream-Token", token)
		res, _ := doRequest(t, again)
		assert.Equal(t, http.StatusConflict, res.StatusCode)
	})

	res, _ = op("sub-1", clientSubscription, map[string]any{"s": sess.ID})
	require.Equal(t, http.StatusAccepted, res.StatusCode)
	h.waitSubscribers(t, h.orgs[0].ID, 1)
	res, body := op("sub-1", clientSubscription, nil)
	assert.Equal(t, http.StatusConflict, res.StatusCode, body)
	res, body = op("", clientSubscription, nil)
	assert.Equal(t, http.StatusBadRequest, res.StatusCode, body)

	res, _ = op("query-1", `{ organization { name } }`, nil)
	require.Equal(t, http.StatusAccepted, res.StatusCode)
	e := s.next(t, true)
	assert.Equal(t, "next", e.kind)
	assert.JSONEq(t, fmt.Sprintf(`{"id":"query-1","payload":{"data":{"organization":{"name":%q}}}}`, h.orgs[0].Name), string(e.payload))
	e = s.next(t, true)
	assert.Equal(t, "complete", e.kind)
	assert.JSONEq(t, `{"id":"query-1"}`, string(e.payload))

	_, err = h.sim.RegisterPerson(sess.LivestormID, "single@example.com", "", "")
	require.NoError(t, err)
	e = s.next(t, true)
	assert.Equal(t, "next", e.kind)
	var ev struct {
		ID      string
		Payload struct{ Data registrationPayload }
	}
	require.NoError(t, json.Unmarshal(e.payload, &ev))
	assert.Equal(t, "sub-1", ev.ID)
	assert.Equal(t, "single@example.com", ev.Payload.Data.RegistrationCreated.Person.Email)

	res, _ = op("bad", `{ nope }`, nil) // validation errors are streamed, as graphql-sse expects
	require.Equal(t, http.StatusAccepted, res.StatusCode)
	e = s.next(t, true)
	assert.Contains(t, string(e.payload), `"id":"bad"`)
	assert.Contains(t, string(e.payload), "GRAPHQL_VALIDATION_FAILED")
	assert.Equal(t, "complete", s.next(t, true).kind)

	del, err := http.NewRequest(http.MethodDelete, endpoint+"?operationId=sub-1", nil)
	require.NoError(t, err)
	del.Header.Set("X-GraphQL-Event-Stream-Token", token)
	res, _ = doRequest(t, del)
	assert.Equal(t, http.StatusOK, res.StatusCode)
	h.waitSubscribers(t, h.orgs[0].ID, 0)

	t.Run("unknown tokens are not found", func(t *testing.T) {
		res, _ := doRequest(t, newPostRequest(t, endpoint, `{"query":"{ organization { id } }","extensions":{"operationId":"x"}}`, "X-GraphQL-Event-Stream-Token", "nope"))
		assert.Equal(t, http.StatusNotFound, res.StatusCode)
		del, _ := http.NewRequest(http.MethodDelete, endpoint+"?operationId=x&token=nope", nil)
		res, _ = doRequest(t, del)
		assert.Equal(t, http.StatusNotFound, res.StatusCode)
	})
}

// TestSSEReservationsBelongToTheirCaller: in forwarded mode a reservation made with one
// workspace's credential cannot be used with another's.
func TestSSEReservationsBelongToTheirCaller(t *testing.T) {
	h := newHarness(t, withForwardAuth())
	endpoint := h.gw.URL + "/graphql"
	put, _ := http.NewRequest(http.MethodPut, endpoint, nil)
	put.Header.Set("Authorization", h.orgs[0].Token)
	res, token := doRequest(t, put)
	require.Equal(t, http.StatusCreated, res.StatusCode)
	res, _ = doRequest(t, newPostRequest(t, endpoint, `{"query":"{ organization { id } }","extensions":{"operationId":"x"}}`,
		"X-GraphQL-Event-Stream-Token", token, "Authorization", h.orgs[1].Token))
	assert.Equal(t, http.StatusNotFound, res.StatusCode)
	res, _ = doRequest(t, newPostRequest(t, endpoint, `{"query":"{ organization { id } }","extensions":{"operationId":"x"}}`,
		"X-GraphQL-Event-Stream-Token", token, "Authorization", h.orgs[0].Token))
	assert.Equal(t, http.StatusAccepted, res.StatusCode)
}

// TestApolloMultipartWire checks Apollo's multipart subscription format: the boundary,
// {"payload": …} parts, {} heartbeats, GraphQL errors inside payload, and the closing
// delimiter when the operation is done.
func TestApolloMultipartWire(t *testing.T) {
	h := newHarness(t, withWebhooks())
	sess := h.openSession(t)
	deps := h.deps
	deps.KeepAlive = 30 * time.Millisecond // heartbeats every min(KeepAlive, 5 s)
	base := newHarnessServer(t, deps)
	const accept = "multipart/mixed;boundary=graphql;subscriptionSpec=1.0,application/json"
	body, _ := json.Marshal(map[string]any{"query": clientSubscription, "variables": map[string]any{"s": sess.ID}})
	s := openStream(t, newPostRequest(t, base+"/graphql", string(body), "Accept", accept), true)
	assert.Equal(t, `multipart/mixed;boundary="graphql";subscriptionSpec="1.0"`, s.res.Header.Get("Content-Type"))
	assert.Equal(t, "heartbeat", s.next(t, false).kind, "{} parts keep the stream alive")
	h.waitSubscribers(t, h.orgs[0].ID, 1)
	for i := range 3 {
		_, err := h.sim.RegisterPerson(sess.LivestormID, fmt.Sprintf("apollo%d@example.com", i), "", "")
		require.NoError(t, err)
		e := s.next(t, true)
		require.Equal(t, "next", e.kind)
		var part struct {
			Payload struct{ Data registrationPayload }
		}
		require.NoError(t, json.Unmarshal(e.payload, &part), "%s", e.payload)
		assert.Equal(t, fmt.Sprintf("apollo%d@example.com", i), part.Payload.Data.RegistrationCreated.Person.Email)
	}

	t.Run("a validation error is a GraphQL error in payload, then the end", func(t *testing.T) {
		s := openStream(t, newPostRequest(t, base+"/graphql", `{"query":"subscription { nope }"}`, "Accept", accept), true)
		e := s.next(t, true)
		assert.Contains(t, string(e.payload), `"payload":{`)
		assert.Contains(t, string(e.payload), "GRAPHQL_VALIDATION_FAILED")
		assert.Equal(t, "complete", s.next(t, true).kind)
	})
	t.Run("a query is one part, then the end", func(t *testing.T) {
		s := openStream(t, newPostRequest(t, base+"/graphql", `{"query":"{ organization { name } }"}`, "Accept", accept), true)
		e := s.next(t, true)
		assert.JSONEq(t, fmt.Sprintf(`{"payload":{"data":{"organization":{"name":%q}}}}`, h.orgs[0].Name), string(e.payload))
		assert.Equal(t, "complete", s.next(t, true).kind)
	})
}

// TestStreamsEndOnShutdown: when the server shuts down (Deps.Streams ends), every stream
// gets a last event saying why (UNAVAILABLE) and completes; WebSockets then close with
// 1001 going away.
func TestStreamsEndOnShutdown(t *testing.T) {
	const q = `subscription { livestormEvents { type } }`
	for _, transport := range []string{protoTransportWS, protoLegacyWS, "sse", "sse-single", "multipart"} {
		t.Run(transport, func(t *testing.T) {
			h := newHarness(t)
			streams, shutdown := context.WithCancel(context.Background())
			defer shutdown()
			deps := h.deps
			deps.Streams = streams
			base := newHarnessServer(t, deps)
			var last func() (json.RawMessage, string)
			switch transport {
			case protoTransportWS, protoLegacyWS:
				c := dialRaw(t, base, transport)
				c.init()
				start := map[string]string{protoTransportWS: "subscribe", protoLegacyWS: "start"}[transport]
				c.send(`{"id":"1","type":"` + start + `","payload":{"query":"` + q + `"}}`)
				last = func() (json.RawMessage, string) {
					m := c.expect(map[string]string{protoTransportWS: "next", protoLegacyWS: "data"}[transport])
					assert.Equal(t, "1", c.expect("complete").ID)
					ce := c.expectClose()
					assert.Equal(t, coderws.StatusGoingAway, ce.Code)
					assert.Equal(t, "the gateway is shutting down", ce.Reason)
					return m.Payload, "complete"
				}
			case "sse", "multipart":
				req := newPostRequest(t, base+"/graphql", `{"query":"`+q+`"}`, "Accept", "text/event-stream")
				if transport == "multipart" {
					req.Header.Set("Accept", "multipart/mixed;subscriptionSpec=1.0")
				}
				s := openStream(t, req, transport == "multipart")
				last = func() (json.RawMessage, string) {
					e := s.next(t, true)
					require.Equal(t, "next", e.kind)
					return e.payload, s.next(t, true).kind
				}
			case "sse-single":
				put, _ := http.NewRequest(http.MethodPut, base+"/graphql", nil)
				_, token := doRequest(t, put)
				req, _ := http.NewRequest(http.MethodGet, base+"/graphql?token="+token, nil)
				req.Header.Set("Accept", "text/event-stream")
				s := openStream(t, req, false)
				res, _ := doRequest(t, newPostRequest(t, base+"/graphql", `{"query":"`+q+`","extensions":{"operationId":"op"}}`, "X-GraphQL-Event-Stream-Token", token))
				require.Equal(t, http.StatusAccepted, res.StatusCode)
				last = func() (json.RawMessage, string) {
					e := s.next(t, true)
					require.Equal(t, "next", e.kind)
					c := s.next(t, true)
					assert.JSONEq(t, `{"id":"op"}`, string(c.payload))
					return e.payload, c.kind
				}
			}
			h.waitSubscribers(t, h.orgs[0].ID, 1)
			shutdown()
			payload, end := last()
			assert.Contains(t, string(payload), `"code":"UNAVAILABLE"`)
			assert.Contains(t, string(payload), "shutting down")
			assert.Equal(t, "complete", end)
			h.waitSubscribers(t, h.orgs[0].ID, 0)
		})
	}
}

// TestOneExecutionServesEveryTransport: subscribers of the same subscription, whatever
// their transport, share one execution: one bus subscription, one upstream call per
// event, the same bytes for all.
func TestOneExecutionServesEveryTransport(t *testing.T) {
	h := newHarness(t)
	org := h.orgs[0]
	sess := h.openSession(t)
	before := goleak.IgnoreCurrent()

	vars := map[string]any{"s": sess.ID}
	var subs []subscriber
	for _, proto := range []string{protoTransportWS, protoLegacyWS, protoSSE} {
		for i := range 4 {
			c := openSubscriber(t, proto, h.gw.URL, "")
			c.subscribe(t, "same", clientSubscription, vars)
			subs = append(subs, c)
			if i == 0 {
				c.subscribe(t, "other", clientSubscription, map[string]any{"s": "another-session"})
			}
		}
	}
	mp := openStream(t, newPostRequest(t, h.gw.URL+"/graphql", string(mustJSON(t, map[string]any{"query": clientSubscription, "variables": vars})),
		"Accept", "multipart/mixed;subscriptionSpec=1.0"), true)
	require.Eventually(t, func() bool { return gaugeValue(t, h) == 12+3+1 }, 5*time.Second, time.Millisecond, "every subscriber joined")
	h.waitSubscribers(t, org.ID, 2) // two groups (executions): this session's, another session's

	h.resetCalls()
	body := registrationDelivery(org.ID, "p-shared", "shared@example.com", sess.Event.LivestormID, sess.LivestormID)
	require.Equal(t, http.StatusAccepted, postWebhook(t, h.gw.URL, sign(body, time.Now())))
	var payloads []string
	for _, s := range subs {
		r := nextEvent(t, s, "same", 5*time.Second)
		require.Equal(t, "next", r.kind)
		payloads = append(payloads, string(r.payload))
	}
	part := mp.next(t, true)
	var wrapped struct{ Payload json.RawMessage }
	require.NoError(t, json.Unmarshal(part.payload, &wrapped))
	payloads = append(payloads, string(wrapped.Payload))
	for _, p := range payloads {
		assert.Equal(t, payloads[0], p, "the same bytes for every subscriber")
	}
	assert.Contains(t, payloads[0], "shared@example.com")
	assert.Equal(t, 1, h.upstreamCalls(), "one execution: the evicted session is read once, not once per subscriber")

	var wg sync.WaitGroup
	for _, s := range subs {
		wg.Add(1)
		go func() { defer wg.Done(); s.close() }()
	}
	wg.Wait()
	mp.res.Body.Close()
	h.waitSubscribers(t, org.ID, 0)
	require.Eventually(t, func() bool { return gaugeValue(t, h) == 0 }, 5*time.Second, time.Millisecond)
	http.DefaultClient.CloseIdleConnections()
	goleak.VerifyNone(t, before)
	assert.Equal(t, 0, h.deps.push.bus.Subscribers(tenant.ScopeForOrg(org.ID)))
}

// TestWebSocketOperationsPerConnectionAreBounded: one socket runs at most
// stream.MaxOperationsPerConnection operations; the next subscribe gets an error for its
// id and the connection stays usable.
func TestWebSocketOperationsPerConnectionAreBounded(t *testing.T) {
	h := newHarness(t)
	c := dialRaw(t, h.gw.URL, protoTransportWS)
	c.init()
	for i := range stream.MaxOperationsPerConnection {
		c.send(fmt.Sprintf(`{"id":"s%d","type":"subscribe","payload":{"query":"subscription { sessionChanged { type } }"}}`, i))
	}
	h.waitSubscribers(t, h.orgs[0].ID, 1) // one group: identical subscriptions share it
	c.send(`{"id":"over","type":"subscribe","payload":{"query":"subscription { sessionChanged { type } }"}}`)
	m := c.expect("error")
	assert.Equal(t, "over", m.ID)
	var errs []gqlError
	require.NoError(t, json.Unmarshal(m.Payload, &errs))
	require.Len(t, errs, 1)
	assert.Equal(t, "RATE_LIMITED", errs[0].code())

	c.send(`{"id":"s0","type":"complete"}`)
	c.send(`{"id":"again","type":"subscribe","payload":{"query":"{ organization { name } }"}}`)
	assert.Equal(t, "again", c.expect("next").ID, "a slot freed by complete is usable again")
}
