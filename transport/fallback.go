package transport

import (
	"net/http"

	"github.com/99designs/gqlgen/graphql"
)

// Fallback answers every request that no transport added before it claimed, with the
// status that says what is wrong: 405 (with Allow) for a method the endpoint does not
// serve, 415 for a POST whose body is not UTF-8 JSON, 400 for anything else (a streaming
// request no streaming transport took). Add it last: gqlgen picks the first transport
// whose Supports is true, and Fallback supports everything.
type Fallback struct {
	// Allow is the Allow header of a 405 (default "GET, POST, OPTIONS").
	Allow string
}

var _ graphql.Transport = Fallback{}

// Supports claims every request.
func (Fallback) Supports(*http.Request) bool { return true }

// Do refuses the request.
func (f Fallback) Do(w http.ResponseWriter, r *http.Request, _ graphql.GraphExecutor) {
	allow := f.Allow
	if allow == "" {
		allow = "GET, POST, OPTIONS"
	}
	var e *requestError
	switch {
	case r.Method != http.MethodGet && r.Method != http.MethodPost:
		e = &requestError{status: http.StatusMethodNotAllowed, code: CodeBadRequest, allow: allow,
			message: "method " + r.Method + " is not allowed here: send GraphQL requests with GET or POST"}
	case r.Method == http.MethodPost && !isJSONBody(r.Header.Get("Content-Type")):
		e = &requestError{status: http.StatusUnsupportedMediaType, code: CodeBadRequest,
			message: "send the request body as JSON with Content-Type: application/json"}
	default:
		e = badRequest("this request is not one this endpoint serves: queries and mutations go as GET or POST with JSON, subscriptions over WebSocket or SSE (Accept: text/event-stream)")
	}
	writeRefusal(w, MediaTypeJSON, e)
}
