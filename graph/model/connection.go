package model

import "github.com/livestorm-gateway/gateway/livestorm"

// PageInfo is Relay's page information.
type PageInfo struct {
	HasNextPage     bool
	HasPreviousPage bool
	StartCursor     *string
	EndCursor       *string
}

// Connection is a Relay connection over Livestorm resources of type T. One generic type
// serves every XConnection of the schema through the aliases below.
type Connection[T any] struct {
	Edges      []*Edge[T]
	PageInfo   *PageInfo
	TotalCount int
}

// Nodes returns the nodes of the edges, for clients that do not need cursors.
func (c *Connection[T]) Nodes() []*T {
	nodes := make([]*T, len(c.Edges))
	for i, e := range c.Edges {
		nodes[i] = e.Node
	}
	return nodes
}

// Edge is a node with its cursor.
type Edge[T any] struct {
	Cursor string
	Node   *T
}

// Aliases that gqlgen binds the schema's connection and edge types to.
type (
	EventConnection           = Connection[livestorm.Event]
	EventEdge                 = Edge[livestorm.Event]
	SessionConnection         = Connection[livestorm.Session]
	SessionEdge               = Edge[livestorm.Session]
	PersonConnection          = Connection[livestorm.Person]
	PersonEdge                = Edge[livestorm.Person]
	RegistrationConnection    = Connection[Registration]
	RegistrationEdge          = Edge[Registration]
	UserConnection            = Connection[livestorm.User]
	UserEdge                  = Edge[livestorm.User]
	WebhookConnection         = Connection[livestorm.Webhook]
	WebhookEdge               = Edge[livestorm.Webhook]
	RecordingConnection       = Connection[livestorm.Recording]
	RecordingEdge             = Edge[livestorm.Recording]
	ChatMessageConnection     = Connection[livestorm.ChatMessage]
	ChatMessageEdge           = Edge[livestorm.ChatMessage]
	QuestionConnection        = Connection[livestorm.Question]
	QuestionEdge              = Edge[livestorm.Question]
	PeopleAttributeConnection = Connection[livestorm.PeopleAttribute]
	PeopleAttributeEdge       = Edge[livestorm.PeopleAttribute]
)
