package stream

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"mime"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// graphql-sse's single-connection mode: where a request names its reservation.
const (
	// TokenHeader carries a reservation token.
	TokenHeader = "X-GraphQL-Event-Stream-Token"
	// tokenParam is the URL parameter alternative (EventSource cannot send headers).
	tokenParam = "token"
)

// SSE serves graphql-sse's two modes (its PROTOCOL.md):
//
//   - distinct connections: each operation is its own request (POST with a JSON body, or
//     GET with URL parameters) with Accept: text/event-stream; the response streams
//     "next" events and a "complete" one.
//   - single connection: PUT reserves a stream and answers a token; GET (or POST) with
//     Accept: text/event-stream and the token opens it; operations are POSTed (or GET)
//     with the token and extensions.operationId, answered 202, their results streamed
//     as {"id","payload"}; DELETE ?operationId= stops one.
//
// Validation errors are streamed as a "next" event carrying them (the protocol asks so:
// a 400 would make an EventSource fail without saying why).
type SSE struct {
	o Options

	mu           sync.Mutex
	reservations map[string]*reservation
}

// NewSSE returns the SSE transport.
func NewSSE(o Options) *SSE {
	return &SSE{o: o.withDefaults(), reservations: map[string]*reservation{}}
}

var _ graphql.Transport = (*SSE)(nil)

// Supports accepts event-stream requests, reservation management (PUT, DELETE) and the
// operations of a reservation (any request naming a token).
func (t *SSE) Supports(r *http.Request) bool {
	switch {
	case r.Method == http.MethodPut || r.Method == http.MethodDelete:
		return true
	case requestToken(r) != "":
		return true
	case !accepts(r, "text/event-stream"):
		return false
	case r.Method == http.MethodGet:
		return true
	default:
		return r.Method == http.MethodPost && isJSON(r)
	}
}

func accepts(r *http.Request, mediaType string) bool {
	return strings.Contains(strings.ToLower(r.Header.Get("Accept")), mediaType)
}

func isJSON(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "application/json"
}

func requestToken(r *http.Request) string {
	if t := r.Header.Get(TokenHeader); t != "" {
		return t
	}
	return r.URL.Query().Get(tokenParam)
}

// Do serves the request.
func (t *SSE) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	switch {
	case r.Method == http.MethodPut:
		t.reserve(w, r)
	case r.Method == http.MethodDelete:
		t.stopOperation(w, r)
	case requestToken(r) != "":
		res := t.reservation(r)
		switch {
		case res == nil:
			writeJSONError(w, http.StatusNotFound, "NOT_FOUND", "stream not found: reserve one with PUT first")
		case accepts(r, "text/event-stream"):
			t.serveReservation(w, r, res)
		default:
			t.startOperation(w, r, exec, res)
		}
	default:
		t.serveDistinct(w, r, exec)
	}
}

// sseFraming encodes events of a distinct stream (single: false) or of a reservation.
type sseFraming struct{ single bool }

func (f sseFraming) event(id string) (prefix, suffix []byte) {
	if !f.single {
		return []byte("event: next\ndata: "), []byte("\n\n")
	}
	return append(append([]byte(`event: next`+"\n"+`data: {"id":`), mustJSON(id)...), `,"payload":`...), []byte("}\n\n")
}

func (f sseFraming) complete(id string) []byte {
	if !f.single {
		return []byte("event: complete\ndata: \n\n") // the empty data: lets EventSource fire it
	}
	return append(append([]byte("event: complete\ndata: {\"id\":"), mustJSON(id)...), "}\n\n"...)
}

func (f sseFraming) ended(o *op, err *gqlerror.Error) []byte { return o.event(errorsResponse(err)) }

// startStream writes the event-stream headers and a first comment (some browsers wait
// for a first byte before they report the stream open).
func startStream(w http.ResponseWriter) *http.ResponseController {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(":\n\n"))
	rc := http.NewResponseController(w)
	_ = rc.Flush()
	return rc
}

