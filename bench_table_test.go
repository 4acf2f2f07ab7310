package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/livestorm-gateway/gateway/bench/load"
	"github.com/livestorm-gateway/gateway/bench/plain"
)

// The bench command (go run ./bench) runs TestBenchTable with -bench.table: the
// gateway and everything it measures against live in this test binary, one process.
var (
	benchTable    = flag.Bool("bench.table", false, "run the bench command's scenarios and print their table (go run ./bench)")
	benchDuration = flag.Duration("bench.duration", 3*time.Second, "how long each closed-loop and open-loop run lasts")
	benchRate     = flag.Int("bench.rate", 1000, "arrival rate of the open-loop runs, requests per second")
	benchWorkers  = flag.Int("bench.workers", 8, "concurrent clients of the closed-loop runs")
	benchMax      = flag.Int("bench.max", 200_000, "most requests one run may send")
	benchRounds   = flag.Int("bench.rounds", 3, "rounds each run is split into, the scenarios taking turns")
	benchHTTP     = flag.Bool("bench.http", true, "run the HTTP scenarios (query, response cache, plain server, polling)")
	benchFanout   = flag.String("bench.fanout", "1000,5000,10000", "WebSocket subscriber counts of the fan-out scenario, comma-separated (\"\" or none: skip it)")
	benchFanoutEv = flag.Int("bench.fanout.events", 20, "webhooks (events) published to each fan-out's subscribers")
	benchFanoutCl = flag.String("bench.fanout.clients", fanoutClientsLean+","+fanoutClientsCoder, "fan-out clients, comma-separated: lean (one epoll thread), coder (a coder/websocket goroutine per socket)")
)

// benchMaxSubscribers bounds one fan-out run (each process holds that many sockets).
const benchMaxSubscribers = 20_000

// benchEventPage is the bench's query: the first 5 events, each with its sessions and
// their first 10 registrations (5 × 3 × 10 = 150 registrations with their person on the
// default simulator data): what an event-listing page asks.
const benchEventPage = `query EventPage($first: Int!, $regs: Int!) {
  events(first: $first) {
    totalCount
    nodes {
      id title status
      sessions {
        totalCount
        nodes {
          id name status registrantsCount
          registrations(first: $regs) {
            totalCount
            nodes { id attended person { id firstName lastName email } }
          }
        }
      }
    }
  }
}`

var benchVars = map[string]any{"first": 5, "regs": 10}

// benchTarget is one server the bench loads.
type benchTarget struct {
	name string
	url  string
	// calls counts the target's upstream requests (nil: it has no upstream).
	calls func() int
}

// TestBenchTable measures the scenarios of the bench command and prints their tables:
// the HTTP scenarios, then the fan-out of webhooks to WebSocket subscribers. Each part
// runs in a subtest, so its servers are gone before the next part starts. Skipped unless
// -bench.table is given: it takes a few minutes and loads both cores.
func TestBenchTable(t *testing.T) {
	if !*benchTable {
		t.Skip("the bench command's scenarios: run `go run ./bench`")
	}
	fanouts, err := load.ParseCounts(*benchFanout, benchMaxSubscribers)
	require.NoError(t, err, "-bench.fanout")
	require.True(t, len(fanouts) == 0 || *benchFanoutEv > 0 && *benchFanoutEv <= fanoutMaxEvents,
		"-bench.fanout.events must be in [1, %d]", fanoutMaxEvents)
	out := io.Writer(os.Stdout)
	fmt.Fprintf(out, "\n%s, GOMAXPROCS=%d, %s at start\n", runtime.Version(), runtime.GOMAXPROCS(0), loadAverage())
	if *benchHTTP {
		t.Run("http", func(t *testing.T) {
			for _, tbl := range benchHTTPTables(t) {
				tbl.Print(out)
			}
		})
	}
	if len(fanouts) > 0 {
		kinds := strings.Split(*benchFanoutCl, ",")
		for _, k := range kinds {
			require.Contains(t, []string{fanoutClientsLean, fanoutClientsCoder}, k, "-bench.fanout.clients")
		}
		benchFanoutTable(t, fanouts, kinds, *benchFanoutEv).Print(out)
	}
	fmt.Fprintf(out, "\n%s at end\n", loadAverage())
}

