package graph

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/livestorm-gateway/gateway/graph/model"
	"github.com/livestorm-gateway/gateway/livestorm"
	"github.com/livestorm-gateway/gateway/loaders"
	"github.com/livestorm-gateway/gateway/pubsub"
	"github.com/livestorm-gateway/gateway/telemetry"
)

// Codes (extensions.code) of the errors that end a subscription stream.
const (
	// CodeSubscriberTooSlow: the client read events more slowly than they came and fell a
	// whole buffer behind; it should resubscribe (and refetch what it shows).
	CodeSubscriberTooSlow = "SUBSCRIBER_TOO_SLOW"
	// CodeUnavailable: the gateway stopped (shutdown) or has no webhook bus; reconnect.
	CodeUnavailable = "UNAVAILABLE"
	// CodeReplayUnavailable: the notifications after the client's `after` cursor are no
	// longer all kept (older than SUBSCRIPTION_REPLAY, or lost with a restart); it should
	// refetch what it shows and subscribe again without `after`.
	CodeReplayUnavailable = "REPLAY_UNAVAILABLE"
)

// subscribe opens a bus subscription on the verified workspace of the operation's
// credential, resuming after the cursor after when the client gives one, and returns
// the stream gqlgen reads. One goroutine per subscription moves messages from the bus to
// gqlgen; it selects on ctx.Done() for every send and ends, closing the stream, when the
// client unsubscribes or disconnects, or when the bus drops the subscriber (the client
// is then told why).
func (r *Resolver) subscribe(ctx context.Context, after *string, filter pubsub.Filter) (<-chan *pubsub.Message, error) {
	if r.Bus == nil {
		return nil, &gqlerror.Error{Message: "subscriptions are not available: this gateway receives no webhooks",
			Extensions: map[string]any{"code": CodeUnavailable}}
	}
	t, err := loaders.For(ctx).Tenant(ctx)
	if err != nil {
		return nil, err
	}
	var sub *pubsub.Subscription
	if after != nil && *after != "" {
		sub, err = r.Bus.SubscribeAfter(ctx, t.Scope, *after, filter, r.SubscriptionBuffer)
	} else {
		sub, err = r.Bus.Subscribe(ctx, t.Scope, filter, r.SubscriptionBuffer)
	}
	switch {
	case err == nil:
	case errors.Is(err, pubsub.ErrClosed):
		return nil, &gqlerror.Error{Message: "the gateway is shutting down; reconnect", Extensions: map[string]any{"code": CodeUnavailable}}
	case errors.Is(err, pubsub.ErrReplayUnavailable):
		return nil, &gqlerror.Error{Message: "cannot resume after this cursor: " + strings.TrimPrefix(err.Error(), pubsub.ErrReplayUnavailable.Error()+": ") +
			"; refetch and subscribe again without after", Extensions: map[string]any{"code": CodeReplayUnavailable}}
	case errors.Is(err, pubsub.ErrInvalidCursor):
		return nil, &gqlerror.Error{Message: "after: not a cursor of this gateway (pass a notification's cursor)",
			Extensions: map[string]any{"code": CodeBadUserInput, "field": "after"}}
	default:
		return nil, err
	}
	out := make(chan *pubsub.Message)
	// With tracing on, each event delivered gets a span; the goroutine waits for the
	// event's response before taking the next one, so spans never mix (nil: no-op).
	events := telemetry.SubscriptionEventsFrom(ctx)
	gate := r.publishedGate(ctx) // nil unless the caller sees published events only
	if r.SubscriptionsActive != nil {
		r.SubscriptionsActive.Inc()
	}
	go func() {
		defer close(out)
		defer sub.Close()
		if r.SubscriptionsActive != nil {
			defer r.SubscriptionsActive.Dec()
		}
		for {
			select {
			case <-ctx.Done():
				return
			case m, ok := <-sub.C:
				if !ok {
					r.endStream(ctx, out, sub.Err())
					return
				}
				if gate != nil && !gate(ctx, m) {
					continue
				}
				events.Begin(ctx, m.Name, m.TraceParent)
				select {
				case out <- m:
				case <-ctx.Done():
					events.Abort()
					return
				}
				if !events.Delivered(ctx) {
					return
				}
			}
		}
	}()
	return out, nil
}

// endStream tells the client why the bus ended its stream (nothing when the client ended
// it): a last event carrying the error, then the stream completes. The same on every
// transport: gqlgen's transport.AddSubscriptionError would give WebSockets an "error"
// frame, but its error list is not synchronised with the transport goroutine reading it
// (a data race when the client disconnects at the same moment).
func (r *Resolver) endStream(ctx context.Context, out chan<- *pubsub.Message, reason error) {
	if reason == nil || ctx.Err() != nil {
		return
	}
	e := &gqlerror.Error{Message: reason.Error(), Extensions: map[string]any{"code": CodeSubscriberTooSlow}}
	if !errors.Is(reason, pubsub.ErrSlowSubscriber) {
		e = &gqlerror.Error{Message: "the gateway is shutting down; reconnect", Extensions: map[string]any{"code": CodeUnavailable}}
	}
	if path := graphql.GetFieldContext(ctx); path != nil {
		e.Path = path.Path()
	}
	if r.Logger != nil {
		r.Logger.InfoContext(ctx, "subscription ended by the gateway", "reason", reason.Error())
	}
	select {
	case out <- &pubsub.Message{Err: e}:
	case <-ctx.Done():
	}
}

