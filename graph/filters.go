package graph

import (
	"strings"
	"time"

	"github.com/livestorm-gateway/gateway/graph/model"
	"github.com/livestorm-gateway/gateway/livestorm"
	"github.com/livestorm-gateway/gateway/loaders"
)

// Conversions from the schema's filter inputs to the loaders' comparable filter keys.

func str(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func timeRange(cs, cu, us, uu *time.Time) loaders.Range {
	return loaders.Range{
		CreatedSince: loaders.UnixOf(cs), CreatedUntil: loaders.UnixOf(cu),
		UpdatedSince: loaders.UnixOf(us), UpdatedUntil: loaders.UnixOf(uu),
	}
}

func eventsFilter(f *model.EventFilter) loaders.EventsFilter {
	if f == nil {
		return loaders.EventsFilter{}
	}
	return loaders.EventsFilter{
		Title: str(f.Title), EveryoneCanSpeak: loaders.BoolOf(f.EveryoneCanSpeak),
		SchedulingStatus: upstreamValue(f.SchedulingStatus), Tags: strings.Join(f.Tags, ","),
		Range: timeRange(f.CreatedSince, f.CreatedUntil, f.UpdatedSince, f.UpdatedUntil),
	}
}

func sessionsFilter(f *model.SessionFilter) loaders.SessionsFilter {
	if f == nil {
		return loaders.SessionsFilter{}
	}
	return loaders.SessionsFilter{
		Status: upstreamValue(f.Status), DateFrom: loaders.UnixOf(f.DateFrom), DateTo: loaders.UnixOf(f.DateTo),
		IncludeBreakoutRooms: loaders.BoolOf(f.IncludeBreakoutRooms),
		Range:                timeRange(f.CreatedSince, f.CreatedUntil, f.UpdatedSince, f.UpdatedUntil),
	}
}

// matchingSessions are the sessions of all that f keeps (pointers into all: a session
// is a large struct, and an event page lists each event's sessions).
func matchingSessions(all []livestorm.Session, f loaders.SessionsFilter) []*livestorm.Session {
	out := make([]*livestorm.Session, 0, len(all))
	for i := range all {
		if matchSession(&all[i], f) {
			out = append(out, &all[i])
		}
	}
	return out
}

// matchSession applies a session filter to a session already in memory (the sessions
// embedded in an event), with Livestorm's semantics.
func matchSession(s *livestorm.Session, f loaders.SessionsFilter) bool {
	within := func(t time.Time, from, to loaders.Unix) bool {
		return (from == 0 || t.Unix() >= int64(from)) && (to == 0 || t.Unix() <= int64(to))
	}
	switch {
	case f.Status != "" && s.Status != f.Status:
		return false
	case f.IncludeBreakoutRooms != "true" && s.BreakoutRoomParentSessionID != nil && *s.BreakoutRoomParentSessionID != "":
		return false
	case !within(s.EstimatedStartedAt, f.DateFrom, f.DateTo):
		return false
	case !within(s.CreatedAt, f.CreatedSince, f.CreatedUntil):
		return false
	case !within(s.UpdatedAt, f.UpdatedSince, f.UpdatedUntil):
		return false
	}
	return true
}

func sessionPeopleFilter(f *model.SessionPeopleFilter) loaders.SessionPeopleFilter {
	if f == nil {
		return loaders.SessionPeopleFilter{}
	}
	return loaders.SessionPeopleFilter{
		Role: upstreamValue(f.Role), Attended: loaders.BoolOf(f.Attended), Email: str(f.Email),
		Range: timeRange(f.CreatedSince, f.CreatedUntil, f.UpdatedSince, f.UpdatedUntil),
	}
}

func eventPeopleFilter(f *model.EventPeopleFilter) loaders.PeopleFilter {
	if f == nil {
		return loaders.PeopleFilter{}
	}
	return loaders.PeopleFilter{Role: upstreamValue(f.Role), Email: str(f.Email)}
}

func peopleFilter(f *model.PeopleFilter) loaders.PeopleFilter {
	if f == nil {
		return loaders.PeopleFilter{}
	}
	return loaders.PeopleFilter{Role: upstreamValue(f.Role), Email: str(f.Email)}
}

func usersFilter(f *model.UserFilter) loaders.UsersFilter {
	if f == nil {
		return loaders.UsersFilter{}
	}
	return loaders.UsersFilter{Role: upstreamValue(f.Role), PendingInvite: loaders.BoolOf(f.PendingInvite), Email: str(f.Email)}
}

func webhooksFilter(f *model.WebhookFilter) string {
	if f == nil || f.Event == nil {
		return ""
	}
	return eventName(string(*f.Event))
}

func peopleAttributesFilter(f *model.PeopleAttributeFilter, order []model.PeopleAttributeOrder) (loaders.PeopleAttributesFilter, error) {
	var out loaders.PeopleAttributesFilter
	if f != nil {
		userID, err := optionalLivestormID("filter.userId", kindUser, f.UserID)
		if err != nil {
			return out, err
		}
		out = loaders.PeopleAttributesFilter{
			Builtin: loaders.BoolOf(f.Builtin), Description: str(f.Description), Name: str(f.Name),
			Placeholder: str(f.Placeholder), Slug: str(f.Slug), Type: upstreamValue(f.Type), UserID: str(userID),
		}
	}
	sorts := make([]string, 0, len(order))
	for _, o := range order {
		field := strings.ToLower(string(o.Field))
		if o.Direction != nil && *o.Direction == model.OrderDirectionDesc {
			field = "-" + field
		}
		sorts = append(sorts, field)
	}
	out.Sort = strings.Join(sorts, ",")
	return out, nil
}
