package transport

import (
	"mime"
	"net/http"
	"strconv"
	"strings"
)

// negotiate picks the response media type for an Accept header, as GraphQL over HTTP
// asks: application/json when the header is absent or only wildcards match (clients from
// before application/graphql-response+json expect it), application/graphql-response+json
// when the client names it with at least the quality of application/json, and false
// (406) when the client accepts neither.
func negotiate(accept string) (string, bool) {
	if strings.TrimSpace(accept) == "" {
		return MediaTypeJSON, true
	}
	gq, gExact := quality(accept, MediaTypeGraphQLResponse)
	jq, _ := quality(accept, MediaTypeJSON)
	switch {
	case gq <= 0 && jq <= 0:
		return "", false
	case gq > jq, gq == jq && gExact:
		return MediaTypeGraphQLResponse, true
	default:
		return MediaTypeJSON, true
	}
}

// quality is the q-value Accept gives mediaType (RFC 9110 §12.5.1: the most specific
// matching range decides), and whether that range names the type exactly.
func quality(accept, mediaType string) (float64, bool) {
	typ, _, _ := strings.Cut(mediaType, "/")
	best, q := 0, 0.0 // specificity of the matching range: 3 exact, 2 type/*, 1 */*
	for part := range strings.SplitSeq(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		spec := 0
		switch {
		case mt == mediaType:
			spec = 3
		case mt == typ+"/*":
			spec = 2
		case mt == "*/*":
			spec = 1
		}
		if spec <= best {
			continue
		}
		best, q = spec, 1
		if v, ok := params["q"]; ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil && f >= 0 && f <= 1 {
				q = f
			}
		}
	}
	return q, best == 3
}

// streaming reports whether r asks for a response the streaming transports serve: SSE
// (Accept: text/event-stream, both of graphql-sse's modes), Apollo's multipart
// subscriptions (Accept: multipart/mixed;subscriptionSpec=…) or graphql-sse's
// single-connection operations (the event-stream token as a header or query parameter).
// POST and GET decline such requests even when added before those transports.
func streaming(r *http.Request) bool {
	if r.Header.Get("Upgrade") != "" {
		return true
	}
	accept := r.Header.Get("Accept")
	return strings.Contains(accept, "text/event-stream") ||
		strings.Contains(accept, "subscriptionSpec") ||
		r.Header.Get("X-GraphQL-Event-Stream-Token") != "" ||
		r.URL.Query().Has("token")
}

// isJSONBody reports whether a Content-Type announces a JSON body in UTF-8 (the only
// encoding GraphQL over HTTP requires, and the only one accepted).
func isJSONBody(contentType string) bool {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil || mt != MediaTypeJSON {
		return false
	}
	cs, ok := params["charset"]
	return !ok || strings.EqualFold(cs, "utf-8")
}
