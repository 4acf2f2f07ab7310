package stream

import (
	"context"
	"sync"

	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/livestorm-gateway/gateway/subscription"
)

// outbox is what one stream (a WebSocket, an SSE response, a multipart response) has to
// write: control messages in order, and the operations whose hub members have events to
// take. Producers (the reader, the hub's groups, single-result goroutines) fill it
// without blocking; exactly one writer drains it. No producer may call the hub while
// holding the outbox's lock (the hub calls markPending while holding its own).
type outbox struct {
	framing framing

	mu      sync.Mutex
	ops     map[string]*op
	frames  [][]byte // control messages, in order
	pending []*op    // operations with events to take
	closing *closeReason
	// wake is signalled when there is something to write (writers that wait for work);
	// kick, when set, is called instead (writers started on demand).
	wake chan struct{}
	kick func()

	// Writer-owned buffers, swapped with frames and pending on every drain.
	wFrames  [][]byte
	wPending []*op
	msg      []byte
}

// framing encodes a protocol's messages.
type framing interface {
	// event returns what goes before and after an event's payload (a serialized
	// graphql.Response) for operation id.
	event(id string) (prefix, suffix []byte)
	// complete is the message saying operation id is done (nil when the protocol ends
	// a stream by ending the response).
	complete(id string) []byte
	// ended is the last event of an operation the gateway ended (too slow, shutdown).
	ended(o *op, err *gqlerror.Error) []byte
}

// op is one operation of a stream.
type op struct {
	id             string
	prefix, suffix []byte
	// Guarded by outbox.mu.
	member *subscription.Member // subscriptions
	stop   context.CancelFunc   // single-result operations
	queued bool                 // in outbox.pending
	// Writer-owned.
	buf [][]byte
}

func newOutbox(f framing) *outbox {
	return &outbox{framing: f, ops: map[string]*op{}, wake: make(chan struct{}, 1)}
}

// newOp returns an operation framed for this outbox (not registered yet).
func (b *outbox) newOp(id string) *op {
	prefix, suffix := b.framing.event(id)
	return &op{id: id, prefix: prefix, suffix: suffix}
}

// register adds o; false if its id is in use (the caller decides what that means).
func (b *outbox) register(o *op) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ops[o.id] != nil || b.closing != nil {
		return false
	}
	b.ops[o.id] = o
	return true
}

// lookup returns the operation registered under id.
func (b *outbox) lookup(id string) *op {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.ops[id]
}

// attach gives a registered o its hub member; false (and the member left) if o ended
// meanwhile.
func (b *outbox) attach(o *op, m *subscription.Member) bool {
	b.mu.Lock()
	live := b.ops[o.id] == o
	if live {
		o.member = m
	}
	b.mu.Unlock()
	if !live {
		m.Leave()
		return false
	}
	b.markPending(o) // what Join queued already (an error), if anything
	return true
}

// setStop records how to cancel a single-result operation.
func (b *outbox) setStop(o *op, stop context.CancelFunc) {
	b.mu.Lock()
	o.stop = stop
	b.mu.Unlock()
}

// remove unregisters id and releases what its operation holds; unknown ids are ignored.
func (b *outbox) remove(id string) {
	b.mu.Lock()
	o := b.ops[id]
	delete(b.ops, id)
	b.mu.Unlock()
	if o != nil {
		o.release()
	}
}

// drop unregisters o; false if it was no longer registered.
func (b *outbox) drop(o *op) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ops[o.id] != o {
		return false
	}
	delete(b.ops, o.id)
	return true
}

// release ends what an unregistered operation holds.
func (o *op) release() {
	if o.member != nil {
		o.member.Leave()
	}
	if o.stop != nil {
		o.stop()
	}
}

// len is the number of registered operations.
func (b *outbox) len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.ops)
}

// queue appends control messages.
func (b *outbox) queue(frames ...[]byte) {
	b.mu.Lock()
	b.frames = append(b.frames, frames...)
	b.mu.Unlock()
	b.signal()
}

