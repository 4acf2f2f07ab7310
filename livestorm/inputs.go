package livestorm

import (
	"errors"
	"fmt"
	"time"
)

// Write inputs: a nil pointer means "attribute not sent", so a PATCH only
// touches what the caller set.

// EventInput is the attribute set of POST/PATCH/PUT /events.
type EventInput struct {
	CopyFromEventID, OwnerID, Title, Slug, Status, Description                                                                                                                         *string
	EveryoneCanSpeak, DetailedRegistrationPageEnabled, LightRegistrationPageEnabled, RecordingEnabled, RecordingPublic, ShowInCompanyPage, ChatEnabled, QuestionsEnabled, PollsEnabled *bool
	// Sessions are created with the event (create only); they are sent as
	// Livestorm's non-standard plain array in relationships.sessions.
	Sessions []SessionInput
}

// SessionInput is the attribute set of POST /events/{id}/sessions and
// PATCH/PUT /sessions/{id}.
type SessionInput struct {
	Name, Timezone, EmbedURL *string
	// EstimatedStartedAt is sent as "YYYY-MM-DD HH:MM:SS" in Timezone. When
	// Timezone is nil the time is sent in UTC together with timezone "UTC",
	// so the instant is never shifted by the session's own zone.
	EstimatedStartedAt *time.Time
	// TeamMemberIDs (create only) are sent as relationships.people, a plain
	// array of {"data":{"type":"people","id":…,"role":"team_member"}}.
	TeamMemberIDs []string
}

// FieldValue answers one registration field; id is a people-attribute slug.
// Values non-nil sends an array (multi-select); otherwise Value (nil = null).
type FieldValue struct {
	ID     string
	Value  *string
	Values []string
}

// Registration is one person to register (also one task of a bulk job).
type Registration struct {
	Fields                                                           []FieldValue
	Referrer, UTMSource, UTMMedium, UTMCampaign, UTMTerm, UTMContent *string
}

// wire shapes

type body struct {
	Data resourceObject `json:"data"`
}

type resourceObject struct {
	Type          string         `json:"type"`
	ID            string         `json:"id,omitempty"`
	Attributes    map[string]any `json:"attributes"`
	Relationships map[string]any `json:"relationships,omitempty"`
}

type fieldWire struct {
	ID    string `json:"id"`
	Value any    `json:"value"`
}

// putSet sets attribute k to *v when v is set (nil means "not sent").
func putSet[T any](m map[string]any, k string, v *T) {
	if v != nil {
		m[k] = *v
	}
}

func (in EventInput) body(create bool) (body, error) {
	a := map[string]any{}
	if in.CopyFromEventID != nil && !create {
		return body{}, errors.New("copy_from_event_id is only accepted when creating an event")
	}
	putSet(a, "copy_from_event_id", in.CopyFromEventID)
	putSet(a, "owner_id", in.OwnerID)
	putSet(a, "title", in.Title)
	putSet(a, "slug", in.Slug)
	putSet(a, "status", in.Status)
	putSet(a, "description", in.Description)
	putSet(a, "everyone_can_speak", in.EveryoneCanSpeak)
	putSet(a, "detailed_registration_page_enabled", in.DetailedRegistrationPageEnabled)
	putSet(a, "light_registration_page_enabled", in.LightRegistrationPageEnabled)
	putSet(a, "recording_enabled", in.RecordingEnabled)
	putSet(a, "recording_public", in.RecordingPublic)
	putSet(a, "show_in_company_page", in.ShowInCompanyPage)
	putSet(a, "chat_enabled", in.ChatEnabled)
	putSet(a, "questions_enabled", in.QuestionsEnabled)
	putSet(a, "polls_enabled", in.PollsEnabled)
	b := body{Data: resourceObject{Type: "events", Attributes: a}}
	if len(in.Sessions) > 0 {
		if !create {
			return body{}, errors.New("sessions can only be given when creating an event; use CreateSession")
		}
		sessions := make([]any, 0, len(in.Sessions))
		for i, s := range in.Sessions {
			if len(s.TeamMemberIDs) > 0 {
				return body{}, fmt.Errorf("sessions[%d]: team members cannot be set on sessions created with their event", i)
			}
			sa, err := s.attributes()
			if err != nil {
				return body{}, fmt.Errorf("sessions[%d]: %w", i, err)
			}
			sessions = append(sessions, map[string]any{"type": "sessions", "attributes": sa})
		}
		b.Data.Relationships = map[string]any{"sessions": sessions}
	}
	return b, nil
}

func (in SessionInput) attributes() (map[string]any, error) {
	a := map[string]any{}
	putSet(a, "name", in.Name)
	putSet(a, "timezone", in.Timezone)
	putSet(a, "embed_url", in.EmbedURL)
	if in.EstimatedStartedAt != nil {
		loc := time.UTC
		if in.Timezone != nil && *in.Timezone != "" {
			l, err := time.LoadLocation(*in.Timezone)
			if err != nil {
				return nil, fmt.Errorf("timezone %q: %w", *in.Timezone, err)
			}
			loc = l
		} else {
			a["timezone"] = "UTC"
		}
		a["estimated_started_at"] = in.EstimatedStartedAt.In(loc).Format(requestTimeLayout)
	}
	return a, nil
}

func (in SessionInput) body(create bool) (body, error) {
	a, err := in.attributes()
	if err != nil {
		return body{}, err
	}
	b := body{Data: resourceObject{Type: "sessions", Attributes: a}}
	if len(in.TeamMemberIDs) > 0 {
		if !create {
			return body{}, errors.New("team members can only be given when creating a session")
		}
		people := make([]any, 0, len(in.TeamMemberIDs))
		for _, id := range in.TeamMemberIDs {
			if id == "" {
				return body{}, errors.New("empty team member id")
			}
			people = append(people, map[string]any{"data": map[string]any{"type": "people", "id": id, "role": "team_member"}})
		}
		b.Data.Relationships = map[string]any{"people": people}
	}
	return b, nil
}

// attributes renders a registration as Livestorm's person attributes:
// {"fields":[{"id","value"}],"referrer":…,"utm_*":…}.
func (r Registration) attributes() (map[string]any, error) {
	fields := make([]fieldWire, 0, len(r.Fields))
	for i, f := range r.Fields {
		if f.ID == "" {
			return nil, fmt.Errorf("fields[%d]: empty id", i)
		}
		fw := fieldWire{ID: f.ID}
		switch {
		case f.Values != nil:
			fw.Value = f.Values
		case f.Value != nil:
			fw.Value = *f.Value
		}
		fields = append(fields, fw)
	}
	a := map[string]any{"fields": fields}
	putSet(a, "referrer", r.Referrer)
	putSet(a, "utm_source", r.UTMSource)
	putSet(a, "utm_medium", r.UTMMedium)
	putSet(a, "utm_campaign", r.UTMCampaign)
	putSet(a, "utm_term", r.UTMTerm)
	putSet(a, "utm_content", r.UTMContent)
	return a, nil
}

// body renders a registration write; POST and PATCH take the same attributes.
func (r Registration) body(bool) (body, error) {
	a, err := r.attributes()
	if err != nil {
		return body{}, err
	}
	return body{Data: resourceObject{Type: "people", Attributes: a}}, nil
}

func titleBody(title string) body {
	return body{Data: resourceObject{Type: "tags", Attributes: map[string]any{"title": title}}}
}
