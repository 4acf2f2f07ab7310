package plain

// The models carry the JSON names of the gateway's response, so that the data the
// gateway returned decodes straight into them.

// EventConnection is a page of events.
type EventConnection struct {
	TotalCount int      `json:"totalCount"`
	Nodes      []*Event `json:"nodes"`
}

// Event is a webinar.
type Event struct {
	ID       string             `json:"id"`
	Title    string             `json:"title"`
	Status   EventStatus        `json:"status"`
	Sessions *SessionConnection `json:"sessions"`
}

// SessionConnection is an event's sessions.
type SessionConnection struct {
	TotalCount int        `json:"totalCount"`
	Nodes      []*Session `json:"nodes"`
}

// Session is one occurrence of an event, with every registration it has in memory.
type Session struct {
	ID               string                  `json:"id"`
	Name             *string                 `json:"name"`
	Status           SessionStatus           `json:"status"`
	RegistrantsCount int                     `json:"registrantsCount"`
	All              *RegistrationConnection `json:"registrations"`
}

// RegistrationConnection is a page of a session's registrations.
type RegistrationConnection struct {
	TotalCount int             `json:"totalCount"`
	Nodes      []*Registration `json:"nodes"`
}

// Registration is a person registered to a session.
type Registration struct {
	ID       string  `json:"id"`
	Attended bool    `json:"attended"`
	Person   *Person `json:"person"`
}

// Person is a registrant.
type Person struct {
	ID        string  `json:"id"`
	FirstName *string `json:"firstName"`
	LastName  *string `json:"lastName"`
	Email     *string `json:"email"`
}
