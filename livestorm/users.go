package livestorm

import (
	"context"
	"net/http"
	"strings"
)

// ListUsers lists the workspace's team members (GET /users).
func (c *Client) ListUsers(ctx context.Context, o UserListOptions) (*List[User], error) {
	return listWithOptions(ctx, c, "/users", nil, o, (*decoder).user)
}

// InviteUser invites a team member (POST /users); role is "host" or
// "moderator" (empty lets Livestorm choose).
func (c *Client) InviteUser(ctx context.Context, email, role string) (*User, error) {
	const route = "/users"
	email = strings.TrimSpace(email)
	if email == "" {
		return nil, invalidf(http.MethodPost, route, "empty email")
	}
	a := map[string]any{"email": email}
	if role = strings.TrimSpace(role); role != "" {
		a["role"] = role
	}
	return fetchOne(ctx, c, http.MethodPost, route, nil, nil, body{Data: resourceObject{Type: "users", Attributes: a}}, (*decoder).user)
}

// RemoveUser removes a team member (DELETE /users/{id}).
func (c *Client) RemoveUser(ctx context.Context, id string) error {
	return c.exec(ctx, http.MethodDelete, "/users/{id}", pathParams{"id": id}, nil, nil)
}
