package pubsub

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultBuffer is the number of messages a subscriber may fall behind by before it is
// dropped, when Subscribe is given no buffer size.
const DefaultBuffer = 64

// Retention of published messages for SubscribeAfter, when not configured
// (SUBSCRIPTION_REPLAY, SUBSCRIPTION_REPLAY_MAX).
const (
	DefaultReplay    = time.Hour
	DefaultReplayMax = 10_000
)

// Filter selects the messages a subscriber wants. It runs on the publisher's goroutine,
// once per message and subscriber, so it must be cheap and must not block.
type Filter func(*Message) bool

// Bus carries Messages from the webhook receiver to GraphQL subscriptions, per scope
// (the workspace's tenant scope). Implementations must honour these promises:
//
//   - Publish never blocks on subscribers: a subscriber whose buffer is full is dropped
//     (its channel closed, its Err set), never waited for.
//   - A subscription's channel closes exactly once: when its context ends, when it is
//     Closed, when it is dropped or when the bus closes.
//   - Every goroutine a subscription needs ends with it.
//   - Messages of one scope reach every subscriber in one order, each carrying its
//     Cursor, and SubscribeAfter resumes after a cursor with no gap and no duplicate.
//
// Messages are plain, JSON-serializable data, so a Bus backed by Redis can satisfy this
// interface: package cluster appends them to a Redis stream per scope and hands what one
// reading goroutine per process reads to a Local (Deliver) for the in-process fan-out.
type Bus interface {
	// Publish delivers m to the current subscribers of m.Scope whose filter accepts it.
	// Subscribers must treat the delivered *Message as read-only: it is shared.
	Publish(ctx context.Context, m Message) error
	// Subscribe registers a subscriber of scope. The subscription ends when ctx ends.
	// buffer <= 0 means DefaultBuffer; a nil filter accepts every message.
	Subscribe(ctx context.Context, scope string, filter Filter, buffer int) (*Subscription, error)
	// SubscribeAfter is Subscribe for a subscriber that already received the message at
	// cursor after: it first receives the retained messages of scope that came after it
	// (those its filter accepts), then continues live, with no duplicate and no gap. It
	// fails with ErrReplayUnavailable when that cannot be promised and ErrInvalidCursor
	// for a cursor no bus issues. An empty cursor is Subscribe.
	SubscribeAfter(ctx context.Context, scope, after string, filter Filter, buffer int) (*Subscription, error)
	// Close ends every subscription (Err reports ErrClosed) and refuses further use.
	Close() error
}

// ErrClosed is returned by a closed bus, and is the Err of subscriptions it ended.
var ErrClosed = errors.New("pubsub: bus closed")

// ErrSlowSubscriber matches (errors.Is) the Err of a subscriber dropped for falling
// behind.
var ErrSlowSubscriber = errors.New("subscriber too slow")

// DroppedError says why a subscriber was dropped: its buffer was full when a message
// arrived.
type DroppedError struct {
	// Dropped counts the messages the subscriber lost (the one that did not fit, and any
	// published while it was being removed).
	Dropped int
	// Buffer is the subscriber's buffer size.
	Buffer int
}

func (e *DroppedError) Error() string {
	return fmt.Sprintf("subscriber too slow: %d events dropped (its buffer of %d events was full)", e.Dropped, e.Buffer)
}

// Is makes errors.Is(err, ErrSlowSubscriber) hold.
func (e *DroppedError) Is(target error) bool { return target == ErrSlowSubscriber }

// Subscription is one subscriber's stream.
type Subscription struct {
	// C delivers the messages. It is closed when the subscription ends; read Err then.
	C <-chan *Message

	c      chan *Message
	filter Filter
	scope  string
	err    atomic.Pointer[error]
	// dropping is set by the first publisher that finds the buffer full; later
	// publishers skip the subscriber (and count what it missed) until it is removed.
	dropping atomic.Bool
	missed   atomic.Int64
	unsub    func()

	// held is set while a resuming subscription waits for its replay (SubscribeHeld):
	// messages published meanwhile queue on pending (guarded by holdMu) and are handed
	// over after the replay by Release.
	held    atomic.Bool
	holdMu  sync.Mutex
	pending []*Message
	// floor, once Release set it, is the last replayed cursor: live messages at or
	// before it are duplicates of the replay and are skipped.
	floor    Cursor
	hasFloor bool
	buffer   int

	// Guarded by the owning bus's lock.
	idx    int
	closed bool
	stop   func() bool // stops the context.AfterFunc
}

