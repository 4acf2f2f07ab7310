package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/Khan/genqlient/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/livestorm-gateway/gateway/examples/bff/gateway"
)

// NewHandler serves the dashboard's JSON API from the gateway client gql:
//
//	GET  /api/events?first=20&after=<cursor>&since=<RFC 3339>&tag=<title>   events, their sessions and counters
//	POST /api/registrations  {"sessionId", "email", "firstName", "lastName", "utmSource"}
//
// Each route is one GraphQL operation (gateway.Dashboard, gateway.Register): one round
// trip to the gateway, whatever the page shows.
func NewHandler(gql graphql.Client) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/events", func(w http.ResponseWriter, r *http.Request) { listEvents(w, r, gql) })
	mux.HandleFunc("POST /api/registrations", func(w http.ResponseWriter, r *http.Request) { register(w, r, gql) })
	return mux
}

// Event is an event as the dashboard shows it.
type Event struct {
	ID          string     `json:"id"`
	LivestormID string     `json:"livestormId"`
	Title       string     `json:"title"`
	Status      string     `json:"status"`
	Schedule    string     `json:"schedule"`
	PublishedAt *time.Time `json:"publishedAt"`
	Registrants int        `json:"registrants"`
	Sessions    []Session  `json:"sessions"`
}

// Session is one session of an Event.
type Session struct {
	ID          string     `json:"id"`
	Name        string     `json:"name,omitempty"`
	Status      string     `json:"status"`
	StartsAt    *time.Time `json:"startsAt"`
	Registrants int        `json:"registrants"`
	Attendees   int        `json:"attendees"`
}

// EventsPage is the answer of GET /api/events.
type EventsPage struct {
	TotalCount int     `json:"totalCount"`
	NextCursor string  `json:"nextCursor,omitempty"`
	Events     []Event `json:"events"`
}

func listEvents(w http.ResponseWriter, r *http.Request, gql graphql.Client) {
	q := r.URL.Query()
	var first *int
	if s := q.Get("first"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			writeError(w, http.StatusBadRequest, "BAD_USER_INPUT", "first: not a number")
			return
		}
		first = &n
	}
	var after *string
	if s := q.Get("after"); s != "" {
		after = &s
	}
	// Only what the caller asked for goes into the filter; without anything, no filter
	// at all is sent (omitempty), rather than a filter of zero values.
	var filter *gateway.EventFilter
	if s := q.Get("since"); s != "" {
		since, err := time.Parse(time.RFC3339, s)
		if err != nil {
			writeError(w, http.StatusBadRequest, "BAD_USER_INPUT", "since: not an RFC 3339 date-time")
			return
		}
		filter = &gateway.EventFilter{CreatedSince: &since}
	}
	if tags := q["tag"]; len(tags) > 0 {
		if filter == nil {
			filter = &gateway.EventFilter{}
		}
		filter.Tags = tags
	}

	resp, err := gateway.Dashboard(r.Context(), gql, first, after, filter)
	if err != nil {
		writeGatewayError(w, err)
		return
	}
	page := EventsPage{Events: []Event{}}
	if ev := resp.Events; ev != nil {
		page.TotalCount = ev.TotalCount
		if ev.PageInfo.HasNextPage && ev.PageInfo.EndCursor != nil {
			page.NextCursor = *ev.PageInfo.EndCursor
		}
		for _, e := range ev.Nodes {
			page.Events = append(page.Events, dashboardEvent(e))
		}
	}
	writeJSON(w, http.StatusOK, page)
}

func dashboardEvent(e gateway.DashboardEvent) Event {
	out := Event{
		ID: e.Id, LivestormID: e.LivestormId, Title: e.Title, Status: string(e.Status),
		Schedule: string(e.SchedulingStatus), PublishedAt: e.PublishedAt, Registrants: e.RegistrantsCount,
		Sessions: []Session{},
	}
	if e.Sessions != nil {
		for _, s := range e.Sessions.Nodes {
			out.Sessions = append(out.Sessions, Session{
				ID: s.Id, Name: deref(s.Name), Status: string(s.Status), StartsAt: s.EstimatedStartedAt,
				Registrants: s.RegistrantsCount, Attendees: s.AttendeesCount,
			})
		}
	}
	return out
}

// RegistrationRequest is the body of POST /api/registrations; only sessionId and email
// are required.
type RegistrationRequest struct {
	SessionID string `json:"sessionId"`
	Email     string `json:"email"`
	FirstName string `json:"firstName"`
	LastName  string `json:"lastName"`
	UTMSource string `json:"utmSource"`
}

// Registration is the answer of POST /api/registrations.
type Registration struct {
	ID                 string     `json:"id"`
	RegisteredAt       *time.Time `json:"registeredAt"`
	JoinLink           string     `json:"joinLink,omitempty"`
	Email              string     `json:"email"`
	SessionRegistrants int        `json:"sessionRegistrants"`
}

func register(w http.ResponseWriter, r *http.Request, gql graphql.Client) {
	var in RegistrationRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		writeError(w, http.StatusBadRequest, "BAD_USER_INPUT", "body: "+err.Error())
		return
	}
	resp, err := gateway.Register(r.Context(), gql, gateway.RegisterPersonInput{
		SessionId: in.SessionID,
		Email:     in.Email,
		FirstName: optional(in.FirstName),
		LastName:  optional(in.LastName),
		UtmSource: optional(in.UTMSource),
	})
	if err != nil {
		writeGatewayError(w, err)
		return
	}
	reg := resp.RegisterPerson.Registration
	if reg == nil {
		writeError(w, http.StatusBadGateway, "UPSTREAM_UNAVAILABLE", "the gateway returned no registration")
		return
	}
	out := Registration{ID: reg.Id, RegisteredAt: reg.CreatedAt, JoinLink: deref(reg.ConnectionLink), Email: deref(reg.Person.Email)}
	if s := resp.RegisterPerson.Session; s != nil {
		out.SessionRegistrants = s.RegistrantsCount
	}
	writeJSON(w, http.StatusCreated, out)
}

// optional is nil for "": an empty form field is left out of the input, not sent as "".
func optional(s string) *string {
	if s = strings.TrimSpace(s); s == "" {
		return nil
	}
	return &s
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// statusOf maps the gateway's extensions.code to the BFF's own HTTP status.
var statusOf = map[string]int{
	"BAD_USER_INPUT":  http.StatusBadRequest,
	"NOT_FOUND":       http.StatusNotFound,
	"CONFLICT":        http.StatusConflict,
	"UNAUTHENTICATED": http.StatusBadGateway, // the BFF's own credential: not the browser's fault
	"FORBIDDEN":       http.StatusBadGateway,
	"RATE_LIMITED":    http.StatusServiceUnavailable,
}

// writeGatewayError answers with the first GraphQL error's code and message (the
// gateway's messages are safe to show: it never puts credentials or internals in them).
func writeGatewayError(w http.ResponseWriter, err error) {
	var list gqlerror.List
	var httpErr *graphql.HTTPError
	switch {
	case errors.As(err, &list) && len(list) > 0:
	case errors.As(err, &httpErr) && len(httpErr.Response.Errors) > 0:
		list = httpErr.Response.Errors
	default:
		writeError(w, http.StatusBadGateway, "UPSTREAM_UNAVAILABLE", fmt.Sprintf("gateway unreachable: %v", err))
		return
	}
	code, _ := list[0].Extensions["code"].(string)
	status, ok := statusOf[code]
	if !ok {
		status = http.StatusBadGateway
	}
	writeError(w, status, code, list[0].Message)
}

func writeError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, map[string]string{"code": code, "error": message})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