// benchHTTPTables measures the warm event page on the gateway (response-cache hit and
// miss) and on the plain gqlgen server, and polling with If-None-Match.
func benchHTTPTables(t *testing.T) []*load.Table {
	ctx := t.Context()
	body, err := json.Marshal(map[string]any{"query": benchEventPage, "variables": benchVars})
	require.NoError(t, err)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 2048, MaxIdleConns: 2048}, Timeout: 10 * time.Second}
	t.Cleanup(client.CloseIdleConnections)

	gws := benchGateways(t)
	// The same answer from every gateway, and the data the plain server will serve.
	var data json.RawMessage
	for _, g := range []benchTarget{gws.hit, gws.miss} {
		status, _, got := post(ctx, client, g.url, body, "")
		require.Equal(t, 200, status)
		var r gqlResponse
		require.NoError(t, json.Unmarshal(got, &r))
		require.Empty(t, r.Errors)
		if data == nil {
			data = r.Data
		} else {
			require.JSONEq(t, string(data), string(r.Data))
		}
	}
	plainHandler, err := plain.NewHandler(data)
	require.NoError(t, err)
	plainSrv := httptest.NewServer(plainHandler)
	t.Cleanup(plainSrv.Close)
	pl := benchTarget{name: "plain gqlgen server, same shape, data in memory", url: plainSrv.URL}
	status, _, got := post(ctx, client, pl.url, body, "")
	require.Equal(t, 200, status)
	var pr gqlResponse
	require.NoError(t, json.Unmarshal(got, &pr))
	require.Empty(t, pr.Errors)
	require.JSONEq(t, string(data), string(pr.Data), "the plain server must answer the same data")

	query := func(target benchTarget) load.Do {
		return func(ctx context.Context) error {
			status, n := postDiscard(ctx, client, target.url, body, "")
			if status != 200 || n == 0 {
				return fmt.Errorf("status %d, %d bytes", status, n)
			}
			return nil
		}
	}
	tbl := &load.Table{
		Title: fmt.Sprintf("Warm event page (%d registrations): closed loop with %d clients, open loop at %d rps, %s each, in %d interleaved rounds",
			countRegistrations(data), *benchWorkers, *benchRate, *benchDuration, max(*benchRounds, 1)),
		Columns: []string{"scenario", "closed-loop rps", "CPU / request", fmt.Sprintf("p50 @ %d rps", *benchRate),
			fmt.Sprintf("p99 @ %d rps", *benchRate), "dropped / errors", "upstream calls"},
	}
	// The scenarios take turns, round after round, so that a change in the machine's
	// load (it may be shared) weighs on each of them alike.
	targets := []benchTarget{gws.hit, gws.miss, pl}
	closedRuns, openRuns := map[string][]load.Result{}, map[string][]load.Result{}
	calls := map[string]int{}
	for _, target := range targets {
		load.Closed(ctx, *benchWorkers, *benchDuration/3, *benchMax, query(target)) // warm-up
	}
	rounds := max(*benchRounds, 1)
	for range rounds {
		for _, target := range targets {
			runtime.GC() // each run starts without the garbage of the one before
			before := callsOf(target)
			closedRuns[target.name] = append(closedRuns[target.name],
				load.Closed(ctx, *benchWorkers, *benchDuration/time.Duration(rounds), *benchMax/rounds, query(target)))
			runtime.GC()
			openRuns[target.name] = append(openRuns[target.name],
				load.Open(ctx, *benchRate, *benchDuration/time.Duration(rounds), 1000, query(target)))
			calls[target.name] += callsOf(target) - before
		}
	}
	rows := map[string]load.Result{}
	for _, target := range targets {
		closed, open := load.Merge(closedRuns[target.name]...), load.Merge(openRuns[target.name]...)
		rows[target.name] = closed
		upstream := "– (no upstream)"
		if target.calls != nil {
			upstream = fmt.Sprint(calls[target.name])
		}
		tbl.Add(map[string]string{
			"scenario": target.name, "closed-loop rps": load.Rate(closed.RPS()), "CPU / request": load.Us(closed.CPUPerRequest()),
			fmt.Sprintf("p50 @ %d rps", *benchRate): load.Ms(open.Percentile(0.50)),
			fmt.Sprintf("p99 @ %d rps", *benchRate): load.Ms(open.Percentile(0.99)),
			"dropped / errors":                      fmt.Sprintf("%d / %d", open.Dropped, closed.Errors+open.Errors),
			"upstream calls":                        upstream,
		})
		reportFirstError(t, target.name, closed, open)
	}
	miss, plainRes := rows[gws.miss.name], rows[pl.name]
	tbl.Add(map[string]string{
		"scenario":        "ratio: gateway miss ÷ plain",
		"closed-loop rps": fmt.Sprintf("%.2f", miss.RPS()/plainRes.RPS()),
		"CPU / request":   fmt.Sprintf("%.2f", float64(miss.CPUPerRequest())/float64(plainRes.CPUPerRequest())),
	})
	hit := rows[gws.hit.name]
	tbl.Add(map[string]string{
		"scenario":        "ratio: gateway hit ÷ plain",
		"closed-loop rps": fmt.Sprintf("%.2f", hit.RPS()/plainRes.RPS()),
		"CPU / request":   fmt.Sprintf("%.2f", float64(hit.CPUPerRequest())/float64(plainRes.CPUPerRequest())),
	})

	// Polling with If-None-Match: the ETag of the first answer, sent back every time.
	_, etag, _ := post(ctx, client, gws.hit.url, body, "")
	var notModified, full int
	poll := func(ctx context.Context) error {
		status, _ := postDiscard(ctx, client, gws.hit.url, body, etag)
		switch status {
		case http.StatusNotModified:
			notModified++
		case http.StatusOK:
			full++
		default:
			return fmt.Errorf("status %d", status)
		}
		return nil
	}
	before := callsOf(gws.hit)
	pollRes := load.Closed(ctx, 1, *benchDuration, *benchMax, poll) // one client: the counters need no lock
	polls := &load.Table{
		Title:   "Polling the same query with If-None-Match (one client, closed loop)",
		Columns: []string{"scenario", "requests / s", "304 rate", "CPU / request", "upstream calls"},
	}
	polls.Add(map[string]string{
		"scenario": "gateway, If-None-Match: <ETag of the last answer>", "requests / s": load.Rate(pollRes.RPS()),
		"304 rate":      fmt.Sprintf("%.1f %% (%d of %d)", 100*float64(notModified)/float64(max(notModified+full, 1)), notModified, notModified+full),
		"CPU / request": load.Us(pollRes.CPUPerRequest()), "upstream calls": fmt.Sprint(callsOf(gws.hit) - before),
	})
	if etag == "" {
		polls.Note("(no ETag: this build has no response cache)")
	}
	reportFirstError(t, "polling", pollRes, load.Result{})
	return []*load.Table{tbl, polls}
}