// Err says why C was closed: nil while open and when the subscriber ended it (context
// done or Close), a *DroppedError (errors.Is ErrSlowSubscriber) when it fell behind,
// ErrClosed when the bus closed. Once C is closed, Err is final.
func (s *Subscription) Err() error {
	if p := s.err.Load(); p != nil {
		return *p
	}
	return nil
}

// Close ends the subscription; C is closed and Err stays nil. Safe to call more than
// once, and concurrently with the bus dropping it.
func (s *Subscription) Close() {
	if s.unsub != nil {
		s.unsub()
	}
}

// LocalOptions configure a Local. Zero values take the documented defaults.
type LocalOptions struct {
	// Replay is how long published messages are kept for SubscribeAfter (default
	// DefaultReplay); ReplayMax bounds how many are kept per scope (default
	// DefaultReplayMax).
	Replay    time.Duration
	ReplayMax int
	// Now is the clock (tests). Default time.Now.
	Now func() time.Time
}

// Local is the in-process Bus: per-scope subscriber sets, fan-out by non-blocking sends
// on the publisher's goroutine, and per scope a bounded ring of the messages published
// recently, from which SubscribeAfter replays. It starts no goroutine per message nor
// per subscriber (a subscription's context is watched with context.AfterFunc, whose
// function runs only once that context is done).
//
// A Local also serves as the fan-out of a bus that sequences messages elsewhere (package
// cluster): Deliver hands it messages that already carry their cursor, SubscribeHeld and
// Release let such a bus replay from its own store.
type Local struct {
	opts LocalOptions
	boot uint64 // start time in ms: the first half of every cursor this bus issues

	mu     sync.RWMutex
	scopes map[string][]*Subscription
	closed bool

	// pubMu serializes Publish, so that the messages of a scope are numbered, retained
	// and fanned out in one order; it guards rings.
	pubMu     sync.Mutex
	rings     map[string]*ring
	lastSweep time.Time

	published, delivered, dropped atomic.Int64
}

// NewLocal returns an empty in-process bus with the default replay retention.
func NewLocal() *Local { return NewLocalWith(LocalOptions{}) }

