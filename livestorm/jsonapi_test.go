package livestorm

import (
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseTimeValue(t *testing.T) {
	want := time.Date(2022, 11, 28, 10, 30, 0, 0, time.UTC)
	tests := []struct {
		name string
		raw  string
		want time.Time
		ok   bool
	}{
		{"unix seconds", "1669631400", want, true},
		{"zero is not happened", "0", time.Time{}, true},
		{"null", "null", time.Time{}, true},
		{"float seconds", "1669631400.5", want.Add(500 * time.Millisecond), true},
		{"numeric string", `"1669631400"`, want, true},
		{"RFC 3339", `"2022-11-28T10:30:00Z"`, want, true},
		{"RFC 3339 offset", `"2022-11-28T11:30:00+01:00"`, want, true},
		{"space layout", `"2022-11-28 10:30:00"`, want, true},
		{"date only", `"2022-11-28"`, time.Date(2022, 11, 28, 0, 0, 0, 0, time.UTC), true},
		{"empty string", `""`, time.Time{}, true},
		{"garbage string", `"soon"`, time.Time{}, false},
		{"object", `{}`, time.Time{}, false},
		{"huge number", "1e300", time.Time{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := parseTimeValue(json.RawMessage(tt.raw))
			assert.Equal(t, tt.ok, ok)
			assert.True(t, tt.want.Equal(got), "got %v want %v", got, tt.want)
		})
	}
}

func TestLenientAttributes(t *testing.T) {
	body := `{"data":{"id":123,"type":"sessions","attributes":{
		"event_id":"e1","status":"live","attendees_count":"7","registrants_count":3.0,
		"duration":null,"started_at":"2022-11-28 10:30:00","ended_at":0,"name":42,
		"timezone":{"odd":true},"estimated_started_at":"not a time"}}}`
	s, bad, err := decodeOne([]byte(body), sessionDeep)
	require.NoError(t, err)
	assert.Equal(t, "123", s.ID, "numeric ids become strings")
	assert.Equal(t, 7, s.AttendeesCount)
	assert.Equal(t, 3, s.RegistrantsCount)
	assert.Nil(t, s.Duration)
	assert.Equal(t, time.Date(2022, 11, 28, 10, 30, 0, 0, time.UTC), s.StartedAt)
	assert.True(t, s.EndedAt.IsZero())
	assert.Equal(t, ptr("42"), s.Name)
	assert.Empty(t, s.Timezone)
	assert.ElementsMatch(t, []string{"timezone", "estimated_started_at"}, bad)
}

func TestDocumentVariants(t *testing.T) {
	jobConv := func(d *decoder, r *resource) Job { return d.job(r) }
	t.Run("root-level bulk 202", func(t *testing.T) {
		j, _, err := decodeOne([]byte(`{"type":"jobs","id":"j1","attributes":{"status":"processing","total_items":127,"total_processed_items":0,"total_fail":0,"total_success":0}}`), jobConv)
		require.NoError(t, err)
		assert.Equal(t, Job{ID: "j1", Status: "processing", TotalItems: 127}, *j)
	})
	t.Run("data-wrapped job with alternate counters", func(t *testing.T) {
		j, _, err := decodeOne([]byte(`{"data":{"type":"jobs","id":"j2","attributes":{"status":"ended","total_items":4,"total_processed_items":4,"total_failed":1,"total_succeeded":3}}}`), jobConv)
		require.NoError(t, err)
		assert.Equal(t, Job{ID: "j2", Status: "ended", TotalItems: 4, TotalProcessed: 4, TotalFailed: 1, TotalSucceeded: 3}, *j)
	})
	t.Run("universal counters and echo", func(t *testing.T) {
		j, _, err := decodeOne([]byte(`{"data":{"type":"jobs","id":"j3","attributes":{"status":"failed","total_tasks":2,"total_processed_tasks":2,"total_fail":2,"total_success":0,"organization_id":"o","source":"api","input":[{"fields":[]}],"avatar_link":null}}}`), jobConv)
		require.NoError(t, err)
		assert.Equal(t, 2, j.TotalItems)
		assert.Equal(t, 2, j.TotalProcessed)
		assert.Equal(t, "o", j.OrganizationID)
		assert.JSONEq(t, `[{"fields":[]}]`, string(j.Input))
	})
	t.Run("job task", func(t *testing.T) {
		l, _, err := decodeList([]byte(`{"data":[
			{"id":"t1","type":"tasks","attributes":{"status":"succeeded","errors":[],"email":"a@b.c","person_id":"p1","created_at":1,"updated_at":2}},
			{"id":"t2","type":"tasks","attributes":{"status":"failed","errors":[{"title":"Conflict","detail":"Person already registered to this session"}],"person_id":null,"input":{"fields":[{"id":"email","value":"x@y.z"}]}}},
			{"id":"t3","type":"tasks","attributes":{"status":"failed","error":"boom"}}]}`), 0, func(d *decoder, r *resource) JobTask { return d.jobTask(r) })
		require.NoError(t, err)
		require.Len(t, l.Items, 3)
		assert.Equal(t, ptr("p1"), l.Items[0].PersonID)
		assert.Empty(t, l.Items[0].Errors)
		assert.Nil(t, l.Items[1].PersonID)
		assert.Equal(t, "x@y.z", l.Items[1].Email, "email recovered from the echoed input")
		assert.Equal(t, "Person already registered to this session", l.Items[1].Errors[0].Detail)
		assert.Equal(t, "boom", l.Items[2].Errors[0].Detail)
	})
	t.Run("me as organization", func(t *testing.T) {
		m, _, err := decodeOne([]byte(`{"data":{"id":"o1","type":"organizations","attributes":{"name":"Acme","slug":"acme","parent_id":null}}}`), func(d *decoder, r *resource) Me { return d.me(r) })
		require.NoError(t, err)
		assert.Nil(t, m.User)
		assert.Equal(t, &Organization{ID: "o1", Name: "Acme", Slug: "acme"}, m.Organization)
	})
	t.Run("me as user with included organization", func(t *testing.T) {
		m, _, err := decodeOne([]byte(`{"data":{"id":"u1","type":"users","attributes":{"role":"host","email":"h@acme.io"},
			"relationships":{"organization":{"data":{"type":"organizations","id":"o1"}}}},
			"included":[{"id":"o1","type":"organizations","attributes":{"name":"Acme","slug":"acme","parent_id":"p"}}]}`), func(d *decoder, r *resource) Me { return d.me(r) })
		require.NoError(t, err)
		require.NotNil(t, m.User)
		assert.Equal(t, "h@acme.io", m.User.Email)
		assert.Equal(t, &Organization{ID: "o1", Name: "Acme", Slug: "acme", ParentID: ptr("p")}, m.Organization)
	})
	t.Run("me as user with embedded organization", func(t *testing.T) {
		m, _, err := decodeOne([]byte(`{"data":{"id":"u1","type":"users","attributes":{"organization":{"id":"o1","name":"Acme"}}}}`), func(d *decoder, r *resource) Me { return d.me(r) })
		require.NoError(t, err)
		assert.Equal(t, &Organization{ID: "o1", Name: "Acme"}, m.Organization)
	})
	t.Run("questions with asker and responder", func(t *testing.T) {
		l, _, err := decodeList([]byte(`{"data":[{"id":"q1","type":"questions","attributes":{"event_id":"e","session_id":"s","question":"Why?","response":null,"response_orally":false,"responded_at":0,"created_at":5,"updated_at":6},
			"relationships":{"asker":{"data":{"type":"people","id":"p1"}},"responder":{"data":null}}}],
			"included":[{"id":"p1","type":"people","attributes":{"first_name":"Ann"}}]}`), 0, func(d *decoder, r *resource) Question { return d.question(r, true) })
		require.NoError(t, err)
		q := l.Items[0]
		assert.Equal(t, "Why?", q.Question)
		assert.Equal(t, "p1", q.AskerID)
		require.NotNil(t, q.Asker)
		assert.Equal(t, "Ann", q.Asker.FirstName)
		assert.Nil(t, q.Responder)
		assert.Nil(t, q.Response)
	})
	t.Run("chat author by author_id", func(t *testing.T) {
		l, _, err := decodeList([]byte(`{"data":[{"id":"m1","type":"chat_messages","attributes":{"text_content":"hi","created_at":5,"from_guest_speaker":false,"from_team_member":true,"author_id":"p1"}}],
			"included":[{"id":"p1","type":"people","attributes":{"first_name":"Ann"}}]}`), 0, func(d *decoder, r *resource) ChatMessage { return d.chatMessage(r, true) })
		require.NoError(t, err)
		m := l.Items[0]
		assert.True(t, m.FromTeamMember)
		require.NotNil(t, m.Author)
		assert.Equal(t, "Ann", m.Author.FirstName)
	})
	t.Run("people attributes", func(t *testing.T) {
		l, _, err := decodeList([]byte(`{"data":[{"id":"a1","type":"people_attributes","attributes":{"slug":"colors","name":"Colors","type":"multiple_select","builtin":false,"description":null,"placeholder":"Pick","user_id":"u","options":[{"label":"Green","position":0,"value":"green"}],"created_at":1,"updated_at":2}}]}`), 0, func(d *decoder, r *resource) PeopleAttribute { return d.peopleAttribute(r) })
		require.NoError(t, err)
		a := l.Items[0]
		assert.Equal(t, []PeopleAttributeOption{{Label: "Green", Value: "green", Position: 0}}, a.Options)
		assert.Equal(t, ptr("Pick"), a.Placeholder)
		assert.Nil(t, a.Description)
	})
	t.Run("replay view detail kept raw", func(t *testing.T) {
		p, _, err := decodeOne([]byte(`{"data":{"id":"p","type":"people","attributes":{"replay_view_detail":{"watched_at":1700000000,"duration":12}}}}`), personDeep)
		require.NoError(t, err)
		require.NotNil(t, p.ReplayViewDetail)
		assert.Equal(t, time.Unix(1700000000, 0).UTC(), p.ReplayViewDetail.WatchedAt)
		assert.JSONEq(t, `{"watched_at":1700000000,"duration":12}`, string(p.ReplayViewDetail.Raw))
	})
	t.Run("person with included event and session", func(t *testing.T) {
		l, _, err := decodeList([]byte(`{"data":[{"id":"p","type":"people","attributes":{"registrant_detail":{"event_id":"e","session_id":"s"}}}],
			"included":[{"id":"e","type":"events","attributes":{"title":"T"}},{"id":"s","type":"sessions","attributes":{"status":"live","event_id":"e"}}]}`), 0, personDeep)
		require.NoError(t, err)
		p := l.Items[0]
		require.NotNil(t, p.Event)
		require.NotNil(t, p.Session)
		assert.Equal(t, "T", p.Event.Title)
		assert.Equal(t, "live", p.Session.Status)
		assert.Nil(t, p.Session.Event, "included resources are attached one level deep")
	})
	t.Run("session with included event, people and recordings", func(t *testing.T) {
		s, _, err := decodeOne([]byte(`{"data":{"id":"s","type":"sessions","attributes":{"event_id":"e"},
			"relationships":{"event":{"data":{"type":"events","id":"e"}},"people":{"data":[{"type":"people","id":"p"}]},"recordings":{"data":[{"type":"recordings","id":"r"}]}}},
			"included":[{"id":"e","type":"events","attributes":{"title":"T"}},{"id":"p","type":"people","attributes":{"email":"a@b.c"}},{"id":"r","type":"recordings","attributes":{"file_size":10}}]}`), sessionDeep)
		require.NoError(t, err)
		require.NotNil(t, s.Event)
		assert.Equal(t, "T", s.Event.Title)
		require.Len(t, s.People, 1)
		assert.Equal(t, "a@b.c", s.People[0].Email)
		require.Len(t, s.Recordings, 1)
		assert.Equal(t, int64(10), s.Recordings[0].FileSize)
	})
	t.Run("event with included tags and sessions without relationships", func(t *testing.T) {
		e, _, err := decodeOne([]byte(`{"data":{"id":"e","type":"events","attributes":{"title":"T"}},
			"included":[{"id":"t","type":"tags","attributes":{"title":"vip"}},{"id":"s","type":"sessions","attributes":{"event_id":"e"}},{"id":"s2","type":"sessions","attributes":{"event_id":"other"}}]}`), eventDeep)
		require.NoError(t, err)
		assert.Equal(t, []Tag{{ID: "t", Title: "vip"}}, e.Tags)
		assert.Equal(t, []string{"s"}, e.SessionIDs)
		require.Len(t, e.Sessions, 1)
	})
}

func TestListMeta(t *testing.T) {
	conv := func(d *decoder, r *resource) Tag { return d.tag(r) }
	tests := []struct {
		name      string
		meta      string
		requested int
		want      ListMeta
	}{
		{"six keys", `{"current_page":1,"previous_page":0,"next_page":2,"record_count":125,"page_count":3,"items_per_page":50}`, 1,
			ListMeta{CurrentPage: 1, PreviousPage: ptr(0), NextPage: ptr(2), RecordCount: 125, PageCount: 3, ItemsPerPage: 50}},
		{"last page", `{"current_page":2,"previous_page":1,"next_page":null,"record_count":125,"page_count":3,"items_per_page":50}`, 2,
			ListMeta{CurrentPage: 2, PreviousPage: ptr(1), RecordCount: 125, PageCount: 3, ItemsPerPage: 50}},
		{"three keys, first page", `{"record_count":45,"page_count":3,"items_per_page":20}`, 0,
			ListMeta{CurrentPage: 0, NextPage: ptr(1), RecordCount: 45, PageCount: 3, ItemsPerPage: 20}},
		{"three keys, last page", `{"record_count":45,"page_count":3,"items_per_page":20}`, 2,
			ListMeta{CurrentPage: 2, PreviousPage: ptr(1), RecordCount: 45, PageCount: 3, ItemsPerPage: 20}},
		{"no meta", ``, 0, ListMeta{}},
		{"empty meta", `{}`, 0, ListMeta{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := `{"data":[]`
			if tt.meta != "" {
				body += `,"meta":` + tt.meta
			}
			body += `}`
			l, _, err := decodeList([]byte(body), tt.requested, conv)
			require.NoError(t, err)
			assert.Equal(t, tt.want, l.Meta)
		})
	}
}

func TestParseDocumentRejectsBrokenStructure(t *testing.T) {
	tests := map[string]string{
		"empty":            "",
		"not json":         "<html>502</html>",
		"truncated":        `{"data":[{"id":"a","type":"events","attributes":{"title":"x"`,
		"data is a string": `{"data":"x"}`,
		"bad included":     `{"data":[],"included":{"a":1}}`,
		"bad meta":         `{"data":[],"meta":[1]}`,
		"array top level":  `[1,2]`,
	}
	for name, body := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := parseDocument([]byte(body))
			assert.Error(t, err)
		})
	}
	t.Run("list endpoint without data", func(t *testing.T) {
		_, _, err := decodeList([]byte(`{"meta":{}}`), 0, eventDeep)
		assert.ErrorIs(t, err, errNoData)
	})
	t.Run("single endpoint with null data", func(t *testing.T) {
		_, _, err := decodeOne([]byte(`{"data":null}`), eventDeep)
		assert.ErrorIs(t, err, errNoData)
	})
}

