package livestorm

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
)

// Glue shared by the per-area operation files: run a call through do and
// decode the document inside the attempt, so a truncated or malformed body
// counts as a failed (and, for GET, retryable) attempt.

type convertFunc[T any] func(d *decoder, r *resource) T

// fetchDecoded performs a call and decodes its body with decode inside the
// attempt; the attribute keys decode reports as odd are logged once the call
// succeeds.
func fetchDecoded[T any](ctx context.Context, c *Client, method, route string, p pathParams, q url.Values, in any, decode func(body []byte) (T, []string, error)) (T, error) {
	var out T
	var bad []string
	err := c.do(ctx, method, route, p, q, in, func(b []byte) (err error) {
		out, bad, err = decode(b)
		return err
	})
	if err != nil {
		var zero T
		return zero, err
	}
	c.reportOddAttributes(ctx, method, route, bad)
	return out, nil
}

// fetchOne performs a call whose answer is a single resource document.
func fetchOne[T any](ctx context.Context, c *Client, method, route string, p pathParams, q url.Values, in any, conv convertFunc[T]) (*T, error) {
	return fetchDecoded(ctx, c, method, route, p, q, in, func(b []byte) (*T, []string, error) { return decodeOne(b, conv) })
}

// writeInput is a write input (EventInput, SessionInput, Registration) that
// renders itself as a request body; create tells a POST, which may carry
// creation-only attributes, from a PATCH or PUT.
type writeInput interface {
	body(create bool) (body, error)
}

// sendInput renders in as the body of a POST, PATCH or PUT and performs the
// call; an input that cannot be rendered fails with KindInvalid before any
// request.
func sendInput[T any](ctx context.Context, c *Client, method, route string, p pathParams, in writeInput, conv convertFunc[T]) (*T, error) {
	b, err := in.body(method == http.MethodPost)
	if err != nil {
		return nil, invalid(method, route, err)
	}
	return fetchOne(ctx, c, method, route, p, nil, b, conv)
}

// decodeOne decodes a single-resource document body.
func decodeOne[T any](b []byte, conv convertFunc[T]) (*T, []string, error) {
	doc, err := parseDocument(b)
	if err != nil {
		return nil, nil, err
	}
	r, err := doc.one()
	if err != nil {
		return nil, nil, err
	}
	d := newDecoder(doc)
	v := conv(d, r)
	return &v, d.bad, nil
}

// fetchList performs a GET whose answer is a list document.
func fetchList[T any](ctx context.Context, c *Client, route string, p pathParams, q url.Values, conv convertFunc[T]) (*List[T], error) {
	requested := 0
	if q != nil {
		requested, _ = strconv.Atoi(q.Get("page[number]"))
	}
	return fetchDecoded(ctx, c, http.MethodGet, route, p, q, nil, func(b []byte) (*List[T], []string, error) {
		return decodeList(b, requested, conv)
	})
}

// listOptions is implemented by every *ListOptions type: it renders the
// options as a query string, failing on values no request should carry.
type listOptions interface {
	query() (url.Values, error)
}

// listWithOptions performs a GET list call with the query of o; options that cannot be
// rendered fail with KindInvalid before any request.
func listWithOptions[T any](ctx context.Context, c *Client, route string, p pathParams, o listOptions, conv convertFunc[T]) (*List[T], error) {
	q, err := o.query()
	if err != nil {
		return nil, invalid(http.MethodGet, route, err)
	}
	return fetchList(ctx, c, route, p, q, conv)
}

// decodeList decodes a list document body; requested is the page asked for,
// used when meta lacks current_page.
func decodeList[T any](b []byte, requested int, conv convertFunc[T]) (*List[T], []string, error) {
	doc, err := parseDocument(b)
	if err != nil {
		return nil, nil, err
	}
	rs, err := doc.list()
	if err != nil {
		return nil, nil, err
	}
	d := newDecoder(doc)
	l := &List[T]{Items: make([]T, 0, len(rs))}
	for _, r := range rs {
		l.Items = append(l.Items, conv(d, r))
	}
	l.Meta = doc.listMeta(requested)
	return l, d.bad, nil
}

// exec performs a call whose body is ignored (DELETE answers 204 or 200
// with the deleted resource; both are success).
func (c *Client) exec(ctx context.Context, method, route string, p pathParams, q url.Values, in any) error {
	return c.do(ctx, method, route, p, q, in, nil)
}

// reportOddAttributes logs attribute keys whose values had unexpected types:
// the call still succeeds, but an API change does not go unnoticed.
func (c *Client) reportOddAttributes(ctx context.Context, method, route string, bad []string) {
	if len(bad) == 0 {
		return
	}
	slices.Sort(bad)
	bad = slices.Compact(bad)
	c.logger.LogAttrs(ctx, slog.LevelWarn, "livestorm: unexpected attribute types",
		slog.String("method", method), slog.String("route", route), slog.Any("keys", bad))
}

// invalid reports a caller mistake detected before any request.
func invalid(method, route string, err error) error {
	return &Error{Kind: KindInvalid, Method: method, Route: route, Err: err}
}

func invalidf(method, route, msg string) error { return invalid(method, route, errors.New(msg)) }
