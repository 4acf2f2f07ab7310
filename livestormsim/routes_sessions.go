package livestormsim

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

var (
	sessionFilters    = append([]string{"status", "date_from", "date_to", "include_breakout_rooms"}, timeRangeFilters...)
	sessionsSpec      = querySpec{paginated: true, filters: sessionFilters}
	eventSessionsSpec = querySpec{paginated: true, filters: sessionFilters, includes: []string{"event", "people"}}
	sessionSpec       = querySpec{includes: []string{"recordings", "event", "people"}}
	sessionPeopleSpec = querySpec{paginated: true, filters: append([]string{"role", "attended", "email"}, timeRangeFilters...), includes: []string{"event", "session"}}
	sessionPersonSpec = querySpec{includes: []string{"event", "session"}}
	unregisterSpec    = querySpec{filters: []string{"email"}}
	chatSpec          = querySpec{paginated: true, includes: []string{"people"}}
	questionsSpec     = querySpec{paginated: true, includes: []string{"asker", "responder", "people"}}
	recordingsSpec    = querySpec{paginated: true}
)

// Signed recording URL expiry bounds in seconds (§5 #30).
const (
	defaultURLExpiry = 43200
	minURLExpiry     = 3600
	maxURLExpiry     = 604800
)

// sessionAttrsIn are the writable session attributes (§6.3, PATCH/PUT).
// embed_url is accepted (and must be a string) but not echoed: whether
// Livestorm returns it is unknown (§7.2), so clients must not rely on it.
type sessionAttrsIn struct {
	EstimatedStartedAt json.RawMessage `json:"estimated_started_at"`
	Timezone           *string         `json:"timezone"`
	Name               *string         `json:"name"`
	EmbedURL           *string         `json:"embed_url"`
}

// sessionFilter builds the predicate for the session list filters.
func sessionFilter(q *listQuery) (func(*session, int64) bool, *apiError) {
	if len(q.filters) == 0 {
		return nil, nil
	}
	tr, e := parseTimeRange(q)
	if e != nil {
		return nil, e
	}
	status, hasStatus := q.filter("status")
	if hasStatus && !slices.Contains(sessionStatuses, status) {
		return nil, errorf(http.StatusBadRequest, "filter[status] must be one of %s", strings.Join(sessionStatuses, ", "))
	}
	from, e := timeFilter(q, "date_from", false)
	if e != nil {
		return nil, e
	}
	to, e := timeFilter(q, "date_to", true)
	if e != nil {
		return nil, e
	}
	// No breakout rooms are seeded, so both values return every session; the
	// value is still validated like any other boolean filter.
	if _, e := boolFilter(q, "include_breakout_rooms"); e != nil {
		return nil, e
	}
	return func(sess *session, now int64) bool {
		if hasStatus && sessionStatus(sess, now) != status {
			return false
		}
		if from != nil && sess.estimatedStartedAt < *from {
			return false
		}
		if to != nil && sess.estimatedStartedAt > *to {
			return false
		}
		return tr.match(sess.createdAt, sess.updatedAt)
	}, nil
}

// sessionDocument renders a session plus requested relationships.
func sessionDocument(sess *session, q *listQuery, now int64, inc *includer) resource {
	res := sessionResource(sess, now)
	if q.has("event") {
		includeOne(&res, inc, "event", eventResource(sess.event, now))
	}
	if q.has("people") {
		includeMany(&res, inc, "people", sess.regs, registrantResource)
	}
	if q.has("recordings") {
		includeMany(&res, inc, "recordings", sess.recordings, func(rec *recording) resource {
			return recordingResource(rec, now, defaultURLExpiry)
		})
	}
	return res
}

func (s *Simulator) listSessions(c *reqCtx) response {
	sessions := func() ([]*session, *apiError) { return c.org.sessions, nil }
	return listDocuments(s, c, sessionsSpec, sessionFilter, sessions, sessionDocument)
}

