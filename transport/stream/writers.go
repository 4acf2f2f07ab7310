package stream

import "sync"

// writerPool writes for WebSocket connections that have something to send, with at most
// max goroutines, started when work arrives and ended when none is left.
//
// One webhook to 10,000 subscribers makes 10,000 connections writable at once. A
// goroutine started per connection (the writer of its own) costs its creation, a stack
// and a trip through the scheduler each, for a write that the kernel takes at once
// nearly always; the pool's goroutines instead take the connections in turn and write
// each with one write that never waits (batchWriter.tryRelease). A connection whose
// socket does not take everything (a slow reader, a full buffer), or that is closing,
// is handed to a goroutine of its own, which may wait; so no connection ever holds up
// the others.
type writerPool struct {
	max int

	mu      sync.Mutex
	queue   []*wsConn
	next    int // queue[next:] are waiting
	running int
}

func newWriterPool(max int) *writerPool { return &writerPool{max: max} }

// schedule queues c for a round (c.writing is set: c is queued at most once).
func (p *writerPool) schedule(c *wsConn) {
	p.mu.Lock()
	p.queue = append(p.queue, c)
	start := p.running < p.max
	if start {
		p.running++
	}
	p.mu.Unlock()
	if start {
		go p.run()
	}
}

// poolBatch is how many connections a pool goroutine takes per lock.
const poolBatch = 32

// run writes queued connections until the queue is empty.
func (p *writerPool) run() {
	var batch [poolBatch]*wsConn
	for {
		p.mu.Lock()
		n := copy(batch[:], p.queue[p.next:])
		if n == 0 {
			p.running--
			if cap(p.queue) > 4096 {
				p.queue = nil // a burst's queue is not kept for the quiet that follows
			}
			p.mu.Unlock()
			return
		}
		clear(p.queue[p.next : p.next+n])
		p.next += n
		if p.next == len(p.queue) {
			p.queue, p.next = p.queue[:0], 0
		}
		p.mu.Unlock()
		for i, c := range batch[:n] {
			batch[i] = nil
			c.flushShared()
		}
	}
}
