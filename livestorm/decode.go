package livestorm

import (
	"bytes"
	"encoding/json"
	"time"
)

// decoder turns JSON:API resources into the typed structs of resources.go.
// Included resources are attached one level deep only (an included session
// does not get its own event attached), which keeps cyclic documents finite.
type decoder struct {
	doc *document
	bad []string // attribute keys whose values had unexpected types
}

func newDecoder(doc *document) *decoder { return &decoder{doc: doc} }

func (d *decoder) attrs(r *resource) attrMap {
	a := r.attrs
	a.bad = &d.bad
	return a
}

func (d *decoder) lookup(k resKey) *resource {
	if r := d.doc.lookup(k); r != nil {
		return r
	}
	if k.typ != "" {
		return d.doc.lookup(resKey{id: k.id})
	}
	return nil
}

// The shallow decoders attach no included resources; they decode resources
// that are themselves attached to another one.

func (d *decoder) shallowEvent(r *resource) Event     { return d.event(r, false) }
func (d *decoder) shallowSession(r *resource) Session { return d.session(r, false) }
func (d *decoder) shallowPerson(r *resource) Person   { return d.person(r, false) }

// decodeIncluded decodes r, the result of a lookup; nil when it found none.
func decodeIncluded[T any](r *resource, decode func(*resource) T) *T {
	if r == nil {
		return nil
	}
	v := decode(r)
	return &v
}

// resolveAll decodes the included resources of type typ named by ids, in
// order, skipping the ones the document does not carry.
func resolveAll[T any](d *decoder, typ string, ids []string, decode func(*resource) T) []T {
	var out []T
	for _, id := range ids {
		if r := d.lookup(resKey{typ, id}); r != nil {
			out = append(out, decode(r))
		}
	}
	return out
}

// includedWhere decodes the included resources of type typ that belongs
// accepts (all of them when belongs is nil), and returns their ids too. It
// serves documents that include related resources without a relationship
// naming them.
func includedWhere[T any](d *decoder, typ string, decode func(*resource) T, belongs func(T) bool) (items []T, ids []string) {
	for _, r := range d.doc.includedOfType(typ) {
		if item := decode(r); belongs == nil || belongs(item) {
			items = append(items, item)
			ids = append(ids, r.ID)
		}
	}
	return items, ids
}

func relIDs(r *resource, names ...string) ([]string, bool) {
	for _, n := range names {
		l, ok := r.rels[n]
		if !ok {
			continue
		}
		ids := make([]string, 0, len(l.ids))
		for _, k := range l.ids {
			ids = append(ids, k.id)
		}
		return ids, true
	}
	return nil, false
}

func relKey(r *resource, names ...string) (resKey, bool) {
	for _, n := range names {
		if l, ok := r.rels[n]; ok {
			return l.first()
		}
	}
	return resKey{}, false
}

// ---- events ----