// benchFanoutTable measures, for each count, one gateway with that many WebSocket
// subscribers of the same subscription receiving events webhooks (fanoutRun, the
// measurement of BenchmarkFanoutWebSocket), each count in a subtest of its own.
func benchFanoutTable(t *testing.T, counts []int, kinds []string, events int) *load.Table {
	tbl := &load.Table{
		Title: fmt.Sprintf("Fan-out: one webhook to N WebSocket subscribers of the same subscription (graphql-transport-ws clients in a child process), %d webhooks per N", events),
		Columns: []string{"subscribers", "clients", "delivery p50", "p99", "max", "goroutines / connection",
			"heap+stack / connection", "RSS / connection", "upstream calls / event", "gateway CPU / event", "gateway write syscalls / event", "clients' CPU / event"},
	}
	for _, kind := range kinds {
		for _, n := range counts {
			tbl.Add(benchFanoutRow(t, n, kind, events))
		}
	}
	tbl.Note("Latency: from just before the webhook POST to each client's read of its event (%d × N deliveries per row). "+
		"Per connection: the gateway process's goroutines, heap+stack (after GC) and RSS with N idle subscribers minus without, ÷ N (KB = 1,024 B). "+
		"The clients run in a child process and share the machine's cores with the gateway: lean = one epoll thread reading every socket, "+
		"coder = a coder/websocket connection and reading goroutine per socket.", events)
	return tbl
}

