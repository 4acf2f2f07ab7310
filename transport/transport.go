// Package transport serves GraphQL queries and mutations over plain HTTP, GET and POST on
// one endpoint, the way the GraphQL-over-HTTP specification describes it: Accept
// negotiation between application/graphql-response+json and application/json, the status
// codes each media type calls for, request bodies bounded in size and nesting before they
// are decoded, batches of operations (Apollo's BatchHttpLink), and persisted-document ids
// (documentId, Relay's doc_id) handed to whichever extension resolves them.
//
// It implements gqlgen's graphql.Transport, replacing gqlgen's transport.GET and
// transport.POST: those answer a malformed body with a generic error, use 422 for
// validation failures, and know neither batches nor document ids. Streaming transports
// (WebSocket, SSE, multipart subscriptions) live elsewhere; POST and GET decline the
// requests those serve (see streaming), and Fallback, added last, answers whatever no
// transport claimed with 405, 406 or 415.
package transport

import (
	"fmt"

	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Response media types (GraphQL over HTTP §Media Types).
const (
	MediaTypeJSON            = "application/json"
	MediaTypeGraphQLResponse = "application/graphql-response+json"
)

// Error codes (extensions.code) this package answers with. Clients branch on them; they are
// part of the gateway's public contract.
const (
	// CodeBadRequest: the HTTP request is not a GraphQL request the gateway can read (body
	// not JSON, too large or too deeply nested, a parameter of the wrong type, no query,
	// a malformed batch, wrong method, Content-Type or Accept). The HTTP status says which.
	CodeBadRequest = "BAD_REQUEST"
	// CodePersistedQueryNotFound: an APQ hash the gateway does not know (yet); the client
	// sends the query again with its hash (Apollo's protocol).
	CodePersistedQueryNotFound = "PERSISTED_QUERY_NOT_FOUND"
	// CodePersistedQueryNotSupported: an APQ version other than 1, or a persisted-document
	// id while no persisted-document store is configured. Apollo clients stop sending
	// hashes when they see it.
	CodePersistedQueryNotSupported = "PERSISTED_QUERY_NOT_SUPPORTED"
	// CodePersistedQueryHashMismatch: the query sent with an APQ hash does not have that
	// SHA-256.
	CodePersistedQueryHashMismatch = "PERSISTED_QUERY_HASH_MISMATCH"
	// CodeUnavailable: the request ended (client gone, server shutting down) before its
	// result was ready.
	CodeUnavailable = "UNAVAILABLE"
)

// PersistedDocumentExtension is the key of graphql.RawParams.Extensions under which POST
// and GET put a persisted-document id sent as GraphQL-over-HTTP's documentId or Relay's
// doc_id: map[string]any{"id": "<id>"}. The extension that resolves ids (an
// OperationParameterMutator) reads it and sets RawParams.Query.
const PersistedDocumentExtension = "persistedDocument"

// DefaultMaxJSONDepth bounds the nesting of a request body or of the variables and
// extensions parameters of a GET. A real request nests well under 10 levels (body →
// variables → input → list → object → list); 32 leaves room while keeping any recursive
// decoder's work small.
const DefaultMaxJSONDepth = 32

// Limits are what POST and GET accept.
type Limits struct {
	// MaxBodyBytes bounds a POST body (0: unbounded here; the server may bound it too).
	// A larger body, announced or chunked, is answered 413.
	MaxBodyBytes int64
	// MaxBatch is how many operations one POST may carry as a JSON array (0 refuses
	// arrays).
	MaxBatch int
	// MaxJSONDepth bounds JSON nesting (0: DefaultMaxJSONDepth).
	MaxJSONDepth int
}

func (l Limits) maxDepth() int {
	if l.MaxJSONDepth <= 0 {
		return DefaultMaxJSONDepth
	}
	return l.MaxJSONDepth
}

// requestError is a refusal of the HTTP request itself, answered before any operation
// exists: never shown to the error presenter, never logged as an error.
type requestError struct {
	status  int
	code    string
	message string
	allow   string // the Allow header of a 405
}

func badRequest(format string, args ...any) *requestError {
	return &requestError{status: 400, code: CodeBadRequest, message: fmt.Sprintf(format, args...)}
}

func (e *requestError) gqlError() *gqlerror.Error {
	return &gqlerror.Error{Message: e.message, Extensions: map[string]any{"code": e.code}}
}