func (d *decoder) event(r *resource, deep bool) Event {
	a := d.attrs(r)
	ev := Event{
		ID:                              r.ID,
		Title:                           a.str("title"),
		Slug:                            a.str("slug"),
		RegistrationLink:                a.str("registration_link"),
		Status:                          a.str("status"),
		SchedulingStatus:                a.str("scheduling_status"),
		Language:                        a.str("language"),
		Description:                     a.strPtr("description"),
		EstimatedDuration:               a.int("estimated_duration"),
		SessionsCount:                   a.int("sessions_count"),
		RegistrationPageEnabled:         a.boolean("registration_page_enabled"),
		EveryoneCanSpeak:                a.boolean("everyone_can_speak"),
		LightRegistrationPageEnabled:    a.boolean("light_registration_page_enabled"),
		DetailedRegistrationPageEnabled: a.boolean("detailed_registration_page_enabled"),
		RecordingEnabled:                a.boolean("recording_enabled"),
		RecordingPublic:                 a.boolPtr("recording_public"),
		ShowInCompanyPage:               a.boolean("show_in_company_page"),
		ChatEnabled:                     a.boolean("chat_enabled"),
		PollsEnabled:                    a.boolean("polls_enabled"),
		QuestionsEnabled:                a.boolean("questions_enabled"),
		PublishedAt:                     a.time("published_at"),
		CreatedAt:                       a.time("created_at"),
		UpdatedAt:                       a.time("updated_at"),
	}
	if o := a.object("owner"); o != nil {
		p := d.embeddedPerson(*o)
		ev.Owner = &p
	}
	ev.Fields = eventFields(a)
	var hasSessionRel, hasTagRel bool
	ev.SessionIDs, hasSessionRel = relIDs(r, "sessions")
	ev.TagIDs, hasTagRel = relIDs(r, "tags")
	if !deep {
		return ev
	}
	if hasSessionRel {
		ev.Sessions = resolveAll(d, "sessions", ev.SessionIDs, d.shallowSession)
	} else {
		ev.Sessions, ev.SessionIDs = includedWhere(d, "sessions", d.shallowSession, func(s Session) bool {
			return s.EventID == ev.ID && ev.ID != ""
		})
	}
	if hasTagRel {
		ev.Tags = resolveAll(d, "tags", ev.TagIDs, d.tag)
	} else if len(d.doc.data) == 1 {
		// Tags carry no link to their event: only a single-event document
		// tells whose they are.
		ev.Tags, ev.TagIDs = includedWhere(d, "tags", d.tag, nil)
	}
	return ev
}

func eventFields(a attrMap) []EventField {
	items, _ := a.array("fields")
	if items == nil {
		return nil
	}
	out := make([]EventField, 0, len(items))
	for _, it := range items {
		f := a.sub(it)
		if f == nil {
			continue
		}
		ef := EventField{
			ID:       f.str("id"),
			Type:     f.str("type"),
			Order:    f.int("order"),
			Required: f.boolean("required"),
			Custom:   f.boolean("custom"),
		}
		if raw, _, ok := f.raw("options"); ok && !isNull(raw) {
			ef.Options = fieldOptions(*f, raw)
		}
		out = append(out, ef)
	}
	return out
}

// fieldOptions reads {"items":[{"value":…}],"multiple_answers":…} and, for
// robustness, a bare array of items or strings.
func fieldOptions(parent attrMap, raw json.RawMessage) *EventFieldOptions {
	opts := &EventFieldOptions{}
	var items []json.RawMessage
	if o := parent.object("options"); o != nil {
		items, _ = o.array("items")
		opts.MultipleAnswers = o.boolean("multiple_answers")
	} else if err := json.Unmarshal(raw, &items); err != nil {
		return nil
	}
	for _, it := range items {
		if s, ok := scalarString(it); ok {
			opts.Items = append(opts.Items, s)
			continue
		}
		if m := parent.sub(it); m != nil {
			opts.Items = append(opts.Items, m.str("value", "label"))
		}
	}
	if opts.Items == nil {
		opts.Items = []string{}
	}
	return opts
}

// embeddedPerson decodes the non-standard owner object {id,type,attributes}
// (or a flat object of person attributes).
func (d *decoder) embeddedPerson(o attrMap) Person {
	attrs := o
	if inner := o.object("attributes"); inner != nil {
		attrs = *inner
	}
	return personFromAttrs(attrs, o.str("id"))
}

// ---- sessions ----

