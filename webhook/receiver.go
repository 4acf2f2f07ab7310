// Package webhook receives Livestorm's webhook deliveries and keeps the gateway's
// subscriptions and cache in step with them, and registers the webhooks the gateway
// needs with Livestorm.
//
// A delivery is verified (signature and freshness), acknowledged at once, and then, on
// the receiver's own worker, first evicts exactly the cache entries it makes stale and
// then is published on the bus under its workspace's scope, so that a subscriber reading
// the new state through fresh loaders never reads the old one from the cache.
package webhook

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
	"go.opentelemetry.io/otel/trace"

	"github.com/livestorm-gateway/gateway/cache"
	"github.com/livestorm-gateway/gateway/livestorm"
	"github.com/livestorm-gateway/gateway/pubsub"
	"github.com/livestorm-gateway/gateway/tags"
	"github.com/livestorm-gateway/gateway/telemetry"
	"github.com/livestorm-gateway/gateway/tenant"
)

// Results of a delivery, the `result` label of gateway_webhooks_received_total.
const (
	ResultOK           = "ok"            // verified, queued for invalidation and publication
	ResultDuplicate    = "duplicate"     // a retry of a delivery already accepted
	ResultUnauthorized = "unauthorized"  // unsigned, tampered, stale, or a workspace without a secret (401)
	ResultMalformed    = "malformed"     // not a Livestorm delivery: not one JSON object, unreadable, no workspace (401)
	ResultUnknownEvent = "unknown_event" // an event name this gateway does not know (acknowledged)
	ResultTooLarge     = "too_large"     // body over the cap
	ResultOverloaded   = "overloaded"    // queue full or shutting down (503: Livestorm retries)
)

// Values of the `event` label besides Livestorm's own event names, which keep the
// label's cardinality bounded whatever is posted.
const (
	LabelUnverified = "unverified" // rejected before the body could be trusted
	LabelUnknown    = "unknown"    // verified, but not a known event name
)

// Events are the Livestorm event names the gateway understands (livestorm-api.md §9.2).
var Events = []string{
	livestorm.EventCreated, livestorm.EventPublished,
	livestorm.SessionCreated, livestorm.SessionStarted, livestorm.SessionEnded,
	livestorm.PeopleRegistered, livestorm.PeopleAttended, livestorm.PeopleNotAttended, livestorm.PeopleWatchedReplay,
	livestorm.JobCreated, livestorm.JobEnded,
}

var knownEvents = func() map[string]bool {
	m := make(map[string]bool, len(Events))
	for _, e := range Events {
		m[e] = true
	}
	return m
}()

// DefaultTolerance is the default freshness window of a delivery's signature. Livestorm
// retries a failed delivery for about 22 minutes, possibly with the timestamp of its
// first attempt, so the window covers that; replays inside it are stopped by the body
// de-duplication, not by the clock.
const DefaultTolerance = 30 * time.Minute

// Options configure a Receiver. Zero values take the documented defaults.
type Options struct {
	// Secret is LIVESTORM_WEBHOOK_SECRET: the one secret every delivery is signed with.
	Secret string
	// Secrets are per-workspace secrets by organization id (LIVESTORM_WEBHOOK_SECRETS,
	// forwarded mode): a delivery is verified with the secret of the organization_id it
	// names, so one workspace's secret cannot sign events for another's subscribers; a
	// delivery naming no workspace, or one not listed, is refused. Exclusive with Secret.
	Secrets map[string]string
	// Tolerance is the freshness window of a signature's timestamp, either way (default
	// DefaultTolerance).
	Tolerance time.Duration
	// MaxBody caps a delivery's body (default 1 MiB); larger ones get 413.
	MaxBody int64
	// QueueSize bounds the deliveries accepted but not yet processed (default 1024);
	// beyond it deliveries get 503 and Livestorm retries them later.
	QueueSize int
	// DedupeTTL is how long a delivery is remembered to recognise its retries (default
	// the larger of 1 hour and twice Tolerance, so a delivery is remembered for as long as
	// its signature could be replayed); DedupeSize bounds how many are remembered
	// (default 100,000).
	DedupeTTL  time.Duration
	DedupeSize int
	// Dedupe remembers accepted deliveries (default: in this process, DedupeSize for
	// DedupeTTL). Replicas share one (package cluster) so that a retry landing on
	// another replica is recognised too.
	Dedupe Deduper
	// FallbackOrgID is the workspace of deliveries that do not name one (the server
	// token's workspace); empty means such deliveries are malformed.
	FallbackOrgID string

	Cache *cache.Cache
	Bus   pubsub.Bus
	// Observe counts each delivery (gateway_webhooks_received_total{event,result}).
	Observe func(event, result string)
	Logger  *slog.Logger
	Now     func() time.Time
}

