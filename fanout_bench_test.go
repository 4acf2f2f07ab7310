package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	coderws "github.com/coder/websocket"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/require"
)

// The fan-out benchmark: N real WebSocket clients (coder/websocket, graphql-transport-ws)
// subscribe to the same subscription; each iteration posts one signed webhook to the
// gateway and waits until every client has the event. The clients run in a child process
// (this test binary re-executed as TestFanoutClientProcess) so that what the benchmark
// process measures (goroutines, heap, RSS) is the gateway's alone, and so each process
// needs only N file descriptors. Latency is wall-clock from just before the webhook POST
// to each client's read of its `next` message (both processes read the same clock).

// fanoutQuery reads one field through the loaders (session, evicted by the webhook) and
// the rest from the message: an event costs one upstream call if executed once.
const fanoutQuery = `subscription { registrationCreated { type person { email } session { id registrantsCount } } }`

// fanoutMaxEvents bounds the events one child records (and so the iterations).
const fanoutMaxEvents = 5000

// BenchmarkFanoutWebSocket: go test -run '^$' -bench 'BenchmarkFanoutWebSocket' -benchtime 20x .
func BenchmarkFanoutWebSocket(b *testing.B) {
	for _, n := range []int{1000, 5000, 10000} {
		b.Run(fmt.Sprintf("subscribers=%d", n), func(b *testing.B) { benchFanout(b, n) })
	}
}

// raiseFileLimit lifts the soft RLIMIT_NOFILE towards the hard one; it returns the new
// soft limit.
func raiseFileLimit(want uint64) (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, err
	}
	if lim.Cur >= want {
		return lim.Cur, nil
	}
	lim.Cur = min(want, lim.Max)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, err
	}
	return lim.Cur, nil
}

// processCPU is the CPU time (user + system) this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// serverFootprint is what the gateway process holds.
type serverFootprint struct {
	goroutines int
	heap       uint64 // HeapInuse + StackInuse
	stack      uint64 // StackInuse
	rss        uint64
}

func measureFootprint() serverFootprint {
	runtime.GC()
	debug.FreeOSMemory() // returns what earlier runs freed, so RSS deltas are this run's
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return serverFootprint{goroutines: runtime.NumGoroutine(), heap: ms.HeapInuse + ms.StackInuse, stack: ms.StackInuse, rss: readRSS()}
}

