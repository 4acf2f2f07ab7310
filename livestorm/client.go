// Package livestorm is a client for Livestorm's public REST API v1
// (https://api.livestorm.co/v1): JSON:API documents, page-number pagination,
// API-token and OAuth credentials, a per-credential limiter that keeps a
// workspace under Livestorm's 5 requests/second, retries of idempotent calls
// that honour Retry-After, typed errors, and webhook signature checks.
//
// Every method takes the credential from its context (ContextWithCredential)
// or falls back to the client's default (WithCredential), so one Client can
// serve many workspaces.
package livestorm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"go.opentelemetry.io/otel/trace"
)

// DefaultBaseURL is Livestorm's production API root, version prefix included.
const DefaultBaseURL = "https://api.livestorm.co/v1"

// DefaultMaxResponseBytes bounds how much of a response body is read.
const DefaultMaxResponseBytes int64 = 8 << 20

// DefaultUserAgent identifies the gateway to Livestorm.
const DefaultUserAgent = "livestorm-gateway-go/1.0 (+https://github.com/livestorm-gateway/gateway)"

// mediaType is the JSON:API media type Livestorm's own examples send and accept.
const mediaType = "application/vnd.api+json"

// Client calls Livestorm's REST API. It is safe for concurrent use; create
// one per process and share it.
type Client struct {
	baseURL    string
	cred       Credential
	http       *http.Client
	limiter    Limiter
	retry      RetryPolicy
	observer   func(RequestInfo)
	logger     *slog.Logger
	maxBody    int64
	userAgent  string
	rateLimits rateLimitStore
	rateShare  RateLimitShare
	now        func() time.Time
}

// Option configures a Client.
type Option func(*Client)

// New returns a Client. Without options it talks to DefaultBaseURL with no
// default credential (every call must carry one in its context), a 15 s HTTP
// timeout, NewLocalLimiter(5, time.Second) and DefaultRetryPolicy.
func New(opts ...Option) *Client {
	c := &Client{
		baseURL:   DefaultBaseURL,
		http:      defaultHTTPClient(),
		limiter:   NewLocalLimiter(5, time.Second),
		retry:     DefaultRetryPolicy,
		logger:    slog.New(slog.DiscardHandler),
		maxBody:   DefaultMaxResponseBytes,
		userAgent: DefaultUserAgent,
		now:       time.Now,
	}
	for _, o := range opts {
		if o != nil {
			o(c)
		}
	}
	c.retry = c.retry.withDefaults()
	return c
}

func defaultHTTPClient() *http.Client {
	var rt http.RoundTripper = http.DefaultTransport
	if t, ok := http.DefaultTransport.(*http.Transport); ok {
		t = t.Clone()
		// Concurrent GETs for one workspace go to one host: keep enough idle
		// connections that a burst does not redial every time.
		t.MaxIdleConnsPerHost = 16
		rt = t
	}
	return &http.Client{Timeout: 15 * time.Second, Transport: rt}
}

// WithBaseURL sets the API root, including its path prefix (e.g. a
// simulator's "http://127.0.0.1:9000/v1").
func WithBaseURL(u string) Option {
	return func(c *Client) {
		if u = strings.TrimRight(strings.TrimSpace(u), "/"); u != "" {
			c.baseURL = u
		}
	}
}

// WithCredential sets the credential used when a call's context carries none.
func WithCredential(cred Credential) Option { return func(c *Client) { c.cred = cred } }

// WithHTTPClient replaces the HTTP client (default: 15 s timeout).
func WithHTTPClient(h *http.Client) Option {
	return func(c *Client) {
		if h != nil {
			c.http = h
		}
	}
}

// WithLimiter replaces the request pacer (default NewLocalLimiter(5,
// time.Second)); nil disables client-side pacing.
func WithLimiter(l Limiter) Option { return func(c *Client) { c.limiter = l } }

// WithRetryPolicy sets retry bounds; zero fields take DefaultRetryPolicy's values.
func WithRetryPolicy(p RetryPolicy) Option { return func(c *Client) { c.retry = p } }

// WithObserver registers a function called once per HTTP attempt, e.g. to
// feed metrics. It runs synchronously on the calling goroutine.
func WithObserver(f func(RequestInfo)) Option { return func(c *Client) { c.observer = f } }

// WithLogger sets the logger for per-attempt debug lines and retry warnings.
// Lines carry method, templated route, status and attempt; never URLs,
// queries or secrets.
func WithLogger(l *slog.Logger) Option {
	return func(c *Client) {
		if l != nil {
			c.logger = l
		}
	}
}

// WithMaxResponseBytes bounds response bodies (default 8 MiB); a larger body
// fails with KindUnavailable instead of exhausting memory.
func WithMaxResponseBytes(n int64) Option {
	return func(c *Client) {
		if n > 0 {
			c.maxBody = n
		}
	}
}

