package livestormsim

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// mediaType is the Content-Type of every JSON response (wire decision 9).
const mediaType = "application/vnd.api+json"

// maxBodyBytes caps request bodies; larger ones get 413.
const maxBodyBytes = 1 << 20

// apiError is a failure that maps to one JSON:API error response.
type apiError struct {
	status int
	detail string
}

func (e *apiError) Error() string { return fmt.Sprintf("%d: %s", e.status, e.detail) }

func errorf(status int, format string, args ...any) *apiError {
	return &apiError{status: status, detail: fmt.Sprintf(format, args...)}
}

// statusReasons gives the snake_case errors[].status/code and title per HTTP
// status (wire decision 9).
var statusReasons = map[int][2]string{
	http.StatusBadRequest:            {"bad_request", "Bad Request"},
	http.StatusUnauthorized:          {"unauthorized", "Unauthorized"},
	http.StatusPaymentRequired:       {"payment_required", "Payment Required"},
	http.StatusForbidden:             {"forbidden", "Forbidden"},
	http.StatusNotFound:              {"not_found", "Not Found"},
	http.StatusMethodNotAllowed:      {"method_not_allowed", "Method Not Allowed"},
	http.StatusConflict:              {"conflict", "Conflict"},
	http.StatusRequestEntityTooLarge: {"payload_too_large", "Payload Too Large"},
	http.StatusUnprocessableEntity:   {"unprocessable_entity", "Unprocessable Entity"},
	http.StatusTooManyRequests:       {"too_many_requests", "Too Many Requests"},
	http.StatusInternalServerError:   {"internal_server_error", "Internal Server Error"},
	http.StatusBadGateway:            {"bad_gateway", "Bad Gateway"},
	http.StatusServiceUnavailable:    {"service_unavailable", "Service Unavailable"},
	http.StatusGatewayTimeout:        {"gateway_timeout", "Gateway Timeout"},
}

func reason(status int) (code, title string) {
	if r, ok := statusReasons[status]; ok {
		return r[0], r[1]
	}
	return strconv.Itoa(status), http.StatusText(status)
}

type errorObject struct {
	Title  string `json:"title"`
	Detail string `json:"detail"`
	Code   string `json:"code"`
	Status string `json:"status"`
}

// response is what route handlers return; the middleware writes it, which
// lets fault injection corrupt bodies and keeps handlers free of I/O.
type response struct {
	status int
	body   []byte
	header http.Header
}

func errorResponse(status int, detail string) response {
	code, title := reason(status)
	body, _ := json.Marshal(map[string][]errorObject{"errors": {{Title: title, Detail: detail, Code: code, Status: code}}})
	return response{status: status, body: body}
}

func jsonResponse(status int, v any) response {
	body, err := json.Marshal(v)
	if err != nil {
		return errorResponse(http.StatusInternalServerError, "Internal server error")
	}
	return response{status: status, body: body}
}

func noContent() response { return response{status: http.StatusNoContent} }

// resource is a JSON:API resource object.
type resource struct {
	ID            string                  `json:"id"`
	Type          string                  `json:"type"`
	Attributes    any                     `json:"attributes"`
	Relationships map[string]relationship `json:"relationships,omitempty"`
}

type relationship struct {
	Data any `json:"data"`
}

type identifier struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

// setRel adds a relationship to r.
func (r *resource) setRel(name string, data any) {
	if r.Relationships == nil {
		r.Relationships = map[string]relationship{}
	}
	r.Relationships[name] = relationship{Data: data}
}

type document struct {
	Data     any        `json:"data"`
	Meta     *pageMeta  `json:"meta,omitempty"`
	Included []resource `json:"included,omitempty"`
}

// pageMeta is the six-key pagination meta of D-pag (wire decision 5).
type pageMeta struct {
	CurrentPage  int  `json:"current_page"`
	PreviousPage *int `json:"previous_page"`
	NextPage     *int `json:"next_page"`
	RecordCount  int  `json:"record_count"`
	PageCount    int  `json:"page_count"`
	ItemsPerPage int  `json:"items_per_page"`
}

// includer collects compound-document resources once each.
type includer struct {
	seen map[string]bool
	list []resource
}

func (in *includer) add(r resource) {
	if in.seen == nil {
		in.seen = map[string]bool{}
	}
	k := r.Type + "/" + r.ID
	if !in.seen[k] {
		in.seen[k] = true
		in.list = append(in.list, r)
	}
}

