package livestorm

import (
	"context"
	"net/http"
	"net/url"
	"strings"
)

func personDeep(d *decoder, r *resource) Person { return d.person(r, true) }

// ListEventPeople lists the people of every session of an event
// (GET /events/{id}/people).
func (c *Client) ListEventPeople(ctx context.Context, eventID string, o EventPeopleListOptions) (*List[Person], error) {
	return listWithOptions(ctx, c, "/events/{id}/people", pathParams{"id": eventID}, o, personDeep)
}

// GetEventPerson fetches one person of an event (GET /events/{id}/people/{person_id}).
func (c *Client) GetEventPerson(ctx context.Context, eventID, personID string) (*Person, error) {
	return fetchOne(ctx, c, http.MethodGet, "/events/{id}/people/{person_id}", pathParams{"id": eventID, "person_id": personID}, nil, nil, personDeep)
}

// ListSessionPeople lists a session's registrants and team members
// (GET /sessions/{id}/people).
func (c *Client) ListSessionPeople(ctx context.Context, sessionID string, o SessionPeopleListOptions) (*List[Person], error) {
	return listWithOptions(ctx, c, "/sessions/{id}/people", pathParams{"id": sessionID}, o, personDeep)
}

// RegisterPerson registers one person to a session (POST /sessions/{id}/people).
// Livestorm answers 409 (KindConflict) when the email is already registered
// and 422 (KindInvalid) for unknown or missing fields. Never retried.
func (c *Client) RegisterPerson(ctx context.Context, sessionID string, r Registration) (*Person, error) {
	return sendInput(ctx, c, http.MethodPost, "/sessions/{id}/people", pathParams{"id": sessionID}, r, personDeep)
}

// UnregisterByEmail removes a registration by email
// (DELETE /sessions/{id}/people?filter[email]=…).
func (c *Client) UnregisterByEmail(ctx context.Context, sessionID, email string) error {
	const route = "/sessions/{id}/people"
	email = strings.TrimSpace(email)
	if email == "" {
		return invalidf(http.MethodDelete, route, "empty email")
	}
	return c.exec(ctx, http.MethodDelete, route, pathParams{"id": sessionID}, url.Values{"filter[email]": {email}}, nil)
}

// GetSessionPerson fetches one person of a session with their registrant
// detail (GET /sessions/{id}/people/{person_id}).
func (c *Client) GetSessionPerson(ctx context.Context, sessionID, personID string) (*Person, error) {
	return fetchOne(ctx, c, http.MethodGet, "/sessions/{id}/people/{person_id}", pathParams{"id": sessionID, "person_id": personID}, nil, nil, personDeep)
}

// UpdateRegistration changes a registrant's fields
// (PATCH /sessions/{id}/people/{person_id}).
func (c *Client) UpdateRegistration(ctx context.Context, sessionID, personID string, r Registration) (*Person, error) {
	return sendInput(ctx, c, http.MethodPatch, "/sessions/{id}/people/{person_id}", pathParams{"id": sessionID, "person_id": personID}, r, personDeep)
}

// UnregisterPerson removes a registration by people id
// (DELETE /sessions/{id}/people/{person_id}).
func (c *Client) UnregisterPerson(ctx context.Context, sessionID, personID string) error {
	return c.exec(ctx, http.MethodDelete, "/sessions/{id}/people/{person_id}", pathParams{"id": sessionID, "person_id": personID}, nil, nil)
}

// ListPeople lists every person of the workspace (GET /people).
func (c *Client) ListPeople(ctx context.Context, o PeopleListOptions) (*List[Person], error) {
	return listWithOptions(ctx, c, "/people", nil, o, personDeep)
}

// GetPerson fetches one person (GET /people/{id}).
func (c *Client) GetPerson(ctx context.Context, id string) (*Person, error) {
	return fetchOne(ctx, c, http.MethodGet, "/people/{id}", pathParams{"id": id}, nil, nil, personDeep)
}