// serveDistinct runs one operation on its own event stream.
func (t *SSE) serveDistinct(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	start := graphql.Now()
	req, err := decodeRequest(r)
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, codeBadUserInput, err.Error())
		return
	}
	if r.Method == http.MethodGet && req.Query == "" && req.Extensions == nil {
		writeJSONError(w, http.StatusBadRequest, codeBadUserInput, "a GET event stream needs a query parameter")
		return
	}
	p := prepare(r.Context(), exec, req.params(r.Header, start))
	if p.errs == nil && p.isMutation() && r.Method == http.MethodGet {
		w.Header().Set("Allow", "POST")
		writeJSONError(w, http.StatusMethodNotAllowed, codeBadUserInput, "mutations are not allowed over GET; use POST")
		return
	}
	out := newOutbox(sseFraming{})
	o := out.newOp("")
	out.register(o)
	rc := startStream(w)
	switch {
	case p.errs != nil:
		out.queueFor(o, o.event(errorsResponse(p.errs...)))
		out.drop(o)
		out.queue(sseFraming{}.complete(""))
	case p.isSubscription():
		out.attach(o, t.o.Hub.Join(p.ctx, exec, p.params, p.op, func() { out.markPending(o) }))
	default:
		singleResults(p, exec, func(resp []byte) { out.queueFor(o, o.event(resp)) })
		out.drop(o)
		out.queue(sseFraming{}.complete(""))
	}
	t.pump(r.Context(), w, rc, out, func() bool { return out.len() == 0 })
	out.closeAll()
}

// pump is a stream's writer: it drains out on every wake-up and sends ": ping" every
// keep-alive interval, until done says the stream is over, the client leaves, or the
// gateway shuts down (every operation then gets a last event saying so, and complete).
func (t *SSE) pump(ctx context.Context, w http.ResponseWriter, rc *http.ResponseController, out *outbox, done func() bool) {
	ticker := time.NewTicker(t.o.KeepAlive)
	defer ticker.Stop()
	write := func(b []byte) bool {
		_, err := w.Write(b)
		return err == nil
	}
	flush := func(drain bool) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(writeTimeout))
		ok := true
		var closing *closeReason
		if drain {
			ok, closing = out.drain(write)
		} else {
			ok = write([]byte(": ping\n\n"))
		}
		ok = ok && rc.Flush() == nil
		_ = rc.SetWriteDeadline(time.Time{})
		return ok && closing == nil
	}
	for {
		select {
		case <-ctx.Done():
			if t.o.Streams.Err() == nil {
				return // the client left
			}
			// The server is shutting down (and ended the request's context too).
			out.shutdown(shutdownError, closeReason{})
			flush(true)
			return
		case <-t.o.Streams.Done():
			out.shutdown(shutdownError, closeReason{})
			flush(true)
			return
		case <-ticker.C:
			if !flush(false) {
				return
			}
		case <-out.wake:
			if !flush(true) || done() {
				return
			}
		}
	}
}

// reservation is a single-connection stream: its operations, and whether its event
// stream is connected.
type reservation struct {
	token, owner string
	out          *outbox
	// ctx ends when the reservation ends (stream gone, timed out, or never claimed);
	// single-result operations run in it.
	ctx    context.Context
	cancel context.CancelFunc
	expiry *time.Timer

	mu   sync.Mutex
	open bool
}

// reserve answers PUT: 201 with a new token.
func (t *SSE) reserve(w http.ResponseWriter, r *http.Request) {
	if a := r.Header.Get("Accept"); a != "" && !accepts(r, "text/plain") && !accepts(r, "*/*") {
		writeJSONError(w, http.StatusNotAcceptable, codeBadUserInput, "a reservation answers text/plain")
		return
	}
	var raw [24]byte
	_, _ = rand.Read(raw[:])
	token := base64.RawURLEncoding.EncodeToString(raw[:])
	ctx, cancel := context.WithCancel(context.Background())
	res := &reservation{token: token, owner: t.o.Owner(r.Context()), out: newOutbox(sseFraming{single: true}), ctx: ctx, cancel: cancel}
	t.mu.Lock()
	t.reservations[token] = res
	t.mu.Unlock()
	// An unclaimed reservation does not live forever.
	res.expiry = time.AfterFunc(t.o.ReservationTimeout, func() {
		res.mu.Lock()
		open := res.open
		res.mu.Unlock()
		if !open {
			t.end(res)
		}
	})
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusCreated)
	_, _ = w.Write([]byte(token))
}

