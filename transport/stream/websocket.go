package stream

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	coderws "github.com/coder/websocket"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// The WebSocket subprotocols served, in order of preference.
const (
	// SubprotocolTransportWS is graphql-ws's protocol (GraphiQL, Apollo's GraphQLWsLink,
	// urql): see the graphql-ws package's PROTOCOL.md.
	SubprotocolTransportWS = "graphql-transport-ws"
	// SubprotocolGraphQLWS is the legacy protocol of subscriptions-transport-ws.
	SubprotocolGraphQLWS = "graphql-ws"
)

// Close codes of graphql-transport-ws (also used on the legacy protocol, which defines
// none).
const (
	CloseBadRequest               coderws.StatusCode = 4400 // an invalid message
	CloseUnauthorized             coderws.StatusCode = 4401 // subscribe before connection_ack
	CloseForbidden                coderws.StatusCode = 4403 // connection_init rejected
	CloseSubprotocolNotAcceptable coderws.StatusCode = 4406
	CloseInitTimeout              coderws.StatusCode = 4408 // no connection_init in time
	CloseSubscriberExists         coderws.StatusCode = 4409 // a subscribe id already in use
	CloseTooManyInits             coderws.StatusCode = 4429 // a second connection_init
)

// WebSocket serves graphql-transport-ws and the legacy graphql-ws on one route.
//
// An idle connection costs one goroutine whatever its number of subscriptions: its
// reader (which handles client messages and starts operations). Writing is done only
// while there is something to write (queued control messages, the events the hub queued
// for the connection's subscriptions, a keep-alive), in one write syscall per round (see
// batchWriter): by the transport's shared writers (writerPool), one per CPU, whose
// writes never wait, or, when the socket cannot take everything at once, by a goroutine
// of the connection's own, ending once it is written. Keep-alives are timers, not
// goroutines. The HTTP handler returns once the socket is upgraded, so net/http's deep
// request stack is not kept, and the socket keeps smaller buffers than net/http's (see
// leanHijacker).
type WebSocket struct {
	o       Options
	writers *writerPool
}

// NewWebSocket returns the WebSocket transport.
func NewWebSocket(o Options) *WebSocket {
	return &WebSocket{o: o.withDefaults(), writers: newWriterPool(runtime.GOMAXPROCS(0))}
}

var _ graphql.Transport = (*WebSocket)(nil)

// Supports accepts WebSocket upgrade requests.
func (t *WebSocket) Supports(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

// Do upgrades the connection and serves it until it closes.
func (t *WebSocket) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	hj := &leanHijacker{ResponseWriter: w}
	ws, err := coderws.Accept(hj, r, &coderws.AcceptOptions{
		Subprotocols:    []string{SubprotocolTransportWS, SubprotocolGraphQLWS},
		OriginPatterns:  t.o.OriginPatterns,
		CompressionMode: coderws.CompressionDisabled, // a deflate context per socket costs more than idle sockets may
	})
	if err != nil {
		return // Accept answered (403 for a foreign origin, 426, ...)
	}
	proto := ws.Subprotocol()
	if proto != SubprotocolTransportWS && proto != SubprotocolGraphQLWS {
		_ = ws.Close(CloseSubprotocolNotAcceptable, "Subprotocol not acceptable")
		return
	}
	ws.SetReadLimit(t.o.MaxMessageBytes)
	life, cancel := detached(r.Context())
	legacy := proto == SubprotocolGraphQLWS
	c := &wsConn{
		o: &t.o, exec: exec, ws: ws, legacy: legacy,
		life: life, cancel: cancel, opsCtx: life,
		out: newOutbox(wsFraming{legacy: legacy}), batch: hj.batch, writers: t.writers,
	}
	c.out.kick = c.kick
	c.lastSeen.Store(time.Now().UnixNano())
	c.initTimer = time.AfterFunc(t.o.InitTimeout, c.initTimedOut)
	c.writeTimer = time.AfterFunc(time.Hour, func() { _ = c.ws.CloseNow() })
	c.writeTimer.Stop()
	c.keepAliveTimer = time.AfterFunc(t.o.KeepAlive, c.keepAliveTick)
	c.stopShutdown = context.AfterFunc(t.o.Streams, c.shutdown)
	go c.readLoop()
}

