package graph

import (
	"fmt"
	"net/mail"
	"net/url"
	"reflect"
	"strings"
	"time"

	"github.com/livestorm-gateway/gateway/graph/model"
	"github.com/livestorm-gateway/gateway/livestorm"
)

// Validation of mutation inputs happens before any upstream call, so a mistake costs no
// quota and names the offending input field.

const (
	maxTitleLen      = 255
	maxTextLen       = 10_000
	maxBulkTasks     = 50
	maxFieldAnswers  = 100
	maxEmailLen      = 254
	maxTeamMemberIDs = 50
)

// validator collects the first problem found, with its path.
type validator struct{ err error }

func (v *validator) fail(field, format string, args ...any) {
	if v.err == nil {
		v.err = inputError(field, fmt.Sprintf(format, args...))
	}
}

// ref checks an id argument naming an object of kind (a global id of that kind or a
// Livestorm id) and replaces it with the Livestorm id, which is what goes upstream (into
// URL paths, hence the strict check).
func (v *validator) ref(field string, kind nodeKind, id *string) {
	raw, err := livestormID(field, kind, *id)
	if err != nil {
		if v.err == nil {
			v.err = err
		}
		return
	}
	*id = raw
}

// optionalRef is ref for optional ids; it replaces the pointer, never the caller's string.
func (v *validator) optionalRef(field string, kind nodeKind, id **string) {
	if *id == nil {
		return
	}
	s := **id
	v.ref(field, kind, &s)
	*id = &s
}

func (v *validator) email(field, email string) {
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Address != email || len(email) > maxEmailLen {
		v.fail(field, "%s must be an email address like ada@example.com", field)
	}
}

func (v *validator) text(field string, s *string, max int, required bool) {
	switch {
	case s == nil:
		if required {
			v.fail(field, "%s is required", field)
		}
	case required && strings.TrimSpace(*s) == "":
		v.fail(field, "%s must not be empty", field)
	case len(*s) > max:
		v.fail(field, "%s is longer than %d characters", field, max)
	}
}

func (v *validator) timezone(field string, tz *string) {
	if tz == nil {
		return
	}
	if _, err := time.LoadLocation(*tz); err != nil || *tz == "" || *tz == "Local" {
		v.fail(field, "%s must be an IANA timezone such as Europe/Paris", field)
	}
}

func (v *validator) enum(field string, valid bool) {
	if !valid {
		v.fail(field, "%s cannot be UNKNOWN", field)
	}
}

// eventInput validates and converts the attributes shared by createEvent and updateEvent.
func (v *validator) eventInput(path string, a model.EventAttributes, create bool) livestorm.EventInput {
	v.text(path+".title", a.Title, maxTitleLen, create)
	v.optionalRef(path+".ownerId", kindUser, &a.OwnerID)
	v.text(path+".slug", a.Slug, maxTitleLen, false)
	v.text(path+".description", a.Description, maxTextLen, false)
	var status *string
	if a.Status != nil {
		v.enum(path+".status", *a.Status != model.EventStatusUnknown)
		s := upstreamValue(a.Status)
		status = &s
	}
	return livestorm.EventInput{
		OwnerID: a.OwnerID, Title: a.Title, Slug: a.Slug, Status: status, Description: a.Description,
		EveryoneCanSpeak: a.EveryoneCanSpeak, DetailedRegistrationPageEnabled: a.DetailedRegistrationPageEnabled,
		LightRegistrationPageEnabled: a.LightRegistrationPageEnabled, RecordingEnabled: a.RecordingEnabled,
		RecordingPublic: a.RecordingPublic, ShowInCompanyPage: a.ShowInCompanyPage, ChatEnabled: a.ChatEnabled,
		QuestionsEnabled: a.QuestionsEnabled, PollsEnabled: a.PollsEnabled,
	}
}

