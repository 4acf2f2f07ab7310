package livestormsim

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"
)

// webhookEventNames are the subscribable events: Livestorm's ten documented
// names plus job.created (wire decision 11).
var webhookEventNames = []string{
	"event.created", "event.published", "session.created", "session.started", "session.ended",
	"people.registered", "people.attended", "people.not_attended", "people.watched_replay",
	"job.created", "job.ended",
}

// Delivery records one webhook delivery attempt.
type Delivery struct {
	WebhookID, URL, Event, OrgID string
	Attempt                      int // 1-based
	Status                       int // 0 on transport error
	Err                          string
	Time                         time.Time
}

// maxDeliveryRecords bounds the delivery log of a long-running demo.
const maxDeliveryRecords = 100_000

// pendingDelivery is one attempt waiting to be made.
type pendingDelivery struct {
	orgID, webhookID, url, event string
	body                         []byte
	attempt                      int
}

// webhookDispatcher delivers payloads asynchronously: emit only enqueues, one
// worker per organization makes first attempts in emission order (so
// session.ended reaches a receiver before the attendance events it causes),
// and failed attempts are re-queued by timers following the retry schedule.
type webhookDispatcher struct {
	s          *Simulator
	client     *http.Client
	secret     string
	schedule   []time.Duration
	scale      float64
	mu         sync.Mutex
	queues     map[string][]pendingDelivery
	wake       map[string]chan struct{}
	timers     map[*time.Timer]struct{}
	closed     bool
	deliveries []Delivery
}

func newWebhookDispatcher(s *Simulator) *webhookDispatcher {
	return &webhookDispatcher{
		s: s, client: s.cfg.WebhookHTTPClient, secret: s.cfg.WebhookSecret,
		schedule: s.cfg.WebhookRetrySchedule, scale: s.cfg.WebhookTimeScale,
		queues: map[string][]pendingDelivery{}, wake: map[string]chan struct{}{}, timers: map[*time.Timer]struct{}{},
	}
}

// start launches one worker per organization.
func (d *webhookDispatcher) start(orgIDs []string) {
	for _, id := range orgIDs {
		ch := make(chan struct{}, 1)
		d.wake[id] = ch
		d.s.wg.Add(1)
		go d.worker(id, ch)
	}
}

type webhookMeta struct {
	Event          string `json:"event"`
	OrganizationID string `json:"organization_id"`
}

type webhookData struct {
	ID         string `json:"id"`
	Type       string `json:"type"`
	Attributes any    `json:"attributes"`
	Meta       struct {
		Webhook webhookMeta `json:"webhook"`
	} `json:"meta"`
}

// emit queues a delivery of res to every webhook of org subscribed to name.
// It must be called with the store lock held (it reads org.webhooks) and
// never blocks on the network.
func (d *webhookDispatcher) emit(org *orgData, name string, res resource) {
	var targets []*webhook
	for _, w := range org.webhooks {
		if w.event == name {
			targets = append(targets, w)
		}
	}
	if len(targets) == 0 {
		return
	}
	data := webhookData{ID: res.ID, Type: res.Type, Attributes: res.Attributes}
	data.Meta.Webhook = webhookMeta{Event: name, OrganizationID: org.id}
	body, err := json.Marshal(map[string]any{"data": data})
	if err != nil {
		d.s.log.Error("livestormsim: marshal webhook payload", "event", name, "err", err)
		return
	}
	for _, w := range targets {
		d.enqueue(pendingDelivery{orgID: org.id, webhookID: w.id, url: w.url, event: name, body: body, attempt: 1})
	}
}

func (d *webhookDispatcher) enqueue(p pendingDelivery) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return
	}
	d.queues[p.orgID] = append(d.queues[p.orgID], p)
	select {
	case d.wake[p.orgID] <- struct{}{}:
	default:
	}
}

