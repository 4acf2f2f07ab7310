// Package loaders holds the per-operation dataloaders through which every resolver reads
// Livestorm.
//
// Each GraphQL operation (and each event of a subscription) gets its own Loaders: within
// it a resource is fetched at most once, whatever path the query reaches it by, and list
// calls prime the by-id loaders with what they returned. Underneath, every fetch goes
// through the shared, tenant-scoped cache, so a warm repeat of a query costs no upstream
// call at all. Livestorm has no batch-by-ids endpoint, so a batch of keys becomes
// concurrent single calls, paced by the client's rate limiter.
package loaders

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vikstrous/dataloadgen"

	"github.com/livestorm-gateway/gateway/cache"
	"github.com/livestorm-gateway/gateway/livestorm"
	"github.com/livestorm-gateway/gateway/tags"
	"github.com/livestorm-gateway/gateway/telemetry"
	"github.com/livestorm-gateway/gateway/tenant"
)

// Wait is how long a loader collects keys before fetching: long enough for sibling
// resolvers to join the batch, short against Livestorm's own latency.
const Wait = 2 * time.Millisecond

// fetchConcurrency bounds the concurrent upstream calls of one batch; the client's
// limiter paces them further.
const fetchConcurrency = 8

// eventInclude is asked on every event fetch: embedding sessions and tags in the event
// document answers Event.sessions and Event.tags without further calls.
var eventInclude = []string{"sessions", "tags"}

// Loaders are the dataloaders of one operation.
type Loaders struct {
	client  *livestorm.Client
	cache   *cache.Cache
	cred    livestorm.Credential
	tenants *tenant.Resolver
	noReuse bool
	// reads collects the cache entries this operation used, for the response cache
	// (nil: nobody keeps the response).
	reads *cache.Reads

	tenantOnce sync.Once
	tenant     tenant.Tenant
	tenantErr  error

	// peoplePages are the session people pages this operation read, whose rows
	// RegistrationByID answers from (see primedRegistration).
	peopleMu    sync.Mutex
	peoplePages []*livestorm.List[livestorm.Person]

	EventByID            *Loader[string, *livestorm.Event]
	SessionByID          *Loader[string, *livestorm.Session]
	PersonByID           *Loader[string, *livestorm.Person]
	RegistrationByID     *Loader[RegistrationKey, *livestorm.Person]
	JobByID              *Loader[string, *livestorm.Job]
	JobTasks             *Loader[string, []livestorm.JobTask]
	EventsPage           *Loader[PageKey[EventsFilter], *livestorm.List[livestorm.Event]]
	SessionsPage         *Loader[PageKey[SessionsFilter], *livestorm.List[livestorm.Session]]
	SessionPeoplePage    *Loader[PageKey[SessionPeopleFilter], *livestorm.List[livestorm.Person]]
	EventPeoplePage      *Loader[PageKey[PeopleFilter], *livestorm.List[livestorm.Person]]
	PeoplePage           *Loader[PageKey[PeopleFilter], *livestorm.List[livestorm.Person]]
	UsersPage            *Loader[PageKey[UsersFilter], *livestorm.List[livestorm.User]]
	WebhooksPage         *Loader[PageKey[string], *livestorm.List[livestorm.Webhook]]
	RecordingsPage       *Loader[PageKey[struct{}], *livestorm.List[livestorm.Recording]]
	ChatMessagesPage     *Loader[PageKey[struct{}], *livestorm.List[livestorm.ChatMessage]]
	QuestionsPage        *Loader[PageKey[struct{}], *livestorm.List[livestorm.Question]]
	PeopleAttributesPage *Loader[PageKey[PeopleAttributesFilter], *livestorm.List[livestorm.PeopleAttribute]]
	organization         *Loader[struct{}, *livestorm.Organization]
	eventSessionsPage    *Loader[PageKey[struct{}], *livestorm.List[livestorm.Session]]
}

