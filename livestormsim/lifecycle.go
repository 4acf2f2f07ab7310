package livestormsim

import (
	"errors"
	"hash/fnv"
	"math"
	"time"
)

// Session statuses (§7.2) and event scheduling statuses (§7.1).
const (
	statusUpcoming       = "upcoming"
	statusLive           = "live"
	statusOnDemand       = "on_demand"
	statusPast           = "past"
	statusPastNotStarted = "past_not_started"
	statusCanceled       = "canceled"
	statusDraft          = "draft"
)

var (
	sessionStatuses    = []string{statusUpcoming, statusLive, statusOnDemand, statusPast, statusPastNotStarted, statusCanceled, statusDraft}
	schedulingStatuses = []string{"live", "upcoming", "on_demand", "ended", "not_started", "draft", "cancelled", "not_scheduled"}
)

// attendanceRatio is the share of registrants marked as attended when a
// session ends.
const attendanceRatio = 0.6

// sessionStatus derives a session's status from its timestamps, its event and
// the simulated time, so it can never disagree with the data.
func sessionStatus(s *session, now int64) string {
	switch {
	case s.canceledAt != 0:
		return statusCanceled
	case s.endedAt != 0:
		return statusPast
	case s.startedAt != 0:
		return statusLive
	case s.event.status == statusDraft:
		return statusDraft
	case s.event.onDemand:
		return statusOnDemand
	case s.noShow && now >= s.estimatedStartedAt:
		return statusPastNotStarted
	}
	return statusUpcoming
}

// schedulingStatus derives an event's scheduling_status from its sessions.
func schedulingStatus(e *event, now int64) string {
	switch {
	case e.status == statusDraft:
		return "draft"
	case e.onDemand:
		return "on_demand"
	case len(e.sessions) == 0:
		return "not_scheduled"
	}
	var live, upcoming, past, canceled int
	for _, s := range e.sessions {
		switch sessionStatus(s, now) {
		case statusLive:
			live++
		case statusUpcoming:
			upcoming++
		case statusPast:
			past++
		case statusCanceled:
			canceled++
		}
	}
	switch {
	case live > 0:
		return "live"
	case upcoming > 0:
		return "upcoming"
	case canceled == len(e.sessions):
		return "cancelled"
	case past > 0:
		return "ended"
	}
	return "not_started"
}

// durationSeconds is how long a session runs when nobody ends it explicitly.
func durationSeconds(e *event) int64 { return int64(max(e.estimatedDuration, 1)) * 60 }

// Now returns the simulated time.
func (s *Simulator) Now() time.Time { return s.clock.Now() }

// Tick applies every due transition (session start/end, attendance) now; it
// is also run every 250 ms by a goroutine.
func (s *Simulator) Tick() {
	s.store.mu.Lock()
	defer s.store.mu.Unlock()
	now := s.Now().Unix()
	for _, org := range s.store.orgs {
		for _, sess := range org.sessions {
			if sessionStatus(sess, now) == statusUpcoming && !sess.noShow && now >= sess.estimatedStartedAt {
				s.startSessionLocked(sess, sess.estimatedStartedAt)
			}
			if sess.startedAt != 0 && sess.endedAt == 0 && sess.canceledAt == 0 && !sess.holdOpen {
				if end := sess.startedAt + durationSeconds(sess.event); now >= end {
					s.endSessionLocked(sess, end)
				}
			}
		}
	}
}

// Advance moves a *ManualClock forward by d, then applies due transitions.
func (s *Simulator) Advance(d time.Duration) error {
	mc, ok := s.clock.(*ManualClock)
	if !ok {
		return errors.New("livestormsim: Advance needs Config.Clock to be a *ManualClock")
	}
	mc.Advance(d)
	s.Tick()
	return nil
}

// errUnknownSession is returned by the session helpers for ids that do not exist.
var errUnknownSession = errors.New("livestormsim: unknown session")