func (d *webhookDispatcher) worker(orgID string, wake <-chan struct{}) {
	defer d.s.wg.Done()
	for {
		d.mu.Lock()
		q := d.queues[orgID]
		var next pendingDelivery
		ok := len(q) > 0
		if ok {
			next = q[0]
			q[0] = pendingDelivery{}
			d.queues[orgID] = q[1:]
		}
		d.mu.Unlock()
		if ok {
			d.attempt(next)
			continue
		}
		select {
		case <-wake:
		case <-d.s.ctx.Done():
			return
		}
	}
}

// sign computes Livestorm's signature header value for body at ts.
func sign(ts int64, secret string, body []byte) string {
	h := sha256.New()
	h.Write([]byte(strconv.FormatInt(ts, 10)))
	h.Write([]byte(secret))
	h.Write(body)
	return strconv.FormatInt(ts, 10) + "," + hex.EncodeToString(h.Sum(nil))
}

func (d *webhookDispatcher) attempt(p pendingDelivery) {
	if !d.s.webhookExists(p.orgID, p.webhookID) {
		return // deleted or disabled meanwhile
	}
	status, errText := d.post(p)
	d.record(Delivery{WebhookID: p.webhookID, URL: p.url, Event: p.event, OrgID: p.orgID,
		Attempt: p.attempt, Status: status, Err: errText, Time: time.Now()})
	if status >= 200 && status < 300 {
		return
	}
	if d.s.ctx.Err() != nil {
		return
	}
	if p.attempt > len(d.schedule) {
		d.s.disableWebhook(p.orgID, p.webhookID)
		return
	}
	delay := time.Duration(float64(d.schedule[p.attempt-1]) * d.scale)
	p.attempt++
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return
	}
	var t *time.Timer
	t = time.AfterFunc(delay, func() {
		d.mu.Lock()
		delete(d.timers, t)
		d.mu.Unlock()
		d.enqueue(p)
	})
	d.timers[t] = struct{}{}
}

// post makes one HTTP attempt; it returns the status (0 on transport error).
func (d *webhookDispatcher) post(p pendingDelivery) (int, string) {
	req, err := http.NewRequestWithContext(d.s.ctx, http.MethodPost, p.url, bytes.NewReader(p.body))
	if err != nil {
		return 0, err.Error()
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Livestorm-Webhooks/1.0")
	// The timestamp is wall-clock time: receivers check freshness against
	// their own clock, whatever the simulated time is.
	req.Header.Set("x-livestorm-signature", sign(time.Now().Unix(), d.secret, p.body))
	resp, err := d.client.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode >= 300 {
		return resp.StatusCode, resp.Status
	}
	return resp.StatusCode, ""
}

func (d *webhookDispatcher) record(del Delivery) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.deliveries = appendBounded(d.deliveries, del, maxDeliveryRecords)
}

// close stops pending retries; workers end with the simulator's context.
func (d *webhookDispatcher) close() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.closed = true
	for t := range d.timers {
		t.Stop()
	}
	clear(d.timers)
	if tr, ok := d.client.Transport.(interface{ CloseIdleConnections() }); ok {
		tr.CloseIdleConnections()
	}
}

// Deliveries returns every webhook delivery attempt so far, oldest first.
func (s *Simulator) Deliveries() []Delivery {
	s.hooks.mu.Lock()
	defer s.hooks.mu.Unlock()
	return slices.Clone(s.hooks.deliveries)
}

func (s *Simulator) webhookExists(orgID, id string) bool {
	s.store.mu.RLock()
	defer s.store.mu.RUnlock()
	org := s.store.orgByID[orgID]
	return org != nil && org.webhookByID[id] != nil
}

// disableWebhook removes a webhook whose last retry failed: Livestorm has no
// status attribute, so a disabled subscription disappears (wire decision 20).
func (s *Simulator) disableWebhook(orgID, id string) {
	s.store.mu.Lock()
	defer s.store.mu.Unlock()
	org := s.store.orgByID[orgID]
	if org == nil {
		return
	}
	if w := org.webhookByID[id]; w != nil {
		delete(org.webhookByID, id)
		org.webhooks = removeOrdered(org.webhooks, w)
		s.log.Info("livestormsim: webhook disabled after failed retries", "org", orgID, "webhook", id, "url", w.url)
	}
}
