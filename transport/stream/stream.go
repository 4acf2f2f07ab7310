// Package stream serves GraphQL over the streaming transports of /graphql: WebSocket
// (graphql-transport-ws and the legacy graphql-ws), Server-Sent Events (graphql-sse's
// distinct-connections and single-connection modes) and Apollo's multipart HTTP
// subscriptions. Each is a gqlgen graphql.Transport, so it plugs into handler.Server
// next to the plain GET/POST transports.
//
// Subscriptions are not executed here: every transport joins the subscription.Hub,
// which runs one execution per group of identical subscriptions and hands each member
// the same serialized bytes; a transport only frames them for its protocol. Queries and
// mutations sent over a stream run through the executor directly.
//
// The transports are built to hold many idle subscribers cheaply: an idle WebSocket costs
// one goroutine (its reader; its writes are made by writers shared by every connection,
// see writerPool), SSE and multipart streams the request's own goroutine, and none of
// them a goroutine per subscription.
package stream

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/livestorm-gateway/gateway/subscription"
)

// Defaults of Options.
const (
	// DefaultKeepAlive is how often idle streams get a keep-alive: well under the idle
	// timeouts of common proxies and load balancers (60 s and up).
	DefaultKeepAlive = 10 * time.Second
	// DefaultHeartbeat is the interval of Apollo's multipart heartbeats (its spec: 5 s).
	DefaultHeartbeat = 5 * time.Second
	// DefaultInitTimeout is how long a WebSocket may wait before connection_init.
	DefaultInitTimeout = 10 * time.Second
	// DefaultReservationTimeout is how long a graphql-sse reservation waits for its
	// event stream to connect.
	DefaultReservationTimeout = time.Minute
	// DefaultMaxMessageBytes bounds one message a client sends over a WebSocket.
	DefaultMaxMessageBytes = 1 << 20
	// writeTimeout bounds one write to a client: a client that stops reading (and whose
	// socket buffers are full) is disconnected rather than holding a goroutine forever.
	writeTimeout = 10 * time.Second
)

// Options configure the streaming transports.
type Options struct {
	// Hub runs the subscriptions.
	Hub *subscription.Hub
	// KeepAlive is the interval of WebSocket pings ("ping" on graphql-transport-ws,
	// "ka" on graphql-ws) and of SSE ": ping" comments (<= 0: DefaultKeepAlive). A
	// graphql-transport-ws client that answers no ping within two intervals is
	// disconnected.
	KeepAlive time.Duration
	// Heartbeat is the interval of multipart heartbeats (<= 0: DefaultHeartbeat).
	Heartbeat time.Duration
	// InitTimeout is how long a WebSocket client may take to send connection_init
	// before it is closed with 4408 (<= 0: DefaultInitTimeout).
	InitTimeout time.Duration
	// ReservationTimeout is how long a graphql-sse reservation (PUT) waits for its
	// stream (<= 0: DefaultReservationTimeout).
	ReservationTimeout time.Duration
	// InitFunc accepts or rejects a WebSocket's connection_init payload and returns the
	// context the connection's operations run in (and an optional ack payload). A
	// rejection closes the socket with 4403.
	InitFunc transport.WebsocketInitFunc
	// OriginPatterns are the hosts a cross-origin WebSocket may come from (same-origin
	// is always accepted); "*" accepts any.
	OriginPatterns []string
	// Owner names who makes a request (e.g. a credential fingerprint): a graphql-sse
	// reservation only serves requests of the owner that made it. Nil: everyone is the
	// same owner.
	Owner func(ctx context.Context) string
	// Streams is done when the server shuts down: every stream then completes (and
	// WebSockets close with 1001 going away). May be nil.
	Streams context.Context
	// MaxMessageBytes bounds a WebSocket message (<= 0: DefaultMaxMessageBytes).
	MaxMessageBytes int64
	// Logger may be nil.
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.KeepAlive <= 0 {
		o.KeepAlive = DefaultKeepAlive
	}
	if o.Heartbeat <= 0 {
		o.Heartbeat = DefaultHeartbeat
	}
	if o.InitTimeout <= 0 {
		o.InitTimeout = DefaultInitTimeout
	}
	if o.ReservationTimeout <= 0 {
		o.ReservationTimeout = DefaultReservationTimeout
	}
	if o.MaxMessageBytes <= 0 {
		o.MaxMessageBytes = DefaultMaxMessageBytes
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Streams == nil {
		o.Streams = context.Background()
	}
	if o.Owner == nil {
		o.Owner = func(context.Context) string { return "" }
	}
	return o
}

// request is a GraphQL request as clients send it (the GraphQL-over-HTTP body).
type request struct {
	Query         string         `json:"query"`
	OperationName string         `json:"operationName"`
	Variables     map[string]any `json:"variables"`
	Extensions    map[string]any `json:"extensions"`
}

func (r *request) params(headers http.Header, start time.Time) *graphql.RawParams {
	return &graphql.RawParams{
		Query: r.Query, OperationName: r.OperationName, Variables: r.Variables, Extensions: r.Extensions,
		Headers: headers, ReadTime: graphql.TraceTiming{Start: start, End: graphql.Now()},
	}
}

// decodeJSON reads a request object (numbers as json.Number, like gqlgen's transports,
// so large integers survive until coercion).
func decodeJSON(r io.Reader, v any) error {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("unexpected data after the JSON object")
	}
	return nil
}

