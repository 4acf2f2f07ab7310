package livestormsim

import (
	"net/http"
	"sort"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPagination(t *testing.T) {
	h := newHarness(t, nil)
	// SizeSmall: 8 events x 3 sessions = 24 sessions in the organization.
	const total = 24
	metaOf := func(r apiResp) map[string]any { return r.meta() }
	num := func(v int) any { return float64(v) }

	tests := []struct {
		name  string
		query string
		meta  map[string]any
		items int
	}{
		{"default page", "", map[string]any{"current_page": num(0), "previous_page": nil, "next_page": num(1), "record_count": num(total), "page_count": num(2), "items_per_page": num(20)}, 20},
		{"last page", "?page[number]=1", map[string]any{"current_page": num(1), "previous_page": num(0), "next_page": nil, "record_count": num(total), "page_count": num(2), "items_per_page": num(20)}, 4},
		{"custom size", "?page[size]=5&page[number]=2", map[string]any{"current_page": num(2), "previous_page": num(1), "next_page": num(3), "record_count": num(total), "page_count": num(5), "items_per_page": num(5)}, 5},
		{"size clamped to 50", "?page[size]=100", map[string]any{"current_page": num(0), "previous_page": nil, "next_page": nil, "record_count": num(total), "page_count": num(1), "items_per_page": num(50)}, total},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := h.get("/sessions"+tc.query).must(t, http.StatusOK)
			assert.Equal(t, tc.meta, metaOf(r))
			assert.Len(t, r.list(), tc.items)
		})
	}

	bad := []struct{ name, query string }{
		{"past the end", "?page[number]=2"},
		{"far past the end", "?page[number]=99"},
		{"negative number", "?page[number]=-1"},
		{"non-integer number", "?page[number]=one"},
		{"zero size", "?page[size]=0"},
		{"non-integer size", "?page[size]=big"},
		{"unknown page key", "?page[offset]=3"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			r := h.get("/sessions"+tc.query).must(t, http.StatusBadRequest)
			assert.Equal(t, "bad_request", r.errorStatus())
		})
	}

	t.Run("empty list allows page 0 only", func(t *testing.T) {
		r := h.get("/webhooks").must(t, http.StatusOK)
		assert.Equal(t, map[string]any{"current_page": num(0), "previous_page": nil, "next_page": nil, "record_count": num(0), "page_count": num(0), "items_per_page": num(20)}, r.meta())
		assert.Empty(t, r.list())
		h.get("/webhooks?page[number]=1").must(t, http.StatusBadRequest)
	})

	t.Run("pages concatenate to the full list sorted by created_at then id", func(t *testing.T) {
		all := h.listAll("/people", h.org.Token)
		var pages []map[string]any
		for n := 0; ; n++ {
			r := h.get("/people?page[size]=7&page[number]="+strconv.Itoa(n)).must(t, http.StatusOK)
			pages = append(pages, r.list()...)
			if r.meta()["next_page"] == nil {
				break
			}
		}
		require.Equal(t, ids(all), ids(pages))
		assert.True(t, sort.SliceIsSorted(all, func(i, j int) bool {
			ai, aj := attrs(all[i])["created_at"].(float64), attrs(all[j])["created_at"].(float64)
			if ai != aj {
				return ai < aj
			}
			return all[i]["id"].(string) < all[j]["id"].(string)
		}))
	})

	t.Run("non-paginated endpoint rejects page params", func(t *testing.T) {
		h.get("/events/"+h.sim.Events(h.org.ID)[0].ID+"?page[size]=2").must(t, http.StatusBadRequest)
	})
}