// NewLocalWith returns an empty in-process bus configured by o.
func NewLocalWith(o LocalOptions) *Local {
	if o.Replay <= 0 {
		o.Replay = DefaultReplay
	}
	if o.ReplayMax <= 0 {
		o.ReplayMax = DefaultReplayMax
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Local{
		opts:   o,
		boot:   uint64(o.Now().UnixMilli()),
		scopes: make(map[string][]*Subscription),
		rings:  make(map[string]*ring),
	}
}

var _ Bus = (*Local)(nil)

// Publish numbers m (its Cursor), retains it for SubscribeAfter and fans it out to the
// subscribers of m.Scope. Publishers take turns, so every subscriber sees one order.
func (b *Local) Publish(_ context.Context, m Message) error {
	b.pubMu.Lock()
	defer b.pubMu.Unlock()
	b.mu.RLock()
	closed := b.closed
	b.mu.RUnlock()
	if closed {
		return ErrClosed
	}
	now := b.opts.Now()
	b.sweep(now)
	r := b.rings[m.Scope]
	if r == nil {
		r = &ring{}
		b.rings[m.Scope] = r
	}
	r.seq++
	m.pos = Cursor{Hi: b.boot, Lo: r.seq}
	m.Cursor = m.pos.String()
	m.Fallback = false
	msg := &m
	r.push(msg, now, b.opts.ReplayMax)
	r.prune(now.Add(-b.opts.Replay))
	return b.fanout(msg)
}

// Deliver fans out a message that was sequenced elsewhere: its Cursor is kept (and must
// be a cursor, or empty for a message that has none) and it is not retained here.
// Messages of one scope must be delivered in cursor order.
func (b *Local) Deliver(m Message) error {
	if m.Cursor != "" {
		c, err := ParseCursor(m.Cursor)
		if err != nil {
			return err
		}
		m.pos = c
	}
	return b.fanout(&m)
}

// fanout sends msg to the subscribers of its scope. It holds a read lock while it sends;
// a full subscriber is marked, then removed (and its channel closed) once the read lock
// is released.
func (b *Local) fanout(msg *Message) error {
	var full []*Subscription
	b.mu.RLock()
	if b.closed {
		b.mu.RUnlock()
		return ErrClosed
	}
	for _, s := range b.scopes[msg.Scope] {
		if s.filter != nil && !s.filter(msg) {
			continue
		}
		if s.dropping.Load() {
			s.missed.Add(1)
			continue
		}
		if s.held.Load() && s.hold(msg) {
			continue
		}
		if s.hasFloor && !msg.Fallback && !msg.pos.After(s.floor) {
			continue // already replayed
		}
		select {
		case s.c <- msg:
			b.delivered.Add(1)
		default:
			s.missed.Add(1)
			if s.dropping.CompareAndSwap(false, true) {
				full = append(full, s)
			}
		}
	}
	b.mu.RUnlock()
	b.published.Add(1)
	for _, s := range full {
		b.dropped.Add(1)
		b.remove(s, func() error { return &DroppedError{Dropped: int(s.missed.Load()), Buffer: s.buffer} })
	}
	return nil
}

// hold queues msg on a held subscription and reports whether it did (false: Release
// came first, send as usual). A held subscriber that falls a whole buffer behind is
// dropped like any slow one. Runs under the bus's read lock.
func (s *Subscription) hold(msg *Message) bool {
	s.holdMu.Lock()
	defer s.holdMu.Unlock()
	if !s.held.Load() {
		return false
	}
	if len(s.pending) >= s.buffer {
		s.missed.Add(1)
		s.dropping.Store(true) // removed by Release, which sees it
		return true
	}
	s.pending = append(s.pending, msg)
	return true
}

// Subscribe registers a subscriber of scope; see Bus.
func (b *Local) Subscribe(ctx context.Context, scope string, filter Filter, buffer int) (*Subscription, error) {
	return b.subscribe(ctx, scope, filter, buffer, false)
}

// SubscribeAfter replays the retained messages of scope after cursor after, then
// continues live; see Bus.
func (b *Local) SubscribeAfter(ctx context.Context, scope, after string, filter Filter, buffer int) (*Subscription, error) {
	if after == "" {
		return b.Subscribe(ctx, scope, filter, buffer)
	}
	c, err := ParseCursor(after)
	if err != nil {
		return nil, err
	}
	s, err := b.SubscribeHeld(ctx, scope, filter, buffer)
	if err != nil {
		return nil, err
	}
	b.pubMu.Lock()
	replay, err := b.replay(scope, c)
	b.pubMu.Unlock()
	if err != nil {
		s.Close()
		return nil, err
	}
	b.Release(s, c, replay)
	return s, nil
}

// replay returns the retained messages of scope after c; b.pubMu must be held.
func (b *Local) replay(scope string, c Cursor) ([]*Message, error) {
	if c.Hi != b.boot {
		return nil, replayUnavailable("the cursor was issued by another gateway process (restarted?)")
	}
	r := b.rings[scope]
	if r == nil {
		r = &ring{}
	}
	r.prune(b.opts.Now().Add(-b.opts.Replay))
	switch {
	case c.Lo > r.seq:
		return nil, replayUnavailable("the cursor is ahead of this workspace's stream")
	case c.Lo < r.dropped:
		return nil, replayUnavailable("messages after the cursor are older than the replay retention")
	}
	return r.after(c.Lo), nil
}

// SubscribeHeld registers a subscriber of scope whose messages are held back until
// Release hands it its replay: messages published in between are neither lost nor
// delivered out of order. Its C is nil until then. Used by buses that replay from their
// own store.
func (b *Local) SubscribeHeld(ctx context.Context, scope string, filter Filter, buffer int) (*Subscription, error) {
	return b.subscribe(ctx, scope, filter, buffer, true)
}

// Release ends the hold of s: its channel receives first the messages of replay its
// filter accepts that come after cursor after (replay in cursor order, each with its
// Cursor; the messages become the bus's: treat them as read-only), then those
// published meanwhile that the replay did not contain, then live messages. A subscriber
// that fell a whole buffer behind while held is dropped. Release on a subscription that
// already ended does nothing but leave C closed.
func (b *Local) Release(s *Subscription, after Cursor, replay []*Message) {
	b.mu.Lock()
	if s.closed || !s.held.Load() {
		b.mu.Unlock()
		return
	}
	s.holdMu.Lock()
	floor := after
	var first []*Message
	for _, m := range replay {
		if m.pos.IsZero() && m.Cursor != "" {
			m.pos, _ = ParseCursor(m.Cursor) // sequenced by the caller's store
		}
		if !m.pos.After(floor) {
			continue
		}
		floor = m.pos
		if s.filter == nil || s.filter(m) {
			first = append(first, m)
		}
	}
	for _, m := range s.pending {
		if m.Fallback || m.pos.After(floor) {
			first = append(first, m)
		}
	}
	c := make(chan *Message, s.buffer+len(first))
	for _, m := range first {
		c <- m
	}
	s.c, s.C = c, c
	s.floor, s.hasFloor = floor, true
	s.pending = nil
	s.held.Store(false)
	s.holdMu.Unlock()
	dropped := s.dropping.Load()
	b.mu.Unlock()
	b.delivered.Add(int64(len(first)))
	if dropped {
		b.dropped.Add(1)
		b.remove(s, func() error { return &DroppedError{Dropped: int(s.missed.Load()), Buffer: s.buffer} })
	}
}

func (b *Local) subscribe(ctx context.Context, scope string, filter Filter, buffer int, held bool) (*Subscription, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if buffer <= 0 {
		buffer = DefaultBuffer
	}
	s := &Subscription{filter: filter, scope: scope, buffer: buffer}
	if held {
		s.held.Store(true)
	} else {
		c := make(chan *Message, buffer)
		s.C, s.c = c, c
	}
	s.unsub = func() { b.remove(s, nil) }

	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, ErrClosed
	}
	subs := b.scopes[scope]
	s.idx = len(subs)
	b.scopes[scope] = append(subs, s)
	// If ctx is already done the function runs at once, on its own goroutine, and waits
	// for the lock held here: s is fully registered by then.
	s.stop = context.AfterFunc(ctx, s.unsub)
	return s, nil
}