// querySpec declares which query parameters an endpoint understands.
type querySpec struct {
	paginated bool
	filters   []string
	includes  []string
	sortable  []string
}

// listQuery is a parsed and validated query string.
type listQuery struct {
	page, size int
	filters    map[string]string
	include    map[string]bool
	sort       []sortKey
}

type sortKey struct {
	field string
	desc  bool
}

func (q *listQuery) has(include string) bool { return q.include[include] }

func (q *listQuery) filter(name string) (string, bool) {
	v, ok := q.filters[name]
	return v, ok
}

// parseQuery validates pagination, filters, include and sort against spec:
// unknown filters, includes, sort fields and bad page values are 400s.
func parseQuery(values url.Values, spec querySpec, defSize, maxSize int) (*listQuery, *apiError) {
	q := &listQuery{size: defSize, filters: map[string]string{}, include: map[string]bool{}}
	for key, vals := range values {
		val := vals[len(vals)-1]
		switch {
		case strings.HasPrefix(key, "filter[") && strings.HasSuffix(key, "]"):
			name := key[len("filter[") : len(key)-1]
			if !slices.Contains(spec.filters, name) {
				return nil, errorf(http.StatusBadRequest, "Unknown filter '%s'", name)
			}
			q.filters[name] = val
		case key == "page[number]" || key == "page[size]":
			if !spec.paginated {
				return nil, errorf(http.StatusBadRequest, "This endpoint is not paginated")
			}
			n, err := strconv.Atoi(strings.TrimSpace(val))
			if key == "page[number]" {
				if err != nil || n < 0 {
					return nil, errorf(http.StatusBadRequest, "page[number] must be an integer >= 0")
				}
				q.page = n
			} else {
				if err != nil || n < 1 {
					return nil, errorf(http.StatusBadRequest, "page[size] must be an integer >= 1")
				}
				q.size = min(n, maxSize)
			}
		case strings.HasPrefix(key, "page["):
			return nil, errorf(http.StatusBadRequest, "Unknown pagination parameter '%s'", key)
		case key == "include":
			for _, v := range vals {
				for _, name := range strings.Split(v, ",") {
					name = strings.TrimSpace(name)
					if name == "" {
						continue
					}
					if !slices.Contains(spec.includes, name) {
						return nil, errorf(http.StatusBadRequest, "Unknown include '%s'", name)
					}
					q.include[name] = true
				}
			}
		case key == "sort":
			if len(spec.sortable) == 0 {
				return nil, errorf(http.StatusBadRequest, "This endpoint does not support sorting")
			}
			for _, f := range strings.Split(val, ",") {
				f = strings.TrimSpace(f)
				desc := strings.HasPrefix(f, "-")
				f = strings.TrimPrefix(f, "-")
				if !slices.Contains(spec.sortable, f) {
					return nil, errorf(http.StatusBadRequest, "Unknown sort field '%s'", f)
				}
				q.sort = append(q.sort, sortKey{field: f, desc: desc})
			}
		}
	}
	return q, nil
}

// paginate returns the requested page of items and its meta (0-based pages;
// a page past the end is a 400, except page 0 of an empty list).
func paginate[T any](items []T, q *listQuery) ([]T, *pageMeta, *apiError) {
	total := len(items)
	pages := (total + q.size - 1) / q.size
	if q.page >= pages && !(q.page == 0 && total == 0) {
		return nil, nil, errorf(http.StatusBadRequest, "Page %d does not exist (page_count is %d)", q.page, pages)
	}
	meta := &pageMeta{CurrentPage: q.page, RecordCount: total, PageCount: pages, ItemsPerPage: q.size}
	if q.page > 0 {
		p := q.page - 1
		meta.PreviousPage = &p
	}
	if q.page+1 < pages {
		n := q.page + 1
		meta.NextPage = &n
	}
	start := min(q.page*q.size, total)
	end := min(start+q.size, total)
	return items[start:end], meta, nil
}

