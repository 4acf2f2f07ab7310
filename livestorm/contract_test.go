package livestorm

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The contract tests decode real Livestorm documents (testdata/reference,
// see its README) and check that no attribute is lost: every attribute key of
// the document must be produced again, with the same value, by re-encoding
// the decoded struct (encode* below is an independent, test-only encoder).

func readReference(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "reference", name))
	require.NoError(t, err)
	return b
}

// docResources returns the primary resources and included resources of a
// document as generic maps.
func docResources(t *testing.T, body []byte) (primary, included []map[string]any) {
	t.Helper()
	var doc map[string]any
	require.NoError(t, json.Unmarshal(body, &doc))
	switch d := doc["data"].(type) {
	case map[string]any:
		primary = []map[string]any{d}
	case []any:
		for _, it := range d {
			primary = append(primary, it.(map[string]any))
		}
	}
	if inc, ok := doc["included"].([]any); ok {
		for _, it := range inc {
			included = append(included, it.(map[string]any))
		}
	}
	return primary, included
}

func unixOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

func normalize(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	var out any
	require.NoError(t, json.Unmarshal(b, &out))
	return out
}

// assertLossless checks that every key of doc is present in enc with an
// equal value, recursing into objects and arrays.
func assertLossless(t *testing.T, path string, doc, enc any) {
	t.Helper()
	switch dv := doc.(type) {
	case map[string]any:
		em, ok := enc.(map[string]any)
		if !assert.Truef(t, ok, "%s: decoded value is %T, document has an object", path, enc) {
			return
		}
		for k, v := range dv {
			ev, present := em[k]
			if !assert.Truef(t, present, "%s.%s: key dropped by the decoder", path, k) {
				continue
			}
			assertLossless(t, path+"."+k, v, ev)
		}
	case []any:
		ea, ok := enc.([]any)
		if !assert.Truef(t, ok, "%s: decoded value is %T, document has an array", path, enc) {
			return
		}
		if !assert.Lenf(t, ea, len(dv), "%s: array length", path) {
			return
		}
		for i := range dv {
			assertLossless(t, path+"["+itoa(i)+"]", dv[i], ea[i])
		}
	default:
		if doc == nil && enc == "" && nullAsEmpty[lastKey(path)] {
			return
		}
		assert.Equalf(t, doc, enc, "%s: value changed", path)
	}
}

// nullAsEmpty lists the attributes the exported API (fixed by the gateway's
// contract) types as plain strings although Livestorm may send null: a null
// name decodes as "". This is the only normalization the check allows.
var nullAsEmpty = map[string]bool{"first_name": true, "last_name": true}

