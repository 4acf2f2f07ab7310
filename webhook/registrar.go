package webhook

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/livestorm-gateway/gateway/livestorm"
)

// ReceiverPath is where the gateway serves the receiver.
const ReceiverPath = "/webhooks/livestorm"

// RegisteredEvents are the event names the gateway subscribes to: Livestorm's ten
// documented names (livestorm-api.md §9.2). job.created is left out: it is missing from
// Livestorm's own list of subscribable events, and no subscription needs it.
var RegisteredEvents = []string{
	livestorm.EventCreated, livestorm.EventPublished,
	livestorm.SessionCreated, livestorm.SessionStarted, livestorm.SessionEnded,
	livestorm.PeopleRegistered, livestorm.PeopleAttended, livestorm.PeopleNotAttended, livestorm.PeopleWatchedReplay,
	livestorm.JobEnded,
}

// WebhookAPI is the part of the Livestorm client a Registrar uses.
type WebhookAPI interface {
	ListWebhooks(ctx context.Context, o livestorm.WebhookListOptions) (*livestorm.List[livestorm.Webhook], error)
	CreateWebhook(ctx context.Context, url, event string) (*livestorm.Webhook, error)
	DeleteWebhook(ctx context.Context, id string) error
}

// RegistrarOptions configure a Registrar.
type RegistrarOptions struct {
	// API is the Livestorm client; Credential the workspace's (server) credential.
	API        WebhookAPI
	Credential livestorm.Credential
	// PublicURL is where Livestorm reaches the gateway (PUBLIC_URL); the webhooks point
	// at PublicURL + ReceiverPath.
	PublicURL string
	// Events to subscribe to (default RegisteredEvents).
	Events []string
	// Interval between checks for webhooks Livestorm disabled (default 1 hour). Each
	// check costs one list call (a second page only past 50 webhooks), plus one create
	// per missing webhook: hourly checks spend 720 of a workspace's 10,000 calls per 30
	// days; every 5 minutes would spend 8,640.
	Interval time.Duration
	// Leadership, when set, decides which of several replicas registers: only the one
	// leading checks and creates webhooks; the others stand by and take over (checking
	// at once) when the leader stops renewing its lead. Nil: this process registers.
	Leadership Leadership
	Logger     *slog.Logger
}

// Leadership elects one registering replica among several (package cluster: a lock in
// Redis with an expiry the leader keeps renewing).
type Leadership interface {
	// Lead takes or renews the lead and reports whether this replica holds it.
	Lead(ctx context.Context) bool
	// Resign gives the lead up, so another replica takes over without waiting for the
	// lead to expire.
	Resign(ctx context.Context)
	// Renew is how often Lead must be called to keep the lead.
	Renew() time.Duration
}

// Registrar makes sure Livestorm has one webhook per needed event pointing at the
// gateway: at start and then periodically, because Livestorm disables (removes) a
// webhook whose deliveries keep failing. It never creates duplicates: it lists first
// and creates only what is missing, so restarts converge on one set; should replicas
// starting at the same instant both create one, the next check deletes the extra (the
// receiver drops the duplicate deliveries meanwhile).
type Registrar struct {
	opts RegistrarOptions
	url  string

	mu      sync.Mutex
	cancel  context.CancelFunc
	done    chan struct{}
	stopped bool
}

