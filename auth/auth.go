// Package auth decides who a request comes from and which role it holds: a JWT bearer
// token from the application's identity provider (verified against a JWKS or a shared
// secret), a gateway API key, or nobody (the anonymous role, identified by client IP).
// The result is one Caller per request or WebSocket connection, carried in the context
// (NewContext, CallerFrom), so logs, metrics, limits and access checks all see the same
// identity, and never the credential.
//
// It depends on nothing else of the gateway's.
package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"time"
)

// Refusals. Authenticate wraps them in an *Error whose message is safe to show the
// client; test with errors.Is.
var (
	// ErrUnauthenticated: a presented credential failed (bad signature, expired,
	// unknown key, …), or none was presented and anonymous callers are not allowed.
	// HTTP 401, extensions.code UNAUTHENTICATED.
	ErrUnauthenticated = errors.New("unauthenticated")
	// ErrForbidden: the credential is valid but grants no role (a token naming no known
	// role when anonymous callers are refused). HTTP 403, extensions.code FORBIDDEN.
	ErrForbidden = errors.New("forbidden")
)

// Error is a refusal with a reason safe to show the client and to log.
type Error struct {
	Kind   error  // ErrUnauthenticated or ErrForbidden
	Reason string // e.g. "token expired"; never contains the credential
}

func (e *Error) Error() string { return e.Reason }
func (e *Error) Unwrap() error { return e.Kind }

func unauthenticated(format string, args ...any) error {
	return &Error{Kind: ErrUnauthenticated, Reason: fmt.Sprintf(format, args...)}
}

// Config configures an Authenticator. The env names are the gateway's.
type Config struct {
	// JWKSURL (AUTH_JWKS_URL) is the identity provider's JWK Set: RS256/384/512,
	// PS256/384/512, ES256/384/512 and EdDSA tokens are verified against it. Keys are
	// cached, refreshed hourly, and re-fetched when a token names an unknown kid (at most
	// once per JWKSUnknownKIDInterval).
	JWKSURL string
	// JWTSecret (AUTH_JWT_SECRET) verifies HS256 tokens instead, for development and
	// tests; at least MinSecretBytes. Exclusive with JWKSURL.
	JWTSecret string
	// Issuer (AUTH_JWT_ISSUER) and Audience (AUTH_JWT_AUDIENCE) must match the token's
	// iss and aud when set.
	Issuer, Audience string
	// RoleClaim (AUTH_ROLE_CLAIM, default "role") names the claim holding the caller's
	// role(s); see rolesFromClaims for how a dotted name is resolved.
	RoleClaim string
	// APIKeysFile (AUTH_API_KEYS_FILE) lists the gateway API keys, one per line as
	// "name role sha256-hex-of-key".
	APIKeysFile string
	// AnonymousRole (AUTH_ANONYMOUS_ROLE) is the role of callers without a credential,
	// and of valid tokens naming no known role: a role name or "none" (refused). Default
	// "public", or "admin" in demo mode.
	AnonymousRole string
	// TrustedProxies (TRUSTED_PROXIES) are the peers whose X-Forwarded-For is believed
	// (see ClientIP).
	TrustedProxies []netip.Prefix
	// Forwarded is forwarded mode (LIVESTORM_FORWARD_AUTH): the Authorization header is
	// the caller's own Livestorm credential, checked by Livestorm, not here. Such a
	// caller is MethodForwarded with RoleAdmin: its power is exactly its token's scopes.
	// Exclusive with every other credential option.
	Forwarded bool
	// Demo is demo mode: anonymous callers are MethodDemo, and AnonymousRole defaults
	// to admin.
	Demo bool

	// HTTPClient fetches the JWKS (default: a 10 s timeout client).
	HTTPClient *http.Client
	// Logger gets JWKS fetch failures; never credentials.
	Logger *slog.Logger
	// Now is the clock tokens are checked against (default time.Now).
	Now func() time.Time
	// Observe counts each authentication: gateway_auth_total{method,result}, with
	// result "ok", "unauthenticated" or "forbidden".
	Observe func(method, result string)

	// JWKSUnknownKIDInterval (default 30 s) is the least time between two JWKS fetches
	// caused by unknown key ids; JWKSWaitMax (default 2 s) bounds how long a request
	// waits for one. Tests shorten them.
	JWKSUnknownKIDInterval, JWKSWaitMax time.Duration
}

