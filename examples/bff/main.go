// Command bff is an example backend-for-frontend of an internal event dashboard: a small
// JSON API over the Livestorm GraphQL gateway, through a typed client that genqlient
// generates from operations.graphql (package gateway).
//
//	GATEWAY_URL=http://localhost:8080/graphql go run .
//	curl -s localhost:8090/api/events?first=3
//	curl -s localhost:8090/api/registrations -d '{"sessionId":"…","email":"ada@example.org","firstName":"Ada"}'
//
// Configuration: GATEWAY_URL (default http://localhost:8080/graphql), GATEWAY_API_KEY
// (sent as X-API-Key when set: the gateway's API-key credential), ADDR (default
// 127.0.0.1:8090; a port of 0 picks a free one).
package main

//go:generate go tool genqlient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/Khan/genqlient/graphql"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// run serves the dashboard API until ctx is done.
func run(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	endpoint := getenv("GATEWAY_URL")
	if endpoint == "" {
		endpoint = "http://localhost:8080/graphql"
	}
	addr := getenv("ADDR")
	if addr == "" {
		addr = "127.0.0.1:8090"
	}
	httpClient := &http.Client{Timeout: 30 * time.Second}
	if key := getenv("GATEWAY_API_KEY"); key != "" {
		httpClient.Transport = apiKey{key: key, next: http.DefaultTransport}
	}
	gql := graphql.NewClient(endpoint, httpClient)

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("ADDR: %w", err)
	}
	srv := &http.Server{Handler: NewHandler(gql), ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stdout, "event-dashboard BFF listening on http://%s (gateway %s)\n", ln.Addr(), endpoint)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

// apiKey adds the gateway's X-API-Key credential to every request.
type apiKey struct {
	key  string
	next http.RoundTripper
}

func (a apiKey) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("X-API-Key", a.key)
	return a.next.RoundTrip(r)
}
