package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	coderws "github.com/coder/websocket"
	"github.com/stretchr/testify/require"

	"github.com/livestorm-gateway/gateway/tenant"
)

// Test clients for GraphQL subscriptions over the three transports, written against the
// protocols rather than gqlgen, so the tests see exactly what a browser client sees.

const (
	protoTransportWS = "graphql-transport-ws" // graphql-ws library, GraphiQL
	protoLegacyWS    = "graphql-ws"           // subscriptions-transport-ws (Apollo's legacy)
	protoSSE         = "sse"                  // POST with Accept: text/event-stream
)

// streamEvent is one thing a subscription stream said: a result, an error, the end.
type streamEvent struct {
	kind    string // "next", "error", "complete"
	payload json.RawMessage
}

// result decodes a "next" payload ({data, errors}).
func (e streamEvent) result(t testing.TB) gqlResponse {
	t.Helper()
	require.Equal(t, "next", e.kind, "payload: %s", e.payload)
	var r gqlResponse
	require.NoError(t, json.Unmarshal(e.payload, &r), "payload: %s", e.payload)
	return r
}

// subscriber is a subscription client of one transport.
type subscriber interface {
	// subscribe starts operation id; events of it arrive on events(id).
	subscribe(t testing.TB, id, query string, vars map[string]any)
	events(id string) <-chan streamEvent
	unsubscribe(t testing.TB, id string)
	close()
	keepAlives() int64
}

// openSubscriber connects a client of protocol to the gateway at base; authorization (in
// forwarded mode) goes in connection_init for WebSockets and in the header for SSE.
func openSubscriber(t testing.TB, protocol, base, authorization string) subscriber {
	t.Helper()
	if protocol == protoSSE {
		return &sseClient{base: base, authorization: authorization, streams: map[string]*sseStream{}, all: map[string]*sseStream{}}
	}
	c, err := dialWS(t, base, protocol, authorization)
	require.NoError(t, err)
	return c
}

// wsMessage is a message of either WebSocket protocol.
type wsMessage struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

type wsClient struct {
	conn     *coderws.Conn
	protocol string
	cancel   context.CancelFunc
	done     chan struct{}
	ka       atomic.Int64

	mu       sync.Mutex
	streams  map[string]chan streamEvent // open streams
	all      map[string]chan streamEvent // every stream, open or ended
	control  chan wsMessage              // connection-level messages (ack, errors)
	closeErr error
}

// dialWS connects and completes connection_init; it returns the error the gateway gave
// when it refused the connection.
func dialWS(t testing.TB, base, protocol, authorization string) (*wsClient, error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	conn, res, err := coderws.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/graphql",
		&coderws.DialOptions{Subprotocols: []string{protocol}})
	if res != nil && res.Body != nil {
		res.Body.Close()
	}
	if err != nil {
		cancel()
		return nil, err
	}
	require.Equal(t, protocol, conn.Subprotocol())
	conn.SetReadLimit(1 << 22)
	c := &wsClient{conn: conn, protocol: protocol, cancel: cancel, done: make(chan struct{}),
		streams: map[string]chan streamEvent{}, all: map[string]chan streamEvent{}, control: make(chan wsMessage, 16)}
	go c.read(ctx)

	payload := map[string]any{}
	if authorization != "" {
		payload["Authorization"] = authorization
	}
	c.send(t, wsMessage{Type: "connection_init", Payload: mustJSON(t, payload)})
	select {
	case m := <-c.control:
		if m.Type == "connection_ack" {
			return c, nil
		}
		c.close()
		return nil, errors.New(m.Type + ": " + string(m.Payload))
	case <-c.done:
		c.close()
		return nil, c.closeErr
	case <-time.After(5 * time.Second):
		c.close()
		return nil, errors.New("no connection_ack within 5s")
	}
}

func (c *wsClient) read(ctx context.Context) {
	defer close(c.done)
	defer func() {
		c.mu.Lock()
		for _, ch := range c.streams {
			close(ch)
		}
		c.streams = map[string]chan streamEvent{}
		c.mu.Unlock()
	}()
	for {
		_, raw, err := c.conn.Read(ctx)
		if err != nil {
			c.mu.Lock()
			c.closeErr = err
			c.mu.Unlock()
			return
		}
		var m wsMessage
		if json.Unmarshal(raw, &m) != nil {
			continue
		}
		switch m.Type {
		case "ka", "pong":
			c.ka.Add(1)
		case "ping":
			c.ka.Add(1)
			_ = c.conn.Write(ctx, coderws.MessageText, []byte(`{"type":"pong"}`))
		case "next", "data", "error", "complete":
			kind := m.Type
			if kind == "data" {
				kind = "next"
			}
			c.mu.Lock() // held while sending, so unsubscribe never closes ch under a send
			if ch := c.streams[m.ID]; ch != nil {
				select {
				case ch <- streamEvent{kind: kind, payload: m.Payload}:
				default: // a test not reading 64 events deep does not care
				}
				if kind != "next" {
					delete(c.streams, m.ID)
					close(ch)
				}
			}
			c.mu.Unlock()
		default: // connection_ack, connection_error
			select {
			case c.control <- m:
			default:
			}
		}
	}
}

