package livestormsim

import (
	"encoding/json"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"
)

// Activity configures simulated live activity for demos: periodic
// registrations and sessions that start and end, each delivered through the
// same signed webhooks a real workspace would send.
type Activity struct {
	RegistrationEvery time.Duration // default 4s; <0 disables
	SessionCycle      time.Duration // default 30s: a demo session per org is scheduled, starts, runs ~SessionCycle/2, ends, and the next one is scheduled; <0 disables
}

const (
	defaultRegistrationEvery = 4 * time.Second
	defaultSessionCycle      = 30 * time.Second
	demoSessionLead          = 3 * time.Second
)

// goTracked runs fn in a goroutine that Close waits for; it returns false
// (and runs nothing) once Close has begun.
func (s *Simulator) goTracked(fn func()) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		fn()
	}()
	return true
}

// StartActivity runs until Close; calling it again has no effect.
func (s *Simulator) StartActivity(a Activity) {
	if a.RegistrationEvery == 0 {
		a.RegistrationEvery = defaultRegistrationEvery
	}
	if a.SessionCycle == 0 {
		a.SessionCycle = defaultSessionCycle
	}
	s.mu.Lock()
	started := s.activityStarted
	s.activityStarted = true
	s.mu.Unlock()
	if started {
		return
	}
	if a.RegistrationEvery > 0 {
		rng := rand.New(rand.NewPCG(uint64(s.cfg.Seed), 0xac71))
		s.goTracked(func() { s.registrationLoop(a.RegistrationEvery, rng) })
	}
	if a.SessionCycle > 0 {
		for _, org := range s.store.orgs {
			s.goTracked(func() { s.demoSessionLoop(org, a.SessionCycle) })
		}
	}
}

// sleep waits d of wall time; it returns false when the simulator closes.
func (s *Simulator) sleep(d time.Duration) bool {
	if d <= 0 {
		return s.ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-s.ctx.Done():
		return false
	}
}

// registrationLoop registers someone at once, then every `every`: a demo's first
// registration comes as soon as the activity starts, not a period later.
func (s *Simulator) registrationLoop(every time.Duration, rng *rand.Rand) {
	for n := 1; ; n++ {
		s.activityRegister(rng, n)
		if !s.sleep(every) {
			return
		}
	}
}

// activityRegister registers a new fake person to an upcoming or live session of a
// random organization (fires people.registered). Organizations with a people.registered
// webhook are chosen first: a registration nobody is told about shows nothing, and
// picking among every organization left a demo watching one workspace without an event
// for several periods in a row.
func (s *Simulator) activityRegister(rng *rand.Rand, n int) {
	s.store.mu.Lock()
	defer s.store.mu.Unlock()
	now := s.Now().Unix()
	orgs := s.store.orgs
	var watched []*orgData
	for _, o := range orgs {
		if slices.ContainsFunc(o.webhooks, func(w *webhook) bool { return w.event == "people.registered" }) {
			watched = append(watched, o)
		}
	}
	if len(watched) > 0 {
		orgs = watched
	}
	org := orgs[rng.IntN(len(orgs))]
	var open []*session
	for _, sess := range org.sessions {
		if st := sessionStatus(sess, now); st == statusUpcoming || st == statusLive {
			open = append(open, sess)
		}
	}
	if len(open) == 0 {
		return
	}
	sess := open[rng.IntN(len(open))]
	// Favour the demo session so its counters visibly move.
	for _, cand := range open {
		if cand.holdOpen && rng.IntN(2) == 0 {
			sess = cand
		}
	}
	first, last := firstNames[rng.IntN(len(firstNames))], lastNames[rng.IntN(len(lastNames))]
	co := companies[rng.IntN(len(companies))]
	email := asciiLower(first) + "." + asciiLower(last) + ".live" + strconv.Itoa(n) + "@" + co.domain
	in := registrationIn{Fields: []registrationFieldIn{
		{ID: "email", Value: mustJSON(email)}, {ID: "first_name", Value: mustJSON(first)}, {ID: "last_name", Value: mustJSON(last)},
	}}
	if _, ok := sess.event.field("company"); ok {
		in.Fields = append(in.Fields, registrationFieldIn{ID: "company", Value: mustJSON(co.name)})
	}
	client := &clientPresets[rng.IntN(len(clientPresets))]
	r, e := s.registerLocked(sess, in, regTypePage, client, now)
	if e != nil {
		s.log.Debug("livestormsim: activity registration skipped", "detail", e.detail)
		return
	}
	s.hooks.emit(org, "people.registered", registrantResource(r))
}

// demoSessionLoop keeps one demo session per organization cycling:
// scheduled a few seconds ahead (session.created), started (session.started),
// running for half a cycle, ended (session.ended + attendance), repeat.
func (s *Simulator) demoSessionLoop(org *orgData, cycle time.Duration) {
	ev := s.createDemoEvent(org)
	lead := min(demoSessionLead, cycle/4)
	for {
		sessID := s.scheduleDemoSession(ev, lead)
		if !s.sleep(lead) {
			return
		}
		_ = s.StartSession(sessID) // the ticker may have started it already
		if !s.sleep(cycle / 2) {
			return
		}
		_ = s.EndSession(sessID)
		if !s.sleep(cycle/2 - lead) {
			return
		}
	}
}

func (s *Simulator) createDemoEvent(org *orgData) *event {
	s.store.mu.Lock()
	defer s.store.mu.Unlock()
	now := s.Now().Unix()
	ev := &event{
		id: s.ids.uuid(), org: org, title: "Live Product Demo", status: "published", ownerID: org.ownerID,
		estimatedDuration: 60, registrationPageEnabled: true, detailedRegistrationPageEnabled: true,
		recordingEnabled: true, chatEnabled: true, pollsEnabled: true, questionsEnabled: true, language: "en",
		createdAt: now, updatedAt: now, publishedAt: now,
		description: "<p>A live demo that runs again and again, so you can watch sessions start and end.</p>",
		fields:      append(builtinEventFields(), eventField{id: "company", typ: "text", order: 4, custom: true}),
	}
	ev.slug = org.uniqueSlug(slugify(ev.title))
	org.addEvent(ev)
	s.hooks.emit(org, "event.created", eventResource(ev, now))
	s.hooks.emit(org, "event.published", eventResource(ev, now))
	return ev
}

func (s *Simulator) scheduleDemoSession(ev *event, lead time.Duration) string {
	s.store.mu.Lock()
	defer s.store.mu.Unlock()
	now := s.Now()
	owner := ev.org.userByID[ev.ownerID]
	start, _ := json.Marshal(now.Add(lead).Unix())
	sess, e := s.newSession(ev, owner, sessionAttrsIn{EstimatedStartedAt: start}, now.Unix())
	if e != nil { // cannot happen: the input is generated above
		s.log.Error("livestormsim: demo session", "detail", e.detail)
		return ""
	}
	sess.holdOpen = true
	sess.name = "Demo " + time.Unix(now.Unix(), 0).UTC().Format("15:04:05")
	s.addSessionLocked(sess, []*user{owner}, now.Unix())
	return sess.id
}
