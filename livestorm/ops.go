package livestorm

import (
	"context"
	"errors"
	"log/slog"
	"net/url"
	"slices"
	"strconv"
)

// Glue shared by the per-area operation files: run a call through do and
// decode the document inside the attempt, so a truncated or malformed body
// counts as a failed (and, for GET, retryable) attempt.

type convertFunc[T any] func(d *decoder, r *resource) T

// fetchOne performs a call whose answer is a single resource document.
func fetchOne[T any](ctx context.Context, c *Client, method, route string, p pathParams, q url.Values, in any, conv convertFunc[T]) (*T, error) {
	var out *T
	var bad []string
	err := c.do(ctx, method, route, p, q, in, func(b []byte) (err error) {
		out, bad, err = decodeOne(b, conv)
		return err
	})
	if err != nil {
		return nil, err
	}
	c.reportOddAttributes(ctx, method, route, bad)
	return out, nil
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
	var out *List[T]
	var bad []string
	err := c.do(ctx, "GET", route, p, q, nil, func(b []byte) (err error) {
		out, bad, err = decodeList(b, requested, conv)
		return err
	})
	if err != nil {
		return nil, err
	}
	c.reportOddAttributes(ctx, "GET", route, bad)
	return out, nil
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
