package livestorm

import (
	"context"
	"net/http"
)

func sessionDeep(d *decoder, r *resource) Session { return d.session(r, true) }

// ListEventSessions lists the sessions of one event (GET /events/{id}/sessions).
func (c *Client) ListEventSessions(ctx context.Context, eventID string, o SessionListOptions) (*List[Session], error) {
	return listWithOptions(ctx, c, "/events/{id}/sessions", pathParams{"id": eventID}, o, sessionDeep)
}

// CreateSession schedules a session of an event (POST /events/{id}/sessions).
func (c *Client) CreateSession(ctx context.Context, eventID string, in SessionInput) (*Session, error) {
	return sendInput(ctx, c, http.MethodPost, "/events/{id}/sessions", pathParams{"id": eventID}, in, sessionDeep)
}

// ListSessions lists every session of the workspace (GET /sessions).
func (c *Client) ListSessions(ctx context.Context, o SessionListOptions) (*List[Session], error) {
	return listWithOptions(ctx, c, "/sessions", nil, o, sessionDeep)
}

// GetSession fetches one session (GET /sessions/{id}); include may name
// "event", "people" and "recordings".
func (c *Client) GetSession(ctx context.Context, id string, include ...string) (*Session, error) {
	return fetchOne(ctx, c, http.MethodGet, "/sessions/{id}", pathParams{"id": id}, includeQuery(include), nil, sessionDeep)
}

// UpdateSession changes the attributes set in in (PATCH /sessions/{id}).
func (c *Client) UpdateSession(ctx context.Context, id string, in SessionInput) (*Session, error) {
	return sendInput(ctx, c, http.MethodPatch, "/sessions/{id}", pathParams{"id": id}, in, sessionDeep)
}

// ReplaceSession is PUT /sessions/{id}; Livestorm treats it like PATCH.
func (c *Client) ReplaceSession(ctx context.Context, id string, in SessionInput) (*Session, error) {
	return sendInput(ctx, c, http.MethodPut, "/sessions/{id}", pathParams{"id": id}, in, sessionDeep)
}

// DeleteSession deletes a session (DELETE /sessions/{id}).
func (c *Client) DeleteSession(ctx context.Context, id string) error {
	return c.exec(ctx, http.MethodDelete, "/sessions/{id}", pathParams{"id": id}, nil, nil)
}

// ListChatMessages lists a session's chat (GET /sessions/{id}/chat_messages);
// include "people" to get each Author.
func (c *Client) ListChatMessages(ctx context.Context, sessionID string, o ListOptions) (*List[ChatMessage], error) {
	return listWithOptions(ctx, c, "/sessions/{id}/chat_messages", pathParams{"id": sessionID}, o,
		func(d *decoder, r *resource) ChatMessage { return d.chatMessage(r, true) })
}

// ListQuestions lists a session's Q&A (GET /sessions/{id}/questions);
// include "asker"/"responder" (or "people") to get the people.
func (c *Client) ListQuestions(ctx context.Context, sessionID string, o ListOptions) (*List[Question], error) {
	return listWithOptions(ctx, c, "/sessions/{id}/questions", pathParams{"id": sessionID}, o,
		func(d *decoder, r *resource) Question { return d.question(r, true) })
}

// ListRecordings lists a session's recordings with signed download URLs
// (GET /sessions/{id}/recordings).
func (c *Client) ListRecordings(ctx context.Context, sessionID string, o RecordingListOptions) (*List[Recording], error) {
	return listWithOptions(ctx, c, "/sessions/{id}/recordings", pathParams{"id": sessionID}, o, (*decoder).recording)
}
