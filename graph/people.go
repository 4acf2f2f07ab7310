package graph

import (
	"context"

	"github.com/livestorm-gateway/gateway/graph/model"
	"github.com/livestorm-gateway/gateway/livestorm"
	"github.com/livestorm-gateway/gateway/loaders"
)

// A session's (or an event's) people and its registrations are one Livestorm list read
// through one loader: `people` shows its rows as people, `registrations` as
// registrations, and selecting both costs the same upstream pages once.

func sessionPeople(ctx context.Context, s *livestorm.Session, first *int, after *string, last *int, before *string,
	filter *model.SessionPeopleFilter,
) (*model.Connection[livestorm.Person], error) {
	w, err := newWindow(first, after, last, before)
	if err != nil {
		return nil, err
	}
	f := sessionPeopleFilter(filter)
	return pagedConnection(ctx, w, loaders.For(ctx).SessionPeoplePage, func(p int) loaders.PageKey[loaders.SessionPeopleFilter] {
		return loaders.PageKey[loaders.SessionPeopleFilter]{Parent: s.ID, Filter: f, Page: p}
	})
}

func eventPeople(ctx context.Context, ev *livestorm.Event, first *int, after *string, last *int, before *string,
	filter *model.EventPeopleFilter,
) (*model.Connection[livestorm.Person], error) {
	w, err := newWindow(first, after, last, before)
	if err != nil {
		return nil, err
	}
	f := eventPeopleFilter(filter)
	return pagedConnection(ctx, w, loaders.For(ctx).EventPeoplePage, func(p int) loaders.PageKey[loaders.PeopleFilter] {
		return loaders.PageKey[loaders.PeopleFilter]{Parent: ev.ID, Filter: f, Page: p}
	})
}

// registrations shows a people connection's rows as registrations read through session
// sessionID or event eventID.
func registrations(c *model.Connection[livestorm.Person], err error, sessionID, eventID string) (*model.Connection[model.Registration], error) {
	if err != nil {
		return nil, err
	}
	return mapConnection(c, func(p *livestorm.Person) *model.Registration {
		return model.NewRegistration(p, sessionID, eventID)
	}), nil
}

// registrationSession and registrationEvent resolve what a registration names (the
// session is usually the parent the row was read through, already loaded).
func registrationSession(ctx context.Context, r *model.Registration) (*livestorm.Session, error) {
	if r.SessionID == "" {
		return nil, nil // an event-wide row: Livestorm names no session
	}
	return loaders.For(ctx).SessionByID.Load(ctx, r.SessionID)
}

func registrationEvent(ctx context.Context, r *model.Registration) (*livestorm.Event, error) {
	id := r.EventID
	if id == "" {
		s, err := registrationSession(ctx, r)
		if err != nil || s == nil {
			return nil, err
		}
		id = s.EventID
	}
	return loaders.For(ctx).EventByID.Load(ctx, id)
}
