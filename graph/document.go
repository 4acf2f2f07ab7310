package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
)

// Document limits.
//
// gqlgen parses and validates a document inside the executor, and validation does work
// that grows with the square of the fields of a selection set (overlapping-fields
// checks) and with the size of the document once its fragments are expanded (which
// doubling fragments make exponential in the document's length). DocumentLimits counts
// what matters with one linear pass over the parsed document, memoizing fragments,
// before any of that work runs: the largest body gqlgen accepts (1 MiB) is refused in
// milliseconds.

// CodeDocumentLimitExceeded refuses a document over one of DocumentLimitOptions' limits.
const CodeDocumentLimitExceeded = "DOCUMENT_LIMIT_EXCEEDED"

func init() {
	errcode.RegisterErrorType(CodeDocumentLimitExceeded, errcode.KindProtocol)
}

// DocumentLimitOptions bound a document; zero disables a limit.
type DocumentLimitOptions struct {
	// MaxTokens bounds the lexical tokens the parser reads (pass the same value to the
	// server's SetParserTokenLimit): parsing stops at the limit, whatever the body size.
	MaxTokens int
	// MaxAliases bounds aliased fields, counted after fragment expansion.
	MaxAliases int
	// MaxFields bounds the fields of the whole document after fragment expansion: what
	// validation and execution walk.
	MaxFields int
	// MaxSelectionFields bounds the fields of one selection set after fragment
	// expansion: what the overlapping-fields check compares pairwise.
	MaxSelectionFields int
	// MaxDirectives bounds directives, counted after fragment expansion.
	MaxDirectives int
	// Cache is the server's query cache: a document it holds was parsed and validated
	// (so it passed these limits) and is not counted again.
	Cache graphql.Cache[*ast.QueryDocument]
	// Rejected is told the limit of each refusal (metrics). Optional.
	Rejected func(ctx context.Context, limit string)
}

// DocumentLimits returns the extension that enforces o before gqlgen parses and
// validates a document. Refusals are DOCUMENT_LIMIT_EXCEEDED (HTTP 422) with
// extensions.limit naming the limit and extensions.max its value; a document over the
// token limit fails to parse (GRAPHQL_PARSE_FAILED, "exceeded token limit").
func DocumentLimits(o DocumentLimitOptions) graphql.HandlerExtension { return documentLimits{o: o} }

type documentLimits struct{ o DocumentLimitOptions }

var _ graphql.OperationParameterMutator = documentLimits{}

func (documentLimits) ExtensionName() string                   { return "DocumentLimits" }
func (documentLimits) Validate(graphql.ExecutableSchema) error { return nil }

func (d documentLimits) MutateOperationParameters(ctx context.Context, p *graphql.RawParams) *gqlerror.Error {
	if p.Query == "" {
		return nil
	}
	if d.o.Cache != nil {
		if _, ok := d.o.Cache.Get(ctx, p.Query); ok {
			return nil
		}
	}
	doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: p.Query}, d.o.MaxTokens)
	if err != nil {
		if gerr, ok := err.(*gqlerror.Error); ok {
			errcode.Set(gerr, errcode.ParseFailed)
			return gerr
		}
		return nil // gqlgen reports it
	}
	if name, limit := d.o.check(doc); name != "" {
		if d.o.Rejected != nil {
			d.o.Rejected(ctx, name)
		}
		err := gqlerror.Errorf("the document has more %s than the %d allowed", name, limit)
		err.Extensions = map[string]any{"code": CodeDocumentLimitExceeded, "limit": name, "max": limit}
		return err
	}
	return nil
}

// check returns the first limit doc exceeds, or "".
func (o DocumentLimitOptions) check(doc *ast.QueryDocument) (string, int) {
	c := &docCounter{doc: doc, o: o, memo: map[string]*docCount{}}
	var total docCount
	for _, op := range doc.Operations {
		total.add(c.set(op.SelectionSet))
		total.directives = satAdd(total.directives, len(op.Directives))
	}
	for _, f := range doc.Fragments {
		c.fragment(f.Name) // fragments are validated even when no operation spreads them
	}
	if c.over != "" {
		return c.over, c.overMax
	}
	switch {
	case o.MaxFields > 0 && total.fields > o.MaxFields:
		return "fields (after fragment expansion)", o.MaxFields
	case o.MaxAliases > 0 && total.aliases > o.MaxAliases:
		return "aliases (after fragment expansion)", o.MaxAliases
	case o.MaxDirectives > 0 && total.directives > o.MaxDirectives:
		return "directives (after fragment expansion)", o.MaxDirectives
	}
	return "", 0
}

// docCount is what a selection set (or fragment) amounts to once expanded.
type docCount struct {
	flat       int // fields it adds to the selection set it appears in
	fields     int // fields at every level
	aliases    int
	directives int
}

func (a *docCount) add(b docCount) {
	a.flat = satAdd(a.flat, b.flat)
	a.fields = satAdd(a.fields, b.fields)
	a.aliases = satAdd(a.aliases, b.aliases)
	a.directives = satAdd(a.directives, b.directives)
}

type docCounter struct {
	doc     *ast.QueryDocument
	o       DocumentLimitOptions
	memo    map[string]*docCount // fragment name -> its count (nil while being counted: a cycle)
	over    string
	overMax int
}

func (c *docCounter) fragment(name string) docCount {
	if got, seen := c.memo[name]; seen {
		if got == nil {
			return docCount{} // a cycle: validation rejects it
		}
		return *got
	}
	def := c.doc.Fragments.ForName(name)
	if def == nil {
		return docCount{}
	}
	c.memo[name] = nil
	got := c.set(def.SelectionSet)
	got.directives = satAdd(got.directives, len(def.Directives))
	c.memo[name] = &got
	return got
}

func (c *docCounter) set(set ast.SelectionSet) docCount {
	var n docCount
	for _, sel := range set {
		if c.over != "" {
			return n
		}
		switch s := sel.(type) {
		case *ast.Field:
			sub := c.set(s.SelectionSet)
			n.flat = satAdd(n.flat, 1)
			n.fields = satAdd(n.fields, satAdd(1, sub.fields))
			n.aliases = satAdd(n.aliases, sub.aliases)
			if s.Alias != "" && s.Alias != s.Name {
				n.aliases = satAdd(n.aliases, 1)
			}
			n.directives = satAdd(n.directives, satAdd(len(s.Directives), sub.directives))
		case *ast.InlineFragment:
			sub := c.set(s.SelectionSet)
			sub.directives = satAdd(sub.directives, len(s.Directives))
			n.add(sub)
		case *ast.FragmentSpread:
			sub := c.fragment(s.Name)
			sub.directives = satAdd(sub.directives, len(s.Directives))
			n.add(sub)
		}
	}
	if c.o.MaxSelectionFields > 0 && n.flat > c.o.MaxSelectionFields && c.over == "" {
		c.over, c.overMax = "fields in one selection set (after fragment expansion)", c.o.MaxSelectionFields
	}
	return n
}
