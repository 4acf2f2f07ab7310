package transport

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// completeDeferred turns an operation that used @defer into one complete response: the
// deferred payloads are awaited and merged into the initial data. A JSON response is
// delivered whole, and the incremental-delivery RFC lets a server ignore @defer this way;
// without it the client would get null for every deferred field while the gateway still
// spent the upstream calls to resolve them.
func completeDeferred(ctx context.Context, first *graphql.Response, next graphql.ResponseHandler) *graphql.Response {
	if first.HasNext == nil {
		return first
	}
	var payloads []*graphql.Response
	for more := *first.HasNext; more; {
		r := next(ctx)
		if r == nil {
			break
		}
		payloads = append(payloads, r)
		more = r.HasNext != nil && *r.HasNext
	}
	out := *first
	out.HasNext = nil
	for _, p := range payloads {
		out.Errors = append(out.Errors, p.Errors...)
	}
	if merged, err := mergeDeferred(first.Data, payloads); err == nil {
		out.Data = merged
	}
	return &out
}

// mergeDeferred writes each payload's fields into the object at its path. A payload may
// sit inside another payload's data (nested @defer), so payloads are merged in passes
// until none can be placed; one whose path ends at null (an error nulled its parent) is
// dropped, as the client would drop it.
func mergeDeferred(data json.RawMessage, payloads []*graphql.Response) (json.RawMessage, error) {
	root := &jsonNode{raw: data}
	pending := payloads
	for len(pending) > 0 {
		var left []*graphql.Response
		for _, p := range pending {
			if string(p.Data) == "null" || len(p.Data) == 0 {
				continue // the payload's own error nulled it: its fields stay null
			}
			placed, err := root.mergeAt(p.Path, p.Data)
			if err != nil {
				return nil, err
			}
			if !placed {
				left = append(left, p)
			}
		}
		if len(left) == len(pending) {
			break
		}
		pending = left
	}
	var buf bytes.Buffer
	if err := root.encode(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// jsonNode is a JSON value expanded only along the paths a merge walks: everything else
// stays as the raw bytes gqlgen produced (order and formatting kept).
type jsonNode struct {
	raw      json.RawMessage
	expanded bool
	array    bool
	keys     []string // object members, in order
	vals     []*jsonNode
}

var errNotContainer = errors.New("not an object or array")

func (n *jsonNode) expand() error {
	if n.expanded {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(n.raw))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return errNotContainer
	}
	n.array = d == '['
	for dec.More() {
		if !n.array {
			k, err := dec.Token()
			if err != nil {
				return err
			}
			key, _ := k.(string)
			n.keys = append(n.keys, key)
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return err
		}
		n.vals = append(n.vals, &jsonNode{raw: v})
	}
	n.expanded = true
	return nil
}

func (n *jsonNode) isNull() bool { return !n.expanded && string(bytes.TrimSpace(n.raw)) == "null" }

// mergeAt merges the members of the object fields into the object at path; false when
// the path does not (yet) lead to an object.
func (n *jsonNode) mergeAt(path ast.Path, fields json.RawMessage) (bool, error) {
	target := n
	for _, el := range path {
		if target.isNull() {
			return false, nil
		}
		if err := target.expand(); err != nil {
			return false, err
		}
		target = target.child(el)
		if target == nil {
			return false, nil
		}
	}
	if target.isNull() {
		return false, nil
	}
	src := &jsonNode{raw: fields}
	if err := target.expand(); err != nil {
		return false, err
	}
	if err := src.expand(); err != nil {
		return false, err
	}
	if target.array || src.array {
		return false, errNotContainer
	}
	for i, k := range src.keys {
		target.set(k, src.vals[i])
	}
	return true, nil
}

func (n *jsonNode) child(el ast.PathElement) *jsonNode {
	switch el := el.(type) {
	case ast.PathIndex:
		if n.array && int(el) >= 0 && int(el) < len(n.vals) {
			return n.vals[el]
		}
	case ast.PathName:
		if !n.array {
			for i, k := range n.keys {
				if k == string(el) {
					return n.vals[i]
				}
			}
		}
	}
	return nil
}

func (n *jsonNode) set(key string, v *jsonNode) {
	for i, k := range n.keys {
		if k == key {
			n.vals[i] = v
			return
		}
	}
	n.keys = append(n.keys, key)
	n.vals = append(n.vals, v)
}

func (n *jsonNode) encode(buf *bytes.Buffer) error {
	if !n.expanded {
		buf.Write(n.raw)
		return nil
	}
	open, closing := byte('{'), byte('}')
	if n.array {
		open, closing = '[', ']'
	}
	buf.WriteByte(open)
	for i, v := range n.vals {
		if i > 0 {
			buf.WriteByte(',')
		}
		if !n.array {
			k, err := json.Marshal(n.keys[i])
			if err != nil {
				return err
			}
			buf.Write(k)
			buf.WriteByte(':')
		}
		if err := v.encode(buf); err != nil {
			return err
		}
	}
	buf.WriteByte(closing)
	return nil
}
