package auth

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// clock is the instant every test token is checked at.
var clock = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

const testSecret = "0123456789abcdef0123456789abcdef-dev-only"

// claims returns valid claims for sub, overridden by extra (a nil value deletes).
func claims(extra map[string]any) jwt.MapClaims {
	c := jwt.MapClaims{"sub": "alice", "iss": "https://idp.example", "aud": "gateway",
		"exp": clock.Add(time.Hour).Unix(), "iat": clock.Add(-time.Minute).Unix(), "role": "viewer"}
	for k, v := range extra {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return c
}

func signHS(t *testing.T, key []byte, c jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(key)
	require.NoError(t, err)
	return s
}

// unsignedToken is an "alg":"none" token, as an attacker writes one.
func unsignedToken(t *testing.T, c jwt.MapClaims, kid string) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodNone, c)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(jwt.UnsafeAllowNoneSignatureType)
	require.NoError(t, err)
	return s
}

func newAuth(t *testing.T, cfg Config) *Authenticator {
	t.Helper()
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return clock }
	}
	a, err := New(cfg)
	require.NoError(t, err)
	t.Cleanup(a.Close)
	return a
}

func bearer(tok string) Credentials {
	return Credentials{Authorization: "Bearer " + tok, RemoteAddr: "203.0.113.7:5555"}
}

// requireRefused asserts err is an UNAUTHENTICATED refusal whose reason contains want.
func requireRefused(t *testing.T, c Caller, err error, want string) {
	t.Helper()
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrUnauthenticated)
	var e *Error
	require.True(t, errors.As(err, &e))
	assert.Contains(t, e.Reason, want)
	assert.Equal(t, RoleNone, c.Role, "a refused caller holds no role")
}

func TestJWTWithSharedSecret(t *testing.T) {
	a := newAuth(t, Config{JWTSecret: testSecret, Issuer: "https://idp.example", Audience: "gateway"})
	key := []byte(testSecret)
	cases := []struct {
		name   string
		token  string
		role   Role   // when accepted
		reason string // when refused
	}{
		{"good", signHS(t, key, claims(nil)), RoleViewer, ""},
		{"bad signature", signHS(t, []byte("another-secret-another-secret-another"), claims(nil)), 0, "signature invalid"},
		{"alg none", unsignedToken(t, claims(nil), ""), 0, "not accepted"},
		{"wrong issuer", signHS(t, key, claims(map[string]any{"iss": "https://evil.example"})), 0, "issuer not accepted"},
		{"no issuer", signHS(t, key, claims(map[string]any{"iss": nil})), 0, "required claim"},
		{"wrong audience", signHS(t, key, claims(map[string]any{"aud": "another-api"})), 0, "audience not accepted"},
		{"audience among several", signHS(t, key, claims(map[string]any{"aud": []string{"other", "gateway"}})), RoleViewer, ""},
		{"expired", signHS(t, key, claims(map[string]any{"exp": clock.Add(-2 * time.Minute).Unix()})), 0, "expired"},
		{"expired within the 60 s leeway", signHS(t, key, claims(map[string]any{"exp": clock.Add(-30 * time.Second).Unix()})), RoleViewer, ""},
		{"nbf in the future", signHS(t, key, claims(map[string]any{"nbf": clock.Add(5 * time.Minute).Unix()})), 0, "not valid yet"},
		{"nbf within the leeway", signHS(t, key, claims(map[string]any{"nbf": clock.Add(30 * time.Second).Unix()})), RoleViewer, ""},
		{"no exp", signHS(t, key, claims(map[string]any{"exp": nil})), 0, "required claim"},
		{"no sub", signHS(t, key, claims(map[string]any{"sub": nil})), 0, "no sub"},
		{"malformed", "not.a.jwt", 0, "malformed"},
		{"too large", string(make([]byte, maxTokenBytes+1)), 0, "too large"},
		{"no known role: the anonymous role", signHS(t, key, claims(map[string]any{"role": "superuser"})), RolePublic, ""},
		{"no role claim: the anonymous role", signHS(t, key, claims(map[string]any{"role": nil})), RolePublic, ""},
		{"array: the highest known role wins", signHS(t, key, claims(map[string]any{"role": []string{"viewer", "Admin", "unknown", "editor"}})), RoleAdmin, ""},
		{"space-separated string", signHS(t, key, claims(map[string]any{"role": "public editor"})), RoleEditor, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := a.Authenticate(t.Context(), bearer(tc.token))
			if tc.reason != "" {
				requireRefused(t, c, err, tc.reason)
				assert.Equal(t, MethodJWT, c.Method)
				assert.Equal(t, "ip:203.0.113.7", c.ID, "a refused caller is logged by IP")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, Caller{ID: "jwt:alice", Role: tc.role, Method: MethodJWT, IP: c.IP}, c)
		})
	}
}

