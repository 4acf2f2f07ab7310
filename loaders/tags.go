package loaders

// Cache tags. Every cached answer carries the tags of what it shows, so a change that
// Livestorm reports (webhook) or that the gateway makes (mutation) evicts exactly the
// answers that may now be wrong: the resource itself, the lists it appears in and the
// counters derived from it.
const (
	TagEvents           = "events"           // every GET /events page (they embed sessions and counters)
	TagSessions         = "sessions"         // every GET /sessions page
	TagPeople           = "people"           // every GET /people page
	TagUsers            = "users"            // the team-member list
	TagWebhooks         = "webhooks"         // every GET /webhooks page
	TagPeopleAttributes = "peopleAttributes" // the people-attribute list
	TagOrganization     = "organization"
)

// TagEvent tags an event document (it embeds its sessions, their counters and its tags).
func TagEvent(id string) string { return "event:" + id }

// TagEventPeople tags every page of an event's people.
func TagEventPeople(eventID string) string { return "event:" + eventID + "/people" }

// TagSession tags a session document (status, counters).
func TagSession(id string) string { return "session:" + id }

// TagSessionPeople tags every page of a session's people.
func TagSessionPeople(sessionID string) string { return "session:" + sessionID + "/people" }

// TagSessionSatellites tags a session's recordings, chat messages and questions.
func TagSessionSatellites(sessionID string) string { return "session:" + sessionID + "/satellites" }

// TagPerson tags a person document.
func TagPerson(id string) string { return "person:" + id }

// TagJob tags a job and its tasks.
func TagJob(id string) string { return "job:" + id }

// RegistrationTags are the answers a registration (or unregistration) of a person to a
// session changes: the session's people and counter, the event's people and the sums and
// embedded counters of the event, and the lists that embed those counters.
func RegistrationTags(eventID, sessionID, personID string) []string {
	tags := []string{TagSession(sessionID), TagSessionPeople(sessionID), TagSessions, TagPeople, TagEvents}
	if eventID != "" {
		tags = append(tags, TagEvent(eventID), TagEventPeople(eventID))
	}
	if personID != "" {
		tags = append(tags, TagPerson(personID))
	}
	return tags
}

// SessionTags are the answers a change of a session (created, started, ended, updated,
// deleted) affects: the session, its event (which embeds it) and the lists.
func SessionTags(eventID, sessionID string) []string {
	tags := []string{TagSession(sessionID), TagSessions, TagEvents}
	if eventID != "" {
		tags = append(tags, TagEvent(eventID))
	}
	return tags
}

// AttendanceTags are the answers an attendance report changes: the registration rows and
// the session's attendee counter.
func AttendanceTags(eventID, sessionID, personID string) []string {
	return append(RegistrationTags(eventID, sessionID, personID), TagSessionSatellites(sessionID))
}

// EventTags are the answers a change of an event affects.
func EventTags(eventID string) []string {
	return []string{TagEvent(eventID), TagEvents, TagSessions}
}
