package livestormsim

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
)

// People roles and registration types.
const (
	roleParticipant = "participant"
	roleTeamMember  = "team_member"

	regTypeAPI        = "API"               // POST /sessions/{id}/people and bulk (seen in OFF-embed)
	regTypePage       = "registration_page" // someone used Livestorm's own registration page
	regTypeTeamMember = "team_member"       // a host/moderator added to the session
)

// registrationFieldIn is one {"id","value"} entry of a registration body.
type registrationFieldIn struct {
	ID    string          `json:"id"`
	Value json.RawMessage `json:"value"`
}

// registrationIn holds the attributes of a registration write (§6.4); the
// same shape is a bulk task.
type registrationIn struct {
	Fields      []registrationFieldIn `json:"fields"`
	Referrer    *string               `json:"referrer"`
	UTMSource   *string               `json:"utm_source"`
	UTMMedium   *string               `json:"utm_medium"`
	UTMTerm     *string               `json:"utm_term"`
	UTMContent  *string               `json:"utm_content"`
	UTMCampaign *string               `json:"utm_campaign"`
}

func (in registrationIn) utm() [5]*string {
	return [5]*string{in.UTMSource, in.UTMMedium, in.UTMTerm, in.UTMContent, in.UTMCampaign}
}

// email returns the email answer of a registration body, if any.
func (in registrationIn) email() string {
	for _, f := range in.Fields {
		var s string
		if f.ID == "email" && json.Unmarshal(f.Value, &s) == nil {
			return normalizeEmail(s)
		}
	}
	return ""
}

// normalizeEmail is how the simulator compares emails: registrations store
// them trimmed and lower-cased, and email filters normalize their value the
// same way.
func normalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

func unprocessable(format string, args ...any) *apiError {
	return errorf(http.StatusUnprocessableEntity, format, args...)
}

// validEmail is a deliberately simple check: one @, non-empty local part and a
// dotted domain, no spaces.
func validEmail(s string) bool {
	at := strings.IndexByte(s, '@')
	return at > 0 && at == strings.LastIndexByte(s, '@') && strings.Contains(s[at+1:], ".") &&
		!strings.ContainsAny(s, " \t\r\n<>,;") && !strings.HasSuffix(s, ".")
}

// decodeFieldValue validates one answer against the event's form definition:
// text/file fields take a string, single selects one of the options, multiple
// selects a list of options (wire decision 8).
func decodeFieldValue(f eventField, raw json.RawMessage) (any, *apiError) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	if f.typ == "multiple" && f.multiple {
		var vals []string
		if err := json.Unmarshal(raw, &vals); err != nil {
			return nil, unprocessable("The field '%s' expects a list of values", f.id)
		}
		for _, v := range vals {
			if !slices.Contains(f.options, v) {
				return nil, unprocessable("The value '%s' is not a valid option for the field '%s'", v, f.id)
			}
		}
		return vals, nil
	}
	var v string
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, unprocessable("The field '%s' expects a string value", f.id)
	}
	if f.typ == "multiple" && !slices.Contains(f.options, v) {
		return nil, unprocessable("The value '%s' is not a valid option for the field '%s'", v, f.id)
	}
	if f.id == "avatar" && v != "" && !strings.HasPrefix(v, "https://") && !strings.HasPrefix(v, "http://") {
		return nil, unprocessable("The field 'avatar' must be a public image URL")
	}
	return v, nil
}

// validateFields checks every answer against ev's form and returns the
// answers plus the normalized email ("" when absent).
func validateFields(ev *event, in []registrationFieldIn) ([]fieldValue, string, *apiError) {
	var values []fieldValue
	email := ""
	for _, f := range in {
		if f.ID == "" {
			return nil, "", unprocessable("Each field needs an 'id'")
		}
		def, ok := ev.field(f.ID)
		if !ok {
			return nil, "", unprocessable("The field '%s' doesn't exist", f.ID)
		}
		v, err := decodeFieldValue(def, f.Value)
		if err != nil {
			return nil, "", err
		}
		if f.ID == "email" {
			s, _ := v.(string)
			email = normalizeEmail(s)
			if email != "" && !validEmail(email) {
				return nil, "", unprocessable("The field 'email' is not a valid email address")
			}
			v = email
		}
		if i := slices.IndexFunc(values, func(fv fieldValue) bool { return fv.id == f.ID }); i >= 0 {
			values[i].value = v
		} else {
			values = append(values, fieldValue{id: f.ID, value: v})
		}
	}
	return values, email, nil
}

func stringAnswer(values []fieldValue, id string) (string, bool) {
	for _, v := range values {
		if v.id == id {
			s, ok := v.value.(string)
			return s, ok
		}
	}
	return "", false
}

