package transport

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"maps"
	"net/http"
	"strings"

	"github.com/99designs/gqlgen/graphql"
)

// DefaultCacheControl is the Cache-Control of a cacheable response unless configured
// otherwise: a browser may keep it (private) but must revalidate it every time
// (no-cache), so it sends If-None-Match and gets a bodiless 304 while nothing changed,
// and a shared cache never serves one caller's answer to another.
const DefaultCacheControl = "private, no-cache"

// ResponseCache lets POST and GET answer an operation from a stored response, and keep
// the responses they execute. The server implements it over cache.Cache (keying,
// tagging and invalidation live there); this package owns the HTTP side: which
// responses are cacheable, their bytes, ETag, Cache-Control and If-None-Match.
type ResponseCache interface {
	// Lookup is called for each operation ready to execute (queries and mutations; the
	// implementation skips what it must not cache). It returns either a stored response
	// to answer with, or the context to execute with and store, to be called with the
	// response when it is cacheable (no errors, executed to completion); a nil store
	// means the response is not cacheable at all (no ETag).
	Lookup(ctx context.Context, rc *graphql.OperationContext) (hit *StoredResponse, next context.Context, store StoreFunc)
}

// StoreFunc keeps resp, whose wire form is body and entity tag etag, if the
// implementation still may (nothing stale, no invalidation raced it).
type StoreFunc func(resp *graphql.Response, body []byte, etag string)

// StoredResponse is a response kept by a ResponseCache.
type StoredResponse struct {
	Body []byte // the JSON body, as first sent
	ETag string
}

// Caching configures the response cache of POST and GET. The zero value turns it off
// (no lookup, no ETag, no 304).
type Caching struct {
	Cache ResponseCache
	// CacheControl is sent with cacheable responses ("": DefaultCacheControl).
	CacheControl string
	// VolatileExtensions name response extensions that describe one execution rather
	// than its data (e.g. "cost": what the execution spent). They are sent with the
	// response that has them but are left out of the stored bytes and of the ETag, so
	// a stored response never replays another execution's figures.
	VolatileExtensions []string
	// HitExtensions, when set, returns the extensions to add to a response served from
	// the cache (nil or empty: none, and the bytes are exactly those first sent). It is
	// the hook for the cost extension to show that a response cost nothing, e.g.
	// {"responseCache": "hit", "cost": {"upstreamCalls": 0, …}}.
	HitExtensions func(ctx context.Context) map[string]any
}

// answer is what an operation produced: an executed outcome, or a stored response.
type answer struct {
	outcome
	// body is the JSON to send when it is already known (a hit, or a cacheable miss).
	body []byte
	// etag is set on cacheable answers.
	etag string
}

// run executes a prepared operation through the response cache, if there is one.
func (c Caching) run(ctx context.Context, exec graphql.GraphExecutor, op operation) answer {
	if op.done != nil || c.Cache == nil {
		return answer{outcome: execute(ctx, exec, op)}
	}
	hit, ctx, store := c.Cache.Lookup(ctx, op.rc)
	if hit != nil {
		body := hit.Body
		if c.HitExtensions != nil {
			if ext := c.HitExtensions(graphql.WithOperationContext(ctx, op.rc)); len(ext) > 0 {
				body = withExtensions(body, ext)
			}
		}
		return answer{outcome: outcome{status: http.StatusOK}, body: body, etag: hit.ETag}
	}
	o := execute(ctx, exec, op)
	if store == nil || o.status != http.StatusOK || o.preExecution || o.resp == nil || len(o.resp.Errors) > 0 {
		return answer{outcome: o}
	}
	w := o.wire()
	stable := c.stable(w)
	stored, ok := encode(stable)
	if !ok {
		return answer{outcome: o}
	}
	etag := entityTag(stored)
	store(o.resp, stored, etag)
	body := stored
	if len(w.Extensions) != len(stable.Extensions) { // sent with its volatile extensions
		if body, ok = encode(w); !ok {
			return answer{outcome: o}
		}
	}
	return answer{outcome: o, body: body, etag: etag}
}