// benchFanoutRow is one row of the fan-out table: n subscribers, clients of kind.
func benchFanoutRow(t *testing.T, n int, kind string, events int) map[string]string {
	kb := func(b float64) string { return fmt.Sprintf("%.1f KB", b/1024) }
	row := map[string]string{"subscribers": fmt.Sprint(n), "clients": kind}
	ok := t.Run(fmt.Sprintf("fanout=%d/clients=%s", n, kind), func(t *testing.T) {
		if err := fanoutFileLimit(n); err != nil {
			row["delivery p50"] = "skipped: " + err.Error()
			t.Skip(err.Error())
		}
		runtime.GC()
		f := startFanout(t, n, kind)
		for range events {
			f.publish(t)
		}
		r := f.result(t)
		row["delivery p50"], row["p99"], row["max"] = load.Ms(r.p50), load.Ms(r.p99), load.Ms(r.max)
		row["goroutines / connection"] = fmt.Sprintf("%.2f", r.goroutines)
		row["heap+stack / connection"] = fmt.Sprintf("%s (%s stack)", kb(r.heap), kb(r.stack))
		row["RSS / connection"] = kb(r.rss)
		row["upstream calls / event"] = fmt.Sprintf("%.2f", r.callsPerEvent)
		row["gateway CPU / event"], row["clients' CPU / event"] = load.Ms(r.gatewayCPU), load.Ms(r.clientsCPU)
		row["gateway write syscalls / event"] = fmt.Sprintf("%.0f", r.writesPerEvent)
	})
	if !ok {
		row["delivery p50"] = "failed (see the test log)"
	}
	return row
}

func callsOf(t benchTarget) int {
	if t.calls == nil {
		return 0
	}
	return t.calls()
}

func reportFirstError(t *testing.T, name string, rs ...load.Result) {
	for _, r := range rs {
		if r.FirstError != nil && !errors.Is(r.FirstError, context.DeadlineExceeded) {
			t.Logf("%s: first error: %v", name, r.FirstError)
		}
	}
}

// post sends body to the GraphQL endpoint at base and returns the status, the ETag and
// the body of the answer.
func post(ctx context.Context, c *http.Client, base string, body []byte, ifNoneMatch string) (int, string, []byte) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/graphql", bytes.NewReader(body))
	if err != nil {
		return 0, "", nil
	}
	req.Header.Set("Content-Type", "application/json")
	if ifNoneMatch != "" {
		req.Header.Set("If-None-Match", ifNoneMatch)
	}
	res, err := c.Do(req)
	if err != nil {
		return 0, "", nil
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return 0, "", nil
	}
	return res.StatusCode, res.Header.Get("ETag"), b
}

// postDiscard is post for the load loops: the answer is read and dropped, so that the
// client's garbage weighs as little as possible on the servers' figures. It returns
// the status and the body's length.
func postDiscard(ctx context.Context, c *http.Client, base string, body []byte, ifNoneMatch string) (int, int64) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/graphql", bytes.NewReader(body))
	if err != nil {
		return 0, 0
	}
	req.Header.Set("Content-Type", "application/json")
	if ifNoneMatch != "" {
		req.Header.Set("If-None-Match", ifNoneMatch)
	}
	res, err := c.Do(req)
	if err != nil {
		return 0, 0
	}
	defer res.Body.Close()
	n, err := io.Copy(io.Discard, res.Body)
	if err != nil {
		return 0, n
	}
	return res.StatusCode, n
}

func countRegistrations(data []byte) int {
	return strings.Count(string(data), `"attended"`)
}

// loadAverage is the machine's load when the figures were taken (the machine may be
// shared).
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "load average unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "load average unknown"
	}
	return "load average " + strings.Join(f[:3], " ")
}