// Buffer sizes of a hijacked socket, kept for as long as it is open: clients send small
// messages (pongs, subscribe messages of a few hundred bytes), so the read buffer can be
// small; the write buffer can be smaller still, because what the writer flushes is
// gathered by batchWriter into one write per drain, however many times it fills.
const (
	readBufferSize  = 1 << 10
	writeBufferSize = 512
)

// leanHijacker hands coder/websocket the socket with a 1 KiB read buffer instead of
// net/http's 4 KiB one (whatever net/http had buffered is kept), and a 512 B write buffer
// over a batchWriter instead of net/http's 4 KiB one over the socket.
type leanHijacker struct {
	http.ResponseWriter
	batch *batchWriter // set by Hijack
}

func (w *leanHijacker) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *leanHijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	if err := brw.Writer.Flush(); err != nil {
		_ = conn.Close()
		return nil, nil, err
	}
	// What net/http read past the request (a client's first message) must be in the
	// new reader's buffer: coder/websocket keeps only what is buffered.
	br := bufio.NewReaderSize(conn, readBufferSize)
	if n := brw.Reader.Buffered(); n > 0 {
		early, _ := brw.Reader.Peek(n)
		br = bufio.NewReaderSize(io.MultiReader(bytes.NewReader(bytes.Clone(early)), conn), max(readBufferSize, n))
		if _, err := br.Peek(n); err != nil { // one read, from the copy: never blocks
			_ = conn.Close()
			return nil, nil, err
		}
	}
	w.batch = newBatchWriter(conn)
	return conn, bufio.NewReadWriter(br, bufio.NewWriterSize(w.batch, writeBufferSize)), nil
}

// wsConn is one WebSocket connection.
type wsConn struct {
	o      *Options
	exec   graphql.GraphExecutor
	ws     *coderws.Conn
	legacy bool
	out    *outbox
	batch  *batchWriter // under ws: the writer holds what it writes during a drain
	// writers write the connection's rounds when its socket has a file descriptor
	// (batch.raw); otherwise each round has a goroutine of its own.
	writers *writerPool

	// life ends with the connection: the writer, single-result operations and the
	// contexts InitFunc derived all end with it.
	life   context.Context
	cancel context.CancelFunc

	initTimer, writeTimer, keepAliveTimer *time.Timer
	stopShutdown                          func() bool
	initStarted                           atomic.Bool
	// writing is set while a writer goroutine runs; keepAliveDue asks it for a ping.
	writing, keepAliveDue atomic.Bool

	// Reader-owned.
	opsCtx context.Context // what operations run in: InitFunc's context once acknowledged
	acked  bool

	// Written by the reader, read by the writer's keep-alive.
	ready    atomic.Bool
	lastSeen atomic.Int64 // unix ns of the client's last message
}

type closeReason struct {
	code   coderws.StatusCode
	reason string
}

// wsFraming encodes graphql-transport-ws (or, legacy, graphql-ws) messages.
type wsFraming struct{ legacy bool }

func (f wsFraming) event(id string) (prefix, suffix []byte) {
	typ := `"next"`
	if f.legacy {
		typ = `"data"`
	}
	prefix = append([]byte(`{"id":`), mustJSON(id)...)
	prefix = append(prefix, `,"type":`...)
	prefix = append(prefix, typ...)
	return append(prefix, `,"payload":`...), []byte(`}`)
}

func (f wsFraming) complete(id string) []byte { return wsFrame(id, "complete", nil) }

func (f wsFraming) ended(o *op, err *gqlerror.Error) []byte { return o.event(errorsResponse(err)) }

