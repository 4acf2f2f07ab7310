package livestorm

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
)

// ErrNoCredential reports that neither the context nor the client carries a
// credential. Calls fail with it (wrapped in a KindUnauthorized *Error) before
// any HTTP request is made, so an unauthenticated caller never costs quota.
var ErrNoCredential = errors.New("livestorm: no credential")

type credentialKind uint8

const (
	kindNone credentialKind = iota
	kindAPIToken
	kindOAuth
)

// Credential is a Livestorm API token or OAuth access token. The secret is
// unexported and every textual form of a Credential is redacted, so a
// Credential can be logged, printed or wrapped in errors without leaking it.
type Credential struct {
	kind   credentialKind
	secret string
}

// APIToken returns a credential for a workspace's private API token. Livestorm
// expects it raw in the Authorization header, without a "Bearer" prefix.
func APIToken(token string) Credential {
	token = strings.TrimSpace(token)
	if token == "" {
		return Credential{}
	}
	return Credential{kind: kindAPIToken, secret: token}
}

// OAuthToken returns a credential for an OAuth2 access token, which Livestorm
// routes to Doorkeeper only when it is sent as "Bearer <token>".
func OAuthToken(token string) Credential {
	token = strings.TrimSpace(token)
	if token == "" {
		return Credential{}
	}
	return Credential{kind: kindOAuth, secret: token}
}

// ParseAuthorization turns an incoming Authorization header value into a
// Credential, for gateways that forward their caller's credential: "Bearer x"
// is an OAuth token, any other non-empty value is an API token, and an empty
// value is ErrNoCredential.
func ParseAuthorization(header string) (Credential, error) {
	h := strings.TrimSpace(header)
	if h == "" {
		return Credential{}, ErrNoCredential
	}
	if len(h) >= 6 && strings.EqualFold(h[:6], "bearer") && (len(h) == 6 || h[6] == ' ' || h[6] == '\t') {
		tok := strings.TrimSpace(h[6:])
		if tok == "" {
			return Credential{}, ErrNoCredential
		}
		return OAuthToken(tok), nil
	}
	return APIToken(h), nil
}

// IsZero reports whether c carries no secret.
func (c Credential) IsZero() bool { return c.kind == kindNone || c.secret == "" }

// IsOAuth reports whether c is an OAuth access token (sent with "Bearer").
func (c Credential) IsOAuth() bool { return c.kind == kindOAuth }

// Fingerprint is the hex SHA-256 of the credential's kind and secret: a stable
// key for caches, limiters and rate-limit bookkeeping that never reveals the
// secret. It is "" for the zero credential.
func (c Credential) Fingerprint() string {
	if c.IsZero() {
		return ""
	}
	h := sha256.New()
	h.Write([]byte{byte(c.kind), ':'})
	h.Write([]byte(c.secret))
	return hex.EncodeToString(h.Sum(nil))
}

// UnverifiedOrg returns the `org` claim of an API-token JWT without verifying
// its signature. It is only meaningful after Livestorm accepted the token
// (e.g. to scope a cache); never use it to authorize anything.
func (c Credential) UnverifiedOrg() (string, bool) {
	if c.kind != kindAPIToken {
		return "", false
	}
	parts := strings.Split(c.secret, ".")
	if len(parts) != 3 {
		return "", false
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return "", false
	}
	var claims struct {
		Org any `json:"org"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil {
		return "", false
	}
	org, ok := claims.Org.(string)
	if !ok || org == "" {
		return "", false
	}
	return org, true
}

// String returns a redacted description such as "api-token(…sha:1a2b3c)",
// enough to tell two credentials apart in logs without exposing either.
func (c Credential) String() string {
	if c.IsZero() {
		return "credential(none)"
	}
	name := "api-token"
	if c.kind == kindOAuth {
		name = "oauth-token"
	}
	return name + "(…sha:" + c.Fingerprint()[:6] + ")"
}

// GoString keeps %#v as redacted as %v.
func (c Credential) GoString() string { return c.String() }

// LogValue makes slog print the redacted form, never the secret.
func (c Credential) LogValue() slog.Value { return slog.StringValue(c.String()) }

// MarshalText keeps encoders (JSON, YAML, …) from ever seeing the secret.
func (c Credential) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// authorization is the Authorization header value for c.
func (c Credential) authorization() string {
	if c.kind == kindOAuth {
		return "Bearer " + c.secret
	}
	return c.secret
}

// valid reports whether the secret can be sent in a header at all; control
// characters would otherwise make net/http fail with a less helpful error.
func (c Credential) valid() bool {
	for i := 0; i < len(c.secret); i++ {
		if b := c.secret[i]; b < 0x20 || b == 0x7f {
			return false
		}
	}
	return true
}

type credentialKey struct{}

// ContextWithCredential returns a context whose calls use c instead of the
// client's default credential: the hook for forwarding a caller's own token.
func ContextWithCredential(ctx context.Context, c Credential) context.Context {
	return context.WithValue(ctx, credentialKey{}, c)
}

// CredentialFrom returns the credential stored by ContextWithCredential.
func CredentialFrom(ctx context.Context) (Credential, bool) {
	c, ok := ctx.Value(credentialKey{}).(Credential)
	if !ok || c.IsZero() {
		return Credential{}, false
	}
	return c, true
}
