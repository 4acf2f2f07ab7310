package livestormsim

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Seeding builds every organization from its own random stream (derived from
// Config.Seed and the organization's index), so the same seed and size always
// produce the same ids and data, and adding an organization does not change
// the others. Timestamps are relative to the clock's time at New.

const (
	day  = int64(24 * 3600)
	hour = int64(3600)
)

// eventKind decides how an event's sessions are spread in time.
type eventKind int

const (
	kindMixed eventKind = iota // past sessions followed by upcoming ones
	kindLive                   // first session live right now
	kindPast
	kindUpcoming
	kindDraft
	kindCanceled
	kindOnDemand
)

// firstKinds guarantees every status appears even in small workspaces.
var firstKinds = []eventKind{kindMixed, kindLive, kindPast, kindUpcoming, kindDraft, kindCanceled, kindOnDemand}

// profile is what a seeded person answers on registration forms.
type profile struct {
	company, jobTitle, department string
	interests                     []string
	client                        *clientInfo
}

type seeder struct {
	rng      *rand.Rand
	seed     int64
	size     Size
	now      int64
	org      *orgData
	hosts    []*user // accepted team members
	owners   []*user // hosts that own events
	pool     []*person
	profiles []profile
	emails   map[string]bool
	utm      [][5]*string
}

// seedStore seeds the organizations concurrently: each one only touches its
// own generator and records, so the result does not depend on scheduling.
func seedStore(cfg Config, now time.Time) *store {
	st := &store{orgs: make([]*orgData, cfg.Organizations), orgByID: map[string]*orgData{}}
	var wg sync.WaitGroup
	for i := range st.orgs {
		wg.Go(func() {
			sd := &seeder{
				rng:  rand.New(rand.NewPCG(uint64(cfg.Seed), 0x0a9e5eed+uint64(i)*0x9e3779b97f4a7c15)),
				seed: cfg.Seed, size: cfg.Size, now: now.Unix(), emails: map[string]bool{},
			}
			st.orgs[i] = sd.seedOrg(i)
		})
	}
	wg.Wait()
	for _, org := range st.orgs {
		st.orgByID[org.id] = org
	}
	return st
}

func (sd *seeder) intn(n int) int { return sd.rng.IntN(n) }

func (sd *seeder) between(lo, hi int64) int64 {
	if hi <= lo {
		return lo
	}
	return lo + sd.rng.Int64N(hi-lo)
}

func (sd *seeder) chance(p float64) bool { return sd.rng.Float64() < p }

func pick[T any](sd *seeder, list []T) T { return list[sd.intn(len(list))] }

func (sd *seeder) uuid() string { return randUUID(sd.rng) }

func (sd *seeder) seedOrg(i int) *orgData {
	name, slug, domain := "Workspace "+strconv.Itoa(i+1), "workspace-"+strconv.Itoa(i+1), "workspace"+strconv.Itoa(i+1)+".example.com"
	if i < len(orgPresets) {
		name, slug, domain = orgPresets[i].name, orgPresets[i].slug, orgPresets[i].domain
	}
	created := sd.now - 700*day - sd.between(0, 60*day)
	sd.org = newOrgData(sd.uuid(), name, slug, domain, created)
	sd.seedUsers()
	sd.seedAttributes()
	sd.seedTags()
	sd.seedUTM()
	total := sd.size.Events * sd.size.SessionsPerEvent * sd.size.PeoplePerSession
	poolSize := max(sd.size.PeoplePerSession, total*2/5)
	sd.pool = make([]*person, poolSize)
	sd.profiles = make([]profile, poolSize)
	for e := 0; e < sd.size.Events; e++ {
		sd.seedEvent(e)
	}
	sd.finish()
	return sd.org
}

func (sd *seeder) personName() (string, string) { return pick(sd, firstNames), pick(sd, lastNames) }

// emailFor builds a unique, plausible address for a name at domain.
func (sd *seeder) emailFor(first, last, domain string) string {
	local := asciiLower(first) + "." + asciiLower(last)
	email := local + "@" + domain
	for n := 2; sd.emails[email]; n++ {
		email = local + strconv.Itoa(n) + "@" + domain
	}
	sd.emails[email] = true
	return email
}

// accentFolder folds the accents of the seed names for email local parts.
var accentFolder = strings.NewReplacer("é", "e", "è", "e", "ë", "e", "ï", "i", "í", "i", "ó", "o", "á", "a", "ú", "u", "ñ", "n", "ç", "c", " ", "")

// asciiLower lower-cases a name and folds common accents for email locals.
func asciiLower(s string) string { return accentFolder.Replace(strings.ToLower(s)) }

func (sd *seeder) seedUsers() {
	org := sd.org
	roles := []string{"host", "host", "moderator", "host", "moderator"}
	for k, role := range roles {
		first, last := sd.personName()
		created := org.createdAt + int64(k)*sd.between(day, 40*day)
		p := &person{id: sd.uuid(), role: roleTeamMember, createdAt: created, updatedAt: created + sd.between(0, 30*day),
			timezone: pick(sd, timezones), firstName: first, lastName: last, email: sd.emailFor(first, last, org.domain)}
		u := &user{id: p.id, person: p, role: role, createdAt: created, updatedAt: p.updatedAt, locale: pick(sd, []string{"en", "fr", "de", "es"})}
		if k == len(roles)-1 {
			// The last one never accepted the invitation: no profile yet.
			u.pendingInvite = true
			p.firstName, p.lastName, p.timezone = "", "", ""
		} else {
			sd.hosts = append(sd.hosts, u)
			if role == "host" {
				sd.owners = append(sd.owners, u)
			}
			if sd.chance(0.5) {
				p.avatarLink = "https://cdn.livestorm.co/uploads/avatars/" + sd.uuid() + ".jpg"
			}
			if sd.chance(0.5) {
				u.linkedinLink = "https://www.linkedin.com/in/" + asciiLower(first) + "-" + asciiLower(last)
			}
			if sd.chance(0.3) {
				u.twitterHand = "@" + asciiLower(first) + asciiLower(last)
			}
			if sd.chance(0.3) {
				u.websiteLink = "https://" + org.domain
			}
		}
		if k == 0 {
			org.ownerID = u.id
		}
		org.addUser(u)
		org.addPerson(p)
	}
}

func (sd *seeder) seedAttributes() {
	org := sd.org
	add := func(slug, name, typ string, builtin bool, desc, placeholder string, opts []string, created int64) {
		a := &peopleAttribute{id: sd.uuid(), slug: slug, name: name, typ: typ, builtin: builtin, description: desc,
			placeholder: placeholder, createdAt: created, updatedAt: created}
		if !builtin {
			a.userID = org.ownerID
		}
		for i, o := range opts {
			a.options = append(a.options, attrOption{label: o, position: i, value: o})
		}
		org.attributes = append(org.attributes, a)
	}
	t := org.createdAt
	add("email", "Email", "email", true, "", "jane@company.com", nil, t)
	add("first_name", "First name", "text", true, "", "Jane", nil, t+1)
	add("last_name", "Last name", "text", true, "", "Doe", nil, t+2)
	add("avatar", "Avatar", "avatar", true, "", "", nil, t+3)
	t += sd.between(2*day, 20*day)
	add("company", "Company", "text", false, "Where the registrant works", "Acme Inc.", nil, t)
	add("job_title", "Job title", "text", false, "", "Marketing Manager", nil, t+60)
	add("department", "Department", "unique_select", false, "Used to route follow-ups", "", departments, t+120)
	add("interests", "Interests", "multiple_select", false, "Topics the registrant wants to hear about", "", interestOptions, t+180)
	add("linkedin_url", "LinkedIn profile", "url", false, "", "https://www.linkedin.com/in/…", nil, t+240)
	add("marketing_consent", "Marketing consent", "consent", false, "I agree to receive marketing emails", "", nil, t+300)
	sortOrdered(org.attributes)
}

func (sd *seeder) seedTags() {
	t := sd.org.createdAt + 3*day
	for _, title := range tagTitles {
		tg := &tag{id: sd.uuid(), title: title, createdAt: t}
		sd.org.tags = append(sd.org.tags, tg)
		sd.org.tagByTitle[strings.ToLower(title)] = tg
		t += sd.between(hour, 30*day)
	}
}

func (sd *seeder) seedUTM() {
	for _, u := range utmPresets {
		src, med, camp := u.source, u.medium, u.campaign
		sd.utm = append(sd.utm, [5]*string{&src, &med, nil, nil, &camp})
	}
}

// builtinEventFields is the default registration form: the four built-in
// fields as in the RB example.
func builtinEventFields() []eventField {
	return []eventField{
		{id: "email", typ: "text", order: 0, required: true},
		{id: "first_name", typ: "text", order: 1, required: true},
		{id: "last_name", typ: "text", order: 2, required: true},
		{id: "avatar", typ: "file", order: 3, required: false},
	}
}

func (sd *seeder) eventFields(first bool) []eventField {
	fields := builtinEventFields()
	add := func(f eventField) {
		f.order, f.custom = len(fields), true
		fields = append(fields, f)
	}
	if first || sd.chance(0.6) {
		add(eventField{id: "company", typ: "text"})
		add(eventField{id: "job_title", typ: "text"})
	}
	if first || sd.chance(0.5) {
		add(eventField{id: "department", typ: "multiple", options: departments})
	}
	if first || sd.chance(0.4) {
		add(eventField{id: "interests", typ: "multiple", options: interestOptions, multiple: true})
	}
	return fields
}

func (sd *seeder) kind(e int) eventKind {
	if e < len(firstKinds) {
		return firstKinds[e]
	}
	switch r := sd.intn(100); {
	case r < 45:
		return kindPast
	case r < 65:
		return kindMixed
	case r < 90:
		return kindUpcoming
	case r < 94:
		return kindDraft
	case r < 97:
		return kindCanceled
	}
	return kindOnDemand
}

func roundTo(ts, step int64) int64 { return ts - ts%step }

func (sd *seeder) description(host *user) string {
	var b strings.Builder
	b.WriteString("<p>Hosted by " + host.person.firstName + " " + host.person.lastName + ".</p><p>")
	for i, n := 0, 2+sd.intn(3); i < n; i++ {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(pick(sd, descriptionSentences))
	}
	b.WriteString("</p>")
	return b.String()
}

func (sd *seeder) seedEvent(e int) {
	org := sd.org
	kind := sd.kind(e)
	owner := sd.owners[0]
	if e > 0 {
		owner = pick(sd, sd.owners)
	}
	title := pick(sd, eventTopics) + pick(sd, eventSuffixes)
	ev := &event{
		id: sd.uuid(), org: org, title: title, status: "published", ownerID: owner.id,
		estimatedDuration: pick(sd, []int{30, 45, 60, 60, 90}), registrationPageEnabled: true,
		everyoneCanSpeak: sd.chance(0.2), lightRegistrationPageEnabled: sd.chance(0.5),
		detailedRegistrationPageEnabled: true, recordingEnabled: sd.chance(0.8), showInCompanyPage: sd.chance(0.6),
		chatEnabled: sd.chance(0.9), pollsEnabled: sd.chance(0.7), questionsEnabled: sd.chance(0.85),
		language: pick(sd, languages), description: sd.description(owner), fields: sd.eventFields(e == 0),
	}
	if sd.chance(0.5) {
		pub := sd.chance(0.5)
		ev.recordingPublic = &pub
	}
	if e == 0 {
		ev.chatEnabled, ev.questionsEnabled, ev.recordingEnabled = true, true, true
	}
	switch kind {
	case kindDraft:
		ev.status = statusDraft
	case kindOnDemand:
		ev.onDemand = true
	}
	dur := durationSeconds(ev)
	n := sd.size.SessionsPerEvent
	starts := sd.sessionStarts(kind, n, dur)
	firstStart := sd.now
	if n > 0 {
		firstStart = starts[0]
	}
	created := firstStart - sd.between(7*day, 30*day)
	if created > sd.now-hour {
		created = sd.now - sd.between(hour, 10*day)
	}
	created = max(created, org.createdAt+day+sd.between(0, day))
	ev.createdAt = created
	ev.updatedAt = min(created+sd.between(0, 3*day), sd.now)
	if ev.status == "published" {
		ev.publishedAt = min(created+sd.between(60, 2*day), sd.now)
		ev.updatedAt = max(ev.updatedAt, ev.publishedAt)
	}
	ev.slug = org.uniqueSlug(slugify(title))
	for _, tg := range org.tags {
		if sd.chance(0.2) && len(ev.tags) < 3 {
			ev.tags = append(ev.tags, tg)
		}
	}
	org.events = append(org.events, ev)
	org.eventByID[ev.id] = ev
	tz := owner.person.timezone
	for j := 0; j < n; j++ {
		sd.seedSession(ev, kind, j, starts[j], created+int64(j)+1, tz, owner)
	}
}

// sessionStarts spreads n session start times for an event of kind.
func (sd *seeder) sessionStarts(kind eventKind, n int, dur int64) []int64 {
	starts := make([]int64, n)
	gap := sd.between(day, 7*day)
	switch kind {
	case kindPast:
		base := sd.now - int64(n)*gap - dur - sd.between(2*day, 300*day)
		for j := range starts {
			starts[j] = roundTo(base+int64(j)*gap, 1800)
		}
	case kindMixed:
		past := (n + 1) / 2
		for j := range starts {
			if j < past {
				starts[j] = roundTo(sd.now-int64(past-j)*gap-dur, 1800)
			} else {
				starts[j] = roundTo(sd.now+int64(j-past+1)*gap, 1800)
			}
		}
	case kindLive:
		for j := range starts {
			if j == 0 {
				starts[j] = sd.now - min(dur/3, 10*60)
			} else {
				starts[j] = roundTo(sd.now+int64(j)*gap, 1800)
			}
		}
	default: // upcoming, draft, canceled, on demand
		base := sd.now + sd.between(day, 60*day)
		if kind == kindOnDemand {
			base = sd.now - sd.between(10*day, 90*day)
		}
		for j := range starts {
			starts[j] = roundTo(base+int64(j)*gap, 1800)
		}
	}
	return starts
}

func (sd *seeder) seedSession(ev *event, kind eventKind, j int, start, created int64, tz string, owner *user) {
	org := sd.org
	dur := durationSeconds(ev)
	sess := &session{id: sd.uuid(), event: ev, timezone: tz, estimatedStartedAt: start,
		createdAt: created, updatedAt: created, regByPerson: make(map[string]*registration, sd.size.PeoplePerSession+1)}
	if sd.size.SessionsPerEvent > 1 && sd.chance(0.3) {
		sess.name = "Session " + strconv.Itoa(j+1)
	}
	ended := start+dur < sd.now && kind != kindDraft && kind != kindCanceled && kind != kindOnDemand
	switch {
	case kind == kindCanceled:
		sess.canceledAt = sd.between(max(created+60, sd.now-5*day), sd.now-60)
		sess.updatedAt = max(sess.canceledAt, created)
	case kind == kindLive && j == 0:
		sess.startedAt = start
		sess.updatedAt = start
	case ended && kind == kindPast && j > 0 && sd.chance(0.08):
		sess.noShow = true // the host never showed up: past_not_started
	case ended:
		sess.startedAt = start + sd.between(0, 5*60)
		sess.endedAt = min(sess.startedAt+dur+sd.between(-5*60, 10*60), sd.now-60)
		sess.updatedAt = sess.endedAt
	}
	ev.sessions = append(ev.sessions, sess)
	org.sessions = append(org.sessions, sess)
	org.sessionByID[sess.id] = sess

	host := &registration{person: owner.person, session: sess, createdAt: created, updatedAt: created,
		passwordKey: randHex(sd.rng, 11), registrationType: regTypeTeamMember}
	sess.appendRegistration(host)
	if kind != kindDraft {
		sd.seedRegistrants(sess)
	}
	if sess.endedAt != 0 {
		for _, r := range sess.regs {
			setAttendance(r, sd.seed, sess.endedAt-sess.startedAt)
			r.updatedAt = max(r.updatedAt, sess.endedAt)
		}
	}
	if sess.startedAt != 0 {
		sd.seedChat(sess)
	}
	if sess.endedAt != 0 {
		sd.seedQuestions(sess)
		if ev.recordingEnabled {
			sess.recordings = append(sess.recordings, &recording{id: sd.uuid(), session: sess,
				fileSize: (sess.endedAt - sess.startedAt) * (120_000 + sd.between(0, 80_000)),
				fileName: sd.uuid() + ".mp4", createdAt: sess.endedAt + sd.between(60, 1800)})
		}
		sd.seedReplays(sess, 0.1)
	}
	if ev.onDemand {
		sd.seedReplays(sess, 0.3)
	}
}

// poolPerson returns pool slot k, creating the person on first use.
func (sd *seeder) poolPerson(k int) (*person, profile) {
	if p := sd.pool[k]; p != nil {
		return p, sd.profiles[k]
	}
	first, last := sd.personName()
	co := pick(sd, companies)
	p := &person{id: sd.uuid(), role: roleParticipant, timezone: pick(sd, timezones), firstName: first, lastName: last,
		email: sd.emailFor(first, last, co.domain)}
	if sd.chance(0.15) {
		p.avatarLink = "https://cdn.livestorm.co/uploads/avatars/" + sd.uuid() + ".jpg"
	}
	pr := profile{company: co.name, jobTitle: pick(sd, jobTitles), department: pick(sd, departments),
		client: &clientPresets[sd.intn(len(clientPresets))]}
	for _, o := range interestOptions {
		if sd.chance(0.35) {
			pr.interests = append(pr.interests, o)
		}
	}
	if pr.interests == nil {
		pr.interests = []string{}
	}
	sd.pool[k], sd.profiles[k] = p, pr
	return p, pr
}

func (sd *seeder) seedRegistrants(sess *session) {
	n := min(sd.size.PeoplePerSession, len(sd.pool))
	if n == 0 {
		return
	}
	ev := sess.event
	latest := min(sess.estimatedStartedAt-10*60, sd.now-60)
	if sess.canceledAt != 0 {
		latest = min(latest, sess.canceledAt-60)
	}
	offset := sd.intn(len(sd.pool))
	for j := 0; j < n; j++ {
		p, pr := sd.poolPerson((offset + j) % len(sd.pool))
		if sess.regByPerson[p.id] != nil {
			continue
		}
		created := sd.between(sess.createdAt+60, max(latest, sess.createdAt+61))
		r := &registration{person: p, session: sess, createdAt: created, updatedAt: created,
			client: pr.client, passwordKey: randHex(sd.rng, 11), registrationType: regTypePage}
		for _, f := range ev.fields {
			switch f.id {
			case "company":
				r.values = append(r.values, fieldValue{id: f.id, value: pr.company})
			case "job_title":
				r.values = append(r.values, fieldValue{id: f.id, value: pr.jobTitle})
			case "department":
				r.values = append(r.values, fieldValue{id: f.id, value: pr.department})
			case "interests":
				r.values = append(r.values, fieldValue{id: f.id, value: pr.interests})
			}
		}
		if sd.chance(0.4) {
			r.utm = sd.utm[sd.intn(len(sd.utm))]
			ref := referrers[sd.intn(len(referrers))]
			r.referrer = &ref
		}
		if p.createdAt == 0 || created < p.createdAt {
			p.createdAt, p.updatedAt = created, created
		}
		sess.appendRegistration(r)
	}
}

func (sd *seeder) seedChat(sess *session) {
	if !sess.event.chatEnabled || len(sess.regs) == 0 {
		return
	}
	end := sess.endedAt
	if end == 0 {
		end = sd.now
	}
	for i, n := 0, 3+sd.intn(10); i < n; i++ {
		r := sess.regs[sd.intn(len(sess.regs))]
		if sess.endedAt != 0 && !r.attended {
			continue // only people in the room can chat
		}
		m := &chatMessage{id: sd.uuid(), session: sess, author: r.person, text: pick(sd, chatLines),
			createdAt: sd.between(sess.startedAt, max(end, sess.startedAt+1)), fromTeamMember: r.person.role == roleTeamMember}
		sess.chat = append(sess.chat, m)
		r.messagesCount++
	}
	sortOrdered(sess.chat)
}

func (sd *seeder) seedQuestions(sess *session) {
	if !sess.event.questionsEnabled {
		return
	}
	var attendees []*registration
	for _, r := range sess.regs {
		if r.attended && r.person.role == roleParticipant {
			attendees = append(attendees, r)
		}
	}
	if len(attendees) == 0 {
		return
	}
	host := sess.regByPerson[sess.event.ownerID]
	for i, n := 0, 1+sd.intn(5); i < n; i++ {
		r := attendees[sd.intn(len(attendees))]
		created := sd.between(sess.startedAt, sess.endedAt)
		q := &question{id: sd.uuid(), session: sess, asker: r.person, text: pick(sd, questionLines), createdAt: created, updatedAt: created}
		if host != nil && sd.chance(0.6) {
			q.responder = host.person
			q.respondedAt = min(created+sd.between(30, 600), sess.endedAt)
			q.updatedAt = q.respondedAt
			if sd.chance(0.25) {
				q.responseOrally = true
			} else {
				q.response = pick(sd, answerLines)
			}
		}
		sess.questions = append(sess.questions, q)
		r.questionsCount++
	}
	sortOrdered(sess.questions)
}

func (sd *seeder) seedReplays(sess *session, share float64) {
	from := max(sess.endedAt, sess.estimatedStartedAt)
	for _, r := range sess.regs {
		if r.person.role == roleParticipant && !r.attended && from < sd.now && sd.chance(share) {
			r.hasViewedReplay = true
			r.replayWatchedAt = sd.between(from+hour, max(sd.now, from+hour+1))
			r.replayWatchedAt = min(r.replayWatchedAt, sd.now)
			r.updatedAt = max(r.updatedAt, r.replayWatchedAt)
		}
	}
}

// finish sorts every list into (created_at, id) order and indexes people.
func (sd *seeder) finish() {
	org := sd.org
	for _, p := range sd.pool {
		if p != nil {
			org.addPersonUnsorted(p)
		}
	}
	sortOrdered(org.people)
	sortOrdered(org.events)
	sortOrdered(org.sessions)
	sortOrdered(org.users)
	for _, ev := range org.events {
		sortOrdered(ev.sessions)
	}
	for _, sess := range org.sessions {
		sortOrdered(sess.regs)
	}
}

// appendRegistration is addRegistration without keeping s.regs sorted; the
// seeder sorts every session once in finish.
func (s *session) appendRegistration(r *registration) {
	s.regs = append(s.regs, r)
	s.regByPerson[r.person.id] = r
	r.person.regs = append(r.person.regs, r)
}

// addPersonUnsorted indexes a person; finish sorts org.people once at the end.
func (o *orgData) addPersonUnsorted(p *person) {
	o.people = append(o.people, p)
	o.personByID[p.id] = p
	o.personByEmail[p.email] = p
}
