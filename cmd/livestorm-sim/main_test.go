package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestInvalidFlags(t *testing.T) {
	tests := []struct {
		args []string
		flag string
	}{
		{[]string{"-size", "enormous"}, "-size"},
		{[]string{"-orgs", "0"}, "-orgs"},
		{[]string{"-interval-limit", "0"}, "-interval-limit"},
		{[]string{"-monthly-quota", "0"}, "-monthly-quota"},
		{[]string{"-latency", "-1s"}, "-latency"},
		{[]string{"-latency", "soon"}, "-latency"},
		{[]string{"-latency-jitter", "-1s"}, "-latency-jitter"},
		{[]string{"-fault-429", "1.5"}, "-fault-429"},
		{[]string{"-fault-5xx", "-0.1"}, "-fault-5xx"},
		{[]string{"-fault-timeout", "0.6", "-fault-truncated", "0.6"}, "-fault-"},
		{[]string{"-fault-malformed", "2"}, "-fault-malformed"},
		{[]string{"-clock-speed", "0"}, "-clock-speed"},
		{[]string{"-webhook-time-scale", "-1"}, "-webhook-time-scale"},
		{[]string{"-webhook-secret", ""}, "-webhook-secret"},
		{[]string{"-activity-registration-every", "0s"}, "-activity-registration-every"},
		{[]string{"-activity-session-cycle", "0s"}, "-activity-session-cycle"},
		{[]string{"-seed", "0"}, "-seed"},
		{[]string{"-no-such-flag"}, "no-such-flag"},
		{[]string{"extra"}, "extra"},
	}
	for _, tc := range tests {
		t.Run(tc.flag, func(t *testing.T) {
			err := run(context.Background(), tc.args, io.Discard, io.Discard)
			var ue *usageError
			require.True(t, errors.As(err, &ue), "usage error (exit code 2), got %v", err)
			assert.Contains(t, err.Error(), tc.flag)
		})
	}
}

// syncBuffer is a bytes.Buffer safe for the concurrent writes of run and
// reads of the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestRunServesUntilCancelled(t *testing.T) {
	tokens := filepath.Join(t.TempDir(), "tokens.json")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-size", "tiny", "-orgs", "3", "-tokens-out", tokens,
			"-clock-speed", "60", "-activity", "-activity-registration-every", "10ms", "-activity-session-cycle", "100ms"}, &stdout, io.Discard)
	}()
	require.Eventually(t, func() bool { _, err := os.Stat(tokens); return err == nil }, 10*time.Second, 5*time.Millisecond)

	data, err := os.ReadFile(tokens)
	require.NoError(t, err)
	var entries []map[string]string
	require.NoError(t, json.Unmarshal(data, &entries))
	require.Len(t, entries, 3)
	assert.Equal(t, "Acme Webinars", entries[0]["name"])
	assert.NotEmpty(t, entries[0]["organization_id"])

	base := regexp.MustCompile(`http://\S+/v1`).FindString(stdout.String())
	require.NotEmpty(t, base, stdout.String())
	assert.Contains(t, stdout.String(), "read-only API token")
	assert.Contains(t, stdout.String(), "OAuth token")
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	req, _ := http.NewRequest(http.MethodGet, base+"/ping", nil)
	req.Header.Set("Authorization", entries[0]["token"])
	resp, err := (&http.Client{Transport: tr}).Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return after cancellation")
	}
	assert.Contains(t, stdout.String(), "shutting down")
}
