package livestormsim

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// testStart is the manual clock's start time in every test.
var testStart = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

// harness is a simulator behind an httptest server with a client for it.
type harness struct {
	t     *testing.T
	sim   *Simulator
	srv   *httptest.Server
	base  string
	http  *http.Client
	clock *ManualClock
	org   Organization
	org2  Organization
}

// newHarness starts a simulator with a manual clock, SizeSmall and no rate
// limits unless mutate changes the config.
func newHarness(t *testing.T, mutate func(*Config)) *harness {
	t.Helper()
	clock := NewManualClock(testStart)
	cfg := Config{Seed: 7, Size: SizeSmall, Clock: clock, IntervalLimit: -1, MonthlyQuota: -1, JobTaskInterval: time.Millisecond}
	if mutate != nil {
		mutate(&cfg)
	}
	sim, err := New(cfg)
	require.NoError(t, err)
	srv := httptest.NewServer(sim.Handler())
	tr := &http.Transport{}
	h := &harness{t: t, sim: sim, srv: srv, base: srv.URL + "/v1", http: &http.Client{Transport: tr, Timeout: 30 * time.Second}, clock: clock}
	orgs := sim.Organizations()
	h.org = orgs[0]
	if len(orgs) > 1 {
		h.org2 = orgs[1]
	}
	t.Cleanup(func() {
		srv.Close()
		sim.Close()
		tr.CloseIdleConnections()
	})
	return h
}

// apiResp is a decoded response.
type apiResp struct {
	status int
	header http.Header
	body   []byte
	doc    map[string]any
}

// do sends a request with token as the raw Authorization value ("" for
// none). body may be nil, a string (sent verbatim) or any JSON value.
func (h *harness) do(method, path, token string, body any) apiResp {
	h.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		require.NoError(h.t, err)
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, h.base+path, rd)
	require.NoError(h.t, err)
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/vnd.api+json")
	}
	resp, err := h.http.Do(req)
	require.NoError(h.t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(h.t, err)
	out := apiResp{status: resp.StatusCode, header: resp.Header, body: data}
	if len(data) > 0 && strings.Contains(resp.Header.Get("Content-Type"), "json") {
		_ = json.Unmarshal(data, &out.doc)
	}
	return out
}

// get is do(GET) with the first organization's write token.
func (h *harness) get(path string) apiResp { return h.do(http.MethodGet, path, h.org.Token, nil) }

// must asserts the status and returns the response.
func (r apiResp) must(t *testing.T, status int) apiResp {
	t.Helper()
	require.Equalf(t, status, r.status, "body: %s", r.body)
	return r
}

func (r apiResp) data() map[string]any {
	m, _ := r.doc["data"].(map[string]any)
	return m
}

func (r apiResp) list() []map[string]any { return r.objects("data") }

func (r apiResp) meta() map[string]any {
	m, _ := r.doc["meta"].(map[string]any)
	return m
}

func (r apiResp) included() []map[string]any { return r.objects("included") }

// objects returns the document's array member key as objects (empty when
// absent).
func (r apiResp) objects(key string) []map[string]any {
	raw, _ := r.doc[key].([]any)
	out := make([]map[string]any, 0, len(raw))
	for _, v := range raw {
		out = append(out, v.(map[string]any))
	}
	return out
}

// errorStatus returns errors[0].status of an error document.
func (r apiResp) errorStatus() string {
	errs, _ := r.doc["errors"].([]any)
	if len(errs) == 0 {
		return ""
	}
	s, _ := errs[0].(map[string]any)["status"].(string)
	return s
}

func attrs(res map[string]any) map[string]any {
	a, _ := res["attributes"].(map[string]any)
	return a
}

func ids(items []map[string]any) []string {
	out := make([]string, 0, len(items))
	for _, it := range items {
		out = append(out, it["id"].(string))
	}
	return out
}

// listAll fetches every page of a list endpoint (page size 50).
func (h *harness) listAll(path, token string) []map[string]any {
	h.t.Helper()
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	var all []map[string]any
	for page := 0; ; page++ {
		r := h.do(http.MethodGet, path+sep+"page[size]=50&page[number]="+strconv.Itoa(page), token, nil).must(h.t, http.StatusOK)
		all = append(all, r.list()...)
		if r.meta()["next_page"] == nil {
			return all
		}
	}
}

// sessionWithStatus returns a seeded session of the first organization in
// the given status (and, when want is set, satisfying it).
func (h *harness) sessionWithStatus(status string, want func(*session) bool) *session {
	h.t.Helper()
	h.sim.store.mu.RLock()
	defer h.sim.store.mu.RUnlock()
	now := h.sim.Now().Unix()
	for _, sess := range h.sim.store.orgByID[h.org.ID].sessions {
		if sessionStatus(sess, now) == status && (want == nil || want(sess)) {
			return sess
		}
	}
	h.t.Fatalf("no %s session seeded", status)
	return nil
}

