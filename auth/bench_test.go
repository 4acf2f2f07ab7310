package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"
)

// BenchmarkAuthenticate measures what identifying a caller costs per request, for each
// credential kind (JWKS keys cached, as in steady state).
func BenchmarkAuthenticate(b *testing.B) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(b, err)
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(b, err)
	srv := newJWKSServer(b)
	srv.publish(b, map[string]any{"rsa": rsaKey, "ec": ecKey})
	jwks, err := New(Config{JWKSURL: srv.URL})
	require.NoError(b, err)
	defer jwks.Close()
	secret, err := New(Config{JWTSecret: testSecret})
	require.NoError(b, err)

	var lines []string
	for i := range 100 {
		lines = append(lines, fmt.Sprintf("key-%d viewer %s", i, sha256Hex(fmt.Sprint("key", i))))
	}
	keys, err := parseAPIKeys([]byte(strings.Join(lines, "\n")))
	require.NoError(b, err)
	apiKeys := &Authenticator{keys: keys, anonymous: RolePublic, observe: func(string, string) {}}

	c := jwt.MapClaims{"sub": "alice", "exp": 4102444800, "role": "viewer"}
	rsTok := jwt.NewWithClaims(jwt.SigningMethodRS256, c)
	rsTok.Header["kid"] = "rsa"
	rs, _ := rsTok.SignedString(rsaKey)
	esTok := jwt.NewWithClaims(jwt.SigningMethodES256, c)
	esTok.Header["kid"] = "ec"
	es, _ := esTok.SignedString(ecKey)
	hs, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString([]byte(testSecret))

	cases := []struct {
		name string
		a    *Authenticator
		cr   Credentials
	}{
		{"anonymous", secret, Credentials{RemoteAddr: "203.0.113.1:1"}},
		{"api_key_of_100", apiKeys, Credentials{APIKey: "key99", RemoteAddr: "203.0.113.1:1"}},
		{"jwt_HS256", secret, Credentials{Authorization: "Bearer " + hs}},
		{"jwt_RS256_jwks", jwks, Credentials{Authorization: "Bearer " + rs}},
		{"jwt_ES256_jwks", jwks, Credentials{Authorization: "Bearer " + es}},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := tc.a.Authenticate(b.Context(), tc.cr); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
