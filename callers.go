package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"

	gqltransport "github.com/99designs/gqlgen/graphql/handler/transport"

	"github.com/livestorm-gateway/gateway/auth"
	"github.com/livestorm-gateway/gateway/metrics"
	"github.com/livestorm-gateway/gateway/persisted"
)

// APIKeyHeader carries a gateway API key (AUTH_API_KEYS_FILE).
const APIKeyHeader = "X-API-Key"

// newAuthenticator builds the caller authenticator of cfg, counting into m.
func newAuthenticator(cfg Config, m *metrics.Metrics, logger *slog.Logger) (*auth.Authenticator, error) {
	ac := cfg.Auth
	ac.Forwarded = cfg.ForwardAuth
	ac.Logger = logger.With("component", "auth")
	ac.Observe = func(method, result string) { m.Auth.WithLabelValues(method, result).Inc() }
	if strings.HasPrefix(ac.JWKSURL, "http://") {
		logger.Warn("AUTH_JWKS_URL is plain HTTP: anyone on the path can replace the signing keys; use https")
	}
	return auth.New(ac)
}

// authenticator is d.Auth, or (for servers built without run, e.g. in tests) one made
// from d.Config. One that cannot be built refuses everyone rather than letting anyone in.
func (d Deps) authenticator() *auth.Authenticator {
	if d.Auth != nil {
		return d.Auth
	}
	a, err := newAuthenticator(d.Config, d.Metrics, d.Logger)
	if err != nil {
		d.Logger.Error("caller authentication misconfigured: refusing every request", "err", err)
		a, _ = auth.New(auth.Config{AnonymousRole: "none"})
	}
	return a
}

// presentedCredentials are the credentials of an HTTP request's headers. More than
// one Authorization or X-API-Key header is refused: which one a proxy or the gateway
// would read is not something to leave to chance.
func presentedCredentials(r *http.Request) (auth.Credentials, error) {
	if len(r.Header.Values("Authorization")) > 1 || len(r.Header.Values(APIKeyHeader)) > 1 {
		return auth.Credentials{}, &auth.Error{Kind: auth.ErrUnauthenticated, Reason: "send one Authorization or X-API-Key header"}
	}
	return auth.Credentials{
		Authorization: r.Header.Get("Authorization"),
		APIKey:        r.Header.Get(APIKeyHeader),
		RemoteAddr:    r.RemoteAddr,
		ForwardedFor:  strings.Join(r.Header.Values("X-Forwarded-For"), ","),
	}, nil
}

type presentedKey struct{}

// withUpgradeCredentials keeps a WebSocket upgrade request's credentials (its
// connection and any headers a non-browser client sent) for websocketInit.
func withUpgradeCredentials(ctx context.Context, c auth.Credentials) context.Context {
	return context.WithValue(ctx, presentedKey{}, c)
}

// initCredentials are a WebSocket connection's credentials: Authorization and
// X-API-Key from the connection_init payload (any letter case, at its top level or
// under "headers"), else those of the upgrade request; the client address is always
// the upgrade request's.
func initCredentials(ctx context.Context, p gqltransport.InitPayload) auth.Credentials {
	c, _ := ctx.Value(presentedKey{}).(auth.Credentials)
	authz, key := payloadString(p, "Authorization"), payloadString(p, APIKeyHeader)
	if headers, ok := p["headers"].(map[string]any); ok && authz == "" && key == "" {
		authz, key = payloadString(headers, "Authorization"), payloadString(headers, APIKeyHeader)
	}
	if authz != "" || key != "" {
		c.Authorization, c.APIKey = authz, key
	}
	return c
}

func payloadString(p map[string]any, name string) string {
	if v, ok := p[name].(string); ok {
		return v
	}
	for k, v := range p {
		if s, ok := v.(string); ok && strings.EqualFold(k, name) {
			return s
		}
	}
	return ""
}

// refusalCode is the extensions.code and HTTP status of an authentication refusal.
func refusalCode(err error) (string, int) {
	if errors.Is(err, auth.ErrForbidden) {
		return "FORBIDDEN", http.StatusForbidden
	}
	return "UNAUTHENTICATED", http.StatusUnauthorized
}

// refuse answers a request whose caller was refused before any GraphQL work: 401 (or
// 403 for a valid credential granting no role) with a GraphQL error body, logged.
func refuse(w http.ResponseWriter, r *http.Request, d Deps, caller auth.Caller, err error) {
	code, status := refusalCode(err)
	logRefusal(r.Context(), d, caller, requestOperationName(r), err)
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="graphql"`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"errors": []any{map[string]any{
		"message": err.Error(), "extensions": map[string]any{"code": code},
	}}})
}

// logRefusal logs who was refused, what they asked for and why; never a credential.
// Access denials (a role, not a credential, was the problem) are counted too.
func logRefusal(ctx context.Context, d Deps, caller auth.Caller, operation string, err error) {
	code, _ := refusalCode(err)
	if code == "FORBIDDEN" {
		d.Metrics.AccessDenied.WithLabelValues(caller.Role.String()).Inc()
	}
	d.Logger.InfoContext(ctx, "request refused", "caller", caller.ID, "role", caller.Role.String(), "auth", caller.Method,
		"operation", operation, "code", code, "reason", err.Error())
}

// requestOperationName is the operationName a refused request asked for, when cheap to
// know: the GET parameter, or the JSON body's field (read only on this refusal path).
func requestOperationName(r *http.Request) string {
	name := r.URL.Query().Get("operationName")
	if name == "" && r.Method == http.MethodPost && r.Body != nil && strings.Contains(r.Header.Get("Content-Type"), "json") {
		var body struct {
			OperationName string `json:"operationName"`
		}
		_ = json.NewDecoder(io.LimitReader(r.Body, maxBodyBytes)).Decode(&body)
		name = body.OperationName
	}
	if len(name) > 100 {
		name = name[:100]
	}
	return name
}

// openPersisted opens the trusted documents manifest of cfg, if any.
func openPersisted(cfg Config, logger *slog.Logger) (*persisted.Store, error) {
	if cfg.PersistedDocuments == "" {
		return nil, nil
	}
	s, err := persisted.Open(cfg.PersistedDocuments, logger.With("component", "persisted"))
	if err != nil {
		return nil, err
	}
	logger.Info("persisted documents loaded", "file", cfg.PersistedDocuments, "documents", s.Manifest().Len(),
		"restricted_roles", cfg.PersistedOnly.String())
	return s, nil
}

// notifyReload subscribes c to the reload signal (SIGHUP); tests replace it to send
// the signal through c without signalling the process.
var notifyReload = func(c chan<- os.Signal) { signal.Notify(c, syscall.SIGHUP) }

// reloadOnSignal re-reads s on every SIGHUP until the returned stop is called. A bad
// file keeps the previous manifest (Store.Reload logs why).
func reloadOnSignal(s *persisted.Store) (stop func()) {
	if s == nil {
		return func() {}
	}
	c := make(chan os.Signal, 1)
	notifyReload(c)
	done := make(chan struct{})
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		for {
			select {
			case <-c:
				_ = s.Reload()
			case <-done:
				return
			}
		}
	}()
	return func() {
		signal.Stop(c)
		close(done)
		<-ended
	}
}