func lastKey(path string) string {
	for i := len(path) - 1; i >= 0; i-- {
		if path[i] == '.' {
			return path[i+1:]
		}
	}
	return path
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

// ---- test-only encoders: struct -> Livestorm attribute maps ----

func encEvent(e Event) map[string]any {
	m := map[string]any{
		"title": e.Title, "slug": e.Slug, "registration_link": e.RegistrationLink,
		"estimated_duration": e.EstimatedDuration, "registration_page_enabled": e.RegistrationPageEnabled,
		"everyone_can_speak": e.EveryoneCanSpeak, "description": e.Description, "status": e.Status,
		"light_registration_page_enabled":    e.LightRegistrationPageEnabled,
		"detailed_registration_page_enabled": e.DetailedRegistrationPageEnabled,
		"recording_enabled":                  e.RecordingEnabled, "recording_public": e.RecordingPublic,
		"show_in_company_page": e.ShowInCompanyPage, "chat_enabled": e.ChatEnabled,
		"polls_enabled": e.PollsEnabled, "questions_enabled": e.QuestionsEnabled,
		"language": e.Language, "published_at": unixOrZero(e.PublishedAt),
		"scheduling_status": e.SchedulingStatus, "created_at": unixOrZero(e.CreatedAt),
		"updated_at": unixOrZero(e.UpdatedAt), "sessions_count": e.SessionsCount,
	}
	if e.Owner != nil {
		m["owner"] = map[string]any{"id": e.Owner.ID, "type": "people", "attributes": encPerson(*e.Owner)}
	}
	if e.Fields != nil {
		fs := []any{}
		for _, f := range e.Fields {
			fm := map[string]any{"id": f.ID, "type": f.Type, "order": f.Order, "required": f.Required}
			if f.Custom {
				fm["custom"] = true
			}
			if f.Options != nil {
				items := []any{}
				for _, it := range f.Options.Items {
					items = append(items, map[string]any{"value": it})
				}
				fm["options"] = map[string]any{"items": items, "multiple_answers": f.Options.MultipleAnswers}
			}
			fs = append(fs, fm)
		}
		m["fields"] = fs
	}
	return m
}

func encSession(s Session) map[string]any {
	return map[string]any{
		"event_id": s.EventID, "status": s.Status, "timezone": s.Timezone, "room_link": s.RoomLink,
		"name": s.Name, "attendees_count": s.AttendeesCount, "registrants_count": s.RegistrantsCount,
		"duration": s.Duration, "estimated_started_at": unixOrZero(s.EstimatedStartedAt),
		"started_at": unixOrZero(s.StartedAt), "ended_at": unixOrZero(s.EndedAt),
		"canceled_at": unixOrZero(s.CanceledAt), "created_at": unixOrZero(s.CreatedAt),
		"updated_at": unixOrZero(s.UpdatedAt), "breakout_room_parent_session_id": s.BreakoutRoomParentSessionID,
		"embed_url": s.EmbedURL,
	}
}

func encPerson(p Person) map[string]any {
	m := map[string]any{
		"role": p.Role, "created_at": unixOrZero(p.CreatedAt), "updated_at": unixOrZero(p.UpdatedAt),
		"timezone": p.Timezone, "first_name": p.FirstName, "last_name": p.LastName, "email": p.Email,
		"avatar_link": p.AvatarLink, "messages_count": p.MessagesCount, "questions_count": p.QuestionsCount,
		"votes_count": p.VotesCount, "up_votes_count": p.UpVotesCount,
		"registrant_detail": nil, "replay_view_detail": nil,
	}
	if p.RegistrantDetail != nil {
		m["registrant_detail"] = encRegistrantDetail(*p.RegistrantDetail)
	}
	if p.ReplayViewDetail != nil {
		m["replay_view_detail"] = p.ReplayViewDetail.Raw
	}
	return m
}

func encRegistrantDetail(d RegistrantDetail) map[string]any {
	m := map[string]any{
		"event_id": d.EventID, "session_id": d.SessionID, "created_at": unixOrZero(d.CreatedAt),
		"updated_at": unixOrZero(d.UpdatedAt), "referrer": d.Referrer, "utm_source": d.UTMSource,
		"utm_medium": d.UTMMedium, "utm_term": d.UTMTerm, "utm_content": d.UTMContent,
		"utm_campaign": d.UTMCampaign, "browser_version": d.BrowserVersion, "browser_name": d.BrowserName,
		"os_name": d.OSName, "os_version": d.OSVersion, "screen_height": d.ScreenHeight,
		"screen_width": d.ScreenWidth, "ip_city": d.IPCity, "ip_country_code": d.IPCountryCode,
		"ip_country_name": d.IPCountryName, "password_key": d.PasswordKey, "connection_link": d.ConnectionLink,
		"attended": d.Attended, "attendance_rate": d.AttendanceRate, "attendance_duration": d.AttendanceDuration,
		"has_viewed_replay": d.HasViewedReplay, "registration_type": d.RegistrationType,
		"is_highlighted": d.IsHighlighted, "is_guest_speaker": d.IsGuestSpeaker, "session_role": d.SessionRole,
	}
	fs := []any{}
	for _, f := range d.Fields {
		fm := map[string]any{"id": f.ID, "type": f.Type, "required": f.Required}
		switch {
		case f.Values != nil:
			fm["value"] = f.Values
		case f.Value != nil:
			fm["value"] = *f.Value
		default:
			fm["value"] = nil
		}
		if f.Custom != nil {
			fm["custom"] = *f.Custom
		}
		fs = append(fs, fm)
	}
	m["fields"] = fs
	return m
}

func encRecording(r Recording) map[string]any {
	return map[string]any{
		"event_id": r.EventID, "session_id": r.SessionID, "file_type": r.FileType, "mime_type": r.MimeType,
		"file_size": r.FileSize, "file_name": r.FileName, "url": r.URL,
		"url_generated_at": unixOrZero(r.URLGeneratedAt), "url_expires_in": int64(r.URLExpiresIn / time.Second),
	}
}

func encUser(u User) map[string]any {
	return map[string]any{
		"role": u.Role, "created_at": unixOrZero(u.CreatedAt), "updated_at": unixOrZero(u.UpdatedAt),
		"first_name": u.FirstName, "last_name": u.LastName, "email": u.Email, "avatar_link": u.AvatarLink,
		"locale": u.Locale, "pending_invite": u.PendingInvite, "website_link": u.WebsiteLink,
		"linkedin_link": u.LinkedinLink, "facebook_link": u.FacebookLink, "twitter_handle": u.TwitterHandle,
	}
}

// checkResource asserts id, type-independent attributes and relationships of
// one decoded resource against its document form.
func checkResource(t *testing.T, path string, doc map[string]any, id string, enc map[string]any) {
	t.Helper()
	assert.Equal(t, doc["id"], id, path+".id")
	assertLossless(t, path+".attributes", doc["attributes"], normalize(t, enc))
}

func relIDsOf(doc map[string]any, name string) []string {
	rels, _ := doc["relationships"].(map[string]any)
	rel, _ := rels[name].(map[string]any)
	var ids []string
	switch d := rel["data"].(type) {
	case []any:
		for _, it := range d {
			ids = append(ids, it.(map[string]any)["id"].(string))
		}
	case map[string]any:
		ids = append(ids, d["id"].(string))
	}
	return ids
}

func ptr[T any](v T) *T { return &v }

// mustDecodeOne decodes a single-resource document: it must decode, and no
// attribute may have an unexpected type.
func mustDecodeOne[T any](t *testing.T, body []byte, conv convertFunc[T]) *T {
	t.Helper()
	v, bad, err := decodeOne(body, conv)
	require.NoError(t, err)
	assert.Empty(t, bad)
	return v
}

// mustDecodeList is mustDecodeOne for list documents.
func mustDecodeList[T any](t *testing.T, body []byte, conv convertFunc[T]) *List[T] {
	t.Helper()
	l, bad, err := decodeList(body, 0, conv)
	require.NoError(t, err)
	assert.Empty(t, bad)
	return l
}

func TestContractReferenceDocuments(t *testing.T) {
	tests := []struct {
		file  string
		check func(t *testing.T, body []byte, primary, included []map[string]any)
	}{
		{"ruby-events.json", func(t *testing.T, body []byte, primary, included []map[string]any) {
			ev := mustDecodeOne(t, body, eventDeep)
			checkResource(t, "data", primary[0], ev.ID, encEvent(*ev))
			assert.Equal(t, "New event", ev.Title)
			assert.Equal(t, 30, ev.EstimatedDuration)
			assert.Nil(t, ev.RecordingPublic)
			assert.True(t, ev.PublishedAt.IsZero(), "published_at 0 is the zero time")
			assert.Equal(t, time.Unix(1631022340, 0).UTC(), ev.CreatedAt)
			require.NotNil(t, ev.Owner)
			assert.Equal(t, "b50fbc30-fd46-47b4-aa70-8c83399420f3", ev.Owner.ID)
			assert.Equal(t, "team_member", ev.Owner.Role)
			assert.Equal(t, ptr("Europe/Paris"), ev.Owner.Timezone)
			assert.Nil(t, ev.Owner.AvatarLink)
			require.Len(t, ev.Fields, 7)
			assert.Equal(t, EventField{ID: "select_checkbox", Type: "multiple", Order: 6, Required: true, Custom: true,
				Options: &EventFieldOptions{Items: []string{"Choice A", "Choice B", "Choice C"}, MultipleAnswers: true}}, ev.Fields[6])
			assert.Equal(t, relIDsOf(primary[0], "sessions"), ev.SessionIDs)
			require.Len(t, ev.Sessions, 1)
			s := ev.Sessions[0]
			checkResource(t, "included[0]", included[0], s.ID, encSession(s))
			assert.Equal(t, "draft", s.Status)
			assert.Nil(t, s.Duration)
			assert.True(t, s.StartedAt.IsZero())
			assert.Equal(t, time.Unix(1631108740, 0).UTC(), s.EstimatedStartedAt)
			assert.Equal(t, 1, s.RegistrantsCount)
		}},
		{"ruby-participants.json", func(t *testing.T, body []byte, primary, _ []map[string]any) {
			p := mustDecodeOne(t, body, personDeep)
			checkResource(t, "data", primary[0], p.ID, encPerson(*p))
			assert.Equal(t, "participant", p.Role)
			assert.Nil(t, p.Timezone)
			require.NotNil(t, p.RegistrantDetail)
			rd := p.RegistrantDetail
			assert.Equal(t, ptr("66ca049598265dcb3c311c"), rd.PasswordKey)
			assert.Equal(t, "7c83be2a-4c81-464c-8a54-013eaa08243c", rd.SessionID)
			assert.Nil(t, rd.AttendanceRate)
			assert.Equal(t, ptr(0), rd.AttendanceDuration)
			require.Len(t, rd.Fields, 4)
			assert.Equal(t, ptr("foo@foo.com"), rd.Fields[0].Value)
			assert.Nil(t, rd.Fields[3].Value)
			assert.Nil(t, rd.Fields[3].Values)
			assert.Equal(t, ptr(false), rd.Fields[3].Required)
		}},
		{"ruby-sessions.json", func(t *testing.T, body []byte, primary, _ []map[string]any) {
			s := mustDecodeOne(t, body, sessionDeep)
			checkResource(t, "data", primary[0], s.ID, encSession(*s))
			assert.Equal(t, "past_not_started", s.Status)
			assert.Equal(t, "America/Los_Angeles", s.Timezone)
			assert.Equal(t, time.Unix(1617125626, 0).UTC(), s.UpdatedAt)
		}},
		{"ruby-recordings.json", func(t *testing.T, body []byte, primary, _ []map[string]any) {
			l := mustDecodeList(t, body, (*decoder).recording)
			require.Len(t, l.Items, 1)
			r := l.Items[0]
			checkResource(t, "data[0]", primary[0], r.ID, encRecording(r))
			assert.Equal(t, int64(27327779), r.FileSize)
			assert.Equal(t, 12*time.Hour, r.URLExpiresIn)
			assert.Equal(t, time.Unix(1690835598, 0).UTC(), r.URLGeneratedAt)
		}},
		{"ruby-users.json", func(t *testing.T, body []byte, primary, _ []map[string]any) {
			l := mustDecodeList(t, body, (*decoder).user)
			require.Len(t, l.Items, 1)
			u := l.Items[0]
			checkResource(t, "data[0]", primary[0], u.ID, encUser(u))
			assert.Equal(t, "host", u.Role)
			assert.Equal(t, "en", u.Locale)
			assert.False(t, u.PendingInvite)
			assert.Nil(t, u.TwitterHandle)
		}},
		{"ruby-people.json", func(t *testing.T, body []byte, primary, _ []map[string]any) {
			l := mustDecodeList(t, body, personDeep)
			require.Len(t, l.Items, 1)
			p := l.Items[0]
			checkResource(t, "data[0]", primary[0], p.ID, encPerson(p))
			require.NotNil(t, p.RegistrantDetail)
			assert.Empty(t, p.RegistrantDetail.SessionID)
			assert.Equal(t, "374d0ddb-5a47-4504-9fa3-1d70ab7fa5f7", p.RegistrantDetail.EventID)
		}},
		{"embed-registration-201.json", func(t *testing.T, body []byte, primary, _ []map[string]any) {
			p := mustDecodeOne(t, body, personDeep)
			checkResource(t, "data", primary[0], p.ID, encPerson(*p))
			assert.Equal(t, "1720628126+528d3ec6-b983-4353-bcbf-eddb1566d013@unknown.livestorm.co", p.Email)
			assert.Nil(t, p.ReplayViewDetail)
			rd := p.RegistrantDetail
			require.NotNil(t, rd)
			assert.Equal(t, "API", rd.RegistrationType)
			assert.False(t, rd.HasViewedReplay)
			assert.Equal(t, ptr("b794f5a32ad48829366806"), rd.PasswordKey)
			assert.Contains(t, rd.ConnectionLink, "key=b794f5a32ad48829366806")
			require.Len(t, rd.Fields, 3)
			assert.Equal(t, RegistrantField{ID: "custom_email", Type: "text", Value: ptr("jane.adams@example.com"), Required: ptr(true), Custom: ptr(true)}, rd.Fields[2])
		}},
		{"ballerina-get-events-200.json", func(t *testing.T, body []byte, primary, _ []map[string]any) {
			l := mustDecodeList(t, body, eventDeep)
			require.Len(t, l.Items, 1)
			checkResource(t, "data[0]", primary[0], l.Items[0].ID, encEvent(l.Items[0]))
			assert.Equal(t, "loggins1", l.Items[0].Title)
			assert.Equal(t, "Rhonda-4", l.Items[0].Owner.FirstName)
			// Old 3-key meta: the missing keys are derived.
			assert.Equal(t, ListMeta{CurrentPage: 0, RecordCount: 1, PageCount: 1, ItemsPerPage: 1}, l.Meta)
			assert.False(t, l.HasNext())
		}},
		{"ballerina-get-events-id-sessions-200.json", func(t *testing.T, body []byte, primary, _ []map[string]any) {
			l := mustDecodeList(t, body, sessionDeep)
			require.Len(t, l.Items, 1)
			checkResource(t, "data[0]", primary[0], l.Items[0].ID, encSession(l.Items[0]))
			assert.Equal(t, 3, l.Items[0].RegistrantsCount)
			assert.Equal(t, 1, l.Meta.RecordCount)
		}},
		{"ballerina-post-events-id-sessions-201.json", func(t *testing.T, body []byte, primary, included []map[string]any) {
			s := mustDecodeOne(t, body, sessionDeep)
			checkResource(t, "data", primary[0], s.ID, encSession(*s))
			assert.Equal(t, relIDsOf(primary[0], "people"), s.PeopleIDs)
			require.Len(t, s.People, 2)
			for i, p := range s.People {
				checkResource(t, "included["+itoa(i)+"]", included[i], p.ID, encPerson(p))
			}
			assert.Equal(t, "team_member", s.People[1].Role)
			// Multi-select answers: [] stays an (empty) array, not null.
			f := s.People[0].RegistrantDetail.Fields[5]
			assert.Equal(t, "select_radio", f.ID)
			assert.NotNil(t, f.Values)
			assert.Empty(t, f.Values)
			assert.Nil(t, f.Value)
		}},
		{"ballerina-get-sessions-id-people-200.json", func(t *testing.T, body []byte, primary, _ []map[string]any) {
			l := mustDecodeList(t, body, personDeep)
			require.Len(t, l.Items, 1)
			p := l.Items[0]
			checkResource(t, "data[0]", primary[0], p.ID, encPerson(p))
			assert.Equal(t, ptr("60.0.3112.64"), p.RegistrantDetail.BrowserVersion)
			assert.True(t, p.RegistrantDetail.IsHighlighted)
			assert.Nil(t, p.RegistrantDetail.PasswordKey)
		}},
		{"ballerina-post-sessions-id-people-201.json", func(t *testing.T, body []byte, primary, _ []map[string]any) {
			p := mustDecodeOne(t, body, personDeep)
			checkResource(t, "data", primary[0], p.ID, encPerson(*p))
			assert.Equal(t, "Jean-Baptiste", p.FirstName)
			assert.Equal(t, ptr("utm_campaign"), p.RegistrantDetail.UTMCampaign)
			assert.Equal(t, ptr("d03ce263db9998b5f0eb62"), p.RegistrantDetail.PasswordKey)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			body := readReference(t, tt.file)
			primary, included := docResources(t, body)
			require.NotEmpty(t, primary)
			tt.check(t, body, primary, included)
		})
	}
}

// TestLosslessHelperDetectsDrops proves the helper is not vacuous: an
// attribute the encoder does not know is reported.
func TestLosslessHelperDetectsDrops(t *testing.T) {
	ft := &testing.T{}
	assertLossless(ft, "x", map[string]any{"a": 1.0, "unknown": true}, map[string]any{"a": 1.0})
	assert.True(t, ft.Failed())
	ft2 := &testing.T{}
	assertLossless(ft2, "x", map[string]any{"a": 1.0}, map[string]any{"a": 2.0})
	assert.True(t, ft2.Failed())
}
