// Package graph holds the GraphQL resolvers. They stay thin: validate arguments, call a
// loader (reads) or the client (writes), convert. Everything that decides how few
// upstream calls are made lives in package loaders.
package graph

//go:generate go run github.com/99designs/gqlgen generate

import (
	"log/slog"

	"github.com/livestorm-gateway/gateway/livestorm"
)

// Resolver is the root resolver; its dependencies are shared by every operation.
type Resolver struct {
	Client *livestorm.Client
	Logger *slog.Logger
}
