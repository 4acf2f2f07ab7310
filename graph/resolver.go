// Package graph holds the GraphQL resolvers. They stay thin: validate arguments, call a
// loader (reads) or the client (writes), convert. Everything that decides how few
// upstream calls are made lives in package loaders.
package graph

//go:generate go run github.com/99designs/gqlgen generate

import (
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/livestorm-gateway/gateway/livestorm"
	"github.com/livestorm-gateway/gateway/pubsub"
)

// Resolver is the root resolver; its dependencies are shared by every operation.
type Resolver struct {
	Client *livestorm.Client
	Logger *slog.Logger
	// Bus carries webhook notifications to subscriptions; nil disables subscriptions.
	Bus pubsub.Bus
	// SubscriptionBuffer is how many events a subscriber may fall behind by before it is
	// dropped (0: pubsub.DefaultBuffer).
	SubscriptionBuffer int
	// SubscriptionsActive counts open subscriptions (gateway_subscriptions_active).
	SubscriptionsActive prometheus.Gauge

	// published remembers which events public subscribers may hear about.
	published publishedMemo
}
