package transport

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/99designs/gqlgen/graphql"
)

// params are one operation's request parameters, validated.
type params struct {
	raw graphql.RawParams
	// documentID is the persisted-document id the client sent (documentId or doc_id).
	documentID string
}

// readBody reads a POST body of at most max bytes (0: unbounded). A larger body is a 413
// whether its length was announced or it came chunked.
func readBody(w http.ResponseWriter, r *http.Request, max int64) ([]byte, *requestError) {
	if r.Body == nil {
		return nil, nil
	}
	if max > 0 && r.ContentLength > max {
		return nil, tooLarge(max)
	}
	body := io.Reader(r.Body)
	if max > 0 {
		body = http.MaxBytesReader(w, r.Body, max)
	}
	b, err := io.ReadAll(body)
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, tooLarge(max)
		}
		return nil, badRequest("the request body could not be read")
	}
	return b, nil
}

func tooLarge(max int64) *requestError {
	return &requestError{status: http.StatusRequestEntityTooLarge, code: CodeBadRequest,
		message: fmt.Sprintf("the request body exceeds %d bytes", max)}
}

// tooDeep reports whether the JSON text b nests arrays and objects deeper than max. It is
// one pass over the bytes, jumping over string contents with bytes.IndexByte, so a hostile
// body of 10,000 nested arrays is refused before a recursive decoder or variable coercion
// walks it, and a 1 MiB body costs well under a millisecond. b need not be valid JSON:
// the decoder that follows rejects what is not.
func tooDeep(b []byte, max int) bool {
	depth := 0
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '"':
			end, ok := stringEnd(b, i)
			if !ok {
				return false // unterminated: not JSON, and nothing nested after it
			}
			i = end
		case '{', '[':
			depth++
			if depth > max {
				return true
			}
		case '}', ']':
			depth--
		}
	}
	return false
}

// stringEnd returns the index of the quote closing the string opened at b[open]: the
// first quote preceded by an even number of backslashes.
func stringEnd(b []byte, open int) (int, bool) {
	from := open + 1
	for {
		j := bytes.IndexByte(b[from:], '"')
		if j < 0 {
			return 0, false
		}
		end := from + j
		backslashes := 0
		for k := end - 1; k > open && b[k] == '\\'; k-- {
			backslashes++
		}
		if backslashes%2 == 0 {
			return end, true
		}
		from = end + 1
	}
}

// wireParams is a GraphQL-over-HTTP request body, each member kept raw so that a member of
// the wrong type is reported by name instead of as a decoding failure.
type wireParams struct {
	Query         json.RawMessage `json:"query"`
	OperationName json.RawMessage `json:"operationName"`
	Variables     json.RawMessage `json:"variables"`
	Extensions    json.RawMessage `json:"extensions"`
	DocumentID    json.RawMessage `json:"documentId"`
	DocID         json.RawMessage `json:"doc_id"` // Relay's persisted-query convention
}

// decodeObject decodes one request object (a POST body or a batch element).
func decodeObject(b []byte, where string) (*params, *requestError) {
	var w wireParams
	if err := json.Unmarshal(b, &w); err != nil {
		return nil, badRequest("%s is not valid JSON: %v", where, syntaxDetail(err))
	}
	var p params
	var rerr *requestError
	fields := []struct {
		name string
		raw  json.RawMessage
		dst  *string
	}{
		{"query", w.Query, &p.raw.Query},
		{"operationName", w.OperationName, &p.raw.OperationName},
		{"documentId", w.DocumentID, &p.documentID},
	}
	for _, f := range fields {
		if *f.dst, rerr = stringMember(f.raw, f.name); rerr != nil {
			return nil, rerr
		}
	}
	docID, rerr := stringMember(w.DocID, "doc_id")
	if rerr != nil {
		return nil, rerr
	}
	if p.raw.Variables, rerr = objectMember(w.Variables, "variables"); rerr != nil {
		return nil, rerr
	}
	if p.raw.Extensions, rerr = objectMember(w.Extensions, "extensions"); rerr != nil {
		return nil, rerr
	}
	if rerr := p.setDocumentID(docID); rerr != nil {
		return nil, rerr
	}
	return &p, p.check()
}