// registerLocked registers one person to sess (store lock held). The person
// is found by email within the organization or created, so a person keeps one
// id across sessions. The caller fires people.registered.
func (s *Simulator) registerLocked(sess *session, in registrationIn, regType string, client *clientInfo, now int64) (*registration, *apiError) {
	switch sessionStatus(sess, now) {
	case statusCanceled:
		return nil, unprocessable("Session is canceled")
	case statusPast, statusPastNotStarted:
		return nil, unprocessable("Session has already ended")
	}
	values, email, err := validateFields(sess.event, in.Fields)
	if err != nil {
		return nil, err
	}
	if email == "" {
		return nil, unprocessable("The field 'email' is required")
	}
	org := sess.event.org
	p := org.personByEmail[email]
	if p != nil && sess.regByPerson[p.id] != nil {
		return nil, errorf(http.StatusConflict, "Person already registered to this session")
	}
	first, hasFirst := stringAnswer(values, "first_name")
	last, hasLast := stringAnswer(values, "last_name")
	avatar, hasAvatar := stringAnswer(values, "avatar")
	if p == nil {
		p = &person{id: s.ids.uuid(), role: roleParticipant, createdAt: now, updatedAt: now, email: email,
			firstName: first, lastName: last, avatarLink: avatar}
		org.addPerson(p)
	} else if (hasFirst && first != p.firstName) || (hasLast && last != p.lastName) || (hasAvatar && avatar != p.avatarLink) {
		if hasFirst {
			p.firstName = first
		}
		if hasLast {
			p.lastName = last
		}
		if hasAvatar {
			p.avatarLink = avatar
		}
		p.updatedAt = now
	}
	r := &registration{person: p, session: sess, createdAt: now, updatedAt: now, values: values,
		referrer: in.Referrer, utm: in.utm(), client: client, passwordKey: s.ids.hex(11), registrationType: regType}
	sess.addRegistration(r)
	return r, nil
}

// updateRegistrationLocked applies a PATCH of a registrant's answers.
func updateRegistrationLocked(r *registration, in registrationIn, now int64) *apiError {
	values, email, err := validateFields(r.session.event, in.Fields)
	if err != nil {
		return err
	}
	if email != "" && email != r.person.email {
		return unprocessable("The field 'email' cannot be changed")
	}
	for _, v := range values {
		r.setValue(v.id, v.value)
	}
	p := r.person
	if first, ok := stringAnswer(values, "first_name"); ok {
		p.firstName, p.updatedAt = first, now
	}
	if last, ok := stringAnswer(values, "last_name"); ok {
		p.lastName, p.updatedAt = last, now
	}
	if avatar, ok := stringAnswer(values, "avatar"); ok {
		p.avatarLink, p.updatedAt = avatar, now
	}
	if in.Referrer != nil {
		r.referrer = in.Referrer
	}
	for i, u := range in.utm() {
		if u != nil {
			r.utm[i] = u
		}
	}
	r.updatedAt = now
	return nil
}

func (o *orgData) addPerson(p *person) {
	o.people = insertOrdered(o.people, p)
	o.personByID[p.id] = p
	o.personByEmail[strings.ToLower(p.email)] = p
}

func (s *session) addRegistration(r *registration) {
	s.regs = insertOrdered(s.regs, r)
	s.regByPerson[r.person.id] = r
	r.person.regs = append(r.person.regs, r)
}

// removeRegistration unregisters a person from a session.
func (s *session) removeRegistration(r *registration) {
	s.regs = removeOrdered(s.regs, r)
	delete(s.regByPerson, r.person.id)
	r.person.regs = removeOrdered(r.person.regs, r)
}

// RegisterPerson registers someone as if they used Livestorm's registration
// page (fires people.registered), so tests and demos can create activity that
// did not come through the API.
func (s *Simulator) RegisterPerson(sessionID, email, firstName, lastName string) (personID string, err error) {
	fields := []registrationFieldIn{{ID: "email", Value: mustJSON(email)}}
	if firstName != "" {
		fields = append(fields, registrationFieldIn{ID: "first_name", Value: mustJSON(firstName)})
	}
	if lastName != "" {
		fields = append(fields, registrationFieldIn{ID: "last_name", Value: mustJSON(lastName)})
	}
	s.store.mu.Lock()
	defer s.store.mu.Unlock()
	sess := s.store.findSession(sessionID)
	if sess == nil {
		return "", errUnknownSession
	}
	now := s.Now().Unix()
	r, apiErr := s.registerLocked(sess, registrationIn{Fields: fields}, regTypePage, nil, now)
	if apiErr != nil {
		return "", errors.New("livestormsim: " + apiErr.detail)
	}
	s.hooks.emit(sess.event.org, "people.registered", registrantResource(r))
	return r.person.id, nil
}

// WatchReplay records that a registrant watched the replay of an ended or
// on-demand session (fires people.watched_replay).
func (s *Simulator) WatchReplay(sessionID, personID string) error {
	s.store.mu.Lock()
	defer s.store.mu.Unlock()
	sess := s.store.findSession(sessionID)
	if sess == nil {
		return errUnknownSession
	}
	r := sess.regByPerson[personID]
	if r == nil {
		return errors.New("livestormsim: person is not registered to this session")
	}
	now := s.Now().Unix()
	if st := sessionStatus(sess, now); st != statusPast && st != statusOnDemand {
		return errors.New("livestormsim: session is " + st + "; replays exist for past or on-demand sessions")
	}
	r.hasViewedReplay, r.replayWatchedAt, r.updatedAt = true, now, now
	s.hooks.emit(sess.event.org, "people.watched_replay", registrantResource(r))
	return nil
}

// mustJSON marshals a string (which cannot fail).
func mustJSON(v string) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}