// WithUserAgent sets the User-Agent header.
func WithUserAgent(ua string) Option {
	return func(c *Client) {
		if ua = strings.TrimSpace(ua); ua != "" {
			c.userAgent = ua
		}
	}
}

// CloseIdleConnections closes idle keep-alive connections of the underlying
// HTTP client, for orderly shutdown and leak-checking tests.
func (c *Client) CloseIdleConnections() { c.http.CloseIdleConnections() }

// RequestInfo describes one HTTP attempt, for observers (metrics, tracing).
type RequestInfo struct {
	Method    string
	Route     string // templated: "/events/{id}/sessions"
	Status    int    // 0 on transport error
	Duration  time.Duration
	Attempt   int   // 1-based
	Err       error // nil on success
	RateLimit RateLimit
	// RateLimitWait is how long the attempt waited for the client's rate limiter.
	RateLimitWait time.Duration
	// Span is the attempt's client span (invalid when it is not traced), e.g. for
	// exemplars.
	Span trace.SpanContext
}

// credential returns the call's credential: the context's, else the default.
func (c *Client) credential(ctx context.Context) Credential {
	if cred, ok := CredentialFrom(ctx); ok {
		return cred
	}
	return c.cred
}

// pathParams are the values substituted into a route template.
type pathParams map[string]string

// decodeFunc consumes a 2xx response body. An error means the body was
// truncated or malformed, which makes a GET retryable.
type decodeFunc func(body []byte) error

// expandRoute substitutes {name} segments with path-escaped values. An empty
// value is an error: "/events/" would silently address the collection.
func expandRoute(route string, params pathParams) (string, error) {
	var b strings.Builder
	rest := route
	for {
		i := strings.IndexByte(rest, '{')
		if i < 0 {
			b.WriteString(rest)
			return b.String(), nil
		}
		j := strings.IndexByte(rest[i:], '}')
		if j < 0 {
			return "", fmt.Errorf("unterminated parameter in route %q", route)
		}
		name := rest[i+1 : i+j]
		v, ok := params[name]
		if !ok || strings.TrimSpace(v) == "" {
			return "", fmt.Errorf("empty path parameter %q", name)
		}
		b.WriteString(rest[:i])
		b.WriteString(url.PathEscape(v))
		rest = rest[i+j+1:]
	}
}

// do performs one API call: credential, limiter, request, retries. route is
// the template reported in errors and RequestInfo.
func (c *Client) do(ctx context.Context, method, route string, params pathParams, query url.Values, body any, decode decodeFunc) error {
	cred := c.credential(ctx)
	if cred.IsZero() {
		return &Error{Kind: KindUnauthorized, Method: method, Route: route, Err: ErrNoCredential}
	}
	if !cred.valid() {
		return &Error{Kind: KindUnauthorized, Method: method, Route: route, Err: errors.New("credential contains control characters")}
	}
	path, err := expandRoute(route, params)
	if err != nil {
		return &Error{Kind: KindInvalid, Method: method, Route: route, Err: err}
	}
	u := c.baseURL + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var payload []byte
	if body != nil {
		if payload, err = json.Marshal(body); err != nil {
			return &Error{Kind: KindInvalid, Method: method, Route: route, Err: fmt.Errorf("encoding request body: %w", err)}
		}
	}
	fp := cred.Fingerprint()
	var waited time.Duration
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return ctxError(method, route, err)
		}
		queued := time.Now() // the attempt's span and RateLimitWait start here
		if c.limiter != nil {
			if err := c.limiter.Wait(ctx, fp); err != nil {
				return ctxError(method, route, err)
			}
		}
		res := c.attempt(ctx, cred, method, route, u, payload, decode, attempt, queued)
		if res.err == nil {
			return nil
		}
		if !idempotent(method) || !res.retryable || attempt >= c.retry.MaxAttempts || ctx.Err() != nil {
			return res.err
		}
		wait := res.retryAfter
		if !res.hasRetryAfter {
			wait = c.retry.backoff(attempt)
		}
		if waited+wait > c.retry.MaxTotalWait {
			// Copy: the observer may have kept the attempt's error.
			e := *res.err
			e.RetryAfter = max(e.RetryAfter, wait)
			return &e
		}
		c.logger.LogAttrs(ctx, slog.LevelWarn, "livestorm: retrying",
			slog.String("method", method), slog.String("route", route), slog.Int("attempt", attempt),
			slog.Int("status", res.err.StatusCode), slog.String("kind", res.err.Kind.String()), slog.Duration("wait", wait))
		if err := sleepCtx(ctx, wait); err != nil {
			e := ctxError(method, route, err)
			e.Errors, e.StatusCode = res.err.Errors, res.err.StatusCode
			return e
		}
		waited += wait
	}
}

// ctxError wraps a context (or limiter) failure. A deadline is a timeout
// (Unavailable); a cancellation means the caller left (Unknown).
func ctxError(method, route string, err error) *Error {
	kind := KindUnavailable
	if errors.Is(err, context.Canceled) {
		kind = KindUnknown
	}
	return &Error{Kind: kind, Method: method, Route: route, Err: err}
}