// Deps are what every Loaders share.
type Deps struct {
	Client  *livestorm.Client
	Cache   *cache.Cache
	Tenants *tenant.Resolver
	// NoReuse turns off every reuse (shared cache, per-operation dedupe, priming,
	// embedding children with include) so that benchmarks can measure what a gateway
	// resolving each field with its own REST call would spend. Never set in production.
	NoReuse bool
}

// New returns fresh loaders for one operation made with cred. The credential is verified
// (once) on the first fetch, so operations that never reach Livestorm, like introspection,
// need none.
func New(d Deps, cred livestorm.Credential) *Loaders {
	l := &Loaders{client: d.Client, cache: d.Cache, cred: cred, tenants: d.Tenants, noReuse: d.NoReuse}
	c := d.Client
	include := eventInclude
	if d.NoReuse {
		include = nil
	}

	l.EventByID = byID(l, "event",
		func(ctx context.Context, id string) (*livestorm.Event, error) {
			return c.GetEvent(ctx, id, include...)
		},
		func(e *livestorm.Event) []string { return []string{tags.Event(e.ID)} },
		l.primeEvent)
	l.SessionByID = byID(l, "session",
		func(ctx context.Context, id string) (*livestorm.Session, error) { return c.GetSession(ctx, id) },
		func(s *livestorm.Session) []string { return []string{tags.Session(s.ID), tags.Event(s.EventID)} },
		nil)
	l.PersonByID = byID(l, "person",
		func(ctx context.Context, id string) (*livestorm.Person, error) { return c.GetPerson(ctx, id) },
		func(p *livestorm.Person) []string { return []string{tags.Person(p.ID)} },
		nil)
	l.RegistrationByID = cached(l, "registration", RegistrationKey.String,
		func(ctx context.Context, k RegistrationKey) (*livestorm.Person, error) {
			if k.SessionID != "" {
				return c.GetSessionPerson(ctx, k.SessionID, k.PersonID)
			}
			return c.GetEventPerson(ctx, k.EventID, k.PersonID)
		},
		func(k RegistrationKey, _ *livestorm.Person) []string { return k.tags() },
		nil)
	if !d.NoReuse {
		l.RegistrationByID.primed = l.primedRegistration
	}
	l.JobByID = byID(l, "job",
		func(ctx context.Context, id string) (*livestorm.Job, error) { return c.GetJob(ctx, id) },
		func(j *livestorm.Job) []string { return []string{tags.Job(j.ID)} },
		nil)
	l.JobTasks = cached(l, "jobTasks",
		func(id string) string { return id },
		func(ctx context.Context, id string) ([]livestorm.JobTask, error) { return c.ListJobTasks(ctx, id) },
		func(id string, _ []livestorm.JobTask) []string { return []string{tags.Job(id)} },
		nil)

	l.EventsPage = pages(l, "eventsPage",
		func(ctx context.Context, k PageKey[EventsFilter]) (*livestorm.List[livestorm.Event], error) {
			f := k.Filter
			return c.ListEvents(ctx, livestorm.EventListOptions{
				Page: page(k.Page), Title: f.Title, EveryoneCanSpeak: f.EveryoneCanSpeak.ptr(),
				SchedulingStatus: f.SchedulingStatus, Tags: splitTags(f.Tags), TimeRange: f.Range.upstream(),
				Include: include,
			})
		},
		func(PageKey[EventsFilter]) []string { return []string{tags.Events} },
		func(list *livestorm.List[livestorm.Event]) {
			for i := range list.Items {
				l.primeEvent(&list.Items[i])
			}
		})
	l.SessionsPage = pages(l, "sessionsPage",
		func(ctx context.Context, k PageKey[SessionsFilter]) (*livestorm.List[livestorm.Session], error) {
			return c.ListSessions(ctx, sessionListOptions(k))
		},
		func(PageKey[SessionsFilter]) []string { return []string{tags.Sessions} },
		l.primeSessions)
	l.SessionPeoplePage = pages(l, "sessionPeoplePage",
		func(ctx context.Context, k PageKey[SessionPeopleFilter]) (*livestorm.List[livestorm.Person], error) {
			f := k.Filter
			return c.ListSessionPeople(ctx, k.Parent, livestorm.SessionPeopleListOptions{
				Page: page(k.Page), Role: f.Role, Attended: f.Attended.ptr(), Email: f.Email, TimeRange: f.Range.upstream(),
			})
		},
		func(k PageKey[SessionPeopleFilter]) []string { return []string{tags.SessionPeople(k.Parent)} },
		l.primeRegistrations)
	l.EventPeoplePage = pages(l, "eventPeoplePage",
		func(ctx context.Context, k PageKey[PeopleFilter]) (*livestorm.List[livestorm.Person], error) {
			return c.ListEventPeople(ctx, k.Parent, livestorm.EventPeopleListOptions{Page: page(k.Page), Role: k.Filter.Role, Email: k.Filter.Email})
		},
		func(k PageKey[PeopleFilter]) []string { return []string{tags.EventPeople(k.Parent)} },
		nil)
	l.PeoplePage = pages(l, "peoplePage",
		func(ctx context.Context, k PageKey[PeopleFilter]) (*livestorm.List[livestorm.Person], error) {
			return c.ListPeople(ctx, livestorm.PeopleListOptions{Page: page(k.Page), Role: k.Filter.Role, Email: k.Filter.Email})
		},
		func(PageKey[PeopleFilter]) []string { return []string{tags.People} },
		func(list *livestorm.List[livestorm.Person]) {
			for i := range list.Items {
				l.PersonByID.Prime(list.Items[i].ID, &list.Items[i])
			}
		})
	l.UsersPage = pages(l, "usersPage",
		func(ctx context.Context, k PageKey[UsersFilter]) (*livestorm.List[livestorm.User], error) {
			f := k.Filter
			return c.ListUsers(ctx, livestorm.UserListOptions{Page: page(k.Page), Role: f.Role, PendingInvite: f.PendingInvite.ptr(), Email: f.Email})
		},
		func(PageKey[UsersFilter]) []string { return []string{tags.Users} },
		nil)
	l.WebhooksPage = pages(l, "webhooksPage",
		func(ctx context.Context, k PageKey[string]) (*livestorm.List[livestorm.Webhook], error) {
			return c.ListWebhooks(ctx, livestorm.WebhookListOptions{Page: page(k.Page), Event: k.Filter})
		},
		func(PageKey[string]) []string { return []string{tags.Webhooks} },
		nil)
	l.RecordingsPage = pages(l, "recordingsPage",
		func(ctx context.Context, k PageKey[struct{}]) (*livestorm.List[livestorm.Recording], error) {
			return c.ListRecordings(ctx, k.Parent, livestorm.RecordingListOptions{Page: page(k.Page)})
		},
		func(k PageKey[struct{}]) []string { return []string{tags.SessionSatellites(k.Parent)} },
		nil)
	l.ChatMessagesPage = pages(l, "chatMessagesPage",
		func(ctx context.Context, k PageKey[struct{}]) (*livestorm.List[livestorm.ChatMessage], error) {
			return c.ListChatMessages(ctx, k.Parent, livestorm.ListOptions{Page: page(k.Page), Include: []string{"people"}})
		},
		func(k PageKey[struct{}]) []string { return []string{tags.SessionSatellites(k.Parent)} },
		nil)
	l.QuestionsPage = pages(l, "questionsPage",
		func(ctx context.Context, k PageKey[struct{}]) (*livestorm.List[livestorm.Question], error) {
			return c.ListQuestions(ctx, k.Parent, livestorm.ListOptions{Page: page(k.Page), Include: []string{"asker", "responder"}})
		},
		func(k PageKey[struct{}]) []string { return []string{tags.SessionSatellites(k.Parent)} },
		nil)
	l.PeopleAttributesPage = pages(l, "peopleAttributesPage",
		func(ctx context.Context, k PageKey[PeopleAttributesFilter]) (*livestorm.List[livestorm.PeopleAttribute], error) {
			f := k.Filter
			return c.ListPeopleAttributes(ctx, livestorm.PeopleAttributeListOptions{
				Page: page(k.Page), Sort: f.Sort, Builtin: f.Builtin.ptr(), Description: f.Description, Name: f.Name,
				Placeholder: f.Placeholder, Slug: f.Slug, Type: f.Type, UserID: f.UserID,
			})
		},
		func(PageKey[PeopleAttributesFilter]) []string { return []string{tags.PeopleAttributes} },
		nil)

	l.eventSessionsPage = pages(l, "eventSessionsPage",
		func(ctx context.Context, k PageKey[struct{}]) (*livestorm.List[livestorm.Session], error) {
			return c.ListEventSessions(ctx, k.Parent, livestorm.SessionListOptions{Page: page(k.Page)})
		},
		func(k PageKey[struct{}]) []string { return []string{tags.Event(k.Parent)} },
		nil)
	l.organization = cached(l, "organization",
		func(struct{}) string { return "self" },
		func(ctx context.Context, _ struct{}) (*livestorm.Organization, error) { return c.Organization(ctx) },
		func(struct{}, *livestorm.Organization) []string { return []string{tags.Organization} },
		nil)
	return l
}