func TestBearerSchemes(t *testing.T) {
	a := newAuth(t, Config{JWTSecret: testSecret})
	good := signHS(t, []byte(testSecret), claims(map[string]any{"iss": nil, "aud": nil}))
	t.Run("scheme is case-insensitive", func(t *testing.T) {
		c, err := a.Authenticate(t.Context(), Credentials{Authorization: "bearer " + good})
		require.NoError(t, err)
		assert.Equal(t, RoleViewer, c.Role)
	})
	t.Run("a raw token without Bearer is refused, not anonymous", func(t *testing.T) {
		c, err := a.Authenticate(t.Context(), Credentials{Authorization: good})
		requireRefused(t, c, err, "Bearer <token>")
	})
	t.Run("Basic belongs to a proxy in front and is ignored", func(t *testing.T) {
		c, err := a.Authenticate(t.Context(), Credentials{Authorization: "Basic dXNlcjpwYXNz"})
		require.NoError(t, err)
		assert.Equal(t, MethodAnonymous, c.Method)
		assert.Equal(t, RolePublic, c.Role)
	})
	t.Run("a bearer token with no JWT configured is refused", func(t *testing.T) {
		b := newAuth(t, Config{})
		c, err := b.Authenticate(t.Context(), bearer(good))
		requireRefused(t, c, err, "no AUTH_JWKS_URL or AUTH_JWT_SECRET")
	})
	t.Run("two credentials are refused", func(t *testing.T) {
		cr := bearer(good)
		cr.APIKey = "k"
		c, err := a.Authenticate(t.Context(), cr)
		requireRefused(t, c, err, "not both")
	})
}

func TestRoleClaimPaths(t *testing.T) {
	key := []byte(testSecret)
	cases := []struct {
		name, claim string
		extra       map[string]any
		want        Role
	}{
		{"Keycloak realm_access.roles", "realm_access.roles",
			map[string]any{"realm_access": map[string]any{"roles": []string{"offline_access", "editor"}}}, RoleEditor},
		{"Auth0 namespaced claim (the literal name wins)", "https://example.com/role",
			map[string]any{"https://example.com/role": "admin"}, RoleAdmin},
		{"namespaced object, then a dotted path", "https://example.com/app.roles",
			map[string]any{"https://example.com/app": map[string]any{"roles": []string{"viewer"}}}, RoleViewer},
		{"literal dotted key before nesting", "a.b",
			map[string]any{"a.b": "editor", "a": map[string]any{"b": "admin"}}, RoleEditor},
		{"missing path: anonymous role", "realm_access.roles", map[string]any{"realm_access": "viewer"}, RolePublic},
		{"non-string values ignored", "role", map[string]any{"role": []any{1, true, "viewer"}}, RoleViewer},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := newAuth(t, Config{JWTSecret: testSecret, RoleClaim: tc.claim})
			extra := map[string]any{"role": nil}
			for k, v := range tc.extra {
				extra[k] = v
			}
			c, err := a.Authenticate(t.Context(), bearer(signHS(t, key, claims(extra))))
			require.NoError(t, err)
			assert.Equal(t, tc.want, c.Role)
		})
	}
}