type attemptResult struct {
	err           *Error
	retryable     bool
	retryAfter    time.Duration
	hasRetryAfter bool
}

func (c *Client) attempt(ctx context.Context, cred Credential, method, route, u string, payload []byte, decode decodeFunc, attempt int, queued time.Time) (res attemptResult) {
	ctx, span := c.startSpan(ctx, method, route, attempt, queued)
	start := c.now()
	info := RequestInfo{Method: method, Route: route, Attempt: attempt, RateLimitWait: time.Since(queued), Span: span.SpanContext()}
	defer func() {
		info.Duration = c.now().Sub(start)
		if res.err != nil {
			info.Err = res.err
		}
		level := slog.LevelDebug
		if res.err != nil {
			level = slog.LevelInfo
		}
		if c.logger.Enabled(ctx, level) {
			attrs := []slog.Attr{slog.String("method", method), slog.String("route", route),
				slog.Int("status", info.Status), slog.Int("attempt", attempt), slog.Duration("duration", info.Duration),
				slog.Any("credential", cred)}
			if res.err != nil {
				attrs = append(attrs, slog.String("error", res.err.Error()))
			}
			c.logger.LogAttrs(ctx, level, "livestorm: request", attrs...)
		}
		endSpan(span, info, res.err)
		if c.observer != nil {
			c.observer(info)
		}
		observeContext(ctx, info)
	}()
	fail := func(kind Kind, status int, err error) *Error {
		return &Error{Kind: kind, StatusCode: status, Method: method, Route: route, Err: err}
	}

	var bodyReader io.Reader
	if payload != nil {
		bodyReader = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, bodyReader)
	if err != nil {
		res.err = fail(KindInvalid, 0, fmt.Errorf("building request: %w", stripURL(err)))
		return res
	}
	req.Header.Set("Authorization", cred.authorization())
	req.Header.Set("Accept", mediaType)
	req.Header.Set("User-Agent", c.userAgent)
	if payload != nil {
		req.Header.Set("Content-Type", mediaType)
	}

	countCall(ctx)
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			res.err = ctxError(method, route, ctx.Err())
			return res
		}
		res.err = fail(KindUnavailable, 0, stripURL(err))
		res.retryable = true
		return res
	}
	defer resp.Body.Close()
	info.Status = resp.StatusCode
	now := c.now()
	rl, present := parseRateLimit(resp.Header, now)
	info.RateLimit = rl
	if merged, ok := c.rateLimits.update(cred.Fingerprint(), rl, present); ok && c.rateShare != nil {
		c.rateShare.Publish(cred.Fingerprint(), merged)
	}

	body, readErr := io.ReadAll(io.LimitReader(resp.Body, c.maxBody+1))
	if int64(len(body)) > c.maxBody {
		res.err = fail(KindUnavailable, resp.StatusCode, fmt.Errorf("response body exceeds %d bytes", c.maxBody))
		return res
	}
	if readErr != nil {
		if ctx.Err() != nil {
			res.err = ctxError(method, route, ctx.Err())
			return res
		}
		res.err = fail(KindUnavailable, resp.StatusCode, fmt.Errorf("reading response body: %w", stripURL(readErr)))
		res.retryable = true
		return res
	}

	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		if decode != nil {
			if err := decode(body); err != nil {
				if !idempotent(method) {
					err = fmt.Errorf("%w (the write may have been applied)", err)
				}
				res.err = fail(KindUnavailable, resp.StatusCode, fmt.Errorf("decoding response: %w", err))
				res.retryable = true
			}
		}
		return res
	}

	kind := kindForStatus(resp.StatusCode)
	e := fail(kind, resp.StatusCode, nil)
	e.Errors = decodeErrorBody(body)
	res.retryAfter, res.hasRetryAfter = parseRetryAfter(resp.Header, now)
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		if present.monthlyRemaining && rl.MonthlyRemaining <= 0 {
			e.Kind = KindQuotaExhausted
			e.RetryAfter = res.retryAfter
			if !res.hasRetryAfter && !rl.Reset.IsZero() {
				e.RetryAfter = max(rl.Reset.Sub(now), 0)
			}
		} else {
			e.RetryAfter = res.retryAfter
			if !res.hasRetryAfter {
				e.RetryAfter = time.Second // Livestorm's interval window
			}
			res.retryable = true
		}
	case resp.StatusCode >= 500:
		res.retryable = true
		if res.hasRetryAfter {
			e.RetryAfter = res.retryAfter
		}
	}
	if e.Kind == KindUnknown {
		e.Err = fmt.Errorf("unexpected status %s", http.StatusText(resp.StatusCode))
	}
	res.err = e
	return res
}

// stripURL removes the request URL from net/http errors: it may carry ids
// and emails in its query, and errors end up in logs.
func stripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) && ue.Err != nil {
		return ue.Err
	}
	return err
}