// Receiver is the http.Handler of POST /webhooks/livestorm. It owns one worker
// goroutine, which Close stops after draining what was accepted.
type Receiver struct {
	opts Options

	mu     sync.RWMutex // guards closed and sends on queue
	closed bool
	queue  chan delivery
	done   chan struct{}

	dedupe Deduper
}

// Deduper remembers the deliveries a receiver accepted, by the SHA-256 of their body, so
// that Livestorm's retries of them (same body, new signature) are not processed again.
type Deduper interface {
	// FirstSeen records key and reports whether it was not seen within the TTL.
	FirstSeen(ctx context.Context, key [sha256.Size]byte, now time.Time) bool
	// Forget drops key: its delivery was not accepted after all.
	Forget(ctx context.Context, key [sha256.Size]byte)
}

// NewLocalDeduper is the in-process Deduper: up to size keys, each for ttl.
func NewLocalDeduper(size int, ttl time.Duration) (Deduper, error) {
	seen, err := simplelru.NewLRU[[sha256.Size]byte, time.Time](size, nil)
	if err != nil {
		return nil, err
	}
	return &localDeduper{seen: seen, ttl: ttl}, nil
}

type localDeduper struct {
	mu   sync.Mutex
	seen *simplelru.LRU[[sha256.Size]byte, time.Time]
	ttl  time.Duration
}

func (d *localDeduper) FirstSeen(_ context.Context, key [sha256.Size]byte, now time.Time) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if at, ok := d.seen.Get(key); ok && now.Sub(at) < d.ttl {
		return false
	}
	d.seen.Add(key, now)
	return true
}

func (d *localDeduper) Forget(_ context.Context, key [sha256.Size]byte) {
	d.mu.Lock()
	d.seen.Remove(key)
	d.mu.Unlock()
}

// delivery is one accepted webhook, waiting for the worker.
type delivery struct {
	ev         *livestorm.WebhookEvent
	orgID      string
	id         string
	receivedAt time.Time
	// span is the delivery's HTTP request span, the parent of its processing span, and
	// requestID its request id, for the processing's log lines.
	span      trace.Span
	requestID string
}

