package livestormsim

import (
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

var eventsSpec = querySpec{
	paginated: true,
	filters:   append([]string{"title", "everyone_can_speak", "scheduling_status", "tag"}, timeRangeFilters...),
	includes:  []string{"sessions", "tags"},
}

var eventSpec = querySpec{includes: []string{"sessions", "tags"}}

// eventDocument renders an event plus the relationships its include asks for.
func eventDocument(e *event, q *listQuery, now int64, inc *includer) resource {
	res := eventResource(e, now)
	if q.has("sessions") {
		includeMany(&res, inc, "sessions", e.sessions, func(sess *session) resource { return sessionResource(sess, now) })
	}
	if q.has("tags") {
		includeMany(&res, inc, "tags", e.tags, tagResource)
	}
	return res
}

func (s *Simulator) listEvents(c *reqCtx) response {
	events := func() ([]*event, *apiError) { return c.org.events, nil }
	return listDocuments(s, c, eventsSpec, eventFilter, events, eventDocument)
}

// eventFilter builds the predicate for GET /events filters (nil when none).
func eventFilter(q *listQuery) (func(*event, int64) bool, *apiError) {
	if len(q.filters) == 0 {
		return nil, nil
	}
	tr, e := parseTimeRange(q)
	if e != nil {
		return nil, e
	}
	title, hasTitle := q.filter("title")
	title = strings.ToLower(strings.TrimSpace(title))
	canSpeak, e := boolFilter(q, "everyone_can_speak")
	if e != nil {
		return nil, e
	}
	sched, hasSched := q.filter("scheduling_status")
	if hasSched && !slices.Contains(schedulingStatuses, sched) {
		return nil, errorf(http.StatusBadRequest, "filter[scheduling_status] must be one of %s", strings.Join(schedulingStatuses, ", "))
	}
	var tags []string
	if v, ok := q.filter("tag"); ok {
		for _, t := range strings.Split(v, ",") {
			if t = strings.ToLower(strings.TrimSpace(t)); t != "" {
				tags = append(tags, t)
			}
		}
	}
	return func(ev *event, now int64) bool {
		if hasTitle && !strings.Contains(strings.ToLower(ev.title), title) {
			return false
		}
		if canSpeak != nil && ev.everyoneCanSpeak != *canSpeak {
			return false
		}
		if hasSched && schedulingStatus(ev, now) != sched {
			return false
		}
		if len(tags) > 0 && !slices.ContainsFunc(ev.tags, func(t *tag) bool { return slices.Contains(tags, strings.ToLower(t.title)) }) {
			return false
		}
		return tr.match(ev.createdAt, ev.updatedAt)
	}, nil
}

func (s *Simulator) getEvent(c *reqCtx) response {
	return getDocument(s, c, eventSpec, c.pathEvent, eventDocument)
}

// eventAttributesIn are the writable event attributes (§6.1, §6.2).
// estimated_duration and language are accepted too, so clients and tests can
// create short events.
type eventAttributesIn struct {
	CopyFromEventID                 *string `json:"copy_from_event_id"`
	OwnerID                         *string `json:"owner_id"`
	Title                           *string `json:"title"`
	Slug                            *string `json:"slug"`
	Status                          *string `json:"status"`
	Description                     *string `json:"description"`
	EveryoneCanSpeak                *bool   `json:"everyone_can_speak"`
	RegistrationPageEnabled         *bool   `json:"registration_page_enabled"`
	DetailedRegistrationPageEnabled *bool   `json:"detailed_registration_page_enabled"`
	LightRegistrationPageEnabled    *bool   `json:"light_registration_page_enabled"`
	RecordingEnabled                *bool   `json:"recording_enabled"`
	RecordingPublic                 *bool   `json:"recording_public"`
	ShowInCompanyPage               *bool   `json:"show_in_company_page"`
	ChatEnabled                     *bool   `json:"chat_enabled"`
	QuestionsEnabled                *bool   `json:"questions_enabled"`
	PollsEnabled                    *bool   `json:"polls_enabled"`
	EstimatedDuration               *int    `json:"estimated_duration"`
	Language                        *string `json:"language"`
}

type eventRelationshipsIn struct {
	Sessions json.RawMessage `json:"sessions"`
}

// sessionIn is one session of POST /events relationships.sessions.
type sessionIn struct {
	Type       string         `json:"type"`
	Attributes sessionAttrsIn `json:"attributes"`
}

var slugPattern = regexp.MustCompile(`^[a-z0-9]+(?:-[a-z0-9]+)*$`)

// slugify turns a title into a URL slug.
func slugify(title string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(title) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	out := strings.TrimSuffix(b.String(), "-")
	if out == "" {
		out = "event"
	}
	return out
}

func (o *orgData) slugTaken(slug string, except *event) bool {
	for _, e := range o.events {
		if e != except && e.slug == slug {
			return true
		}
	}
	return false
}

func (o *orgData) uniqueSlug(base string) string {
	slug := base
	for i := 2; o.slugTaken(slug, nil); i++ {
		slug = base + "-" + strconv.Itoa(i)
	}
	return slug
}

// activeUser returns a team member who accepted their invitation.
func (o *orgData) activeUser(id string) *user {
	if u := o.userByID[id]; u != nil && !u.pendingInvite {
		return u
	}
	return nil
}

// applyEventAttributes validates and applies writable attributes; it fires
// nothing and reports whether the event became published.
func applyEventAttributes(org *orgData, ev *event, in eventAttributesIn, now int64) (published bool, e *apiError) {
	if in.OwnerID != nil {
		if org.activeUser(*in.OwnerID) == nil {
			return false, unprocessable("Team member not found")
		}
	}
	if in.Status != nil && *in.Status != statusDraft && *in.Status != "published" {
		return false, unprocessable("status must be 'draft' or 'published'")
	}
	if in.Slug != nil {
		if !slugPattern.MatchString(*in.Slug) {
			return false, unprocessable("slug may only contain lowercase letters, digits and dashes")
		}
		if org.slugTaken(*in.Slug, ev) {
			return false, unprocessable("slug has already been taken")
		}
	}
	if in.EstimatedDuration != nil && (*in.EstimatedDuration < 1 || *in.EstimatedDuration > 24*60) {
		return false, unprocessable("estimated_duration must be between 1 and 1440 minutes")
	}
	if in.Title != nil && strings.TrimSpace(*in.Title) == "" {
		return false, unprocessable("title can't be blank")
	}
	if in.OwnerID != nil {
		ev.ownerID = *in.OwnerID
	}
	if in.Title != nil {
		ev.title = strings.TrimSpace(*in.Title)
	}
	if in.Slug != nil {
		ev.slug = *in.Slug
	}
	if in.Description != nil {
		ev.description = *in.Description
	}
	if in.Language != nil && *in.Language != "" {
		ev.language = *in.Language
	}
	if in.EstimatedDuration != nil {
		ev.estimatedDuration = *in.EstimatedDuration
	}
	for _, b := range []struct {
		in  *bool
		dst *bool
	}{
		{in.EveryoneCanSpeak, &ev.everyoneCanSpeak}, {in.RegistrationPageEnabled, &ev.registrationPageEnabled},
		{in.DetailedRegistrationPageEnabled, &ev.detailedRegistrationPageEnabled},
		{in.LightRegistrationPageEnabled, &ev.lightRegistrationPageEnabled}, {in.RecordingEnabled, &ev.recordingEnabled},
		{in.ShowInCompanyPage, &ev.showInCompanyPage}, {in.ChatEnabled, &ev.chatEnabled},
		{in.QuestionsEnabled, &ev.questionsEnabled}, {in.PollsEnabled, &ev.pollsEnabled},
	} {
		if b.in != nil {
			*b.dst = *b.in
		}
	}
	if in.RecordingPublic != nil {
		v := *in.RecordingPublic
		ev.recordingPublic = &v
	}
	if in.Status != nil && *in.Status != ev.status {
		ev.status = *in.Status
		if ev.status == "published" {
			ev.publishedAt = now
			published = true
		}
	}
	ev.updatedAt = now
	return published, nil
}

// parseSessionsRelationship accepts relationships.sessions as the plain array
// Livestorm documents, or as a JSON:API {"data":[...]} object.
func parseSessionsRelationship(raw json.RawMessage) ([]sessionIn, *apiError) {
	trimmed := strings.TrimSpace(string(raw))
	if trimmed == "" || trimmed == "null" {
		return nil, nil
	}
	var list []sessionIn
	if strings.HasPrefix(trimmed, "{") {
		var wrapped struct {
			Data []sessionIn `json:"data"`
		}
		if json.Unmarshal(raw, &wrapped) != nil {
			return nil, errorf(http.StatusBadRequest, "relationships.sessions must be an array of sessions")
		}
		list = wrapped.Data
	} else if json.Unmarshal(raw, &list) != nil {
		return nil, errorf(http.StatusBadRequest, "relationships.sessions must be an array of sessions")
	}
	for _, si := range list {
		if e := checkType(si.Type, "sessions"); e != nil {
			return nil, e
		}
	}
	return list, nil
}

func (s *Simulator) createEvent(c *reqCtx) response {
	env, e := decodeEnvelope[eventAttributesIn, eventRelationshipsIn](c.r, "events")
	if e != nil {
		return apiErrorResponse(e)
	}
	sessionsIn, e := parseSessionsRelationship(env.Data.Relationships.Sessions)
	if e != nil {
		return apiErrorResponse(e)
	}
	in := env.Data.Attributes
	s.store.mu.Lock()
	defer s.store.mu.Unlock()
	org, now := c.org, c.now()
	ev := &event{
		id: s.ids.uuid(), org: org, title: "Untitled event", status: statusDraft, ownerID: org.ownerID,
		estimatedDuration: 30, registrationPageEnabled: true, lightRegistrationPageEnabled: true,
		detailedRegistrationPageEnabled: true, recordingEnabled: true, chatEnabled: true, pollsEnabled: true,
		questionsEnabled: true, language: "en", createdAt: now, fields: builtinEventFields(),
	}
	if in.CopyFromEventID != nil {
		src := org.eventByID[*in.CopyFromEventID]
		if src == nil {
			return errorResponse(http.StatusUnprocessableEntity, "Event to copy not found")
		}
		copyEventSettings(ev, src)
	}
	published, e := applyEventAttributes(org, ev, in, now)
	if e != nil {
		return apiErrorResponse(e)
	}
	if in.Slug == nil {
		ev.slug = org.uniqueSlug(slugify(ev.title))
	}
	owner := org.userByID[ev.ownerID]
	planned := make([]*session, 0, len(sessionsIn))
	for _, si := range sessionsIn {
		sess, e := s.newSession(ev, owner, si.Attributes, now)
		if e != nil {
			return apiErrorResponse(e)
		}
		planned = append(planned, sess)
	}
	org.addEvent(ev)
	s.hooks.emit(org, "event.created", eventResource(ev, now))
	if published {
		s.hooks.emit(org, "event.published", eventResource(ev, now))
	}
	for _, sess := range planned {
		s.addSessionLocked(sess, []*user{owner}, now)
	}
	q := &listQuery{include: map[string]bool{"sessions": len(planned) > 0}}
	var inc includer
	return jsonResponse(http.StatusCreated, document{Data: eventDocument(ev, q, now, &inc), Included: inc.list})
}

// copyEventSettings clones the settings of src (copy_from_event_id).
func copyEventSettings(dst, src *event) {
	dst.title, dst.description, dst.ownerID = src.title, src.description, src.ownerID
	dst.estimatedDuration, dst.language = src.estimatedDuration, src.language
	dst.registrationPageEnabled, dst.everyoneCanSpeak = src.registrationPageEnabled, src.everyoneCanSpeak
	dst.lightRegistrationPageEnabled, dst.detailedRegistrationPageEnabled = src.lightRegistrationPageEnabled, src.detailedRegistrationPageEnabled
	dst.recordingEnabled, dst.recordingPublic, dst.showInCompanyPage = src.recordingEnabled, src.recordingPublic, src.showInCompanyPage
	dst.chatEnabled, dst.pollsEnabled, dst.questionsEnabled = src.chatEnabled, src.pollsEnabled, src.questionsEnabled
	dst.fields = slices.Clone(src.fields)
	dst.tags = slices.Clone(src.tags)
}

func (o *orgData) addEvent(ev *event) {
	o.events = insertOrdered(o.events, ev)
	o.eventByID[ev.id] = ev
}

func (s *Simulator) updateEvent(c *reqCtx) response {
	in, e := decodeUpdate[eventAttributesIn](c, "events")
	if e != nil {
		return apiErrorResponse(e)
	}
	if in.CopyFromEventID != nil {
		return errorResponse(http.StatusBadRequest, "copy_from_event_id is only accepted on creation")
	}
	s.store.mu.Lock()
	defer s.store.mu.Unlock()
	ev, e := c.pathEvent()
	if e != nil {
		return apiErrorResponse(e)
	}
	now := c.now()
	published, e := applyEventAttributes(c.org, ev, in, now)
	if e != nil {
		return apiErrorResponse(e)
	}
	if published {
		s.hooks.emit(c.org, "event.published", eventResource(ev, now))
	}
	return jsonResponse(http.StatusOK, document{Data: eventResource(ev, now)})
}

func (s *Simulator) deleteEvent(c *reqCtx) response {
	s.store.mu.Lock()
	defer s.store.mu.Unlock()
	ev, e := c.pathEvent()
	if e != nil {
		return apiErrorResponse(e)
	}
	for _, sess := range slices.Clone(ev.sessions) {
		c.org.removeSession(sess)
	}
	delete(c.org.eventByID, ev.id)
	c.org.events = removeOrdered(c.org.events, ev)
	return noContent()
}

type tagAttributesIn struct {
	Title *string `json:"title"`
}

func decodeTagTitle(r *http.Request) (string, *apiError) {
	env, e := decodeEnvelope[tagAttributesIn, noRelationships](r, "tags")
	if e != nil {
		return "", e
	}
	if env.Data.Attributes.Title == nil || strings.TrimSpace(*env.Data.Attributes.Title) == "" {
		return "", unprocessable("title can't be blank")
	}
	return strings.TrimSpace(*env.Data.Attributes.Title), nil
}

// addEventTag assigns a tag, creating it in the workspace if needed: 201 when
// newly assigned, 200 when the event already had it.
func (s *Simulator) addEventTag(c *reqCtx) response {
	title, e := decodeTagTitle(c.r)
	if e != nil {
		return apiErrorResponse(e)
	}
	s.store.mu.Lock()
	defer s.store.mu.Unlock()
	ev, e := c.pathEvent()
	if e != nil {
		return apiErrorResponse(e)
	}
	now := c.now()
	t := c.org.tagByTitle[strings.ToLower(title)]
	if t == nil {
		t = &tag{id: s.ids.uuid(), title: title, createdAt: now}
		c.org.tags = insertOrdered(c.org.tags, t)
		c.org.tagByTitle[strings.ToLower(title)] = t
	}
	if slices.Contains(ev.tags, t) {
		return jsonResponse(http.StatusOK, document{Data: tagResource(t)})
	}
	ev.tags = append(ev.tags, t)
	ev.updatedAt = now
	return jsonResponse(http.StatusCreated, document{Data: tagResource(t)})
}

// removeEventTag unassigns a tag (DELETE with a body); the tag itself stays.
func (s *Simulator) removeEventTag(c *reqCtx) response {
	title, e := decodeTagTitle(c.r)
	if e != nil {
		return apiErrorResponse(e)
	}
	s.store.mu.Lock()
	defer s.store.mu.Unlock()
	ev, e := c.pathEvent()
	if e != nil {
		return apiErrorResponse(e)
	}
	i := slices.IndexFunc(ev.tags, func(t *tag) bool { return strings.EqualFold(t.title, title) })
	if i < 0 {
		return errorResponse(http.StatusNotFound, "Tag not found on this event")
	}
	ev.tags = slices.Delete(ev.tags, i, i+1)
	ev.updatedAt = c.now()
	return noContent()
}

var eventPeopleSpec = querySpec{paginated: true, filters: []string{"role", "email"}}

// eventRows groups an event's registrations by person, ordered by each
// person's first registration to the event.
func eventRows(ev *event) [][]*registration {
	byPerson := map[string][]*registration{}
	var order []string
	for _, sess := range ev.sessions {
		for _, r := range sess.regs {
			if _, ok := byPerson[r.person.id]; !ok {
				order = append(order, r.person.id)
			}
			byPerson[r.person.id] = append(byPerson[r.person.id], r)
		}
	}
	rows := make([][]*registration, 0, len(order))
	for _, id := range order {
		regs := byPerson[id]
		slices.SortFunc(regs, compareOrdered[*registration])
		rows = append(rows, regs)
	}
	slices.SortFunc(rows, func(a, b []*registration) int { return compareOrdered(a[0], b[0]) })
	return rows
}

func (s *Simulator) listEventPeople(c *reqCtx) response {
	q, e := c.query(eventPeopleSpec)
	if e != nil {
		return apiErrorResponse(e)
	}
	who, e := parsePeopleFilter(q)
	if e != nil {
		return apiErrorResponse(e)
	}
	s.store.mu.RLock()
	defer s.store.mu.RUnlock()
	ev, e := c.pathEvent()
	if e != nil {
		return apiErrorResponse(e)
	}
	rows := filterSlice(eventRows(ev), func(regs []*registration) bool { return who.match(regs[0].person) })
	return pageResponse(rows, q, eventRegistrantResource)
}

func (s *Simulator) getEventPerson(c *reqCtx) response {
	s.store.mu.RLock()
	defer s.store.mu.RUnlock()
	ev, e := c.pathEvent()
	if e != nil {
		return apiErrorResponse(e)
	}
	var regs []*registration
	for _, sess := range ev.sessions {
		if r := sess.regByPerson[c.param("people_id")]; r != nil {
			regs = append(regs, r)
		}
	}
	if len(regs) == 0 {
		return errorResponse(http.StatusNotFound, "Person not found in this event")
	}
	slices.SortFunc(regs, compareOrdered[*registration])
	return jsonResponse(http.StatusOK, document{Data: eventRegistrantResource(regs)})
}
