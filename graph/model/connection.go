package model

import (
	"encoding/base64"
	"strconv"

	"github.com/livestorm-gateway/gateway/livestorm"
)

// A connection holds its nodes and their position in the list; edges and cursors are
// built only when a query selects them (methods without a context, which gqlgen
// calls inline), so a page of nodes costs no edge or cursor it does not show.

// PageInfo is Relay's page information.
type PageInfo struct {
	HasNextPage     bool
	HasPreviousPage bool
	// first and last are the positions of the page's first and last nodes (count is
	// how many there are).
	first, count int
}

// NewPageInfo describes a page of count nodes starting at position first.
func NewPageInfo(hasNext, hasPrevious bool, first, count int) *PageInfo {
	return &PageInfo{HasNextPage: hasNext, HasPreviousPage: hasPrevious, first: first, count: count}
}

// StartCursor is the cursor of the page's first node (nil for an empty page).
func (p *PageInfo) StartCursor() *string {
	if p.count == 0 {
		return nil
	}
	c := EncodeCursor(p.first)
	return &c
}

// EndCursor is the cursor of the page's last node (nil for an empty page).
func (p *PageInfo) EndCursor() *string {
	if p.count == 0 {
		return nil
	}
	c := EncodeCursor(p.first + p.count - 1)
	return &c
}

// Connection is a Relay connection over Livestorm resources of type T. One generic type
// serves every XConnection of the schema through the aliases below.
type Connection[T any] struct {
	// Items are the page's nodes; Offset is the position of the first in the list.
	Items  []*T
	Offset int
	// Positions, when not nil, are the items' positions in the list, one per item: a page
	// some of whose items were left out (drafts hidden from public callers) keeps each
	// item's own cursor.
	Positions  []int
	PageInfo   *PageInfo
	TotalCount int
}

// Position is the position in the list of the i-th item.
func (c *Connection[T]) Position(i int) int {
	if c.Positions != nil {
		return c.Positions[i]
	}
	return c.Offset + i
}

// Nodes returns the nodes, for clients that do not need cursors.
func (c *Connection[T]) Nodes() []*T { return c.Items }

// Edges returns the nodes with their cursors.
func (c *Connection[T]) Edges() []*Edge[T] {
	edges := make([]Edge[T], len(c.Items))
	out := make([]*Edge[T], len(c.Items))
	for i, it := range c.Items {
		edges[i] = Edge[T]{Node: it, Position: c.Position(i)}
		out[i] = &edges[i]
	}
	return out
}

// Edge is a node with its position.
type Edge[T any] struct {
	Node     *T
	Position int
}

// Cursor is the edge's opaque cursor.
func (e *Edge[T]) Cursor() string { return EncodeCursor(e.Position) }

// CursorPrefix starts every decoded cursor: cursors are positions, because Livestorm
// paginates by page number.
const CursorPrefix = "offset:"

// EncodeCursor is the cursor of position i (graph.decodeCursor reads it back).
func EncodeCursor(i int) string {
	return base64.RawURLEncoding.EncodeToString([]byte(CursorPrefix + strconv.Itoa(i)))
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