func (s *Simulator) listEventSessions(c *reqCtx) response {
	sessions := func() ([]*session, *apiError) {
		ev, e := c.pathEvent()
		if e != nil {
			return nil, e
		}
		return ev.sessions, nil
	}
	return listDocuments(s, c, eventSessionsSpec, sessionFilter, sessions, sessionDocument)
}

func (s *Simulator) getSession(c *reqCtx) response {
	return getDocument(s, c, sessionSpec, c.pathSession, sessionDocument)
}

// teamPeopleIn is one entry of POST /events/{id}/sessions relationships.people.
type teamPeopleIn struct {
	Data struct {
		Type string `json:"type"`
		ID   string `json:"id"`
		Role string `json:"role"`
	} `json:"data"`
}

type sessionRelationshipsIn struct {
	People json.RawMessage `json:"people"`
}

// parsePeopleRelationship accepts the documented plain array of {"data":{…}}
// and the JSON:API {"data":[{type,id}]} form; it returns people ids.
func parsePeopleRelationship(raw json.RawMessage) ([]string, *apiError) {
	trimmed := strings.TrimSpace(string(raw))
	if trimmed == "" || trimmed == "null" {
		return nil, nil
	}
	var ids []string
	if strings.HasPrefix(trimmed, "{") {
		var wrapped struct {
			Data []identifier `json:"data"`
		}
		if json.Unmarshal(raw, &wrapped) != nil {
			return nil, errorf(http.StatusBadRequest, "relationships.people must be an array of people")
		}
		for _, id := range wrapped.Data {
			ids = append(ids, id.ID)
		}
		return ids, nil
	}
	var list []teamPeopleIn
	if json.Unmarshal(raw, &list) != nil {
		return nil, errorf(http.StatusBadRequest, "relationships.people must be an array of people")
	}
	for _, p := range list {
		if e := checkType(p.Data.Type, "people"); e != nil {
			return nil, e
		}
		if p.Data.Role != "" && p.Data.Role != roleTeamMember {
			return nil, unprocessable("Only team members can be added to a session (role 'team_member')")
		}
		ids = append(ids, p.Data.ID)
	}
	return ids, nil
}

// newSession validates session attributes and builds a session of ev (not yet
// stored).
func (s *Simulator) newSession(ev *event, owner *user, in sessionAttrsIn, now int64) (*session, *apiError) {
	tz := "UTC"
	if owner != nil && owner.person.timezone != "" {
		tz = owner.person.timezone
	}
	if in.Timezone != nil {
		tz = *in.Timezone
	}
	loc, e := loadLocation(tz)
	if e != nil {
		return nil, e
	}
	start, ok, e := parseStart(in.EstimatedStartedAt, loc)
	if e != nil {
		return nil, e
	}
	if !ok {
		return nil, unprocessable("estimated_started_at is required")
	}
	sess := &session{id: s.ids.uuid(), event: ev, timezone: loc.String(), estimatedStartedAt: start,
		createdAt: now, updatedAt: now, regByPerson: map[string]*registration{}}
	if in.Name != nil {
		sess.name = *in.Name
	}
	sess.noShow = start+durationSeconds(ev) <= now
	return sess, nil
}

// addSessionLocked stores a new session with its team-member rows and fires
// session.created.
func (s *Simulator) addSessionLocked(sess *session, hosts []*user, now int64) {
	ev, org := sess.event, sess.event.org
	ev.sessions = insertOrdered(ev.sessions, sess)
	org.sessions = insertOrdered(org.sessions, sess)
	org.sessionByID[sess.id] = sess
	for _, u := range hosts {
		if u != nil && sess.regByPerson[u.id] == nil {
			sess.addRegistration(&registration{person: u.person, session: sess, createdAt: now, updatedAt: now,
				passwordKey: s.ids.hex(11), registrationType: regTypeTeamMember})
		}
	}
	s.hooks.emit(org, "session.created", sessionResource(sess, now))
}

