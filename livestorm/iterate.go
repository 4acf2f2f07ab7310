package livestorm

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net/url"
	"strconv"
)

// MaxPageSize is the largest page[size] Livestorm documents.
const MaxPageSize = 50

// Page selects one page of a list. Livestorm pages are 0-based.
type Page struct {
	Number int // 0-based
	Size   int // 0 -> server default (20); > 50 is sent as 50
}

// ListMeta is a list's pagination meta. Keys missing from the document (the
// 2021 format has only record_count, page_count and items_per_page) are
// derived from the requested page and page_count.
type ListMeta struct {
	CurrentPage            int
	PreviousPage, NextPage *int
	RecordCount, PageCount int
	ItemsPerPage           int
}

// List is one page of resources.
type List[T any] struct {
	Items []T
	Meta  ListMeta
}

// HasNext reports whether another page follows.
func (l *List[T]) HasNext() bool { return l != nil && l.Meta.NextPage != nil }

// apply adds page[number]/page[size] to q.
func (p Page) apply(q url.Values) error {
	if p.Number < 0 {
		return fmt.Errorf("page number %d is negative", p.Number)
	}
	if p.Number > 0 {
		q.Set("page[number]", strconv.Itoa(p.Number))
	}
	if p.Size > 0 {
		q.Set("page[size]", strconv.Itoa(min(p.Size, MaxPageSize)))
	}
	return nil
}

// errPageStuck stops All when a server's next_page does not advance.
var errPageStuck = errors.New("pagination did not advance")

// All walks every page starting at page 0 until next_page is null, yielding
// each item. fetch receives the page number to load (closures typically copy
// their options and set Page.Number). A fetch error is yielded once, and
// iteration stops; so does a next_page that does not move forward.
func All[T any](ctx context.Context, fetch func(ctx context.Context, page int) (*List[T], error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		page := 0
		for {
			if err := ctx.Err(); err != nil {
				yield(zero, ctxError("", "", err))
				return
			}
			l, err := fetch(ctx, page)
			if err != nil {
				yield(zero, err)
				return
			}
			if l == nil {
				return
			}
			for _, it := range l.Items {
				if !yield(it, nil) {
					return
				}
			}
			if l.Meta.NextPage == nil {
				return
			}
			next := *l.Meta.NextPage
			if next <= page {
				yield(zero, &Error{Kind: KindUnavailable, Err: fmt.Errorf("%w: page %d announced next page %d", errPageStuck, page, next)})
				return
			}
			page = next
		}
	}
}
