package loaders

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/livestorm-gateway/gateway/livestorm"
	"github.com/livestorm-gateway/gateway/tags"
)

// PageSize is the page size of every list call. Always asking for Livestorm's maximum
// means one cached page serves every `first` up to 50 and a given item is always on the
// same page, whatever the GraphQL window.
const PageSize = 50

// Bool is a tri-state filter value usable in comparable keys: "", "true" or "false".
type Bool string

// BoolOf converts an optional GraphQL boolean.
func BoolOf(b *bool) Bool {
	if b == nil {
		return ""
	}
	if *b {
		return "true"
	}
	return "false"
}

func (b Bool) ptr() *bool {
	if b == "" {
		return nil
	}
	v := b == "true"
	return &v
}

// Unix is a filter instant in Unix seconds (0 = unset), comparable unlike time.Time.
type Unix int64

// UnixOf converts an optional GraphQL DateTime.
func UnixOf(t *time.Time) Unix {
	if t == nil || t.IsZero() {
		return 0
	}
	return Unix(t.Unix())
}

func (u Unix) time() time.Time {
	if u == 0 {
		return time.Time{}
	}
	return time.Unix(int64(u), 0).UTC()
}

// Range is a created/updated window, as Livestorm's filter[created_since] & co.
type Range struct{ CreatedSince, CreatedUntil, UpdatedSince, UpdatedUntil Unix }

func (r Range) upstream() livestorm.TimeRange {
	return livestorm.TimeRange{
		CreatedSince: r.CreatedSince.time(), CreatedUntil: r.CreatedUntil.time(),
		UpdatedSince: r.UpdatedSince.time(), UpdatedUntil: r.UpdatedUntil.time(),
	}
}

// EventsFilter mirrors GET /events filters.
type EventsFilter struct {
	Title            string
	EveryoneCanSpeak Bool
	SchedulingStatus string
	Tags             string // comma-separated, as Livestorm takes them
	Range
}

// SessionsFilter mirrors GET /sessions and GET /events/{id}/sessions filters.
type SessionsFilter struct {
	Status               string
	DateFrom, DateTo     Unix
	IncludeBreakoutRooms Bool
	Range
}

// SessionPeopleFilter mirrors GET /sessions/{id}/people filters.
type SessionPeopleFilter struct {
	Role     string
	Attended Bool
	Email    string
	Range
}

// PeopleFilter mirrors GET /people and GET /events/{id}/people filters.
type PeopleFilter struct{ Role, Email string }

// UsersFilter mirrors GET /users filters.
type UsersFilter struct {
	Role          string
	PendingInvite Bool
	Email         string
}

// PeopleAttributesFilter mirrors GET /people_attributes filters and sort.
type PeopleAttributesFilter struct {
	Sort                                               string
	Builtin                                            Bool
	Description, Name, Placeholder, Slug, Type, UserID string
}

// PageKey identifies one upstream page of a list: the parent resource (if any), the
// filter and the page number. F is one of the filter types above.
type PageKey[F comparable] struct {
	Parent string
	Filter F
	Page   int
}

// String is the page's cache key. Unfiltered pages, the usual case, skip fmt (a
// formatted filter always starts with "{", so the two forms never collide).
func (k PageKey[F]) String() string {
	var none F
	if k.Filter == none {
		return k.Parent + "||" + strconv.Itoa(k.Page)
	}
	return fmt.Sprintf("%s|%+v|%d", k.Parent, k.Filter, k.Page)
}

// RegistrationKey names one registration: a person's to a session (GET
// /sessions/{id}/people/{person_id}) or, for event-wide rows without a session, to an
// event (GET /events/{id}/people/{person_id}).
type RegistrationKey struct{ SessionID, EventID, PersonID string }

func (k RegistrationKey) String() string { return k.SessionID + "|" + k.EventID + "|" + k.PersonID }

// tags are those of the lists the registration appears in, which every change to it
// evicts (tags.Registration, tags.Attendance), and of the person.
func (k RegistrationKey) tags() []string {
	if k.SessionID != "" {
		return []string{tags.SessionPeople(k.SessionID), tags.Person(k.PersonID)}
	}
	return []string{tags.EventPeople(k.EventID), tags.Person(k.PersonID)}
}

func page(n int) livestorm.Page { return livestorm.Page{Number: n, Size: PageSize} }

func splitTags(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}
