package livestorm_test

import (
	"context"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/livestorm-gateway/gateway/livestorm"
	"github.com/livestorm-gateway/gateway/livestormsim"
)

func TestAllWalksEveryPage(t *testing.T) {
	t.Parallel()
	cfg := fastConfig()
	cfg.Size = livestormsim.SizeSmall
	e := newEnv(t, cfg)
	ctx := ctxT(t)
	c := e.client
	sessionID := e.sim.Events(e.org.ID)[0].SessionIDs[0]

	tests := []struct {
		name  string
		route string
		walk  func() (count int, meta livestorm.ListMeta, err error)
	}{
		{"people, page size 7", "/people", func() (int, livestorm.ListMeta, error) {
			return walk(ctx, func(ctx context.Context, page int) (*livestorm.List[livestorm.Person], error) {
				return c.ListPeople(ctx, livestorm.PeopleListOptions{Page: livestorm.Page{Number: page, Size: 7}})
			}, c.ListPeople, livestorm.PeopleListOptions{Page: livestorm.Page{Size: 7}})
		}},
		{"session people, page size 4", "/sessions/{id}/people", func() (int, livestorm.ListMeta, error) {
			return walk(ctx, func(ctx context.Context, page int) (*livestorm.List[livestorm.Person], error) {
				return c.ListSessionPeople(ctx, sessionID, livestorm.SessionPeopleListOptions{Page: livestorm.Page{Number: page, Size: 4}})
			}, func(ctx context.Context, o livestorm.SessionPeopleListOptions) (*livestorm.List[livestorm.Person], error) {
				return c.ListSessionPeople(ctx, sessionID, o)
			}, livestorm.SessionPeopleListOptions{Page: livestorm.Page{Size: 4}})
		}},
		{"events, page size 3", "/events", func() (int, livestorm.ListMeta, error) {
			return walk(ctx, func(ctx context.Context, page int) (*livestorm.List[livestorm.Event], error) {
				return c.ListEvents(ctx, livestorm.EventListOptions{Page: livestorm.Page{Number: page, Size: 3}})
			}, c.ListEvents, livestorm.EventListOptions{Page: livestorm.Page{Size: 3}})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.sim.ResetRequests()
			n, meta, err := tt.walk()
			require.NoError(t, err)
			assert.Equal(t, meta.RecordCount, n, "All yields exactly record_count items")
			assert.Greater(t, meta.PageCount, 2, "the walk spans several pages")
			// One request for the meta probe, then one per page.
			assert.Equal(t, meta.PageCount+1, e.count("GET", tt.route), "All stops when next_page is null")
		})
	}
}

// walk runs All and, separately, one probe request for the first page's meta.
func walk[T any, O any](ctx context.Context, fetch func(context.Context, int) (*livestorm.List[T], error),
	list func(context.Context, O) (*livestorm.List[T], error), first O) (int, livestorm.ListMeta, error) {
	probe, err := list(ctx, first)
	if err != nil {
		return 0, livestorm.ListMeta{}, err
	}
	n := 0
	for _, err := range livestorm.All(ctx, fetch) {
		if err != nil {
			return n, probe.Meta, err
		}
		n++
	}
	return n, probe.Meta, nil
}

func TestAllStopsOnErrorAndBreak(t *testing.T) {
	t.Parallel()
	e := newEnv(t, fastConfig())
	ctx := ctxT(t)
	fetch := func(ctx context.Context, page int) (*livestorm.List[livestorm.Person], error) {
		return e.client.ListPeople(ctx, livestorm.PeopleListOptions{Page: livestorm.Page{Number: page, Size: 2}})
	}
	n := 0
	for _, err := range livestorm.All(ctx, fetch) {
		require.NoError(t, err)
		n++
		if n == 3 {
			break
		}
	}
	assert.Equal(t, 3, n)
	assert.Equal(t, 2, e.count("GET", "/people"), "breaking early stops fetching")

	e.sim.InjectFaults(livestormsim.FaultServerError, 100)
	var errs int
	for _, err := range livestorm.All(ctx, fetch) {
		require.Error(t, err)
		errs++
	}
	assert.Equal(t, 1, errs, "an error is yielded once and ends the walk")
	e.sim.InjectFaults(livestormsim.FaultServerError, 0)
}