func TestAnonymous(t *testing.T) {
	cr := Credentials{RemoteAddr: "198.51.100.4:1234"}
	t.Run("default public, identified by IP", func(t *testing.T) {
		c, err := newAuth(t, Config{}).Authenticate(t.Context(), cr)
		require.NoError(t, err)
		assert.Equal(t, "ip:198.51.100.4", c.ID)
		assert.Equal(t, RolePublic, c.Role)
		assert.Equal(t, MethodAnonymous, c.Method)
	})
	t.Run("none refuses callers without a credential", func(t *testing.T) {
		c, err := newAuth(t, Config{AnonymousRole: "none"}).Authenticate(t.Context(), cr)
		requireRefused(t, c, err, "requires a credential")
		assert.Equal(t, MethodAnonymous, c.Method)
	})
	t.Run("none: a valid token naming no known role is forbidden", func(t *testing.T) {
		a := newAuth(t, Config{AnonymousRole: "none", JWTSecret: testSecret})
		c, err := a.Authenticate(t.Context(), bearer(signHS(t, []byte(testSecret), claims(map[string]any{"iss": nil, "aud": nil, "role": "guest"}))))
		require.ErrorIs(t, err, ErrForbidden)
		assert.Equal(t, "jwt:alice", c.ID, "the subject is known, for the log")
		assert.Equal(t, RoleNone, c.Role)
	})
	t.Run("demo mode: admin", func(t *testing.T) {
		c, err := newAuth(t, Config{Demo: true}).Authenticate(t.Context(), cr)
		require.NoError(t, err)
		assert.Equal(t, RoleAdmin, c.Role)
		assert.Equal(t, MethodDemo, c.Method)
	})
	t.Run("demo mode honours an explicit anonymous role", func(t *testing.T) {
		c, err := newAuth(t, Config{Demo: true, AnonymousRole: "public"}).Authenticate(t.Context(), cr)
		require.NoError(t, err)
		assert.Equal(t, RolePublic, c.Role)
	})
}

func TestForwarded(t *testing.T) {
	a := newAuth(t, Config{Forwarded: true})
	c, err := a.Authenticate(t.Context(), Credentials{Authorization: "Bearer livestorm-oauth-token"})
	require.NoError(t, err)
	assert.Equal(t, MethodForwarded, c.Method)
	assert.Equal(t, RoleAdmin, c.Role, "bounded by the token's own scopes upstream")
	assert.Regexp(t, `^forwarded:[0-9a-f]{12}$`, c.ID)
	assert.NotContains(t, c.ID, "livestorm-oauth-token")
	other, err := a.Authenticate(t.Context(), Credentials{Authorization: "another-token"})
	require.NoError(t, err)
	assert.NotEqual(t, c.ID, other.ID)

	anon, err := a.Authenticate(t.Context(), Credentials{RemoteAddr: "192.0.2.1:1"})
	require.NoError(t, err)
	assert.Equal(t, MethodAnonymous, anon.Method)

	_, err = New(Config{Forwarded: true, APIKeysFile: "keys", JWTSecret: testSecret})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "AUTH_API_KEYS_FILE")
	assert.Contains(t, err.Error(), "AUTH_JWT_SECRET")
	assert.Contains(t, err.Error(), "LIVESTORM_FORWARD_AUTH")
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
	return p
}

func sha256Hex(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }

func TestAPIKeys(t *testing.T) {
	const bffKey, opsKey = "9f2c6e4b1a7d3f8e0c5b2a9d6e3f1c7a", "ops-key-0f1e2d3c4b5a69788796a5b4c3d2e1f0"
	file := writeFile(t, "# name role sha256\n\nportal-bff viewer "+sha256Hex(bffKey)+"\n  ops   ADMIN   "+sha256Hex(opsKey)+"  \n")
	a := newAuth(t, Config{APIKeysFile: file})
	t.Run("good", func(t *testing.T) {
		c, err := a.Authenticate(t.Context(), Credentials{APIKey: bffKey, RemoteAddr: "10.0.0.5:80"})
		require.NoError(t, err)
		assert.Equal(t, Caller{ID: "key:portal-bff", Role: RoleViewer, Method: MethodAPIKey, IP: c.IP}, c)
		c, err = a.Authenticate(t.Context(), Credentials{APIKey: opsKey})
		require.NoError(t, err)
		assert.Equal(t, RoleAdmin, c.Role)
	})
	for name, key := range map[string]string{"bad": "guess", "the hash itself": sha256Hex(bffKey), "one byte off": bffKey[:len(bffKey)-1] + "b"} {
		t.Run(name, func(t *testing.T) {
			c, err := a.Authenticate(t.Context(), Credentials{APIKey: key})
			requireRefused(t, c, err, "unknown API key")
			assert.Equal(t, MethodAPIKey, c.Method)
		})
	}
	t.Run("not configured", func(t *testing.T) {
		c, err := newAuth(t, Config{}).Authenticate(t.Context(), Credentials{APIKey: bffKey})
		requireRefused(t, c, err, "no AUTH_API_KEYS_FILE")
	})
	bad := []struct{ name, content, want string }{
		{"two fields", "a viewer\n", "line 1"},
		{"unknown role", "# ok\n\nbff owner " + sha256Hex("x") + "\n", "line 3: the role"},
		{"role none", "bff none " + sha256Hex("x"), "line 1: the role"},
		{"not hex", "bff viewer the-key-itself", "line 1: the third field"},
		{"short hash", "bff viewer abcd", "line 1: the third field"},
		{"duplicate name", "a viewer " + sha256Hex("x") + "\na admin " + sha256Hex("y"), "line 2: the name \"a\" is already used on line 1"},
		{"duplicate key", "a viewer " + sha256Hex("x") + "\nb admin " + sha256Hex("x"), "line 2: the same key"},
		{"bad name", "a/b viewer " + sha256Hex("x"), "line 1: the name"},
		{"empty", "# nothing\n", "no keys"},
	}
	for _, tc := range bad {
		t.Run("file: "+tc.name, func(t *testing.T) {
			_, err := New(Config{APIKeysFile: writeFile(t, tc.content)})
			require.Error(t, err)
			assert.Contains(t, err.Error(), "AUTH_API_KEYS_FILE: ")
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), "the-key-itself")
		})
	}
	t.Run("missing file", func(t *testing.T) {
		_, err := New(Config{APIKeysFile: filepath.Join(t.TempDir(), "nope")})
		assert.ErrorContains(t, err, "AUTH_API_KEYS_FILE")
	})
}

func TestConfigErrors(t *testing.T) {
	cases := []struct {
		name string
		cfg  Config
		want string
	}{
		{"short secret", Config{JWTSecret: "short"}, "AUTH_JWT_SECRET: must be at least 32 bytes"},
		{"secret and JWKS", Config{JWTSecret: testSecret, JWKSURL: "https://idp.example/jwks"}, "AUTH_JWKS_URL and AUTH_JWT_SECRET"},
		{"issuer without JWT", Config{Issuer: "x"}, "AUTH_JWT_ISSUER"},
		{"bad anonymous role", Config{AnonymousRole: "guest"}, "AUTH_ANONYMOUS_ROLE"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.cfg)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), testSecret)
		})
	}
}

func TestObserve(t *testing.T) {
	var mu sync.Mutex
	got := map[[2]string]int{}
	a := newAuth(t, Config{JWTSecret: testSecret, Observe: func(m, r string) { mu.Lock(); got[[2]string{m, r}]++; mu.Unlock() }})
	_, _ = a.Authenticate(t.Context(), Credentials{})
	_, _ = a.Authenticate(t.Context(), bearer("garbage"))
	_, _ = a.Authenticate(t.Context(), Credentials{APIKey: "x"})
	_, _ = a.Authenticate(t.Context(), bearer(signHS(t, []byte(testSecret), claims(map[string]any{"iss": nil, "aud": nil}))))
	assert.Equal(t, map[[2]string]int{
		{MethodAnonymous, "ok"}: 1, {MethodJWT, "unauthenticated"}: 1, {MethodAPIKey, "unauthenticated"}: 1, {MethodJWT, "ok"}: 1,
	}, got)
}

func TestRoles(t *testing.T) {
	for _, r := range append([]Role{RoleNone}, Roles...) {
		back, ok := ParseRole(r.String())
		assert.True(t, ok)
		assert.Equal(t, r, back)
	}
	assert.True(t, RoleNone < RolePublic && RolePublic < RoleViewer && RoleViewer < RoleEditor && RoleEditor < RoleAdmin)
	assert.True(t, RoleEditor.Allows(RoleViewer))
	assert.False(t, RolePublic.Allows(RoleViewer))
	assert.False(t, RoleNone.Allows(RoleNone), "no role allows nothing")
	_, ok := ParseRole("root")
	assert.False(t, ok)
}

