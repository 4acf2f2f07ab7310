package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/livestorm-gateway/gateway/graph/generated"
	"github.com/livestorm-gateway/gateway/graph/model"
)

// SetComplexity makes a connection cost its page size times its selection, so the
// complexity limit bounds fan-out (events × sessions × people), which is what spends
// upstream calls, rather than the mere number of fields.
func SetComplexity(c *generated.ComplexityRoot) {
	c.Query.Nodes = func(child int, ids []string) int { return 1 + child*max(len(ids), 1) }
	c.Query.Events = func(child int, first *int, _ *string, last *int, _ *string, _ *model.EventFilter) int {
		return pageCost(child, first, last)
	}
	c.Query.Sessions = func(child int, first *int, _ *string, last *int, _ *string, _ *model.SessionFilter) int {
		return pageCost(child, first, last)
	}
	c.Query.People = func(child int, first *int, _ *string, last *int, _ *string, _ *model.PeopleFilter) int {
		return pageCost(child, first, last)
	}
	c.Query.Users = func(child int, first *int, _ *string, last *int, _ *string, _ *model.UserFilter) int {
		return pageCost(child, first, last)
	}
	c.Query.Webhooks = func(child int, first *int, _ *string, last *int, _ *string, _ *model.WebhookFilter) int {
		return pageCost(child, first, last)
	}
	c.Query.PeopleAttributes = func(child int, first *int, _ *string, last *int, _ *string, _ *model.PeopleAttributeFilter, _ []model.PeopleAttributeOrder) int {
		return pageCost(child, first, last)
	}
	c.Event.Sessions = func(child int, first *int, _ *string, last *int, _ *string, _ *model.SessionFilter) int {
		return pageCost(child, first, last)
	}
	c.Event.People = func(child int, first *int, _ *string, last *int, _ *string, _ *model.EventPeopleFilter) int {
		return pageCost(child, first, last)
	}
	c.Event.Registrations = func(child int, first *int, _ *string, last *int, _ *string, _ *model.EventPeopleFilter) int {
		return pageCost(child, first, last)
	}
	c.Session.People = func(child int, first *int, _ *string, last *int, _ *string, _ *model.SessionPeopleFilter) int {
		return pageCost(child, first, last)
	}
	c.Session.Registrations = func(child int, first *int, _ *string, last *int, _ *string, _ *model.SessionPeopleFilter) int {
		return pageCost(child, first, last)
	}
	c.Session.Recordings = func(child int, first *int, _ *string, last *int, _ *string) int { return pageCost(child, first, last) }
	c.Session.ChatMessages = func(child int, first *int, _ *string, last *int, _ *string) int { return pageCost(child, first, last) }
	c.Session.Questions = func(child int, first *int, _ *string, last *int, _ *string) int { return pageCost(child, first, last) }
}

// pageCost is a connection's cost: its window (first or last, DefaultFirst when neither
// is given) times its selection. Out-of-range values are refused by the resolver; here
// they count as the maximum.
func pageCost(child int, first, last *int) int {
	n := DefaultFirst
	for _, v := range []*int{first, last} {
		if v != nil && *v >= 0 {
			n = min(*v, MaxFirst)
		}
	}
	return 1 + child*max(n, 1)
}

// DepthLimit rejects operations nested deeper than max fields (introspection excluded:
// GraphiQL's own schema query is deep but costs nothing upstream).
func DepthLimit(max int) graphql.HandlerExtension { return depthLimit{max: max} }

type depthLimit struct{ max int }

var _ graphql.OperationContextMutator = depthLimit{}

func (depthLimit) ExtensionName() string                   { return "DepthLimit" }
func (depthLimit) Validate(graphql.ExecutableSchema) error { return nil }
func (d depthLimit) MutateOperationContext(_ context.Context, rc *graphql.OperationContext) *gqlerror.Error {
	if rc.Operation == nil {
		return nil
	}
	if depth := selectionDepth(rc.Doc, rc.Operation.SelectionSet, map[string]bool{}); depth > d.max {
		err := gqlerror.Errorf("operation is nested %d levels deep; the limit is %d", depth, d.max)
		err.Extensions = map[string]any{"code": CodeBadUserInput}
		return err
	}
	return nil
}

func selectionDepth(doc *ast.QueryDocument, set ast.SelectionSet, visiting map[string]bool) int {
	deepest := 0
	for _, sel := range set {
		var d int
		switch s := sel.(type) {
		case *ast.Field:
			if len(s.Name) >= 2 && s.Name[:2] == "__" {
				continue
			}
			d = 1 + selectionDepth(doc, s.SelectionSet, visiting)
		case *ast.InlineFragment:
			d = selectionDepth(doc, s.SelectionSet, visiting)
		case *ast.FragmentSpread:
			if visiting[s.Name] {
				continue // cycles are rejected by validation; never loop here
			}
			if def := doc.Fragments.ForName(s.Name); def != nil {
				visiting[s.Name] = true
				d = selectionDepth(doc, def.SelectionSet, visiting)
				delete(visiting, s.Name)
			}
		}
		deepest = max(deepest, d)
	}
	return deepest
}
