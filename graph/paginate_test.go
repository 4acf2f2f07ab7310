package graph

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWindowsInBothDirections(t *testing.T) {
	all := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
	n := func(i int) *int { return &i }
	c := func(i int) *string { s := encodeCursor(i); return &s }
	cases := []struct {
		name             string
		first, last      *int
		after, before    *string
		want             []int
		hasPrev, hasNext bool
	}{
		{"default first", nil, nil, nil, nil, all, false, false},
		{"first", n(3), nil, nil, nil, []int{0, 1, 2}, false, true},
		{"first after", n(3), nil, c(2), nil, []int{3, 4, 5}, true, true},
		{"first after, to the end", n(30), nil, c(6), nil, []int{7, 8, 9}, true, false},
		{"last", nil, n(3), nil, nil, []int{7, 8, 9}, true, false},
		{"last before", nil, n(3), nil, c(7), []int{4, 5, 6}, true, true},
		{"last before, from the start", nil, n(3), nil, c(2), []int{0, 1}, false, true},
		{"before alone is the default window before it", nil, nil, nil, c(9), []int{0, 1, 2, 3, 4, 5, 6, 7, 8}, false, true},
		{"first before", n(3), nil, nil, c(2), []int{0, 1}, false, false},
		{"first between cursors", n(10), nil, c(1), c(5), []int{2, 3, 4}, true, false},
		{"last between cursors (Relay: nothing before the window within after)", nil, n(10), c(1), c(5), []int{2, 3, 4}, false, true},
		{"last between cursors, clipped", nil, n(2), c(1), c(5), []int{3, 4}, true, true},
		{"before past the end (the list shrank)", nil, n(3), nil, c(50), []int{7, 8, 9}, true, false},
		{"after past the end", n(3), nil, c(20), nil, nil, true, false},
		{"last zero", nil, n(0), nil, nil, nil, true, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w, err := newWindow(tc.first, tc.after, tc.last, tc.before)
			require.NoError(t, err)
			ptrs := make([]*int, len(all))
			for i := range all {
				ptrs[i] = &all[i]
			}
			conn := sliceConnection(ptrs, w)
			var got []int
			for _, e := range conn.Edges() {
				got = append(got, *e.Node)
				i, ok := decodeCursor(e.Cursor())
				require.True(t, ok)
				assert.Equal(t, *e.Node, i, "a cursor is the item's position")
			}
			assert.Equal(t, tc.want, got)
			assert.Equal(t, tc.hasPrev, conn.PageInfo.HasPreviousPage, "hasPreviousPage")
			assert.Equal(t, tc.hasNext, conn.PageInfo.HasNextPage, "hasNextPage")
			assert.Equal(t, len(all), conn.TotalCount)
		})
	}
}

func TestWindowRefusesBadArguments(t *testing.T) {
	n := func(i int) *int { return &i }
	s := func(v string) *string { return &v }
	cases := []struct {
		name          string
		first, last   *int
		after, before *string
		field         string
	}{
		{"first and last", n(1), n(1), nil, nil, "last"},
		{"negative last", nil, n(-1), nil, nil, "last"},
		{"last above the maximum", nil, n(MaxFirst + 1), nil, nil, "last"},
		{"first above the maximum", n(MaxFirst + 1), nil, nil, nil, "first"},
		{"a before that is not a cursor", nil, n(1), nil, s("nope"), "before"},
		{"an after that is not a cursor", n(1), nil, s("nope"), nil, "after"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := newWindow(tc.first, tc.after, tc.last, tc.before)
			var in *InputError
			require.ErrorAs(t, err, &in)
			assert.Equal(t, tc.field, in.Field)
		})
	}
}
