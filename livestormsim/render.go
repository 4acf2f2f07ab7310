package livestormsim

import (
	"encoding/json"
	"net/url"
)

// This file turns store records into JSON:API resources whose keys, order and
// value types follow the captured Livestorm examples (reference/livestorm).
// Every function expects the store lock to be held.

const appBaseURL = "https://app.livestorm.co"

type fieldOption struct {
	Value string `json:"value"`
}

type fieldOptions struct {
	Items           []fieldOption `json:"items"`
	MultipleAnswers bool          `json:"multiple_answers"`
}

type fieldDefinition struct {
	ID       string        `json:"id"`
	Type     string        `json:"type"`
	Order    int           `json:"order"`
	Custom   bool          `json:"custom,omitempty"`
	Options  *fieldOptions `json:"options,omitempty"`
	Required bool          `json:"required"`
}

// basicPersonAttributes are the eight attributes every people resource has
// (also used for the event "owner" object).
type basicPersonAttributes struct {
	Role       string  `json:"role"`
	CreatedAt  int64   `json:"created_at"`
	UpdatedAt  int64   `json:"updated_at"`
	Timezone   *string `json:"timezone"`
	FirstName  *string `json:"first_name"`
	LastName   *string `json:"last_name"`
	Email      string  `json:"email"`
	AvatarLink *string `json:"avatar_link"`
}

type eventAttributes struct {
	Title                           string            `json:"title"`
	Slug                            string            `json:"slug"`
	RegistrationLink                string            `json:"registration_link"`
	EstimatedDuration               int               `json:"estimated_duration"`
	RegistrationPageEnabled         bool              `json:"registration_page_enabled"`
	EveryoneCanSpeak                bool              `json:"everyone_can_speak"`
	Description                     *string           `json:"description"`
	Status                          string            `json:"status"`
	LightRegistrationPageEnabled    bool              `json:"light_registration_page_enabled"`
	DetailedRegistrationPageEnabled bool              `json:"detailed_registration_page_enabled"`
	RecordingEnabled                bool              `json:"recording_enabled"`
	RecordingPublic                 *bool             `json:"recording_public"`
	ShowInCompanyPage               bool              `json:"show_in_company_page"`
	ChatEnabled                     bool              `json:"chat_enabled"`
	PollsEnabled                    bool              `json:"polls_enabled"`
	QuestionsEnabled                bool              `json:"questions_enabled"`
	Language                        string            `json:"language"`
	SchedulingStatus                string            `json:"scheduling_status"`
	PublishedAt                     int64             `json:"published_at"`
	CreatedAt                       int64             `json:"created_at"`
	UpdatedAt                       int64             `json:"updated_at"`
	Owner                           *ownerResource    `json:"owner"`
	SessionsCount                   int               `json:"sessions_count"`
	Fields                          []fieldDefinition `json:"fields"`
}

type ownerResource struct {
	ID         string                `json:"id"`
	Type       string                `json:"type"`
	Attributes basicPersonAttributes `json:"attributes"`
}

func basicAttrs(p *person) basicPersonAttributes {
	return basicPersonAttributes{
		Role: p.role, CreatedAt: p.createdAt, UpdatedAt: p.updatedAt, Timezone: nullable(p.timezone),
		FirstName: nullable(p.firstName), LastName: nullable(p.lastName), Email: p.email, AvatarLink: nullable(p.avatarLink),
	}
}