func (d *decoder) session(r *resource, deep bool) Session {
	a := d.attrs(r)
	s := Session{
		ID:                          r.ID,
		EventID:                     a.str("event_id", "event_type_id"),
		Status:                      a.str("status"),
		Timezone:                    a.str("timezone"),
		RoomLink:                    a.str("room_link"),
		Name:                        a.strPtr("name"),
		BreakoutRoomParentSessionID: a.strPtr("breakout_room_parent_session_id"),
		EmbedURL:                    a.strPtr("embed_url"),
		AttendeesCount:              a.int("attendees_count", "attendee_count"),
		RegistrantsCount:            a.int("registrants_count"),
		Duration:                    a.intPtr("duration"),
		EstimatedStartedAt:          a.time("estimated_started_at"),
		StartedAt:                   a.time("started_at"),
		EndedAt:                     a.time("ended_at"),
		CanceledAt:                  a.time("canceled_at"),
		CreatedAt:                   a.time("created_at"),
		UpdatedAt:                   a.time("updated_at"),
	}
	var hasPeople, hasRecordings bool
	s.PeopleIDs, hasPeople = relIDs(r, "people")
	s.RecordingIDs, hasRecordings = relIDs(r, "recordings")
	if s.EventID == "" {
		if k, ok := relKey(r, "event"); ok {
			s.EventID = k.id
		}
	}
	if !deep {
		return s
	}
	if k, ok := relKey(r, "event"); ok {
		s.Event = decodeIncluded(d.lookup(resKey{"events", k.id}), d.shallowEvent)
	} else if s.EventID != "" {
		s.Event = decodeIncluded(d.doc.lookup(resKey{"events", s.EventID}), d.shallowEvent)
	}
	if hasPeople {
		s.People = resolveAll(d, "people", s.PeopleIDs, d.shallowPerson)
	} else {
		s.People, s.PeopleIDs = includedWhere(d, "people", d.shallowPerson, func(p Person) bool {
			return p.RegistrantDetail != nil && p.RegistrantDetail.SessionID == s.ID && s.ID != ""
		})
	}
	if hasRecordings {
		s.Recordings = resolveAll(d, "recordings", s.RecordingIDs, d.recording)
	} else {
		s.Recordings, s.RecordingIDs = includedWhere(d, "recordings", d.recording, func(rec Recording) bool {
			return rec.SessionID == s.ID && s.ID != ""
		})
	}
	return s
}

// ---- people ----

func (d *decoder) person(r *resource, deep bool) Person {
	p := personFromAttrs(d.attrs(r), r.ID)
	if !deep {
		return p
	}
	var eventID, sessionID string
	if p.RegistrantDetail != nil {
		eventID, sessionID = p.RegistrantDetail.EventID, p.RegistrantDetail.SessionID
	}
	if k, ok := relKey(r, "event"); ok {
		eventID = k.id
	}
	if k, ok := relKey(r, "session"); ok {
		sessionID = k.id
	}
	if eventID != "" {
		p.Event = decodeIncluded(d.doc.lookup(resKey{"events", eventID}), d.shallowEvent)
	}
	if sessionID != "" {
		p.Session = decodeIncluded(d.doc.lookup(resKey{"sessions", sessionID}), d.shallowSession)
	}
	return p
}

func personFromAttrs(a attrMap, id string) Person {
	p := Person{
		ID:             id,
		Role:           a.str("role"),
		FirstName:      a.str("first_name"),
		LastName:       a.str("last_name"),
		Email:          a.str("email"),
		Timezone:       a.strPtr("timezone"),
		AvatarLink:     a.strPtr("avatar_link"),
		CreatedAt:      a.time("created_at"),
		UpdatedAt:      a.time("updated_at"),
		MessagesCount:  a.int("messages_count"),
		QuestionsCount: a.int("questions_count"),
		VotesCount:     a.int("votes_count"),
		UpVotesCount:   a.int("up_votes_count"),
	}
	if rd := a.object("registrant_detail"); rd != nil {
		det := registrantDetail(*rd)
		p.RegistrantDetail = &det
	}
	if raw := a.rawCopy("replay_view_detail"); raw != nil {
		rv := &ReplayViewDetail{Raw: raw}
		if o := a.object("replay_view_detail"); o != nil {
			rv.WatchedAt = o.time("watched_at")
		}
		p.ReplayViewDetail = rv
	}
	return p
}

