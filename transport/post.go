package transport

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/99designs/gqlgen/graphql"
)

// POST serves queries and mutations sent as a JSON body (Content-Type: application/json):
// one operation as an object, or a batch of up to Limits.MaxBatch as an array, answered
// with an array of results in the same order.
type POST struct {
	Limits
	Caching
}

var _ graphql.Transport = POST{}

// Supports claims POSTs with a UTF-8 JSON body that no streaming transport serves.
func (t POST) Supports(r *http.Request) bool {
	return r.Method == http.MethodPost && !streaming(r) && isJSONBody(r.Header.Get("Content-Type"))
}

// Do answers the request.
func (t POST) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	media, ok := negotiate(r.Header.Get("Accept"))
	if !ok {
		writeRefusal(w, MediaTypeJSON, notAcceptable())
		return
	}
	start := graphql.Now()
	body, rerr := readBody(w, r, t.MaxBodyBytes)
	if rerr != nil {
		writeRefusal(w, media, rerr)
		return
	}
	if max := t.maxDepth(); tooDeep(body, max) {
		writeRefusal(w, media, badRequest("the request body nests deeper than %d levels", max))
		return
	}
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		writeRefusal(w, media, badRequest(`the request body is empty: send a JSON object such as {"query": "{ __typename }"}`))
		return
	}
	switch body[0] {
	case '{':
		p, rerr := decodeObject(body, "the request body")
		if rerr != nil {
			writeRefusal(w, media, rerr)
			return
		}
		p.stamp(r, start)
		op := prepare(r.Context(), exec, media, p, http.MethodPost)
		t.writeAnswer(w, r, media, t.run(op.ctx, exec, op))
	case '[':
		ps, rerr := t.decodeBatch(body)
		if rerr != nil {
			writeRefusal(w, media, rerr)
			return
		}
		for _, p := range ps {
			p.stamp(r, start)
		}
		outs := runBatch(r.Context(), exec, media, ps, t.Caching)
		results := make([][]byte, len(outs))
		for i, o := range outs {
			body, ok := o.encoded()
			if !ok {
				body = internalErrorBody
			}
			results[i] = body
		}
		writeBody(w, media, http.StatusOK, "", encodeArray(results))
	default:
		writeRefusal(w, media, badRequest("the request body must be a JSON object, or an array of them for a batch"))
	}
}

// decodeBatch validates a whole batch before any of it runs: a batch with one bad element
// is refused entirely (400), so a client never gets half its batch executed.
func (t POST) decodeBatch(body []byte) ([]*params, *requestError) {
	if t.MaxBatch <= 0 {
		return nil, badRequest("this endpoint does not accept batches: send one operation per request")
	}
	var elems []json.RawMessage
	if err := json.Unmarshal(body, &elems); err != nil {
		return nil, badRequest("the request body is not valid JSON: %v", syntaxDetail(err))
	}
	switch {
	case len(elems) == 0:
		return nil, badRequest("the batch is empty: send at least one operation")
	case len(elems) > t.MaxBatch:
		return nil, badRequest("a batch may hold at most %d operations; this one has %d", t.MaxBatch, len(elems))
	}
	ps := make([]*params, len(elems))
	for i, e := range elems {
		e = bytes.TrimSpace(e)
		if e[0] != '{' {
			return nil, badRequest("batch element %d must be an object, got %s", i, jsonKind(e))
		}
		p, rerr := decodeObject(e, fmt.Sprintf("batch element %d", i))
		if rerr != nil {
			rerr.message = fmt.Sprintf("batch element %d: %s", i, rerr.message)
			return nil, rerr
		}
		ps[i] = p
	}
	return ps, nil
}

// stamp records what gqlgen's tracing extensions read: the headers and the read time.
func (p *params) stamp(r *http.Request, start time.Time) {
	p.raw.Headers = r.Header
	p.raw.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}
}

func notAcceptable() *requestError {
	return &requestError{status: http.StatusNotAcceptable, code: CodeBadRequest,
		message: "this endpoint answers application/graphql-response+json or application/json: accept one of them"}
}