// decodeQuery reads a request from URL parameters (query, operationName, variables,
// extensions), as GraphQL-over-HTTP GET requests send it.
func decodeQuery(q url.Values) (*request, error) {
	req := &request{Query: q.Get("query"), OperationName: q.Get("operationName")}
	for name, dst := range map[string]*map[string]any{"variables": &req.Variables, "extensions": &req.Extensions} {
		if raw := q.Get(name); raw != "" {
			if err := decodeJSON(bytes.NewReader([]byte(raw)), dst); err != nil {
				return nil, errors.New(name + " must be a JSON object")
			}
		}
	}
	return req, nil
}

// decodeRequest reads a request from a POST body or from the URL.
func decodeRequest(r *http.Request) (*request, error) {
	if r.Method == http.MethodGet {
		return decodeQuery(r.URL.Query())
	}
	var req request
	if err := decodeJSON(r.Body, &req); err != nil {
		return nil, errors.New("the request body must be a JSON object: " + err.Error())
	}
	return &req, nil
}

// prepared is an operation ready to run on a stream.
type prepared struct {
	ctx    context.Context // carries the operation context
	params *graphql.RawParams
	op     *graphql.OperationContext
	// errs are the parse/validation errors, already presented: the operation must not run.
	errs gqlerror.List
}

func (p *prepared) isSubscription() bool {
	return p.op != nil && p.op.Operation != nil && p.op.Operation.Operation == ast.Subscription
}

func (p *prepared) isMutation() bool {
	return p.op != nil && p.op.Operation != nil && p.op.Operation.Operation == ast.Mutation
}

// prepare parses and validates an operation (through the executor's extensions: APQ,
// complexity, depth), like gqlgen's transports do.
func prepare(ctx context.Context, exec graphql.GraphExecutor, params *graphql.RawParams) *prepared {
	op, errs := exec.CreateOperationContext(ctx, params)
	p := &prepared{ctx: graphql.WithOperationContext(ctx, op), params: params, op: op}
	if errs != nil {
		p.errs = exec.DispatchError(p.ctx, errs).Errors
	}
	return p
}

// singleResults runs a query or mutation and calls emit with each response (one, or
// several with @defer), in order, until the operation is done or ctx ends.
func singleResults(p *prepared, exec graphql.GraphExecutor, emit func([]byte)) {
	responses, ctx := exec.DispatchOperation(p.ctx, p.op)
	for {
		resp := responses(ctx)
		// p.ctx, not ctx: extensions may end the operation's own context (its deadline)
		// once its last response is made; only the stream's end drops a response.
		if resp == nil || p.ctx.Err() != nil {
			return
		}
		emit(marshalResponse(resp))
		if resp.HasNext == nil || !*resp.HasNext {
			return
		}
	}
}

func marshalResponse(resp *graphql.Response) []byte {
	b, err := json.Marshal(resp)
	if err != nil {
		b, _ = json.Marshal(&graphql.Response{Errors: gqlerror.List{{Message: "internal error", Extensions: map[string]any{"code": "INTERNAL"}}}})
	}
	return b
}

// errorsResponse is a response carrying only errs ({"data":null,"errors":[...]}).
func errorsResponse(errs ...*gqlerror.Error) []byte {
	return marshalResponse(&graphql.Response{Errors: errs})
}

// codeBadUserInput is the gateway's extensions.code for a client's mistake (graph's
// CodeBadUserInput), here a request the transport cannot read.
const codeBadUserInput = "BAD_USER_INPUT"

// shutdownError tells clients why their stream ended when the gateway stops.
var shutdownError = &gqlerror.Error{Message: "the gateway is shutting down; reconnect", Extensions: map[string]any{"code": subscription.CodeUnavailable}}

// writeJSONError answers a request the transport cannot take at all (malformed body,
// unknown reservation) in GraphQL-over-HTTP form.
func writeJSONError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(errorsResponse(&gqlerror.Error{Message: msg, Extensions: map[string]any{"code": code}}))
}

// detached returns a context with ctx's values but not its cancellation: operations of a
// WebSocket or of a graphql-sse reservation outlive the HTTP request that started them.
func detached(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithCancel(context.WithoutCancel(ctx))
}
