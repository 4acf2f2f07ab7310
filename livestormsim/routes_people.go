package livestormsim

import (
	"cmp"
	"net/http"
	"slices"
	"strings"
)

var (
	peopleSpec           = querySpec{paginated: true, filters: []string{"role", "email"}}
	peopleAttributesSpec = querySpec{
		paginated: true,
		filters:   []string{"builtin", "description", "name", "placeholder", "slug", "type", "user_id"},
		sortable:  []string{"slug", "name", "placeholder", "created_at", "updated_at"},
	}
	peopleAttributeTypes = []string{"text", "email", "avatar", "url", "consent", "unique_select", "multiple_select"}
)

func (s *Simulator) listPeople(c *reqCtx) response {
	q, e := c.query(peopleSpec)
	if e != nil {
		return apiErrorResponse(e)
	}
	who, e := parsePeopleFilter(q)
	if e != nil {
		return apiErrorResponse(e)
	}
	s.store.mu.RLock()
	defer s.store.mu.RUnlock()
	people := c.org.people
	switch {
	case who.hasEmail: // indexed: no scan of a large workspace
		people = nil
		if p := c.org.personByEmail[who.email]; p != nil && who.roleMatches(p) {
			people = []*person{p}
		}
	case who.role != "":
		people = filterSlice(people, who.roleMatches)
	}
	return pageResponse(people, q, personResource)
}

func (s *Simulator) getPerson(c *reqCtx) response {
	s.store.mu.RLock()
	defer s.store.mu.RUnlock()
	p, e := findByID(c.org.personByID, c.param("id"), "Person not found")
	if e != nil {
		return apiErrorResponse(e)
	}
	return jsonResponse(http.StatusOK, document{Data: personResource(p)})
}

func (s *Simulator) listPeopleAttributes(c *reqCtx) response {
	q, e := c.query(peopleAttributesSpec)
	if e != nil {
		return apiErrorResponse(e)
	}
	builtin, e := boolFilter(q, "builtin")
	if e != nil {
		return apiErrorResponse(e)
	}
	if t, ok := q.filter("type"); ok && !slices.Contains(peopleAttributeTypes, t) {
		return errorResponse(http.StatusBadRequest, "filter[type] must be one of "+strings.Join(peopleAttributeTypes, ", "))
	}
	text := func(name, got string) bool {
		want, ok := q.filter(name)
		return !ok || strings.EqualFold(strings.TrimSpace(want), got)
	}
	s.store.mu.RLock()
	defer s.store.mu.RUnlock()
	attrs := filterSlice(c.org.attributes, func(a *peopleAttribute) bool {
		return (builtin == nil || a.builtin == *builtin) && text("description", a.description) &&
			text("name", a.name) && text("placeholder", a.placeholder) && text("slug", a.slug) &&
			text("type", a.typ) && text("user_id", a.userID)
	})
	if len(q.sort) > 0 {
		attrs = slices.Clone(attrs)
		slices.SortStableFunc(attrs, func(a, b *peopleAttribute) int {
			for _, k := range q.sort {
				var c int
				switch k.field {
				case "slug":
					c = strings.Compare(a.slug, b.slug)
				case "name":
					c = strings.Compare(a.name, b.name)
				case "placeholder":
					c = strings.Compare(a.placeholder, b.placeholder)
				case "created_at":
					c = cmp.Compare(a.createdAt, b.createdAt)
				case "updated_at":
					c = cmp.Compare(a.updatedAt, b.updatedAt)
				}
				if k.desc {
					c = -c
				}
				if c != 0 {
					return c
				}
			}
			return 0
		})
	}
	return pageResponse(attrs, q, peopleAttributeResource)
}