func eventResource(e *event, now int64) resource {
	attrs := eventAttributes{
		Title: e.title, Slug: e.slug, RegistrationLink: appBaseURL + "/p/" + e.id,
		EstimatedDuration: e.estimatedDuration, RegistrationPageEnabled: e.registrationPageEnabled,
		EveryoneCanSpeak: e.everyoneCanSpeak, Description: nullable(e.description), Status: e.status,
		LightRegistrationPageEnabled: e.lightRegistrationPageEnabled, DetailedRegistrationPageEnabled: e.detailedRegistrationPageEnabled,
		RecordingEnabled: e.recordingEnabled, RecordingPublic: e.recordingPublic, ShowInCompanyPage: e.showInCompanyPage,
		ChatEnabled: e.chatEnabled, PollsEnabled: e.pollsEnabled, QuestionsEnabled: e.questionsEnabled,
		Language: e.language, SchedulingStatus: schedulingStatus(e, now), PublishedAt: e.publishedAt,
		CreatedAt: e.createdAt, UpdatedAt: e.updatedAt, SessionsCount: len(e.sessions),
		Fields: make([]fieldDefinition, 0, len(e.fields)),
	}
	if u := e.org.userByID[e.ownerID]; u != nil {
		ba := basicAttrs(u.person)
		ba.Role = "team_member"
		attrs.Owner = &ownerResource{ID: u.id, Type: "people", Attributes: ba}
	}
	for _, f := range e.fields {
		fd := fieldDefinition{ID: f.id, Type: f.typ, Order: f.order, Custom: f.custom, Required: f.required}
		if f.typ == "multiple" {
			opts := &fieldOptions{Items: make([]fieldOption, 0, len(f.options)), MultipleAnswers: f.multiple}
			for _, o := range f.options {
				opts.Items = append(opts.Items, fieldOption{Value: o})
			}
			fd.Options = opts
		}
		attrs.Fields = append(attrs.Fields, fd)
	}
	return resource{ID: e.id, Type: "events", Attributes: attrs}
}

type sessionAttributes struct {
	EventID                     string  `json:"event_id"`
	Status                      string  `json:"status"`
	Timezone                    string  `json:"timezone"`
	RoomLink                    string  `json:"room_link"`
	Name                        *string `json:"name"`
	AttendeesCount              int     `json:"attendees_count"`
	Duration                    *int64  `json:"duration"`
	EstimatedStartedAt          int64   `json:"estimated_started_at"`
	StartedAt                   int64   `json:"started_at"`
	EndedAt                     int64   `json:"ended_at"`
	CanceledAt                  int64   `json:"canceled_at"`
	CreatedAt                   int64   `json:"created_at"`
	UpdatedAt                   int64   `json:"updated_at"`
	RegistrantsCount            int     `json:"registrants_count"`
	BreakoutRoomParentSessionID *string `json:"breakout_room_parent_session_id"`
}

func attendeesCount(s *session) int {
	n := 0
	for _, r := range s.regs {
		if r.attended {
			n++
		}
	}
	return n
}

func sessionResource(s *session, now int64) resource {
	attrs := sessionAttributes{
		EventID: s.event.id, Status: sessionStatus(s, now), Timezone: s.timezone,
		RoomLink: appBaseURL + "/p/" + s.event.id + "/live?s=" + s.id, Name: nullable(s.name),
		AttendeesCount: attendeesCount(s), EstimatedStartedAt: s.estimatedStartedAt,
		StartedAt: s.startedAt, EndedAt: s.endedAt, CanceledAt: s.canceledAt,
		CreatedAt: s.createdAt, UpdatedAt: s.updatedAt, RegistrantsCount: len(s.regs),
	}
	if s.endedAt != 0 && s.startedAt != 0 {
		d := s.endedAt - s.startedAt
		attrs.Duration = &d
	}
	return resource{ID: s.id, Type: "sessions", Attributes: attrs}
}

// personAttributes is a plain people row (/people, /people/{id}): the eight
// basic attributes plus workspace-wide engagement counters.
type personAttributes struct {
	basicPersonAttributes
	MessagesCount  int `json:"messages_count"`
	QuestionsCount int `json:"questions_count"`
	VotesCount     int `json:"votes_count"`
	UpVotesCount   int `json:"up_votes_count"`
}

func personResource(p *person) resource {
	attrs := personAttributes{basicPersonAttributes: basicAttrs(p)}
	for _, r := range p.regs {
		attrs.MessagesCount += r.messagesCount
		attrs.QuestionsCount += r.questionsCount
	}
	return resource{ID: p.id, Type: "people", Attributes: attrs}
}

type registrantField struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Value    any    `json:"value"`
	Required bool   `json:"required"`
	Custom   bool   `json:"custom,omitempty"`
}