func TestPageSizeIsClamped(t *testing.T) {
	t.Parallel()
	cfg := fastConfig()
	cfg.Size = livestormsim.SizeSmall
	e := newEnv(t, cfg)
	l, err := e.client.ListPeople(ctxT(t), livestorm.PeopleListOptions{Page: livestorm.Page{Size: 500}})
	require.NoError(t, err)
	assert.Equal(t, 50, l.Meta.ItemsPerPage)
	reqs := e.sim.Requests()
	q, err := url.ParseQuery(reqs[len(reqs)-1].Query)
	require.NoError(t, err)
	assert.Equal(t, "50", q.Get("page[size]"))
}

// lastQuery returns the parsed query of the simulator's latest request.
func lastQuery(t *testing.T, e *env) url.Values {
	t.Helper()
	reqs := e.sim.Requests()
	require.NotEmpty(t, reqs)
	q, err := url.ParseQuery(reqs[len(reqs)-1].Query)
	require.NoError(t, err)
	return q
}

func TestFiltersAndIncludes(t *testing.T) {
	t.Parallel()
	cfg := fastConfig()
	cfg.Size = livestormsim.SizeSmall
	e := newEnv(t, cfg)
	ctx := ctxT(t)
	c := e.client
	events := e.sim.Events(e.org.ID)
	ev := events[0]
	sid := ev.SessionIDs[0]
	people, err := c.ListSessionPeople(ctx, sid, livestorm.SessionPeopleListOptions{Role: "participant"})
	require.NoError(t, err)
	require.NotEmpty(t, people.Items)
	someone := people.Items[0]
	users, err := c.ListUsers(ctx, livestorm.UserListOptions{})
	require.NoError(t, err)
	require.NotEmpty(t, users.Items)
	sessions, err := c.ListSessions(ctx, livestorm.SessionListOptions{Page: livestorm.Page{Size: 50}})
	require.NoError(t, err)
	require.NotEmpty(t, sessions.Items)
	allEvents, err := c.ListEvents(ctx, livestorm.EventListOptions{})
	require.NoError(t, err)
	require.NotEmpty(t, allEvents.Items)
	epoch := time.Unix(1, 0)
	future := time.Now().Add(100 * 365 * 24 * time.Hour)

	tests := []struct {
		name   string
		params map[string]string // expected query parameters
		run    func(t *testing.T)
	}{
		{"events title", map[string]string{"filter[title]": ev.Title}, func(t *testing.T) {
			l, err := c.ListEvents(ctx, livestorm.EventListOptions{Title: ev.Title})
			require.NoError(t, err)
			require.NotEmpty(t, l.Items)
			for _, it := range l.Items {
				assert.Contains(t, strings.ToLower(it.Title), strings.ToLower(ev.Title))
			}
		}},
		{"events everyone_can_speak", map[string]string{"filter[everyone_can_speak]": "false"}, func(t *testing.T) {
			l, err := c.ListEvents(ctx, livestorm.EventListOptions{EveryoneCanSpeak: boolp(false)})
			require.NoError(t, err)
			require.NotEmpty(t, l.Items)
			for _, it := range l.Items {
				assert.False(t, it.EveryoneCanSpeak)
			}
		}},
		{"events scheduling_status", map[string]string{"filter[scheduling_status]": allEvents.Items[0].SchedulingStatus}, func(t *testing.T) {
			want := allEvents.Items[0].SchedulingStatus
			l, err := c.ListEvents(ctx, livestorm.EventListOptions{SchedulingStatus: want})
			require.NoError(t, err)
			require.NotEmpty(t, l.Items)
			for _, it := range l.Items {
				assert.Equal(t, want, it.SchedulingStatus)
			}
		}},
		{"events created range", map[string]string{"filter[created_since]": "1", "filter[created_until]": unix(future)}, func(t *testing.T) {
			l, err := c.ListEvents(ctx, livestorm.EventListOptions{TimeRange: livestorm.TimeRange{CreatedSince: epoch, CreatedUntil: future}})
			require.NoError(t, err)
			assert.Len(t, l.Items, min(len(events), 20))
		}},
		{"events updated range excludes all", map[string]string{"filter[updated_since]": unix(future)}, func(t *testing.T) {
			l, err := c.ListEvents(ctx, livestorm.EventListOptions{TimeRange: livestorm.TimeRange{UpdatedSince: future}})
			require.NoError(t, err)
			assert.Empty(t, l.Items)
			assert.Zero(t, l.Meta.RecordCount)
		}},
		{"events include sessions and tags", map[string]string{"include": "sessions,tags"}, func(t *testing.T) {
			l, err := c.ListEvents(ctx, livestorm.EventListOptions{Include: []string{"sessions", "tags"}})
			require.NoError(t, err)
			for _, it := range l.Items {
				assert.Len(t, it.Sessions, len(it.SessionIDs))
				assert.NotEmpty(t, it.Sessions)
			}
		}},
		{"sessions status", map[string]string{"filter[status]": sessions.Items[0].Status}, func(t *testing.T) {
			l, err := c.ListSessions(ctx, livestorm.SessionListOptions{Status: sessions.Items[0].Status})
			require.NoError(t, err)
			require.NotEmpty(t, l.Items)
			for _, it := range l.Items {
				assert.Equal(t, sessions.Items[0].Status, it.Status)
			}
		}},
		{"sessions date range", map[string]string{"filter[date_from]": unix(sessions.Items[0].EstimatedStartedAt), "filter[date_to]": unix(sessions.Items[0].EstimatedStartedAt)}, func(t *testing.T) {
			at := sessions.Items[0].EstimatedStartedAt
			l, err := c.ListSessions(ctx, livestorm.SessionListOptions{DateFrom: at, DateTo: at})
			require.NoError(t, err)
			require.NotEmpty(t, l.Items)
			for _, it := range l.Items {
				assert.True(t, it.EstimatedStartedAt.Equal(at))
			}
		}},
		{"sessions breakout rooms and time range", map[string]string{"filter[include_breakout_rooms]": "true", "filter[created_since]": "1"}, func(t *testing.T) {
			l, err := c.ListSessions(ctx, livestorm.SessionListOptions{IncludeBreakoutRooms: boolp(true), TimeRange: livestorm.TimeRange{CreatedSince: epoch}})
			require.NoError(t, err)
			assert.GreaterOrEqual(t, l.Meta.RecordCount, sessions.Meta.RecordCount)
		}},
		{"event sessions include event and people", map[string]string{"include": "event,people"}, func(t *testing.T) {
			l, err := c.ListEventSessions(ctx, ev.ID, livestorm.SessionListOptions{Include: []string{"event", "people"}})
			require.NoError(t, err)
			require.NotEmpty(t, l.Items)
			for _, s := range l.Items {
				require.NotNil(t, s.Event)
				assert.Equal(t, ev.ID, s.Event.ID)
				assert.Len(t, s.People, len(s.PeopleIDs))
			}
		}},
		{"session people role", map[string]string{"filter[role]": "team_member"}, func(t *testing.T) {
			l, err := c.ListSessionPeople(ctx, sid, livestorm.SessionPeopleListOptions{Role: "team_member"})
			require.NoError(t, err)
			require.NotEmpty(t, l.Items)
			for _, p := range l.Items {
				assert.Equal(t, "team_member", p.Role)
			}
		}},
		{"session people attended", map[string]string{"filter[attended]": "false"}, func(t *testing.T) {
			l, err := c.ListSessionPeople(ctx, sid, livestorm.SessionPeopleListOptions{Attended: boolp(false)})
			require.NoError(t, err)
			require.NotEmpty(t, l.Items)
			for _, p := range l.Items {
				assert.False(t, p.RegistrantDetail.Attended)
			}
		}},
		{"session people email and include", map[string]string{"filter[email]": someone.Email, "include": "event,session"}, func(t *testing.T) {
			l, err := c.ListSessionPeople(ctx, sid, livestorm.SessionPeopleListOptions{Email: someone.Email, Include: []string{"event", "session"}})
			require.NoError(t, err)
			require.Len(t, l.Items, 1)
			p := l.Items[0]
			assert.Equal(t, someone.ID, p.ID)
			require.NotNil(t, p.Event)
			assert.Equal(t, ev.ID, p.Event.ID)
			require.NotNil(t, p.Session)
			assert.Equal(t, sid, p.Session.ID)
		}},
		{"session people updated range", map[string]string{"filter[updated_until]": unix(future)}, func(t *testing.T) {
			l, err := c.ListSessionPeople(ctx, sid, livestorm.SessionPeopleListOptions{TimeRange: livestorm.TimeRange{UpdatedUntil: future}})
			require.NoError(t, err)
			assert.Equal(t, people.Meta.RecordCount+1, l.Meta.RecordCount, "participants plus the host")
		}},
		{"event people role", map[string]string{"filter[role]": "participant"}, func(t *testing.T) {
			l, err := c.ListEventPeople(ctx, ev.ID, livestorm.EventPeopleListOptions{Role: "participant"})
			require.NoError(t, err)
			require.NotEmpty(t, l.Items)
			for _, p := range l.Items {
				assert.Equal(t, "participant", p.Role)
			}
		}},
		{"people role and email", map[string]string{"filter[role]": "participant", "filter[email]": someone.Email}, func(t *testing.T) {
			l, err := c.ListPeople(ctx, livestorm.PeopleListOptions{Role: "participant", Email: someone.Email})
			require.NoError(t, err)
			require.Len(t, l.Items, 1)
		}},
		{"users role, pending and email", map[string]string{"filter[role]": users.Items[0].Role, "filter[pending_invite]": "false", "filter[email]": strings.ToUpper(users.Items[0].Email)}, func(t *testing.T) {
			l, err := c.ListUsers(ctx, livestorm.UserListOptions{Role: users.Items[0].Role, PendingInvite: boolp(false), Email: strings.ToUpper(users.Items[0].Email)})
			require.NoError(t, err)
			require.Len(t, l.Items, 1, "email filter is case-insensitive")
			assert.Equal(t, users.Items[0].ID, l.Items[0].ID)
		}},
		{"people attributes filters and sort", map[string]string{"filter[builtin]": "true", "filter[type]": "email", "sort": "-slug", "filter[slug]": "email"}, func(t *testing.T) {
			l, err := c.ListPeopleAttributes(ctx, livestorm.PeopleAttributeListOptions{Builtin: boolp(true), Type: "email", Slug: "email", Sort: "-slug"})
			require.NoError(t, err)
			require.Len(t, l.Items, 1)
			assert.Equal(t, "email", l.Items[0].Slug)
		}},
		{"people attributes name", map[string]string{"filter[name]": "Email"}, func(t *testing.T) {
			_, err := c.ListPeopleAttributes(ctx, livestorm.PeopleAttributeListOptions{Name: "Email"})
			require.NoError(t, err)
		}},
		{"webhooks event", map[string]string{"filter[event]": livestorm.JobEnded}, func(t *testing.T) {
			_, err := c.CreateWebhook(ctx, "http://127.0.0.1:1/a", livestorm.JobEnded)
			require.NoError(t, err)
			_, err = c.CreateWebhook(ctx, "http://127.0.0.1:1/b", livestorm.PeopleRegistered)
			require.NoError(t, err)
			l, err := c.ListWebhooks(ctx, livestorm.WebhookListOptions{Event: livestorm.JobEnded})
			require.NoError(t, err)
			require.Len(t, l.Items, 1)
			assert.Equal(t, livestorm.JobEnded, l.Items[0].Event)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.run(t)
			q := lastQuery(t, e)
			for k, v := range tt.params {
				assert.Equal(t, v, q.Get(k), "query parameter %s", k)
			}
		})
	}
}