// reservation returns the request's reservation, if it exists and is the caller's.
func (t *SSE) reservation(r *http.Request) *reservation {
	t.mu.Lock()
	res := t.reservations[requestToken(r)]
	t.mu.Unlock()
	if res == nil || res.owner != t.o.Owner(r.Context()) {
		return nil
	}
	return res
}

// end forgets a reservation and ends its operations.
func (t *SSE) end(res *reservation) {
	t.mu.Lock()
	if t.reservations[res.token] == res {
		delete(t.reservations, res.token)
	}
	t.mu.Unlock()
	res.expiry.Stop()
	res.cancel()
	res.out.closeAll()
}

// serveReservation is the reservation's event stream: it carries every operation's
// results until the client disconnects (which ends the reservation).
func (t *SSE) serveReservation(w http.ResponseWriter, r *http.Request, res *reservation) {
	res.mu.Lock()
	taken := res.open
	res.open = true
	res.mu.Unlock()
	if taken {
		writeJSONError(w, http.StatusConflict, "CONFLICT", "stream already open")
		return
	}
	res.expiry.Stop()
	defer t.end(res)
	rc := startStream(w)
	t.pump(r.Context(), w, rc, res.out, func() bool { return res.ctx.Err() != nil })
}

// startOperation answers an operation sent to a reservation: 202, its results streamed.
func (t *SSE) startOperation(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor, res *reservation) {
	start := graphql.Now()
	req, err := decodeRequest(r)
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, codeBadUserInput, err.Error())
		return
	}
	id, _ := req.Extensions["operationId"].(string)
	if id == "" {
		writeJSONError(w, http.StatusBadRequest, codeBadUserInput, "operation ID is missing: send it as extensions.operationId")
		return
	}
	delete(req.Extensions, "operationId")
	// The operation outlives this request (202 now, results on the stream) and ends
	// with the reservation.
	ctx, cancel := context.WithCancel(context.WithoutCancel(r.Context()))
	stopWithReservation := context.AfterFunc(res.ctx, cancel)
	p := prepare(ctx, exec, req.params(r.Header, start))
	if p.errs == nil && p.isMutation() && r.Method == http.MethodGet {
		stopWithReservation()
		cancel()
		w.Header().Set("Allow", "POST")
		writeJSONError(w, http.StatusMethodNotAllowed, codeBadUserInput, "mutations are not allowed over GET; use POST")
		return
	}
	o := res.out.newOp(id)
	if !res.out.register(o) {
		stopWithReservation()
		cancel()
		writeJSONError(w, http.StatusConflict, "CONFLICT", "an operation with this ID already exists")
		return
	}
	w.WriteHeader(http.StatusAccepted)
	switch {
	case p.errs != nil:
		stopWithReservation()
		cancel()
		res.out.queueFor(o, o.event(errorsResponse(p.errs...)))
		if res.out.drop(o) {
			res.out.queue(sseFraming{single: true}.complete(id))
		}
	case p.isSubscription():
		// The group runs in the hub's context: this one only served to join.
		res.out.attach(o, t.o.Hub.Join(p.ctx, exec, p.params, p.op, func() { res.out.markPending(o) }))
		stopWithReservation()
		cancel()
	default:
		res.out.setStop(o, func() { stopWithReservation(); cancel() })
		go func() {
			defer cancel()
			defer stopWithReservation()
			singleResults(p, exec, func(resp []byte) { res.out.queueFor(o, o.event(resp)) })
			if res.out.drop(o) {
				res.out.queue(sseFraming{single: true}.complete(id))
			}
		}()
	}
}

// stopOperation answers DELETE ?operationId=: the operation stops (no complete event:
// the client asked).
func (t *SSE) stopOperation(w http.ResponseWriter, r *http.Request) {
	res := t.reservation(r)
	if res == nil {
		writeJSONError(w, http.StatusNotFound, "NOT_FOUND", "stream not found")
		return
	}
	id := r.URL.Query().Get("operationId")
	if id == "" {
		writeJSONError(w, http.StatusBadRequest, codeBadUserInput, "operation ID is missing: send it as the operationId parameter")
		return
	}
	res.out.remove(id)
	w.WriteHeader(http.StatusOK)
}