func (c *wsClient) send(t testing.TB, m wsMessage) {
	t.Helper()
	raw, err := json.Marshal(m)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, c.conn.Write(ctx, coderws.MessageText, raw))
}

func (c *wsClient) subscribe(t testing.TB, id, query string, vars map[string]any) {
	t.Helper()
	ch := make(chan streamEvent, 64)
	c.mu.Lock()
	c.streams[id], c.all[id] = ch, ch
	c.mu.Unlock()
	typ := "subscribe"
	if c.protocol == protoLegacyWS {
		typ = "start"
	}
	c.send(t, wsMessage{ID: id, Type: typ, Payload: mustJSON(t, map[string]any{"query": query, "variables": vars})})
}

func (c *wsClient) events(id string) <-chan streamEvent {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.all[id]
}

func (c *wsClient) unsubscribe(t testing.TB, id string) {
	t.Helper()
	typ := "complete"
	if c.protocol == protoLegacyWS {
		typ = "stop"
	}
	c.send(t, wsMessage{ID: id, Type: typ})
	c.mu.Lock()
	if ch := c.streams[id]; ch != nil {
		delete(c.streams, id)
		close(ch)
	}
	c.mu.Unlock()
}

func (c *wsClient) close() {
	_ = c.conn.Close(coderws.StatusNormalClosure, "")
	c.cancel()
	<-c.done
}

func (c *wsClient) keepAlives() int64 { return c.ka.Load() }

// sseClient runs each subscription as its own streaming POST.
type sseClient struct {
	base, authorization string
	ka                  atomic.Int64
	mu                  sync.Mutex
	streams             map[string]*sseStream // open streams
	all                 map[string]*sseStream // every stream
}

type sseStream struct {
	events chan streamEvent
	cancel context.CancelFunc
	done   chan struct{}
}

func (c *sseClient) subscribe(t testing.TB, id, query string, vars map[string]any) {
	t.Helper()
	body := mustJSON(t, map[string]any{"query": query, "variables": vars})
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/graphql", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	if c.authorization != "" {
		req.Header.Set("Authorization", c.authorization)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		require.NoError(t, err)
	}
	require.Contains(t, res.Header.Get("Content-Type"), "text/event-stream")
	s := &sseStream{events: make(chan streamEvent, 64), cancel: cancel, done: make(chan struct{})}
	c.mu.Lock()
	c.streams[id], c.all[id] = s, s
	c.mu.Unlock()
	emit := func(e streamEvent) {
		select {
		case s.events <- e:
		case <-ctx.Done():
		}
	}
	go func() {
		defer close(s.done)
		defer close(s.events)
		defer res.Body.Close()
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(make([]byte, 64<<10), 4<<20)
		var event string
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, ": ping"):
				c.ka.Add(1)
			case strings.HasPrefix(line, "event: "):
				event = strings.TrimPrefix(line, "event: ")
				if event == "complete" {
					emit(streamEvent{kind: "complete"})
					return
				}
			case strings.HasPrefix(line, "data: "):
				emit(streamEvent{kind: event, payload: json.RawMessage(strings.TrimPrefix(line, "data: "))})
			}
		}
	}()
}

func (c *sseClient) events(id string) <-chan streamEvent {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s := c.all[id]; s != nil {
		return s.events
	}
	return nil
}

func (c *sseClient) unsubscribe(_ testing.TB, id string) {
	c.mu.Lock()
	s := c.streams[id]
	delete(c.streams, id)
	c.mu.Unlock()
	if s != nil {
		s.cancel()
		<-s.done
	}
}

func (c *sseClient) close() {
	c.mu.Lock()
	ids := make([]string, 0, len(c.streams))
	for id := range c.streams {
		ids = append(ids, id)
	}
	c.mu.Unlock()
	for _, id := range ids {
		c.unsubscribe(nil, id)
	}
}

func (c *sseClient) keepAlives() int64 { return c.ka.Load() }

func mustJSON(t testing.TB, v any) json.RawMessage {
	t.Helper()
	raw, err := json.Marshal(v)
	require.NoError(t, err)
	return raw
}

// nextEvent waits up to within for the next event of stream id.
func nextEvent(t testing.TB, s subscriber, id string, within time.Duration) streamEvent {
	t.Helper()
	ch := s.events(id)
	require.NotNil(t, ch, "no stream %q", id)
	select {
	case e, ok := <-ch:
		require.True(t, ok, "stream %q ended without a message", id)
		return e
	case <-time.After(within):
		t.Fatalf("no event on stream %q within %s", id, within)
		return streamEvent{}
	}
}

// waitSubscribers polls until the bus has n subscribers for the workspace of orgID: a
// subscription is live only once its resolver has subscribed.
func (h *harness) waitSubscribers(t testing.TB, orgID string, n int) {
	t.Helper()
	scope := tenant.ScopeForOrg(orgID)
	require.Eventually(t, func() bool { return h.deps.push.bus.Subscribers(scope) == n }, 5*time.Second, time.Millisecond,
		"want %d subscribers of %s, have %d", n, scope, h.deps.push.bus.Subscribers(scope))
}