// names accepts the messages of the given Livestorm event names.
func names(list ...string) func(*pubsub.Message) bool {
	return func(m *pubsub.Message) bool { return slices.Contains(list, m.Name) }
}

// ids narrows a name filter to the messages whose event, session and job ids equal the
// given ones (nil arguments match anything). The arguments may be global ids or
// Livestorm ids; messages carry Livestorm ids.
func ids(accept func(*pubsub.Message) bool, eventID, sessionID, jobID *string) (pubsub.Filter, error) {
	var err error
	for _, a := range []struct {
		field string
		kind  nodeKind
		id    **string
	}{{"eventId", kindEvent, &eventID}, {"sessionId", kindSession, &sessionID}, {"jobId", kindJob, &jobID}} {
		if *a.id, err = optionalLivestormID(a.field, a.kind, *a.id); err != nil {
			return nil, err
		}
	}
	return func(m *pubsub.Message) bool {
		return accept(m) &&
			(eventID == nil || *eventID == m.EventID) &&
			(sessionID == nil || *sessionID == m.SessionID) &&
			(jobID == nil || *jobID == m.JobID)
	}, nil
}

// subscribeTo opens a subscription to the messages accept takes about the given event,
// session and job (see ids), resuming after the cursor after when given.
func (r *Resolver) subscribeTo(ctx context.Context, after *string, accept func(*pubsub.Message) bool, eventID, sessionID, jobID *string) (<-chan *pubsub.Message, error) {
	filter, err := ids(accept, eventID, sessionID, jobID)
	if err != nil {
		return nil, err
	}
	return r.subscribe(ctx, after, filter)
}

// typesFilter accepts the messages of the given LivestormEventTypes (all when empty).
func typesFilter(types []model.LivestormEventType) pubsub.Filter {
	if len(types) == 0 {
		return nil
	}
	want := make([]string, 0, len(types))
	for _, t := range types {
		want = append(want, eventName(string(t)))
	}
	return names(want...)
}

// Payload field helpers, shared by the seven payload types. Each message is resolved with
// the loaders of its own response (fresh per event), after the receiver evicted what the
// change made stale, so nested fields show the new state.

func notificationType(m *pubsub.Message) (model.LivestormEventType, error) {
	if m.Err != nil {
		return "", m.Err
	}
	return enumOf(m.Name, model.LivestormEventTypeUnknown), nil
}

func notificationSession(ctx context.Context, m *pubsub.Message) (*livestorm.Session, error) {
	if m.Err != nil || m.SessionID == "" {
		return nil, nil
	}
	return loaders.For(ctx).SessionByID.Load(ctx, m.SessionID)
}

func notificationEvent(ctx context.Context, m *pubsub.Message) (*livestorm.Event, error) {
	ev, err := messageEvent(ctx, m)
	if ev == nil && err == nil {
		return nil, nil
	}
	return visibleEvent(ctx, ev, err)
}

func messageEvent(ctx context.Context, m *pubsub.Message) (*livestorm.Event, error) {
	if m.Err != nil {
		return nil, nil
	}
	id := m.EventID
	if id == "" && m.SessionID != "" {
		s, err := loaders.For(ctx).SessionByID.Load(ctx, m.SessionID)
		if err != nil {
			return nil, err
		}
		id = s.EventID
	}
	if id == "" {
		return nil, nil
	}
	return loaders.For(ctx).EventByID.Load(ctx, id)
}

// notificationRegistration is the registration a people.* delivery carries (the person
// with its registrant detail, in the state Livestorm sent).
func notificationRegistration(m *pubsub.Message) *model.Registration {
	if m.Err != nil || m.Person == nil {
		return nil
	}
	if m.SessionID == "" && m.EventID == "" && (m.Person.RegistrantDetail == nil ||
		m.Person.RegistrantDetail.SessionID == "" && m.Person.RegistrantDetail.EventID == "") {
		return nil // a delivery that names no session or event: no registration to identify
	}
	return model.NewRegistration(m.Person, m.SessionID, m.EventID)
}

func notificationJob(ctx context.Context, m *pubsub.Message) (*livestorm.Job, error) {
	switch {
	case m.Err != nil || m.JobID == "":
		return nil, nil
	case m.Job != nil:
		return m.Job, nil // the delivery carries the job in its final state
	default:
		return loaders.For(ctx).JobByID.Load(ctx, m.JobID)
	}
}