// TestDecodeNeverPanics feeds mutated real documents to every decoder.
func TestDecodeNeverPanics(t *testing.T) {
	t.Parallel()
	seeds := [][]byte{
		readReference(t, "ruby-events.json"),
		readReference(t, "embed-registration-201.json"),
		readReference(t, "ballerina-post-events-id-sessions-201.json"),
		[]byte(`{"data":{"id":"x","type":"people","attributes":{"replay_view_detail":[1],"registrant_detail":"x","owner":3}},"meta":{"webhook":{"event":1}}}`),
	}
	rng := rand.New(rand.NewPCG(1, 2))
	junk := []string{"null", "1", `"s"`, "[]", "{}", "true", "-1e999", `[{"a":null}]`}
	decoders := []func([]byte){
		func(b []byte) { decodeOne(b, eventDeep) },
		func(b []byte) { decodeOne(b, sessionDeep) },
		func(b []byte) { decodeOne(b, personDeep) },
		func(b []byte) { decodeList(b, 0, eventDeep) },
		func(b []byte) {
			decodeList(b, 0, func(d *decoder, r *resource) Question { return d.question(r, true) })
		},
		func(b []byte) { decodeList(b, 0, func(d *decoder, r *resource) JobTask { return d.jobTask(r) }) },
		func(b []byte) { decodeOne(b, func(d *decoder, r *resource) Me { return d.me(r) }) },
		func(b []byte) { ParseWebhook(b) },
		func(b []byte) { decodeErrorBody(b) },
	}
	for _, seed := range seeds {
		var v any
		require.NoError(t, json.Unmarshal(seed, &v))
		for range 60 {
			m := mutate(rng, v, junk)
			b, err := json.Marshal(m)
			require.NoError(t, err)
			for _, dec := range decoders {
				assert.NotPanics(t, func() { dec(b) })
			}
			// Truncations too.
			cut := b[:rng.IntN(len(b)+1)]
			for _, dec := range decoders {
				assert.NotPanics(t, func() { dec(cut) })
			}
		}
	}
}

// mutate replaces random nodes of v with junk values.
func mutate(rng *rand.Rand, v any, junk []string) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, val := range x {
			if rng.IntN(8) == 0 {
				var j any
				_ = json.Unmarshal([]byte(junk[rng.IntN(len(junk))]), &j)
				out[k] = j
				continue
			}
			out[k] = mutate(rng, val, junk)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i := range x {
			out[i] = mutate(rng, x[i], junk)
		}
		return out
	}
	return v
}
