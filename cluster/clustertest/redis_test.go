package clustertest

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
)

// outcome records how Start ended a test: skipped, failed, or neither.
type outcome struct {
	testing.TB
	skipped, failed string
}

func (o *outcome) Helper()                   {}
func (o *outcome) TempDir() string           { return o.TB.TempDir() }
func (o *outcome) Cleanup(f func())          { o.TB.Cleanup(f) }
func (o *outcome) Skip(args ...any)          { o.skipped = fmt.Sprint(args...); runtime.Goexit() }
func (o *outcome) Fatal(args ...any)         { o.failed = fmt.Sprint(args...); runtime.Goexit() }
func (o *outcome) Fatalf(f string, a ...any) { o.failed = fmt.Sprintf(f, a...); runtime.Goexit() }

func start(t *testing.T) *outcome {
	o := &outcome{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		Start(o)
	}()
	<-done
	return o
}

// TestWithoutRedisServer: a machine without redis-server skips the Redis tests, unless
// REQUIRE_REDIS=1 (make test, CI), where that is a failure.
func TestWithoutRedisServer(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	t.Setenv("REQUIRE_REDIS", "")
	o := start(t)
	assert.Contains(t, o.skipped, "redis-server is not on PATH")
	assert.Empty(t, o.failed)

	t.Setenv("REQUIRE_REDIS", "1")
	o = start(t)
	assert.Empty(t, o.skipped)
	assert.Contains(t, o.failed, "REQUIRE_REDIS=1")
}

func TestStartStopRestart(t *testing.T) {
	s := Start(t)
	assert.True(t, ping(s.Addr))
	s.Stop()
	assert.False(t, ping(s.Addr))
	s.Restart()
	assert.True(t, ping(s.Addr), "again on the same port")
}