// readRSS is the process's resident set (VmRSS), 0 where /proc is missing.
func readRSS() uint64 {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(raw), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

func gaugeValue(t testing.TB, h *harness) int {
	t.Helper()
	var m dto.Metric
	require.NoError(t, h.deps.Metrics.SubscriptionsActive.Write(&m))
	return int(m.GetGauge().GetValue())
}

func benchFanout(b *testing.B, n int) {
	if got, err := raiseFileLimit(uint64(n) + 200); err != nil || got < uint64(n)+200 {
		b.Skipf("needs RLIMIT_NOFILE >= %d in each process (gateway, clients); have %d (%v)", n+200, got, err)
	}
	h := newHarness(b)
	org := h.orgs[0]
	sess := h.openSession(b)
	idle := measureFootprint()

	child := exec.Command(os.Args[0], "-test.run=^TestFanoutClientProcess$", "-test.bench=^$", "-test.timeout=0")
	child.Env = append(os.Environ(),
		"FANOUT_CLIENT_URL=ws"+strings.TrimPrefix(h.gw.URL, "http")+"/graphql",
		"FANOUT_CLIENT_N="+strconv.Itoa(n),
		"FANOUT_CLIENT_QUERY="+fanoutQuery)
	child.Stderr = os.Stderr
	stdin, err := child.StdinPipe()
	require.NoError(b, err)
	stdout, err := child.StdoutPipe()
	require.NoError(b, err)
	require.NoError(b, child.Start())
	lines := make(chan string, 64)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), "fanout: "); ok {
				lines <- rest
			}
		}
	}()
	defer func() {
		_, _ = io.WriteString(stdin, "quit\n")
		_ = stdin.Close()
		done := make(chan error, 1)
		go func() { done <- child.Wait() }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = child.Process.Kill()
			<-done
		}
	}()
	expect := func(prefix string, within time.Duration) string {
		b.Helper()
		select {
		case l, ok := <-lines:
			require.True(b, ok, "client process ended")
			require.True(b, strings.HasPrefix(l, prefix), "client process said %q, want %q", l, prefix)
			return l
		case <-time.After(within):
			b.Fatalf("client process: no %q within %s", prefix, within)
			return ""
		}
	}
	expect("ready", 5*time.Minute)
	deadline := time.Now().Add(time.Minute)
	for gaugeValue(b, h) != n {
		require.True(b, time.Now().Before(deadline), "gateway_subscriptions_active is %d, want %d", gaugeValue(b, h), n)
		time.Sleep(10 * time.Millisecond)
	}
	subscribed := measureFootprint()
	if path := os.Getenv("FANOUT_HEAP_PROFILE"); path != "" { // where the per-connection bytes go
		f, err := os.Create(path)
		require.NoError(b, err)
		require.NoError(b, pprof.WriteHeapProfile(f))
		require.NoError(b, f.Close())
	}
	perConn := func(a, b uint64) float64 { return (float64(b) - float64(a)) / float64(n) }

	h.resetCalls()
	if path := os.Getenv("FANOUT_CPU_PROFILE"); path != "" { // the fan-out alone, without the connection set-up
		f, err := os.Create(path)
		require.NoError(b, err)
		require.NoError(b, pprof.StartCPUProfile(f))
		defer f.Close()
		defer pprof.StopCPUProfile()
	}
	cpu0 := processCPU()
	events := 0
	var worst []string // the slowest delivery of each event
	for b.Loop() {
		require.Less(b, events, fanoutMaxEvents, "iterations are bounded; use -benchtime Nx")
		body := registrationDelivery(org.ID, fmt.Sprint("p-fanout-", events), fmt.Sprintf("fan%d@example.com", events), sess.Event.LivestormID, sess.LivestormID)
		_, err := fmt.Fprintf(stdin, "pub %d %d\n", events, time.Now().UnixNano())
		require.NoError(b, err)
		if status := postWebhook(b, h.gw.URL, sign(body, time.Now())); status != 202 {
			b.Fatalf("webhook answered %d", status)
		}
		done := expect(fmt.Sprintf("done %d ", events), 60*time.Second)
		worst = append(worst, strings.Fields(done)[2])
		events++
	}
	b.StopTimer()
	serverCPU := processCPU() - cpu0
	b.Logf("%d subscribers: slowest delivery of each event: %s", n, strings.Join(worst, " "))
	calls := h.upstreamCalls()
	_, err = io.WriteString(stdin, "stats\n")
	require.NoError(b, err)
	var st fanoutStats
	require.NoError(b, json.Unmarshal([]byte(strings.TrimPrefix(expect("stats ", 30*time.Second), "stats ")), &st))
	require.Zero(b, st.Errors, "events carrying errors")
	require.Equal(b, events*n, st.Count, "deliveries")

	ms := func(ns int64) float64 { return float64(ns) / 1e6 }
	b.ReportMetric(ms(st.P50), "p50-ms")
	b.ReportMetric(ms(st.P99), "p99-ms")
	b.ReportMetric(ms(st.Max), "max-ms")
	b.ReportMetric(float64(subscribed.goroutines-idle.goroutines)/float64(n), "goroutines/conn")
	b.ReportMetric(perConn(idle.heap, subscribed.heap), "heap-B/conn")
	b.ReportMetric(perConn(idle.stack, subscribed.stack), "stack-B/conn")
	b.ReportMetric(perConn(idle.rss, subscribed.rss), "rss-B/conn")
	b.ReportMetric(float64(calls)/float64(events), "upstream-calls/event")
	b.ReportMetric(serverCPU.Seconds()*1e3/float64(events), "gateway-cpu-ms/event")
	b.ReportMetric(float64(st.CPUNanos)/1e6/float64(events), "clients-cpu-ms/event")
	b.ReportMetric(0, "ns/op") // latency is what matters; ns/op includes the wait for the slowest client
}

// fanoutStats summarizes every delivery the child saw (nanoseconds).
type fanoutStats struct {
	Count, Errors  int
	P50, P99, Max  int64
	CPUNanos       int64 // the client process's CPU time since "ready"
	SlowestEvent   int
	SlowestEventMs float64
}

// TestFanoutClientProcess is the client side of BenchmarkFanoutWebSocket, run in its own
// process; it does nothing in a normal test run.
func TestFanoutClientProcess(t *testing.T) {
	url := os.Getenv("FANOUT_CLIENT_URL")
	if url == "" {
		t.Skip("the client process of BenchmarkFanoutWebSocket")
	}
	n, err := strconv.Atoi(os.Getenv("FANOUT_CLIENT_N"))
	require.NoError(t, err)
	if got, err := raiseFileLimit(uint64(n) + 200); err != nil || got < uint64(n)+200 {
		t.Fatalf("RLIMIT_NOFILE %d: %v", got, err)
	}
	require.NoError(t, runFanoutClients(url, n, os.Getenv("FANOUT_CLIENT_QUERY"), os.Stdin, os.Stdout))
}

type fanoutEvent struct {
	recv []int64
	got  atomic.Int64
}

type fanoutClients struct {
	n       int
	mu      sync.Mutex
	events  map[int]*fanoutEvent
	done    chan int
	errors  atomic.Int64
	closing atomic.Bool
}

func (c *fanoutClients) event(k int) *fanoutEvent {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.events[k]
	if e == nil {
		e = &fanoutEvent{recv: make([]int64, c.n)}
		c.events[k] = e
	}
	return e
}