// Credentials are what a request presents, from HTTP headers or a WebSocket
// connection_init payload.
type Credentials struct {
	Authorization string // "Bearer <jwt>" (or, in forwarded mode, the Livestorm credential)
	APIKey        string // X-API-Key
	RemoteAddr    string // http.Request.RemoteAddr
	ForwardedFor  string // every X-Forwarded-For value, joined with commas
}

// Authenticator turns Credentials into a Caller. It is safe for concurrent use; Close
// stops its JWKS refresh.
type Authenticator struct {
	cfg       Config
	jwt       *jwtVerifier
	keys      []apiKey
	anonymous Role
	observe   func(method, result string)
}

// New builds an Authenticator, reading the API keys file and fetching the JWKS once
// (a JWKS fetch that fails is logged and retried; a bad keys file or option fails, with
// a message naming the variable at fault).
func New(cfg Config) (*Authenticator, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	a := &Authenticator{cfg: cfg, observe: cfg.Observe}
	if a.observe == nil {
		a.observe = func(string, string) {}
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	a.anonymous = cfg.anonymousRole()
	if cfg.APIKeysFile != "" {
		keys, err := loadAPIKeys(cfg.APIKeysFile)
		if err != nil {
			return nil, err
		}
		a.keys = keys
	}
	v, err := newJWTVerifier(cfg, cfg.Logger)
	if err != nil {
		return nil, err
	}
	a.jwt = v
	return a, nil
}

// Validate checks the options that need no file or network, each error naming the
// variable at fault; New calls it, and configuration loading can call it early.
func (cfg Config) Validate() error {
	var errs []error
	if cfg.Forwarded {
		var set []string
		for _, v := range []struct{ name, value string }{
			{"AUTH_JWKS_URL", cfg.JWKSURL}, {"AUTH_JWT_SECRET", cfg.JWTSecret}, {"AUTH_JWT_ISSUER", cfg.Issuer},
			{"AUTH_JWT_AUDIENCE", cfg.Audience}, {"AUTH_ROLE_CLAIM", cfg.RoleClaim}, {"AUTH_API_KEYS_FILE", cfg.APIKeysFile},
			{"AUTH_ANONYMOUS_ROLE", cfg.AnonymousRole},
		} {
			if v.value != "" {
				set = append(set, v.name)
			}
		}
		if len(set) > 0 {
			return fmt.Errorf("LIVESTORM_FORWARD_AUTH: cannot be combined with %s: in forwarded mode the caller's own Livestorm credential is its identity", strings.Join(set, ", "))
		}
	}
	if cfg.AnonymousRole != "" {
		if _, ok := ParseRole(cfg.AnonymousRole); !ok {
			errs = append(errs, fmt.Errorf("AUTH_ANONYMOUS_ROLE: must be public, viewer, editor, admin or none, got %q", cfg.AnonymousRole))
		}
	}
	switch {
	case cfg.JWKSURL != "" && cfg.JWTSecret != "":
		errs = append(errs, errors.New("AUTH_JWKS_URL and AUTH_JWT_SECRET: set one (a JWKS for an identity provider, a secret for development)"))
	case cfg.JWTSecret != "" && len(cfg.JWTSecret) < MinSecretBytes:
		errs = append(errs, fmt.Errorf("AUTH_JWT_SECRET: must be at least %d bytes (openssl rand -hex 32)", MinSecretBytes))
	case cfg.JWKSURL == "" && cfg.JWTSecret == "" && (cfg.Issuer != "" || cfg.Audience != "" || cfg.RoleClaim != ""):
		errs = append(errs, errors.New("AUTH_JWT_ISSUER, AUTH_JWT_AUDIENCE and AUTH_ROLE_CLAIM need AUTH_JWKS_URL or AUTH_JWT_SECRET"))
	}
	return errors.Join(errs...)
}

func (cfg Config) anonymousRole() Role {
	if r, ok := ParseRole(cfg.AnonymousRole); ok && cfg.AnonymousRole != "" {
		return r
	}
	if cfg.Demo {
		return RoleAdmin
	}
	return RolePublic
}

// Close stops the JWKS refresh goroutine, if any.
func (a *Authenticator) Close() {
	if a != nil && a.jwt != nil {
		a.jwt.close()
	}
}

// AnonymousRole is the role callers without a credential get (RoleNone: refused).
func (a *Authenticator) AnonymousRole() Role { return a.anonymous }

// JWT reports whether bearer tokens are verified (AUTH_JWKS_URL or AUTH_JWT_SECRET).
func (a *Authenticator) JWT() bool { return a.jwt != nil }

// Authenticate resolves a request's credentials to its caller:
//
//   - Authorization: Bearer <jwt> → MethodJWT, the highest known role the role claim
//     names (the anonymous role when it names none);
//   - X-API-Key → MethodAPIKey with the key's role;
//   - nothing → MethodAnonymous (MethodDemo in demo mode) with the anonymous role;
//   - in forwarded mode, any Authorization → MethodForwarded, RoleAdmin.
//
// A credential that is presented and fails is an *Error wrapping ErrUnauthenticated,
// never an anonymous caller. An Authorization header with the Basic scheme is not a
// gateway credential (it belongs to a proxy in front) and is ignored. On error the
// returned Caller still says who tried (client IP, method, or the token's subject when
// only its role was missing), for the log.
func (a *Authenticator) Authenticate(ctx context.Context, cr Credentials) (Caller, error) {
	c := Caller{IP: ClientIP(cr.RemoteAddr, cr.ForwardedFor, a.cfg.TrustedProxies)}
	c.ID = "ip:" + c.IP.String()
	if !c.IP.IsValid() {
		c.ID = "ip:unknown"
	}
	authz := strings.TrimSpace(cr.Authorization)
	key := strings.TrimSpace(cr.APIKey)
	scheme, token, _ := strings.Cut(authz, " ")
	if strings.EqualFold(scheme, "Basic") && !a.cfg.Forwarded {
		authz = "" // a reverse proxy's own credential
	}

	caller, err := a.authenticate(ctx, c, authz, strings.EqualFold(scheme, "Bearer"), strings.TrimSpace(token), key)
	result := "ok"
	switch {
	case errors.Is(err, ErrForbidden):
		result = "forbidden"
	case err != nil:
		result = "unauthenticated"
	}
	a.observe(caller.Method, result)
	return caller, err
}

func (a *Authenticator) authenticate(ctx context.Context, c Caller, authz string, bearer bool, token, key string) (Caller, error) {
	switch {
	case a.cfg.Forwarded:
		if key != "" {
			c.Method = MethodAPIKey
			return c, unauthenticated("API keys are not accepted in forwarded mode: send your Livestorm credential as Authorization")
		}
		if authz == "" {
			break
		}
		sum := sha256.Sum256([]byte(authz))
		c.ID, c.Role, c.Method = "forwarded:"+hex.EncodeToString(sum[:6]), RoleAdmin, MethodForwarded
		return c, nil

	case authz != "" && key != "":
		c.Method = MethodJWT
		return c, unauthenticated("send one credential: Authorization or X-API-Key, not both")

	case authz != "":
		c.Method = MethodJWT
		if !bearer || token == "" {
			return c, unauthenticated(`the Authorization header must be "Bearer <token>"`)
		}
		if a.jwt == nil {
			return c, unauthenticated("bearer tokens are not accepted by this gateway (no AUTH_JWKS_URL or AUTH_JWT_SECRET)")
		}
		claims, reason := a.jwt.verify(ctx, token)
		if reason != "" {
			return c, unauthenticated("%s", reason)
		}
		sub, _ := claims["sub"].(string)
		if sub == "" {
			return c, unauthenticated("token has no sub claim")
		}
		c.ID = "jwt:" + truncate(sub, 128)
		c.Role = a.anonymous
		for _, r := range rolesFromClaims(claims, a.jwt.roleClaim) {
			c.Role = max(c.Role, r)
		}
		if c.Role == RoleNone {
			return c, &Error{Kind: ErrForbidden, Reason: fmt.Sprintf("the token's %s claim names no role of this gateway (public, viewer, editor, admin)", a.jwt.roleClaim)}
		}
		return c, nil

	case key != "":
		c.Method = MethodAPIKey
		if a.keys == nil {
			return c, unauthenticated("API keys are not accepted by this gateway (no AUTH_API_KEYS_FILE)")
		}
		k, ok := lookupAPIKey(a.keys, key)
		if !ok {
			return c, unauthenticated("unknown API key")
		}
		c.ID, c.Role = "key:"+k.name, k.role
		return c, nil
	}

	c.Method = MethodAnonymous
	if a.cfg.Demo {
		c.Method = MethodDemo
	}
	c.Role = a.anonymous
	if a.cfg.Forwarded {
		c.Role = RolePublic // no Livestorm credential: nothing upstream will answer it anyway
	}
	if c.Role == RoleNone {
		return c, unauthenticated("this gateway requires a credential: Authorization: Bearer <token> or X-API-Key")
	}
	return c, nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
