package livestormsim

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// relIDs returns the "type/id" identifiers of a relationship (to-one or
// to-many); ok is false when the relationship is absent.
func relIDs(res map[string]any, name string) ([]string, bool) {
	rels, _ := res["relationships"].(map[string]any)
	rel, ok := rels[name].(map[string]any)
	if !ok {
		return nil, false
	}
	var out []string
	switch d := rel["data"].(type) {
	case []any:
		for _, v := range d {
			m := v.(map[string]any)
			out = append(out, m["type"].(string)+"/"+m["id"].(string))
		}
	case map[string]any:
		out = append(out, d["type"].(string)+"/"+d["id"].(string))
	}
	return out, true
}

// checkCompound asserts that every identifier in the named relationships is
// in included, and that included holds nothing else.
func checkCompound(t *testing.T, r apiResp, names ...string) {
	t.Helper()
	var primary []map[string]any
	if d := r.data(); d != nil {
		primary = []map[string]any{d}
	} else {
		primary = r.list()
	}
	referenced := map[string]bool{}
	for _, p := range primary {
		for _, n := range names {
			ids, ok := relIDs(p, n)
			require.Truef(t, ok, "relationship %q present on %v", n, p["id"])
			for _, id := range ids {
				referenced[id] = true
			}
		}
	}
	included := map[string]bool{}
	for _, inc := range r.included() {
		k := inc["type"].(string) + "/" + inc["id"].(string)
		assert.Falsef(t, included[k], "%s included twice", k)
		included[k] = true
		assert.NotNil(t, inc["attributes"])
	}
	assert.Equal(t, referenced, included)
}

func TestInclude(t *testing.T) {
	h := newHarness(t, nil)
	past := h.sessionWithStatus(statusPast, func(s *session) bool { return len(s.questions) > 1 && len(s.chat) > 0 && len(s.recordings) > 0 })
	ev := past.event.id
	tests := []struct {
		name  string
		path  string
		rels  []string
		types []string
	}{
		{"events sessions and tags", "/events?include=sessions,tags", []string{"sessions", "tags"}, []string{"sessions", "tags"}},
		{"events repeated include params", "/events?include=sessions&include=tags", []string{"sessions", "tags"}, []string{"sessions", "tags"}},
		{"event with sessions", "/events/" + ev + "?include=sessions", []string{"sessions"}, []string{"sessions"}},
		{"event sessions event and people", "/events/" + ev + "/sessions?include=event,people", []string{"event", "people"}, []string{"events", "people"}},
		{"session recordings event people", "/sessions/" + past.id + "?include=recordings&include=event,people", []string{"recordings", "event", "people"}, []string{"recordings", "events", "people"}},
		{"session people event and session", "/sessions/" + past.id + "/people?include=event,session", []string{"event", "session"}, []string{"events", "sessions"}},
		{"session person event", "/sessions/" + past.id + "/people/" + h.participantOf(past).id + "?include=event", []string{"event"}, []string{"events"}},
		{"chat authors", "/sessions/" + past.id + "/chat_messages?include=people", []string{"people"}, []string{"people"}},
		{"question asker and people", "/sessions/" + past.id + "/questions?include=asker,people", []string{"asker", "people"}, []string{"people"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := h.get(tc.path).must(t, http.StatusOK)
			checkCompound(t, r, tc.rels...)
			types := map[string]bool{}
			for _, inc := range r.included() {
				types[inc["type"].(string)] = true
			}
			for _, typ := range tc.types {
				assert.Truef(t, types[typ], "included has %s", typ)
			}
		})
	}

	t.Run("questions responder is null when unanswered", func(t *testing.T) {
		r := h.get("/sessions/"+past.id+"/questions?include=responder").must(t, http.StatusOK)
		for _, q := range r.list() {
			rel := q["relationships"].(map[string]any)["responder"].(map[string]any)
			if attrs(q)["responded_at"].(float64) == 0 {
				assert.Nil(t, rel["data"])
			} else {
				assert.NotNil(t, rel["data"])
			}
		}
	})

	t.Run("included people carry the session's registrant_detail", func(t *testing.T) {
		r := h.get("/sessions/"+past.id+"?include=people").must(t, http.StatusOK)
		for _, p := range r.included() {
			assert.Equal(t, past.id, attrs(p)["registrant_detail"].(map[string]any)["session_id"])
		}
	})

	t.Run("no include, no relationships", func(t *testing.T) {
		r := h.get("/events/"+ev).must(t, http.StatusOK)
		assert.NotContains(t, r.data(), "relationships")
		assert.NotContains(t, r.doc, "included")
	})

	t.Run("organization includes itself", func(t *testing.T) {
		r := h.get("/organization?include=organization").must(t, http.StatusOK)
		require.Len(t, r.included(), 1)
		assert.Equal(t, h.org.ID, r.included()[0]["id"])
		assert.Equal(t, "organizations", r.included()[0]["type"])
	})

	for _, p := range []string{"/events?include=owner", "/sessions?include=people", "/sessions/" + past.id + "?include=tags",
		"/sessions/" + past.id + "/questions?include=author", "/people?include=sessions", "/organization?include=users"} {
		t.Run("unknown include "+p, func(t *testing.T) {
			r := h.get(p).must(t, http.StatusBadRequest)
			assert.Equal(t, "bad_request", r.errorStatus())
		})
	}
}
