package stream

import (
	"bufio"
	"bytes"
	"net"
	"strings"
	"sync"
	"testing"

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
			bw := &batchWriter{conn: conn}
			w := bufio.NewWriterSize(bw, writeBufferSize) // what coder/websocket writes to
			if tc.hold {
				bw.hold()
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
	bw := &batchWriter{conn: conn}
	bw.hold()
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