// removeSession deletes a session and its registrations.
func (o *orgData) removeSession(sess *session) {
	for _, r := range slices.Clone(sess.regs) {
		sess.removeRegistration(r)
	}
	ev := sess.event
	ev.sessions = removeOrdered(ev.sessions, sess)
	o.sessions = removeOrdered(o.sessions, sess)
	delete(o.sessionByID, sess.id)
}

func (s *Simulator) createSession(c *reqCtx) response {
	env, e := decodeEnvelope[sessionAttrsIn, sessionRelationshipsIn](c.r, "sessions")
	if e != nil {
		return apiErrorResponse(e)
	}
	peopleIDs, e := parsePeopleRelationship(env.Data.Relationships.People)
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
	owner := c.org.userByID[ev.ownerID]
	hosts := []*user{owner}
	if len(peopleIDs) > 0 {
		hosts = hosts[:0]
		for _, id := range peopleIDs {
			u := c.org.activeUser(id)
			if u == nil {
				return errorResponse(http.StatusUnprocessableEntity, "Team member not found")
			}
			hosts = append(hosts, u)
		}
	}
	sess, e := s.newSession(ev, owner, env.Data.Attributes, now)
	if e != nil {
		return apiErrorResponse(e)
	}
	s.addSessionLocked(sess, hosts, now)
	var inc includer
	res := sessionDocument(sess, &listQuery{include: map[string]bool{"people": true}}, now, &inc)
	return jsonResponse(http.StatusCreated, document{Data: res, Included: inc.list})
}

// updateSession serves PATCH and PUT (same writable fields, §5 #18-19).
func (s *Simulator) updateSession(c *reqCtx) response {
	in, e := decodeUpdate[sessionAttrsIn](c, "sessions")
	if e != nil {
		return apiErrorResponse(e)
	}
	s.store.mu.Lock()
	defer s.store.mu.Unlock()
	sess, e := c.pathSession()
	if e != nil {
		return apiErrorResponse(e)
	}
	now := c.now()
	tz := sess.timezone
	if in.Timezone != nil {
		tz = *in.Timezone
	}
	loc, e := loadLocation(tz)
	if e != nil {
		return apiErrorResponse(e)
	}
	start, hasStart, e := parseStart(in.EstimatedStartedAt, loc)
	if e != nil {
		return apiErrorResponse(e)
	}
	if hasStart && start != sess.estimatedStartedAt {
		switch sessionStatus(sess, now) {
		case statusLive, statusPast, statusCanceled:
			return errorResponse(http.StatusUnprocessableEntity, "The session has already started or was canceled: it can't be rescheduled")
		}
		sess.estimatedStartedAt = start
		sess.noShow = start+durationSeconds(sess.event) <= now
	}
	sess.timezone = loc.String()
	if in.Name != nil {
		sess.name = *in.Name
	}
	sess.updatedAt = now
	return jsonResponse(http.StatusOK, document{Data: sessionResource(sess, now)})
}

func (s *Simulator) deleteSession(c *reqCtx) response {
	s.store.mu.Lock()
	defer s.store.mu.Unlock()
	sess, e := c.pathSession()
	if e != nil {
		return apiErrorResponse(e)
	}
	c.org.removeSession(sess)
	return noContent()
}

// sessionPersonDocument renders a registrant plus requested relationships.
func sessionPersonDocument(r *registration, q *listQuery, now int64, inc *includer) resource {
	res := registrantResource(r)
	if q.has("event") {
		includeOne(&res, inc, "event", eventResource(r.session.event, now))
	}
	if q.has("session") {
		includeOne(&res, inc, "session", sessionResource(r.session, now))
	}
	return res
}

