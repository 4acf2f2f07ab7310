// Package tenant turns a Livestorm credential into the verified workspace scope that
// caches, loaders and subscriptions are keyed on.
//
// A token's `org` claim is readable by anyone, so it is never trusted on its own: a
// credential is first shown to Livestorm (one cheap call, remembered for a while) and only
// a credential Livestorm accepted gets a scope. A forged or revoked token therefore never
// reads a cached answer of the workspace it claims.
package tenant

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
	"golang.org/x/sync/singleflight"

	"github.com/livestorm-gateway/gateway/livestorm"
)

// Tenant is a verified caller workspace.
type Tenant struct {
	// Scope keys every cache entry and bus topic of this tenant: "org:<organization id>"
	// when the workspace is known, else "cred:<credential fingerprint>".
	Scope string
	// OrgID is Livestorm's organization id, when known.
	OrgID string
	// Credential is what upstream calls are made with.
	Credential livestorm.Credential
}

// ScopeForOrg is the scope of a workspace known by its organization id (webhooks name it).
func ScopeForOrg(orgID string) string { return "org:" + orgID }

// Upstream is the part of the Livestorm client a Resolver needs.
type Upstream interface {
	Ping(ctx context.Context) error
	Organization(ctx context.Context) (*livestorm.Organization, error)
}

// Resolver verifies credentials and remembers the outcome.
type Resolver struct {
	upstream     Upstream
	ttl          time.Duration
	grace        time.Duration
	rejectTTL    time.Duration
	beforeVerify func(context.Context) error
	now          func() time.Time

	mu       sync.Mutex
	verified *simplelru.LRU[string, verification]
	rejected *simplelru.LRU[string, rejection]
	flight   singleflight.Group
}

// rejection is Livestorm's refusal of a credential, remembered (by fingerprint: a hash)
// so a stream of bad tokens costs one call each, not one per request.
type rejection struct {
	err error
	at  time.Time
}

type verification struct {
	tenant Tenant
	at     time.Time
}

// Options configure a Resolver.
type Options struct {
	// TTL is how long a verification is trusted (default 15 minutes).
	TTL time.Duration
	// Grace is how long an expired verification still counts when Livestorm cannot be
	// asked (rate limited or unavailable), so an outage does not lock callers out
	// (default 24 hours).
	Grace time.Duration
	// Size bounds the credentials remembered (default 10,000), and separately the
	// rejected ones.
	Size int
	// RejectTTL is how long a credential Livestorm rejected (401/403) is answered from
	// memory without asking again (default 5 minutes).
	RejectTTL time.Duration
	// BeforeVerify, when set, runs before each credential is shown to Livestorm; its
	// error is returned instead (e.g. a per-client-IP limit on verifications, so that
	// made-up tokens cannot spend the quota). Optional.
	BeforeVerify func(ctx context.Context) error
	Now          func() time.Time
}