// wsFrame encodes a message: {"id":…,"type":…,"payload":…} (id and payload omitted when
// empty).
func wsFrame(id, typ string, payload []byte) []byte {
	b := make([]byte, 0, 48+len(id)+len(payload))
	b = append(b, '{')
	if id != "" {
		b = append(b, `"id":`...)
		b = append(b, mustJSON(id)...)
		b = append(b, ',')
	}
	b = append(b, `"type":`...)
	b = append(b, mustJSON(typ)...)
	if payload != nil {
		b = append(b, `,"payload":`...)
		b = append(b, payload...)
	}
	return append(b, '}')
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// closeReasonText fits a close reason in a control frame (123 bytes).
func closeReasonText(s string) string {
	if len(s) <= 123 {
		return s
	}
	return s[:120] + "..."
}

type wsMessage struct {
	ID      *string         `json:"id"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload"`
}

// readLoop handles client messages until the connection ends, then cleans up.
func (c *wsConn) readLoop() {
	defer c.finish()
	for {
		// No context: the connection ends by being closed (finish, timers, the writer),
		// and a context would cost coder/websocket a registration per read.
		typ, raw, err := c.ws.Read(context.Background())
		if err != nil {
			return
		}
		c.lastSeen.Store(time.Now().UnixNano())
		var m wsMessage
		if typ != coderws.MessageText || json.Unmarshal(raw, &m) != nil || m.Type == "" {
			if c.legacy {
				c.out.queue(wsFrame("", "connection_error", mustJSON(map[string]string{"message": "invalid message: a JSON object with a type is expected"})))
				continue
			}
			c.closeNow(CloseBadRequest, "Invalid message received")
			return
		}
		if !c.handle(&m) {
			return
		}
	}
}

// handle acts on one message; false means the connection is closing.
func (c *wsConn) handle(m *wsMessage) bool {
	id := ""
	if m.ID != nil {
		id = *m.ID
	}
	switch {
	case m.Type == "connection_init":
		return c.init(m.Payload)
	case m.Type == "ping" && !c.legacy:
		c.out.queue([]byte(`{"type":"pong"}`))
	case m.Type == "pong" && !c.legacy:
		// lastSeen is updated for every message
	case (m.Type == "subscribe" && !c.legacy) || (m.Type == "start" && c.legacy):
		return c.subscribe(id, m.Payload)
	case (m.Type == "complete" && !c.legacy) || (m.Type == "stop" && c.legacy):
		c.out.remove(id)
	case m.Type == "connection_terminate" && c.legacy:
		c.closeNow(coderws.StatusNormalClosure, "terminated")
		return false
	case c.legacy:
		c.out.queue(wsFrame(id, "error", mustJSON([]map[string]string{{"message": "unknown message type " + m.Type}})))
	default:
		c.closeNow(CloseBadRequest, "Invalid message received")
		return false
	}
	return true
}

// init accepts or rejects connection_init.
func (c *wsConn) init(payload json.RawMessage) bool {
	if c.initStarted.Swap(true) {
		if c.legacy {
			return true // subscriptions-transport-ws re-sends init only on reconnect; ignore
		}
		c.closeNow(CloseTooManyInits, "Too many initialisation requests")
		return false
	}
	c.initTimer.Stop()
	var p transport.InitPayload
	if len(payload) > 0 && !bytes.Equal(payload, []byte("null")) {
		if err := json.Unmarshal(payload, &p); err != nil {
			if c.legacy {
				c.out.closeAfter(wsFrame("", "connection_error", mustJSON(map[string]string{"message": "the connection_init payload must be an object"})),
					closeReason{CloseBadRequest, "Invalid connection_init payload"})
				return true // the writer sends the error, then closes
			}
			c.closeNow(CloseBadRequest, "Invalid connection_init payload")
			return false
		}
	}
	ctx := c.life
	var ack *transport.InitPayload
	if c.o.InitFunc != nil {
		var err error
		ctx, ack, err = c.o.InitFunc(c.life, p)
		if err != nil {
			reason := closeReasonText("Forbidden: " + err.Error())
			if c.legacy {
				c.out.closeAfter(wsFrame("", "connection_error", mustJSON(map[string]string{"message": err.Error()})), closeReason{CloseForbidden, reason})
				return true
			}
			c.closeNow(CloseForbidden, reason)
			return false
		}
	}
	c.opsCtx, c.acked = ctx, true
	msg := map[string]any{"type": "connection_ack"}
	if ack != nil && *ack != nil {
		msg["payload"] = *ack
	}
	frames := [][]byte{mustJSON(msg)}
	if c.legacy {
		frames = append(frames, []byte(`{"type":"ka"}`)) // the protocol: ka right after the ack
	}
	c.out.queue(frames...)
	c.ready.Store(true)
	return true
}

// MaxOperationsPerConnection bounds the operations one WebSocket connection runs at once;
// a subscribe past it is answered with an error for that id, the connection stays open.
const MaxOperationsPerConnection = 100

// subscribe starts operation id.
func (c *wsConn) subscribe(id string, payload json.RawMessage) bool {
	start := graphql.Now()
	if !c.acked {
		if c.legacy {
			c.out.queue(wsFrame(id, "error", mustJSON([]map[string]string{{"message": "send connection_init first"}})))
			return true
		}
		c.closeNow(CloseUnauthorized, "Unauthorized")
		return false
	}
	var req request
	if id == "" || decodeJSON(bytes.NewReader(payload), &req) != nil || req.Query == "" && req.Extensions == nil {
		if c.legacy {
			c.out.queue(wsFrame(id, "error", mustJSON([]map[string]string{{"message": "start needs an id and a payload with a query"}})))
			return true
		}
		c.closeNow(CloseBadRequest, "Invalid message received")
		return false
	}
	if c.out.len() >= MaxOperationsPerConnection && c.out.lookup(id) == nil {
		// One socket must not hold unbounded state: each operation keeps a queue and, for
		// a new group, an execution.
		c.out.queue(wsFrame(id, "error", mustJSON([]map[string]any{{
			"message":    fmt.Sprintf("this connection already runs %d operations, the most one connection may; complete some or open another connection", MaxOperationsPerConnection),
			"extensions": map[string]any{"code": "RATE_LIMITED"},
		}})))
		return true
	}
	o := c.out.newOp(id)
	if !c.out.register(o) {
		if !c.legacy {
			c.closeNow(CloseSubscriberExists, closeReasonText("Subscriber for "+id+" already exists"))
			return false
		}
		// subscriptions-transport-ws restarts an id by starting it again: stop the old one.
		c.out.remove(id)
		if !c.out.register(o) {
			return true // shutting down
		}
	}

	p := prepare(graphql.StartOperationTrace(c.opsCtx), c.exec, req.params(nil, start))
	switch {
	case p.errs != nil:
		if c.out.drop(o) {
			c.out.queue(wsFrame(id, "error", mustJSON(p.errs)))
		}
	case p.isSubscription():
		c.out.attach(o, c.o.Hub.Join(p.ctx, c.exec, p.params, p.op, func() { c.out.markPending(o) }))
	default:
		ctx, stop := context.WithCancel(p.ctx)
		c.out.setStop(o, stop)
		p.ctx = ctx
		go func() {
			defer stop()
			singleResults(p, c.exec, func(resp []byte) { c.out.queueFor(o, o.event(resp)) })
			if c.out.drop(o) {
				c.out.queue(wsFrame(id, "complete", nil))
			}
		}()
	}
	return true
}

// closeNow closes the socket with code (from the reader or a timer: the connection is
// being refused, nothing queued matters).
func (c *wsConn) closeNow(code coderws.StatusCode, reason string) {
	c.batch.seal()
	_ = c.ws.Close(code, reason)
}

// initTimedOut closes a connection that sent no connection_init in time.
func (c *wsConn) initTimedOut() {
	if !c.initStarted.Load() {
		c.closeNow(CloseInitTimeout, "Connection initialisation timeout")
	}
}

// shutdown ends every operation (a last event saying why, then complete) and has the
// writer close the socket with 1001 going away.
func (c *wsConn) shutdown() {
	c.out.shutdown(shutdownError, closeReason{coderws.StatusGoingAway, "the gateway is shutting down"})
}

// finish runs when the reader ends: everything the connection holds is released.
func (c *wsConn) finish() {
	c.initTimer.Stop()
	c.keepAliveTimer.Stop()
	c.stopShutdown()
	c.cancel()
	_ = c.ws.CloseNow()
	c.out.closeAll()
}

// kick has a round written unless one is under way (it will see the new work).
func (c *wsConn) kick() {
	if c.writing.CompareAndSwap(false, true) {
		if c.batch.raw != nil {
			c.writers.schedule(c)
		} else {
			go c.flush(false, false, nil)
		}
	}
}

// A round writes what the outbox holds (and a due keep-alive) in one write syscall:
// what the round writes is held, then released at once (batchWriter), before a close
// handshake, which must reach the peer to be answered. Only one round of a connection
// runs at a time (writing).

// flushShared is a round on one of the shared writers: it never waits for the socket. A
// round the socket cannot take at once, and the end of a connection, continue in a
// goroutine of the connection's own (flush).
func (c *wsConn) flushShared() {
	c.batch.hold(true)
	ok, closing := c.fill()
	if ok && closing == nil {
		done, err := c.batch.tryRelease()
		switch {
		case err != nil:
			ok = false
		case done:
			if c.endRound(true, nil) {
				c.writers.schedule(c) // more came meanwhile: queued behind the others
			}
			return
		}
	}
	go c.flush(true, ok, closing)
}

// flush writes rounds until nothing is left, in a goroutine of the connection's own,
// and may wait for the socket (at most writeTimeout per round). held: a round the
// shared writers began is held, with ok and closing its outcome; it is released first.
func (c *wsConn) flush(held, ok bool, closing *closeReason) {
	for {
		c.writeTimer.Reset(writeTimeout) // filling may write too, past batchMax
		if !held {
			c.batch.hold(false)
			ok, closing = c.fill()
		}
		held = false
		if err := c.batch.release(); err != nil {
			ok = false
		}
		c.writeTimer.Stop()
		if !c.endRound(ok, closing) {
			return
		}
	}
}

// fill drains the outbox, and a due keep-alive, into what the batch writer holds; false
// when the connection failed, and the close reason once it must close.
func (c *wsConn) fill() (ok bool, closing *closeReason) {
	ok, closing = c.out.drain(c.write)
	if ok && c.keepAliveDue.Swap(false) {
		ok = c.write(c.keepAliveMessage())
	}
	return ok, closing
}

// endRound ends a round that was written (ok) or failed, closing the connection if it
// must; true when another round is due and this writer claimed it (writing).
func (c *wsConn) endRound(ok bool, closing *closeReason) bool {
	switch {
	case !ok:
		_ = c.ws.CloseNow() // writing stays set: nothing more is written
		return false
	case closing != nil:
		c.batch.seal()
		_ = c.ws.Close(closing.code, closing.reason)
		return false
	}
	c.writing.Store(false)
	return (c.out.hasWork() || c.keepAliveDue.Load()) && c.writing.CompareAndSwap(false, true)
}

// write adds one text message to the round; false when the connection is closing. A
// round that takes longer than writeTimeout to write closes the connection (writeTimer).
func (c *wsConn) write(b []byte) bool {
	return c.batch.frame(b) == nil
}

func (c *wsConn) keepAliveMessage() []byte {
	if c.legacy {
		return []byte(`{"type":"ka"}`)
	}
	return []byte(`{"type":"ping"}`)
}

// keepAliveTick runs every keep-alive interval (a timer): once the connection is
// acknowledged it has the writer send a ping (graphql-transport-ws) or ka (graphql-ws),
// and it disconnects a graphql-transport-ws client silent for two intervals.
func (c *wsConn) keepAliveTick() {
	if c.life.Err() != nil {
		return
	}
	if c.ready.Load() {
		if !c.legacy && time.Since(time.Unix(0, c.lastSeen.Load())) > 2*c.o.KeepAlive {
			_ = c.ws.CloseNow() // gone: no close handshake with a peer that does not answer
			return
		}
		c.keepAliveDue.Store(true)
		c.kick()
	}
	c.keepAliveTimer.Reset(c.o.KeepAlive)
}
