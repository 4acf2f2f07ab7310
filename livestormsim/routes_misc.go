package livestormsim

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
)

var (
	organizationSpec = querySpec{includes: []string{"organization"}}
	usersSpec        = querySpec{paginated: true, filters: []string{"role", "pending_invite", "email"}}
	webhooksSpec     = querySpec{paginated: true, filters: []string{"event"}}
)

// ping answers 200 with an empty body: it only proves the credentials work.
func (s *Simulator) ping(*reqCtx) response { return response{status: http.StatusOK} }

// me follows wire decision 10: an OAuth token is a user (with its
// organization included); an API token is the organization itself.
func (s *Simulator) me(c *reqCtx) response {
	s.store.mu.RLock()
	defer s.store.mu.RUnlock()
	org := organizationResource(c.org)
	if !c.cred.oauth {
		return jsonResponse(http.StatusOK, document{Data: org})
	}
	u := c.org.userByID[c.cred.userID]
	if u == nil {
		return errorResponse(http.StatusNotFound, "User not found")
	}
	res := userResource(u)
	res.setRel("organization", identifier{Type: "organizations", ID: c.org.id})
	return jsonResponse(http.StatusOK, document{Data: res, Included: []resource{org}})
}

func (s *Simulator) getOrganization(c *reqCtx) response {
	q, e := c.query(organizationSpec)
	if e != nil {
		return apiErrorResponse(e)
	}
	s.store.mu.RLock()
	defer s.store.mu.RUnlock()
	org := organizationResource(c.org)
	doc := document{Data: org}
	if q.has("organization") {
		doc.Included = []resource{org}
	}
	return jsonResponse(http.StatusOK, doc)
}

func (s *Simulator) listUsers(c *reqCtx) response {
	q, e := c.query(usersSpec)
	if e != nil {
		return apiErrorResponse(e)
	}
	role, hasRole := q.filter("role")
	if hasRole && role != "host" && role != "moderator" {
		return errorResponse(http.StatusBadRequest, "filter[role] must be 'host' or 'moderator'")
	}
	pending, e := boolFilter(q, "pending_invite")
	if e != nil {
		return apiErrorResponse(e)
	}
	email, hasEmail := q.filter("email")
	s.store.mu.RLock()
	defer s.store.mu.RUnlock()
	users := filterSlice(c.org.users, func(u *user) bool {
		return (!hasRole || u.role == role) && (pending == nil || u.pendingInvite == *pending) &&
			(!hasEmail || strings.EqualFold(u.person.email, strings.TrimSpace(email)))
	})
	return pageResponse(users, q, userResource)
}

type userAttributesIn struct {
	Email *string `json:"email"`
	Role  *string `json:"role"`
}

// inviteUser serves POST /users: the new team member is pending until they
// accept, and is also a people record with the same id.
func (s *Simulator) inviteUser(c *reqCtx) response {
	env, e := decodeEnvelope[userAttributesIn, noRelationships](c.r, "users")
	if e != nil {
		return apiErrorResponse(e)
	}
	in := env.Data.Attributes
	email := ""
	if in.Email != nil {
		email = normalizeEmail(*in.Email)
	}
	if !validEmail(email) {
		return errorResponse(http.StatusUnprocessableEntity, "email must be a valid email address")
	}
	if in.Role == nil || (*in.Role != "host" && *in.Role != "moderator") {
		return errorResponse(http.StatusUnprocessableEntity, "role must be 'host' or 'moderator'")
	}
	s.store.mu.Lock()
	defer s.store.mu.Unlock()
	org, now := c.org, c.now()
	p := org.personByEmail[email]
	if p != nil && org.userByID[p.id] != nil {
		return errorResponse(http.StatusConflict, "A team member with this email already exists")
	}
	if p == nil {
		p = &person{id: s.ids.uuid(), createdAt: now, email: email}
		org.addPerson(p)
	}
	p.role, p.updatedAt = roleTeamMember, now
	u := &user{id: p.id, person: p, role: *in.Role, createdAt: now, updatedAt: now, locale: "en", pendingInvite: true}
	org.addUser(u)
	return jsonResponse(http.StatusCreated, document{Data: userResource(u)})
}

