package stream

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLeanHijackerKeepsWhatNetHTTPBuffered: a client may send its first WebSocket message
// in the same packet as the upgrade request; net/http has then read it into its own
// buffer, and the smaller buffer handed to coder/websocket must start with it.
func TestLeanHijackerKeepsWhatNetHTTPBuffered(t *testing.T) {
	got := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, brw, err := (&leanHijacker{ResponseWriter: w}).Hijack()
		if err != nil {
			got <- "hijack: " + err.Error()
			return
		}
		defer conn.Close()
		assert.Equal(t, readBufferSize, brw.Reader.Size())
		assert.Equal(t, writeBufferSize, brw.Writer.Size())
		buf := make([]byte, len("early bytes|later bytes"))
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, err = io.ReadFull(brw.Reader, buf)
		if err != nil {
			got <- "read: " + err.Error()
			return
		}
		got <- string(buf)
	}))
	defer srv.Close()

	conn, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
	require.NoError(t, err)
	defer conn.Close()
	_, err = io.WriteString(conn, "GET / HTTP/1.1\r\nHost: x\r\n\r\nearly bytes|")
	require.NoError(t, err)
	_, err = io.WriteString(conn, "later bytes")
	require.NoError(t, err)
	select {
	case s := <-got:
		assert.Equal(t, "early bytes|later bytes", s)
	case <-time.After(5 * time.Second):
		t.Fatal("the handler read nothing")
	}
}

func TestCloseReasonFitsAControlFrame(t *testing.T) {
	assert.Equal(t, "short", closeReasonText("short"))
	long := closeReasonText(strings.Repeat("x", 200))
	assert.LessOrEqual(t, len(long), 123)
	assert.True(t, strings.HasSuffix(long, "..."))
}

func TestDecodeQuery(t *testing.T) {
	req, err := decodeQuery(map[string][]string{"query": {"{ a }"}, "operationName": {"A"}, "variables": {`{"n":12345678901234567890}`}})
	require.NoError(t, err)
	assert.Equal(t, "{ a }", req.Query)
	assert.Equal(t, "A", req.OperationName)
	assert.Equal(t, "12345678901234567890", req.Variables["n"].(interface{ String() string }).String(), "numbers stay exact")
	_, err = decodeQuery(map[string][]string{"query": {"{ a }"}, "variables": {`[1]`}})
	assert.EqualError(t, err, "variables must be a JSON object")
}
