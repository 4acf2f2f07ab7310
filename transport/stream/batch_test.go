package stream

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	coderws "github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// countingConn records each Write it is given (one write syscall on a real socket).
type countingConn struct {
	net.Conn
	mu     sync.Mutex
	writes [][]byte
}

func (c *countingConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.writes = append(c.writes, bytes.Clone(p))
	return len(p), nil
}

func (c *countingConn) all() (n int, joined string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var b strings.Builder
	for _, w := range c.writes {
		b.Write(w)
	}
	return len(c.writes), b.String()
}

func TestBatchWriter(t *testing.T) {
	for _, tc := range []struct {
		name       string
		hold       bool
		messages   []string
		wantWrites int
	}{
		{name: "not holding: every flush is a write", messages: []string{"a", "b", "c"}, wantWrites: 3},
		{name: "holding: a drain of several messages is one write", hold: true, messages: []string{"a", "b", "c"}, wantWrites: 1},
		{name: "holding: a message larger than the bufio buffer is still one write", hold: true,
			messages: []string{strings.Repeat("x", 5*writeBufferSize) + "end"}, wantWrites: 1},
		{name: "holding: past batchMax what is held is written, at most batchMax at a time", hold: true,
			messages: []string{strings.Repeat("x", batchMax-10), strings.Repeat("y", 100), "z"}, wantWrites: 2},
		{name: "holding: a message larger than batchMax goes straight out", hold: true,
			messages: []string{"a", strings.Repeat("x", batchMax+1), "b"}, wantWrites: 3},
		{name: "holding nothing writes nothing", hold: true, wantWrites: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn := &countingConn{}
			bw := newBatchWriter(conn)
			w := bufio.NewWriterSize(bw, writeBufferSize) // what coder/websocket writes to
			if tc.hold {
				bw.hold(false)
			}
			for _, m := range tc.messages {
				_, err := w.Write([]byte(m)) // as coder/websocket writes a payload
				require.NoError(t, err)
				require.NoError(t, w.Flush()) // coder/websocket flushes every message
			}
			require.NoError(t, bw.release())
			n, joined := conn.all()
			assert.Equal(t, tc.wantWrites, n)
			assert.Equal(t, strings.Join(tc.messages, ""), joined, "every byte, in order")
			for _, wr := range conn.writes {
				if len(wr) > batchMax {
					assert.Contains(t, tc.messages, string(wr), "only a message larger than batchMax is written past it, alone")
				}
			}

			_, err := w.WriteString("after")
			require.NoError(t, err)
			require.NoError(t, w.Flush())
			n2, _ := conn.all()
			assert.Equal(t, n+1, n2, "after release, writes go straight to the socket")
		})
	}
}

// TestBatchWriterKeepsOrderAcrossGoroutines: a frame written by another goroutine while
// the writer holds (coder/websocket's pong, a close frame) goes after what is held.
func TestBatchWriterKeepsOrderAcrossGoroutines(t *testing.T) {
	conn := &countingConn{}
	bw := newBatchWriter(conn)
	bw.hold(false)
	_, err := bw.Write([]byte("first "))
	require.NoError(t, err)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = bw.Write([]byte("second "))
	}()
	<-done
	_, err = bw.Write([]byte("third"))
	require.NoError(t, err)
	require.NoError(t, bw.release())
	n, joined := conn.all()
	assert.Equal(t, 1, n)
	assert.Equal(t, "first second third", joined)
}

// TestFramesReadByAWebSocketClient: the data frames batchWriter frames itself are read
// by a real client (coder/websocket's), whatever the payload's length encoding (7-bit,
// 16-bit, 64-bit), several to one write, and one past batchMax while not waiting.
func TestFramesReadByAWebSocketClient(t *testing.T) {
	sizes := []int{0, 1, 125, 126, 127, 65535, 65536, batchMax + 4000}
	payload := func(i, n int) []byte { return bytes.Repeat([]byte{byte('a' + i)}, n) }
	served := make(chan error, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hj := &leanHijacker{ResponseWriter: w}
		ws, err := coderws.Accept(hj, r, nil)
		if err != nil {
			served <- err
			return
		}
		defer ws.CloseNow()
		require.NotNil(t, hj.batch.raw, "a TCP socket has a descriptor")
		hj.batch.hold(true)
		for i, n := range sizes {
			if err := hj.batch.frame(payload(i, n)); err != nil {
				served <- err
				return
			}
		}
		done, err := hj.batch.tryRelease()
		if err == nil && !done {
			err = hj.batch.release()
		}
		served <- err
		_, _, _ = ws.Read(r.Context()) // until the client closes
	}))
	defer srv.Close()

	ctx := t.Context()
	conn, _, err := coderws.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	require.NoError(t, err)
	defer conn.CloseNow()
	conn.SetReadLimit(1 << 20)
	for i, n := range sizes {
		typ, got, err := conn.Read(ctx)
		require.NoError(t, err, "frame %d (%d bytes)", i, n)
		assert.Equal(t, coderws.MessageText, typ)
		assert.Equal(t, payload(i, n), got, "frame %d (%d bytes)", i, n)
	}
	require.NoError(t, <-served)
}

// TestTryReleaseKeepsWhatTheSocketDidNotTake: against a socket whose buffers are full,
// tryRelease writes what the kernel takes, returns without waiting and keeps the rest;
// what is written next (a pong from coder/websocket's reader) goes after it, and release
// writes everything, in order, once the peer reads.
func TestTryReleaseKeepsWhatTheSocketDidNotTake(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	defer client.Close()
	server, err := ln.Accept()
	require.NoError(t, err)
	defer server.Close()
	require.NoError(t, server.(*net.TCPConn).SetWriteBuffer(4096))

	bw := newBatchWriter(server)
	require.NotNil(t, bw.raw)
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB: more than the socket's buffers hold
	bw.hold(true)
	_, err = bw.Write(big) // while not waiting, even past batchMax it is held
	require.NoError(t, err)
	start := time.Now()
	done, err := bw.tryRelease()
	require.NoError(t, err)
	require.False(t, done, "a 1 MiB write to a socket the peer does not read cannot complete at once")
	assert.Less(t, time.Since(start), time.Second, "tryRelease does not wait for the socket")

	got := make(chan []byte, 1)
	go func() {
		b, _ := io.ReadAll(client)
		got <- b
	}()
	_, err = bw.Write([]byte("|pong")) // waits behind the rest, now that the peer reads
	require.NoError(t, err)
	require.NoError(t, bw.release())
	require.NoError(t, server.Close())
	assert.Equal(t, append(big, "|pong"...), <-got, "every byte, in order")
}

// TestSealRefusesDataFrames: once the close frame is on its way, no data frame follows.
func TestSealRefusesDataFrames(t *testing.T) {
	conn := &countingConn{}
	bw := newBatchWriter(conn)
	bw.hold(false)
	require.NoError(t, bw.frame([]byte("before")))
	bw.seal()
	assert.ErrorIs(t, bw.frame([]byte("after")), errSealed)
	_, err := bw.Write([]byte("close frame")) // coder/websocket's own frames still go
	require.NoError(t, err)
	require.NoError(t, bw.release())
	_, joined := conn.all()
	assert.Equal(t, "\x81\x06beforeclose frame", joined)
	assert.ErrorIs(t, newBatchWriter(conn).frame([]byte("x")), errNotHolding, "outside a round: an error, not a panic")
}