func registrantDetail(a attrMap) RegistrantDetail {
	rd := RegistrantDetail{
		EventID:            a.str("event_id"),
		SessionID:          a.str("session_id"),
		ConnectionLink:     a.str("connection_link"),
		RegistrationType:   a.str("registration_type"),
		CreatedAt:          a.time("created_at"),
		UpdatedAt:          a.time("updated_at"),
		Referrer:           a.strPtr("referrer"),
		UTMSource:          a.strPtr("utm_source"),
		UTMMedium:          a.strPtr("utm_medium"),
		UTMTerm:            a.strPtr("utm_term"),
		UTMContent:         a.strPtr("utm_content"),
		UTMCampaign:        a.strPtr("utm_campaign"),
		BrowserVersion:     a.strPtr("browser_version"),
		BrowserName:        a.strPtr("browser_name"),
		OSName:             a.strPtr("os_name"),
		OSVersion:          a.strPtr("os_version"),
		ScreenHeight:       a.strPtr("screen_height"),
		ScreenWidth:        a.strPtr("screen_width"),
		IPCity:             a.strPtr("ip_city"),
		IPCountryCode:      a.strPtr("ip_country_code"),
		IPCountryName:      a.strPtr("ip_country_name"),
		PasswordKey:        a.strPtr("password_key"),
		SessionRole:        a.strPtr("session_role"),
		Attended:           a.boolean("attended"),
		HasViewedReplay:    a.boolean("has_viewed_replay"),
		IsHighlighted:      a.boolean("is_highlighted"),
		IsGuestSpeaker:     a.boolean("is_guest_speaker"),
		AttendanceRate:     a.floatPtr("attendance_rate"),
		AttendanceDuration: a.intPtr("attendance_duration"),
	}
	items, _ := a.array("fields")
	for _, it := range items {
		f := a.sub(it)
		if f == nil {
			continue
		}
		rf := RegistrantField{
			ID:       f.str("id"),
			Type:     f.str("type"),
			Required: f.boolPtr("required"),
			Custom:   f.boolPtr("custom"),
		}
		if raw, _, ok := f.raw("value"); ok && !isNull(raw) {
			if t := bytes.TrimSpace(raw); len(t) > 0 && t[0] == '[' {
				vals, _ := f.array("value")
				rf.Values = make([]string, 0, len(vals))
				for _, v := range vals {
					if s, ok := scalarString(v); ok {
						rf.Values = append(rf.Values, s)
					}
				}
			} else {
				rf.Value = f.strPtr("value")
			}
		}
		rd.Fields = append(rd.Fields, rf)
	}
	return rd
}

// ---- satellites ----

func (d *decoder) user(r *resource) User {
	return userFromAttrs(d.attrs(r), r.ID)
}

func userFromAttrs(a attrMap, id string) User {
	return User{
		ID:            id,
		Role:          a.str("role"),
		FirstName:     a.str("first_name"),
		LastName:      a.str("last_name"),
		Email:         a.str("email"),
		Locale:        a.str("locale"),
		AvatarLink:    a.strPtr("avatar_link"),
		WebsiteLink:   a.strPtr("website_link"),
		LinkedinLink:  a.strPtr("linkedin_link"),
		FacebookLink:  a.strPtr("facebook_link"),
		TwitterHandle: a.strPtr("twitter_handle"),
		PendingInvite: a.boolean("pending_invite"),
		CreatedAt:     a.time("created_at"),
		UpdatedAt:     a.time("updated_at"),
	}
}

func (d *decoder) webhook(r *resource) Webhook {
	a := d.attrs(r)
	return Webhook{
		ID:        r.ID,
		URL:       a.str("url", "target_url"),
		Event:     a.str("event", "event_name"),
		CreatedAt: a.time("created_at"),
		UpdatedAt: a.time("updated_at"),
	}
}

func (d *decoder) job(r *resource) Job {
	return jobFromAttrs(d.attrs(r), r.ID)
}