func (o *orgData) addUser(u *user) {
	o.users = insertOrdered(o.users, u)
	o.userByID[u.id] = u
}

// removeUser serves DELETE /users/{id}; the owner cannot be removed and the
// removed member's events are handed to the owner.
func (s *Simulator) removeUser(c *reqCtx) response {
	s.store.mu.Lock()
	defer s.store.mu.Unlock()
	org := c.org
	u, e := findByID(org.userByID, c.param("id"), "Team member not found")
	if e != nil {
		return apiErrorResponse(e)
	}
	if u.id == org.ownerID {
		return errorResponse(http.StatusUnprocessableEntity, "The workspace owner can't be removed")
	}
	now := c.now()
	for _, ev := range org.events {
		if ev.ownerID == u.id {
			ev.ownerID, ev.updatedAt = org.ownerID, now
		}
	}
	delete(org.userByID, u.id)
	org.users = removeOrdered(org.users, u)
	return noContent()
}

func (s *Simulator) listWebhooks(c *reqCtx) response {
	q, e := c.query(webhooksSpec)
	if e != nil {
		return apiErrorResponse(e)
	}
	name, hasName := q.filter("event")
	if hasName && !slices.Contains(webhookEventNames, name) {
		return errorResponse(http.StatusBadRequest, "filter[event] must be one of "+strings.Join(webhookEventNames, ", "))
	}
	s.store.mu.RLock()
	defer s.store.mu.RUnlock()
	hooks := filterSlice(c.org.webhooks, func(w *webhook) bool { return !hasName || w.event == name })
	return pageResponse(hooks, q, webhookResource)
}

// webhookAttributesIn accepts url/event and the target_url/event_name
// spelling (wire decision 14).
type webhookAttributesIn struct {
	URL       *string `json:"url"`
	Event     *string `json:"event"`
	TargetURL *string `json:"target_url"`
	EventName *string `json:"event_name"`
}

func firstNonNil(vals ...*string) string {
	for _, v := range vals {
		if v != nil {
			return strings.TrimSpace(*v)
		}
	}
	return ""
}

func (s *Simulator) createWebhook(c *reqCtx) response {
	env, e := decodeEnvelope[webhookAttributesIn, noRelationships](c.r, "webhooks")
	if e != nil {
		return apiErrorResponse(e)
	}
	in := env.Data.Attributes
	target := firstNonNil(in.URL, in.TargetURL)
	name := firstNonNil(in.Event, in.EventName)
	if !slices.Contains(webhookEventNames, name) {
		return errorResponse(http.StatusUnprocessableEntity, "Unknown webhook event '"+name+"'")
	}
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return errorResponse(http.StatusUnprocessableEntity, "url must be a valid absolute URL")
	}
	if s.cfg.RequireHTTPSWebhooks && u.Scheme != "https" {
		return errorResponse(http.StatusUnprocessableEntity, "url must use HTTPS")
	}
	s.store.mu.Lock()
	defer s.store.mu.Unlock()
	now := c.now()
	w := &webhook{id: s.ids.uuid(), url: target, event: name, createdAt: now, updatedAt: now}
	c.org.webhooks = insertOrdered(c.org.webhooks, w)
	c.org.webhookByID[w.id] = w
	return jsonResponse(http.StatusCreated, document{Data: webhookResource(w)})
}

func (s *Simulator) deleteWebhook(c *reqCtx) response {
	s.store.mu.Lock()
	defer s.store.mu.Unlock()
	w, e := findByID(c.org.webhookByID, c.param("id"), "Webhook not found")
	if e != nil {
		return apiErrorResponse(e)
	}
	delete(c.org.webhookByID, w.id)
	c.org.webhooks = removeOrdered(c.org.webhooks, w)
	return noContent()
}