// StartSession forces upcoming -> live now (fires session.started).
func (s *Simulator) StartSession(sessionID string) error {
	return s.forceTransition(sessionID, statusUpcoming, func(sess *session) {
		s.startSessionLocked(sess, s.Now().Unix())
	})
}

// EndSession forces live -> past now (fires session.ended, then people.attended/not_attended per registrant).
func (s *Simulator) EndSession(sessionID string) error {
	return s.forceTransition(sessionID, statusLive, func(sess *session) {
		s.endSessionLocked(sess, max(s.Now().Unix(), sess.startedAt))
	})
}

// forceTransition applies transition, under the store lock, to the session
// with that id when it is currently in status from.
func (s *Simulator) forceTransition(sessionID, from string, transition func(*session)) error {
	s.store.mu.Lock()
	defer s.store.mu.Unlock()
	sess := s.store.findSession(sessionID)
	if sess == nil {
		return errUnknownSession
	}
	if st := sessionStatus(sess, s.Now().Unix()); st != from {
		return errors.New("livestormsim: session is " + st + ", not " + from)
	}
	transition(sess)
	return nil
}

func (st *store) findSession(id string) *session {
	for _, org := range st.orgs {
		if sess := org.sessionByID[id]; sess != nil {
			return sess
		}
	}
	return nil
}

func (s *Simulator) startSessionLocked(sess *session, at int64) {
	sess.startedAt = at
	sess.updatedAt = max(sess.updatedAt, at)
	s.hooks.emit(sess.event.org, "session.started", sessionResource(sess, at))
}

// endSessionLocked ends a live session at `at`: it records attendance, adds a
// recording when the event records, and fires session.ended followed by one
// people.attended / people.not_attended per participant.
func (s *Simulator) endSessionLocked(sess *session, at int64) {
	sess.endedAt = at
	sess.updatedAt = max(sess.updatedAt, at)
	dur := at - sess.startedAt
	for _, r := range sess.regs {
		setAttendance(r, s.cfg.Seed, dur)
		r.updatedAt = max(r.updatedAt, at)
	}
	if sess.event.recordingEnabled && dur > 0 {
		sess.recordings = append(sess.recordings, &recording{
			id: s.ids.uuid(), session: sess, fileSize: dur * 156_250, fileName: s.ids.uuid() + ".mp4", createdAt: at,
		})
	}
	org := sess.event.org
	s.hooks.emit(org, "session.ended", sessionResource(sess, at))
	for _, r := range sess.regs {
		if r.person.role != roleParticipant {
			continue
		}
		name := "people.not_attended"
		if r.attended {
			name = "people.attended"
		}
		s.hooks.emit(org, name, registrantResource(r))
	}
}

// setAttendance decides deterministically (from seed, session and person)
// whether a registrant attended and for how long; team members always attend.
func setAttendance(r *registration, seed int64, dur int64) {
	if r.person.role != roleParticipant {
		r.attended, r.attendanceRate, r.attendanceDuration = true, 100, dur
		return
	}
	u1, u2 := attendanceDraws(seed, r.session.id, r.person.id)
	if u1 >= attendanceRatio {
		r.attended, r.attendanceRate, r.attendanceDuration = false, 0, 0
		return
	}
	rate := math.Round((20+80*u2)*10) / 10
	r.attended, r.attendanceRate = true, rate
	r.attendanceDuration = int64(math.Round(float64(dur) * rate / 100))
}

// attendanceDraws hashes its inputs into two uniform numbers in [0,1).
func attendanceDraws(seed int64, sessionID, personID string) (float64, float64) {
	h := fnv.New64a()
	var b [8]byte
	for i := range b {
		b[i] = byte(seed >> (8 * i))
	}
	h.Write(b[:])
	h.Write([]byte(sessionID))
	h.Write([]byte{0})
	h.Write([]byte(personID))
	x := h.Sum64()
	return float64(x>>40) / float64(1<<24), float64(x&0xffffff) / float64(1<<24)
}
