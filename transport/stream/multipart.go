package stream

import (
	"net/http"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Multipart serves Apollo's multipart HTTP subscriptions: what Apollo Client's HttpLink
// asks for a subscription when no WebSocket link is configured (Accept:
// multipart/mixed;boundary=graphql;subscriptionSpec=1.0). The response is a
// multipart/mixed body with the boundary "graphql"; each part is a JSON object:
//
//   - {"payload": <execution result>} for every event (GraphQL errors inside payload);
//   - {} as a heartbeat every Heartbeat (the spec: 5 s), so proxies keep it open;
//   - {"payload": null, "errors": [...]} when the gateway ends the stream itself (the
//     subscriber was too slow, the gateway shuts down): transport-level errors;
//
// and the closing boundary ends the stream when the subscription completes.
//
// gqlgen's transport.MultipartMixed speaks the incremental-delivery format of @defer
// (deferSpec, "incremental" and "hasNext"), not this one, so it is not used.
type Multipart struct {
	o Options
}

// NewMultipart returns the Apollo multipart subscription transport.
func NewMultipart(o Options) *Multipart { return &Multipart{o: o.withDefaults()} }

var _ graphql.Transport = (*Multipart)(nil)

// Supports accepts POSTs asking for Apollo's subscription multipart format.
func (t *Multipart) Supports(r *http.Request) bool {
	accept := strings.ToLower(r.Header.Get("Accept"))
	return r.Method == http.MethodPost && isJSON(r) &&
		strings.Contains(accept, "multipart/mixed") && strings.Contains(accept, "subscriptionspec")
}

const (
	partHead         = "\r\ncontent-type: application/json; charset=utf-8\r\n\r\n"
	boundary         = "\r\n--graphql"
	closingDelimiter = "--\r\n"
	heartbeatPart    = partHead + "{}" + boundary
)

// multipartFraming encodes Apollo's parts. Every part ends with the boundary, so a
// client parses it as soon as it arrives.
type multipartFraming struct{}

func (multipartFraming) event(string) (prefix, suffix []byte) {
	return []byte(partHead + `{"payload":`), []byte("}" + boundary)
}

func (multipartFraming) complete(string) []byte { return nil } // the closing delimiter ends it

func (multipartFraming) ended(_ *op, err *gqlerror.Error) []byte {
	return []byte(partHead + `{"payload":null,"errors":[` + string(mustJSON(err)) + `]}` + boundary)
}

// Do runs the operation and streams its results.
func (t *Multipart) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	start := graphql.Now()
	req, err := decodeRequest(r)
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, codeBadUserInput, err.Error())
		return
	}
	p := prepare(r.Context(), exec, req.params(r.Header, start))

	h := w.Header()
	h.Set("Content-Type", `multipart/mixed;boundary="graphql";subscriptionSpec="1.0"`)
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(boundary))
	rc := http.NewResponseController(w)
	_ = rc.Flush()

	out := newOutbox(multipartFraming{})
	o := out.newOp("")
	out.register(o)
	switch {
	case p.errs != nil:
		out.queueFor(o, o.event(errorsResponse(p.errs...)))
		out.drop(o)
	case p.isSubscription():
		out.attach(o, t.o.Hub.Join(p.ctx, exec, p.params, p.op, func() { out.markPending(o) }))
	default:
		singleResults(p, exec, func(resp []byte) { out.queueFor(o, o.event(resp)) })
		out.drop(o)
	}
	defer out.closeAll()

	write := func(b []byte) bool {
		_, err := w.Write(b)
		return err == nil
	}
	flush := func(do func() bool) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(writeTimeout))
		ok := do() && rc.Flush() == nil
		_ = rc.SetWriteDeadline(time.Time{})
		return ok
	}
	finish := func() { flush(func() bool { return write([]byte(closingDelimiter)) }) }
	shutdown := func() {
		out.shutdown(shutdownError, closeReason{})
		flush(func() bool { ok, _ := out.drain(write); return ok })
		finish()
	}
	heartbeat := time.NewTicker(t.o.Heartbeat)
	defer heartbeat.Stop()
	for {
		select {
		case <-r.Context().Done():
			if t.o.Streams.Err() != nil {
				shutdown()
			}
			return
		case <-t.o.Streams.Done():
			shutdown()
			return
		case <-heartbeat.C:
			if !flush(func() bool { return write([]byte(heartbeatPart)) }) {
				return
			}
		case <-out.wake:
			if !flush(func() bool { ok, _ := out.drain(write); return ok }) {
				return
			}
			if out.len() == 0 {
				finish()
				return
			}
		}
	}
}