// readBody reads a capped request body and unmarshals it into v. Empty,
// malformed or mistyped bodies are 400s; oversized ones are 413s.
func readBody(r *http.Request, v any) *apiError {
	data, err := io.ReadAll(r.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return errorf(http.StatusRequestEntityTooLarge, "Request body exceeds %d bytes", maxBodyBytes)
		}
		return errorf(http.StatusBadRequest, "Could not read request body")
	}
	if len(strings.TrimSpace(string(data))) == 0 {
		return errorf(http.StatusBadRequest, "Request body is empty")
	}
	if err := json.Unmarshal(data, v); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			field := typeErr.Field
			if field == "" {
				field = "body"
			}
			return errorf(http.StatusBadRequest, "Invalid value for '%s': expected %s", field, typeErr.Type)
		}
		return errorf(http.StatusBadRequest, "Malformed JSON body: %v", err)
	}
	return nil
}

// checkType rejects a data.type that names another resource type.
func checkType(got, want string) *apiError {
	if got != "" && got != want {
		return errorf(http.StatusBadRequest, "data.type must be '%s', got '%s'", want, got)
	}
	return nil
}

// Date/time layouts accepted in filters and request bodies.
var (
	dateTimeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02 15:04:05 -0700"}
	dateLayout      = "2006-01-02"
)

// parseTime parses a Unix timestamp or an ISO 8601 date/date-time in loc.
// A date without a time means the start of that day, or its last second when
// endOfDay is set (so "until 2024-05-01" includes that day).
func parseTime(v string, loc *time.Location, endOfDay bool) (int64, bool) {
	v = strings.TrimSpace(v)
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		return n, true
	}
	if t, err := time.ParseInLocation(dateLayout, v, loc); err == nil {
		if endOfDay {
			return t.AddDate(0, 0, 1).Unix() - 1, true
		}
		return t.Unix(), true
	}
	for _, layout := range dateTimeLayouts {
		if t, err := time.ParseInLocation(layout, v, loc); err == nil {
			return t.Unix(), true
		}
	}
	return 0, false
}

// boolFilter parses filter[name] as "true" or "false" (any case); it returns
// nil when the filter is absent.
func boolFilter(q *listQuery, name string) (*bool, *apiError) {
	v, ok := q.filter(name)
	if !ok {
		return nil, nil
	}
	var b bool
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true":
		b = true
	case "false":
	default:
		return nil, errorf(http.StatusBadRequest, "filter[%s] must be true or false", name)
	}
	return &b, nil
}

// timeFilter parses filter[name] with parseTime in UTC; it returns nil when
// the filter is absent.
func timeFilter(q *listQuery, name string, endOfDay bool) (*int64, *apiError) {
	v, ok := q.filter(name)
	if !ok {
		return nil, nil
	}
	ts, ok := parseTime(v, time.UTC, endOfDay)
	if !ok {
		return nil, errorf(http.StatusBadRequest, "filter[%s] must be a Unix timestamp or an ISO 8601 date", name)
	}
	return &ts, nil
}

// timeRange is the created/updated since/until filter family.
type timeRange struct {
	createdSince, createdUntil, updatedSince, updatedUntil *int64
}

// timeRangeFilters are the filter names timeRange understands.
var timeRangeFilters = []string{"created_since", "created_until", "updated_since", "updated_until"}

func parseTimeRange(q *listQuery) (timeRange, *apiError) {
	var tr timeRange
	for _, f := range []struct {
		name     string
		dst      **int64
		endOfDay bool
	}{{"created_since", &tr.createdSince, false}, {"created_until", &tr.createdUntil, true},
		{"updated_since", &tr.updatedSince, false}, {"updated_until", &tr.updatedUntil, true}} {
		var e *apiError
		if *f.dst, e = timeFilter(q, f.name, f.endOfDay); e != nil {
			return tr, e
		}
	}
	return tr, nil
}

func (tr timeRange) match(created, updated int64) bool {
	return (tr.createdSince == nil || created >= *tr.createdSince) &&
		(tr.createdUntil == nil || created <= *tr.createdUntil) &&
		(tr.updatedSince == nil || updated >= *tr.updatedSince) &&
		(tr.updatedUntil == nil || updated <= *tr.updatedUntil)
}

// filterSlice keeps the items for which keep is true; it returns s itself when
// keep is nil, so unfiltered lists cost nothing.
func filterSlice[T any](s []T, keep func(T) bool) []T {
	if keep == nil {
		return s
	}
	out := make([]T, 0, len(s))
	for _, v := range s {
		if keep(v) {
			out = append(out, v)
		}
	}
	return out
}

// nullable returns nil for "" so optional strings render as JSON null.
func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
