package transport

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// outcome is one operation's answer.
type outcome struct {
	resp   *graphql.Response
	status int
	// preExecution: the operation failed before execution began, so its response has no
	// data entry (GraphQL spec, "Response": data is absent when execution did not start).
	preExecution bool
	allow        string // the Allow header of a 405
}

// operation is an operation ready to execute, or already answered (done).
type operation struct {
	ctx  context.Context
	rc   *graphql.OperationContext
	done *outcome
}

func refused(e *requestError) *outcome {
	return &outcome{resp: &graphql.Response{Errors: gqlerror.List{e.gqlError()}}, status: e.status, preExecution: true, allow: e.allow}
}

// prepare parses and validates one operation and runs every operation-parameter and
// operation-context extension on it (APQ, persisted documents, complexity, depth, …),
// exactly as for an operation sent alone.
func prepare(ctx context.Context, exec graphql.GraphExecutor, media string, p *params, method string) operation {
	ctx = graphql.StartOperationTrace(ctx)
	rc, errs := exec.CreateOperationContext(ctx, &p.raw)
	if errs != nil {
		if p.documentID != "" && rc.RawQuery == "" && allHaveCode(errs, errcode.ValidationFailed) {
			// Nothing resolved the id: no persisted-document extension is installed.
			err := gqlerror.Errorf("this gateway serves no persisted documents: send the query text instead of documentId/doc_id")
			errcode.Set(err, CodePersistedQueryNotSupported)
			errs = gqlerror.List{err}
		}
		resp := exec.DispatchError(graphql.WithOperationContext(ctx, rc), errs)
		return operation{done: &outcome{resp: resp, status: preExecutionStatus(media, errs), preExecution: true}}
	}
	switch rc.Operation.Operation {
	case ast.Subscription:
		return operation{done: refused(badRequest("subscriptions are not served over plain HTTP: use WebSocket (graphql-transport-ws or graphql-ws) or SSE (Accept: text/event-stream)"))}
	case ast.Mutation:
		if method == http.MethodGet {
			return operation{done: refused(&requestError{status: http.StatusMethodNotAllowed, code: CodeBadRequest,
				message: "mutations are not allowed over GET: send them with POST", allow: http.MethodPost})}
		}
	}
	return operation{ctx: ctx, rc: rc}
}

// execute runs a prepared operation with ctx (its own context, possibly carrying a batch
// Scope).
func execute(ctx context.Context, exec graphql.GraphExecutor, op operation) outcome {
	if op.done != nil {
		return *op.done
	}
	responses, ctx := exec.DispatchOperation(ctx, op.rc)
	resp := responses(ctx)
	if resp == nil { // the request's context ended first
		return *refused(&requestError{status: http.StatusServiceUnavailable, code: CodeUnavailable,
			message: "the request ended before its result was ready"})
	}
	return outcome{resp: completeDeferred(ctx, resp, responses), status: http.StatusOK}
}

// preExecutionStatus is the HTTP status of an operation refused before execution.
// GraphQL over HTTP: with application/json a well-formed request is answered 200 whatever
// GraphQL errors it raised (parse, validation, variable coercion, limits); with
// application/graphql-response+json such request errors are 4xx and the response has no
// data entry. Two refusals are 400 under both media types: BAD_REQUEST (the client sent
// something unreadable) and PERSISTED_QUERY_NOT_SUPPORTED (it spoke a protocol this
// gateway does not). PERSISTED_QUERY_NOT_FOUND stays 200 under both: it is APQ's normal
// first round trip, and clients retry with the query whatever the status.
func preExecutionStatus(media string, errs gqlerror.List) int {
	for _, e := range errs {
		switch codeOf(e) {
		case CodeBadRequest, CodePersistedQueryNotSupported:
			return http.StatusBadRequest
		}
	}
	if media == MediaTypeJSON || allHaveCode(errs, CodePersistedQueryNotFound) {
		return http.StatusOK
	}
	return http.StatusBadRequest
}

func codeOf(e *gqlerror.Error) string {
	c, _ := e.Extensions["code"].(string)
	return c
}

func allHaveCode(errs gqlerror.List, code string) bool {
	for _, e := range errs {
		if codeOf(e) != code {
			return false
		}
	}
	return len(errs) > 0
}

// wireResponse is a GraphQL response as sent: data present (possibly null) once execution
// began, absent when the operation was refused before. encode writes it.
type wireResponse struct {
	Errors     gqlerror.List
	Data       json.RawMessage
	Extensions map[string]any
}

func (o outcome) wire() wireResponse {
	w := wireResponse{Errors: o.resp.Errors, Data: o.resp.Data, Extensions: o.resp.Extensions}
	if o.preExecution {
		w.Data = nil
	} else if len(w.Data) == 0 {
		w.Data = json.RawMessage("null")
	}
	return w
}

// write sends v as the response body with the negotiated media type.
func write(w http.ResponseWriter, media string, status int, allow string, v wireResponse) {
	body, ok := encode(v)
	if !ok {
		// A resolver put something unencodable into extensions: never a half-written body.
		status, body = http.StatusInternalServerError, internalErrorBody
	}
	writeBody(w, media, status, allow, body)
}

// internalErrorBody answers a response that could not be encoded.
var internalErrorBody = []byte(`{"errors":[{"message":"internal error","extensions":{"code":"INTERNAL"}}]}` + "\n")

// writeBody sends an encoded response body.
func writeBody(w http.ResponseWriter, media string, status int, allow string, body []byte) {
	h := w.Header()
	h.Set("Content-Type", media)
	h.Add("Vary", "Accept")
	if allow != "" {
		h.Set("Allow", allow)
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// writeOutcome sends one operation's answer.
func writeOutcome(w http.ResponseWriter, media string, o outcome) {
	write(w, media, o.status, o.allow, o.wire())
}

// writeRefusal sends a refusal of the whole HTTP request.
func writeRefusal(w http.ResponseWriter, media string, e *requestError) {
	writeOutcome(w, media, *refused(e))
}
