package livestorm

import (
	"net/url"
	"strconv"
	"strings"
	"time"
)

// List options: zero values are not sent, so the zero options object lists
// everything with Livestorm's defaults.

// TimeRange filters on creation/update instants (sent as Unix seconds).
type TimeRange struct{ CreatedSince, CreatedUntil, UpdatedSince, UpdatedUntil time.Time }

func (r TimeRange) apply(q url.Values) {
	setTime(q, "filter[created_since]", r.CreatedSince)
	setTime(q, "filter[created_until]", r.CreatedUntil)
	setTime(q, "filter[updated_since]", r.UpdatedSince)
	setTime(q, "filter[updated_until]", r.UpdatedUntil)
}

// EventListOptions filter GET /events. Tags are tag titles (any of them,
// case-insensitive); Include accepts "sessions" and "tags".
type EventListOptions struct {
	Page
	Title            string
	EveryoneCanSpeak *bool
	SchedulingStatus string
	Tags             []string
	TimeRange
	Include []string
}

func (o EventListOptions) query() (url.Values, error) {
	return pageQuery(o.Page, func(q url.Values) {
		setStr(q, "filter[title]", o.Title)
		setBool(q, "filter[everyone_can_speak]", o.EveryoneCanSpeak)
		setStr(q, "filter[scheduling_status]", o.SchedulingStatus)
		setList(q, "filter[tag]", o.Tags)
		o.TimeRange.apply(q)
		setList(q, "include", o.Include)
	})
}

// SessionListOptions filter GET /sessions and GET /events/{id}/sessions.
// DateFrom/DateTo bound estimated_started_at; Include accepts "event", "people".
type SessionListOptions struct {
	Page
	Status               string
	DateFrom, DateTo     time.Time
	IncludeBreakoutRooms *bool
	TimeRange
	Include []string
}

func (o SessionListOptions) query() (url.Values, error) {
	return pageQuery(o.Page, func(q url.Values) {
		setStr(q, "filter[status]", o.Status)
		setTime(q, "filter[date_from]", o.DateFrom)
		setTime(q, "filter[date_to]", o.DateTo)
		setBool(q, "filter[include_breakout_rooms]", o.IncludeBreakoutRooms)
		o.TimeRange.apply(q)
		setList(q, "include", o.Include)
	})
}

// SessionPeopleListOptions filter GET /sessions/{id}/people. Email is an
// exact match; Include accepts "event", "session".
type SessionPeopleListOptions struct {
	Page
	Role     string
	Attended *bool
	Email    string
	TimeRange
	Include []string
}

func (o SessionPeopleListOptions) query() (url.Values, error) {
	return pageQuery(o.Page, func(q url.Values) {
		setStr(q, "filter[role]", o.Role)
		setBool(q, "filter[attended]", o.Attended)
		setStr(q, "filter[email]", o.Email)
		o.TimeRange.apply(q)
		setList(q, "include", o.Include)
	})
}

// EventPeopleListOptions filter GET /events/{id}/people.
type EventPeopleListOptions struct {
	Page
	Role, Email string
}

func (o EventPeopleListOptions) query() (url.Values, error) {
	return roleEmailQuery(o.Page, o.Role, o.Email)
}

// PeopleListOptions filter GET /people.
type PeopleListOptions struct {
	Page
	Role, Email string
}

func (o PeopleListOptions) query() (url.Values, error) {
	return roleEmailQuery(o.Page, o.Role, o.Email)
}

func roleEmailQuery(p Page, role, email string) (url.Values, error) {
	return pageQuery(p, func(q url.Values) {
		setStr(q, "filter[role]", role)
		setStr(q, "filter[email]", email)
	})
}

// ListOptions page through chat messages and questions; Include accepts
// "people" (and "asker", "responder" for questions).
type ListOptions struct {
	Page
	Include []string
}

func (o ListOptions) query() (url.Values, error) {
	return pageQuery(o.Page, func(q url.Values) {
		setList(q, "include", o.Include)
	})
}

// RecordingListOptions page through recordings. URLExpiresIn sets the signed
// URLs' lifetime (Livestorm accepts 1 h to 7 days; default 12 h); it is sent
// in whole seconds.
type RecordingListOptions struct {
	Page
	URLExpiresIn time.Duration
}

func (o RecordingListOptions) query() (url.Values, error) {
	return pageQuery(o.Page, func(q url.Values) {
		if secs := int64(o.URLExpiresIn / time.Second); secs > 0 {
			q.Set("url_expires_in", strconv.FormatInt(secs, 10))
		}
	})
}

// PeopleAttributeListOptions filter GET /people_attributes. Sort is a
// comma-separated list of slug,name,placeholder,created_at,updated_at with
// "-" for descending.
type PeopleAttributeListOptions struct {
	Page
	Sort                                               string
	Builtin                                            *bool
	Description, Name, Placeholder, Slug, Type, UserID string
}

func (o PeopleAttributeListOptions) query() (url.Values, error) {
	return pageQuery(o.Page, func(q url.Values) {
		setStr(q, "sort", o.Sort)
		setBool(q, "filter[builtin]", o.Builtin)
		setStr(q, "filter[description]", o.Description)
		setStr(q, "filter[name]", o.Name)
		setStr(q, "filter[placeholder]", o.Placeholder)
		setStr(q, "filter[slug]", o.Slug)
		setStr(q, "filter[type]", o.Type)
		setStr(q, "filter[user_id]", o.UserID)
	})
}

// UserListOptions filter GET /users (Email is case-insensitive).
type UserListOptions struct {
	Page
	Role          string
	PendingInvite *bool
	Email         string
}

func (o UserListOptions) query() (url.Values, error) {
	return pageQuery(o.Page, func(q url.Values) {
		setStr(q, "filter[role]", o.Role)
		setBool(q, "filter[pending_invite]", o.PendingInvite)
		setStr(q, "filter[email]", o.Email)
	})
}

// WebhookListOptions filter GET /webhooks by event name.
type WebhookListOptions struct {
	Page
	Event string
}

func (o WebhookListOptions) query() (url.Values, error) {
	return pageQuery(o.Page, func(q url.Values) {
		setStr(q, "filter[event]", o.Event)
	})
}

// pageQuery starts a list query with p's page parameters (a negative page is
// an error) and lets setFilters add the endpoint's own parameters.
func pageQuery(p Page, setFilters func(q url.Values)) (url.Values, error) {
	q := url.Values{}
	if err := p.apply(q); err != nil {
		return nil, err
	}
	setFilters(q)
	return q, nil
}

func setStr(q url.Values, k, v string) {
	if v != "" {
		q.Set(k, v)
	}
}

func setBool(q url.Values, k string, v *bool) {
	if v != nil {
		q.Set(k, strconv.FormatBool(*v))
	}
}

func setTime(q url.Values, k string, t time.Time) {
	if !t.IsZero() {
		q.Set(k, unixQuery(t))
	}
}

// setList sends a comma-separated list, dropping blanks.
func setList(q url.Values, k string, vs []string) {
	var keep []string
	for _, v := range vs {
		if v = strings.TrimSpace(v); v != "" {
			keep = append(keep, v)
		}
	}
	if len(keep) > 0 {
		q.Set(k, strings.Join(keep, ","))
	}
}

func includeQuery(include []string) url.Values {
	q := url.Values{}
	setList(q, "include", include)
	if len(q) == 0 {
		return nil
	}
	return q
}