// NewRegistrar returns a Registrar; Start runs it.
func NewRegistrar(opts RegistrarOptions) (*Registrar, error) {
	if opts.API == nil || opts.PublicURL == "" {
		return nil, errors.New("webhook: registrar needs a Livestorm client and PUBLIC_URL")
	}
	if opts.Credential.IsZero() {
		return nil, errors.New("webhook: registrar needs the server's Livestorm credential (not available in forwarded mode)")
	}
	if len(opts.Events) == 0 {
		opts.Events = RegisteredEvents
	}
	if opts.Interval <= 0 {
		opts.Interval = time.Hour
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Registrar{opts: opts, url: strings.TrimRight(opts.PublicURL, "/") + ReceiverPath}, nil
}

// URL is the receiver URL the webhooks point at.
func (r *Registrar) URL() string { return r.url }

// Ensure lists the workspace's webhooks and creates those missing for this gateway's
// URL, and deletes duplicates of this URL (keeping the first listed). It returns the
// events it created webhooks for.
func (r *Registrar) Ensure(ctx context.Context) ([]string, error) {
	ctx = livestorm.ContextWithCredential(ctx, r.opts.Credential)
	have := map[string]bool{}
	var extra []string
	for page := 0; ; page++ {
		list, err := r.opts.API.ListWebhooks(ctx, livestorm.WebhookListOptions{Page: livestorm.Page{Number: page, Size: livestorm.MaxPageSize}})
		if err != nil {
			return nil, err
		}
		for _, w := range list.Items {
			if !sameURL(w.URL, r.url) {
				continue
			}
			if have[w.Event] {
				extra = append(extra, w.ID)
			}
			have[w.Event] = true
		}
		if !list.HasNext() {
			break
		}
	}
	var created []string
	var errs []error
	for _, ev := range r.opts.Events {
		if have[ev] {
			continue
		}
		if _, err := r.opts.API.CreateWebhook(ctx, r.url, ev); err != nil {
			errs = append(errs, err)
			continue
		}
		created = append(created, ev)
	}
	for _, id := range extra {
		if err := r.opts.API.DeleteWebhook(ctx, id); err != nil && !errors.Is(err, livestorm.ErrNotFound) {
			errs = append(errs, err)
			continue
		}
		r.opts.Logger.Info("duplicate webhook deleted", "url", r.url, "id", id)
	}
	return created, errors.Join(errs...)
}

func sameURL(a, b string) bool { return strings.TrimRight(a, "/") == strings.TrimRight(b, "/") }

// Start ensures the webhooks now and then every Interval, until Close or ctx ends.
// ready, if not nil, is called once after the first attempt (whatever its outcome),
// unless the Registrar was closed meanwhile.
func (r *Registrar) Start(ctx context.Context, ready func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cancel != nil || r.stopped {
		return
	}
	ctx, r.cancel = context.WithCancel(ctx)
	r.done = make(chan struct{})
	go r.run(ctx, ready)
}

func (r *Registrar) run(ctx context.Context, ready func()) {
	defer close(r.done)
	if r.opts.Leadership != nil {
		r.lead(ctx, ready)
		return
	}
	r.sync(ctx, true)
	if ready != nil && ctx.Err() == nil {
		ready()
	}
	t := time.NewTicker(r.opts.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			r.sync(ctx, false)
		}
	}
}

// lead is run with a Leadership: every Renew it takes or keeps the lead; when it gains
// the lead it ensures the webhooks at once (the previous leader may have died before a
// check was due), then every Interval while it leads.
func (r *Registrar) lead(ctx context.Context, ready func()) {
	lead := r.opts.Leadership
	log := r.opts.Logger
	defer func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		lead.Resign(rctx)
	}()
	t := time.NewTicker(lead.Renew())
	defer t.Stop()
	leading, first := false, true
	var next time.Time
	for {
		now := time.Now()
		is := lead.Lead(ctx)
		switch {
		case is && !leading:
			log.Info("this replica registers the webhooks (leader)", "url", r.url)
			r.sync(ctx, true)
			next = now.Add(r.opts.Interval)
		case is && !now.Before(next):
			r.sync(ctx, false)
			next = now.Add(r.opts.Interval)
		case !is && leading:
			log.Warn("this replica no longer registers the webhooks: another replica leads", "url", r.url)
		case !is && first:
			log.Info("another replica registers the webhooks; this one stands by", "url", r.url)
		}
		leading = is
		if first && ready != nil && ctx.Err() == nil {
			ready()
		}
		first = false
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (r *Registrar) sync(ctx context.Context, first bool) {
	created, err := r.Ensure(ctx)
	log := r.opts.Logger
	switch {
	case len(created) > 0 && first:
		log.Info("webhooks registered with Livestorm", "url", r.url, "events", created)
	case len(created) > 0:
		log.Warn("webhooks re-created (Livestorm had disabled or removed them)", "url", r.url, "events", created)
	case err == nil && first:
		log.Info("webhooks already registered with Livestorm", "url", r.url, "events", len(r.opts.Events))
	}
	if err != nil && ctx.Err() == nil {
		log.Error("webhook registration incomplete; retrying next period", "url", r.url, "interval", r.opts.Interval, "err", err)
	}
}

// Close stops the periodic checks and waits for the goroutine to end.
func (r *Registrar) Close() error {
	r.mu.Lock()
	r.stopped = true
	cancel, done := r.cancel, r.done
	r.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
	return nil
}
