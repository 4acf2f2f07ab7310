package stream

import (
	"encoding/binary"
	"errors"
	"net"
	"sync"
	"syscall"
)

// batchWriter is the socket under coder/websocket's bufio.Writer, and where the
// connection's writer puts the data frames it frames itself.
//
// coder/websocket flushes its buffer at the end of every message, so without it each
// message is one write syscall (and one more per full buffer), however many the writer
// has to send at once. While the connection's writer drains the outbox (hold … release),
// batchWriter keeps what is written and sends it in one write when the drain ends:
// several events queued for a connection (a burst of webhooks, control messages and an
// event, a keep-alive) cost one syscall, and the bufio buffer can be small, since a
// message larger than it costs no extra syscall either.
//
// Writes from other goroutines (coder/websocket's pong and close frames) go through the
// same mutex, after what is held, so bytes reach the socket in the order they were
// written.
//
// tryRelease is release for the shared writers (writerPool): it never waits for the
// socket. What the kernel does not take at once stays held, in order, for a blocking
// release by a goroutine of the connection's own.
type batchWriter struct {
	conn net.Conn
	// raw is conn's file descriptor, for tryRelease; nil when conn has none (a wrapped
	// or TLS connection), and then only release is used.
	raw syscall.RawConn

	mu     sync.Mutex
	held   *[]byte // non-nil while holding
	noWait bool    // holding for tryRelease: nothing is written before it
	sealed bool    // a close frame is on its way: no more data frames
}

// newBatchWriter returns the batchWriter of conn.
func newBatchWriter(conn net.Conn) *batchWriter {
	w := &batchWriter{conn: conn}
	if sc, ok := conn.(syscall.Conn); ok {
		if raw, err := sc.SyscallConn(); err == nil {
			w.raw = raw
		}
	}
	return w
}

// batchMax bounds what a drain holds: past it, what is held is written at once (one
// connection never holds more than about this much beyond its queue).
const batchMax = 64 << 10

// batchBuffers are the buffers of connections that are holding: an idle connection has
// none.
var batchBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 2<<10); return &b }}

var (
	// errSealed is what frame returns once the connection is closing.
	errSealed = errors.New("the connection is closing")
	// errNotHolding is what frame returns outside a round (a bug, not a panic).
	errNotHolding = errors.New("a data frame outside a writer's round")
)

// Write sends p, or keeps it while holding.
func (w *batchWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.held == nil {
		return w.conn.Write(p)
	}
	if err := w.makeRoom(len(p)); err != nil {
		return 0, err
	}
	if len(p) > batchMax && !w.noWait {
		return w.conn.Write(p)
	}
	*w.held = append(*w.held, p...)
	return len(p), nil
}

// frame adds payload as one unfragmented, unmasked text frame (RFC 6455 §5.2: what a
// server sends) to what is held. coder/websocket's own Write would do the same behind
// two channel locks, a context check and a flush per message, a sixth of the writer's
// CPU when one event goes to thousands of sockets; it keeps the handshake, the reads,
// the control frames and the close handshake. The writer must be holding.
func (w *batchWriter) frame(payload []byte) error {
	var header [10]byte
	header[0] = 0x80 | 0x1 // FIN, text
	n := 2
	switch l := len(payload); {
	case l < 126:
		header[1] = byte(l)
	case l <= 0xffff:
		header[1] = 126
		binary.BigEndian.PutUint16(header[2:], uint16(l))
		n = 4
	default:
		header[1] = 127
		binary.BigEndian.PutUint64(header[2:], uint64(l))
		n = 10
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.sealed {
		return errSealed
	}
	if w.held == nil {
		return errNotHolding
	}
	if err := w.makeRoom(n + len(payload)); err != nil {
		return err
	}
	*w.held = append(append(*w.held, header[:n]...), payload...)
	return nil
}

// makeRoom writes what is held first when adding n bytes would take it past batchMax
// (w.mu held, holding), unless the holder must not wait for the socket: then what is
// held may grow past batchMax (by what the connection's queue holds anyway).
func (w *batchWriter) makeRoom(n int) error {
	if len(*w.held)+n > batchMax && !w.noWait {
		return w.writeHeld()
	}
	return nil
}

// seal refuses data frames from now on: the connection sends its close frame next.
func (w *batchWriter) seal() {
	w.mu.Lock()
	w.sealed = true
	w.mu.Unlock()
}

// hold makes Write keep what it is given until release. noWait: until tryRelease, which
// the holder calls without waiting for the socket, so nothing is written before it.
func (w *batchWriter) hold(noWait bool) {
	w.mu.Lock()
	if w.held == nil {
		w.held = batchBuffers.Get().(*[]byte)
	}
	w.noWait = noWait
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
	w.stopHolding()
	return err
}

// tryRelease writes what is held with one write that does not wait for the socket.
// done: everything went and holding stopped; otherwise the rest is still held (and so
// is whatever is written meanwhile, after it) for release. w.raw must be set.
func (w *batchWriter) tryRelease() (done bool, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.held == nil {
		return true, nil
	}
	b := *w.held
	if len(b) > 0 {
		var n int
		var werr error
		err := w.raw.Write(func(fd uintptr) bool {
			for {
				n, werr = syscall.Write(int(fd), b)
				if werr != syscall.EINTR {
					return true // one attempt: EAGAIN is answered by the caller, not by waiting
				}
			}
		})
		switch {
		case err != nil:
			return false, err
		case werr == syscall.EAGAIN:
			n = 0
		case werr != nil:
			return false, werr
		}
		if n < len(b) {
			*w.held = b[:copy(b, b[n:])]
			w.noWait = false // the rest goes to a release, which may wait
			return false, nil
		}
	}
	w.stopHolding()
	return true, nil
}

// stopHolding returns the buffer (w.mu held).
func (w *batchWriter) stopHolding() {
	if b := w.held; cap(*b) <= batchMax {
		*b = (*b)[:0]
		batchBuffers.Put(b)
	}
	w.held = nil
	w.noWait = false
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
