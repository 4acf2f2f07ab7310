package transport

import (
	"net/http"

	"github.com/99designs/gqlgen/graphql"
)

// GET serves queries sent as URL parameters: query, operationName, variables and
// extensions (URL-encoded JSON), documentId or doc_id. Mutations are refused with 405 and
// Allow: POST, as GraphQL over HTTP requires (a GET must be safe to repeat and to cache).
type GET struct {
	Limits
	Caching
}

var _ graphql.Transport = GET{}

// Supports claims GETs that no streaming transport serves.
func (t GET) Supports(r *http.Request) bool {
	return r.Method == http.MethodGet && !streaming(r)
}

// Do answers the request.
func (t GET) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	media, ok := negotiate(r.Header.Get("Accept"))
	if !ok {
		writeRefusal(w, MediaTypeJSON, notAcceptable())
		return
	}
	start := graphql.Now()
	p, rerr := decodeQuery(r.URL.RawQuery, t.maxDepth())
	if rerr != nil {
		writeRefusal(w, media, rerr)
		return
	}
	p.stamp(r, start)
	op := prepare(r.Context(), exec, media, p, http.MethodGet)
	t.writeAnswer(w, r, media, t.run(op.ctx, exec, op))
}