func TestCallerContext(t *testing.T) {
	_, ok := CallerFrom(context.Background())
	assert.False(t, ok)
	c := Caller{ID: "key:x", Role: RoleEditor, Method: MethodAPIKey}
	got, ok := CallerFrom(NewContext(context.Background(), c))
	assert.True(t, ok)
	assert.Equal(t, c, got)
}

// jwksServer serves a JWK Set that the test can change, counting fetches.
type jwksServer struct {
	*httptest.Server
	mu      sync.Mutex
	keys    []jwkset.JWK
	fetches atomic.Int32
}

func newJWKSServer(t testing.TB) *jwksServer {
	t.Helper()
	s := &jwksServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fetches.Add(1)
		s.mu.Lock()
		store := jwkset.NewMemoryStorage()
		for _, k := range s.keys {
			require.NoError(t, store.KeyWrite(r.Context(), k))
		}
		s.mu.Unlock()
		body, err := store.JSONPublic(r.Context())
		require.NoError(t, err)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	t.Cleanup(s.Close)
	return s
}

// publish replaces the served keys.
func (s *jwksServer) publish(t testing.TB, keys map[string]any) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys = nil
	for kid, k := range keys {
		var alg jwkset.ALG
		switch k.(type) {
		case *rsa.PrivateKey:
			alg = jwkset.AlgRS256
		case *ecdsa.PrivateKey:
			alg = jwkset.AlgES256
		case ed25519.PrivateKey:
			alg = jwkset.AlgEdDSA
		}
		jwk, err := jwkset.NewJWKFromKey(publicOf(k), jwkset.JWKOptions{Metadata: jwkset.JWKMetadataOptions{KID: kid, ALG: alg, USE: jwkset.UseSig}})
		require.NoError(t, err)
		s.keys = append(s.keys, jwk)
	}
}

func publicOf(k any) any {
	switch k := k.(type) {
	case *rsa.PrivateKey:
		return &k.PublicKey
	case *ecdsa.PrivateKey:
		return &k.PublicKey
	case ed25519.PrivateKey:
		return k.Public()
	}
	panic("unknown key")
}

func sign(t *testing.T, method jwt.SigningMethod, key any, kid string, c jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, c)
	tok.Header["kid"] = kid
	s, err := tok.SignedString(key)
	require.NoError(t, err)
	return s
}

func TestJWKS(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	otherRSA, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)

	srv := newJWKSServer(t)
	srv.publish(t, map[string]any{"rsa-1": rsaKey, "ec-1": ecKey, "ed-1": edKey})
	a := newAuth(t, Config{JWKSURL: srv.URL, Issuer: "https://idp.example", Audience: "gateway", JWKSWaitMax: time.Millisecond})
	require.EqualValues(t, 1, srv.fetches.Load(), "fetched once at start")

	pubDER, err := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
	require.NoError(t, err)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})

	good := claims(nil)
	cases := []struct {
		name   string
		token  string
		reason string
	}{
		{"RS256", sign(t, jwt.SigningMethodRS256, rsaKey, "rsa-1", good), ""},
		{"ES256", sign(t, jwt.SigningMethodES256, ecKey, "ec-1", good), ""},
		{"EdDSA", sign(t, jwt.SigningMethodEdDSA, edKey, "ed-1", good), ""},
		{"bad signature (another key, same kid)", sign(t, jwt.SigningMethodRS256, otherRSA, "rsa-1", good), "signature invalid"},
		{"alg none", unsignedToken(t, good, "rsa-1"), "not accepted"},
		// The classic confusion: HS256 "signed" with the RSA public key a verifier that
		// trusted the token's alg would use as the HMAC secret.
		{"HS256 signed with the RSA public key (PEM)", sign(t, jwt.SigningMethodHS256, pubPEM, "rsa-1", good), "not accepted"},
		{"HS256 signed with the RSA public key (DER)", sign(t, jwt.SigningMethodHS256, pubDER, "rsa-1", good), "not accepted"},
		{"ES256 header on the RSA key", sign(t, jwt.SigningMethodES256, ecKey, "rsa-1", good), ""},
		{"expired", sign(t, jwt.SigningMethodRS256, rsaKey, "rsa-1", claims(map[string]any{"exp": clock.Add(-time.Hour).Unix()})), "expired"},
		{"wrong audience", sign(t, jwt.SigningMethodRS256, rsaKey, "rsa-1", claims(map[string]any{"aud": "x"})), "audience"},
	}
	cases[7].reason = "not accepted" // the JWK says RS256; a token claiming ES256 for it is refused
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := a.Authenticate(t.Context(), bearer(tc.token))
			if tc.reason != "" {
				requireRefused(t, c, err, tc.reason)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, RoleViewer, c.Role)
			assert.Equal(t, "jwt:alice", c.ID)
		})
	}
	assert.EqualValues(t, 1, srv.fetches.Load(), "known kids cost no fetch")
}