// CollectReads makes the operation record every shared-cache entry it uses on r (see
// cache.Reads), so that its response can be kept by the response cache under the same
// tags. Call it before the operation runs.
func (l *Loaders) CollectReads(r *cache.Reads) { l.reads = r }

// NoStore keeps the operation's response out of the response cache, for reason (see
// cache.Reads.NoStore): for resolvers whose answer no cache tag can invalidate.
func (l *Loaders) NoStore(reason string) { l.reads.NoStore(reason) }

// Tenant verifies the operation's credential (once) and returns its tenant.
func (l *Loaders) Tenant(ctx context.Context) (tenant.Tenant, error) {
	l.tenantOnce.Do(func() {
		if t, ok := tenant.FromContext(ctx); ok && t.Credential.Fingerprint() == l.cred.Fingerprint() {
			l.tenant = t // already verified by the transport (e.g. WebSocket init)
			return
		}
		l.tenant, l.tenantErr = l.tenants.Resolve(ctx, l.cred)
	})
	return l.tenant, l.tenantErr
}

// Organization returns the workspace of the operation's credential.
func (l *Loaders) Organization(ctx context.Context) (*livestorm.Organization, error) {
	return l.organization.Load(ctx, struct{}{})
}

// UserByID finds a team member. Livestorm has no GET /users/{id}: the unfiltered team
// list is read (the same cached pages `users` serves) until the member turns up.
func (l *Loaders) UserByID(ctx context.Context, id string) (*livestorm.User, error) {
	u, err := find(ctx, l.UsersPage, func(p int) PageKey[UsersFilter] { return PageKey[UsersFilter]{Page: p} },
		func(u *livestorm.User) bool { return u.ID == id })
	if errors.Is(err, ErrNotFound) {
		return nil, notFound("user", id)
	}
	return u, err
}

