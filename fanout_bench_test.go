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
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sync/errgroup"
)

// The fan-out benchmark: N WebSocket clients (graphql-transport-ws) subscribe to the same
// subscription; each iteration posts one signed webhook to the gateway and waits until
// every client has the event. The clients run in a child process (this test binary
// re-executed as TestFanoutClientProcess) so that what the benchmark process measures
// (goroutines, heap, RSS, CPU) is the gateway's alone, and so each process needs only N
// file descriptors. Latency is wall-clock from just before the webhook POST to each
// client's read of its `next` message (both processes read the same clock).
//
// The clients share the machine's cores with the gateway: FANOUT_CLIENTS=lean (the
// default) reads every socket from one epoll thread (fanout_lean_linux_test.go), a few
// microseconds of CPU per delivery; FANOUT_CLIENTS=coder gives each socket a
// coder/websocket connection and a reading goroutine, which costs the clients about as
// much CPU as the gateway spends.

// fanoutQuery reads one field through the loaders (session, evicted by the webhook) and
// the rest from the message: an event costs one upstream call if executed once.
const fanoutQuery = `subscription { registrationCreated { type person { email } session { id registrantsCount } } }`

// fanoutMaxEvents bounds the events one child records (and so the iterations).
const fanoutMaxEvents = 5000

// BenchmarkFanoutWebSocket: go test -run '^$' -bench 'BenchmarkFanoutWebSocket' -benchtime 20x .
// The bench command's table (go run ./bench) runs the same measurement (fanoutRun).
// FANOUT_CPU_PROFILE=path profiles the gateway process during the deliveries alone;
// FANOUT_HEAP_PROFILE=path writes its heap once every client is subscribed.
func BenchmarkFanoutWebSocket(b *testing.B) {
	for _, n := range []int{1000, 5000, 10000} {
		b.Run(fmt.Sprintf("subscribers=%d", n), func(b *testing.B) {
			f := startFanout(b, n, fanoutClientKind())
			stop := f.profileCPU(b, os.Getenv("FANOUT_CPU_PROFILE"))
			for b.Loop() {
				f.publish(b)
			}
			b.StopTimer()
			stop()
			res := f.result(b)
			b.Logf("%d subscribers: slowest delivery of each event: %s", n, strings.Join(res.worst, " "))
			res.report(b)
		})
	}
}

// BenchmarkFanoutWebSocketBurst is BenchmarkFanoutWebSocket with each iteration a burst
// of 5 webhooks posted back to back (latency of each event from its own POST), so that
// a connection often has several events to write at once:
// go test -run '^$' -bench 'BenchmarkFanoutWebSocketBurst' -benchtime 10x .
func BenchmarkFanoutWebSocketBurst(b *testing.B) {
	const burst = 5
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("subscribers=%d", n), func(b *testing.B) {
			f := startFanout(b, n, fanoutClientKind())
			stop := f.profileCPU(b, os.Getenv("FANOUT_CPU_PROFILE"))
			for b.Loop() {
				f.publishBurst(b, burst)
			}
			b.StopTimer()
			stop()
			f.result(b).report(b)
		})
	}
}

// dialAll runs dial for clients 0 … n-1, 32 at a time (more would overflow the
// gateway's accept backlog), and returns the first error.
func dialAll(n int, dial func(i int) error) error {
	var g errgroup.Group
	g.SetLimit(32)
	for i := range n {
		g.Go(func() error {
			if err := dial(i); err != nil {
				return fmt.Errorf("client %d: %w", i, err)
			}
			return nil
		})
	}
	return g.Wait()
}

