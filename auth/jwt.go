package auth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/sync/singleflight"
	"golang.org/x/time/rate"
)

// Leeway is the clock skew allowed on exp, nbf and iat.
const Leeway = 60 * time.Second

// maxTokenBytes bounds a bearer token: real ones are a few KB, and nothing larger is
// worth decoding.
const maxTokenBytes = 16 << 10

// Algorithms accepted from a JWKS (asymmetric only: a public key can never be used as
// an HMAC secret, which is what algorithm confusion relies on), and with a shared
// secret (HS256 only).
var (
	jwksAlgorithms   = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
	secretAlgorithms = []string{"HS256"}
)

// MinSecretBytes is the shortest AUTH_JWT_SECRET accepted: HS256 needs a key at least
// as long as its hash (RFC 7518 §3.2).
const MinSecretBytes = 32

// jwtVerifier checks bearer tokens against a JWKS or a shared secret.
type jwtVerifier struct {
	parser    *jwt.Parser
	keyfunc   func(ctx context.Context) jwt.Keyfunc
	roleClaim string
	close     func()
}

// jwksDefaults: the JWKS is re-fetched every hour, and on a token naming an unknown
// key id at most once per unknownKIDInterval (a stream of made-up kids costs one
// fetch per interval, not one per request); a request waits at most jwksWaitMax for
// that fetch.
const (
	jwksRefreshInterval    = time.Hour
	jwksUnknownKIDInterval = 30 * time.Second
	jwksWaitMax            = 2 * time.Second
	jwksMaxBytes           = 1 << 20
)

func newJWTVerifier(cfg Config, logger *slog.Logger) (*jwtVerifier, error) {
	opts := []jwt.ParserOption{
		jwt.WithLeeway(Leeway),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithTimeFunc(cfg.Now),
	}
	if cfg.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(cfg.Issuer))
	}
	if cfg.Audience != "" {
		opts = append(opts, jwt.WithAudience(cfg.Audience))
	}
	v := &jwtVerifier{roleClaim: cfg.RoleClaim, close: func() {}}
	if v.roleClaim == "" {
		v.roleClaim = "role"
	}
	switch {
	case cfg.JWTSecret != "":
		secret := []byte(cfg.JWTSecret)
		opts = append(opts, jwt.WithValidMethods(secretAlgorithms))
		v.keyfunc = func(context.Context) jwt.Keyfunc {
			return func(t *jwt.Token) (any, error) {
				if _, ok := t.Method.(*jwt.SigningMethodHMAC); !ok {
					return nil, fmt.Errorf("algorithm %s not accepted", t.Method.Alg())
				}
				return secret, nil
			}
		}
	case cfg.JWKSURL != "":
		ctx, cancel := context.WithCancel(context.Background())
		client := cfg.HTTPClient
		if client == nil {
			client = &http.Client{Timeout: 10 * time.Second}
		}
		client = limitBodies(client, jwksMaxBytes)
		every, wait := cfg.JWKSUnknownKIDInterval, cfg.JWKSWaitMax
		if every <= 0 {
			every = jwksUnknownKIDInterval
		}
		if wait <= 0 {
			wait = jwksWaitMax
		}
		store, err := newJWKSStorage(ctx, cfg.JWKSURL, client, every, wait, logger)
		if err != nil {
			cancel()
			return nil, fmt.Errorf("AUTH_JWKS_URL: %w", err)
		}
		kf, err := keyfunc.New(keyfunc.Options{Ctx: ctx, Storage: store})
		if err != nil {
			cancel()
			return nil, fmt.Errorf("AUTH_JWKS_URL: %w", err)
		}
		opts = append(opts, jwt.WithValidMethods(jwksAlgorithms))
		v.keyfunc = kf.KeyfuncCtx
		v.close = cancel
	default:
		return nil, nil
	}
	v.parser = jwt.NewParser(opts...)
	return v, nil
}

// verify checks raw and returns its claims, or a reason safe to show the client.
func (v *jwtVerifier) verify(ctx context.Context, raw string) (jwt.MapClaims, string) {
	if len(raw) > maxTokenBytes {
		return nil, "token too large"
	}
	claims := jwt.MapClaims{}
	if _, err := v.parser.ParseWithClaims(raw, claims, v.keyfunc(ctx)); err != nil {
		return nil, jwtReason(err)
	}
	return claims, ""
}

// jwtReason names why a token was refused, without echoing any of it.
func jwtReason(err error) string {
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return "malformed token"
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		return "token signing key unknown or algorithm not accepted"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		if strings.Contains(err.Error(), "signing method") {
			return "token algorithm not accepted"
		}
		return "token signature invalid"
	case errors.Is(err, jwt.ErrTokenExpired):
		return "token expired"
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return "token not valid yet (nbf)"
	case errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return "token issued in the future (iat)"
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return "token issuer not accepted"
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return "token audience not accepted"
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return "token lacks a required claim (exp, iss or aud)"
	default:
		return "invalid token"
	}
}