// WebhookByID finds a webhook subscription. Livestorm has no GET /webhooks/{id}: the
// unfiltered list is read (the same cached pages `webhooks` serves) until it turns up.
func (l *Loaders) WebhookByID(ctx context.Context, id string) (*livestorm.Webhook, error) {
	w, err := find(ctx, l.WebhooksPage, func(p int) PageKey[string] { return PageKey[string]{Page: p} },
		func(w *livestorm.Webhook) bool { return w.ID == id })
	if errors.Is(err, ErrNotFound) {
		return nil, notFound("webhook", id)
	}
	return w, err
}

// PeopleAttributeByID finds a registration attribute definition by id in the unfiltered
// attribute list (Livestorm has no GET /people_attributes/{id}).
func (l *Loaders) PeopleAttributeByID(ctx context.Context, id string) (*livestorm.PeopleAttribute, error) {
	a, err := find(ctx, l.PeopleAttributesPage,
		func(p int) PageKey[PeopleAttributesFilter] { return PageKey[PeopleAttributesFilter]{Page: p} },
		func(a *livestorm.PeopleAttribute) bool { return a.ID == id })
	if errors.Is(err, ErrNotFound) {
		return nil, notFound("people attribute", id)
	}
	return a, err
}

// PeopleAttributeBySlug finds a registration attribute definition in the unfiltered
// attribute list.
func (l *Loaders) PeopleAttributeBySlug(ctx context.Context, slug string) (*livestorm.PeopleAttribute, error) {
	a, err := find(ctx, l.PeopleAttributesPage,
		func(p int) PageKey[PeopleAttributesFilter] { return PageKey[PeopleAttributesFilter]{Page: p} },
		func(a *livestorm.PeopleAttribute) bool { return a.Slug == slug })
	if errors.Is(err, ErrNotFound) {
		return nil, notFound("people attribute", slug)
	}
	return a, err
}

