package livestormsim

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFilters checks every filter of §5 against the same predicate applied
// client-side to the unfiltered list.
func TestFilters(t *testing.T) {
	h := newHarness(t, nil)
	events := h.listAll("/events?include=tags", h.org.Token)
	past := h.sessionWithStatus(statusPast, nil)
	pastPeople := h.listAll("/sessions/"+past.id+"/people", h.org.Token)
	users := h.listAll("/users", h.org.Token)
	h.subscribe(h.org.Token, "https://hooks.example.com/a", "session.ended", "people.registered", "session.ended")

	num := func(m map[string]any, k string) int64 { return int64(attrs(m)[k].(float64)) }
	median := func(items []map[string]any, k string) int64 {
		vals := make([]int64, 0, len(items))
		for _, it := range items {
			vals = append(vals, num(it, k))
		}
		slices.Sort(vals)
		return vals[len(vals)/2]
	}
	str := func(m map[string]any, k string) string { s, _ := attrs(m)[k].(string); return s }
	detail := func(m map[string]any) map[string]any { return attrs(m)["registrant_detail"].(map[string]any) }
	eventTags := func(m map[string]any) []string {
		var out []string
		rels, _ := m["relationships"].(map[string]any)
		tags, _ := rels["tags"].(map[string]any)
		data, _ := tags["data"].([]any)
		for _, d := range data {
			out = append(out, d.(map[string]any)["id"].(string))
		}
		return out
	}
	// A tag used by some event, to filter by title.
	var tagID, tagTitle string
	eventsDoc := h.get("/events?include=tags&page[size]=50").must(t, http.StatusOK)
	for _, inc := range eventsDoc.included() {
		tagID, tagTitle = inc["id"].(string), attrs(inc)["title"].(string)
		break
	}
	require.NotEmpty(t, tagTitle, "some seeded event has a tag")
	titleWord := strings.ToLower(strings.Fields(str(events[0], "title"))[0])
	evCreated, evUpdated := median(events, "created_at"), median(events, "updated_at")
	sessions := h.listAll("/sessions", h.org.Token)
	sessCreated, sessStart := median(sessions, "created_at"), median(sessions, "estimated_started_at")
	regCreated := int64(detail(pastPeople[len(pastPeople)/2])["created_at"].(float64))
	participantEmail := strings.ToUpper(str(pastPeople[1], "email"))
	itoa := func(n int64) string { return strconv.FormatInt(n, 10) }
	isoDay := time.Unix(sessStart, 0).UTC().Format("2006-01-02")

	type tc struct {
		name, path, filter string
		keep               func(map[string]any) bool
		nonEmpty           bool
	}
	tests := []tc{
		{"events title", "/events?include=tags", "filter[title]=" + url.QueryEscape(strings.ToUpper(titleWord)), func(m map[string]any) bool {
			return strings.Contains(strings.ToLower(str(m, "title")), titleWord)
		}, true},
		{"events everyone_can_speak", "/events?include=tags", "filter[everyone_can_speak]=false", func(m map[string]any) bool { return attrs(m)["everyone_can_speak"] == false }, true},
		{"events created_since", "/events?include=tags", "filter[created_since]=" + itoa(evCreated), func(m map[string]any) bool { return num(m, "created_at") >= evCreated }, true},
		{"events created_until", "/events?include=tags", "filter[created_until]=" + itoa(evCreated), func(m map[string]any) bool { return num(m, "created_at") <= evCreated }, true},
		{"events updated_since", "/events?include=tags", "filter[updated_since]=" + itoa(evUpdated), func(m map[string]any) bool { return num(m, "updated_at") >= evUpdated }, true},
		{"events updated_until", "/events?include=tags", "filter[updated_until]=" + itoa(evUpdated), func(m map[string]any) bool { return num(m, "updated_at") <= evUpdated }, true},
		{"events tag", "/events?include=tags", "filter[tag]=" + url.QueryEscape(strings.ToUpper(tagTitle)+",no-such-tag"), func(m map[string]any) bool { return slices.Contains(eventTags(m), tagID) }, true},
		{"sessions date_from", "/sessions", "filter[date_from]=" + itoa(sessStart), func(m map[string]any) bool { return num(m, "estimated_started_at") >= sessStart }, true},
		{"sessions date_to", "/sessions", "filter[date_to]=" + itoa(sessStart), func(m map[string]any) bool { return num(m, "estimated_started_at") <= sessStart }, true},
		{"sessions date_to ISO day includes the whole day", "/sessions", "filter[date_to]=" + isoDay, func(m map[string]any) bool {
			end, _ := time.Parse("2006-01-02", isoDay)
			return num(m, "estimated_started_at") < end.AddDate(0, 0, 1).Unix()
		}, true},
		{"sessions created_since", "/sessions", "filter[created_since]=" + itoa(sessCreated), func(m map[string]any) bool { return num(m, "created_at") >= sessCreated }, true},
		{"sessions created_until ISO 8601", "/sessions", "filter[created_until]=" + url.QueryEscape(time.Unix(sessCreated, 0).UTC().Format(time.RFC3339)), func(m map[string]any) bool { return num(m, "created_at") <= sessCreated }, true},
		{"sessions updated_since", "/sessions", "filter[updated_since]=" + itoa(sessCreated), func(m map[string]any) bool { return num(m, "updated_at") >= sessCreated }, true},
		{"sessions updated_until", "/sessions", "filter[updated_until]=" + itoa(sessCreated), func(m map[string]any) bool { return num(m, "updated_at") <= sessCreated }, false},
		{"sessions include_breakout_rooms", "/sessions", "filter[include_breakout_rooms]=false", func(map[string]any) bool { return true }, true},
		{"event sessions status", "/events/" + past.event.id + "/sessions", "filter[status]=past", func(m map[string]any) bool { return str(m, "status") == "past" }, true},
		{"session people role", "/sessions/" + past.id + "/people", "filter[role]=team_member", func(m map[string]any) bool { return str(m, "role") == "team_member" }, true},
		{"session people attended", "/sessions/" + past.id + "/people", "filter[attended]=true", func(m map[string]any) bool { return detail(m)["attended"] == true }, true},
		{"session people not attended", "/sessions/" + past.id + "/people", "filter[attended]=false", func(m map[string]any) bool { return detail(m)["attended"] == false }, false},
		{"session people email", "/sessions/" + past.id + "/people", "filter[email]=" + url.QueryEscape(participantEmail), func(m map[string]any) bool { return strings.EqualFold(str(m, "email"), participantEmail) }, true},
		{"session people created_since", "/sessions/" + past.id + "/people", "filter[created_since]=" + itoa(regCreated), func(m map[string]any) bool { return int64(detail(m)["created_at"].(float64)) >= regCreated }, true},
		{"session people created_until", "/sessions/" + past.id + "/people", "filter[created_until]=" + itoa(regCreated), func(m map[string]any) bool { return int64(detail(m)["created_at"].(float64)) <= regCreated }, true},
		{"session people updated_since", "/sessions/" + past.id + "/people", "filter[updated_since]=0", func(map[string]any) bool { return true }, true},
		{"session people updated_until", "/sessions/" + past.id + "/people", "filter[updated_until]=1", func(map[string]any) bool { return false }, false},
		{"event people role", "/events/" + past.event.id + "/people", "filter[role]=participant", func(m map[string]any) bool { return str(m, "role") == "participant" }, true},
		{"event people email", "/events/" + past.event.id + "/people", "filter[email]=" + url.QueryEscape(participantEmail), func(m map[string]any) bool { return strings.EqualFold(str(m, "email"), participantEmail) }, true},
		{"people role", "/people", "filter[role]=team_member", func(m map[string]any) bool { return str(m, "role") == "team_member" }, true},
		{"people email", "/people", "filter[email]=" + url.QueryEscape(participantEmail), func(m map[string]any) bool { return strings.EqualFold(str(m, "email"), participantEmail) }, true},
		{"people attributes builtin", "/people_attributes", "filter[builtin]=true", func(m map[string]any) bool { return attrs(m)["builtin"] == true }, true},
		{"people attributes type", "/people_attributes", "filter[type]=unique_select", func(m map[string]any) bool { return str(m, "type") == "unique_select" }, true},
		{"people attributes slug", "/people_attributes", "filter[slug]=company", func(m map[string]any) bool { return str(m, "slug") == "company" }, true},
		{"people attributes name", "/people_attributes", "filter[name]=job%20title", func(m map[string]any) bool { return str(m, "name") == "Job title" }, true},
		{"people attributes description", "/people_attributes", "filter[description]=" + url.QueryEscape("Used to route follow-ups"), func(m map[string]any) bool { return str(m, "slug") == "department" }, true},
		{"people attributes placeholder", "/people_attributes", "filter[placeholder]=Jane", func(m map[string]any) bool { return str(m, "placeholder") == "Jane" }, true},
		{"people attributes user_id", "/people_attributes", "filter[user_id]=" + users[0]["id"].(string), func(m map[string]any) bool { return attrs(m)["user_id"] == users[0]["id"] }, true},
		{"users role", "/users", "filter[role]=moderator", func(m map[string]any) bool { return str(m, "role") == "moderator" }, true},
		{"users pending_invite", "/users", "filter[pending_invite]=true", func(m map[string]any) bool { return attrs(m)["pending_invite"] == true }, true},
		{"users email is case-insensitive", "/users", "filter[email]=" + url.QueryEscape(strings.ToUpper(str(users[1], "email"))), func(m map[string]any) bool { return m["id"] == users[1]["id"] }, true},
		{"webhooks event", "/webhooks", "filter[event]=session.ended", func(m map[string]any) bool { return str(m, "event") == "session.ended" }, true},
	}
	for _, status := range schedulingStatuses {
		tests = append(tests, tc{"events scheduling_status " + status, "/events?include=tags", "filter[scheduling_status]=" + status,
			func(m map[string]any) bool { return str(m, "scheduling_status") == status }, status != "not_started" && status != "not_scheduled"})
	}
	for _, status := range sessionStatuses {
		tests = append(tests, tc{"sessions status " + status, "/sessions", "filter[status]=" + status,
			func(m map[string]any) bool { return str(m, "status") == status }, status != statusPastNotStarted})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			full := h.listAll(tt.path, h.org.Token)
			want := slices.DeleteFunc(slices.Clone(full), func(m map[string]any) bool { return !tt.keep(m) })
			sep := "?"
			if strings.Contains(tt.path, "?") {
				sep = "&"
			}
			got := h.listAll(tt.path+sep+tt.filter, h.org.Token)
			assert.Equal(t, ids(want), ids(got))
			if tt.nonEmpty {
				assert.NotEmpty(t, got, "the seed data should exercise this filter")
			}
		})
	}
}