type registrantDetail struct {
	EventID            string            `json:"event_id"`
	SessionID          string            `json:"session_id,omitempty"`
	CreatedAt          int64             `json:"created_at"`
	UpdatedAt          int64             `json:"updated_at"`
	Fields             []registrantField `json:"fields"`
	Referrer           *string           `json:"referrer"`
	UTMSource          *string           `json:"utm_source"`
	UTMMedium          *string           `json:"utm_medium"`
	UTMTerm            *string           `json:"utm_term"`
	UTMContent         *string           `json:"utm_content"`
	UTMCampaign        *string           `json:"utm_campaign"`
	BrowserVersion     *string           `json:"browser_version"`
	BrowserName        *string           `json:"browser_name"`
	OSName             *string           `json:"os_name"`
	OSVersion          *string           `json:"os_version"`
	ScreenHeight       *string           `json:"screen_height"`
	ScreenWidth        *string           `json:"screen_width"`
	IPCity             *string           `json:"ip_city"`
	IPCountryCode      *string           `json:"ip_country_code"`
	IPCountryName      *string           `json:"ip_country_name"`
	PasswordKey        *string           `json:"password_key"`
	ConnectionLink     string            `json:"connection_link"`
	Attended           bool              `json:"attended"`
	AttendanceRate     *float64          `json:"attendance_rate"`
	AttendanceDuration int64             `json:"attendance_duration"`
	HasViewedReplay    bool              `json:"has_viewed_replay"`
	RegistrationType   string            `json:"registration_type"`
	IsHighlighted      bool              `json:"is_highlighted"`
	IsGuestSpeaker     bool              `json:"is_guest_speaker"`
}

type replayViewDetail struct {
	WatchedAt int64 `json:"watched_at"`
}

// registrantAttributes is a people row in a session or event context, shaped
// like the 2024 registration response of OFF-embed.
type registrantAttributes struct {
	basicPersonAttributes
	RegistrantDetail registrantDetail  `json:"registrant_detail"`
	MessagesCount    int               `json:"messages_count"`
	QuestionsCount   int               `json:"questions_count"`
	VotesCount       int               `json:"votes_count"`
	UpVotesCount     int               `json:"up_votes_count"`
	ReplayViewDetail *replayViewDetail `json:"replay_view_detail"`
}

// fieldAnswer returns the registration's answer for field f, falling back to
// the person's own data for built-in fields.
func fieldAnswer(r *registration, f eventField) any {
	if v, ok := r.value(f.id); ok {
		return v
	}
	p := r.person
	switch f.id {
	case "email":
		return p.email
	case "first_name":
		return nullable(p.firstName)
	case "last_name":
		return nullable(p.lastName)
	case "avatar":
		return nullable(p.avatarLink)
	}
	if f.typ == "multiple" && f.multiple {
		return []string{}
	}
	return nil
}

func connectionLink(r *registration) string {
	ev := r.session.event
	link := appBaseURL + "/p/" + ev.id + "/live?email=" + url.QueryEscape(r.person.email)
	if r.passwordKey != "" {
		link += "&key=" + r.passwordKey
	}
	return link + "&s=" + r.session.id
}

func buildRegistrantDetail(r *registration, withSession bool) registrantDetail {
	ev := r.session.event
	d := registrantDetail{
		EventID: ev.id, CreatedAt: r.createdAt, UpdatedAt: r.updatedAt,
		Fields: make([]registrantField, 0, len(ev.fields)), Referrer: r.referrer,
		UTMSource: r.utm[0], UTMMedium: r.utm[1], UTMTerm: r.utm[2], UTMContent: r.utm[3], UTMCampaign: r.utm[4],
		PasswordKey: nullable(r.passwordKey), ConnectionLink: connectionLink(r), Attended: r.attended,
		AttendanceDuration: r.attendanceDuration, HasViewedReplay: r.hasViewedReplay, RegistrationType: r.registrationType,
	}
	if withSession {
		d.SessionID = r.session.id
	}
	if r.attended {
		rate := r.attendanceRate
		d.AttendanceRate = &rate
	}
	if c := r.client; c != nil {
		d.BrowserName, d.BrowserVersion = nullable(c.browserName), nullable(c.browserVersion)
		d.OSName, d.OSVersion = nullable(c.osName), nullable(c.osVersion)
		d.ScreenHeight, d.ScreenWidth = nullable(c.screenHeight), nullable(c.screenWidth)
		d.IPCity, d.IPCountryCode, d.IPCountryName = nullable(c.ipCity), nullable(c.ipCountryCode), nullable(c.ipCountryName)
	}
	for _, f := range ev.fields {
		d.Fields = append(d.Fields, registrantField{ID: f.id, Type: f.typ, Value: fieldAnswer(r, f), Required: f.required, Custom: f.custom})
	}
	return d
}

