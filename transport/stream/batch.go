package stream

import (
	"net"
	"sync"
)

// batchWriter is the socket under coder/websocket's bufio.Writer. coder/websocket
// flushes its buffer at the end of every message, so without it each message is one
// write syscall (and one more per full buffer), however many the writer has to send at
// once. While the connection's writer drains the outbox (hold … release), batchWriter
// keeps what is flushed and sends it in one write when the drain ends: several events
// queued for a connection (a burst of webhooks, control messages and an event, a
// keep-alive) cost one syscall, and the bufio buffer can be small, since a message
// larger than it costs no extra syscall either.
//
// Writes from other goroutines (coder/websocket's pong and close frames) go through the
// same mutex, after what is held, so bytes reach the socket in the order they were
// written.
type batchWriter struct {
	conn net.Conn

	mu   sync.Mutex
	held *[]byte // non-nil while holding
}

// batchMax bounds what a drain holds: past it, what is held is written at once (one
// connection never holds more than about this much beyond its queue).
const batchMax = 64 << 10

// batchBuffers are the buffers of connections that are holding: an idle connection has
// none.
var batchBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 2<<10); return &b }}

// Write sends p, or keeps it while holding.
func (w *batchWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.held == nil {
		return w.conn.Write(p)
	}
	if len(*w.held)+len(p) > batchMax {
		if err := w.writeHeld(); err != nil {
			return 0, err
		}
		if len(p) > batchMax {
			return w.conn.Write(p)
		}
	}
	*w.held = append(*w.held, p...)
	return len(p), nil
}

// hold makes Write keep what it is given until release.
func (w *batchWriter) hold() {
	w.mu.Lock()
	if w.held == nil {
		w.held = batchBuffers.Get().(*[]byte)
	}
	w.mu.Unlock()
}

// release writes what is held, in one write, and stops holding.
func (w *batchWriter) release() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.held == nil {
		return nil
	}
	err := w.writeHeld()
	if b := w.held; cap(*b) <= batchMax {
		batchBuffers.Put(b)
	}
	w.held = nil
	return err
}

// writeHeld writes and empties what is held (w.mu held).
func (w *batchWriter) writeHeld() error {
	b := *w.held
	*w.held = b[:0]
	if len(b) == 0 {
		return nil
	}
	_, err := w.conn.Write(b)
	return err
}