// find walks a list page by page, through its loader, until match holds.
func find[K comparable, T any](ctx context.Context, loader *Loader[K, *livestorm.List[T]], key func(int) K, match func(*T) bool) (*T, error) {
	for p := 0; ; p++ {
		list, err := loader.Load(ctx, key(p))
		if err != nil {
			return nil, err
		}
		for i := range list.Items {
			if match(&list.Items[i]) {
				return &list.Items[i], nil
			}
		}
		if !list.HasNext() {
			return nil, ErrNotFound
		}
	}
}

// EventSessions returns every session of an event, from the event document (which is
// always fetched with its sessions embedded).
func (l *Loaders) EventSessions(ctx context.Context, eventID string) ([]livestorm.Session, error) {
	if l.noReuse {
		var all []livestorm.Session
		_, err := find(ctx, l.eventSessionsPage, func(p int) PageKey[struct{}] { return PageKey[struct{}]{Parent: eventID, Page: p} },
			func(s *livestorm.Session) bool { all = append(all, *s); return false })
		if errors.Is(err, ErrNotFound) {
			err = nil
		}
		return all, err
	}
	ev, err := l.EventByID.Load(ctx, eventID)
	if err != nil {
		return nil, err
	}
	return ev.Sessions, nil
}

// ErrNotFound is returned (wrapped) for resources missing from a list lookup. It matches
// livestorm.ErrNotFound so callers test one thing.
var ErrNotFound = livestorm.ErrNotFound

func notFound(kind, id string) error {
	return fmt.Errorf("%s %q: %w", kind, id, ErrNotFound)
}

// primeEvent shares an event document, and the sessions embedded in it, with the by-id
// loaders of this operation and, for sessions, with the shared cache.
func (l *Loaders) primeEvent(e *livestorm.Event) {
	l.EventByID.Prime(e.ID, e)
	l.primeSessionsSlice(e.Sessions)
}

// primeRegistrations shares the rows of a session's people page with RegistrationByID,
// so that reading one of them again by id in the same operation costs nothing. The
// page is only remembered here; its rows are looked at when a registration is asked
// for (primedRegistration), so a page of 50 rows costs one append, not 50 primes.
func (l *Loaders) primeRegistrations(list *livestorm.List[livestorm.Person]) {
	l.peopleMu.Lock()
	l.peoplePages = append(l.peoplePages, list)
	l.peopleMu.Unlock()
}

// primedRegistration finds a registration in the people pages the operation read, the
// first page holding it winning (as the first Prime would).
func (l *Loaders) primedRegistration(k RegistrationKey) (*livestorm.Person, bool) {
	if k.SessionID == "" || k.EventID != "" {
		return nil, false // the key of a page row names its session only
	}
	l.peopleMu.Lock()
	defer l.peopleMu.Unlock()
	for _, list := range l.peoplePages {
		for i := range list.Items {
			p := &list.Items[i]
			if rd := p.RegistrantDetail; rd != nil && rd.SessionID == k.SessionID && p.ID == k.PersonID {
				return p, true
			}
		}
	}
	return nil, false
}