func jobFromAttrs(a attrMap, id string) Job {
	j := Job{
		ID:             id,
		Status:         a.str("status"),
		TotalItems:     a.int("total_items", "total_tasks"),
		TotalProcessed: a.int("total_processed_items", "total_processed_tasks"),
		TotalFailed:    a.int("total_fail", "total_failed"),
		TotalSucceeded: a.int("total_success", "total_succeeded"),
		CreatedAt:      a.time("created_at"),
		UpdatedAt:      a.time("updated_at"),
		OrganizationID: a.str("organization_id"),
		Source:         a.str("source"),
		AvatarLink:     a.strPtr("avatar_link"),
		Input:          a.rawCopy("input"),
	}
	return j
}

func (d *decoder) jobTask(r *resource) JobTask {
	a := d.attrs(r)
	t := JobTask{
		ID:        r.ID,
		Status:    a.str("status"),
		Email:     a.str("email"),
		PersonID:  a.strPtr("person_id", "people_id"),
		CreatedAt: a.time("created_at"),
		UpdatedAt: a.time("updated_at"),
	}
	if raw, _, ok := a.raw("errors"); ok && !isNull(raw) {
		var objs []ErrorObject
		if json.Unmarshal(raw, &objs) == nil {
			t.Errors = objs
		} else {
			var one ErrorObject
			if json.Unmarshal(raw, &one) == nil {
				t.Errors = []ErrorObject{one}
			} else {
				a.mark("errors")
			}
		}
	}
	for _, k := range []string{"error", "message"} {
		if msg := a.str(k); msg != "" {
			t.Errors = append(t.Errors, ErrorObject{Detail: msg})
		}
	}
	t.Input = a.rawCopy("input")
	if t.Email == "" && t.Input != nil {
		t.Email = emailFromInput(t.Input)
	}
	if t.PersonID == nil {
		if k, ok := relKey(r, "person", "people"); ok {
			id := k.id
			t.PersonID = &id
		}
	}
	return t
}

// emailFromInput finds the email field of an echoed task input.
func emailFromInput(raw json.RawMessage) string {
	var in struct {
		Fields []struct {
			ID    string `json:"id"`
			Value any    `json:"value"`
		} `json:"fields"`
		Email string `json:"email"`
	}
	if json.Unmarshal(raw, &in) != nil {
		return ""
	}
	for _, f := range in.Fields {
		if s, ok := f.Value.(string); ok && f.ID == "email" {
			return s
		}
	}
	return in.Email
}

func (d *decoder) tag(r *resource) Tag {
	a := d.attrs(r)
	return Tag{ID: r.ID, Title: a.str("title", "name")}
}

func (d *decoder) recording(r *resource) Recording {
	a := d.attrs(r)
	return Recording{
		ID:             r.ID,
		EventID:        a.str("event_id"),
		SessionID:      a.str("session_id"),
		FileType:       a.str("file_type"),
		MimeType:       a.str("mime_type"),
		FileName:       a.str("file_name"),
		URL:            a.str("url"),
		FileSize:       a.int64("file_size"),
		URLGeneratedAt: a.time("url_generated_at"),
		URLExpiresIn:   time.Duration(a.int64("url_expires_in")) * time.Second,
	}
}

func (d *decoder) chatMessage(r *resource, deep bool) ChatMessage {
	a := d.attrs(r)
	m := ChatMessage{
		ID:               r.ID,
		TextContent:      a.str("text_content"),
		AuthorID:         a.str("author_id", "people_id", "person_id"),
		CreatedAt:        a.time("created_at"),
		FromGuestSpeaker: a.boolean("from_guest_speaker"),
		FromTeamMember:   a.boolean("from_team_member"),
	}
	if k, ok := relKey(r, "author", "people", "person"); ok {
		if m.AuthorID == "" {
			m.AuthorID = k.id
		}
	}
	if deep && m.AuthorID != "" {
		m.Author = decodeIncluded(d.lookup(resKey{"people", m.AuthorID}), d.shallowPerson)
	}
	return m
}

