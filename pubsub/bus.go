package pubsub

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
)

// DefaultBuffer is the number of messages a subscriber may fall behind by before it is
// dropped, when Subscribe is given no buffer size.
const DefaultBuffer = 64

// Filter selects the messages a subscriber wants. It runs on the publisher's goroutine,
// once per message and subscriber, so it must be cheap and must not block.
type Filter func(*Message) bool

// Bus carries Messages from the webhook receiver to GraphQL subscriptions, per scope
// (the workspace's tenant scope). Implementations must honour three promises:
//
//   - Publish never blocks on subscribers: a subscriber whose buffer is full is dropped
//     (its channel closed, its Err set), never waited for.
//   - A subscription's channel closes exactly once: when its context ends, when it is
//     Closed, when it is dropped or when the bus closes.
//   - Every goroutine a subscription needs ends with it.
//
// Messages are plain, JSON-serializable data, so a Bus backed by Redis pub/sub can
// satisfy this interface: its Publish would marshal the message onto a channel named
// after the scope, and one receiving goroutine per process would hand what arrives to a
// Local for the in-process fan-out.
type Bus interface {
	// Publish delivers m to the current subscribers of m.Scope whose filter accepts it.
	// Subscribers must treat the delivered *Message as read-only: it is shared.
	Publish(ctx context.Context, m Message) error
	// Subscribe registers a subscriber of scope. The subscription ends when ctx ends.
	// buffer <= 0 means DefaultBuffer; a nil filter accepts every message.
	Subscribe(ctx context.Context, scope string, filter Filter, buffer int) (*Subscription, error)
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

// Local is the in-process Bus: per-scope subscriber sets, fan-out by non-blocking sends
// on the publisher's goroutine. It starts no goroutine per message nor per subscriber
// (a subscription's context is watched with context.AfterFunc, whose function runs only
// once that context is done).
type Local struct {
	mu     sync.RWMutex
	scopes map[string][]*Subscription
	closed bool

	published, delivered, dropped atomic.Int64
}

// NewLocal returns an empty in-process bus.
func NewLocal() *Local {
	return &Local{scopes: make(map[string][]*Subscription)}
}

var _ Bus = (*Local)(nil)

// Publish fans m out to the subscribers of m.Scope. It holds a read lock while it sends,
// so concurrent publishers proceed in parallel; a full subscriber is marked, then
// removed (and its channel closed) once the read lock is released.
func (b *Local) Publish(_ context.Context, m Message) error {
	msg := &m
	var full []*Subscription
	b.mu.RLock()
	if b.closed {
		b.mu.RUnlock()
		return ErrClosed
	}
	for _, s := range b.scopes[m.Scope] {
		if s.filter != nil && !s.filter(msg) {
			continue
		}
		if s.dropping.Load() {
			s.missed.Add(1)
			continue
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
		b.remove(s, func() error { return &DroppedError{Dropped: int(s.missed.Load()), Buffer: cap(s.c)} })
	}
	return nil
}

// Subscribe registers a subscriber of scope; see Bus.
func (b *Local) Subscribe(ctx context.Context, scope string, filter Filter, buffer int) (*Subscription, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if buffer <= 0 {
		buffer = DefaultBuffer
	}
	c := make(chan *Message, buffer)
	s := &Subscription{C: c, c: c, filter: filter, scope: scope}
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
	close(s.c)
	stop := s.stop
	b.mu.Unlock()
	if stop != nil {
		stop()
	}
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
			close(s.c)
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
