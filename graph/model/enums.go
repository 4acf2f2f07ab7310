package model

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"
)

// The enums read straight from Livestorm's string fields on the hot path of a page
// (an event's status and scheduling status, a session's status, a person's role).
// gqlgen.yml binds each of them twice: to the Go type below wherever the schema takes
// the enum as input (filters, mutation inputs), and, for output fields, to the
// Livestorm string itself through a function marshaler (MarshalXName) that maps
// Livestorm's lower_snake_case value to the schema's name, UNKNOWN for a value this
// gateway does not know yet. So those fields need no resolver, and gqlgen writes them
// inline instead of on a goroutine per object. (Binding a schema type to a Go type
// makes gqlgen stop generating it: these types are the ones it generated.)

// EventStatus is whether an event is published.
type EventStatus string

// Values of EventStatus.
const (
	EventStatusDraft     EventStatus = "DRAFT"
	EventStatusPublished EventStatus = "PUBLISHED"
	EventStatusUnknown   EventStatus = "UNKNOWN"
)

// AllEventStatus lists every EventStatus.
var AllEventStatus = []EventStatus{EventStatusDraft, EventStatusPublished, EventStatusUnknown}

// EventSchedulingStatus is where an event stands in its schedule.
type EventSchedulingStatus string

// Values of EventSchedulingStatus.
const (
	EventSchedulingStatusLive         EventSchedulingStatus = "LIVE"
	EventSchedulingStatusUpcoming     EventSchedulingStatus = "UPCOMING"
	EventSchedulingStatusOnDemand     EventSchedulingStatus = "ON_DEMAND"
	EventSchedulingStatusEnded        EventSchedulingStatus = "ENDED"
	EventSchedulingStatusNotStarted   EventSchedulingStatus = "NOT_STARTED"
	EventSchedulingStatusDraft        EventSchedulingStatus = "DRAFT"
	EventSchedulingStatusCancelled    EventSchedulingStatus = "CANCELLED"
	EventSchedulingStatusNotScheduled EventSchedulingStatus = "NOT_SCHEDULED"
	EventSchedulingStatusUnknown      EventSchedulingStatus = "UNKNOWN"
)

// AllEventSchedulingStatus lists every EventSchedulingStatus.
var AllEventSchedulingStatus = []EventSchedulingStatus{
	EventSchedulingStatusLive, EventSchedulingStatusUpcoming, EventSchedulingStatusOnDemand,
	EventSchedulingStatusEnded, EventSchedulingStatusNotStarted, EventSchedulingStatusDraft,
	EventSchedulingStatusCancelled, EventSchedulingStatusNotScheduled, EventSchedulingStatusUnknown,
}

// SessionStatus is where a session stands.
type SessionStatus string

// Values of SessionStatus.
const (
	SessionStatusUpcoming       SessionStatus = "UPCOMING"
	SessionStatusLive           SessionStatus = "LIVE"
	SessionStatusOnDemand       SessionStatus = "ON_DEMAND"
	SessionStatusPast           SessionStatus = "PAST"
	SessionStatusPastNotStarted SessionStatus = "PAST_NOT_STARTED"
	SessionStatusCanceled       SessionStatus = "CANCELED"
	SessionStatusDraft          SessionStatus = "DRAFT"
	SessionStatusUnknown        SessionStatus = "UNKNOWN"
)

// AllSessionStatus lists every SessionStatus.
var AllSessionStatus = []SessionStatus{
	SessionStatusUpcoming, SessionStatusLive, SessionStatusOnDemand, SessionStatusPast,
	SessionStatusPastNotStarted, SessionStatusCanceled, SessionStatusDraft, SessionStatusUnknown,
}

// PersonRole is a person's role in an event.
type PersonRole string

// Values of PersonRole.
const (
	PersonRoleParticipant PersonRole = "PARTICIPANT"
	PersonRoleTeamMember  PersonRole = "TEAM_MEMBER"
	PersonRoleUnknown     PersonRole = "UNKNOWN"
)