func (d *decoder) question(r *resource, deep bool) Question {
	a := d.attrs(r)
	q := Question{
		ID:             r.ID,
		EventID:        a.str("event_id"),
		SessionID:      a.str("session_id"),
		Question:       a.str("question"),
		Response:       a.strPtr("response"),
		ResponseOrally: a.boolean("response_orally"),
		RespondedAt:    a.time("responded_at"),
		CreatedAt:      a.time("created_at"),
		UpdatedAt:      a.time("updated_at"),
		AskerID:        a.str("asker_id"),
		ResponderID:    a.str("responder_id"),
	}
	if k, ok := relKey(r, "asker"); ok {
		q.AskerID = k.id
	}
	if k, ok := relKey(r, "responder"); ok {
		q.ResponderID = k.id
	}
	// include=people links the asker then (when answered) the responder.
	if ids, ok := relIDs(r, "people"); ok {
		if q.AskerID == "" && len(ids) > 0 {
			q.AskerID = ids[0]
		}
		if q.ResponderID == "" && len(ids) > 1 {
			q.ResponderID = ids[1]
		}
	}
	if deep && q.AskerID != "" {
		q.Asker = decodeIncluded(d.lookup(resKey{"people", q.AskerID}), d.shallowPerson)
	}
	if deep && q.ResponderID != "" {
		q.Responder = decodeIncluded(d.lookup(resKey{"people", q.ResponderID}), d.shallowPerson)
	}
	return q
}

func (d *decoder) organization(r *resource) Organization {
	a := d.attrs(r)
	return Organization{ID: r.ID, Name: a.str("name"), Slug: a.str("slug"), ParentID: a.strPtr("parent_id")}
}

func (d *decoder) peopleAttribute(r *resource) PeopleAttribute {
	a := d.attrs(r)
	pa := PeopleAttribute{
		ID:          r.ID,
		Slug:        a.str("slug"),
		Name:        a.str("name"),
		Type:        a.str("type"),
		Builtin:     a.boolean("builtin"),
		Description: a.strPtr("description"),
		Placeholder: a.strPtr("placeholder"),
		UserID:      a.strPtr("user_id"),
		CreatedAt:   a.time("created_at"),
		UpdatedAt:   a.time("updated_at"),
	}
	items, _ := a.array("options")
	for _, it := range items {
		if s, ok := scalarString(it); ok {
			pa.Options = append(pa.Options, PeopleAttributeOption{Label: s, Value: s})
			continue
		}
		if o := a.sub(it); o != nil {
			pa.Options = append(pa.Options, PeopleAttributeOption{
				Label:    o.str("label"),
				Value:    o.str("value"),
				Position: o.int("position"),
			})
		}
	}
	return pa
}

// me decodes GET /me, which is either a user (with its organization related
// or embedded) or an organizations resource.
func (d *decoder) me(r *resource) Me {
	var m Me
	switch r.Type {
	case "organizations", "organization":
		o := d.organization(r)
		m.Organization = &o
		return m
	}
	u := d.user(r)
	m.User = &u
	if k, ok := relKey(r, "organization", "organizations"); ok {
		o := Organization{ID: k.id}
		if or := d.lookup(resKey{"organizations", k.id}); or != nil {
			o = d.organization(or)
		}
		m.Organization = &o
	} else if emb := d.attrs(r).object("organization"); emb != nil {
		o := Organization{ID: emb.str("id"), Name: emb.str("name"), Slug: emb.str("slug"), ParentID: emb.strPtr("parent_id")}
		if inner := emb.object("attributes"); inner != nil {
			o.Name, o.Slug, o.ParentID = inner.str("name"), inner.str("slug"), inner.strPtr("parent_id")
		}
		m.Organization = &o
	} else if orgs := d.doc.includedOfType("organizations"); len(orgs) > 0 {
		o := d.organization(orgs[0])
		m.Organization = &o
	}
	return m
}