// rolesFromClaims returns the known roles named by the claim at path, which may be a
// string (one role, or several separated by spaces) or an array of strings. The path is
// resolved in claims as follows: the literal claim name first (so a namespaced claim
// such as "https://example.com/role" is found whole), then split at its dots as
// nested objects ("realm_access.roles"), trying the longest claim names first at each
// level ("https://example.com/app.roles" finds {"https://example.com/app": {"roles":
// …}}).
func rolesFromClaims(claims map[string]any, path string) []Role {
	v, ok := lookupClaim(claims, path)
	if !ok {
		return nil
	}
	var names []string
	switch x := v.(type) {
	case string:
		names = strings.Fields(x)
	case []any:
		for _, e := range x {
			if s, ok := e.(string); ok {
				names = append(names, s)
			}
		}
	case []string:
		names = x
	}
	var roles []Role
	for _, n := range names {
		if r, ok := ParseRole(n); ok && r != RoleNone && !slices.Contains(roles, r) {
			roles = append(roles, r)
		}
	}
	return roles
}

func lookupClaim(m map[string]any, path string) (any, bool) {
	if v, ok := m[path]; ok {
		return v, true
	}
	for i := strings.LastIndexByte(path, '.'); i > 0; i = strings.LastIndexByte(path[:i], '.') {
		sub, ok := m[path[:i]].(map[string]any)
		if !ok {
			continue
		}
		if v, ok := lookupClaim(sub, path[i+1:]); ok {
			return v, true
		}
	}
	return nil, false
}

// newJWKSStorage is the key store of a JWKS URL: fetched now (a failure is logged, not
// fatal: an identity provider down at start must not stop the gateway), every
// jwksRefreshInterval, and when a token names a kid it does not hold, at most once per
// unknownKIDEvery. Concurrent lookups of the same unknown kid share one fetch.
func newJWKSStorage(ctx context.Context, url string, client *http.Client, unknownKIDEvery, waitMax time.Duration, logger *slog.Logger) (jwkset.Storage, error) {
	onError := func(ctx context.Context, err error) {
		logger.WarnContext(ctx, "JWKS fetch failed; tokens signed by keys not yet fetched are refused", "url", url, "err", err)
	}
	remote, err := jwkset.NewStorageFromHTTP(url, jwkset.HTTPClientStorageOptions{
		Client:                    client,
		Ctx:                       ctx,
		HTTPTimeout:               10 * time.Second,
		NoErrorReturnFirstHTTPReq: true,
		RefreshErrorHandler:       onError,
		RefreshInterval:           jwksRefreshInterval,
	})
	if err != nil {
		return nil, err
	}
	store, err := jwkset.NewHTTPClient(jwkset.HTTPClientOptions{
		HTTPURLs:          map[string]jwkset.Storage{url: remote},
		RateLimitWaitMax:  waitMax, // also bounds the fetch itself
		RefreshUnknownKID: rate.NewLimiter(rate.Every(unknownKIDEvery), 1),
	})
	if err != nil {
		return nil, err
	}
	return &sharedKeyReads{Storage: store}, nil
}

// sharedKeyReads makes concurrent reads of one key id share a single lookup, so that
// the first requests after a key rotation all wait for the one JWKS fetch the first of
// them triggers, instead of all but one being refused by the fetch rate limit.
type sharedKeyReads struct {
	jwkset.Storage
	flights singleflight.Group
}

func (s *sharedKeyReads) KeyRead(ctx context.Context, kid string) (jwkset.JWK, error) {
	ch := s.flights.DoChan(kid, func() (any, error) {
		return s.Storage.KeyRead(context.WithoutCancel(ctx), kid)
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return jwkset.JWK{}, r.Err
		}
		return r.Val.(jwkset.JWK), nil
	case <-ctx.Done():
		return jwkset.JWK{}, ctx.Err()
	}
}

// limitBodies returns a copy of c whose response bodies end after max bytes, so a
// misbehaving JWKS endpoint cannot make the gateway buffer without bound.
func limitBodies(c *http.Client, max int64) *http.Client {
	cp := *c
	base := cp.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	cp.Transport = roundTripFunc(func(r *http.Request) (*http.Response, error) {
		res, err := base.RoundTrip(r)
		if err == nil {
			res.Body = limitedBody{Reader: io.LimitReader(res.Body, max), Closer: res.Body}
		}
		return res, err
	})
	return &cp
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

type limitedBody struct {
	io.Reader
	io.Closer
}
