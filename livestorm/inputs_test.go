package livestorm

import (
	"encoding/json"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

// TestWriteBodies pins every write body to the shapes of livestorm-api.md §6
// and the wire decisions.
func TestWriteBodies(t *testing.T) {
	paris := time.Date(2022, 1, 1, 9, 0, 0, 0, time.UTC) // 10:00 in Paris
	tests := []struct {
		name  string
		build func() (any, error)
		want  string
	}{
		{"register", func() (any, error) {
			a, err := Registration{
				Fields: []FieldValue{
					{ID: "email", Value: ptr("john@acme.com")}, {ID: "favorite_colors", Values: []string{"green"}},
					{ID: "empty_multi", Values: []string{}}, {ID: "cleared"},
				},
				Referrer: ptr("acme.com"), UTMSource: ptr("Twitter"), UTMTerm: ptr(""),
			}.attributes()
			return body{Data: resourceObject{Type: "people", Attributes: a}}, err
		}, `{"data":{"type":"people","attributes":{
			"fields":[{"id":"email","value":"john@acme.com"},{"id":"favorite_colors","value":["green"]},{"id":"empty_multi","value":[]},{"id":"cleared","value":null}],
			"referrer":"acme.com","utm_source":"Twitter","utm_term":""}}}`},
		{"event create with sessions", func() (any, error) {
			return EventInput{Title: ptr("New event"), OwnerID: ptr("o1"), CopyFromEventID: ptr("c1"), RecordingPublic: ptr(false), Status: ptr("draft"),
				Sessions: []SessionInput{{EstimatedStartedAt: &paris, Timezone: ptr("Europe/Paris")}, {EstimatedStartedAt: &paris, Name: ptr("UTC run")}},
			}.body(true)
		}, `{"data":{"type":"events","attributes":{"title":"New event","owner_id":"o1","copy_from_event_id":"c1","recording_public":false,"status":"draft"},
			"relationships":{"sessions":[
				{"type":"sessions","attributes":{"estimated_started_at":"2022-01-01 10:00:00","timezone":"Europe/Paris"}},
				{"type":"sessions","attributes":{"estimated_started_at":"2022-01-01 09:00:00","timezone":"UTC","name":"UTC run"}}]}}}`},
		{"event patch", func() (any, error) { return EventInput{ChatEnabled: ptr(true)}.body(false) },
			`{"data":{"type":"events","attributes":{"chat_enabled":true}}}`},
		{"session create", func() (any, error) {
			return SessionInput{EstimatedStartedAt: &paris, Timezone: ptr("America/New_York"), Name: ptr("n"), TeamMemberIDs: []string{"p1", "p2"}}.body(true)
		}, `{"data":{"type":"sessions","attributes":{"estimated_started_at":"2022-01-01 04:00:00","timezone":"America/New_York","name":"n"},
			"relationships":{"people":[{"data":{"type":"people","id":"p1","role":"team_member"}},{"data":{"type":"people","id":"p2","role":"team_member"}}]}}}`},
		{"session patch embed_url", func() (any, error) { return SessionInput{EmbedURL: ptr("https://x.co/e")}.body(false) },
			`{"data":{"type":"sessions","attributes":{"embed_url":"https://x.co/e"}}}`},
		{"bulk", func() (any, error) {
			return bulkBody([]Registration{
				{Fields: []FieldValue{{ID: "email", Value: ptr("a@x.io")}}, Referrer: ptr("r")},
				{Fields: []FieldValue{{ID: "email", Value: ptr("b@x.io")}, {ID: "colors", Values: []string{"red", "blue"}}}, UTMMedium: ptr("m")},
			})
		}, `{"data":{"type":"jobs","attributes":{"tasks":[
			{"fields":[{"id":"email","value":"a@x.io"}],"referrer":"r"},
			{"fields":[{"id":"email","value":"b@x.io"},{"id":"colors","value":["red","blue"]}],"utm_medium":"m"}]}}}`},
		{"tag", func() (any, error) { return titleBody("VIP"), nil }, `{"data":{"type":"tags","attributes":{"title":"VIP"}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := tt.build()
			require.NoError(t, err)
			assert.JSONEq(t, tt.want, jsonOf(t, v))
		})
	}
}

func TestWriteBodyErrors(t *testing.T) {
	now := time.Now()
	_, err := EventInput{CopyFromEventID: ptr("x")}.body(false)
	assert.Error(t, err)
	_, err = EventInput{Sessions: []SessionInput{{}}}.body(false)
	assert.Error(t, err)
	_, err = EventInput{Sessions: []SessionInput{{TeamMemberIDs: []string{"x"}}}}.body(true)
	assert.Error(t, err)
	_, err = SessionInput{Timezone: ptr("Nowhere/Land"), EstimatedStartedAt: &now}.body(true)
	assert.Error(t, err)
	_, err = SessionInput{TeamMemberIDs: []string{""}}.body(true)
	assert.Error(t, err)
}

func TestExpandRoute(t *testing.T) {
	tests := []struct {
		route  string
		params pathParams
		want   string
		ok     bool
	}{
		{"/events", nil, "/events", true},
		{"/events/{id}/sessions", pathParams{"id": "abc"}, "/events/abc/sessions", true},
		{"/sessions/{id}/people/{person_id}", pathParams{"id": "s", "person_id": "p"}, "/sessions/s/people/p", true},
		{"/events/{id}", pathParams{"id": "../../users"}, "/events/..%2F..%2Fusers", true},
		{"/events/{id}", pathParams{"id": "a b?c#d"}, "/events/a%20b%3Fc%23d", true},
		{"/events/{id}", pathParams{"id": ""}, "", false},
		{"/events/{id}", nil, "", false},
		{"/events/{id", pathParams{"id": "x"}, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.route+"/"+tt.want, func(t *testing.T) {
			got, err := expandRoute(tt.route, tt.params)
			if !tt.ok {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestListOptionQueries(t *testing.T) {
	since := time.Unix(1700000000, 0)
	tests := []struct {
		name string
		q    func() (url.Values, error)
		want url.Values
	}{
		{"zero options send nothing", EventListOptions{}.query, url.Values{}},
		{"events", EventListOptions{Page: Page{Number: 2, Size: 80}, Title: "t", EveryoneCanSpeak: ptr(true), SchedulingStatus: "live",
			Tags: []string{"a", " ", "b"}, TimeRange: TimeRange{CreatedSince: since}, Include: []string{"sessions", "tags"}}.query,
			url.Values{"page[number]": {"2"}, "page[size]": {"50"}, "filter[title]": {"t"}, "filter[everyone_can_speak]": {"true"},
				"filter[scheduling_status]": {"live"}, "filter[tag]": {"a,b"}, "filter[created_since]": {"1700000000"}, "include": {"sessions,tags"}}},
		{"sessions", SessionListOptions{Status: "past", DateFrom: since, DateTo: since.Add(time.Hour), IncludeBreakoutRooms: ptr(false),
			TimeRange: TimeRange{UpdatedUntil: since}, Include: []string{"event"}}.query,
			url.Values{"filter[status]": {"past"}, "filter[date_from]": {"1700000000"}, "filter[date_to]": {"1700003600"},
				"filter[include_breakout_rooms]": {"false"}, "filter[updated_until]": {"1700000000"}, "include": {"event"}}},
		{"session people", SessionPeopleListOptions{Role: "participant", Attended: ptr(true), Email: "a+b@c.d", TimeRange: TimeRange{UpdatedSince: since, CreatedUntil: since}}.query,
			url.Values{"filter[role]": {"participant"}, "filter[attended]": {"true"}, "filter[email]": {"a+b@c.d"},
				"filter[updated_since]": {"1700000000"}, "filter[created_until]": {"1700000000"}}},
		{"event people", EventPeopleListOptions{Role: "team_member", Email: "x@y.z"}.query, url.Values{"filter[role]": {"team_member"}, "filter[email]": {"x@y.z"}}},
		{"people", PeopleListOptions{Page: Page{Size: 10}, Role: "participant"}.query, url.Values{"page[size]": {"10"}, "filter[role]": {"participant"}}},
		{"chat", ListOptions{Include: []string{"people"}}.query, url.Values{"include": {"people"}}},
		{"recordings", RecordingListOptions{URLExpiresIn: 90 * time.Minute}.query, url.Values{"url_expires_in": {"5400"}}},
		{"people attributes", PeopleAttributeListOptions{Sort: "-created_at", Builtin: ptr(false), Description: "d", Name: "n", Placeholder: "p", Slug: "s", Type: "text", UserID: "u"}.query,
			url.Values{"sort": {"-created_at"}, "filter[builtin]": {"false"}, "filter[description]": {"d"}, "filter[name]": {"n"},
				"filter[placeholder]": {"p"}, "filter[slug]": {"s"}, "filter[type]": {"text"}, "filter[user_id]": {"u"}}},
		{"users", UserListOptions{Role: "host", PendingInvite: ptr(true), Email: "H@X.io"}.query,
			url.Values{"filter[role]": {"host"}, "filter[pending_invite]": {"true"}, "filter[email]": {"H@X.io"}}},
		{"webhooks", WebhookListOptions{Event: "job.ended"}.query, url.Values{"filter[event]": {"job.ended"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := tt.q()
			require.NoError(t, err)
			assert.Equal(t, tt.want, q)
		})
	}
	_, err := PeopleListOptions{Page: Page{Number: -1}}.query()
	assert.Error(t, err)
}