// NewReceiver returns a running Receiver.
func NewReceiver(opts Options) (*Receiver, error) {
	switch {
	case opts.Secret == "" && len(opts.Secrets) == 0:
		return nil, errors.New("webhook: a secret is required (LIVESTORM_WEBHOOK_SECRET or LIVESTORM_WEBHOOK_SECRETS)")
	case opts.Secret != "" && len(opts.Secrets) > 0:
		return nil, errors.New("webhook: LIVESTORM_WEBHOOK_SECRET and LIVESTORM_WEBHOOK_SECRETS: set one")
	}
	for org, secret := range opts.Secrets {
		if org == "" || secret == "" {
			return nil, errors.New("webhook: per-workspace secrets need an organization id and a secret each")
		}
	}
	if opts.Cache == nil || opts.Bus == nil {
		return nil, errors.New("webhook: a cache and a bus are required")
	}
	if opts.Tolerance <= 0 {
		opts.Tolerance = DefaultTolerance
	}
	if opts.MaxBody <= 0 {
		opts.MaxBody = 1 << 20
	}
	if opts.QueueSize <= 0 {
		opts.QueueSize = 1024
	}
	if opts.DedupeTTL <= 0 {
		opts.DedupeTTL = max(time.Hour, 2*opts.Tolerance)
	}
	if opts.DedupeSize <= 0 {
		opts.DedupeSize = 100_000
	}
	if opts.Observe == nil {
		opts.Observe = func(string, string) {}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	dedupe := opts.Dedupe
	if dedupe == nil {
		var err error
		if dedupe, err = NewLocalDeduper(opts.DedupeSize, opts.DedupeTTL); err != nil {
			return nil, err
		}
	}
	r := &Receiver{opts: opts, queue: make(chan delivery, opts.QueueSize), done: make(chan struct{}), dedupe: dedupe}
	go r.work()
	return r, nil
}

// ServeHTTP verifies, de-duplicates and queues one delivery, answering within
// milliseconds: 202 accepted (or an unknown event, acknowledged), 200 already seen, 413
// too large, 503 when it cannot take it now, and 401, always with the same body,
// for every other refusal.
//
// Every refusal before a delivery is accepted looks the same on the wire (status and
// body), whatever the cause: unsigned, bad or malformed signature, stale, not a
// single JSON object (trailing bytes included), naming a workspace without a secret
// here, or unreadable once verified. Livestorm's signature is sha256(ts + secret +
// body), which allows length extension: a forger who guesses the secret's length can
// sign the original body plus padding plus bytes of its own. Such a body is never one
// JSON value, so it is refused at the strict parse, before its signature is even
// checked, and with the same answer as a wrong signature: the replies say nothing
// about the secret (a 400-vs-401 difference once revealed its length in 28 guesses).
// The log says why.
func (r *Receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, err := readBody(w, req, r.opts.MaxBody)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) { // a matter of size alone, whoever sends it
			r.reply(w, http.StatusRequestEntityTooLarge, LabelUnverified, ResultTooLarge, "body too large")
			return
		}
		r.refuse(w, req, LabelUnverified, ResultMalformed, "cannot read body", len(body))
		return
	}
	now := r.opts.Now()
	// The body is read strictly first: the workspace it names chooses the secret that
	// verifies it.
	if !isJSONObject(body) {
		r.refuse(w, req, LabelUnverified, ResultMalformed, "not a single JSON object", len(body))
		return
	}
	claimed := claimedOrganization(body)
	secret, orgID := r.opts.Secret, claimed
	if r.opts.Secrets != nil {
		if claimed == "" {
			r.refuse(w, req, LabelUnverified, ResultUnauthorized, "no organization_id (required with per-workspace secrets)", len(body))
			return
		}
		var ok bool
		if secret, ok = r.opts.Secrets[claimed]; !ok {
			r.refuse(w, req, LabelUnverified, ResultUnauthorized, "no secret for the organization_id named", len(body))
			return
		}
	}
	_, verify := telemetry.Start(req.Context(), "webhook verify")
	err = livestorm.VerifyWebhook(secret, req.Header.Get(livestorm.SignatureHeader), body, now, r.opts.Tolerance)
	endVerify(verify, err)
	if err != nil {
		r.refuse(w, req, LabelUnverified, ResultUnauthorized, err.Error(), len(body))
		return
	}
	ev, err := livestorm.ParseWebhook(body)
	if err != nil || !knownEvents[ev.Name] {
		name := eventNameOf(body, ev)
		if knownEvents[name] { // a known event in a shape we cannot read
			r.refuse(w, req, name, ResultMalformed, "unreadable payload: "+err.Error(), len(body))
			return
		}
		r.opts.Logger.InfoContext(req.Context(), "webhook of an unknown event acknowledged", "event", truncate(name, 64))
		r.reply(w, http.StatusAccepted, LabelUnknown, ResultUnknownEvent, "unknown event ignored")
		return
	}
	if orgID == "" {
		orgID = r.opts.FallbackOrgID
	}
	if orgID == "" {
		r.refuse(w, req, ev.Name, ResultMalformed, "no organization_id", len(body))
		return
	}

	key := sha256.Sum256(body)
	annotate(req.Context(), ev.Name, orgID, hex.EncodeToString(key[:16]))
	if !r.dedupe.FirstSeen(req.Context(), key, now) {
		r.opts.Logger.DebugContext(req.Context(), "webhook duplicate ignored", "event", ev.Name)
		r.reply(w, http.StatusOK, ev.Name, ResultDuplicate, "duplicate ignored")
		return
	}
	d := delivery{ev: ev, orgID: orgID, id: hex.EncodeToString(key[:16]), receivedAt: now,
		span: trace.SpanFromContext(req.Context()), requestID: telemetry.RequestIDFrom(req.Context())}
	if !r.enqueue(d) {
		r.dedupe.Forget(req.Context(), key)
		w.Header().Set("Retry-After", "30")
		r.reply(w, http.StatusServiceUnavailable, ev.Name, ResultOverloaded, "busy, retry later")
		return
	}
	r.reply(w, http.StatusAccepted, ev.Name, ResultOK, "accepted")
}

