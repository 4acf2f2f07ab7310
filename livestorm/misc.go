package livestorm

import (
	"context"
	"net/http"
)

// Ping checks that the credential is accepted (GET /ping, empty 200 body).
func (c *Client) Ping(ctx context.Context) error {
	return c.exec(ctx, http.MethodGet, "/ping", nil, nil, nil)
}

// Me returns the identity behind the credential (GET /me). API tokens get the
// organization; OAuth tokens get the user and its organization.
func (c *Client) Me(ctx context.Context) (*Me, error) {
	return fetchOne(ctx, c, http.MethodGet, "/me", nil, nil, nil, (*decoder).me)
}

// Organization returns the credential's workspace (GET /organization).
func (c *Client) Organization(ctx context.Context) (*Organization, error) {
	return fetchOne(ctx, c, http.MethodGet, "/organization", nil, nil, nil, func(d *decoder, r *resource) Organization {
		if r.Type == "organizations" || r.Type == "organization" || r.Type == "" {
			return d.organization(r)
		}
		if m := d.me(r); m.Organization != nil {
			return *m.Organization
		}
		return Organization{}
	})
}

// ListPeopleAttributes lists registration attribute definitions
// (GET /people_attributes); their slugs are the ids of Registration fields.
func (c *Client) ListPeopleAttributes(ctx context.Context, o PeopleAttributeListOptions) (*List[PeopleAttribute], error) {
	return listWithOptions(ctx, c, "/people_attributes", nil, o, (*decoder).peopleAttribute)
}
