package graph

import (
	"context"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2/ast"
)

func TestDocumentLimits(t *testing.T) {
	o := DocumentLimitOptions{MaxTokens: 200, MaxAliases: 3, MaxFields: 40, MaxSelectionFields: 10, MaxDirectives: 2}
	cases := []struct{ name, query, limit string }{
		{"within every limit", `query { a: events { totalCount } b: events { totalCount } ...F } fragment F on Query { rateLimit { monthlyLimit } }`, ""},
		{"tokens", "{" + strings.Repeat(" __typename", 250) + " }", "token"},
		{"aliases, counted after expansion", `{ ...F ...G } fragment F on Query { a: __typename b: __typename } fragment G on Query { c: __typename d: __typename }`, "aliases"},
		{"fields of one selection set, counted after expansion", `{ ...F ...F2 } fragment F on Query { ` + strings.Repeat("__typename ", 6) + `} fragment F2 on Query { ` + strings.Repeat("__typename ", 6) + `}`, "fields in one selection set"},
		{"fields of the document, doubling fragments",
			`{ a { ...B } b { ...B } } fragment B on X { c { ...C } d { ...C } } fragment C on X { e { ...E } f { ...E } } fragment E on X { ` + strings.Repeat("id ", 5) + `}`, "fields (after"},
		{"directives", `{ a: __typename @skip(if: false) b: __typename @skip(if: false) c: __typename @skip(if: false) }`, "directives"},
		{"a fragment cycle is left to validation", `{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }`, ""},
	}
	ext := DocumentLimits(o).(graphql.OperationParameterMutator)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := ext.MutateOperationParameters(context.Background(), &graphql.RawParams{Query: tc.query})
			if tc.limit == "" {
				assert.Nil(t, err)
				return
			}
			require.NotNil(t, err)
			assert.Contains(t, err.Message, tc.limit)
		})
	}
	t.Run("a document in the query cache is not counted again", func(t *testing.T) {
		cache := lru.New[*ast.QueryDocument](10)
		q := "{" + strings.Repeat(" __typename", 20) + " }"
		cache.Add(context.Background(), q, &ast.QueryDocument{})
		o := o
		o.Cache = cache
		assert.Nil(t, DocumentLimits(o).(graphql.OperationParameterMutator).MutateOperationParameters(context.Background(), &graphql.RawParams{Query: q}))
	})
}
