package plain

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
)

// NewHandler serves data, the JSON `data` member of an event-page response
// ({"events": {"totalCount", "nodes": [...]}}), as a GraphQL endpoint on POST.
func NewHandler(data []byte) (http.Handler, error) {
	var d struct {
		Events *EventConnection `json:"events"`
	}
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, fmt.Errorf("plain: decoding the data: %w", err)
	}
	if d.Events == nil {
		return nil, fmt.Errorf("plain: the data has no events")
	}
	srv := handler.New(NewExecutableSchema(Config{Resolvers: &Resolver{events: d.Events}}))
	srv.AddTransport(transport.POST{})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	return srv, nil
}

// Resolver answers from the events held in memory.
type Resolver struct{ events *EventConnection }

// Query returns the root resolver.
func (r *Resolver) Query() QueryResolver { return queryResolver{r} }

// Session returns the session resolver.
func (r *Resolver) Session() SessionResolver { return sessionResolver{} }

type queryResolver struct{ *Resolver }

func (q queryResolver) Events(_ context.Context, first *int) (*EventConnection, error) {
	n := len(q.events.Nodes)
	if first != nil {
		n = min(max(*first, 0), n)
	}
	return &EventConnection{TotalCount: q.events.TotalCount, Nodes: q.events.Nodes[:n]}, nil
}

type sessionResolver struct{}

func (sessionResolver) Registrations(_ context.Context, s *Session, first *int) (*RegistrationConnection, error) {
	if s.All == nil {
		return nil, nil
	}
	n := len(s.All.Nodes)
	if first != nil {
		n = min(max(*first, 0), n)
	}
	return &RegistrationConnection{TotalCount: s.All.TotalCount, Nodes: s.All.Nodes[:n]}, nil
}