// RefusedBody is the body of every 401: one constant, so no refusal can be told from
// another.
const RefusedBody = "unauthorized\n"

// refuse answers 401 with RefusedBody, counts the refusal under event and result, and
// logs why (never the body or the secret).
func (r *Receiver) refuse(w http.ResponseWriter, req *http.Request, event, result, reason string, size int) {
	r.opts.Logger.WarnContext(req.Context(), "webhook refused", "reason", reason, "remote", req.RemoteAddr, "bytes", size)
	r.opts.Observe(event, result)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusUnauthorized)
	_, _ = w.Write([]byte(RefusedBody))
}

// isJSONObject reports whether body is exactly one JSON object, with nothing but
// whitespace around it.
func isJSONObject(body []byte) bool {
	t := bytes.TrimLeft(body, " \t\r\n")
	return len(t) > 0 && t[0] == '{' && json.Valid(body)
}

// claimedOrganization is the organization_id a delivery names, where ParseWebhook
// reads it (data.meta.webhook, then meta.webhook), before anything is verified.
func claimedOrganization(body []byte) string {
	type meta struct {
		Webhook struct {
			OrganizationID json.RawMessage `json:"organization_id"`
		} `json:"webhook"`
	}
	var doc struct {
		Data json.RawMessage `json:"data"`
		Meta meta            `json:"meta"`
	}
	if json.Unmarshal(body, &doc) != nil {
		return ""
	}
	var data struct {
		Meta meta `json:"meta"`
	}
	_ = json.Unmarshal(doc.Data, &data) // data may be an array or absent
	for _, raw := range []json.RawMessage{data.Meta.Webhook.OrganizationID, doc.Meta.Webhook.OrganizationID} {
		var s string
		if json.Unmarshal(raw, &s) == nil && s != "" {
			return s
		}
		var n json.Number
		if json.Unmarshal(raw, &n) == nil && n != "" {
			return n.String()
		}
	}
	return ""
}

func (r *Receiver) reply(w http.ResponseWriter, status int, event, result, msg string) {
	r.opts.Observe(event, result)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(msg + "\n"))
}

func readBody(w http.ResponseWriter, req *http.Request, limit int64) ([]byte, error) {
	if req.ContentLength > limit {
		return nil, &http.MaxBytesError{Limit: limit}
	}
	return io.ReadAll(http.MaxBytesReader(w, req.Body, limit))
}