// AllPersonRole lists every PersonRole.
var AllPersonRole = []PersonRole{PersonRoleParticipant, PersonRoleTeamMember, PersonRoleUnknown}

var (
	eventStatusNames           = newEnumNames(AllEventStatus, EventStatusUnknown)
	eventSchedulingStatusNames = newEnumNames(AllEventSchedulingStatus, EventSchedulingStatusUnknown)
	sessionStatusNames         = newEnumNames(AllSessionStatus, SessionStatusUnknown)
	personRoleNames            = newEnumNames(AllPersonRole, PersonRoleUnknown)
)

// MarshalEventStatusName writes a Livestorm event status ("published") as the schema's
// EventStatus (PUBLISHED).
func MarshalEventStatusName(v string) graphql.Marshaler { return eventStatusNames.marshal(v) }

// UnmarshalEventStatusName reads an EventStatus as Livestorm's value.
func UnmarshalEventStatusName(v any) (string, error) { return eventStatusNames.unmarshal(v) }

// MarshalEventSchedulingStatusName writes a Livestorm scheduling status ("on_demand")
// as the schema's EventSchedulingStatus (ON_DEMAND).
func MarshalEventSchedulingStatusName(v string) graphql.Marshaler {
	return eventSchedulingStatusNames.marshal(v)
}

// UnmarshalEventSchedulingStatusName reads an EventSchedulingStatus as Livestorm's value.
func UnmarshalEventSchedulingStatusName(v any) (string, error) {
	return eventSchedulingStatusNames.unmarshal(v)
}

// MarshalSessionStatusName writes a Livestorm session status ("past_not_started") as
// the schema's SessionStatus (PAST_NOT_STARTED).
func MarshalSessionStatusName(v string) graphql.Marshaler { return sessionStatusNames.marshal(v) }

// UnmarshalSessionStatusName reads a SessionStatus as Livestorm's value.
func UnmarshalSessionStatusName(v any) (string, error) { return sessionStatusNames.unmarshal(v) }

// MarshalPersonRoleName writes a Livestorm person role ("team_member") as the schema's
// PersonRole (TEAM_MEMBER).
func MarshalPersonRoleName(v string) graphql.Marshaler { return personRoleNames.marshal(v) }

// UnmarshalPersonRoleName reads a PersonRole as Livestorm's value.
func UnmarshalPersonRoleName(v any) (string, error) { return personRoleNames.unmarshal(v) }

// enumNames maps Livestorm's values to a schema enum's names, with the marshaler of
// each name built once, so that writing a value allocates nothing.
type enumNames struct {
	name    string                       // the schema enum, for errors
	values  map[string]graphql.Marshaler // Livestorm value ("past_not_started") -> name
	names   map[string]graphql.Marshaler // schema name ("PAST_NOT_STARTED") -> name
	unknown graphql.Marshaler            // the UNKNOWN name
}

// valid reports whether s is one of the enum's schema names.
func (n *enumNames) valid(s string) bool {
	_, ok := n.names[s]
	return ok
}

func newEnumNames[E ~string](all []E, unknown E) *enumNames {
	n := &enumNames{
		name:    fmt.Sprintf("%T", unknown)[len("model."):],
		values:  make(map[string]graphql.Marshaler, len(all)),
		names:   make(map[string]graphql.Marshaler, len(all)),
		unknown: graphql.MarshalString(string(unknown)),
	}
	for _, e := range all {
		m := graphql.MarshalString(string(e))
		n.names[string(e)] = m
		if e != unknown {
			n.values[strings.ToLower(string(e))] = m
		}
	}
	return n
}

// marshal converts like graph.enumOf: upper case, dots to underscores, and UNKNOWN
// for a value the enum does not have.
func (n *enumNames) marshal(v string) graphql.Marshaler {
	if m, ok := n.values[v]; ok {
		return m
	}
	if m, ok := n.names[strings.ToUpper(strings.ReplaceAll(v, ".", "_"))]; ok {
		return m
	}
	return n.unknown
}