// queueFor appends a message of o unless o has ended.
func (b *outbox) queueFor(o *op, frame []byte) {
	b.mu.Lock()
	if b.ops[o.id] == o {
		b.frames = append(b.frames, frame)
	}
	b.mu.Unlock()
	b.signal()
}

// event frames payload as an event of o.
func (o *op) event(payload []byte) []byte {
	b := make([]byte, 0, len(o.prefix)+len(payload)+len(o.suffix))
	return append(append(append(b, o.prefix...), payload...), o.suffix...)
}

// markPending tells the writer o has events to take (the hub's notify).
func (b *outbox) markPending(o *op) {
	b.mu.Lock()
	if !o.queued {
		o.queued = true
		b.pending = append(b.pending, o)
	}
	b.mu.Unlock()
	b.signal()
}

func (b *outbox) signal() {
	if b.kick != nil {
		b.kick()
		return
	}
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// hasWork says whether a drain would write anything (or close).
func (b *outbox) hasWork() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.frames) > 0 || len(b.pending) > 0 || b.closing != nil
}

// closeAfter has the writer write what is queued plus frame (if any), then close with
// reason.
func (b *outbox) closeAfter(frame []byte, reason closeReason) {
	b.mu.Lock()
	if b.closing == nil {
		if frame != nil {
			b.frames = append(b.frames, frame)
		}
		b.closing = &reason
	}
	b.mu.Unlock()
	b.signal()
}

// shutdown ends every operation with err as its last event (then complete) and has the
// writer close with reason once that is written.
func (b *outbox) shutdown(err *gqlerror.Error, reason closeReason) {
	b.mu.Lock()
	if b.closing != nil {
		b.mu.Unlock()
		return
	}
	ops := make([]*op, 0, len(b.ops))
	for id, o := range b.ops {
		ops = append(ops, o)
		b.frames = append(b.frames, b.framing.ended(o, err))
		if c := b.framing.complete(id); c != nil {
			b.frames = append(b.frames, c)
		}
		delete(b.ops, id)
	}
	b.closing = &reason
	b.mu.Unlock()
	for _, o := range ops {
		o.release()
	}
	b.signal()
}

// closeAll unregisters and releases every operation (the stream is gone).
func (b *outbox) closeAll() {
	b.mu.Lock()
	ops := make([]*op, 0, len(b.ops))
	for id, o := range b.ops {
		ops = append(ops, o)
		delete(b.ops, id)
	}
	b.pending = nil
	b.mu.Unlock()
	for _, o := range ops {
		o.release()
	}
}

// drain writes, with write, the queued control messages and then every pending
// operation's events (and the end of those whose stream ended). It returns false when a
// write failed, and the close reason once the stream must close.
func (b *outbox) drain(write func([]byte) bool) (ok bool, closing *closeReason) {
	b.mu.Lock()
	clear(b.wFrames)
	b.wFrames, b.frames = b.frames, b.wFrames[:0]
	clear(b.wPending)
	b.wPending, b.pending = b.pending, b.wPending[:0]
	for _, o := range b.wPending {
		o.queued = false
	}
	closing = b.closing
	b.mu.Unlock()

	for _, f := range b.wFrames {
		if !write(f) {
			return false, closing
		}
	}
	for _, o := range b.wPending {
		b.mu.Lock()
		m := o.member
		if b.ops[o.id] != o {
			m = nil // ended by the client or by shutdown
		}
		b.mu.Unlock()
		if m == nil {
			continue
		}
		events, ended, end := m.Take(o.buf)
		for _, e := range events {
			b.msg = append(append(append(b.msg[:0], o.prefix...), e...), o.suffix...)
			if !write(b.msg) {
				return false, closing
			}
		}
		o.buf = events
		if !ended {
			continue
		}
		if b.drop(o) {
			if end.Err != nil && !write(b.framing.ended(o, end.Err)) {
				return false, closing
			}
			if c := b.framing.complete(o.id); c != nil && !write(c) {
				return false, closing
			}
		}
		m.Leave()
	}
	if cap(b.msg) > 64<<10 {
		b.msg = nil // do not keep one large event's buffer for an idle stream
	}
	return true, closing
}