// registrantResource renders a person as seen through one registration.
func registrantResource(r *registration) resource {
	attrs := registrantAttributes{
		basicPersonAttributes: basicAttrs(r.person),
		RegistrantDetail:      buildRegistrantDetail(r, true),
		MessagesCount:         r.messagesCount, QuestionsCount: r.questionsCount,
	}
	if r.hasViewedReplay {
		attrs.ReplayViewDetail = &replayViewDetail{WatchedAt: r.replayWatchedAt}
	}
	return resource{ID: r.person.id, Type: "people", Attributes: attrs}
}

// eventRegistrantResource renders a person as seen through an event: the
// detail of their first registration to it, without session_id (as in the
// RB /events/{id}/people example), and counters summed over the event.
func eventRegistrantResource(regs []*registration) resource {
	first := regs[0]
	attrs := registrantAttributes{
		basicPersonAttributes: basicAttrs(first.person),
		RegistrantDetail:      buildRegistrantDetail(first, false),
	}
	for _, r := range regs {
		attrs.MessagesCount += r.messagesCount
		attrs.QuestionsCount += r.questionsCount
		if r.hasViewedReplay && attrs.ReplayViewDetail == nil {
			attrs.ReplayViewDetail = &replayViewDetail{WatchedAt: r.replayWatchedAt}
		}
	}
	return resource{ID: first.person.id, Type: "people", Attributes: attrs}
}

type userAttributes struct {
	Role          string  `json:"role"`
	CreatedAt     int64   `json:"created_at"`
	UpdatedAt     int64   `json:"updated_at"`
	FirstName     *string `json:"first_name"`
	LastName      *string `json:"last_name"`
	Email         string  `json:"email"`
	AvatarLink    *string `json:"avatar_link"`
	Locale        string  `json:"locale"`
	PendingInvite bool    `json:"pending_invite"`
	WebsiteLink   *string `json:"website_link"`
	LinkedinLink  *string `json:"linkedin_link"`
	FacebookLink  *string `json:"facebook_link"`
	TwitterHandle *string `json:"twitter_handle"`
}

func userResource(u *user) resource {
	p := u.person
	return resource{ID: u.id, Type: "users", Attributes: userAttributes{
		Role: u.role, CreatedAt: u.createdAt, UpdatedAt: u.updatedAt,
		FirstName: nullable(p.firstName), LastName: nullable(p.lastName), Email: p.email,
		AvatarLink: nullable(p.avatarLink), Locale: u.locale, PendingInvite: u.pendingInvite,
		WebsiteLink: nullable(u.websiteLink), LinkedinLink: nullable(u.linkedinLink),
		FacebookLink: nullable(u.facebookLink), TwitterHandle: nullable(u.twitterHand),
	}}
}

type organizationAttributes struct {
	Name     string  `json:"name"`
	Slug     string  `json:"slug"`
	ParentID *string `json:"parent_id"`
}

func organizationResource(o *orgData) resource {
	return resource{ID: o.id, Type: "organizations", Attributes: organizationAttributes{Name: o.name, Slug: o.slug}}
}

type tagAttributes struct {
	Title string `json:"title"`
}

func tagResource(t *tag) resource {
	return resource{ID: t.id, Type: "tags", Attributes: tagAttributes{Title: t.title}}
}

type webhookAttributes struct {
	URL       string `json:"url"`
	Event     string `json:"event"`
	CreatedAt int64  `json:"created_at"`
	UpdatedAt int64  `json:"updated_at"`
}

func webhookResource(w *webhook) resource {
	return resource{ID: w.id, Type: "webhooks", Attributes: webhookAttributes{URL: w.url, Event: w.event, CreatedAt: w.createdAt, UpdatedAt: w.updatedAt}}
}

type chatAttributes struct {
	TextContent      string `json:"text_content"`
	CreatedAt        int64  `json:"created_at"`
	FromGuestSpeaker bool   `json:"from_guest_speaker"`
	FromTeamMember   bool   `json:"from_team_member"`
	AuthorID         string `json:"author_id"`
}