// sessionPeopleFilter builds the predicate for the session people filters.
func sessionPeopleFilter(q *listQuery) (func(*registration, int64) bool, *apiError) {
	if len(q.filters) == 0 {
		return nil, nil
	}
	who, e := parsePeopleFilter(q)
	if e != nil {
		return nil, e
	}
	tr, e := parseTimeRange(q)
	if e != nil {
		return nil, e
	}
	attended, e := boolFilter(q, "attended")
	if e != nil {
		return nil, e
	}
	return func(r *registration, _ int64) bool {
		return who.match(r.person) && (attended == nil || r.attended == *attended) && tr.match(r.createdAt, r.updatedAt)
	}, nil
}

func (s *Simulator) listSessionPeople(c *reqCtx) response {
	people := pathSessionItems(c, func(sess *session) []*registration { return sess.regs })
	return listDocuments(s, c, sessionPeopleSpec, sessionPeopleFilter, people, sessionPersonDocument)
}

func (s *Simulator) getSessionPerson(c *reqCtx) response {
	return getDocument(s, c, sessionPersonSpec, c.pathRegistration, sessionPersonDocument)
}

func (s *Simulator) registerSessionPerson(c *reqCtx) response {
	env, e := decodeEnvelope[registrationIn, noRelationships](c.r, "people")
	if e != nil {
		return apiErrorResponse(e)
	}
	s.store.mu.Lock()
	defer s.store.mu.Unlock()
	sess, e := c.pathSession()
	if e != nil {
		return apiErrorResponse(e)
	}
	r, e := s.registerLocked(sess, env.Data.Attributes, regTypeAPI, nil, c.now())
	if e != nil {
		return apiErrorResponse(e)
	}
	res := registrantResource(r)
	s.hooks.emit(c.org, "people.registered", res)
	return jsonResponse(http.StatusCreated, document{Data: res})
}

func (s *Simulator) updateSessionPerson(c *reqCtx) response {
	env, e := decodeEnvelope[registrationIn, noRelationships](c.r, "people")
	if e != nil {
		return apiErrorResponse(e)
	}
	s.store.mu.Lock()
	defer s.store.mu.Unlock()
	r, e := c.pathRegistration()
	if e != nil {
		return apiErrorResponse(e)
	}
	if e := updateRegistrationLocked(r, env.Data.Attributes, c.now()); e != nil {
		return apiErrorResponse(e)
	}
	return jsonResponse(http.StatusOK, document{Data: registrantResource(r)})
}

// unregisterByEmail serves DELETE /sessions/{id}/people?filter[email]=x (204,
// wire decision 12).
func (s *Simulator) unregisterByEmail(c *reqCtx) response {
	q, e := c.query(unregisterSpec)
	if e != nil {
		return apiErrorResponse(e)
	}
	email, ok := q.filter("email")
	email = normalizeEmail(email)
	if !ok || email == "" {
		return errorResponse(http.StatusBadRequest, "filter[email] is required")
	}
	s.store.mu.Lock()
	defer s.store.mu.Unlock()
	sess, e := c.pathSession()
	if e != nil {
		return apiErrorResponse(e)
	}
	p := c.org.personByEmail[email]
	if p == nil || sess.regByPerson[p.id] == nil {
		return errorResponse(http.StatusNotFound, personNotInSession)
	}
	sess.removeRegistration(sess.regByPerson[p.id])
	return noContent()
}

func (s *Simulator) unregisterByID(c *reqCtx) response {
	s.store.mu.Lock()
	defer s.store.mu.Unlock()
	r, e := c.pathRegistration()
	if e != nil {
		return apiErrorResponse(e)
	}
	r.session.removeRegistration(r)
	return noContent()
}

// authorDocument renders a chat author or question participant: their
// registration row for the session when they have one, else the plain person.
func authorDocument(sess *session, p *person) resource {
	if r := sess.regByPerson[p.id]; r != nil {
		return registrantResource(r)
	}
	return personResource(p)
}

