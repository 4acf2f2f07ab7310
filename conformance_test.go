package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The client conformance suite: the real GraphQL client libraries of clients/conformance
// (Apollo Client, urql with Graphcache, Relay, graphql-request; pinned by
// clients/package-lock.json) run with node's test runner against a gateway in demo mode,
// the way `make run` starts it. Each library's file is one subtest; each of its checks
// is a subtest of that, so `go test -run TestClientConformance -v .` reports every check.

// conformanceFiles maps each client to its file of checks in clients/conformance.
var conformanceFiles = []struct{ client, file string }{
	{"Apollo Client 4", "apollo.test.mjs"},
	{"urql 6 with Graphcache", "urql.test.mjs"},
	{"Relay (relay-compiler and relay-runtime 21)", "relay.test.mjs"},
	{"graphql-request 7", "graphql-request.test.mjs"},
}

// conformanceTimeout bounds one client's file: its checks wait at most 20 s for a live
// demo event, and relay-compiler takes well under a second.
const conformanceTimeout = 3 * time.Minute

// TestClientConformance runs every client's checks against one demo-mode gateway.
func TestClientConformance(t *testing.T) {
	node := conformanceNode(t)
	base := startDemoGateway(t)
	for _, f := range conformanceFiles {
		t.Run(f.client, func(t *testing.T) { runConformanceFile(t, node, base+"/graphql", f.file) })
	}
	// relay-compiler's persisted queries as the gateway's trusted documents: compiled
	// first, then a gateway that loads them (PERSISTED_DOCUMENTS) answers their ids.
	t.Run("Relay persisted queries as trusted documents", func(t *testing.T) {
		dir := t.TempDir()
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		compile := exec.CommandContext(ctx, node, filepath.Join("relay", "compile.mjs"), "--persist", dir)
		compile.Dir = "clients"
		out, err := compile.CombinedOutput()
		require.NoError(t, err, "relay-compiler: %s", out)
		gateway := startDemoGateway(t, "DEMO_ACTIVITY", "false", "PERSISTED_DOCUMENTS", filepath.Join(dir, "persisted-documents.json"))
		runConformanceFile(t, node, gateway+"/graphql", "relay-persisted.test.mjs", "RELAY_PERSISTED_DIR="+dir)
	})
}

// conformanceNode finds node and the installed client libraries, failing (never
// skipping: the suite must run in CI) with what to do when they are missing.
func conformanceNode(t testing.TB) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is not installed: install Node.js >= 20, then run `npm ci` in clients/ (make test does it)")
	}
	for _, pkg := range []string{"@apollo/client", "@urql/core", "@urql/exchange-graphcache", "relay-compiler", "relay-runtime", "graphql-request", "graphql-ws", "graphql-sse", "ws"} {
		if _, err := os.Stat(filepath.Join("clients", "node_modules", pkg, "package.json")); err != nil {
			t.Fatalf("clients/node_modules/%s is missing: run `npm ci` in clients/ (make test does it)", pkg)
		}
	}
	return node
}

// startDemoGateway runs the gateway's real main loop in demo mode on a free loopback
// port, as `make run` does with no token (embedded simulator, live activity unless vars
// say DEMO_ACTIVITY=false), and stops it when the test ends. It returns the gateway's
// base URL once /healthz answers.
func startDemoGateway(t testing.TB, vars ...string) string {
	t.Helper()
	return startGateway(t, vars...)
}

// startGateway runs the real main loop with PORT=0 and the given variables (name, value,
// …) on loopback, and stops it when the test ends; it returns the base URL once /healthz
// answers.
func startGateway(t testing.TB, vars ...string) string {
	t.Helper()
	environment := map[string]string{"PORT": "0", "HOST": "127.0.0.1", "LOG_LEVEL": "warn"}
	for i := 0; i+1 < len(vars); i += 2 {
		environment[vars[i]] = vars[i+1]
	}
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr lockedBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"livestorm-gateway"}, env(environment), &stdout, &stderr)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("gateway: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("the gateway did not stop within 15 s")
		}
	})

	listening := regexp.MustCompile(`listening on (127\.0\.0\.1:\d+)`)
	var base string
	require.Eventually(t, func() bool {
		if m := listening.FindStringSubmatch(stdout.String()); m != nil {
			base = "http://" + m[1]
			return true
		}
		return false
	}, 10*time.Second, 10*time.Millisecond, "no banner; stderr: %s", &stderr)
	require.Eventually(t, func() bool {
		res, err := http.Get(base + "/healthz")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == http.StatusOK
	}, 5*time.Second, 10*time.Millisecond)
	return base
}

// conformanceLine is one line of clients/conformance/report.mjs: a finished check or a
// diagnostic.
type conformanceLine struct {
	Name       string  `json:"name"`
	Status     string  `json:"status"`
	Ms         float64 `json:"ms"`
	Error      string  `json:"error"`
	Todo       string  `json:"todo"`
	Diagnostic *string `json:"diagnostic"`
}

// runnerSummary matches the counters node's runner prints at the end (the subtests say it).
var runnerSummary = regexp.MustCompile(`^(tests|suites|pass|fail|cancelled|skipped|todo|duration_ms) [\d.]+$`)

// runConformanceFile runs one file of checks with node's test runner and reports each
// check as a subtest. A run that ends without reporting a failure but exits non-zero
// (a crash, an unhandled rejection, a hang cut by the timeout) fails with node's output.
func runConformanceFile(t *testing.T, node, url, file string, environ ...string) {
	ctx, cancel := context.WithTimeout(t.Context(), conformanceTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "--test",
		"--test-reporter=./conformance/report.mjs", "--test-reporter-destination=stdout",
		"--test-reporter=spec", "--test-reporter-destination=stderr",
		filepath.Join("conformance", file))
	cmd.Dir = "clients"
	cmd.Env = append(append(os.Environ(), "GATEWAY_URL="+url, "NO_COLOR=1"), environ...)
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()

	var checks, failed int
	sc := bufio.NewScanner(&stdout)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		var l conformanceLine
		if json.Unmarshal(sc.Bytes(), &l) != nil {
			t.Logf("node: %s", sc.Text())
			continue
		}
		if l.Diagnostic != nil {
			if !runnerSummary.MatchString(*l.Diagnostic) {
				t.Log(*l.Diagnostic)
			}
			continue
		}
		checks++
		if l.Status == "fail" {
			failed++
		}
		t.Run(l.Name, func(t *testing.T) {
			switch l.Status {
			case "fail":
				t.Errorf("%s\n(%.0f ms)", l.Error, l.Ms)
			case "todo":
				t.Logf("known limitation, not a failure: %s", l.Todo)
			case "skip":
				t.Skip("skipped")
			default:
				t.Logf("passed in %.0f ms", l.Ms)
			}
		})
	}
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		t.Fatalf("%s did not finish within %s (a client left a connection open?)\n%s", file, conformanceTimeout, &stderr)
	case checks == 0:
		t.Fatalf("%s reported no check (err %v):\n%s", file, err, &stderr)
	case err != nil && failed == 0:
		t.Fatalf("%s: node exited with %v although no check failed:\n%s", file, err, &stderr)
	case failed > 0:
		t.Logf("node's report:\n%s", strings.TrimSpace(stderr.String()))
	}
}
