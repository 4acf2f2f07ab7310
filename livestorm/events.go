package livestorm

import (
	"context"
	"net/http"
	"strings"
)

// ListEvents lists the workspace's events (GET /events).
func (c *Client) ListEvents(ctx context.Context, o EventListOptions) (*List[Event], error) {
	return listWithOptions(ctx, c, "/events", nil, o, eventDeep)
}

func eventDeep(d *decoder, r *resource) Event { return d.event(r, true) }

// CreateEvent creates (or, with CopyFromEventID, copies) an event, optionally
// with its first sessions (POST /events).
func (c *Client) CreateEvent(ctx context.Context, in EventInput) (*Event, error) {
	return sendInput(ctx, c, http.MethodPost, "/events", nil, in, eventDeep)
}

// GetEvent fetches one event (GET /events/{id}); include may name
// "sessions" and "tags" to embed them in one call.
func (c *Client) GetEvent(ctx context.Context, id string, include ...string) (*Event, error) {
	return fetchOne(ctx, c, http.MethodGet, "/events/{id}", pathParams{"id": id}, includeQuery(include), nil, eventDeep)
}

// UpdateEvent changes the attributes set in in (PATCH /events/{id}).
func (c *Client) UpdateEvent(ctx context.Context, id string, in EventInput) (*Event, error) {
	return sendInput(ctx, c, http.MethodPatch, "/events/{id}", pathParams{"id": id}, in, eventDeep)
}

// ReplaceEvent is PUT /events/{id}; Livestorm treats it like PATCH.
func (c *Client) ReplaceEvent(ctx context.Context, id string, in EventInput) (*Event, error) {
	return sendInput(ctx, c, http.MethodPut, "/events/{id}", pathParams{"id": id}, in, eventDeep)
}

// DeleteEvent deletes an event and its sessions (DELETE /events/{id}).
func (c *Client) DeleteEvent(ctx context.Context, id string) error {
	return c.exec(ctx, http.MethodDelete, "/events/{id}", pathParams{"id": id}, nil, nil)
}

// AddEventTag assigns a tag to an event, creating the tag if needed (POST
// /events/{id}/tags). Livestorm's answer is undocumented; the tag is read
// from it when present, else built from title.
func (c *Client) AddEventTag(ctx context.Context, eventID, title string) (*Tag, error) {
	const route = "/events/{id}/tags"
	title = strings.TrimSpace(title)
	if title == "" {
		return nil, invalidf(http.MethodPost, route, "empty tag title")
	}
	tag := &Tag{Title: title}
	err := c.do(ctx, http.MethodPost, route, pathParams{"id": eventID}, nil, titleBody(title), func(b []byte) error {
		if len(strings.TrimSpace(string(b))) == 0 {
			return nil
		}
		doc, err := parseDocument(b)
		if err != nil {
			return err
		}
		d := newDecoder(doc)
		candidates := doc.includedOfType("tags")
		for _, r := range doc.data {
			if r.Type == "tags" || r.Type == "" {
				candidates = append([]*resource{r}, candidates...)
			} else if r.Type == "events" {
				ev := d.event(r, true)
				for _, t := range ev.Tags {
					if strings.EqualFold(t.Title, title) {
						tag = &t
						return nil
					}
				}
			}
		}
		for _, r := range candidates {
			if t := d.tag(r); strings.EqualFold(t.Title, title) || t.Title == "" {
				if t.Title == "" {
					t.Title = title
				}
				tag = &t
				return nil
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return tag, nil
}

// RemoveEventTag unassigns a tag from an event; the tag itself survives
// (DELETE /events/{id}/tags with the same body as AddEventTag).
func (c *Client) RemoveEventTag(ctx context.Context, eventID, title string) error {
	const route = "/events/{id}/tags"
	title = strings.TrimSpace(title)
	if title == "" {
		return invalidf(http.MethodDelete, route, "empty tag title")
	}
	return c.exec(ctx, http.MethodDelete, route, pathParams{"id": eventID}, nil, titleBody(title))
}