func (l *Loaders) primeSessions(list *livestorm.List[livestorm.Session]) {
	l.primeSessionsSlice(list.Items)
}

func (l *Loaders) primeSessionsSlice(sessions []livestorm.Session) {
	for i := range sessions {
		l.SessionByID.Prime(sessions[i].ID, &sessions[i])
	}
}

// Prime makes objects returned by a mutation available to the rest of the operation.
func (l *Loaders) PrimeEvent(e *livestorm.Event) { l.EventByID.Clear(e.ID); l.primeEvent(e) }
func (l *Loaders) PrimeSession(s *livestorm.Session) {
	l.SessionByID.Clear(s.ID)
	l.SessionByID.Prime(s.ID, s)
}

// scope returns the cache scope of the operation's verified tenant.
func (l *Loaders) scope(ctx context.Context) (string, context.Context, error) {
	t, err := l.Tenant(ctx)
	if err != nil {
		return "", ctx, err
	}
	return t.Scope, livestorm.ContextWithCredential(ctx, t.Credential), nil
}

// cached builds a loader whose every key is served from the shared cache or fetched once.
// after runs on every value loaded (hit or miss), e.g. to prime other loaders.
func cached[K comparable, V any](
	l *Loaders, resource string, id func(K) string,
	fetch func(context.Context, K) (V, error),
	tagsOf func(K, V) []string,
	after func(V),
) *Loader[K, V] {
	var fresh func(context.Context, K) (V, bool)
	if !l.noReuse {
		fresh = func(ctx context.Context, k K) (V, bool) {
			t, err := l.Tenant(ctx)
			if err != nil {
				var zero V
				return zero, false // the slow path reports the error
			}
			v, ok := cache.Fresh[V](ctx, l.cache, cache.Key{Scope: t.Scope, Resource: resource, ID: id(k)}, l.reads)
			if ok {
				telemetry.OperationFrom(ctx).AddCache(1, 0) // the access line's and the span's cache hits
			}
			return v, ok
		}
	}
	opts := []dataloadgen.Option{dataloadgen.WithWait(Wait)}
	if l.noReuse {
		opts = append(opts, dataloadgen.WithoutCache())
		after = nil
	}
	one := func(ctx context.Context, k K, st *batchStats) (V, error) {
		scope, ctx, err := l.scope(ctx)
		if err != nil {
			st.errors.Add(1)
			var zero V
			return zero, err
		}
		if l.noReuse {
			st.misses.Add(1)
			return fetch(ctx, k)
		}
		if l.reads != nil {
			ctx = cache.WithReads(ctx, l.reads)
		}
		var fetched atomic.Bool
		v, err := cache.Fetch(ctx, l.cache, cache.Key{Scope: scope, Resource: resource, ID: id(k)},
			func(ctx context.Context) (V, error) { fetched.Store(true); return fetch(ctx, k) },
			func(v V) []string { return tagsOf(k, v) })
		st.record(fetched.Load(), err)
		if err == nil && after != nil {
			after(v)
		}
		return v, err
	}
	spanName := "loader " + resource
	dl := dataloadgen.NewLoader(func(ctx context.Context, keys []K) ([]V, []error) {
		ctx, span := telemetry.Start(ctx, spanName)
		if span.IsRecording() {
			span.SetAttributes(attrLoaderResource.String(resource), attrLoaderKeys.Int(len(keys)))
		}
		var st batchStats
		values, errs := fetchEach(ctx, keys, func(ctx context.Context, k K) (V, error) { return one(ctx, k, &st) })
		st.end(ctx, span)
		return values, errs
	}, opts...)
	return newLoader(dl, fresh, after)
}

