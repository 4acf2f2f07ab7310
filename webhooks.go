package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/livestorm-gateway/gateway/cache"
	"github.com/livestorm-gateway/gateway/cluster"
	"github.com/livestorm-gateway/gateway/livestorm"
	"github.com/livestorm-gateway/gateway/metrics"
	"github.com/livestorm-gateway/gateway/pubsub"
	"github.com/livestorm-gateway/gateway/webhook"
)

// pushDeps are the parts of the gateway that carry Livestorm's webhooks to subscribers:
// the bus and the receiver (nil without a webhook secret).
type pushDeps struct {
	bus      subscriberBus
	receiver *webhook.Receiver
}

// subscriberBus is a bus that counts its subscribers on this replica (tests wait on it).
type subscriberBus interface {
	pubsub.Bus
	Subscribers(scope string) int
}

// newPushDeps builds the bus and, when a webhook secret is configured, the receiver.
// Without a secret, /webhooks/livestorm answers 501: unsigned deliveries would let anyone
// evict cache entries and push made-up events to subscribers. With a cluster (Redis) the
// bus and the receiver's de-duplication are shared by the replicas.
func newPushDeps(cfg Config, c *cache.Cache, m *metrics.Metrics, serverCred livestorm.Credential, logger *slog.Logger, cl *cluster.Cluster) pushDeps {
	var p pushDeps
	if cl != nil {
		p.bus = cl.Bus()
	} else {
		p.bus = pubsub.NewLocalWith(pubsub.LocalOptions{Replay: cfg.SubscriptionReplay, ReplayMax: cfg.SubscriptionReplayMax})
	}
	if cfg.WebhookSecret == "" && len(cfg.WebhookSecrets) == 0 {
		return p
	}
	if cfg.ForwardAuth && cfg.WebhookSecret != "" {
		logger.Warn("LIVESTORM_WEBHOOK_SECRET in forwarded mode: every workspace is verified with the same secret, so anyone " +
			"holding it can sign deliveries naming any workspace; list each workspace's own secret in LIVESTORM_WEBHOOK_SECRETS")
	}
	// A delivery is remembered for as long as its signature could be replayed.
	tolerance := cfg.WebhookTolerance
	if tolerance <= 0 {
		tolerance = webhook.DefaultTolerance
	}
	dedupeTTL := max(webhookDedupeTTL, 2*tolerance)
	var dedupe webhook.Deduper
	if cl != nil {
		local, err := webhook.NewLocalDeduper(webhookDedupeSize, dedupeTTL)
		if err != nil {
			logger.Error("webhook receiver disabled", "err", err)
			return p
		}
		dedupe = cl.Deduper(dedupeTTL, local)
	}
	// Deliveries that name no workspace belong to the server token's (a token the
	// operator configured: its organization claim is trusted).
	fallbackOrg, _ := serverCred.UnverifiedOrg()
	r, err := webhook.NewReceiver(webhook.Options{
		Secret:        cfg.WebhookSecret,
		Secrets:       cfg.WebhookSecrets,
		Tolerance:     cfg.WebhookTolerance,
		FallbackOrgID: fallbackOrg,
		Cache:         c,
		Bus:           p.bus,
		Dedupe:        dedupe,
		Observe:       func(event, result string) { m.WebhooksReceived.WithLabelValues(event, result).Inc() },
		Logger:        logger.With("component", "webhooks"),
	})
	if err != nil {
		logger.Error("webhook receiver disabled", "err", err)
		return p
	}
	p.receiver = r
	return p
}

// The receiver's memory of accepted deliveries: an hour (Livestorm's retries span ~22
// minutes), up to 100,000 of them.
const (
	webhookDedupeTTL  = time.Hour
	webhookDedupeSize = 100_000
)

// Close drains the receiver (deliveries already acknowledged are still invalidated and
// published), then ends every subscription.
func (p pushDeps) Close() {
	if p.receiver != nil {
		_ = p.receiver.Close()
	}
	_ = p.bus.Close()
}

// startRegistrar registers the gateway's webhooks with Livestorm when it knows where
// Livestorm can reach it (PUBLIC_URL, or the loopback address in demo mode) and has a
// credential of its own; ready runs after the first attempt. It returns nil when there
// is nothing to do.
func startRegistrar(cfg Config, d Deps, publicURL string, ready func()) *webhook.Registrar {
	switch {
	case publicURL == "":
		d.Logger.Info("webhook auto-registration off: set PUBLIC_URL to where Livestorm can reach this gateway")
		return nil
	case d.ServerCredential.IsZero():
		d.Logger.Warn("webhook auto-registration off in forwarded mode: there is no workspace credential of the gateway's own; " +
			"register " + publicURL + webhook.ReceiverPath + " in each workspace")
		return nil
	case d.Webhooks == nil:
		d.Logger.Warn("webhook auto-registration off: no receiver (LIVESTORM_WEBHOOK_SECRET is not set)")
		return nil
	}
	opts := webhook.RegistrarOptions{
		API:        d.Client,
		Credential: d.ServerCredential,
		PublicURL:  publicURL,
		Interval:   cfg.WebhookResync,
		Logger:     d.Logger.With("component", "webhooks"),
	}
	if d.cluster != nil {
		// Several replicas: one registers and re-syncs, the others stand by.
		renew := registrarRenew
		if d.registrarRenew > 0 {
			renew = d.registrarRenew
		}
		opts.Leadership = d.cluster.Leadership("registrar", renew)
	}
	r, err := webhook.NewRegistrar(opts)
	if err != nil {
		d.Logger.Error("webhook auto-registration off", "err", err)
		return nil
	}
	r.Start(context.Background(), ready)
	return r
}

// registrarRenew is how often the registering replica renews its lead; a replica that
// dies is replaced within three of these.
const registrarRenew = 5 * time.Second

// loopbackURL is how the embedded simulator reaches this gateway in demo mode: on
// 127.0.0.1 when it listens there or on every interface, else on the address HOST
// named.
func loopbackURL(addr net.Addr) string {
	a := addr.(*net.TCPAddr)
	if a.IP == nil || a.IP.IsUnspecified() {
		return fmt.Sprintf("http://127.0.0.1:%d", a.Port)
	}
	return "http://" + a.String()
}
