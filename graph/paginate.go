package graph

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"github.com/vikstrous/dataloadgen"

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

// window is the slice of a list a connection asks for: items [offset, offset+limit).
type window struct{ offset, limit int }

// newWindow validates `first` and `after`.
func newWindow(first *int, after *string) (window, error) {
	w := window{limit: DefaultFirst}
	if first != nil {
		w.limit = *first
	}
	if w.limit < 0 || w.limit > MaxFirst {
		return w, inputError("first", fmt.Sprintf("first must be between 0 and %d", MaxFirst))
	}
	if after != nil && *after != "" {
		i, ok := decodeCursor(*after)
		if !ok {
			return w, inputError("after", "after is not a cursor returned by this API")
		}
		w.offset = i + 1
	}
	return w, nil
}

const cursorPrefix = "offset:"

// Cursors are opaque to clients; inside they are the item's position in the list,
// because Livestorm paginates by page number.
func encodeCursor(i int) string {
	return base64.RawURLEncoding.EncodeToString([]byte(cursorPrefix + strconv.Itoa(i)))
}

func decodeCursor(c string) (int, bool) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || !strings.HasPrefix(string(b), cursorPrefix) {
		return 0, false
	}
	i, err := strconv.Atoi(string(b[len(cursorPrefix):]))
	return i, err == nil && i >= 0
}

// connection builds a connection from the items of the window (items[0] is at w.offset).
func connection[T any](items []*T, w window, total int) *model.Connection[T] {
	c := &model.Connection[T]{
		Edges:      make([]*model.Edge[T], len(items)),
		TotalCount: total,
		PageInfo: &model.PageInfo{
			HasPreviousPage: w.offset > 0,
			HasNextPage:     w.offset+len(items) < total,
		},
	}
	for i, it := range items {
		c.Edges[i] = &model.Edge[T]{Cursor: encodeCursor(w.offset + i), Node: it}
	}
	if len(items) > 0 {
		c.PageInfo.StartCursor = &c.Edges[0].Cursor
		c.PageInfo.EndCursor = &c.Edges[len(items)-1].Cursor
	}
	return c
}

// sliceConnection serves a connection from a complete in-memory list.
func sliceConnection[T any](all []T, w window) *model.Connection[T] {
	var items []*T
	for i := w.offset; i < len(all) && i < w.offset+w.limit; i++ {
		items = append(items, &all[i])
	}
	return connection(items, w, len(all))
}

// pagedConnection serves a connection from Livestorm's numbered pages, loading only the
// pages the window covers (after the first, concurrently through the loader).
func pagedConnection[K comparable, T any](
	ctx context.Context, w window,
	loader *dataloadgen.Loader[K, *livestorm.List[T]], key func(page int) K,
) (*model.Connection[T], error) {
	firstPage := w.offset / loaders.PageSize
	head, err := loader.Load(ctx, key(firstPage))
	if err != nil {
		if firstPage == 0 || livestorm.KindOf(err) != livestorm.KindInvalid {
			return nil, err
		}
		// Livestorm answers 400 past the last page: the list shrank since the cursor was
		// issued. Page 0 tells how long it is now.
		p0, err0 := loader.Load(ctx, key(0))
		if err0 != nil {
			return nil, err0
		}
		if w.offset >= p0.Meta.RecordCount {
			return connection[T](nil, w, p0.Meta.RecordCount), nil
		}
		return nil, err
	}
	total := head.Meta.RecordCount
	lastPage := firstPage
	if w.limit > 0 {
		lastPage = (w.offset + w.limit - 1) / loaders.PageSize
	}
	if pc := head.Meta.PageCount; lastPage > pc-1 {
		lastPage = max(pc-1, firstPage)
	}
	pages := []*livestorm.List[T]{head}
	if lastPage > firstPage {
		keys := make([]K, 0, lastPage-firstPage)
		for p := firstPage + 1; p <= lastPage; p++ {
			keys = append(keys, key(p))
		}
		rest, err := loader.LoadAll(ctx, keys)
		if err != nil {
			return nil, err
		}
		pages = append(pages, rest...)
	}
	var items []*T
	for pi, pg := range pages {
		base := (firstPage + pi) * loaders.PageSize
		for i := range pg.Items {
			g := base + i
			if g >= w.offset && g < w.offset+w.limit {
				items = append(items, &pg.Items[i])
			}
		}
	}
	return connection(items, w, total), nil
}
