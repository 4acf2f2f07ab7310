package livestormsim

import (
	"cmp"
	"slices"
	"strings"
	"sync"
)

// store holds every organization's data behind one RWMutex: GET handlers take
// the read lock, mutations and clock ticks take the write lock. Organizations
// never share records, so a lookup that crosses organizations yields 404.
type store struct {
	mu      sync.RWMutex
	orgs    []*orgData
	orgByID map[string]*orgData
}

// orgData is one workspace. Slices are kept sorted by (created_at, id), the
// order every list endpoint returns.
type orgData struct {
	id, name, slug, domain string
	createdAt              int64
	ownerID                string

	users    []*user
	userByID map[string]*user

	people        []*person
	personByID    map[string]*person
	personByEmail map[string]*person // lower-cased email

	events    []*event
	eventByID map[string]*event

	sessions    []*session
	sessionByID map[string]*session

	tags       []*tag
	tagByTitle map[string]*tag // lower-cased title

	attributes  []*peopleAttribute
	webhooks    []*webhook
	webhookByID map[string]*webhook
	jobs        map[string]*job
}

func newOrgData(id, name, slug, domain string, createdAt int64) *orgData {
	return &orgData{
		id: id, name: name, slug: slug, domain: domain, createdAt: createdAt,
		userByID: map[string]*user{}, personByID: map[string]*person{}, personByEmail: map[string]*person{},
		eventByID: map[string]*event{}, sessionByID: map[string]*session{}, tagByTitle: map[string]*tag{},
		webhookByID: map[string]*webhook{}, jobs: map[string]*job{},
	}
}

// user is a team member. Its id is also its people id (wire decision 19); the
// name, email and avatar live on the linked person.
type user struct {
	id                                                   string
	person                                               *person
	role                                                 string // host | moderator
	createdAt, updatedAt                                 int64
	locale                                               string
	pendingInvite                                        bool
	websiteLink, linkedinLink, facebookLink, twitterHand string
}

// person is identified by email within an organization and keeps one id across
// every session it registers to.
type person struct {
	id                         string
	role                       string // participant | team_member
	createdAt, updatedAt       int64
	timezone                   string
	firstName, lastName, email string
	avatarLink                 string
	regs                       []*registration
}

// fieldValue is one registration answer: a string, a []string or nil.
type fieldValue struct {
	id    string
	value any
}

// clientInfo is the browser/geo data Livestorm records on its registration
// page; API registrations have none. Seeded registrations share a few presets.
type clientInfo struct {
	browserName, browserVersion, osName, osVersion string
	screenHeight, screenWidth                      string
	ipCity, ipCountryCode, ipCountryName           string
}

// registration links a person to a session (a "registrant_detail").
type registration struct {
	person                        *person
	session                       *session
	createdAt, updatedAt          int64
	values                        []fieldValue
	referrer                      *string
	utm                           [5]*string // source, medium, term, content, campaign
	client                        *clientInfo
	passwordKey                   string
	attended                      bool
	attendanceRate                float64 // percent, meaningful when attended
	attendanceDuration            int64   // seconds
	hasViewedReplay               bool
	replayWatchedAt               int64
	registrationType              string
	messagesCount, questionsCount int
}

// value returns the stored answer for a field id.
func (r *registration) value(id string) (any, bool) {
	for _, v := range r.values {
		if v.id == id {
			return v.value, true
		}
	}
	return nil, false
}

// setValue replaces or appends an answer.
func (r *registration) setValue(id string, v any) {
	for i := range r.values {
		if r.values[i].id == id {
			r.values[i].value = v
			return
		}
	}
	r.values = append(r.values, fieldValue{id: id, value: v})
}

// eventField is one entry of an event's registration form ("fields").
type eventField struct {
	id       string
	typ      string // text | file | multiple
	order    int
	required bool
	custom   bool
	options  []string
	multiple bool
}

type event struct {
	id                              string
	org                             *orgData
	title, slug, description        string
	status                          string // draft | published
	ownerID                         string
	estimatedDuration               int // minutes
	registrationPageEnabled         bool
	everyoneCanSpeak                bool
	lightRegistrationPageEnabled    bool
	detailedRegistrationPageEnabled bool
	recordingEnabled                bool
	recordingPublic                 *bool
	showInCompanyPage               bool
	chatEnabled                     bool
	pollsEnabled                    bool
	questionsEnabled                bool
	language                        string
	onDemand                        bool
	publishedAt, createdAt          int64
	updatedAt                       int64
	fields                          []eventField
	sessions                        []*session
	tags                            []*tag
}

