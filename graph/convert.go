package graph

import (
	"context"

	"github.com/livestorm-gateway/gateway/graph/model"
	"github.com/livestorm-gateway/gateway/livestorm"
	"github.com/livestorm-gateway/gateway/loaders"
)

// userFromPerson keeps what an embedded team-member person says about a user whose
// team-member record is gone.
func userFromPerson(p *livestorm.Person) *livestorm.User {
	return &livestorm.User{
		ID: p.ID, FirstName: p.FirstName, LastName: p.LastName, Email: p.Email,
		AvatarLink: p.AvatarLink, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt,
	}
}

// includedOrLoad returns a person Livestorm embedded in the document (include=…), or
// loads it by id when it was not embedded.
func includedOrLoad(ctx context.Context, included *livestorm.Person, id string) (*livestorm.Person, error) {
	if included != nil {
		return included, nil
	}
	if id == "" {
		return nil, nil
	}
	return loaders.For(ctx).PersonByID.Load(ctx, id)
}

// satelliteConnection pages a session's recordings, chat messages or questions.
func satelliteConnection[T any](ctx context.Context, sessionID string, first *int, after *string, last *int, before *string,
	loader *loaders.Loader[loaders.PageKey[struct{}], *livestorm.List[T]],
) (*model.Connection[T], error) {
	w, err := newWindow(first, after, last, before)
	if err != nil {
		return nil, err
	}
	return pagedConnection(ctx, w, loader, func(p int) loaders.PageKey[struct{}] {
		return loaders.PageKey[struct{}]{Parent: sessionID, Page: p}
	})
}

// nonEmpty is s, or nil when Livestorm sent nothing.
func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