// chatDocument renders a chat message; include=people adds its author.
func chatDocument(m *chatMessage, q *listQuery, _ int64, inc *includer) resource {
	res := chatResource(m)
	if q.has("people") {
		includeMany(&res, inc, "people", []*person{m.author}, func(p *person) resource { return authorDocument(m.session, p) })
	}
	return res
}

// questionDocument renders a question; include=asker and include=responder
// add one participant each, include=people both (the responder once answered).
func questionDocument(qu *question, q *listQuery, _ int64, inc *includer) resource {
	res := questionResource(qu)
	participant := func(p *person) resource { return authorDocument(qu.session, p) }
	if q.has("asker") {
		includeOne(&res, inc, "asker", participant(qu.asker))
	}
	if q.has("responder") {
		if qu.responder != nil {
			includeOne(&res, inc, "responder", participant(qu.responder))
		} else {
			res.setRel("responder", nil)
		}
	}
	if q.has("people") {
		people := []*person{qu.asker}
		if qu.responder != nil {
			people = append(people, qu.responder)
		}
		includeMany(&res, inc, "people", people, participant)
	}
	return res
}

func (s *Simulator) listChatMessages(c *reqCtx) response {
	chat := pathSessionItems(c, func(sess *session) []*chatMessage { return sess.chat })
	return listDocuments(s, c, chatSpec, nil, chat, chatDocument)
}

func (s *Simulator) listQuestions(c *reqCtx) response {
	questions := pathSessionItems(c, func(sess *session) []*question { return sess.questions })
	return listDocuments(s, c, questionsSpec, nil, questions, questionDocument)
}

// recordingResource renders a recording with a freshly signed, S3-style URL
// valid for expiresIn seconds from now.
func recordingResource(rec *recording, now int64, expiresIn int) resource {
	sess := rec.session
	date := time.Unix(now, 0).UTC().Format("20060102T150405Z")
	mac := sha256.Sum256([]byte(rec.fileName + "|" + date + "|" + strconv.Itoa(expiresIn)))
	u := "https://livestorm-recordings.s3.eu-west-1.amazonaws.com/" + sess.event.org.id + "/" + rec.fileName +
		"?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=" + date + "&X-Amz-Expires=" + strconv.Itoa(expiresIn) +
		"&X-Amz-SignedHeaders=host&X-Amz-Signature=" + hex.EncodeToString(mac[:])
	return resource{ID: rec.id, Type: "recordings", Attributes: recordingAttributes{
		EventID: sess.event.id, SessionID: sess.id, FileType: "video", MimeType: "mp4", FileSize: rec.fileSize,
		FileName: rec.fileName, URL: u, URLGeneratedAt: now, URLExpiresIn: expiresIn,
	}}
}

// listRecordings serves GET /sessions/{id}/recordings?url_expires_in=N
// (a single integer in 3600..604800, default 43200; anything else is a 400).
func (s *Simulator) listRecordings(c *reqCtx) response {
	q, e := c.query(recordingsSpec)
	if e != nil {
		return apiErrorResponse(e)
	}
	expiresIn := defaultURLExpiry
	values := c.r.URL.Query()
	for key := range values {
		if strings.HasPrefix(key, "url_expires_in[") {
			return errorResponse(http.StatusBadRequest, "url_expires_in must be a single integer value")
		}
	}
	if vals, ok := values["url_expires_in"]; ok {
		n, err := strconv.Atoi(strings.TrimSpace(vals[0]))
		if len(vals) != 1 || err != nil || n < minURLExpiry || n > maxURLExpiry {
			return errorResponse(http.StatusBadRequest, fmt.Sprintf("url_expires_in must be a single integer between %d and %d", minURLExpiry, maxURLExpiry))
		}
		expiresIn = n
	}
	s.store.mu.RLock()
	defer s.store.mu.RUnlock()
	sess, e := c.pathSession()
	if e != nil {
		return apiErrorResponse(e)
	}
	now := c.now()
	return pageResponse(sess.recordings, q, func(rec *recording) resource { return recordingResource(rec, now, expiresIn) })
}
