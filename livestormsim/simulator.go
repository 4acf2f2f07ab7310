// Package livestormsim is a behavioural simulator of Livestorm's public REST
// API v1 (api.livestorm.co/v1). It serves JSON:API documents for every
// documented operation, with several isolated organizations, token scopes,
// rate limits, signed webhook deliveries with retries, bulk jobs, sessions
// that start and end on a controllable clock, deterministic seed data and
// fault injection. The gateway's demo, tests and benchmarks run against it
// because the real API is not reachable from development machines or CI.
package livestormsim

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// tickInterval is how often the background goroutine applies due session
// transitions.
const tickInterval = 250 * time.Millisecond

// Simulator is one running fake Livestorm. Create it with New and release it
// with Close.
type Simulator struct {
	cfg     Config
	clock   Clock
	log     *slog.Logger
	store   *store
	ids     *idSource
	tokens  *tokenRegistry
	limiter *rateLimiter
	faults  *faultInjector
	reqlog  *requestLog
	hooks   *webhookDispatcher
	router  *router
	orgs    []Organization

	ctx       context.Context
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	closeOnce sync.Once

	mu              sync.Mutex // guards srv, closed, activityStarted
	srv             *http.Server
	closed          bool
	activityStarted bool
}

// Organization is a seeded workspace and the credentials to use it.
type Organization struct {
	ID, Name, Slug string
	Token          string // API token (JWT, raw in Authorization) with every scope at write
	ReadOnlyToken  string // API token with every scope at read
	OAuthToken     string // opaque OAuth access token (sent as "Bearer <token>"), every scope at write
	WebhookSecret  string
}

// EventInfo is a read-only summary of an event, for tests that need ids.
type EventInfo struct {
	ID, OrgID, Title string
	SessionIDs       []string
}

// New seeds the organizations described by cfg, issues their tokens and
// starts the background goroutines (clock ticker, webhook workers).
func New(cfg Config) (*Simulator, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("livestormsim: %w", err)
	}
	s := &Simulator{
		cfg: cfg, clock: cfg.Clock, log: cfg.Logger, reqlog: &requestLog{},
		ids:     newIDSource(cfg.Seed, 0x5eed0002),
		limiter: newRateLimiter(cfg.IntervalLimit, cfg.MonthlyQuota, cfg.QuotaWindow),
		faults:  newFaultInjector(cfg),
	}
	if s.tokens, err = newTokenRegistry(newIDSource(cfg.Seed, 0x70ce)); err != nil {
		return nil, fmt.Errorf("livestormsim: %w", err)
	}
	s.store = seedStore(cfg, s.Now())
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.hooks = newWebhookDispatcher(s)
	s.router = s.routes()
	orgIDs := make([]string, 0, len(s.store.orgs))
	for _, o := range s.store.orgs {
		org := Organization{ID: o.id, Name: o.name, Slug: o.slug, WebhookSecret: cfg.WebhookSecret}
		if org.Token, err = s.tokens.issueAPI(o.id, allScopes(AccessWrite), s.Now()); err == nil {
			org.ReadOnlyToken, err = s.tokens.issueAPI(o.id, allScopes(AccessRead), s.Now())
		}
		if err != nil {
			s.cancel()
			return nil, fmt.Errorf("livestormsim: %w", err)
		}
		org.OAuthToken = s.tokens.issueOAuth(o.id, o.ownerID, allScopes(AccessWrite))
		s.orgs = append(s.orgs, org)
		orgIDs = append(orgIDs, o.id)
	}
	s.hooks.start(orgIDs)
	s.wg.Add(1)
	go s.tickLoop()
	return s, nil
}

func (s *Simulator) tickLoop() {
	defer s.wg.Done()
	t := time.NewTicker(tickInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			s.Tick()
		case <-s.ctx.Done():
			return
		}
	}
}

// Handler serves the API under /v1 (e.g. GET /v1/events).
func (s *Simulator) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

// Start serves Handler on addr ("127.0.0.1:0" ok) in a goroutine; returns the base URL INCLUDING /v1, e.g. "http://127.0.0.1:9000/v1". Close() stops it.
func (s *Simulator) Start(addr string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return "", errors.New("livestormsim: simulator is closed")
	}
	if s.srv != nil {
		return "", errors.New("livestormsim: already started")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("livestormsim: listen %s: %w", addr, err)
	}
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	s.srv = srv
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("livestormsim: serve", "err", err)
		}
	}()
	return "http://" + ln.Addr().String() + "/v1", nil
}

// Close stops every goroutine (ticker, webhook delivery, jobs, activity, the
// server started by Start) and waits for them. It is safe to call twice.
func (s *Simulator) Close() {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		srv := s.srv
		s.mu.Unlock()
		s.cancel() // wakes handlers sleeping on latency or timeout faults
		s.hooks.close()
		if srv != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if err := srv.Shutdown(ctx); err != nil {
				s.log.Warn("livestormsim: shutdown", "err", err)
				_ = srv.Close()
			}
			cancel()
		}
		s.wg.Wait()
	})
}

// Organizations returns the seeded workspaces in creation order, with
// deterministic ids for a given seed.
func (s *Simulator) Organizations() []Organization {
	return append([]Organization(nil), s.orgs...)
}

func (s *Simulator) hasOrg(id string) bool {
	s.store.mu.RLock()
	defer s.store.mu.RUnlock()
	return s.store.orgByID[id] != nil
}

// Events lists an organization's events with their session ids (nil for an
// unknown organization).
func (s *Simulator) Events(orgID string) []EventInfo {
	s.store.mu.RLock()
	defer s.store.mu.RUnlock()
	org := s.store.orgByID[orgID]
	if org == nil {
		return nil
	}
	out := make([]EventInfo, 0, len(org.events))
	for _, e := range org.events {
		info := EventInfo{ID: e.id, OrgID: org.id, Title: e.title, SessionIDs: make([]string, 0, len(e.sessions))}
		for _, sess := range e.sessions {
			info.SessionIDs = append(info.SessionIDs, sess.id)
		}
		out = append(out, info)
	}
	return out
}
