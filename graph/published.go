package graph

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/vikstrous/dataloadgen"

	"github.com/livestorm-gateway/gateway/auth"
	"github.com/livestorm-gateway/gateway/graph/model"
	"github.com/livestorm-gateway/gateway/livestorm"
	"github.com/livestorm-gateway/gateway/loaders"
	"github.com/livestorm-gateway/gateway/pubsub"
)

// Public callers see published events only (issue 8 §2). A draft, and a session of a
// draft, answers NOT_FOUND with the message a missing id gets, so the two cannot be told
// apart; lists leave drafts out; subscriptions do not deliver notifications about them.
// What a field may show is the @access policy's business (access.go); this file decides
// which events exist for a caller.

// statusPublished is Livestorm's status of a published event. Any other status (draft,
// or one Livestorm adds later) is hidden from public callers.
const statusPublished = "published"

// schedulingDraft is the scheduling status (and session status) of a draft event.
const schedulingDraft = "draft"

// publishedOnly reports whether ctx's caller sees published events only: public callers
// and, failing closed, callers without a role.
func publishedOnly(ctx context.Context) bool {
	c, _ := auth.CallerFrom(ctx)
	return !c.Role.Allows(auth.RoleViewer)
}

func published(ev *livestorm.Event) bool { return ev != nil && ev.Status == statusPublished }

// hidden is what a public caller gets for a draft or a missing event or session.
func hidden(kind nodeKind) error {
	return fmt.Errorf("%s not found: %w", strings.ToLower(string(kind)), livestorm.ErrNotFound)
}

// visibleEvent is an event lookup's result as ctx's caller may see it.
func visibleEvent(ctx context.Context, ev *livestorm.Event, err error) (*livestorm.Event, error) {
	if !publishedOnly(ctx) {
		return ev, err
	}
	if errors.Is(err, livestorm.ErrNotFound) || err == nil && !published(ev) {
		return nil, hidden(kindEvent)
	}
	return ev, err
}

// visibleSession is a session lookup's result as ctx's caller may see it. For a public
// caller it reads the session's event (through the loaders: usually cached, and the
// session's other fields often read it anyway).
func visibleSession(ctx context.Context, s *livestorm.Session, err error) (*livestorm.Session, error) {
	if !publishedOnly(ctx) {
		return s, err
	}
	if err == nil && s == nil {
		err = livestorm.ErrNotFound
	}
	if err == nil {
		ev, evErr := loaders.For(ctx).EventByID.Load(ctx, s.EventID)
		_, err = visibleEvent(ctx, ev, evErr)
	}
	if errors.Is(err, livestorm.ErrNotFound) {
		return nil, hidden(kindSession)
	}
	if err != nil {
		return nil, err
	}
	return s, nil
}

// visibleSessionID is visibleSession for a session named by id (registerPerson as a
// public caller: a draft's session is not open to the public).
func visibleSessionID(ctx context.Context, id string) error {
	if !publishedOnly(ctx) {
		return nil
	}
	s, err := loaders.For(ctx).SessionByID.Load(ctx, id)
	_, err = visibleSession(ctx, s, err)
	return err
}

// publicEvents serves `events` to a public caller: the window's pages as for everyone,
// without the drafts. Cursors stay positions in the workspace's list, so paging works as
// for everyone; a page may hold fewer than `first` events, and pageInfo's cursors bound
// the window read (even when its last events were drafts), so paging goes on past a page
// of drafts. totalCount counts published events: the list's count less its drafts'
// (one more list call when selected, cached like every page; none when the filter names
// a scheduling status).
func publicEvents(ctx context.Context, w window, f loaders.EventsFilter) (*model.Connection[livestorm.Event], error) {
	if f.SchedulingStatus == schedulingDraft {
		return sliceConnection([]*livestorm.Event(nil), w), nil
	}
	l := loaders.For(ctx)
	key := func(p int) loaders.PageKey[loaders.EventsFilter] {
		return loaders.PageKey[loaders.EventsFilter]{Filter: f, Page: p}
	}
	c, err := pagedConnection(ctx, w, l.EventsPage, key)
	if err != nil {
		return nil, err
	}
	keep(c, published)
	if f.SchedulingStatus == "" && selected(ctx, "totalCount") {
		drafts := f
		drafts.SchedulingStatus = schedulingDraft
		list, err := l.EventsPage.Load(ctx, loaders.PageKey[loaders.EventsFilter]{Filter: drafts})
		if err != nil {
			return nil, err
		}
		c.TotalCount = max(c.TotalCount-list.Meta.RecordCount, 0)
	}
	return c, nil
}

