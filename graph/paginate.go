package graph

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"github.com/livestorm-gateway/gateway/graph/model"
	"github.com/livestorm-gateway/gateway/livestorm"
	"github.com/livestorm-gateway/gateway/loaders"
)

const (
	// DefaultFirst is the page size of a connection when `first` is omitted.
	DefaultFirst = 20
	// MaxFirst is the largest `first` accepted: four Livestorm pages of 50.
	MaxFirst = 200
)

// window is what a connection's paging arguments ask for: n items, from position start
// (after + 1) onwards, or, fromEnd (last), the n items ending at end (before; -1 for the
// end of the list). Livestorm lists carry their length (record_count) and cursors are
// positions, so both directions are page arithmetic.
type window struct {
	start, end int
	n          int
	fromEnd    bool
	hasBefore  bool
}

// newWindow validates `first`/`after`/`last`/`before`. first and last together are
// refused (as GitHub does): the Relay spec allows them but discourages it, and the
// result is rarely what the client meant. `before` without first or last means the
// DefaultFirst items before it.
func newWindow(first *int, after *string, last *int, before *string) (window, error) {
	w := window{end: -1, n: DefaultFirst}
	if first != nil && last != nil {
		return w, inputError("last", "pass first (forwards) or last (backwards), not both")
	}
	for _, a := range []struct {
		name string
		v    *int
	}{{"first", first}, {"last", last}} {
		if a.v == nil {
			continue
		}
		if *a.v < 0 || *a.v > MaxFirst {
			return w, inputError(a.name, fmt.Sprintf("%s must be between 0 and %d", a.name, MaxFirst))
		}
		w.n = *a.v
	}
	if after != nil && *after != "" {
		i, ok := decodeCursor(*after)
		if !ok {
			return w, inputError("after", "after is not a cursor returned by this API")
		}
		w.start = i + 1
	}
	if before != nil && *before != "" {
		i, ok := decodeCursor(*before)
		if !ok {
			return w, inputError("before", "before is not a cursor returned by this API")
		}
		w.end, w.hasBefore = i, true
	}
	w.fromEnd = last != nil || (first == nil && w.hasBefore)
	return w, nil
}

// span resolves the window against a list of total items: the items [offset,
// offset+limit) and the end of the range the cursors allow.
func (w window) span(total int) (offset, limit, end int) {
	end = total
	if w.hasBefore && w.end < total {
		end = w.end
	}
	start := min(w.start, end)
	offset = start
	if w.fromEnd {
		offset = max(start, end-w.n)
	}
	return offset, min(w.n, end-offset), end
}

// probe is a position whose page tells the list's length, chosen among the pages the
// window will need anyway.
func (w window) probe() int {
	if w.fromEnd && w.hasBefore {
		return max(w.start, w.end-w.n, 0)
	}
	return w.start
}

// Cursors are opaque to clients; inside they are the item's position in the list,
// because Livestorm paginates by page number (model.EncodeCursor writes them).
func encodeCursor(i int) string { return model.EncodeCursor(i) }

func decodeCursor(c string) (int, bool) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || !strings.HasPrefix(string(b), model.CursorPrefix) {
		return 0, false
	}
	i, err := strconv.Atoi(string(b[len(model.CursorPrefix):]))
	return i, err == nil && i >= 0
}

// connection builds a connection from the items at positions [offset, offset+len(items))
// of a list of total items, with Relay's page information: going forwards, a previous
// page exists when items precede the first edge, a next one when items follow the last
// edge before `before`; going backwards, a previous page exists when items precede the
// first edge after `after`, a next one when items follow `before`.
func connection[T any](items []*T, w window, offset, total int) *model.Connection[T] {
	_, _, end := w.span(total)
	hasPrev, hasNext := offset > 0, offset+len(items) < end
	if w.fromEnd {
		hasPrev, hasNext = offset > min(w.start, end), end < total
	}
	return &model.Connection[T]{Items: items, Offset: offset, TotalCount: total,
		PageInfo: model.NewPageInfo(hasNext, hasPrev, offset, len(items))}
}

// sliceConnection serves a connection from a complete in-memory list.
func sliceConnection[T any](all []*T, w window) *model.Connection[T] {
	offset, limit, _ := w.span(len(all))
	return connection(all[offset:offset+limit:offset+limit], w, offset, len(all))
}

// pagedConnection serves a connection from Livestorm's numbered pages, loading only the
// pages the window covers (through the loader: concurrently, and each at most once per
// operation). One page is read first to learn the list's length: the page of the
// window's start, or of its end when paging back from a cursor, so that walking a list
// in either direction costs one call per page of 50, none when cached. Only `last`
// without `before` on a list longer than a page costs one more (the first page, for the
// length).
func pagedConnection[K comparable, T any](
	ctx context.Context, w window,
	loader *loaders.Loader[K, *livestorm.List[T]], key func(page int) K,
) (*model.Connection[T], error) {
	probe := w.probe() / loaders.PageSize
	head, err := loader.Load(ctx, key(probe))
	if err != nil {
		if probe == 0 || livestorm.KindOf(err) != livestorm.KindInvalid {
			return nil, err
		}
		// Livestorm answers 400 past the last page: the list shrank since the cursor was
		// issued. Page 0 tells how long it is now.
		probe = 0
		if head, err = loader.Load(ctx, key(0)); err != nil {
			return nil, err
		}
	}
	total := head.Meta.RecordCount
	offset, limit, _ := w.span(total)
	// The pages the window covers, by number from firstPage; usually one, the probe.
	firstPage, lastPage := offset/loaders.PageSize, (offset+limit-1)/loaders.PageSize
	if pc := head.Meta.PageCount; lastPage > pc-1 {
		lastPage = max(pc-1, firstPage)
	}
	var pages []*livestorm.List[T]
	if limit > 0 {
		pages = make([]*livestorm.List[T], lastPage-firstPage+1)
		var keys []K
		var numbers []int
		for p := firstPage; p <= lastPage; p++ {
			if p == probe {
				pages[p-firstPage] = head
			} else {
				keys, numbers = append(keys, key(p)), append(numbers, p)
			}
		}
		if len(keys) > 0 {
			rest, err := loader.LoadAll(ctx, keys)
			if err != nil {
				return nil, err
			}
			for i, p := range numbers {
				pages[p-firstPage] = rest[i]
			}
		}
	}
	items := make([]*T, 0, limit)
	for g := offset; g < offset+limit; g++ {
		pg := pages[g/loaders.PageSize-firstPage]
		i := g % loaders.PageSize
		if pg == nil || i >= len(pg.Items) {
			break // the list shrank between the pages' reads
		}
		items = append(items, &pg.Items[i])
	}
	return connection(items, w, offset, total), nil
}

// mapConnection converts a connection's nodes (e.g. people rows into registrations),
// keeping its cursors and page information.
func mapConnection[T, U any](c *model.Connection[T], f func(*T) *U) *model.Connection[U] {
	out := &model.Connection[U]{Items: make([]*U, len(c.Items)), Offset: c.Offset, PageInfo: c.PageInfo, TotalCount: c.TotalCount}
	for i, it := range c.Items {
		out.Items[i] = f(it)
	}
	return out
}
