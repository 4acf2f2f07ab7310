package main

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/livestorm-gateway/gateway/livestormsim"
)

// demoUpstream is the embedded Livestorm simulator of demo mode.
type demoUpstream struct {
	sim           *livestormsim.Simulator
	BaseURL       string
	Token         string
	WebhookSecret string
	OrgID         string
	OrgName       string
}

// demoWebhookSecret signs the simulator's webhook deliveries in demo mode; it is only
// ever used between the gateway and its own embedded simulator on loopback.
const demoWebhookSecret = "demo-webhook-secret"

// startDemo starts the simulator on a loopback port with a realistic seeded workspace.
func startDemo(cfg Config, logger *slog.Logger) (*demoUpstream, error) {
	sim, err := livestormsim.New(livestormsim.Config{
		Seed:          42,
		Size:          livestormsim.SizeDemo,
		WebhookSecret: demoWebhookSecret,
		Logger:        logger.With("component", "simulator"),
	})
	if err != nil {
		return nil, err
	}
	base, err := sim.Start("127.0.0.1:0")
	if err != nil {
		sim.Close()
		return nil, fmt.Errorf("start simulator: %w", err)
	}
	org := sim.Organizations()[0]
	return &demoUpstream{sim: sim, BaseURL: base, Token: org.Token, WebhookSecret: demoWebhookSecret, OrgID: org.ID, OrgName: org.Name}, nil
}

// StartActivity starts the simulator's live activity: a registration every few seconds
// and a demo session per workspace that is scheduled, starts and ends in a short cycle,
// each delivered to the gateway as a signed webhook.
func (d *demoUpstream) StartActivity() {
	d.sim.StartActivity(livestormsim.Activity{RegistrationEvery: 3 * time.Second, SessionCycle: 30 * time.Second})
}

// Close stops the simulator and its goroutines.
func (d *demoUpstream) Close() { d.sim.Close() }
