package livestorm

import (
	"encoding/json"
	"time"
)

// The resource types mirror livestorm-api.md §7 attribute by attribute.
// Timestamps are time.Time in UTC, with Livestorm's 0 ("not happened yet")
// and null both decoded as the zero time. Nullable strings and numbers are
// pointers so null stays distinguishable from "" and 0.

// Event is a Livestorm event (type "events"): the webinar with its settings
// and registration form; sessions are its scheduled occurrences.
type Event struct {
	ID                                                                                                                                                                                         string
	Title, Slug, RegistrationLink, Status, SchedulingStatus, Language                                                                                                                          string
	Description                                                                                                                                                                                *string
	EstimatedDuration, SessionsCount                                                                                                                                                           int
	RegistrationPageEnabled, EveryoneCanSpeak, LightRegistrationPageEnabled, DetailedRegistrationPageEnabled, RecordingEnabled, ShowInCompanyPage, ChatEnabled, PollsEnabled, QuestionsEnabled bool
	RecordingPublic                                                                                                                                                                            *bool
	PublishedAt, CreatedAt, UpdatedAt                                                                                                                                                          time.Time
	// Owner is the team member who owns the event. Livestorm embeds it as a
	// whole people resource inside attributes (not a relationship).
	Owner *Person
	// Fields is the registration form definition.
	Fields []EventField
	// SessionIDs and TagIDs come from relationships.
	SessionIDs, TagIDs []string
	// Sessions and Tags are filled from included resources (include=sessions / include=tags).
	Sessions []Session
	Tags     []Tag
}

// EventField is one registration form field of an event.
type EventField struct {
	ID, Type string
	Order    int
	Required bool
	Custom   bool
	Options  *EventFieldOptions
}

// EventFieldOptions are the choices of a select field, decoded from
// {"items":[{"value":…}],"multiple_answers":…}.
type EventFieldOptions struct {
	Items           []string
	MultipleAnswers bool
}

// Session is one scheduled occurrence of an event (type "sessions").
type Session struct {
	ID, EventID, Status, Timezone, RoomLink     string
	Name, BreakoutRoomParentSessionID, EmbedURL *string
	AttendeesCount, RegistrantsCount            int
	// Duration is in seconds, nil until the session ran.
	Duration                                                                 *int
	EstimatedStartedAt, StartedAt, EndedAt, CanceledAt, CreatedAt, UpdatedAt time.Time
	// PeopleIDs and RecordingIDs come from relationships.
	PeopleIDs, RecordingIDs []string
	// Event, People and Recordings are filled from included resources.
	Event      *Event
	People     []Person
	Recordings []Recording
}

// Person is a registrant, guest speaker or team member (type "people").
type Person struct {
	ID, Role, FirstName, LastName, Email                    string
	Timezone, AvatarLink                                    *string
	CreatedAt, UpdatedAt                                    time.Time
	MessagesCount, QuestionsCount, VotesCount, UpVotesCount int
	// RegistrantDetail is present when the person was read through a session
	// or an event (registration data for that session).
	RegistrantDetail *RegistrantDetail
	// ReplayViewDetail is present for replay viewers.
	ReplayViewDetail *ReplayViewDetail
	// Event and Session are filled from included resources when a people list
	// was requested with include=event / include=session.
	Event   *Event
	Session *Session
}

// RegistrantDetail is a person's registration to one session.
type RegistrantDetail struct {
	EventID, SessionID, ConnectionLink, RegistrationType                      string
	CreatedAt, UpdatedAt                                                      time.Time
	Fields                                                                    []RegistrantField
	Referrer, UTMSource, UTMMedium, UTMTerm, UTMContent, UTMCampaign          *string
	BrowserVersion, BrowserName, OSName, OSVersion, ScreenHeight, ScreenWidth *string
	IPCity, IPCountryCode, IPCountryName, PasswordKey, SessionRole            *string
	Attended, HasViewedReplay, IsHighlighted, IsGuestSpeaker                  bool
	// AttendanceRate is a percentage (0–100), nil until the session ran.
	AttendanceRate *float64
	// AttendanceDuration is in seconds.
	AttendanceDuration *int
}

// RegistrantField is one answered registration field. A string value is in
// Value, an array value (multi-select) in Values (non-nil, possibly empty).
type RegistrantField struct {
	ID, Type string
	Value    *string
	Values   []string
	Required *bool
	Custom   *bool
}

// ReplayViewDetail describes replay viewing. Its full shape is undocumented,
// so the raw object is kept alongside the one known member.
type ReplayViewDetail struct {
	WatchedAt time.Time
	Raw       json.RawMessage
}

// User is a team member of the workspace (type "users").
type User struct {
	ID, Role, FirstName, LastName, Email, Locale                       string
	AvatarLink, WebsiteLink, LinkedinLink, FacebookLink, TwitterHandle *string
	PendingInvite                                                      bool
	CreatedAt, UpdatedAt                                               time.Time
}

// Webhook is a webhook subscription (type "webhooks").
type Webhook struct {
	ID, URL, Event       string
	CreatedAt, UpdatedAt time.Time
}

// Job is an asynchronous bulk-registration job (type "jobs"). Livestorm's
// sources name the counters differently; every variant is read.
type Job struct {
	ID, Status                                              string
	TotalItems, TotalProcessed, TotalFailed, TotalSucceeded int
	CreatedAt, UpdatedAt                                    time.Time
	// OrganizationID, Source, Input and AvatarLink appear in some captured
	// bulk responses only.
	OrganizationID, Source string
	AvatarLink             *string
	Input                  json.RawMessage
}

// JobTask is the outcome of one item of a bulk job (type "tasks").
type JobTask struct {
	ID, Status, Email    string
	PersonID             *string
	Errors               []ErrorObject
	CreatedAt, UpdatedAt time.Time
	// Input echoes the task as submitted (fields, referrer, utm_*), raw.
	Input json.RawMessage
}

// Tag is an event tag (type "tags").
type Tag struct{ ID, Title string }

// Recording is a session recording with a signed, expiring download URL.
type Recording struct {
	ID, EventID, SessionID, FileType, MimeType, FileName, URL string
	FileSize                                                  int64
	URLGeneratedAt                                            time.Time
	URLExpiresIn                                              time.Duration
}

// ChatMessage is a message of a session's chat.
type ChatMessage struct {
	ID, TextContent, AuthorID        string
	CreatedAt                        time.Time
	FromGuestSpeaker, FromTeamMember bool
	// Author is filled from included people (include=people).
	Author *Person
}

// Question is a Q&A question asked during a session.
type Question struct {
	ID, EventID, SessionID, Question  string
	Response                          *string
	ResponseOrally                    bool
	RespondedAt, CreatedAt, UpdatedAt time.Time
	AskerID, ResponderID              string
	// Asker and Responder are filled from included people.
	Asker, Responder *Person
}

// Organization is the workspace (type "organizations").
type Organization struct {
	ID, Name, Slug string
	ParentID       *string
}

// Me is the answer of GET /me: Livestorm documents an organizations
// resource, OAuth integrations see a user with its organization; either or
// both are set.
type Me struct {
	User         *User
	Organization *Organization
}

// PeopleAttribute is a registration attribute definition (type
// "people_attributes"); its Slug is the id used in Registration fields.
type PeopleAttribute struct {
	ID, Slug, Name, Type             string
	Builtin                          bool
	Description, Placeholder, UserID *string
	Options                          []PeopleAttributeOption
	CreatedAt, UpdatedAt             time.Time
}

// PeopleAttributeOption is one choice of a select attribute.
type PeopleAttributeOption struct {
	Label, Value string
	Position     int
}