func unix(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }

// TestQuestionIncludes finds a seeded session with answered questions and
// checks both include forms attach the people.
func TestQuestionIncludes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, fastConfig())
	ctx := ctxT(t)
	c := e.client
	var sid string
	for _, ev := range e.sim.Events(e.org.ID) {
		for _, id := range ev.SessionIDs {
			l, err := c.ListQuestions(ctx, id, livestorm.ListOptions{})
			require.NoError(t, err)
			for _, q := range l.Items {
				if q.Response != nil {
					sid = id
				}
			}
		}
	}
	require.NotEmpty(t, sid, "the seed has an answered question")
	for _, include := range [][]string{{"asker", "responder"}, {"people"}} {
		t.Run(strings.Join(include, ","), func(t *testing.T) {
			l, err := c.ListQuestions(ctx, sid, livestorm.ListOptions{Include: include})
			require.NoError(t, err)
			assert.Equal(t, strings.Join(include, ","), lastQuery(t, e).Get("include"))
			answered := 0
			for _, q := range l.Items {
				require.NotEmpty(t, q.AskerID)
				require.NotNil(t, q.Asker)
				assert.Equal(t, q.AskerID, q.Asker.ID)
				assert.NotEmpty(t, q.Asker.Email)
				if q.Response != nil {
					answered++
					require.NotNil(t, q.Responder)
					assert.Equal(t, q.ResponderID, q.Responder.ID)
				}
			}
			assert.Positive(t, answered)
		})
	}
}
