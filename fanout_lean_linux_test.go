package main

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"syscall"
	"time"
)

// The lean fan-out clients: graphql-transport-ws over WebSocket, written for the
// measurement alone. The fan-out benchmark's clients share the gateway's two cores, and a
// client goroutine per socket (coder/websocket's reader) spends about as much CPU per
// delivery as the gateway does, so the figure would be half the clients'. These dial
// and subscribe like any client (HTTP upgrade, masked frames, connection_init, wait for
// connection_ack, subscribe), then leave Go's network poller: one thread waits on an
// epoll set of every socket and reads what is ready, parsing the frames (several per
// read, or one across reads), answering pings, and timestamping each event when the
// read that completed it returns.

// leanClient is one connection's state on the epoll thread.
type leanClient struct {
	fd    int
	buf   []byte // bytes of an incomplete frame
	count int    // events received
}

// runLeanFanoutClients is runFanoutClients with lean clients: it dials n connections to
// the WebSocket endpoint wsURL, subscribes each with subscribe (a graphql-transport-ws
// subscribe message), then reports through c as the coder/websocket clients do.
func runLeanFanoutClients(wsURL string, n int, subscribe []byte, c *fanoutClients) (stop func(), err error) {
	fds := make([]int, n)
	if err := dialAll(n, func(i int) (err error) {
		fds[i], err = dialLean(wsURL, subscribe)
		return err
	}); err != nil {
		for _, fd := range fds {
			if fd > 0 {
				_ = syscall.Close(fd)
			}
		}
		return nil, err
	}

	ep, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	var quit [2]int
	if err := syscall.Pipe2(quit[:], syscall.O_CLOEXEC|syscall.O_NONBLOCK); err != nil {
		return nil, err
	}
	clients := make([]*leanClient, n)
	for i, fd := range fds {
		clients[i] = &leanClient{fd: fd}
		ev := syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: int32(i)}
		if err := syscall.EpollCtl(ep, syscall.EPOLL_CTL_ADD, fd, &ev); err != nil {
			return nil, err
		}
	}
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: -1}
	if err := syscall.EpollCtl(ep, syscall.EPOLL_CTL_ADD, quit[0], &ev); err != nil {
		return nil, err
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.leanLoop(ep, clients)
	}()
	return func() {
		c.closing.Store(true)
		_, _ = syscall.Write(quit[1], []byte{1})
		<-done
		for _, cl := range clients {
			_ = syscall.Close(cl.fd)
		}
		_ = syscall.Close(ep)
		_ = syscall.Close(quit[0])
		_ = syscall.Close(quit[1])
	}, nil
}

// leanLoop reads every ready socket until the quit pipe is readable.
func (c *fanoutClients) leanLoop(ep int, clients []*leanClient) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	events := make([]syscall.EpollEvent, 256)
	buf := make([]byte, 64<<10)
	for {
		k, err := syscall.EpollWait(ep, events, -1)
		if err != nil {
			if errors.Is(err, syscall.EINTR) {
				continue
			}
			fmt.Fprintln(os.Stderr, "fanout clients: epoll_wait:", err)
			return
		}
		for _, ev := range events[:k] {
			if ev.Fd < 0 {
				return
			}
			cl := clients[ev.Fd]
			for {
				r, err := syscall.Read(cl.fd, buf)
				if errors.Is(err, syscall.EINTR) {
					continue
				}
				if r <= 0 {
					if r == 0 || !errors.Is(err, syscall.EAGAIN) {
						if !c.closing.Load() {
							fmt.Fprintf(os.Stderr, "fanout client %d: connection ended (%v)\n", ev.Fd, err)
						}
						_ = syscall.EpollCtl(ep, syscall.EPOLL_CTL_DEL, cl.fd, nil)
					}
					break
				}
				c.leanFrames(int(ev.Fd), cl, buf[:r], time.Now().UnixNano())
				if r < len(buf) {
					break // the socket is drained (level-triggered epoll says so again otherwise)
				}
			}
		}
	}
}

// leanFrames parses what one read brought to client i.
func (c *fanoutClients) leanFrames(i int, cl *leanClient, data []byte, now int64) {
	if len(cl.buf) > 0 {
		cl.buf = append(cl.buf, data...)
		data = cl.buf
	}
	for {
		opcode, payload, rest, ok := serverFrame(data)
		if !ok {
			break
		}
		data = rest
		switch opcode {
		case 0x1: // text: a graphql-transport-ws message
			switch {
			case bytes.Contains(payload, []byte(`"type":"next"`)):
				if bytes.Contains(payload, []byte(`"errors"`)) {
					c.errors.Add(1)
				}
				if cl.count < fanoutMaxEvents {
					e := c.event(cl.count)
					e.recv[i] = now
					if e.got.Add(1) == int64(c.n) {
						c.done <- cl.count
					}
				}
				cl.count++
			case bytes.Contains(payload, []byte(`"type":"ping"`)):
				_, _ = syscall.Write(cl.fd, clientFrame(0x1, []byte(`{"type":"pong"}`)))
			}
		case 0x9: // a WebSocket ping
			_, _ = syscall.Write(cl.fd, clientFrame(0xA, payload))
		case 0x8:
			if !c.closing.Load() {
				fmt.Fprintf(os.Stderr, "fanout client %d: closed by the gateway: %q\n", i, payload)
			}
		}
	}
	cl.buf = append(cl.buf[:0], data...)
}

