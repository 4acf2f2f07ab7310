package graph

import (
	"context"
	"fmt"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/livestorm-gateway/gateway/graph/model"
	"github.com/livestorm-gateway/gateway/livestorm"
	"github.com/livestorm-gateway/gateway/loaders"
)

// maxNodes bounds nodes(ids:): each id may cost an upstream call.
const maxNodes = 100

// resolveNode reads the object a global id names, through the same loaders (per-operation
// dedupe, shared cache) as every other path to it: at most one upstream call per id,
// none when cached. The type the id names must be one the caller's role may reach
// (@access on the type), checked before any call; public callers reach published events
// and their sessions only. User, Webhook and PeopleAttribute have no get-by-id endpoint and are
// found in their list's cached pages, as everywhere else.
func resolveNode(ctx context.Context, field, id string) (model.Node, error) {
	kind, parts, ok := parseGlobalID(id)
	if !ok {
		return nil, inputError(field, fmt.Sprintf("%s is not a global id: pass a Node's id (Livestorm ids go to the typed lookups, e.g. event(id:))", field))
	}
	if err := checkType(ctx, string(kind)); err != nil {
		return nil, err // decided from the id: no upstream call
	}
	l := loaders.For(ctx)
	switch kind {
	case kindEvent:
		ev, err := l.EventByID.Load(ctx, parts[0])
		return node(visibleEvent(ctx, ev, err))
	case kindSession:
		s, err := l.SessionByID.Load(ctx, parts[0])
		return node(visibleSession(ctx, s, err))
	case kindPerson:
		return node(l.PersonByID.Load(ctx, parts[0]))
	case kindRegistration:
		return loadRegistration(ctx, registrationOf(parts))
	case kindJob:
		return node(l.JobByID.Load(ctx, parts[0]))
	case kindOrganization:
		org, err := l.Organization(ctx)
		if err == nil && org.ID != parts[0] {
			// Only the credential's own workspace is readable.
			err = fmt.Errorf("organization %q: %w", parts[0], livestorm.ErrNotFound)
		}
		return node(org, err)
	case kindUser:
		return node(l.UserByID(ctx, parts[0]))
	case kindWebhook:
		return node(l.WebhookByID(ctx, parts[0]))
	case kindPeopleAttribute:
		return node(l.PeopleAttributeByID(ctx, parts[0]))
	default: // unreachable: parseGlobalID only accepts the kinds above
		return nil, inputError(field, field+" names no readable type")
	}
}

// node turns a typed lookup into a Node, never a non-nil interface around a nil pointer.
func node[T any](v *T, err error) (model.Node, error) {
	if err != nil || v == nil {
		return nil, err
	}
	return v, nil
}

// loadRegistration reads one registration by what its id names.
func loadRegistration(ctx context.Context, ref registrationRef) (*model.Registration, error) {
	p, err := loaders.For(ctx).RegistrationByID.Load(ctx,
		loaders.RegistrationKey{SessionID: ref.sessionID, EventID: ref.eventID, PersonID: ref.personID})
	if err != nil {
		return nil, err
	}
	return model.NewRegistration(p, ref.sessionID, ref.eventID), nil
}

// resolveNodes reads up to maxNodes objects concurrently (the loaders batch and dedupe
// them); one that fails is null in the list, with an error whose path names its index.
func resolveNodes(ctx context.Context, ids []string) ([]model.Node, error) {
	if len(ids) > maxNodes {
		return nil, inputError("ids", fmt.Sprintf("nodes takes at most %d ids, got %d", maxNodes, len(ids)))
	}
	out := make([]model.Node, len(ids))
	errs := make([]error, len(ids))
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Go(func() { out[i], errs[i] = resolveNode(ctx, fmt.Sprintf("ids[%d]", i), id) })
	}
	wg.Wait()
	path := graphql.GetPath(ctx)
	for i, err := range errs {
		if err != nil {
			graphql.AddError(ctx, gqlerror.WrapPath(append(path[:len(path):len(path)], ast.PathIndex(i)), err))
		}
	}
	return out, nil
}

// lookup serves a typed root lookup (event(id:), session(id:), …): the id may be a
// global id of kind or a Livestorm id.
func lookup[T any](ctx context.Context, kind nodeKind, id string, load func(context.Context, string) (*T, error)) (*T, error) {
	raw, err := livestormID("id", kind, id)
	if err != nil {
		return nil, err
	}
	return load(ctx, raw)
}
