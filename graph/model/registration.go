package model

import "github.com/livestorm-gateway/gateway/livestorm"

// Node is any object of the graph that implements the schema's Node interface (the
// livestorm resource types and Registration); the executor tells them apart by type.
type Node any

// Registration is one person's registration to one session: a row of a session's (or
// an event's) people list, or a people.* webhook's person. Livestorm sends a registration
// as the person with a registrant_detail; the graph separates the two so that Person only
// carries what is the same wherever it is reached.
//
// The embedded detail is never nil. Its SessionID and EventID are completed from where
// the row was read (in a copy, only when Livestorm left them out), so that a
// registration's identity never depends on whether Livestorm repeated them in the row.
type Registration struct {
	*livestorm.RegistrantDetail
	// Person is the row as Livestorm sent it: the person, and the registration's
	// counters and replay detail.
	Person *livestorm.Person
}

// NewRegistration wraps a people row read through session sessionID or event eventID
// (either may be empty when the row names it).
func NewRegistration(p *livestorm.Person, sessionID, eventID string) *Registration {
	d := p.RegistrantDetail
	if d == nil || (d.SessionID == "" && sessionID != "") || (d.EventID == "" && eventID != "") {
		var c livestorm.RegistrantDetail
		if d != nil {
			c = *d
		}
		if c.SessionID == "" {
			c.SessionID = sessionID
		}
		if c.EventID == "" {
			c.EventID = eventID
		}
		d = &c
	}
	return &Registration{RegistrantDetail: d, Person: p}
}

// Utm, Device and Location are views of the detail (schema types Utm, Device,
// GeoLocation); methods rather than resolvers, so they cost no goroutine per row.
func (r *Registration) Utm() *livestorm.RegistrantDetail      { return r.RegistrantDetail }
func (r *Registration) Device() *livestorm.RegistrantDetail   { return r.RegistrantDetail }
func (r *Registration) Location() *livestorm.RegistrantDetail { return r.RegistrantDetail }

// Counters and replay detail of the registration: Livestorm puts them on the row's person.
func (r *Registration) MessagesCount() int  { return r.Person.MessagesCount }
func (r *Registration) QuestionsCount() int { return r.Person.QuestionsCount }
func (r *Registration) VotesCount() int     { return r.Person.VotesCount }
func (r *Registration) UpVotesCount() int   { return r.Person.UpVotesCount }
func (r *Registration) ReplayViewDetail() *livestorm.ReplayViewDetail {
	return r.Person.ReplayViewDetail
}
