package model

import "time"

// Hand-written input models: the create/update and register/bulk/update variants share
// their attribute sets, so one conversion serves them all (gqlgen binds the schema's
// inputs to these through gqlgen.yml).

// EventAttributes are the event attributes shared by createEvent and updateEvent.
type EventAttributes struct {
	Title                           *string      `json:"title,omitempty"`
	OwnerID                         *string      `json:"ownerId,omitempty"`
	Slug                            *string      `json:"slug,omitempty"`
	Status                          *EventStatus `json:"status,omitempty"`
	Description                     *string      `json:"description,omitempty"`
	EveryoneCanSpeak                *bool        `json:"everyoneCanSpeak,omitempty"`
	DetailedRegistrationPageEnabled *bool        `json:"detailedRegistrationPageEnabled,omitempty"`
	LightRegistrationPageEnabled    *bool        `json:"lightRegistrationPageEnabled,omitempty"`
	RecordingEnabled                *bool        `json:"recordingEnabled,omitempty"`
	RecordingPublic                 *bool        `json:"recordingPublic,omitempty"`
	ShowInCompanyPage               *bool        `json:"showInCompanyPage,omitempty"`
	ChatEnabled                     *bool        `json:"chatEnabled,omitempty"`
	QuestionsEnabled                *bool        `json:"questionsEnabled,omitempty"`
	PollsEnabled                    *bool        `json:"pollsEnabled,omitempty"`
}

// CreateEventInput is createEvent's input.
type CreateEventInput struct {
	EventAttributes
	CopyFromEventID *string           `json:"copyFromEventId,omitempty"`
	Sessions        []NewSessionInput `json:"sessions,omitempty"`
}

// UpdateEventInput is updateEvent's input.
type UpdateEventInput struct {
	ID string `json:"id"`
	EventAttributes
}

// SessionAttributes are the session attributes shared by the session inputs.
type SessionAttributes struct {
	EstimatedStartedAt *time.Time `json:"estimatedStartedAt,omitempty"`
	Timezone           *string    `json:"timezone,omitempty"`
	Name               *string    `json:"name,omitempty"`
	TeamMemberIDs      []string   `json:"teamMemberIds,omitempty"`
	EmbedURL           *string    `json:"embedUrl,omitempty"`
}

// NewSessionInput is a session scheduled with createEvent.
type NewSessionInput struct{ SessionAttributes }

// CreateSessionInput is createSession's input.
type CreateSessionInput struct {
	EventID string `json:"eventId"`
	SessionAttributes
}

// UpdateSessionInput is updateSession's input.
type UpdateSessionInput struct {
	ID string `json:"id"`
	SessionAttributes
}

// RegistrationAttributes are what a registration carries besides its session and email.
type RegistrationAttributes struct {
	FirstName   *string                  `json:"firstName,omitempty"`
	LastName    *string                  `json:"lastName,omitempty"`
	Fields      []RegistrationFieldInput `json:"fields,omitempty"`
	Referrer    *string                  `json:"referrer,omitempty"`
	UtmSource   *string                  `json:"utmSource,omitempty"`
	UtmMedium   *string                  `json:"utmMedium,omitempty"`
	UtmCampaign *string                  `json:"utmCampaign,omitempty"`
	UtmTerm     *string                  `json:"utmTerm,omitempty"`
	UtmContent  *string                  `json:"utmContent,omitempty"`
}

// RegisterPersonInput is registerPerson's input.
type RegisterPersonInput struct {
	SessionID string `json:"sessionId"`
	Email     string `json:"email"`
	RegistrationAttributes
}

// BulkRegistrationInput is one registration of bulkRegister.
type BulkRegistrationInput struct {
	Email string `json:"email"`
	RegistrationAttributes
}

// UpdateRegistrationInput is updateRegistration's input.
type UpdateRegistrationInput struct {
	SessionID string `json:"sessionId"`
	PersonID  string `json:"personId"`
	RegistrationAttributes
}
