package graph

import (
	"context"
	"strings"

	"github.com/99designs/gqlgen/graphql"

	"github.com/livestorm-gateway/gateway/graph/model"
	"github.com/livestorm-gateway/gateway/livestorm"
	"github.com/livestorm-gateway/gateway/loaders"
	"github.com/livestorm-gateway/gateway/tags"
)

// write sends one write with the operation's verified credential and, once it
// succeeded, evicts the cached answers it changed (tagsOf may be nil). Writes are never
// retried here: the client does not retry them either, so a registration cannot happen
// twice.
func write[T any](ctx context.Context, call func(context.Context) (T, error), tagsOf func(T) []string) (T, error) {
	var zero T
	l := loaders.For(ctx)
	upstream, err := l.Upstream(ctx)
	if err != nil {
		return zero, err
	}
	v, err := call(upstream)
	if err != nil {
		return zero, err
	}
	if tagsOf != nil {
		if err := l.Invalidate(ctx, tagsOf(v)...); err != nil {
			return zero, err
		}
	}
	return v, nil
}

// writeOnly is write for calls that return nothing.
func writeOnly(ctx context.Context, call func(context.Context) error, tagList ...string) error {
	_, err := write(ctx, func(ctx context.Context) (struct{}, error) { return struct{}{}, call(ctx) },
		func(struct{}) []string { return tagList })
	return err
}

// changeTag adds or removes an event's tag.
func (r *mutationResolver) changeTag(ctx context.Context, input model.EventTagInput, add bool) (*model.EventTagPayload, error) {
	var v validator
	v.ref("input.eventId", kindEvent, &input.EventID)
	v.text("input.title", &input.Title, maxTitleLen, true)
	if v.err != nil {
		return nil, v.err
	}
	var tag *livestorm.Tag
	if !add {
		// Livestorm removes by title; the payload names the tag removed, as the event
		// knew it (usually cached).
		ev, err := loaders.For(ctx).EventByID.Load(ctx, input.EventID)
		if err != nil {
			return nil, err
		}
		for i := range ev.Tags {
			if strings.EqualFold(ev.Tags[i].Title, input.Title) {
				tag = &ev.Tags[i]
			}
		}
	}
	evict := []string{tags.Event(input.EventID), tags.Events}
	var err error
	if add {
		tag, err = write(ctx, func(ctx context.Context) (*livestorm.Tag, error) {
			return r.Client.AddEventTag(ctx, input.EventID, input.Title)
		}, func(*livestorm.Tag) []string { return evict })
	} else {
		err = writeOnly(ctx, func(ctx context.Context) error { return r.Client.RemoveEventTag(ctx, input.EventID, input.Title) }, evict...)
	}
	if err != nil {
		return nil, err
	}
	payload := &model.EventTagPayload{Tag: tag}
	if selected(ctx, "event") {
		payload.Event, err = freshEvent(ctx, input.EventID)
	}
	return payload, err
}

// selected reports whether the current field's selection includes name, so a payload
// only costs the upstream reads the client asked for.
func selected(ctx context.Context, name string) bool {
	for _, f := range graphql.CollectFieldsCtx(ctx, nil) {
		if f.Name == name {
			return true
		}
	}
	return false
}

func freshEvent(ctx context.Context, id string) (*livestorm.Event, error) {
	return loaders.For(ctx).EventByID.Load(ctx, id)
}

func freshSession(ctx context.Context, id string) (*livestorm.Session, error) {
	return loaders.For(ctx).SessionByID.Load(ctx, id)
}

func primeEvent(ctx context.Context, ev *livestorm.Event) { loaders.For(ctx).PrimeEvent(ev) }

func primeSession(ctx context.Context, s *livestorm.Session) { loaders.For(ctx).PrimeSession(s) }

// eventOfSession finds the event of a session before a write that removes it, so the
// event's cached counters can be evicted after (usually a cache hit).
func eventOfSession(ctx context.Context, sessionID string) (string, error) {
	s, err := loaders.For(ctx).SessionByID.Load(ctx, sessionID)
	if err != nil {
		return "", err
	}
	return s.EventID, nil
}

// eventOf is the event of a registration.
func eventOf(p *livestorm.Person) string {
	if p.RegistrantDetail == nil {
		return ""
	}
	return p.RegistrantDetail.EventID
}
