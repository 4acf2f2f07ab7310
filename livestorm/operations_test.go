package livestorm_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/livestorm-gateway/gateway/livestorm"
	"github.com/livestorm-gateway/gateway/livestormsim"
)

// TestOperations drives every one of the 41 operations against the
// simulator, in a realistic order, and checks the decoded values.
func TestOperations(t *testing.T) {
	t.Parallel()
	e := newEnv(t, fastConfig())
	c := e.client
	ctx := ctxT(t)
	events := e.sim.Events(e.org.ID)
	require.NotEmpty(t, events)
	seeded := events[0]
	require.NotEmpty(t, seeded.SessionIDs)

	var (
		owner      *livestorm.Person
		newEvent   *livestorm.Event
		newSession *livestorm.Session
		registered *livestorm.Person
		team       []livestorm.User
	)

	t.Run("01 Ping", func(t *testing.T) {
		require.NoError(t, c.Ping(ctx))
		assert.Equal(t, 1, e.count(http.MethodGet, "/ping"))
	})
	t.Run("02 Me", func(t *testing.T) {
		me, err := c.Me(ctx)
		require.NoError(t, err)
		require.NotNil(t, me.Organization)
		assert.Equal(t, e.org.ID, me.Organization.ID)
		assert.Equal(t, e.org.Name, me.Organization.Name)
		// OAuth variant: a user with its organization.
		oc := e.newClient(livestorm.WithCredential(livestorm.OAuthToken(e.org.OAuthToken)))
		me, err = oc.Me(ctx)
		require.NoError(t, err)
		require.NotNil(t, me.User)
		assert.NotEmpty(t, me.User.Email)
		assert.NotEmpty(t, me.User.Role)
		require.NotNil(t, me.Organization)
		assert.Equal(t, e.org.ID, me.Organization.ID)
	})
	t.Run("03 Organization", func(t *testing.T) {
		o, err := c.Organization(ctx)
		require.NoError(t, err)
		assert.Equal(t, livestorm.Organization{ID: e.org.ID, Name: e.org.Name, Slug: e.org.Slug}, *o)
	})
	t.Run("04 ListEvents", func(t *testing.T) {
		l, err := c.ListEvents(ctx, livestorm.EventListOptions{})
		require.NoError(t, err)
		assert.Equal(t, len(events), l.Meta.RecordCount)
		require.Len(t, l.Items, len(events))
		for _, ev := range l.Items {
			assert.NotEmpty(t, ev.ID)
			assert.NotEmpty(t, ev.Title)
			assert.NotEmpty(t, ev.Slug)
			assert.NotEmpty(t, ev.RegistrationLink)
			assert.NotEmpty(t, ev.Status)
			assert.NotEmpty(t, ev.SchedulingStatus)
			assert.NotEmpty(t, ev.Language)
			assert.False(t, ev.CreatedAt.IsZero())
			assert.NotEmpty(t, ev.Fields)
			require.NotNil(t, ev.Owner)
			assert.NotEmpty(t, ev.Owner.Email)
			assert.Equal(t, "team_member", ev.Owner.Role)
			owner = ev.Owner
		}
	})
	t.Run("05 CreateEvent", func(t *testing.T) {
		start := time.Now().Add(48 * time.Hour).Truncate(time.Second)
		ev, err := c.CreateEvent(ctx, livestorm.EventInput{
			Title: strp("Client test event"), Slug: strp("client-test-event"), Description: strp("<p>hi</p>"),
			OwnerID: strp(owner.ID), EveryoneCanSpeak: boolp(true), ChatEnabled: boolp(true),
			Sessions: []livestorm.SessionInput{{EstimatedStartedAt: &start, Timezone: strp("Europe/Paris")}},
		})
		require.NoError(t, err)
		assert.NotEmpty(t, ev.ID)
		assert.Equal(t, "Client test event", ev.Title)
		assert.Equal(t, strp("<p>hi</p>"), ev.Description)
		assert.True(t, ev.EveryoneCanSpeak)
		assert.Equal(t, owner.ID, ev.Owner.ID)
		assert.Equal(t, 1, ev.SessionsCount)
		newEvent = ev
	})
	t.Run("06 GetEvent", func(t *testing.T) {
		ev, err := c.GetEvent(ctx, seeded.ID, "sessions")
		require.NoError(t, err)
		assert.Equal(t, seeded.Title, ev.Title)
		assert.ElementsMatch(t, seeded.SessionIDs, ev.SessionIDs)
		require.Len(t, ev.Sessions, len(seeded.SessionIDs), "include=sessions attaches the included sessions")
		for _, s := range ev.Sessions {
			assert.Equal(t, seeded.ID, s.EventID)
			assert.NotEmpty(t, s.Status)
		}
	})
	t.Run("07 UpdateEvent", func(t *testing.T) {
		ev, err := c.UpdateEvent(ctx, newEvent.ID, livestorm.EventInput{Title: strp("Renamed")})
		require.NoError(t, err)
		assert.Equal(t, "Renamed", ev.Title)
		assert.Equal(t, strp("<p>hi</p>"), ev.Description, "PATCH leaves other attributes alone")
	})
	t.Run("08 ReplaceEvent", func(t *testing.T) {
		ev, err := c.ReplaceEvent(ctx, newEvent.ID, livestorm.EventInput{Title: strp("Replaced"), Description: strp("new")})
		require.NoError(t, err)
		assert.Equal(t, "Replaced", ev.Title)
		assert.Equal(t, strp("new"), ev.Description)
	})
	t.Run("10 AddEventTag", func(t *testing.T) {
		tag, err := c.AddEventTag(ctx, newEvent.ID, "VIP")
		require.NoError(t, err)
		assert.Equal(t, "VIP", tag.Title)
		ev, err := c.GetEvent(ctx, newEvent.ID, "tags")
		require.NoError(t, err)
		require.Len(t, ev.Tags, 1)
		assert.Equal(t, "VIP", ev.Tags[0].Title)
		l, err := c.ListEvents(ctx, livestorm.EventListOptions{Tags: []string{"vip"}})
		require.NoError(t, err)
		require.Len(t, l.Items, 1, "filter[tag] is case-insensitive")
		assert.Equal(t, newEvent.ID, l.Items[0].ID)
	})
	t.Run("11 RemoveEventTag", func(t *testing.T) {
		require.NoError(t, c.RemoveEventTag(ctx, newEvent.ID, "VIP"))
		ev, err := c.GetEvent(ctx, newEvent.ID, "tags")
		require.NoError(t, err)
		assert.Empty(t, ev.Tags)
	})
	t.Run("14 ListEventSessions", func(t *testing.T) {
		l, err := c.ListEventSessions(ctx, seeded.ID, livestorm.SessionListOptions{})
		require.NoError(t, err)
		require.Len(t, l.Items, len(seeded.SessionIDs))
		for _, s := range l.Items {
			assert.Equal(t, seeded.ID, s.EventID)
			assert.NotEmpty(t, s.RoomLink)
			assert.NotEmpty(t, s.Timezone)
			assert.False(t, s.EstimatedStartedAt.IsZero())
		}
	})
	t.Run("15 CreateSession", func(t *testing.T) {
		start := time.Date(2031, 3, 4, 15, 30, 0, 0, time.UTC)
		s, err := c.CreateSession(ctx, newEvent.ID, livestorm.SessionInput{
			Name: strp("Second run"), Timezone: strp("America/New_York"), EstimatedStartedAt: &start,
			TeamMemberIDs: []string{owner.ID},
		})
		require.NoError(t, err)
		assert.Equal(t, newEvent.ID, s.EventID)
		assert.Equal(t, strp("Second run"), s.Name)
		assert.Equal(t, "America/New_York", s.Timezone)
		assert.True(t, start.Equal(s.EstimatedStartedAt), "instant preserved across the timezone: got %v", s.EstimatedStartedAt)
		assert.Contains(t, s.PeopleIDs, owner.ID)
		newSession = s
	})
	t.Run("16 ListSessions", func(t *testing.T) {
		l, err := c.ListSessions(ctx, livestorm.SessionListOptions{})
		require.NoError(t, err)
		assert.GreaterOrEqual(t, l.Meta.RecordCount, 2)
		assert.NotEmpty(t, l.Items)
	})
	t.Run("17 GetSession", func(t *testing.T) {
		s, err := c.GetSession(ctx, newSession.ID, "event", "people")
		require.NoError(t, err)
		assert.Equal(t, newSession.ID, s.ID)
		require.NotNil(t, s.Event, "include=event")
		assert.Equal(t, "Replaced", s.Event.Title)
		require.NotEmpty(t, s.People, "include=people")
	})
	t.Run("18 UpdateSession", func(t *testing.T) {
		s, err := c.UpdateSession(ctx, newSession.ID, livestorm.SessionInput{Name: strp("Renamed run")})
		require.NoError(t, err)
		assert.Equal(t, strp("Renamed run"), s.Name)
		assert.Equal(t, "America/New_York", s.Timezone)
	})
	t.Run("19 ReplaceSession", func(t *testing.T) {
		start := time.Date(2031, 5, 6, 8, 0, 0, 0, time.UTC)
		s, err := c.ReplaceSession(ctx, newSession.ID, livestorm.SessionInput{Timezone: strp("Europe/Paris"), EstimatedStartedAt: &start, EmbedURL: strp("https://example.com/embed")})
		require.NoError(t, err)
		assert.Equal(t, "Europe/Paris", s.Timezone)
		assert.True(t, start.Equal(s.EstimatedStartedAt))
	})
	t.Run("22 RegisterPerson", func(t *testing.T) {
		p, err := c.RegisterPerson(ctx, newSession.ID, livestorm.Registration{
			Fields:   []livestorm.FieldValue{{ID: "email", Value: strp("ada@example.com")}, {ID: "first_name", Value: strp("Ada")}, {ID: "last_name", Value: strp("Lovelace")}},
			Referrer: strp("test"), UTMSource: strp("go"),
		})
		require.NoError(t, err)
		assert.NotEmpty(t, p.ID)
		assert.Equal(t, "participant", p.Role)
		assert.Equal(t, "ada@example.com", p.Email)
		assert.Equal(t, "Ada", p.FirstName)
		require.NotNil(t, p.RegistrantDetail)
		rd := p.RegistrantDetail
		assert.Equal(t, newSession.ID, rd.SessionID)
		assert.Equal(t, newEvent.ID, rd.EventID)
		assert.Equal(t, strp("test"), rd.Referrer)
		assert.Equal(t, strp("go"), rd.UTMSource)
		assert.Contains(t, rd.ConnectionLink, newSession.ID)
		require.NotNil(t, rd.PasswordKey)
		assert.Len(t, *rd.PasswordKey, 22)
		assert.NotEmpty(t, rd.RegistrationType)
		assert.NotEmpty(t, rd.Fields)
		registered = p
	})
	t.Run("21 ListSessionPeople", func(t *testing.T) {
		l, err := c.ListSessionPeople(ctx, newSession.ID, livestorm.SessionPeopleListOptions{})
		require.NoError(t, err)
		assert.Equal(t, len(l.Items), l.Meta.RecordCount)
		var ids []string
		for _, p := range l.Items {
			ids = append(ids, p.ID)
			require.NotNil(t, p.RegistrantDetail)
			assert.Equal(t, newSession.ID, p.RegistrantDetail.SessionID)
		}
		assert.Contains(t, ids, registered.ID)
	})
	t.Run("24 GetSessionPerson", func(t *testing.T) {
		p, err := c.GetSessionPerson(ctx, newSession.ID, registered.ID)
		require.NoError(t, err)
		assert.Equal(t, "ada@example.com", p.Email)
		require.NotNil(t, p.RegistrantDetail)
		assert.Equal(t, newSession.ID, p.RegistrantDetail.SessionID)
	})
	t.Run("25 UpdateRegistration", func(t *testing.T) {
		p, err := c.UpdateRegistration(ctx, newSession.ID, registered.ID, livestorm.Registration{
			Fields: []livestorm.FieldValue{{ID: "first_name", Value: strp("Augusta")}}, UTMCampaign: strp("spring"),
		})
		require.NoError(t, err)
		require.NotNil(t, p.RegistrantDetail)
		assert.Equal(t, strp("spring"), p.RegistrantDetail.UTMCampaign)
		var first *string
		for _, f := range p.RegistrantDetail.Fields {
			if f.ID == "first_name" {
				first = f.Value
			}
		}
		assert.Equal(t, strp("Augusta"), first)
	})
	t.Run("12 ListEventPeople", func(t *testing.T) {
		l, err := c.ListEventPeople(ctx, newEvent.ID, livestorm.EventPeopleListOptions{Email: "ada@example.com"})
		require.NoError(t, err)
		require.Len(t, l.Items, 1)
		assert.Equal(t, registered.ID, l.Items[0].ID)
		require.NotNil(t, l.Items[0].RegistrantDetail)
		assert.Equal(t, newEvent.ID, l.Items[0].RegistrantDetail.EventID)
	})
	t.Run("13 GetEventPerson", func(t *testing.T) {
		p, err := c.GetEventPerson(ctx, newEvent.ID, registered.ID)
		require.NoError(t, err)
		assert.Equal(t, "ada@example.com", p.Email)
	})
	t.Run("31 ListPeople", func(t *testing.T) {
		l, err := c.ListPeople(ctx, livestorm.PeopleListOptions{Email: "ada@example.com"})
		require.NoError(t, err)
		require.Len(t, l.Items, 1)
		assert.Equal(t, registered.ID, l.Items[0].ID)
		all, err := c.ListPeople(ctx, livestorm.PeopleListOptions{})
		require.NoError(t, err)
		assert.Greater(t, all.Meta.RecordCount, 1)
	})
	t.Run("32 GetPerson", func(t *testing.T) {
		p, err := c.GetPerson(ctx, registered.ID)
		require.NoError(t, err)
		assert.Equal(t, "ada@example.com", p.Email)
		assert.False(t, p.CreatedAt.IsZero())
	})
	t.Run("27 BulkRegister, 34 GetJob, 35 ListJobTasks", func(t *testing.T) {
		var rs []livestorm.Registration
		for _, email := range []string{"b1@example.com", "b2@example.com", "ada@example.com"} {
			rs = append(rs, livestorm.Registration{Fields: []livestorm.FieldValue{{ID: "email", Value: strp(email)}}, Referrer: strp("bulk")})
		}
		job, err := c.BulkRegister(ctx, newSession.ID, rs)
		require.NoError(t, err)
		assert.NotEmpty(t, job.ID)
		assert.Equal(t, 3, job.TotalItems)
		var final *livestorm.Job
		eventually(t, 10*time.Second, func() bool {
			j, err := c.GetJob(ctx, job.ID)
			require.NoError(t, err)
			final = j
			return j.Status != "processing"
		}, "bulk job to finish")
		assert.Equal(t, "failed", final.Status, "one task is a duplicate registration")
		assert.Equal(t, 3, final.TotalProcessed)
		assert.Equal(t, 2, final.TotalSucceeded)
		assert.Equal(t, 1, final.TotalFailed)
		tasks, err := c.ListJobTasks(ctx, job.ID)
		require.NoError(t, err)
		require.Len(t, tasks, 3)
		byEmail := map[string]livestorm.JobTask{}
		for _, tk := range tasks {
			byEmail[tk.Email] = tk
			assert.NotEmpty(t, tk.ID)
			assert.NotEmpty(t, tk.Input)
		}
		assert.Equal(t, "succeeded", byEmail["b1@example.com"].Status)
		assert.NotNil(t, byEmail["b1@example.com"].PersonID)
		assert.Equal(t, "failed", byEmail["ada@example.com"].Status)
		require.NotEmpty(t, byEmail["ada@example.com"].Errors)
		assert.Zero(t, e.sim.CountRequests(func(r livestormsim.RequestRecord) bool {
			return strings.HasSuffix(r.Path, "/tasks") && strings.Contains(r.Query, "page")
		}), "no page params on /jobs/{id}/tasks")
	})
	t.Run("26 UnregisterPerson", func(t *testing.T) {
		require.NoError(t, c.UnregisterPerson(ctx, newSession.ID, registered.ID))
		_, err := c.GetSessionPerson(ctx, newSession.ID, registered.ID)
		assert.Equal(t, livestorm.KindNotFound, livestorm.KindOf(err))
	})
	t.Run("23 UnregisterByEmail", func(t *testing.T) {
		require.NoError(t, c.UnregisterByEmail(ctx, newSession.ID, "b1@example.com"))
		l, err := c.ListSessionPeople(ctx, newSession.ID, livestorm.SessionPeopleListOptions{Email: "b1@example.com"})
		require.NoError(t, err)
		assert.Empty(t, l.Items)
	})
	t.Run("28 ListChatMessages, 29 ListQuestions, 30 ListRecordings", func(t *testing.T) {
		// The seed gives past sessions chat, questions and recordings; look
		// through every seeded session for one that has them.
		var chats, questions, recordings int
		for _, ev := range events {
			for _, sid := range ev.SessionIDs {
				cm, err := c.ListChatMessages(ctx, sid, livestorm.ListOptions{Include: []string{"people"}})
				require.NoError(t, err)
				for _, m := range cm.Items {
					chats++
					assert.NotEmpty(t, m.TextContent)
					assert.NotEmpty(t, m.AuthorID)
					assert.False(t, m.CreatedAt.IsZero())
					if assert.NotNil(t, m.Author, "include=people attaches the author") {
						assert.Equal(t, m.AuthorID, m.Author.ID)
					}
				}
				qs, err := c.ListQuestions(ctx, sid, livestorm.ListOptions{})
				require.NoError(t, err)
				for _, q := range qs.Items {
					questions++
					assert.NotEmpty(t, q.Question)
					assert.Equal(t, sid, q.SessionID)
					assert.Equal(t, ev.ID, q.EventID)
				}
				rs, err := c.ListRecordings(ctx, sid, livestorm.RecordingListOptions{URLExpiresIn: 2 * time.Hour})
				require.NoError(t, err)
				if len(rs.Items) > 0 {
					s, err := c.GetSession(ctx, sid, "recordings")
					require.NoError(t, err)
					assert.Len(t, s.Recordings, len(rs.Items), "include=recordings attaches them")
					assert.Len(t, s.RecordingIDs, len(rs.Items))
				}
				for _, r := range rs.Items {
					recordings++
					assert.Equal(t, sid, r.SessionID)
					assert.NotEmpty(t, r.URL)
					assert.NotEmpty(t, r.FileName)
					assert.Positive(t, r.FileSize)
					assert.Equal(t, 2*time.Hour, r.URLExpiresIn, "url_expires_in is sent and echoed")
				}
			}
		}
		assert.Positive(t, chats, "the seed has chat messages")
		assert.Positive(t, questions, "the seed has questions")
		assert.Positive(t, recordings, "the seed has recordings")
	})
	t.Run("33 ListPeopleAttributes", func(t *testing.T) {
		l, err := c.ListPeopleAttributes(ctx, livestorm.PeopleAttributeListOptions{})
		require.NoError(t, err)
		require.NotEmpty(t, l.Items)
		slugs := map[string]bool{}
		for _, a := range l.Items {
			slugs[a.Slug] = true
			assert.NotEmpty(t, a.Name)
			assert.NotEmpty(t, a.Type)
		}
		assert.True(t, slugs["email"], "built-in email attribute listed")
	})
	t.Run("36 ListUsers", func(t *testing.T) {
		l, err := c.ListUsers(ctx, livestorm.UserListOptions{})
		require.NoError(t, err)
		require.NotEmpty(t, l.Items)
		for _, u := range l.Items {
			assert.NotEmpty(t, u.Email)
			assert.NotEmpty(t, u.Role)
			assert.NotEmpty(t, u.Locale)
		}
		team = l.Items
	})
	t.Run("37 InviteUser, 38 RemoveUser", func(t *testing.T) {
		u, err := c.InviteUser(ctx, "newhost@example.com", "moderator")
		require.NoError(t, err)
		assert.Equal(t, "newhost@example.com", u.Email)
		assert.Equal(t, "moderator", u.Role)
		assert.True(t, u.PendingInvite)
		l, err := c.ListUsers(ctx, livestorm.UserListOptions{PendingInvite: boolp(true)})
		require.NoError(t, err)
		var pending []string
		for _, p := range l.Items {
			assert.True(t, p.PendingInvite)
			pending = append(pending, p.Email)
		}
		assert.Contains(t, pending, "newhost@example.com")
		require.NoError(t, c.RemoveUser(ctx, u.ID))
		l, err = c.ListUsers(ctx, livestorm.UserListOptions{})
		require.NoError(t, err)
		assert.Len(t, l.Items, len(team))
	})
	t.Run("39 ListWebhooks, 40 CreateWebhook, 41 DeleteWebhook", func(t *testing.T) {
		w, err := c.CreateWebhook(ctx, "http://127.0.0.1:1/livestorm", livestorm.SessionEnded)
		require.NoError(t, err)
		assert.NotEmpty(t, w.ID)
		assert.Equal(t, "http://127.0.0.1:1/livestorm", w.URL)
		assert.Equal(t, livestorm.SessionEnded, w.Event)
		assert.False(t, w.CreatedAt.IsZero())
		l, err := c.ListWebhooks(ctx, livestorm.WebhookListOptions{Event: livestorm.SessionEnded})
		require.NoError(t, err)
		require.Len(t, l.Items, 1)
		assert.Equal(t, w.ID, l.Items[0].ID)
		require.NoError(t, c.DeleteWebhook(ctx, w.ID))
		l, err = c.ListWebhooks(ctx, livestorm.WebhookListOptions{})
		require.NoError(t, err)
		assert.Empty(t, l.Items)
	})
	t.Run("20 DeleteSession", func(t *testing.T) {
		require.NoError(t, c.DeleteSession(ctx, newSession.ID))
		_, err := c.GetSession(ctx, newSession.ID)
		assert.ErrorIs(t, err, livestorm.ErrNotFound)
	})
	t.Run("09 DeleteEvent", func(t *testing.T) {
		require.NoError(t, c.DeleteEvent(ctx, newEvent.ID))
		_, err := c.GetEvent(ctx, newEvent.ID)
		assert.ErrorIs(t, err, livestorm.ErrNotFound)
	})
}