func TestPeopleAttributesSort(t *testing.T) {
	h := newHarness(t, nil)
	slugs := func(q string) []string {
		var out []string
		for _, a := range h.listAll("/people_attributes?"+q, h.org.Token) {
			out = append(out, attrs(a)["slug"].(string))
		}
		return out
	}
	asc := slugs("sort=slug")
	require.True(t, slices.IsSorted(asc))
	desc := slugs("sort=-slug")
	slices.Reverse(desc)
	assert.Equal(t, asc, desc)
	byName := slugs("sort=-created_at,name")
	assert.Len(t, byName, len(asc))
	assert.Equal(t, "marketing_consent", byName[0], "the newest attribute comes first")
	h.get("/people_attributes?sort=color").must(t, http.StatusBadRequest)
	h.get("/events?sort=title").must(t, http.StatusBadRequest)
}

// TestFilterValidation: unknown filters and bad filter values are 400s on
// every list endpoint.
func TestFilterValidation(t *testing.T) {
	h := newHarness(t, nil)
	past := h.sessionWithStatus(statusPast, nil)
	lists := []string{"/events", "/sessions", "/events/" + past.event.id + "/sessions", "/events/" + past.event.id + "/people",
		"/sessions/" + past.id + "/people", "/sessions/" + past.id + "/chat_messages", "/sessions/" + past.id + "/questions",
		"/sessions/" + past.id + "/recordings", "/people", "/people_attributes", "/users", "/webhooks"}
	for _, p := range lists {
		t.Run("unknown filter on "+p, func(t *testing.T) {
			r := h.get(p+"?filter[colour]=blue").must(t, http.StatusBadRequest)
			assert.Contains(t, string(r.body), "colour")
		})
	}
	bad := []string{
		"/events?filter[everyone_can_speak]=maybe", "/events?filter[scheduling_status]=soon", "/events?filter[created_since]=yesterday",
		"/sessions?filter[status]=finished", "/sessions?filter[date_from]=13/01/2026", "/sessions?filter[include_breakout_rooms]=1x",
		"/sessions/" + past.id + "/people?filter[attended]=yes", "/sessions/" + past.id + "/people?filter[role]=admin",
		"/people?filter[role]=host", "/people_attributes?filter[type]=number", "/people_attributes?filter[builtin]=no",
		"/users?filter[role]=owner", "/users?filter[pending_invite]=perhaps", "/webhooks?filter[event]=session.exploded",
	}
	for _, p := range bad {
		t.Run("bad value "+p, func(t *testing.T) {
			h.get(p).must(t, http.StatusBadRequest)
		})
	}
}
