package livestormsim

import (
	"sync"
	"time"
)

// RequestRecord describes one request that reached the handler (including
// 401s, 429s and injected faults), so tests can assert how many upstream
// calls a client made and which routes it hit.
type RequestRecord struct {
	Time   time.Time
	OrgID  string // "" when unauthenticated
	Method string
	Path   string // path without /v1, e.g. /events/abc/sessions
	Route  string // templated, e.g. /events/{id}/sessions
	Query  string // raw query
	Status int
	Fault  FaultKind // "" when none
}

// maxRequestRecords bounds the log of a long-running demo; RequestCount keeps
// counting past it.
const maxRequestRecords = 100_000

type requestLog struct {
	mu      sync.Mutex
	records []RequestRecord
	total   int
}

func (l *requestLog) add(r RequestRecord) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.records = appendBounded(l.records, r, maxRequestRecords)
	l.total++
}

// appendBounded appends v to log, first dropping the older half when log
// already holds limit entries: a long-running demo keeps its recent history
// without growing forever, and the halving keeps appends amortized O(1).
func appendBounded[T any](log []T, v T, limit int) []T {
	if len(log) >= limit {
		log = append(log[:0], log[len(log)/2:]...)
	}
	return append(log, v)
}

// Requests returns a copy of the retained request log, oldest first.
func (s *Simulator) Requests() []RequestRecord {
	s.reqlog.mu.Lock()
	defer s.reqlog.mu.Unlock()
	return append([]RequestRecord(nil), s.reqlog.records...)
}

// RequestCount is the number of requests served since start or the last
// ResetRequests.
func (s *Simulator) RequestCount() int {
	s.reqlog.mu.Lock()
	defer s.reqlog.mu.Unlock()
	return s.reqlog.total
}

// CountRequests counts retained records matching match, e.g. every GET of a
// route, to assert a client's upstream economy.
func (s *Simulator) CountRequests(match func(RequestRecord) bool) int {
	s.reqlog.mu.Lock()
	defer s.reqlog.mu.Unlock()
	n := 0
	for _, r := range s.reqlog.records {
		if match(r) {
			n++
		}
	}
	return n
}

// ResetRequests clears the request log and the request counter.
func (s *Simulator) ResetRequests() {
	s.reqlog.mu.Lock()
	defer s.reqlog.mu.Unlock()
	s.reqlog.records = nil
	s.reqlog.total = 0
}