// TestJWKSRotation: the identity provider rotates to a new key; the first token signed
// with it makes the gateway fetch the JWKS once, later ones use the cache, and a stream
// of made-up kids right after costs no fetch (rate-limited).
func TestJWKSRotation(t *testing.T) {
	oldKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	newKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	srv := newJWKSServer(t)
	srv.publish(t, map[string]any{"2026-01": oldKey})
	a := newAuth(t, Config{JWKSURL: srv.URL, JWKSUnknownKIDInterval: time.Hour, JWKSWaitMax: time.Second})
	require.EqualValues(t, 1, srv.fetches.Load())

	oldTok := sign(t, jwt.SigningMethodRS256, oldKey, "2026-01", claims(nil))
	_, err = a.Authenticate(t.Context(), bearer(oldTok))
	require.NoError(t, err)

	srv.publish(t, map[string]any{"2026-03": newKey}) // rotated: the old key is withdrawn
	newTok := sign(t, jwt.SigningMethodES256, newKey, "2026-03", claims(map[string]any{"role": "editor"}))
	var wg sync.WaitGroup
	for range 8 { // concurrent first uses of the new kid
		wg.Go(func() {
			c, err := a.Authenticate(context.Background(), bearer(newTok))
			assert.NoError(t, err)
			assert.Equal(t, RoleEditor, c.Role)
		})
	}
	wg.Wait()
	assert.EqualValues(t, 2, srv.fetches.Load(), "the new kid was fetched once")

	for i := range 20 {
		c, err := a.Authenticate(t.Context(), bearer(sign(t, jwt.SigningMethodES256, newKey, "made-up-"+string(rune('a'+i)), claims(nil))))
		requireRefused(t, c, err, "signing key unknown")
	}
	_, err = a.Authenticate(t.Context(), bearer(newTok))
	require.NoError(t, err)
	assert.EqualValues(t, 2, srv.fetches.Load(), "unknown kids are rate-limited: no further fetch")

	c, err := a.Authenticate(t.Context(), bearer(oldTok))
	requireRefused(t, c, err, "signing key unknown")
}

func TestJWKSUnreachableAtStart(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	srv := newJWKSServer(t)
	url := srv.URL
	srv.Close()
	a, err := New(Config{JWKSURL: url, Now: func() time.Time { return clock }, JWKSWaitMax: time.Second})
	require.NoError(t, err, "an identity provider down at start does not stop the gateway")
	defer a.Close()
	c, err := a.Authenticate(t.Context(), bearer(sign(t, jwt.SigningMethodES256, key, "k1", claims(nil))))
	requireRefused(t, c, err, "signing key unknown")
}

func TestLogValueHasNoCredential(t *testing.T) {
	var buf bytes.Buffer
	c := Caller{ID: "key:bff", Role: RoleViewer, Method: MethodAPIKey, IP: netip.MustParseAddr("10.0.0.5")}
	slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "caller", c)
	assert.Contains(t, buf.String(), "caller.id=key:bff caller.role=viewer caller.method=api_key caller.ip=10.0.0.5")
}