// NewResolver returns a Resolver verifying against upstream.
func NewResolver(upstream Upstream, opts Options) *Resolver {
	if opts.TTL <= 0 {
		opts.TTL = 15 * time.Minute
	}
	if opts.Grace <= 0 {
		opts.Grace = 24 * time.Hour
	}
	if opts.Size <= 0 {
		opts.Size = 10_000
	}
	if opts.RejectTTL <= 0 {
		opts.RejectTTL = 5 * time.Minute
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	l, _ := simplelru.NewLRU[string, verification](opts.Size, nil)
	rej, _ := simplelru.NewLRU[string, rejection](opts.Size, nil)
	return &Resolver{upstream: upstream, ttl: opts.TTL, grace: opts.Grace, rejectTTL: opts.RejectTTL,
		beforeVerify: opts.BeforeVerify, now: opts.Now, verified: l, rejected: rej}
}

// ErrNoCredential is returned when the caller gave no credential.
var ErrNoCredential = livestorm.ErrNoCredential

// Resolve returns the tenant of cred, asking Livestorm at most once per TTL per credential.
// The error is a *livestorm.Error (Unauthorized for a rejected token) or ErrNoCredential.
func (r *Resolver) Resolve(ctx context.Context, cred livestorm.Credential) (Tenant, error) {
	if cred.IsZero() {
		return Tenant{}, ErrNoCredential
	}
	fp := cred.Fingerprint()
	r.mu.Lock()
	v, known := r.verified.Get(fp)
	rej, rejected := r.rejected.Get(fp)
	r.mu.Unlock()
	now := r.now()
	if known && now.Sub(v.at) < r.ttl {
		return v.tenant, nil
	}
	if rejected && now.Sub(rej.at) < r.rejectTTL {
		return Tenant{}, rej.err
	}
	if r.beforeVerify != nil {
		if err := r.beforeVerify(ctx); err != nil {
			return Tenant{}, err
		}
	}
	res, err, _ := r.flight.Do(fp, func() (any, error) {
		return r.verify(context.WithoutCancel(ctx), cred)
	})
	if err != nil {
		kind := livestorm.KindOf(err)
		if known && (kind == livestorm.KindUnavailable || kind == livestorm.KindRateLimited) && now.Sub(v.at) < r.grace {
			return v.tenant, nil
		}
		if kind == livestorm.KindUnauthorized || kind == livestorm.KindForbidden {
			r.mu.Lock()
			r.verified.Remove(fp)
			r.rejected.Add(fp, rejection{err: err, at: r.now()})
			r.mu.Unlock()
		}
		return Tenant{}, err
	}
	t := res.(Tenant)
	r.mu.Lock()
	r.verified.Add(fp, verification{tenant: t, at: r.now()})
	r.mu.Unlock()
	return t, nil
}

// Forget drops what is remembered of cred (e.g. after Livestorm rejected it mid-request).
func (r *Resolver) Forget(cred livestorm.Credential) {
	r.mu.Lock()
	r.verified.Remove(cred.Fingerprint())
	r.rejected.Remove(cred.Fingerprint())
	r.mu.Unlock()
}

// Verified returns the tenant of cred if it was verified within the TTL: resolving it
// now costs no upstream call (the limits' pricing, the response cache's lookup: work only
// worth doing for an already verified caller).
func (r *Resolver) Verified(cred livestorm.Credential) (Tenant, bool) {
	if cred.IsZero() {
		return Tenant{}, false
	}
	r.mu.Lock()
	v, ok := r.verified.Peek(cred.Fingerprint())
	r.mu.Unlock()
	if !ok || r.now().Sub(v.at) >= r.ttl {
		return Tenant{}, false
	}
	return v.tenant, true
}

func (r *Resolver) verify(ctx context.Context, cred livestorm.Credential) (Tenant, error) {
	ctx = livestorm.ContextWithCredential(ctx, cred)
	t := Tenant{Credential: cred}
	if !cred.IsOAuth() {
		// Livestorm accepting an API token proves its signature, hence its org claim.
		if err := r.upstream.Ping(ctx); err != nil {
			return Tenant{}, err
		}
		if org, ok := cred.UnverifiedOrg(); ok {
			t.OrgID = org
			t.Scope = ScopeForOrg(org)
		} else {
			t.Scope = "cred:" + cred.Fingerprint()
		}
		return t, nil
	}
	// OAuth tokens are opaque: ask for the workspace when the token may read it.
	org, err := r.upstream.Organization(ctx)
	switch {
	case err == nil && org != nil && org.ID != "":
		t.OrgID = org.ID
		t.Scope = ScopeForOrg(org.ID)
		return t, nil
	case err == nil || errors.Is(err, livestorm.ErrForbidden):
		if err := r.upstream.Ping(ctx); err != nil {
			return Tenant{}, err
		}
		t.Scope = "cred:" + cred.Fingerprint()
		return t, nil
	default:
		return Tenant{}, err
	}
}

type ctxKey struct{}

// NewContext returns ctx carrying t and t's credential for upstream calls.
func NewContext(ctx context.Context, t Tenant) context.Context {
	return livestorm.ContextWithCredential(context.WithValue(ctx, ctxKey{}, t), t.Credential)
}

// FromContext returns the tenant of ctx.
func FromContext(ctx context.Context) (Tenant, bool) {
	t, ok := ctx.Value(ctxKey{}).(Tenant)
	return t, ok
}