// stable is w without its volatile extensions.
func (c Caching) stable(w wireResponse) wireResponse {
	if len(w.Extensions) == 0 || len(c.VolatileExtensions) == 0 {
		return w
	}
	var ext map[string]any
	for k, v := range w.Extensions {
		if !contains(c.VolatileExtensions, k) {
			if ext == nil {
				ext = make(map[string]any, len(w.Extensions))
			}
			ext[k] = v
		}
	}
	w.Extensions = ext
	return w
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// writeAnswer sends a single operation's answer: cacheable ones with their ETag and
// Cache-Control, and a bodiless 304 when the request's If-None-Match names the ETag.
func (c Caching) writeAnswer(w http.ResponseWriter, r *http.Request, media string, a answer) {
	if a.etag == "" {
		if a.body != nil {
			writeBody(w, media, a.status, a.allow, a.body)
			return
		}
		writeOutcome(w, media, a.outcome)
		return
	}
	h := w.Header()
	h.Set("ETag", a.etag)
	cc := c.CacheControl
	if cc == "" {
		cc = DefaultCacheControl
	}
	h.Set("Cache-Control", cc)
	if ifNoneMatch(r.Header.Values("If-None-Match"), a.etag) {
		h.Add("Vary", "Accept")
		w.WriteHeader(http.StatusNotModified)
		return
	}
	writeBody(w, media, http.StatusOK, "", a.body)
}

// encoded is an answer's JSON body.
func (a answer) encoded() ([]byte, bool) {
	if a.body != nil {
		return a.body, true
	}
	return encode(a.outcome.wire())
}

// entityTag is a strong ETag for body: a hash of its bytes.
func entityTag(body []byte) string {
	sum := sha256.Sum256(body)
	return `"` + base64.RawURLEncoding.EncodeToString(sum[:18]) + `"`
}

// ifNoneMatch reports whether If-None-Match header values name etag (RFC 9110 §13.1.2:
// "*" or a list of entity tags, compared weakly).
func ifNoneMatch(values []string, etag string) bool {
	opaque := strings.TrimPrefix(etag, "W/")
	for _, v := range values {
		for tag := range strings.SplitSeq(v, ",") {
			tag = strings.TrimSpace(tag)
			if tag == "*" || strings.TrimPrefix(tag, "W/") == opaque {
				return true
			}
		}
	}
	return false
}

// withExtensions returns a stored body with ext merged into its extensions.
func withExtensions(body []byte, ext map[string]any) []byte {
	var w struct {
		Data       json.RawMessage `json:"data"`
		Extensions map[string]any  `json:"extensions,omitempty"`
	}
	if err := json.Unmarshal(body, &w); err != nil {
		return body
	}
	if w.Extensions == nil {
		w.Extensions = make(map[string]any, len(ext))
	}
	maps.Copy(w.Extensions, ext)
	out, ok := encode(wireResponse{Data: w.Data, Extensions: w.Extensions})
	if !ok {
		return body
	}
	return out
}

// encode is the JSON body of a response, newline-terminated. The data gqlgen produced
// is already compact JSON: it is copied as it is, where encoding/json would scan and
// compact the whole of it again (tens of kilobytes for a page). Errors and extensions
// are small and go through encoding/json.
func encode(w wireResponse) ([]byte, bool) {
	buf := bytes.NewBuffer(make([]byte, 0, len(w.Data)+64))
	buf.WriteByte('{')
	sep := false
	member := func(name string, v any) bool {
		if sep {
			buf.WriteByte(',')
		}
		sep = true
		buf.WriteString(`"` + name + `":`)
		if raw, ok := v.(json.RawMessage); ok {
			buf.Write(raw)
			return true
		}
		enc := json.NewEncoder(buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			return false
		}
		buf.Truncate(buf.Len() - 1) // Encode's newline
		return true
	}
	if len(w.Errors) > 0 && !member("errors", w.Errors) {
		return nil, false
	}
	if len(w.Data) > 0 && !member("data", w.Data) {
		return nil, false
	}
	if len(w.Extensions) > 0 && !member("extensions", w.Extensions) {
		return nil, false
	}
	buf.WriteString("}\n")
	return buf.Bytes(), true
}

// encodeArray is the JSON body of a batch: its elements' bodies in an array.
func encodeArray(elems [][]byte) []byte {
	n := 3
	for _, e := range elems {
		n += len(e) + 1
	}
	out := make([]byte, 0, n)
	out = append(out, '[')
	for i, e := range elems {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, bytes.TrimSuffix(e, []byte("\n"))...)
	}
	return append(out, ']', '\n')
}
