package auth

import (
	"context"
	"log/slog"
	"net/netip"
)

// How a caller was identified: the `method` label of gateway_auth_total and
// Caller.Method.
const (
	MethodJWT       = "jwt"       // a verified JWT bearer token (Authorization: Bearer …)
	MethodAPIKey    = "api_key"   // a gateway API key (X-API-Key)
	MethodAnonymous = "anonymous" // no credential: AUTH_ANONYMOUS_ROLE, identified by client IP
	MethodForwarded = "forwarded" // forwarded mode: the caller's own Livestorm credential
	MethodDemo      = "demo"      // demo mode's anonymous caller (admin on the local simulator)
)

// Caller is who sent a request, as far as the gateway is concerned: one per HTTP
// request or WebSocket connection, fixed for its lifetime.
type Caller struct {
	// ID names the caller in logs, metrics and per-caller limits, and is never a
	// credential: "jwt:<sub>", "key:<api key name>", "forwarded:<fingerprint>" or
	// "ip:<client address>". The prefixes keep a JWT subject and an API key of the same
	// name apart.
	ID string
	// Role is what the caller may do.
	Role Role
	// Method is how it was identified (MethodJWT, …).
	Method string
	// IP is the client's address (see ClientIP): the connection's, or the one the
	// trusted proxies forwarded.
	IP netip.Addr
}

// LogValue lets a Caller be logged as one attribute group: caller, role, auth method
// and client IP, never the credential.
func (c Caller) LogValue() slog.Value {
	attrs := []slog.Attr{slog.String("id", c.ID), slog.String("role", c.Role.String()), slog.String("method", c.Method)}
	if c.IP.IsValid() {
		attrs = append(attrs, slog.String("ip", c.IP.String()))
	}
	return slog.GroupValue(attrs...)
}

type callerKey struct{}

// NewContext returns ctx carrying c.
func NewContext(ctx context.Context, c Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

// CallerFrom returns the caller ctx carries. Code that decides access must treat a
// missing caller as RoleNone (the zero Caller), never as trusted.
func CallerFrom(ctx context.Context) (Caller, bool) {
	c, ok := ctx.Value(callerKey{}).(Caller)
	return c, ok
}
