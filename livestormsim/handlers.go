package livestormsim

import "net/http"

// The pieces every route handler is built from. Handlers differ in what they
// validate and change; how they find the record a path names, how they page
// a list and how they render include= relationships is the same everywhere,
// so it lives here once and the handlers read as the differences.

// findByID returns byID[id], or a 404 whose detail is notFound.
func findByID[T any](byID map[string]*T, id, notFound string) (*T, *apiError) {
	if v := byID[id]; v != nil {
		return v, nil
	}
	return nil, &apiError{status: http.StatusNotFound, detail: notFound}
}

// personNotInSession is the 404 detail for a person with no registration to
// the session of the URL, however the person was named.
const personNotInSession = "Person not found in this session"

// The path lookups below resolve the records named by the {id} and
// {people_id} path segments; the store lock must be held.

func (c *reqCtx) pathEvent() (*event, *apiError) {
	return findByID(c.org.eventByID, c.param("id"), "Event not found")
}

func (c *reqCtx) pathSession() (*session, *apiError) {
	return findByID(c.org.sessionByID, c.param("id"), "Session not found")
}

// pathRegistration is the registration of person {people_id} to session {id}.
func (c *reqCtx) pathRegistration() (*registration, *apiError) {
	sess, e := c.pathSession()
	if e != nil {
		return nil, e
	}
	return findByID(sess.regByPerson, c.param("people_id"), personNotInSession)
}

func (c *reqCtx) pathJob() (*job, *apiError) {
	return findByID(c.org.jobs, c.param("id"), "Job not found")
}

// pathSessionItems adapts a per-session collection (its registrations, chat,
// questions) to listDocuments: the collection of session {id}, or its 404.
func pathSessionItems[T any](c *reqCtx, items func(*session) []T) func() ([]T, *apiError) {
	return func() ([]T, *apiError) {
		sess, e := c.pathSession()
		if e != nil {
			return nil, e
		}
		return items(sess), nil
	}
}

// documentFunc renders one record plus the relationships q asks to include,
// adding the related resources to inc.
type documentFunc[T any] func(item T, q *listQuery, now int64, inc *includer) resource

// getDocument serves GET of one record that supports include=: it validates
// the query, finds the record under the read lock and answers 200 with the
// record and its included resources.
func getDocument[T any](s *Simulator, c *reqCtx, spec querySpec, find func() (T, *apiError), render documentFunc[T]) response {
	q, e := c.query(spec)
	if e != nil {
		return apiErrorResponse(e)
	}
	s.store.mu.RLock()
	defer s.store.mu.RUnlock()
	item, e := find()
	if e != nil {
		return apiErrorResponse(e)
	}
	var inc includer
	res := render(item, q, c.now(), &inc)
	return jsonResponse(http.StatusOK, document{Data: res, Included: inc.list})
}

// filterFunc builds the predicate of a list's filter[...] parameters. It
// returns nil when q has none, so an unfiltered list is not copied.
type filterFunc[T any] func(q *listQuery) (keep func(item T, now int64) bool, e *apiError)

// listDocuments serves a paginated list that supports include=: it validates
// the query and its filters (a nil filter means the list has none) before
// taking the read lock, then loads the items (which may 404), filters them,
// and answers 200 with the page.
func listDocuments[T any](s *Simulator, c *reqCtx, spec querySpec, filter filterFunc[T], items func() ([]T, *apiError), render documentFunc[T]) response {
	q, e := c.query(spec)
	if e != nil {
		return apiErrorResponse(e)
	}
	var keep func(T, int64) bool
	if filter != nil {
		if keep, e = filter(q); e != nil {
			return apiErrorResponse(e)
		}
	}
	s.store.mu.RLock()
	defer s.store.mu.RUnlock()
	all, e := items()
	if e != nil {
		return apiErrorResponse(e)
	}
	now := c.now()
	var pred func(T) bool
	if keep != nil {
		pred = func(item T) bool { return keep(item, now) }
	}
	return compoundPageResponse(filterSlice(all, pred), q, func(item T, inc *includer) resource {
		return render(item, q, now, inc)
	})
}

// pageResponse answers 200 with the page of items q asks for, each rendered
// by render, and the page meta.
func pageResponse[T any](items []T, q *listQuery, render func(T) resource) response {
	return compoundPageResponse(items, q, func(item T, _ *includer) resource { return render(item) })
}

// compoundPageResponse is pageResponse for lists whose items bring related
// resources into the document's included member.
func compoundPageResponse[T any](items []T, q *listQuery, render func(T, *includer) resource) response {
	page, meta, e := paginate(items, q)
	if e != nil {
		return apiErrorResponse(e)
	}
	var inc includer
	data := make([]resource, 0, len(page))
	for _, item := range page {
		data = append(data, render(item, &inc))
	}
	return jsonResponse(http.StatusOK, document{Data: data, Meta: meta, Included: inc.list})
}

// includeOne links res to the related resource under relationship name and
// includes it.
func includeOne(res *resource, inc *includer, name string, related resource) {
	res.setRel(name, identifier{Type: related.Type, ID: related.ID})
	inc.add(related)
}

// includeMany links res to every item, rendered by render, under the to-many
// relationship name (an empty list renders as []) and includes them.
func includeMany[T any](res *resource, inc *includer, name string, items []T, render func(T) resource) {
	ids := make([]identifier, 0, len(items))
	for _, item := range items {
		related := render(item)
		ids = append(ids, identifier{Type: related.Type, ID: related.ID})
		inc.add(related)
	}
	res.setRel(name, ids)
}

// peopleFilter is the filter[role] and filter[email] pair of the people
// lists (/people, /events/{id}/people, /sessions/{id}/people).
type peopleFilter struct {
	role     string // "" matches every role
	email    string // normalized, see normalizeEmail
	hasEmail bool
}

func parsePeopleFilter(q *listQuery) (peopleFilter, *apiError) {
	role, hasRole := q.filter("role")
	if hasRole && role != roleParticipant && role != roleTeamMember {
		return peopleFilter{}, errorf(http.StatusBadRequest, "filter[role] must be 'participant' or 'team_member'")
	}
	email, hasEmail := q.filter("email")
	return peopleFilter{role: role, email: normalizeEmail(email), hasEmail: hasEmail}, nil
}

func (f peopleFilter) roleMatches(p *person) bool { return f.role == "" || p.role == f.role }

func (f peopleFilter) match(p *person) bool {
	return f.roleMatches(p) && (!f.hasEmail || p.email == f.email)
}
