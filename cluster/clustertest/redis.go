// Package clustertest runs a real redis-server for tests: on a free loopback port, in a
// temporary directory, without persistence, stopped at the end of the test.
//
// When redis-server is not installed the tests that need it are skipped, unless
// REQUIRE_REDIS=1 (set by `make test` and CI, which install it): then they fail, so CI
// never passes by skipping them.
package clustertest

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Server is one redis-server process.
type Server struct {
	// Addr is host:port; URL the redis:// URL of database 0.
	Addr string
	URL  string

	t    testing.TB
	path string
	dir  string
	port int

	mu     sync.Mutex
	cmd    *exec.Cmd
	out    *bytes.Buffer
	exited chan error // receives the process's exit, once
}

// Start starts redis-server for the test t, or skips t (fails it with REQUIRE_REDIS=1)
// when redis-server is not on PATH. The server is stopped when t ends.
func Start(t testing.TB) *Server {
	t.Helper()
	path, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("REQUIRE_REDIS") == "1" {
			t.Fatal("redis-server is not on PATH and REQUIRE_REDIS=1: install it (apt-get install redis-server)")
		}
		t.Skip("redis-server is not on PATH (apt-get install redis-server); REQUIRE_REDIS=1 makes this a failure")
	}
	s := &Server{t: t, path: path, dir: t.TempDir()}
	var lastErr error
	for range 5 { // the free port may be taken between choosing and binding it
		s.port = freePort(t)
		if lastErr = s.start(); lastErr == nil {
			break
		}
	}
	if lastErr != nil {
		t.Fatalf("redis-server did not start: %v", lastErr)
	}
	s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port))
	s.URL = "redis://" + s.Addr + "/0"
	t.Cleanup(s.Stop)
	return s
}

func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("no free port: %v", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// start runs the process on s.port and waits until it answers PING.
func (s *Server) start() error {
	out := &bytes.Buffer{}
	cmd := exec.Command(s.path,
		"--port", strconv.Itoa(s.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", s.dir,
		"--daemonize", "no", "--logfile", "", "--loglevel", "warning")
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if ping(net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port))) {
			s.mu.Lock()
			s.cmd, s.out, s.exited = cmd, out, exited
			s.mu.Unlock()
			return nil
		}
		select {
		case err := <-exited:
			return fmt.Errorf("exited (%v): %s", err, out.String())
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			<-exited
			return fmt.Errorf("no PONG within 10s: %s", out.String())
		}
	}
}

// ping sends PING and reports whether +PONG came back.
func ping(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(500 * time.Millisecond))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && strings.HasPrefix(line, "+PONG")
}

// Stop kills the process (SIGKILL: as abrupt as a crash) and waits for it. Safe to call
// when already stopped.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.exited
	s.cmd = nil
}

// Restart starts a new, empty process on the same port (after Stop).
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	var err error
	for range 50 { // the port may linger briefly after the kill
		if err = s.start(); err == nil {
			return
		}
		time.Sleep(20 * time.Millisecond) // waiting on the kernel to release the port: nothing to poll
	}
	s.t.Fatalf("redis-server did not restart on port %d: %v", s.port, err)
}

// Output is what the process printed (for failure messages).
func (s *Server) Output() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.out == nil {
		return ""
	}
	return s.out.String()
}
