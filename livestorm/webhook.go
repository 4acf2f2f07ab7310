package livestorm

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// SignatureHeader carries Livestorm's webhook signature: "<unix ts>,<hex>".
const SignatureHeader = "x-livestorm-signature"

// DefaultWebhookTolerance is the freshness window VerifyWebhook applies when
// given a tolerance <= 0.
const DefaultWebhookTolerance = 5 * time.Minute

// Webhook event names (livestorm-api.md §9.2). JobCreated is announced by
// Livestorm's changelog but missing from its list; the simulator sends it.
const (
	EventCreated        = "event.created"
	EventPublished      = "event.published"
	SessionCreated      = "session.created"
	SessionStarted      = "session.started"
	SessionEnded        = "session.ended"
	PeopleRegistered    = "people.registered"
	PeopleAttended      = "people.attended"
	PeopleNotAttended   = "people.not_attended"
	PeopleWatchedReplay = "people.watched_replay"
	JobCreated          = "job.created"
	JobEnded            = "job.ended"
)

// Signature verification failures, distinguished so a receiver can log
// (and count) why a delivery was refused.
var (
	ErrSignatureMissing   = errors.New("livestorm: webhook signature missing")
	ErrSignatureMalformed = errors.New("livestorm: webhook signature malformed")
	ErrSignatureMismatch  = errors.New("livestorm: webhook signature mismatch")
	ErrSignatureStale     = errors.New("livestorm: webhook signature timestamp outside tolerance")
)

func signatureDigest(secret string, ts int64, body []byte) []byte {
	h := sha256.New()
	h.Write([]byte(strconv.FormatInt(ts, 10)))
	h.Write([]byte(secret))
	h.Write(body)
	return h.Sum(nil)
}

// SignWebhook returns the x-livestorm-signature value for body:
// "<unix>,<hex sha256(unix + secret + body)>" — plain SHA-256 of the
// concatenation, as Livestorm documents it (not HMAC).
func SignWebhook(secret string, ts time.Time, body []byte) string {
	unix := ts.Unix()
	return strconv.FormatInt(unix, 10) + "," + hex.EncodeToString(signatureDigest(secret, unix, body))
}

// VerifyWebhook checks a delivery's signature header against body in
// constant time, then its freshness: |now - ts| > tolerance is
// ErrSignatureStale (tolerance <= 0 means DefaultWebhookTolerance). The
// older "<hex>,<ts>" order is accepted too.
func VerifyWebhook(secret, header string, body []byte, now time.Time, tolerance time.Duration) error {
	header = strings.TrimSpace(header)
	if header == "" {
		return ErrSignatureMissing
	}
	if secret == "" {
		return fmt.Errorf("%w: no secret configured", ErrSignatureMismatch)
	}
	ts, sig, err := parseSignatureHeader(header)
	if err != nil {
		return err
	}
	if subtle.ConstantTimeCompare(sig, signatureDigest(secret, ts, body)) != 1 {
		return ErrSignatureMismatch
	}
	if tolerance <= 0 {
		tolerance = DefaultWebhookTolerance
	}
	age := now.Sub(time.Unix(ts, 0))
	if age > tolerance || age < -tolerance {
		return fmt.Errorf("%w: signed %s ago", ErrSignatureStale, age.Truncate(time.Second))
	}
	return nil
}

func parseSignatureHeader(h string) (int64, []byte, error) {
	parts := strings.Split(h, ",")
	if len(parts) != 2 {
		return 0, nil, ErrSignatureMalformed
	}
	a, b := strings.TrimSpace(parts[0]), strings.TrimSpace(parts[1])
	if !isDigits(a) && isDigits(b) { // legacy "<hex>,<ts>"
		a, b = b, a
	}
	if !isDigits(a) || len(a) > 12 {
		return 0, nil, ErrSignatureMalformed
	}
	ts, err := strconv.ParseInt(a, 10, 64)
	if err != nil {
		return 0, nil, ErrSignatureMalformed
	}
	if len(b) != sha256.Size*2 {
		return 0, nil, ErrSignatureMalformed
	}
	sig, err := hex.DecodeString(b)
	if err != nil {
		return 0, nil, ErrSignatureMalformed
	}
	return ts, sig, nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// WebhookEvent is a decoded webhook delivery.
type WebhookEvent struct {
	Name           string // "people.registered", …
	OrganizationID string
	ResourceType   string // "people", "sessions", "events", "jobs"
	ResourceID     string
	// The decoded resource, by ResourceType; the others are nil.
	Person  *Person
	Session *Session
	Event   *Event
	Job     *Job
	// Raw is the delivery body as received.
	Raw json.RawMessage
}

// ParseWebhook decodes a delivery:
// {"data":{"id","type","attributes",…,"meta":{"webhook":{"event","organization_id"}}}}.
// meta.webhook is also read at the top level. Verify the signature first.
func ParseWebhook(body []byte) (*WebhookEvent, error) {
	doc, err := parseDocument(body)
	if err != nil {
		return nil, fmt.Errorf("livestorm: webhook payload: %w", err)
	}
	r, err := doc.one()
	if err != nil {
		return nil, fmt.Errorf("livestorm: webhook payload: %w", err)
	}
	ev := &WebhookEvent{ResourceType: r.Type, ResourceID: r.ID, Raw: append(json.RawMessage(nil), bytes.TrimSpace(body)...)}
	for _, meta := range []attrMap{r.meta, doc.meta} {
		if wh := meta.object("webhook"); wh != nil {
			if ev.Name == "" {
				ev.Name = wh.str("event", "name", "event_name")
			}
			if ev.OrganizationID == "" {
				ev.OrganizationID = wh.str("organization_id")
			}
		}
	}
	if ev.Name == "" {
		var top map[string]json.RawMessage
		if json.Unmarshal(body, &top) == nil {
			ev.Name = attrMap{m: top}.str("event", "event_name")
		}
	}
	if ev.Name == "" {
		return nil, errors.New("livestorm: webhook payload has no event name (meta.webhook.event)")
	}
	d := newDecoder(doc)
	switch r.Type {
	case "people", "person":
		p := d.person(r, true)
		ev.Person = &p
	case "sessions", "session":
		s := d.session(r, true)
		ev.Session = &s
	case "events", "event":
		e := d.event(r, true)
		ev.Event = &e
	case "jobs", "job":
		j := d.job(r)
		ev.Job = &j
	}
	return ev, nil
}
