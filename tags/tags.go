// Package tags names the cache tags of Livestorm answers, and which tags a change
// evicts.
//
// Every cached answer carries the tags of what it shows, so a change that Livestorm
// reports (webhook) or that the gateway makes (mutation) evicts exactly the answers that
// may now be wrong: the resource itself, the lists it appears in and the counters derived
// from it.
package tags

// Tags shared by whole lists.
const (
	Events           = "events"           // every GET /events page (they embed sessions and counters)
	Sessions         = "sessions"         // every GET /sessions page
	People           = "people"           // every GET /people page
	Users            = "users"            // the team-member list
	Webhooks         = "webhooks"         // every GET /webhooks page
	PeopleAttributes = "peopleAttributes" // the people-attribute list
	Organization     = "organization"
)

// Event tags an event document (it embeds its sessions, their counters and its tags).
func Event(id string) string { return "event:" + id }

// EventPeople tags every page of an event's people.
func EventPeople(eventID string) string { return "event:" + eventID + "/people" }

// Session tags a session document (status, counters).
func Session(id string) string { return "session:" + id }

// SessionPeople tags every page of a session's people.
func SessionPeople(sessionID string) string { return "session:" + sessionID + "/people" }

// SessionSatellites tags a session's recordings, chat messages and questions.
func SessionSatellites(sessionID string) string { return "session:" + sessionID + "/satellites" }

// Person tags a person document.
func Person(id string) string { return "person:" + id }

// Job tags a job and its tasks.
func Job(id string) string { return "job:" + id }

// Registration lists the answers a registration (or unregistration) of a person to a
// session changes: the session's people and counter, the event's people and the sums and
// embedded counters of the event, and the lists that embed those counters.
func Registration(eventID, sessionID, personID string) []string {
	tags := []string{Session(sessionID), SessionPeople(sessionID), Sessions, People, Events}
	if eventID != "" {
		tags = append(tags, Event(eventID), EventPeople(eventID))
	}
	if personID != "" {
		tags = append(tags, Person(personID))
	}
	return tags
}

// SessionChange lists the answers a change of a session (created, started, ended, updated,
// deleted) affects: the session, its event (which embeds it) and the lists.
func SessionChange(eventID, sessionID string) []string {
	tags := []string{Session(sessionID), Sessions, Events}
	if eventID != "" {
		tags = append(tags, Event(eventID))
	}
	return tags
}

// Attendance lists the answers an attendance report changes: the registration rows and
// the session's attendee counter.
func Attendance(eventID, sessionID, personID string) []string {
	return append(Registration(eventID, sessionID, personID), SessionSatellites(sessionID))
}

// EventChange lists the answers a change of an event affects.
func EventChange(eventID string) []string {
	return []string{Event(eventID), Events, Sessions}
}

// ForWebhook lists the answers a Livestorm webhook event makes stale. Ids that the
// delivery does not carry are empty.
func ForWebhook(name, eventID, sessionID, personID, jobID string) []string {
	switch name {
	case "event.created", "event.published":
		return EventChange(eventID)
	case "session.created", "session.started", "session.ended":
		return SessionChange(eventID, sessionID)
	case "people.registered":
		return Registration(eventID, sessionID, personID)
	case "people.attended", "people.not_attended", "people.watched_replay":
		return Attendance(eventID, sessionID, personID)
	case "job.created", "job.ended":
		if jobID == "" {
			return nil
		}
		return []string{Job(jobID)}
	default:
		return nil
	}
}