// decodeQuery decodes a GET's URL parameters.
func decodeQuery(rawQuery string, maxDepth int) (*params, *requestError) {
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return nil, badRequest("the URL's query string is malformed: %v", err)
	}
	p := params{raw: graphql.RawParams{Query: q.Get("query"), OperationName: q.Get("operationName")}, documentID: q.Get("documentId")}
	var rerr *requestError
	for _, m := range []struct {
		name string
		dst  *map[string]any
	}{{"variables", &p.raw.Variables}, {"extensions", &p.raw.Extensions}} {
		v := q.Get(m.name)
		if v == "" {
			continue
		}
		if tooDeep([]byte(v), maxDepth) {
			return nil, badRequest("%s nests deeper than %d levels", m.name, maxDepth)
		}
		if *m.dst, rerr = objectMember(json.RawMessage(v), m.name); rerr != nil {
			return nil, rerr
		}
	}
	if rerr := p.setDocumentID(q.Get("doc_id")); rerr != nil {
		return nil, rerr
	}
	return &p, p.check()
}

// setDocumentID merges Relay's doc_id with documentId and hands the id to the
// persisted-document extension under PersistedDocumentExtension.
func (p *params) setDocumentID(docID string) *requestError {
	switch {
	case docID == "":
	case p.documentID == "":
		p.documentID = docID
	case p.documentID != docID:
		return badRequest("documentId and doc_id name different documents; send one of them")
	}
	if p.documentID == "" {
		return nil
	}
	if p.raw.Extensions == nil {
		p.raw.Extensions = map[string]any{}
	}
	p.raw.Extensions[PersistedDocumentExtension] = map[string]any{"id": p.documentID}
	return nil
}

// check refuses a request that names no document at all: no query, no persisted-document
// id, no APQ hash.
func (p *params) check() *requestError {
	if p.raw.Query != "" || p.documentID != "" || p.raw.Extensions["persistedQuery"] != nil {
		return nil
	}
	return badRequest("the request has no query: send the GraphQL document as the query parameter")
}

func isNull(raw json.RawMessage) bool {
	return len(raw) == 0 || string(raw) == "null"
}

func stringMember(raw json.RawMessage, name string) (string, *requestError) {
	if isNull(raw) {
		return "", nil
	}
	var s string
	if raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
		return "", badRequest("%s must be a string, got %s", name, jsonKind(raw))
	}
	return s, nil
}

// objectMember decodes a JSON object, keeping numbers as json.Number as gqlgen does (so
// that Int variables above 2^53 survive).
func objectMember(raw json.RawMessage, name string) (map[string]any, *requestError) {
	raw = bytes.TrimSpace(raw)
	if isNull(raw) {
		return nil, nil
	}
	if raw[0] != '{' {
		return nil, badRequest("%s must be an object, got %s", name, jsonKind(raw))
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil || dec.More() {
		return nil, badRequest("%s is not a valid JSON object", name)
	}
	return m, nil
}

// jsonKind names the JSON type of a value for error messages (never echoing the value).
func jsonKind(raw json.RawMessage) string {
	switch raw[0] {
	case '"':
		return "a string"
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	default:
		return "a number"
	}
}

// syntaxDetail describes a JSON decoding error without quoting the body.
func syntaxDetail(err error) string {
	if se, ok := errors.AsType[*json.SyntaxError](err); ok {
		return fmt.Sprintf("%s (at byte %d)", se.Error(), se.Offset)
	}
	if ue, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
		return fmt.Sprintf("expected an object, got %s", ue.Value)
	}
	return err.Error()
}