func byID[V any](l *Loaders, resource string, fetch func(context.Context, string) (V, error), tagsOf func(V) []string, after func(V)) *Loader[string, V] {
	return cached(l, resource, func(id string) string { return id }, fetch,
		func(_ string, v V) []string { return tagsOf(v) }, after)
}

func pages[F comparable, T any](
	l *Loaders, resource string,
	fetch func(context.Context, PageKey[F]) (*livestorm.List[T], error),
	tagsOf func(PageKey[F]) []string,
	after func(*livestorm.List[T]),
) *Loader[PageKey[F], *livestorm.List[T]] {
	return cached(l, resource, PageKey[F].String, fetch,
		func(k PageKey[F], _ *livestorm.List[T]) []string { return tagsOf(k) }, after)
}

// fetchEach fetches keys concurrently, at most fetchConcurrency at a time, returning
// results and errors aligned with keys as dataloadgen expects.
func fetchEach[K comparable, V any](ctx context.Context, keys []K, one func(context.Context, K) (V, error)) ([]V, []error) {
	values := make([]V, len(keys))
	errs := make([]error, len(keys))
	if len(keys) == 1 {
		values[0], errs[0] = one(ctx, keys[0])
		return values, errs
	}
	sem := make(chan struct{}, fetchConcurrency)
	var wg sync.WaitGroup
	for i, k := range keys {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			values[i], errs[i] = one(ctx, k)
		}()
	}
	wg.Wait()
	return values, errs
}

func sessionListOptions(k PageKey[SessionsFilter]) livestorm.SessionListOptions {
	f := k.Filter
	return livestorm.SessionListOptions{
		Page: page(k.Page), Status: f.Status, DateFrom: f.DateFrom.time(), DateTo: f.DateTo.time(),
		IncludeBreakoutRooms: f.IncludeBreakoutRooms.ptr(), TimeRange: f.Range.upstream(),
	}
}

type ctxKey struct{}

// NewContext returns ctx carrying l.
func NewContext(ctx context.Context, l *Loaders) context.Context {
	return context.WithValue(ctx, ctxKey{}, l)
}

// For returns the loaders of ctx's operation.
func For(ctx context.Context) *Loaders {
	l, _ := ctx.Value(ctxKey{}).(*Loaders)
	if l == nil {
		// A resolver reached without the middleware is a wiring bug; fail loudly in tests
		// rather than fetch without a tenant.
		panic(errors.New("loaders: no loaders in context (missing middleware)"))
	}
	return l
}

// Upstream returns ctx carrying the operation's verified credential, for writes that go
// to Livestorm directly rather than through a loader.
func (l *Loaders) Upstream(ctx context.Context) (context.Context, error) {
	_, ctx, err := l.scope(ctx)
	return ctx, err
}

// Invalidate evicts the tenant's cached answers carrying any of tagList (see package
// tags) and forgets everything this operation loaded, so what the rest of the operation
// reads reflects a write it just made.
func (l *Loaders) Invalidate(ctx context.Context, tagList ...string) error {
	scope, _, err := l.scope(ctx)
	if err != nil {
		return err
	}
	l.cache.Invalidate(scope, tagList...)
	l.peopleMu.Lock()
	l.peoplePages = nil
	l.peopleMu.Unlock()
	l.EventByID.ClearAll()
	l.SessionByID.ClearAll()
	l.PersonByID.ClearAll()
	l.RegistrationByID.ClearAll()
	l.JobByID.ClearAll()
	l.JobTasks.ClearAll()
	l.EventsPage.ClearAll()
	l.SessionsPage.ClearAll()
	l.SessionPeoplePage.ClearAll()
	l.EventPeoplePage.ClearAll()
	l.PeoplePage.ClearAll()
	l.UsersPage.ClearAll()
	l.WebhooksPage.ClearAll()
	l.RecordingsPage.ClearAll()
	l.ChatMessagesPage.ClearAll()
	l.QuestionsPage.ClearAll()
	l.PeopleAttributesPage.ClearAll()
	l.eventSessionsPage.ClearAll()
	l.organization.ClearAll()
	return nil
}
