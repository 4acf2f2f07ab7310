package livestorm

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Kind classifies a failure by what the caller can do about it, independent
// of the exact HTTP status Livestorm chose (sources disagree on several).
type Kind int

// The kinds of failure. KindUnknown is also what KindOf returns for nil and
// for errors that did not come from this package.
const (
	KindUnknown Kind = iota
	KindNotFound
	KindUnauthorized
	KindForbidden
	KindConflict
	KindInvalid
	KindRateLimited
	KindQuotaExhausted
	KindUnavailable
)

var kindNames = [...]string{
	KindUnknown:        "unknown",
	KindNotFound:       "not found",
	KindUnauthorized:   "unauthorized",
	KindForbidden:      "forbidden",
	KindConflict:       "conflict",
	KindInvalid:        "invalid",
	KindRateLimited:    "rate limited",
	KindQuotaExhausted: "quota exhausted",
	KindUnavailable:    "unavailable",
}

// String returns a short lower-case name used in error messages.
func (k Kind) String() string {
	if k < 0 || int(k) >= len(kindNames) {
		return "kind(" + strconv.Itoa(int(k)) + ")"
	}
	return kindNames[k]
}

// Sentinels matching each Kind, so callers can write errors.Is(err, ErrNotFound).
var (
	ErrNotFound       = errors.New("livestorm: not found")
	ErrUnauthorized   = errors.New("livestorm: unauthorized")
	ErrForbidden      = errors.New("livestorm: forbidden")
	ErrConflict       = errors.New("livestorm: conflict")
	ErrInvalid        = errors.New("livestorm: invalid request")
	ErrRateLimited    = errors.New("livestorm: rate limited")
	ErrQuotaExhausted = errors.New("livestorm: quota exhausted")
	ErrUnavailable    = errors.New("livestorm: unavailable")
)

func (k Kind) sentinel() error {
	switch k {
	case KindNotFound:
		return ErrNotFound
	case KindUnauthorized:
		return ErrUnauthorized
	case KindForbidden:
		return ErrForbidden
	case KindConflict:
		return ErrConflict
	case KindInvalid:
		return ErrInvalid
	case KindRateLimited:
		return ErrRateLimited
	case KindQuotaExhausted:
		return ErrQuotaExhausted
	case KindUnavailable:
		return ErrUnavailable
	}
	return nil
}

// ErrorObject is one JSON:API error object from Livestorm's error body. Status
// is kept as sent: Livestorm uses reason strings ("not_found") and some
// sources show numeric strings ("404"); classification uses the HTTP status.
type ErrorObject struct {
	Title, Detail, Code, Status string
	Source                      *struct{ Pointer, Parameter string }
}

// UnmarshalJSON accepts numbers or strings for every member, so an error body
// is never lost because Livestorm typed a member differently.
func (o *ErrorObject) UnmarshalJSON(b []byte) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		// A bare string ("errors":["boom"]) is still a useful message.
		var s string
		if json.Unmarshal(b, &s) == nil {
			*o = ErrorObject{Detail: s}
			return nil
		}
		return err
	}
	a := attrMap{m: m}
	*o = ErrorObject{
		Title:  a.str("title"),
		Detail: a.str("detail"),
		Code:   a.str("code"),
		Status: a.str("status"),
	}
	if o.Detail == "" {
		o.Detail = a.str("message")
	}
	if src := a.object("source"); src != nil {
		o.Source = &struct{ Pointer, Parameter string }{
			Pointer:   src.str("pointer"),
			Parameter: src.str("parameter"),
		}
	}
	return nil
}

// Error is the error type of every Client method. It names the templated
// route, never the URL, so neither ids of people, query strings with emails,
// nor credentials end up in logs.
type Error struct {
	Kind       Kind
	StatusCode int // 0 for transport errors
	Method     string
	Route      string        // templated, e.g. "/events/{id}"
	Errors     []ErrorObject // Livestorm's error objects, when the body had them
	RetryAfter time.Duration // for RateLimited / QuotaExhausted (and give-ups on retry budget)
	Err        error         // underlying cause (transport, decode, ErrNoCredential, …)
}

// Error renders e.g. "livestorm: GET /events/{id}: 404 not found: Event not found".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("livestorm: ")
	if e.Method != "" || e.Route != "" {
		b.WriteString(e.Method)
		if e.Route != "" {
			b.WriteByte(' ')
			b.WriteString(e.Route)
		}
		b.WriteString(": ")
	}
	if e.StatusCode != 0 {
		b.WriteString(strconv.Itoa(e.StatusCode))
		b.WriteByte(' ')
	}
	b.WriteString(e.Kind.String())
	if msg := e.message(); msg != "" {
		b.WriteString(": ")
		b.WriteString(msg)
	}
	if e.RetryAfter > 0 {
		b.WriteString(" (retry after ")
		b.WriteString(e.RetryAfter.String())
		b.WriteByte(')')
	}
	return b.String()
}

func (e *Error) message() string {
	var parts []string
	for _, o := range e.Errors {
		switch {
		case o.Detail != "":
			parts = append(parts, o.Detail)
		case o.Title != "":
			parts = append(parts, o.Title)
		case o.Code != "":
			parts = append(parts, o.Code)
		}
	}
	if len(parts) > 0 {
		return strings.Join(parts, "; ")
	}
	if e.Err != nil {
		return e.Err.Error()
	}
	return ""
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrNotFound) (and the other sentinels) match by Kind.
func (e *Error) Is(target error) bool {
	s := e.Kind.sentinel()
	return s != nil && s == target
}

// KindOf returns the Kind of the first *Error in err's chain, or KindUnknown
// for nil and foreign errors.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindUnknown
}

// kindForStatus maps an HTTP status to a Kind. 429 is refined by the caller
// (quota vs interval) because that needs the headers.
func kindForStatus(status int) Kind {
	switch {
	case status == 400 || status == 422:
		return KindInvalid
	case status == 401:
		return KindUnauthorized
	case status == 402:
		return KindQuotaExhausted
	case status == 403:
		return KindForbidden
	case status == 404:
		return KindNotFound
	case status == 409:
		return KindConflict
	case status == 429:
		return KindRateLimited
	case status >= 500:
		return KindUnavailable
	case status == 405 || status == 406 || status == 415 || (status >= 410 && status < 500):
		return KindInvalid
	}
	return KindUnknown
}

// decodeErrorBody extracts error objects from a JSON error body; anything
// that is not JSON (an HTML proxy page, say) yields nil.
func decodeErrorBody(body []byte) []ErrorObject {
	if len(body) == 0 {
		return nil
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil {
		return nil
	}
	if raw, ok := m["errors"]; ok {
		var objs []ErrorObject
		if json.Unmarshal(raw, &objs) == nil && len(objs) > 0 {
			return objs
		}
		var one ErrorObject
		if json.Unmarshal(raw, &one) == nil && one != (ErrorObject{}) {
			return []ErrorObject{one}
		}
	}
	// Doorkeeper (OAuth) style: {"error":"invalid_token","error_description":"…"}.
	a := attrMap{m: m}
	if code := a.str("error"); code != "" {
		return []ErrorObject{{Code: code, Title: code, Detail: a.str("error_description")}}
	}
	if msg := a.str("message"); msg != "" {
		return []ErrorObject{{Detail: msg}}
	}
	return nil
}