// field returns the form definition for a field id.
func (e *event) field(id string) (eventField, bool) {
	for _, f := range e.fields {
		if f.id == id {
			return f, true
		}
	}
	return eventField{}, false
}

type session struct {
	id                             string
	event                          *event
	name                           string
	timezone                       string
	estimatedStartedAt             int64
	startedAt, endedAt, canceledAt int64
	createdAt, updatedAt           int64
	embedURL                       string
	noShow                         bool // the host never started it: past_not_started once due
	holdOpen                       bool // ended explicitly (activity demo), not by estimated_duration
	regs                           []*registration
	regByPerson                    map[string]*registration
	chat                           []*chatMessage
	questions                      []*question
	recordings                     []*recording
}

type chatMessage struct {
	id               string
	session          *session
	author           *person
	text             string
	createdAt        int64
	fromGuestSpeaker bool
	fromTeamMember   bool
}

type question struct {
	id                   string
	session              *session
	asker, responder     *person
	text, response       string
	responseOrally       bool
	respondedAt          int64
	createdAt, updatedAt int64
}

type recording struct {
	id        string
	session   *session
	fileSize  int64
	fileName  string
	createdAt int64
}

type tag struct {
	id        string
	title     string
	createdAt int64
}

type attrOption struct {
	label    string
	position int
	value    string
}

type peopleAttribute struct {
	id                       string
	slug, name, typ          string
	builtin                  bool
	description, placeholder string
	userID                   string
	options                  []attrOption
	createdAt, updatedAt     int64
}

type webhook struct {
	id, url, event       string
	createdAt, updatedAt int64
}

type job struct {
	id                           string
	org                          *orgData
	sessionID                    string
	status                       string // processing | ended | failed
	tasks                        []*task
	processed, failed, succeeded int
	createdAt, updatedAt         int64
}

type task struct {
	id                   string
	input                taskInput
	done                 bool
	status               string // succeeded | failed
	errors               []taskError
	email                string
	personID             string
	createdAt, updatedAt int64
}

type taskError struct {
	Title  string `json:"title"`
	Detail string `json:"detail"`
}

// ordered is implemented by records kept in (created_at, id) order.
type ordered interface {
	orderKey() (int64, string)
}

func (u *user) orderKey() (int64, string)            { return u.createdAt, u.id }
func (p *person) orderKey() (int64, string)          { return p.createdAt, p.id }
func (e *event) orderKey() (int64, string)           { return e.createdAt, e.id }
func (s *session) orderKey() (int64, string)         { return s.createdAt, s.id }
func (t *tag) orderKey() (int64, string)             { return t.createdAt, t.id }
func (a *peopleAttribute) orderKey() (int64, string) { return a.createdAt, a.id }
func (w *webhook) orderKey() (int64, string)         { return w.createdAt, w.id }
func (r *registration) orderKey() (int64, string)    { return r.createdAt, r.person.id }
func (m *chatMessage) orderKey() (int64, string)     { return m.createdAt, m.id }
func (q *question) orderKey() (int64, string)        { return q.createdAt, q.id }

func compareOrdered[T ordered](a, b T) int {
	ac, aid := a.orderKey()
	bc, bid := b.orderKey()
	if c := cmp.Compare(ac, bc); c != 0 {
		return c
	}
	return strings.Compare(aid, bid)
}

// insertOrdered inserts v keeping s sorted; new records usually go last.
func insertOrdered[T ordered](s []T, v T) []T {
	i, _ := slices.BinarySearchFunc(s, v, compareOrdered[T])
	return slices.Insert(s, i, v)
}

// sortOrdered sorts s in place (used once after seeding).
func sortOrdered[T ordered](s []T) { slices.SortFunc(s, compareOrdered[T]) }

// removeOrdered deletes the element with the same identity as v.
func removeOrdered[T comparable](s []T, v T) []T {
	if i := slices.Index(s, v); i >= 0 {
		return slices.Delete(s, i, i+1)
	}
	return s
}