// publicSessions serves `sessions` to a public caller: the window's pages as for
// everyone, without the sessions of unpublished events, found by reading their events
// (at most one read per distinct event of the window, through the loaders: usually
// cached, and what `sessions { nodes { event { … } } }` reads anyway). Paging as for
// publicEvents. totalCount is the list's count less that of its sessions in DRAFT status
// (a draft event's sessions, until they are cancelled): one more list call when selected,
// none when the filter names a status.
func publicSessions(ctx context.Context, w window, f loaders.SessionsFilter) (*model.Connection[livestorm.Session], error) {
	if f.Status == schedulingDraft {
		return sliceConnection([]*livestorm.Session(nil), w), nil
	}
	l := loaders.For(ctx)
	key := func(p int) loaders.PageKey[loaders.SessionsFilter] {
		return loaders.PageKey[loaders.SessionsFilter]{Filter: f, Page: p}
	}
	c, err := pagedConnection(ctx, w, l.SessionsPage, key)
	if err != nil {
		return nil, err
	}
	var ids []string
	seen := map[string]bool{}
	for _, s := range c.Items {
		if id := s.EventID; !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	events, err := l.EventByID.LoadAll(ctx, ids)
	var errs dataloadgen.ErrorSlice
	if err != nil && !errors.As(err, &errs) {
		return nil, err
	}
	open := map[string]bool{}
	for i, id := range ids {
		var e error
		if i < len(errs) {
			e = errs[i]
		}
		switch {
		case e == nil:
			open[id] = published(events[i])
		case !errors.Is(e, livestorm.ErrNotFound):
			return nil, e
		}
	}
	keep(c, func(s *livestorm.Session) bool { return open[s.EventID] })
	if f.Status == "" && selected(ctx, "totalCount") {
		drafts := f
		drafts.Status = schedulingDraft
		list, err := l.SessionsPage.Load(ctx, loaders.PageKey[loaders.SessionsFilter]{Filter: drafts})
		if err != nil {
			return nil, err
		}
		c.TotalCount = max(c.TotalCount-list.Meta.RecordCount, 0)
	}
	return c, nil
}

// keep leaves in c the items ok accepts; their cursors and pageInfo are unchanged (they
// are positions in the upstream list).
func keep[T any](c *model.Connection[T], ok func(*T) bool) {
	items := c.Items[:0:0]
	positions := make([]int, 0, len(c.Items))
	for i, it := range c.Items {
		if ok(it) {
			items = append(items, it)
			positions = append(positions, c.Position(i))
		}
	}
	c.Items, c.Positions = items, positions
}

// publishedMemoTTL is how long a public subscription trusts an event's published status
// before reading it again (an event.* notification always reads it again).
const publishedMemoTTL = time.Minute

// publishedMemo remembers, for every public subscriber of the process, whether the events
// notifications are about are published: a burst of attendance notifications (one per
// registrant, each evicting the event from the cache) then costs one event read per
// minute, not one per notification and subscriber.
type publishedMemo struct {
	mu      sync.Mutex
	entries map[string]publishedEntry
}

type publishedEntry struct {
	published bool
	at        time.Time
}

const publishedMemoMax = 10_000

func (m *publishedMemo) get(key string, now time.Time) (published, ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.entries[key]
	if !ok || now.Sub(e.at) >= publishedMemoTTL {
		return false, false
	}
	return e.published, true
}

func (m *publishedMemo) put(key string, published bool, now time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.entries == nil || len(m.entries) >= publishedMemoMax {
		m.entries = map[string]publishedEntry{}
	}
	m.entries[key] = publishedEntry{published: published, at: now}
}

// publishedGate returns, for a public subscriber, the test every notification passes
// before delivery: it must be about a published event (nil for viewer and above, who
// receive everything). It reads with the subscription's own loaders, clearing their memo
// so each read goes to the shared cache: the event of the notification (found through
// its session when it names none); a notification about no event is not delivered.
func (r *Resolver) publishedGate(ctx context.Context) func(context.Context, *pubsub.Message) bool {
	if !publishedOnly(ctx) {
		return nil
	}
	l := loaders.For(ctx)
	t, err := l.Tenant(ctx)
	if err != nil {
		return func(context.Context, *pubsub.Message) bool { return false }
	}
	return func(ctx context.Context, m *pubsub.Message) bool {
		id := m.EventID
		if id == "" && m.SessionID != "" {
			l.SessionByID.Clear(m.SessionID)
			s, err := l.SessionByID.Load(ctx, m.SessionID)
			if err != nil {
				return false
			}
			id = s.EventID
		}
		if id == "" {
			return false
		}
		key := t.Scope + "|" + id
		now := time.Now()
		if ok, known := r.published.get(key, now); known && !strings.HasPrefix(m.Name, "event.") {
			return ok
		}
		l.EventByID.Clear(id)
		ev, err := l.EventByID.Load(ctx, id)
		if err != nil && !errors.Is(err, livestorm.ErrNotFound) {
			if r.Logger != nil {
				r.Logger.WarnContext(ctx, "public subscription: cannot tell whether an event is published; notification not delivered", "err", err)
			}
			return false
		}
		ok := err == nil && published(ev)
		r.published.put(key, ok, now)
		return ok
	}
}