// remove unregisters s and closes its channel, exactly once; reason (may be nil) gives
// the error Err reports.
func (b *Local) remove(s *Subscription, reason func() error) {
	b.mu.Lock()
	if s.closed {
		b.mu.Unlock()
		return
	}
	b.detach(s)
	if reason != nil {
		err := reason()
		s.err.Store(&err)
	}
	s.closeChannel()
	stop := s.stop
	b.mu.Unlock()
	if stop != nil {
		stop()
	}
}

// closeChannel closes C, giving a still-held subscription a closed channel of its own;
// the bus's write lock must be held.
func (s *Subscription) closeChannel() {
	if s.c == nil {
		s.c = make(chan *Message)
		s.C = s.c
	}
	close(s.c)
}

// detach removes s from its scope's set in O(1); b.mu must be held for writing.
func (b *Local) detach(s *Subscription) {
	s.closed = true
	subs := b.scopes[s.scope]
	last := len(subs) - 1
	if s.idx <= last && subs[s.idx] == s {
		subs[s.idx] = subs[last]
		subs[s.idx].idx = s.idx
		subs[last] = nil
		subs = subs[:last]
	}
	if len(subs) == 0 {
		delete(b.scopes, s.scope)
	} else {
		b.scopes[s.scope] = subs
	}
}

// Close ends every subscription with ErrClosed.
func (b *Local) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	var stops []func() bool
	err := ErrClosed
	for scope, subs := range b.scopes {
		for _, s := range subs {
			s.closed = true
			s.err.Store(&err)
			s.closeChannel()
			stops = append(stops, s.stop)
		}
		delete(b.scopes, scope)
	}
	b.mu.Unlock()
	for _, stop := range stops {
		if stop != nil {
			stop()
		}
	}
	return nil
}

// Subscribers returns the number of current subscribers of scope (tests, metrics).
func (b *Local) Subscribers(scope string) int {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return len(b.scopes[scope])
}

// Stats are a Local's lifetime counters.
type Stats struct {
	// Published counts Publish calls, Delivered the messages handed to subscribers,
	// Dropped the subscribers dropped for being too slow.
	Published, Delivered, Dropped int64
}

// Stats returns the lifetime counters.
func (b *Local) Stats() Stats {
	return Stats{Published: b.published.Load(), Delivered: b.delivered.Load(), Dropped: b.dropped.Load()}
}