func (n *enumNames) unmarshal(v any) (string, error) {
	s, ok := v.(string)
	if !ok || !n.valid(s) {
		return "", fmt.Errorf("%v is not a valid %s", v, n.name)
	}
	return strings.ToLower(s), nil
}

// The Go enum types' methods, as gqlgen generates them.

func (e EventStatus) IsValid() bool             { return eventStatusNames.valid(string(e)) }
func (e EventStatus) String() string            { return string(e) }
func (e *EventStatus) UnmarshalGQL(v any) error { return unmarshalEnum(v, e, eventStatusNames) }
func (e EventStatus) MarshalGQL(w io.Writer)    { writeQuoted(w, string(e)) }
func (e *EventStatus) UnmarshalJSON(b []byte) error {
	return unmarshalEnumJSON(b, e.UnmarshalGQL)
}
func (e EventStatus) MarshalJSON() ([]byte, error) { return marshalEnumJSON(e) }

func (e EventSchedulingStatus) IsValid() bool {
	return eventSchedulingStatusNames.valid(string(e))
}
func (e EventSchedulingStatus) String() string { return string(e) }
func (e *EventSchedulingStatus) UnmarshalGQL(v any) error {
	return unmarshalEnum(v, e, eventSchedulingStatusNames)
}
func (e EventSchedulingStatus) MarshalGQL(w io.Writer) { writeQuoted(w, string(e)) }
func (e *EventSchedulingStatus) UnmarshalJSON(b []byte) error {
	return unmarshalEnumJSON(b, e.UnmarshalGQL)
}
func (e EventSchedulingStatus) MarshalJSON() ([]byte, error) { return marshalEnumJSON(e) }

func (e SessionStatus) IsValid() bool             { return sessionStatusNames.valid(string(e)) }
func (e SessionStatus) String() string            { return string(e) }
func (e *SessionStatus) UnmarshalGQL(v any) error { return unmarshalEnum(v, e, sessionStatusNames) }
func (e SessionStatus) MarshalGQL(w io.Writer)    { writeQuoted(w, string(e)) }
func (e *SessionStatus) UnmarshalJSON(b []byte) error {
	return unmarshalEnumJSON(b, e.UnmarshalGQL)
}
func (e SessionStatus) MarshalJSON() ([]byte, error) { return marshalEnumJSON(e) }

func (e PersonRole) IsValid() bool             { return personRoleNames.valid(string(e)) }
func (e PersonRole) String() string            { return string(e) }
func (e *PersonRole) UnmarshalGQL(v any) error { return unmarshalEnum(v, e, personRoleNames) }
func (e PersonRole) MarshalGQL(w io.Writer)    { writeQuoted(w, string(e)) }
func (e *PersonRole) UnmarshalJSON(b []byte) error {
	return unmarshalEnumJSON(b, e.UnmarshalGQL)
}
func (e PersonRole) MarshalJSON() ([]byte, error) { return marshalEnumJSON(e) }

func unmarshalEnum[E ~string](v any, e *E, names *enumNames) error {
	s, ok := v.(string)
	if !ok {
		return fmt.Errorf("enums must be strings")
	}
	*e = E(s)
	if !names.valid(s) {
		return fmt.Errorf("%s is not a valid %s", s, names.name)
	}
	return nil
}

func unmarshalEnumJSON(b []byte, unmarshalGQL func(any) error) error {
	s, err := strconv.Unquote(string(b))
	if err != nil {
		return err
	}
	return unmarshalGQL(s)
}

func marshalEnumJSON(m graphql.Marshaler) ([]byte, error) {
	var buf bytes.Buffer
	m.MarshalGQL(&buf)
	return buf.Bytes(), nil
}

func writeQuoted(w io.Writer, s string) { _, _ = io.WriteString(w, strconv.Quote(s)) }
