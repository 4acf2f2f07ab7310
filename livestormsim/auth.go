package livestormsim

import (
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Access is a token's permission level for one scope area.
type Access string

// Access levels, as configured per scope in Livestorm's token settings.
const (
	AccessNone  Access = "none"
	AccessRead  Access = "read"
	AccessWrite Access = "write"
)

// Scopes holds a token's access per area (Livestorm §2.1): Identity covers
// /me and /organization, Events covers events, sessions, people, jobs and
// people attributes, Admin covers /users and /organization, Webhooks covers
// /webhooks.
type Scopes struct{ Identity, Events, Admin, Webhooks Access }

// allScopes returns Scopes with every area at a.
func allScopes(a Access) Scopes { return Scopes{Identity: a, Events: a, Admin: a, Webhooks: a} }

func (sc Scopes) normalized() (Scopes, error) {
	fix := func(name string, a *Access) error {
		switch *a {
		case "":
			*a = AccessNone
		case AccessNone, AccessRead, AccessWrite:
		default:
			return fmt.Errorf("scopes: %s access %q is not none, read or write", name, *a)
		}
		return nil
	}
	for _, f := range []struct {
		name string
		a    *Access
	}{{"identity", &sc.Identity}, {"events", &sc.Events}, {"admin", &sc.Admin}, {"webhooks", &sc.Webhooks}} {
		if err := fix(f.name, f.a); err != nil {
			return sc, err
		}
	}
	return sc, nil
}

// scopeArea is the permission area a route belongs to.
type scopeArea int

const (
	areaAny          scopeArea = iota // /ping: any valid token
	areaIdentity                      // /me
	areaOrganization                  // /organization: identity OR admin
	areaEvents
	areaAdmin
	areaWebhooks
)

// satisfies reports whether access a permits method (GET needs read, every
// other method needs write).
func (a Access) satisfies(method string) bool {
	if method == http.MethodGet || method == http.MethodHead {
		return a == AccessRead || a == AccessWrite
	}
	return a == AccessWrite
}

func (sc Scopes) allows(area scopeArea, method string) bool {
	switch area {
	case areaAny:
		return true
	case areaIdentity:
		return sc.Identity.satisfies(method)
	case areaOrganization:
		return sc.Identity.satisfies(method) || sc.Admin.satisfies(method)
	case areaEvents:
		return sc.Events.satisfies(method)
	case areaAdmin:
		return sc.Admin.satisfies(method)
	case areaWebhooks:
		return sc.Webhooks.satisfies(method)
	}
	return false
}

// credential is what a valid Authorization header resolves to.
type credential struct {
	orgID  string
	scopes Scopes
	oauth  bool
	userID string // OAuth only: the connected team member
}

const tokenAudience = "api.livestorm.co"

// tokenRegistry issues and verifies tokens. API tokens are HS256 JWTs shaped
// like Livestorm's (aud, jti, iat, org) signed with a per-simulator random
// key; their scopes are looked up server-side by jti, as Livestorm does, so
// editing a claim both breaks the signature and cannot widen access.
type tokenRegistry struct {
	mu    sync.RWMutex
	key   []byte
	ids   *idSource
	api   map[string]credential // by jti
	oauth map[string]credential // by access token
}

func newTokenRegistry(ids *idSource) (*tokenRegistry, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("generate token key: %w", err)
	}
	return &tokenRegistry{key: key, ids: ids, api: map[string]credential{}, oauth: map[string]credential{}}, nil
}

func (t *tokenRegistry) issueAPI(orgID string, scopes Scopes, iat time.Time) (string, error) {
	jti := t.ids.uuid()
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"aud": tokenAudience, "jti": jti, "iat": iat.Unix(), "org": orgID,
	})
	tok.Header = map[string]any{"alg": "HS256"} // Livestorm's tokens carry no "typ"
	signed, err := tok.SignedString(t.key)
	if err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}
	t.mu.Lock()
	t.api[jti] = credential{orgID: orgID, scopes: scopes}
	t.mu.Unlock()
	return signed, nil
}

func (t *tokenRegistry) issueOAuth(orgID, userID string, scopes Scopes) string {
	token := t.ids.hex(32)
	t.mu.Lock()
	t.oauth[token] = credential{orgID: orgID, scopes: scopes, oauth: true, userID: userID}
	t.mu.Unlock()
	return token
}

// errUnauthorized carries the detail of a 401 and whether it came from the
// OAuth (Doorkeeper) path, which adds a WWW-Authenticate header.
type errUnauthorized struct {
	detail string
	oauth  bool
}

func (e *errUnauthorized) Error() string { return e.detail }

// authenticate resolves the Authorization header: a raw value is an API token,
// "Bearer <x>" is an OAuth access token (wire decision 13).
func (t *tokenRegistry) authenticate(header string) (credential, error) {
	header = strings.TrimSpace(header)
	if header == "" {
		return credential{}, &errUnauthorized{detail: "Missing Authorization header"}
	}
	if len(header) > 7 && strings.EqualFold(header[:7], "bearer ") {
		token := strings.TrimSpace(header[7:])
		t.mu.RLock()
		cred, ok := t.oauth[token]
		t.mu.RUnlock()
		if !ok {
			return credential{}, &errUnauthorized{detail: "The access token is invalid", oauth: true}
		}
		return cred, nil
	}
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(header, claims, func(*jwt.Token) (any, error) { return t.key, nil },
		jwt.WithValidMethods([]string{"HS256"}), jwt.WithAudience(tokenAudience))
	if err != nil {
		return credential{}, &errUnauthorized{detail: "Invalid API token"}
	}
	jti, _ := claims["jti"].(string)
	org, _ := claims["org"].(string)
	t.mu.RLock()
	cred, ok := t.api[jti]
	t.mu.RUnlock()
	if !ok || cred.orgID != org {
		return credential{}, &errUnauthorized{detail: "Invalid API token"}
	}
	return cred, nil
}

// IssueAPIToken mints an API token (sent raw in Authorization) for orgID with
// the given scopes, so tests can exercise 403s and read-only clients.
func (s *Simulator) IssueAPIToken(orgID string, scopes Scopes) (string, error) {
	sc, err := scopes.normalized()
	if err != nil {
		return "", err
	}
	if !s.hasOrg(orgID) {
		return "", errors.New("unknown organization " + orgID)
	}
	return s.tokens.issueAPI(orgID, sc, s.Now())
}

// IssueOAuthToken mints an OAuth access token (sent as "Bearer <token>")
// acting as the organization's owner.
func (s *Simulator) IssueOAuthToken(orgID string, scopes Scopes) (string, error) {
	sc, err := scopes.normalized()
	if err != nil {
		return "", err
	}
	s.store.mu.RLock()
	org := s.store.orgByID[orgID]
	var owner string
	if org != nil {
		owner = org.ownerID
	}
	s.store.mu.RUnlock()
	if org == nil {
		return "", errors.New("unknown organization " + orgID)
	}
	return s.tokens.issueOAuth(orgID, owner, sc), nil
}
