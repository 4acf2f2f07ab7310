package pubsub

import "time"

// ring is the bounded memory of one scope's recent messages, oldest first, from which
// Local replays. It forgets by count and by age; dropped is the sequence number of the
// newest message forgotten, so a cursor before it can no longer be replayed in full.
type ring struct {
	seq     uint64 // sequence number of the newest message published
	dropped uint64
	buf     []ringEntry // circular once it holds max entries
	head    int         // index of the oldest entry
	n       int
}

type ringEntry struct {
	msg *Message
	at  time.Time
}

// push appends msg, forgetting the oldest message beyond limit.
func (r *ring) push(msg *Message, at time.Time, limit int) {
	e := ringEntry{msg: msg, at: at}
	if r.n < len(r.buf) {
		r.buf[(r.head+r.n)%len(r.buf)] = e
		r.n++
		return
	}
	if len(r.buf) < limit {
		// Grow (doubling, up to max) by unrolling into a new slice.
		grown := make([]ringEntry, r.n, min(limit, max(16, 2*len(r.buf))))
		for i := range r.n {
			grown[i] = r.buf[(r.head+i)%len(r.buf)]
		}
		r.buf, r.head = grown[:cap(grown)], 0
		r.buf[r.n] = e
		r.n++
		return
	}
	r.dropped = r.buf[r.head].msg.pos.Lo
	r.buf[r.head] = e
	r.head = (r.head + 1) % len(r.buf)
}

// prune forgets the messages published before cutoff.
func (r *ring) prune(cutoff time.Time) {
	for r.n > 0 && r.buf[r.head].at.Before(cutoff) {
		r.dropped = r.buf[r.head].msg.pos.Lo
		r.buf[r.head] = ringEntry{}
		r.head = (r.head + 1) % len(r.buf)
		r.n--
	}
}

// after returns the retained messages numbered after seq, oldest first.
func (r *ring) after(seq uint64) []*Message {
	var out []*Message
	for i := range r.n {
		e := r.buf[(r.head+i)%len(r.buf)]
		if e.msg.pos.Lo > seq {
			out = append(out, e.msg)
		}
	}
	return out
}

// newest is when the newest retained message was published (zero if none).
func (r *ring) newest() time.Time {
	if r.n == 0 {
		return time.Time{}
	}
	return r.buf[(r.head+r.n-1)%len(r.buf)].at
}

// sweep forgets, at most once a minute, the rings of scopes that published nothing
// within the retention, so scopes that went quiet hold no memory; b.pubMu must be held.
// A forgotten scope keeps its numbering: its ring is recreated empty with seq and dropped
// restored, so cursors issued before stay comparable.
func (b *Local) sweep(now time.Time) {
	if now.Sub(b.lastSweep) < time.Minute {
		return
	}
	b.lastSweep = now
	cutoff := now.Add(-b.opts.Replay)
	for scope, r := range b.rings {
		if r.n > 0 && r.newest().Before(cutoff) {
			b.rings[scope] = &ring{seq: r.seq, dropped: r.seq}
		}
	}
}