// participantOf returns a participant registered to sess.
func (h *harness) participantOf(sess *session) *person {
	h.sim.store.mu.RLock()
	defer h.sim.store.mu.RUnlock()
	for _, r := range sess.regs {
		if r.person.role == roleParticipant {
			return r.person
		}
	}
	h.t.Fatalf("session %s has no participant", sess.id)
	return nil
}

// registrationBody builds a §6.4 registration body.
func registrationBody(email string, extra ...map[string]any) map[string]any {
	fields := []map[string]any{{"id": "email", "value": email}, {"id": "first_name", "value": "Test"}, {"id": "last_name", "value": "Person"}}
	for _, e := range extra {
		fields = append(fields, e)
	}
	return map[string]any{"data": map[string]any{"type": "people", "attributes": map[string]any{"fields": fields, "utm_source": "tests"}}}
}

// receivedHook is one delivery seen by a webhookReceiver.
type receivedHook struct {
	event     string
	signature string
	body      []byte
	header    http.Header
	payload   map[string]any
}

// webhookReceiver is an HTTP endpoint recording deliveries; status decides
// the answer to the nth delivery (1-based).
type webhookReceiver struct {
	srv    *httptest.Server
	mu     sync.Mutex
	hooks  []receivedHook
	status func(n int) int
}

func newWebhookReceiver(t *testing.T, status func(n int) int) *webhookReceiver {
	w := &webhookReceiver{status: status}
	w.srv = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var payload map[string]any
		_ = json.Unmarshal(body, &payload)
		event := ""
		if d, ok := payload["data"].(map[string]any); ok {
			if m, ok := d["meta"].(map[string]any); ok {
				event, _ = m["webhook"].(map[string]any)["event"].(string)
			}
		}
		w.mu.Lock()
		w.hooks = append(w.hooks, receivedHook{event: event, signature: r.Header.Get("x-livestorm-signature"), body: body, header: r.Header.Clone(), payload: payload})
		n := len(w.hooks)
		w.mu.Unlock()
		code := http.StatusOK
		if w.status != nil {
			code = w.status(n)
		}
		rw.WriteHeader(code)
	}))
	t.Cleanup(w.srv.Close)
	return w
}

func (w *webhookReceiver) received() []receivedHook {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]receivedHook(nil), w.hooks...)
}

func (w *webhookReceiver) count(event string) int {
	n := 0
	for _, h := range w.received() {
		if h.event == event {
			n++
		}
	}
	return n
}

// sessionID is the session a delivery is about: the session itself or the
// session of a registrant's detail ("" otherwise).
func (r receivedHook) sessionID() string {
	data, _ := r.payload["data"].(map[string]any)
	if data["type"] == "sessions" {
		return data["id"].(string)
	}
	a, _ := data["attributes"].(map[string]any)
	if d, ok := a["registrant_detail"].(map[string]any); ok {
		s, _ := d["session_id"].(string)
		return s
	}
	return ""
}

// forSession returns the deliveries about one session, in arrival order.
func (w *webhookReceiver) forSession(id string) []receivedHook {
	var out []receivedHook
	for _, h := range w.received() {
		if h.sessionID() == id {
			out = append(out, h)
		}
	}
	return out
}

// countFor counts deliveries of event about session id.
func (w *webhookReceiver) countFor(event, id string) int {
	n := 0
	for _, h := range w.forSession(id) {
		if h.event == event {
			n++
		}
	}
	return n
}

// subscribe creates one webhook per event name pointing at url.
func (h *harness) subscribe(token, url string, events ...string) {
	h.t.Helper()
	for _, e := range events {
		h.do(http.MethodPost, "/webhooks", token, map[string]any{"data": map[string]any{"type": "webhooks", "attributes": map[string]any{"url": url, "event": e}}}).must(h.t, http.StatusCreated)
	}
}

// verifySignature checks x-livestorm-signature as a receiver would:
// "<ts>,<hex(sha256(ts + secret + body))>" with a fresh timestamp.
func verifySignature(t *testing.T, header, secret string, body []byte) {
	t.Helper()
	ts, sig, ok := strings.Cut(header, ",")
	require.Truef(t, ok, "signature header %q", header)
	sum := sha256.Sum256([]byte(ts + secret + string(body)))
	require.Equal(t, hex.EncodeToString(sum[:]), sig)
	n, err := strconv.ParseInt(ts, 10, 64)
	require.NoError(t, err)
	require.InDelta(t, time.Now().Unix(), n, 60, "timestamp must be wall-clock seconds")
}

// eventually polls cond until it holds or 10 s pass.
func eventually(t *testing.T, cond func() bool, msg string) {
	t.Helper()
	require.Eventually(t, cond, 10*time.Second, 5*time.Millisecond, msg)
}