// eventNameOf names the event of a body ParseWebhook refused or did not know, for the
// log and to tell a malformed known event from an unknown one. It looks where
// ParseWebhook does (data.meta.webhook.event, meta.webhook.event, event), tolerating
// anything else in the body being malformed.
func eventNameOf(body []byte, ev *livestorm.WebhookEvent) string {
	if ev != nil && ev.Name != "" {
		return ev.Name
	}
	field := func(raw json.RawMessage, path ...string) string {
		for _, p := range path {
			var obj map[string]json.RawMessage
			if json.Unmarshal(raw, &obj) != nil {
				return ""
			}
			raw = obj[p]
		}
		var s string
		_ = json.Unmarshal(raw, &s)
		return s
	}
	for _, path := range [][]string{{"data", "meta", "webhook", "event"}, {"meta", "webhook", "event"}, {"event"}} {
		if n := field(body, path...); n != "" {
			return n
		}
	}
	return ""
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func (r *Receiver) enqueue(d delivery) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.closed {
		return false
	}
	select {
	case r.queue <- d:
		return true
	default:
		return false
	}
}

// Close stops accepting deliveries (503 from then on, so Livestorm retries them on
// another replica or later), processes those already accepted, and returns once the
// worker has ended.
func (r *Receiver) Close() error {
	r.mu.Lock()
	if !r.closed {
		r.closed = true
		close(r.queue)
	}
	r.mu.Unlock()
	<-r.done
	return nil
}

func (r *Receiver) work() {
	defer close(r.done)
	for d := range r.queue {
		r.process(d)
	}
}

// process invalidates what the delivery makes stale, then publishes it: in that order,
// so that a subscriber reacting to the message reads the new state.
func (r *Receiver) process(d delivery) {
	ctx, span := d.startProcessing()
	defer span.End()
	m := Message(d.ev, d.orgID, d.id, d.receivedAt)
	m.TraceParent = traceParent(ctx)
	_, evict := telemetry.Start(ctx, "cache invalidate")
	evicted := r.opts.Cache.Invalidate(m.Scope, tags.ForWebhook(m.Name, m.EventID, m.SessionID, m.PersonID, m.JobID)...)
	evict.SetAttributes(attrEvicted.Int(evicted))
	evict.End()
	_, publish := telemetry.Start(ctx, "pubsub publish")
	err := r.opts.Bus.Publish(ctx, m)
	endSpan(publish, err)
	if err != nil {
		endSpan(span, err)
		r.opts.Logger.WarnContext(ctx, "webhook not published", "event", m.Name, "err", err)
		return
	}
	r.opts.Logger.DebugContext(ctx, "webhook processed", "event", m.Name, "org", d.orgID, "event_id", m.EventID,
		"session_id", m.SessionID, "person_id", m.PersonID, "job_id", m.JobID, "evicted", evicted)
}

// Message is the bus message of a verified delivery of workspace orgID: the ids of
// what changed, taken from wherever the payload carries them, and the resources whose
// delivered state is the freshest there is (the person of a people.* event, the job of
// a job.* event).
func Message(ev *livestorm.WebhookEvent, orgID, id string, receivedAt time.Time) pubsub.Message {
	m := pubsub.Message{Scope: tenant.ScopeForOrg(orgID), ID: id, Name: ev.Name, OccurredAt: receivedAt.UTC()}
	switch {
	case ev.Person != nil:
		m.PersonID = ev.ResourceID
		m.Person = ev.Person
		if rd := ev.Person.RegistrantDetail; rd != nil {
			m.EventID, m.SessionID = rd.EventID, rd.SessionID
		}
	case ev.Session != nil:
		m.SessionID = ev.ResourceID
		m.EventID = ev.Session.EventID
	case ev.Event != nil:
		m.EventID = ev.ResourceID
	case ev.Job != nil:
		m.JobID = ev.ResourceID
		m.Job = ev.Job
	}
	return m
}