func chatResource(m *chatMessage) resource {
	return resource{ID: m.id, Type: "chat_messages", Attributes: chatAttributes{
		TextContent: m.text, CreatedAt: m.createdAt, FromGuestSpeaker: m.fromGuestSpeaker,
		FromTeamMember: m.fromTeamMember, AuthorID: m.author.id,
	}}
}

type questionAttributes struct {
	EventID        string  `json:"event_id"`
	SessionID      string  `json:"session_id"`
	Question       string  `json:"question"`
	Response       *string `json:"response"`
	ResponseOrally bool    `json:"response_orally"`
	RespondedAt    int64   `json:"responded_at"`
	CreatedAt      int64   `json:"created_at"`
	UpdatedAt      int64   `json:"updated_at"`
}

func questionResource(q *question) resource {
	return resource{ID: q.id, Type: "questions", Attributes: questionAttributes{
		EventID: q.session.event.id, SessionID: q.session.id, Question: q.text, Response: nullable(q.response),
		ResponseOrally: q.responseOrally, RespondedAt: q.respondedAt, CreatedAt: q.createdAt, UpdatedAt: q.updatedAt,
	}}
}

type recordingAttributes struct {
	EventID        string `json:"event_id"`
	SessionID      string `json:"session_id"`
	FileType       string `json:"file_type"`
	MimeType       string `json:"mime_type"`
	FileSize       int64  `json:"file_size"`
	FileName       string `json:"file_name"`
	URL            string `json:"url"`
	URLGeneratedAt int64  `json:"url_generated_at"`
	URLExpiresIn   int    `json:"url_expires_in"`
}

type attributeOption struct {
	Label    string `json:"label"`
	Position int    `json:"position"`
	Value    string `json:"value"`
}

type peopleAttributeAttributes struct {
	Slug        string            `json:"slug"`
	Name        string            `json:"name"`
	Type        string            `json:"type"`
	Builtin     bool              `json:"builtin"`
	Description *string           `json:"description"`
	Placeholder *string           `json:"placeholder"`
	UserID      *string           `json:"user_id"`
	Options     []attributeOption `json:"options"`
	CreatedAt   int64             `json:"created_at"`
	UpdatedAt   int64             `json:"updated_at"`
}

func peopleAttributeResource(a *peopleAttribute) resource {
	opts := make([]attributeOption, 0, len(a.options))
	for _, o := range a.options {
		opts = append(opts, attributeOption{Label: o.label, Position: o.position, Value: o.value})
	}
	return resource{ID: a.id, Type: "people_attributes", Attributes: peopleAttributeAttributes{
		Slug: a.slug, Name: a.name, Type: a.typ, Builtin: a.builtin, Description: nullable(a.description),
		Placeholder: nullable(a.placeholder), UserID: nullable(a.userID), Options: opts,
		CreatedAt: a.createdAt, UpdatedAt: a.updatedAt,
	}}
}

type jobAttributes struct {
	Status              string `json:"status"`
	TotalItems          int    `json:"total_items"`
	TotalProcessedItems int    `json:"total_processed_items"`
	TotalFail           int    `json:"total_fail"`
	TotalSuccess        int    `json:"total_success"`
}

func jobResource(j *job) resource {
	return resource{ID: j.id, Type: "jobs", Attributes: jobAttributes{
		Status: j.status, TotalItems: len(j.tasks), TotalProcessedItems: j.processed,
		TotalFail: j.failed, TotalSuccess: j.succeeded,
	}}
}

type taskAttributes struct {
	Status    string          `json:"status"`
	Errors    []taskError     `json:"errors"`
	Email     *string         `json:"email"`
	PersonID  *string         `json:"person_id"`
	Input     json.RawMessage `json:"input"`
	CreatedAt int64           `json:"created_at"`
	UpdatedAt int64           `json:"updated_at"`
}

func taskResource(t *task) resource {
	errs := t.errors
	if errs == nil {
		errs = []taskError{}
	}
	return resource{ID: t.id, Type: "tasks", Attributes: taskAttributes{
		Status: t.status, Errors: errs, Email: nullable(t.email), PersonID: nullable(t.personID),
		Input: t.input.raw, CreatedAt: t.createdAt, UpdatedAt: t.updatedAt,
	}}
}
