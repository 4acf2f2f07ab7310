// Command bench measures the gateway on this machine and prints the figures the README
// quotes: a warm event-page query answered from the response cache and executed anew,
// the same query on a plain gqlgen server holding the data in memory, polling with
// If-None-Match, and the fan-out of webhooks to 1,000, 5,000 and 10,000 WebSocket
// subscribers of one subscription.
//
//	go run ./bench                       # every scenario, 3 s per HTTP run, 20 webhooks per fan-out
//	go run ./bench -duration 10s -rate 1000 -workers 8
//	go run ./bench -fanout none          # the HTTP scenarios alone (about a minute)
//	go run ./bench -http=false -fanout 10000 -fanout-events 50 -fanout-clients lean
//
// The gateway is the repository's main package, which nothing can import, so the
// scenarios live in its tests (TestBenchTable in bench_table_test.go): this command runs
// that one test, without the race detector, in one process holding the simulator, the
// gateways, the plain server and the load generator. Run it from the module root.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/livestorm-gateway/gateway/bench/load"
)

func main() {
	duration := flag.Duration("duration", 3*time.Second, "length of each closed-loop and open-loop run")
	rate := flag.Int("rate", 1000, "open-loop arrival rate (requests per second)")
	workers := flag.Int("workers", 8, "closed-loop concurrent clients")
	maxReq := flag.Int("max", 200_000, "most requests one run may send")
	rounds := flag.Int("rounds", 3, "rounds each run is split into, the scenarios taking turns (fairer on a shared machine)")
	httpRows := flag.Bool("http", true, "run the HTTP scenarios (event page, response cache, plain server, polling)")
	fanout := flag.String("fanout", "1000,5000,10000", `WebSocket subscriber counts of the fan-out scenario, comma-separated; "none" skips it`)
	fanoutEvents := flag.Int("fanout-events", 20, "webhooks published to each fan-out's subscribers")
	fanoutClients := flag.String("fanout-clients", "lean,coder", "fan-out clients, comma-separated: lean (one epoll thread reads every socket), coder (a coder/websocket connection and goroutine per socket)")
	flag.Parse()
	if *duration <= 0 || *duration > 5*time.Minute || *rate <= 0 || *rate > 20_000 || *workers <= 0 || *workers > 512 || *maxReq <= 0 || *rounds <= 0 || *rounds > 20 ||
		*fanoutEvents <= 0 || *fanoutEvents > 1000 {
		fmt.Fprintln(os.Stderr, "bench: -duration must be in (0, 5m], -rate in (0, 20000], -workers in (0, 512], -max > 0, -rounds in (0, 20], -fanout-events in (0, 1000]")
		os.Exit(2)
	}
	if _, err := load.ParseCounts(*fanout, 20_000); err != nil {
		fmt.Fprintln(os.Stderr, "bench: -fanout:", err)
		os.Exit(2)
	}
	for _, k := range strings.Split(*fanoutClients, ",") {
		if k != "lean" && k != "coder" {
			fmt.Fprintf(os.Stderr, "bench: -fanout-clients: %q is neither lean nor coder\n", k)
			os.Exit(2)
		}
	}
	cmd := exec.Command("go", "test", "-run", "^TestBenchTable$", "-v", "-count=1", "-timeout=30m", ".",
		"-args", "-bench.table",
		"-bench.duration="+duration.String(), fmt.Sprintf("-bench.rate=%d", *rate),
		fmt.Sprintf("-bench.workers=%d", *workers), fmt.Sprintf("-bench.max=%d", *maxReq), fmt.Sprintf("-bench.rounds=%d", *rounds),
		fmt.Sprintf("-bench.http=%t", *httpRows), "-bench.fanout="+*fanout, fmt.Sprintf("-bench.fanout.events=%d", *fanoutEvents),
		"-bench.fanout.clients="+*fanoutClients)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}