// fanoutClientKind is FANOUT_CLIENTS, lean by default.
func fanoutClientKind() string {
	if k := os.Getenv("FANOUT_CLIENTS"); k != "" {
		return k
	}
	return fanoutClientsLean
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

// writeSyscalls is how many write syscalls this process has made (syscw of
// /proc/self/io, every thread), 0 where /proc is missing.
func writeSyscalls() uint64 {
	raw, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(raw), "\n") {
		if rest, ok := strings.CutPrefix(line, "syscw:"); ok {
			n, _ := strconv.ParseUint(strings.TrimSpace(rest), 10, 64)
			return n
		}
	}
	return 0
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

// fanoutFileLimit makes room for n sockets (and some) in this process, or says why it
// cannot.
func fanoutFileLimit(n int) error {
	want := uint64(n) + 200
	got, err := raiseFileLimit(want)
	if err != nil || got < want {
		return fmt.Errorf("needs RLIMIT_NOFILE >= %d in each process (gateway, clients); have %d (%v)", want, got, err)
	}
	return nil
}

// fanoutRun is a gateway (with its simulator) and n WebSocket clients in a child
// process, all subscribed to fanoutQuery; publish sends one webhook and waits until every
// client has its event. It is the measurement BenchmarkFanoutWebSocket and the bench
// command's table share.
type fanoutRun struct {
	n      int
	h      *harness
	orgID  string
	sess   sessionInfo
	stdin  io.Writer
	lines  <-chan string
	events int
	worst  []string      // the slowest delivery of each event
	cpu    time.Duration // the gateway process's CPU time during the deliveries
	writes uint64        // and its write syscalls

	idle, subscribed serverFootprint
}

// startFanout starts the gateway and the client process and returns once the gateway
// counts n active subscriptions. It skips tb when the file limit cannot hold n sockets.
// Everything ends with tb (its cleanups).
func startFanout(tb testing.TB, n int, kind string) *fanoutRun {
	tb.Helper()
	if kind != fanoutClientsLean && kind != fanoutClientsCoder {
		tb.Fatalf("fan-out clients %q: want %s or %s", kind, fanoutClientsLean, fanoutClientsCoder)
	}
	if err := fanoutFileLimit(n); err != nil {
		tb.Skip(err.Error())
	}
	h := newHarness(tb)
	f := &fanoutRun{n: n, h: h, orgID: h.orgs[0].ID, sess: h.openSession(tb)}
	f.idle = measureFootprint()

	child := exec.Command(os.Args[0], "-test.run=^TestFanoutClientProcess$", "-test.bench=^$", "-test.timeout=0")
	child.Env = append(os.Environ(),
		"FANOUT_CLIENT_URL=ws"+strings.TrimPrefix(h.gw.URL, "http")+"/graphql",
		"FANOUT_CLIENT_N="+strconv.Itoa(n),
		"FANOUT_CLIENT_KIND="+kind,
		"FANOUT_CLIENT_QUERY="+fanoutQuery)
	child.Stderr = os.Stderr
	stdin, err := child.StdinPipe()
	require.NoError(tb, err)
	stdout, err := child.StdoutPipe()
	require.NoError(tb, err)
	require.NoError(tb, child.Start())
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
	// Registered after the harness's cleanups, so it runs before them: the clients
	// leave before the gateway closes.
	tb.Cleanup(func() {
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
	})
	f.stdin, f.lines = stdin, lines

	f.expect(tb, "ready", 5*time.Minute)
	deadline := time.Now().Add(time.Minute)
	for gaugeValue(tb, h) != n {
		require.True(tb, time.Now().Before(deadline), "gateway_subscriptions_active is %d, want %d", gaugeValue(tb, h), n)
		time.Sleep(10 * time.Millisecond) // polling a gauge with a deadline: nothing to wait on
	}
	f.subscribed = measureFootprint()
	if path := os.Getenv("FANOUT_HEAP_PROFILE"); path != "" { // where the per-connection bytes go
		w, err := os.Create(path)
		require.NoError(tb, err)
		require.NoError(tb, pprof.WriteHeapProfile(w))
		require.NoError(tb, w.Close())
	}
	h.resetCalls()
	return f
}

// expect returns the client process's next line, which must start with prefix.
func (f *fanoutRun) expect(tb testing.TB, prefix string, within time.Duration) string {
	tb.Helper()
	select {
	case l, ok := <-f.lines:
		require.True(tb, ok, "client process ended")
		require.True(tb, strings.HasPrefix(l, prefix), "client process said %q, want %q", l, prefix)
		return l
	case <-time.After(within):
		tb.Fatalf("client process: no %q within %s", prefix, within)
		return ""
	}
}

// profileCPU starts a CPU profile of this process written to path (nothing when path is
// empty) and returns what stops it.
func (f *fanoutRun) profileCPU(tb testing.TB, path string) (stop func()) {
	tb.Helper()
	if path == "" {
		return func() {}
	}
	w, err := os.Create(path)
	require.NoError(tb, err)
	require.NoError(tb, pprof.StartCPUProfile(w))
	return func() {
		pprof.StopCPUProfile()
		require.NoError(tb, w.Close())
	}
}

// publish posts one people.registered webhook and waits until every client read its
// event (at most a minute).
func (f *fanoutRun) publish(tb testing.TB) { f.publishBurst(tb, 1) }

// publishBurst posts k webhooks back to back, then waits until every client read the k
// events (at most a minute each): a burst of registrations, as an announcement brings.
func (f *fanoutRun) publishBurst(tb testing.TB, k int) {
	tb.Helper()
	require.LessOrEqual(tb, f.events+k, fanoutMaxEvents, "events are bounded")
	cpu0, writes0 := processCPU(), writeSyscalls()
	for i := f.events; i < f.events+k; i++ {
		body := registrationDelivery(f.orgID, fmt.Sprint("p-fanout-", i), fmt.Sprintf("fan%d@example.com", i), f.sess.Event.LivestormID, f.sess.LivestormID)
		_, err := fmt.Fprintf(f.stdin, "pub %d %d\n", i, time.Now().UnixNano())
		require.NoError(tb, err)
		if status := postWebhook(tb, f.h.gw.URL, sign(body, time.Now())); status != 202 {
			tb.Fatalf("webhook answered %d", status)
		}
	}
	// The events of a burst may complete in any order.
	pending := map[string]bool{}
	for i := f.events; i < f.events+k; i++ {
		pending[strconv.Itoa(i)] = true
	}
	for len(pending) > 0 {
		done := strings.Fields(f.expect(tb, "done ", 60*time.Second))
		require.Len(tb, done, 3, "client process said %q", done)
		require.True(tb, pending[done[1]], "client process finished event %s, not one of this burst", done[1])
		delete(pending, done[1])
		f.worst = append(f.worst, done[2])
	}
	f.cpu += processCPU() - cpu0
	f.writes += writeSyscalls() - writes0
	f.events += k
}

// fanoutResult is what a fanoutRun measured.
type fanoutResult struct {
	n, events     int
	p50, p99, max time.Duration
	// Per connection, in the gateway's process, subscribed minus idle, after GC.
	goroutines, heap, stack, rss float64
	callsPerEvent                float64
	gatewayCPU, clientsCPU       time.Duration // per event
	writesPerEvent               float64       // the gateway process's write syscalls
	worst                        []string
}

// result collects the deliveries' latencies from the client process and checks that
// every client got every event, without errors.
func (f *fanoutRun) result(tb testing.TB) fanoutResult {
	tb.Helper()
	require.Positive(tb, f.events, "publish at least one event")
	calls := f.h.upstreamCalls()
	_, err := io.WriteString(f.stdin, "stats\n")
	require.NoError(tb, err)
	var st fanoutStats
	require.NoError(tb, json.Unmarshal([]byte(strings.TrimPrefix(f.expect(tb, "stats ", 30*time.Second), "stats ")), &st))
	require.Zero(tb, st.Errors, "events carrying errors")
	require.Equal(tb, f.events*f.n, st.Count, "deliveries")
	perConn := func(a, b uint64) float64 { return (float64(b) - float64(a)) / float64(f.n) }
	return fanoutResult{
		n: f.n, events: f.events,
		p50: time.Duration(st.P50), p99: time.Duration(st.P99), max: time.Duration(st.Max),
		goroutines:     float64(f.subscribed.goroutines-f.idle.goroutines) / float64(f.n),
		heap:           perConn(f.idle.heap, f.subscribed.heap),
		stack:          perConn(f.idle.stack, f.subscribed.stack),
		rss:            perConn(f.idle.rss, f.subscribed.rss),
		callsPerEvent:  float64(calls) / float64(f.events),
		gatewayCPU:     f.cpu / time.Duration(f.events),
		clientsCPU:     time.Duration(st.CPUNanos) / time.Duration(f.events),
		writesPerEvent: float64(f.writes) / float64(f.events),
		worst:          f.worst,
	}
}

// report reports r as the benchmark's metrics.
func (r fanoutResult) report(b *testing.B) {
	ms := func(d time.Duration) float64 { return float64(d) / 1e6 }
	b.ReportMetric(ms(r.p50), "p50-ms")
	b.ReportMetric(ms(r.p99), "p99-ms")
	b.ReportMetric(ms(r.max), "max-ms")
	b.ReportMetric(r.goroutines, "goroutines/conn")
	b.ReportMetric(r.heap, "heap-B/conn")
	b.ReportMetric(r.stack, "stack-B/conn")
	b.ReportMetric(r.rss, "rss-B/conn")
	b.ReportMetric(r.callsPerEvent, "upstream-calls/event")
	b.ReportMetric(ms(r.gatewayCPU), "gateway-cpu-ms/event")
	b.ReportMetric(ms(r.clientsCPU), "clients-cpu-ms/event")
	b.ReportMetric(r.writesPerEvent, "write-syscalls/event")
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
	require.NoError(t, runFanoutClients(url, n, os.Getenv("FANOUT_CLIENT_QUERY"), os.Getenv("FANOUT_CLIENT_KIND"), os.Stdin, os.Stdout))
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

// The kinds of fan-out clients (FANOUT_CLIENTS, -bench.fanout.clients).
const (
	// fanoutClientsLean: one epoll thread reads every socket (fanout_lean_linux_test.go),
	// so that the clients' CPU takes as little as it can of the cores the gateway uses.
	fanoutClientsLean = "lean"
	// fanoutClientsCoder: a coder/websocket connection and a reading goroutine per socket.
	fanoutClientsCoder = "coder"
)

func runFanoutClients(url string, n int, query, kind string, in io.Reader, out io.Writer) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := &fanoutClients{n: n, events: map[int]*fanoutEvent{}, done: make(chan int, fanoutMaxEvents)}
	subscribe, _ := json.Marshal(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": query}})
	if kind == fanoutClientsLean {
		stop, err := runLeanFanoutClients(url, n, subscribe, c)
		if err != nil {
			return err
		}
		return c.report(in, out, stop)
	}
	conns := make([]*coderws.Conn, n)
	if err := dialAll(n, func(i int) (err error) {
		conns[i], err = dialFanoutClient(ctx, url, subscribe)
		return err
	}); err != nil {
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
	return c.report(in, out, func() {
		for _, conn := range conns {
			_ = conn.CloseNow()
		}
		readers.Wait()
	})
}

// report says "ready", then answers the benchmark's commands on in (pub, stats, quit)
// and says on out when every client has an event; stop ends the clients at quit.
func (c *fanoutClients) report(in io.Reader, out io.Writer, stop func()) error {
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
				stop()
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

// TestFanoutMeasurement runs the fan-out benchmark's measurement small (50 subscribers,
// 3 webhooks) with each kind of client, so that the instrument the README's figures come
// from is checked on every test run: every client gets every event, without errors, for
// one upstream call per event and at least one write per socket.
func TestFanoutMeasurement(t *testing.T) {
	for _, kind := range []string{fanoutClientsLean, fanoutClientsCoder} {
		t.Run(kind, func(t *testing.T) {
			if kind == fanoutClientsLean && runtime.GOOS != "linux" {
				t.Skip("the lean clients need epoll")
			}
			const n, events = 50, 3
			f := startFanout(t, n, kind)
			for range events {
				f.publish(t)
			}
			r := f.result(t) // requires n × events deliveries and no errors
			assert.Equal(t, events, r.events)
			assert.Positive(t, r.p50)
			assert.LessOrEqual(t, r.p50, r.p99)
			assert.LessOrEqual(t, r.p99, r.max)
			assert.InDelta(t, 1, r.callsPerEvent, 0.01, "one upstream call per event")
			assert.GreaterOrEqual(t, r.writesPerEvent, float64(n), "a write per socket at least")
			assert.InDelta(t, 1, r.goroutines, 0.2, "one goroutine per idle connection")
		})
	}
}