// sessionInput validates and converts session attributes. New sessions need a start.
func (v *validator) sessionInput(path string, a model.SessionAttributes, create bool) livestorm.SessionInput {
	if create && a.EstimatedStartedAt == nil {
		v.fail(path+".estimatedStartedAt", "%s.estimatedStartedAt is required", path)
	}
	v.timezone(path+".timezone", a.Timezone)
	v.text(path+".name", a.Name, maxTitleLen, false)
	if a.EmbedURL != nil {
		v.url(path+".embedUrl", *a.EmbedURL)
	}
	if len(a.TeamMemberIDs) > maxTeamMemberIDs {
		v.fail(path+".teamMemberIds", "at most %d team members", maxTeamMemberIDs)
	}
	var teamMembers []string
	for i, id := range a.TeamMemberIDs {
		v.ref(fmt.Sprintf("%s.teamMemberIds[%d]", path, i), kindUser, &id)
		teamMembers = append(teamMembers, id)
	}
	return livestorm.SessionInput{
		Name: a.Name, Timezone: a.Timezone, EmbedURL: a.EmbedURL,
		EstimatedStartedAt: a.EstimatedStartedAt, TeamMemberIDs: teamMembers,
	}
}

func (v *validator) url(field, s string) {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		v.fail(field, "%s must be an absolute http(s) URL", field)
	}
}

// builtinFields are the registration fields the input names explicitly.
var builtinFields = map[string]string{"email": "email", "first_name": "firstName", "last_name": "lastName"}

// registration validates and converts a registration: the email and names become
// Livestorm's built-in fields, followed by the custom answers.
func (v *validator) registration(path string, email *string, a model.RegistrationAttributes) livestorm.Registration {
	var fields []livestorm.FieldValue
	if email != nil {
		v.email(path+".email", *email)
		fields = append(fields, livestorm.FieldValue{ID: "email", Value: email})
	}
	v.text(path+".firstName", a.FirstName, maxTitleLen, false)
	v.text(path+".lastName", a.LastName, maxTitleLen, false)
	if a.FirstName != nil {
		fields = append(fields, livestorm.FieldValue{ID: "first_name", Value: a.FirstName})
	}
	if a.LastName != nil {
		fields = append(fields, livestorm.FieldValue{ID: "last_name", Value: a.LastName})
	}
	if len(a.Fields) > maxFieldAnswers {
		v.fail(path+".fields", "at most %d field answers", maxFieldAnswers)
	}
	seen := map[string]bool{}
	for i, f := range a.Fields {
		fp := fmt.Sprintf("%s.fields[%d]", path, i)
		switch {
		case strings.TrimSpace(f.FieldID) == "":
			v.fail(fp+".fieldId", "%s.fieldId is required", fp)
		case builtinFields[f.FieldID] != "":
			v.fail(fp+".fieldId", "%s: use %s.%s for %q", fp, path, builtinFields[f.FieldID], f.FieldID)
		case seen[f.FieldID]:
			v.fail(fp+".fieldId", "%s: field %q is answered twice", fp, f.FieldID)
		case f.Value != nil && f.Values != nil:
			v.fail(fp, "%s: give value or values, not both", fp)
		}
		seen[f.FieldID] = true
		v.text(fp+".value", f.Value, maxTextLen, false)
		fields = append(fields, livestorm.FieldValue{ID: f.FieldID, Value: f.Value, Values: f.Values})
	}
	for _, u := range []struct {
		name string
		s    *string
	}{{"referrer", a.Referrer}, {"utmSource", a.UtmSource}, {"utmMedium", a.UtmMedium}, {"utmCampaign", a.UtmCampaign}, {"utmTerm", a.UtmTerm}, {"utmContent", a.UtmContent}} {
		v.text(path+"."+u.name, u.s, maxTitleLen*4, false)
	}
	return livestorm.Registration{
		Fields: fields, Referrer: a.Referrer, UTMSource: a.UtmSource, UTMMedium: a.UtmMedium,
		UTMCampaign: a.UtmCampaign, UTMTerm: a.UtmTerm, UTMContent: a.UtmContent,
	}
}

// isZero reports whether an update input sets nothing at all.
func isZero(v any) bool { return reflect.ValueOf(v).IsZero() }