// serverFrame splits the first complete frame off b (a server's frames are unmasked; the
// gateway sends no fragmented ones).
func serverFrame(b []byte) (opcode byte, payload, rest []byte, ok bool) {
	if len(b) < 2 {
		return 0, nil, b, false
	}
	opcode = b[0] & 0x0f
	l, h := uint64(b[1]&0x7f), 2
	switch l {
	case 126:
		if len(b) < 4 {
			return 0, nil, b, false
		}
		l, h = uint64(binary.BigEndian.Uint16(b[2:])), 4
	case 127:
		if len(b) < 10 {
			return 0, nil, b, false
		}
		l, h = binary.BigEndian.Uint64(b[2:]), 10
	}
	if uint64(len(b)-h) < l {
		return 0, nil, b, false
	}
	end := h + int(l)
	return opcode, b[h:end], b[end:], true
}

// clientFrame is one masked frame (RFC 6455 §5.3: every client frame is masked).
func clientFrame(opcode byte, payload []byte) []byte {
	var key [4]byte
	_, _ = rand.Read(key[:])
	f := []byte{0x80 | opcode}
	switch l := len(payload); {
	case l < 126:
		f = append(f, 0x80|byte(l))
	case l <= 0xffff:
		f = append(f, 0x80|126, byte(l>>8), byte(l))
	default:
		f = append(f, 0x80|127)
		f = binary.BigEndian.AppendUint64(f, uint64(l))
	}
	f = append(f, key[:]...)
	for i, b := range payload {
		f = append(f, b^key[i%4])
	}
	return f
}

// dialLean connects to wsURL, upgrades, initializes graphql-transport-ws, sends subscribe
// and returns the socket's descriptor, non-blocking, outside Go's network poller.
func dialLean(wsURL string, subscribe []byte) (int, error) {
	u, err := url.Parse(wsURL)
	if err != nil {
		return 0, err
	}
	var conn net.Conn
	for attempt := range 5 { // a full accept backlog refuses a few dials: retry those
		conn, err = net.DialTimeout("tcp", u.Host, 10*time.Second)
		if err == nil {
			break
		}
		time.Sleep(time.Duration(attempt+1) * 50 * time.Millisecond)
	}
	if err != nil {
		return 0, err
	}
	defer conn.Close() // the descriptor returned is a duplicate
	_ = conn.SetDeadline(time.Now().Add(time.Minute))
	var key [16]byte
	_, _ = rand.Read(key[:])
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: %s\r\n\r\n",
		u.RequestURI(), u.Host, base64.StdEncoding.EncodeToString(key[:]), protoTransportWS)
	br := bufio.NewReader(conn)
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		return 0, err
	}
	if res.StatusCode != http.StatusSwitchingProtocols || res.Header.Get("Sec-WebSocket-Protocol") != protoTransportWS {
		return 0, fmt.Errorf("upgrade answered %s, subprotocol %q", res.Status, res.Header.Get("Sec-WebSocket-Protocol"))
	}
	if _, err := conn.Write(clientFrame(0x1, []byte(`{"type":"connection_init","payload":{}}`))); err != nil {
		return 0, err
	}
	for {
		msg, err := readServerFrame(br)
		if err != nil {
			return 0, err
		}
		if bytes.Contains(msg, []byte(`"connection_ack"`)) {
			break
		}
	}
	if _, err := conn.Write(clientFrame(0x1, subscribe)); err != nil {
		return 0, err
	}
	if br.Buffered() > 0 {
		return 0, errors.New("the gateway sent something before any event")
	}
	raw, err := conn.(*net.TCPConn).SyscallConn()
	if err != nil {
		return 0, err
	}
	fd := -1
	var dupErr error
	if err := raw.Control(func(s uintptr) { fd, dupErr = syscall.Dup(int(s)) }); err != nil {
		return 0, err
	}
	if dupErr != nil {
		return 0, dupErr
	}
	syscall.CloseOnExec(fd)
	if err := syscall.SetNonblock(fd, true); err != nil {
		_ = syscall.Close(fd)
		return 0, err
	}
	return fd, nil
}

// readServerFrame reads one whole frame during the handshake (a frame larger than br's
// buffer is an error: the handshake's are a few dozen bytes).
func readServerFrame(br *bufio.Reader) ([]byte, error) {
	for n := 2; ; n++ {
		b, err := br.Peek(max(n, br.Buffered()))
		if err != nil {
			return nil, err
		}
		if _, payload, rest, ok := serverFrame(b); ok {
			msg := bytes.Clone(payload)
			_, err := br.Discard(len(b) - len(rest))
			return msg, err
		}
		n = len(b)
	}
}