func runFanoutClients(url string, n int, query string, in io.Reader, out io.Writer) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := &fanoutClients{n: n, events: map[int]*fanoutEvent{}, done: make(chan int, fanoutMaxEvents)}
	subscribe, _ := json.Marshal(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": query}})
	conns := make([]*coderws.Conn, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 32)
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			conn, err := dialFanoutClient(ctx, url, subscribe)
			if err != nil {
				errs <- fmt.Errorf("client %d: %w", i, err)
				return
			}
			conns[i] = conn
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	var readers sync.WaitGroup
	for i, conn := range conns {
		readers.Add(1)
		go func() {
			defer readers.Done()
			c.read(ctx, i, conn)
		}()
	}
	fmt.Fprintln(out, "fanout: ready")
	cpu0 := processCPU()

	var latMu sync.Mutex
	var lat []int64
	published := map[int]int64{}
	completed := map[int]bool{}
	var slowest fanoutStats
	settle := func(k int) {
		t0, ok := published[k]
		if !ok || !completed[k] {
			return
		}
		e := c.event(k)
		var worst int64
		latMu.Lock()
		for _, r := range e.recv {
			lat = append(lat, r-t0)
			worst = max(worst, r-t0)
		}
		latMu.Unlock()
		if ms := float64(worst) / 1e6; ms > slowest.SlowestEventMs {
			slowest.SlowestEventMs, slowest.SlowestEvent = ms, k
		}
		c.mu.Lock()
		delete(c.events, k)
		c.mu.Unlock()
		fmt.Fprintf(out, "fanout: done %d %.2fms\n", k, float64(worst)/1e6)
	}
	cmds := make(chan string)
	go func() {
		defer close(cmds)
		sc := bufio.NewScanner(in)
		for sc.Scan() {
			cmds <- sc.Text()
		}
	}()
	for {
		select {
		case k := <-c.done:
			completed[k] = true
			settle(k)
		case cmd, ok := <-cmds:
			if !ok {
				cmd = "quit"
			}
			f := strings.Fields(cmd)
			switch {
			case len(f) == 3 && f[0] == "pub":
				k, _ := strconv.Atoi(f[1])
				t0, _ := strconv.ParseInt(f[2], 10, 64)
				published[k] = t0
				settle(k)
			case len(f) == 1 && f[0] == "stats":
				slices.Sort(lat)
				st := slowest
				st.Count, st.Errors = len(lat), int(c.errors.Load())
				st.CPUNanos = int64(processCPU() - cpu0)
				if len(lat) > 0 {
					st.P50, st.P99, st.Max = lat[len(lat)/2], lat[len(lat)*99/100], lat[len(lat)-1]
				}
				raw, _ := json.Marshal(st)
				fmt.Fprintf(out, "fanout: stats %s\n", raw)
			default: // quit
				c.closing.Store(true)
				for _, conn := range conns {
					_ = conn.CloseNow()
				}
				readers.Wait()
				return nil
			}
		}
	}
}

func dialFanoutClient(ctx context.Context, url string, subscribe []byte) (*coderws.Conn, error) {
	dctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	var conn *coderws.Conn
	var err error
	for attempt := range 5 { // a full accept backlog refuses a few dials: retry those
		var res *http.Response
		conn, res, err = coderws.Dial(dctx, url, &coderws.DialOptions{Subprotocols: []string{protoTransportWS}})
		if res != nil && res.Body != nil {
			res.Body.Close()
		}
		if err == nil {
			break
		}
		select {
		case <-dctx.Done():
			return nil, err
		case <-time.After(time.Duration(attempt+1) * 50 * time.Millisecond):
		}
	}
	if err != nil {
		return nil, err
	}
	conn.SetReadLimit(1 << 20)
	if err := conn.Write(dctx, coderws.MessageText, []byte(`{"type":"connection_init","payload":{}}`)); err != nil {
		return nil, err
	}
	for {
		_, msg, err := conn.Read(dctx)
		if err != nil {
			return nil, err
		}
		if bytes.Contains(msg, []byte(`"connection_ack"`)) {
			break
		}
		if bytes.Contains(msg, []byte(`"ping"`)) {
			_ = conn.Write(dctx, coderws.MessageText, []byte(`{"type":"pong"}`))
		}
	}
	return conn, conn.Write(dctx, coderws.MessageText, subscribe)
}

// read records the arrival of every next message on connection i and answers pings.
func (c *fanoutClients) read(ctx context.Context, i int, conn *coderws.Conn) {
	count := 0
	for {
		_, msg, err := conn.Read(ctx)
		if err != nil {
			if !c.closing.Load() && !errors.Is(err, context.Canceled) {
				fmt.Fprintf(os.Stderr, "fanout client %d: %v\n", i, err)
			}
			return
		}
		now := time.Now().UnixNano()
		switch {
		case bytes.Contains(msg, []byte(`"type":"next"`)):
			if bytes.Contains(msg, []byte(`"errors"`)) {
				c.errors.Add(1)
			}
			if count >= fanoutMaxEvents {
				continue
			}
			e := c.event(count)
			e.recv[i] = now
			if e.got.Add(1) == int64(c.n) {
				c.done <- count
			}
			count++
		case bytes.Contains(msg, []byte(`"type":"ping"`)):
			_ = conn.Write(ctx, coderws.MessageText, []byte(`{"type":"pong"}`))
		}
	}
}
