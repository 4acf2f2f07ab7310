package main

import (
	"context"
	"encoding/json"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/livestorm-gateway/gateway/auth"
	"github.com/livestorm-gateway/gateway/cache"
	"github.com/livestorm-gateway/gateway/graph"
	"github.com/livestorm-gateway/gateway/metrics"
	"github.com/livestorm-gateway/gateway/tenant"
	"github.com/livestorm-gateway/gateway/transport"
)

// responseCacheBytes is the memory of the response cache (0: off).
func responseCacheBytes(cfg Config) int64 {
	if !cfg.ResponseCache {
		return 0
	}
	return cfg.ResponseCacheSize
}

// responseCaching is how the HTTP transports use the response cache (see
// transport.Caching); the zero Caching when it is off, or when reuse is off (the
// upstream-call benchmark's baseline reads nothing through the cache, so nothing would
// ever evict its responses).
func responseCaching(d Deps) transport.Caching {
	c := transport.Caching{
		CacheControl: d.Config.ResponseCacheControl,
		// The cost extension (GRAPHQL_COST_EXTENSION) describes one execution: never
		// replayed from a stored response. It sets HitExtensions to show a hit.
		VolatileExtensions: []string{"cost"},
	}
	if d.Cache.ResponseCacheEnabled() && !d.noReuse {
		c.Cache = responseCache{cache: d.Cache, tenants: d.Tenants, metrics: d.Metrics}
	}
	if d.Config.Limits.CostExtension || d.Demo {
		c.HitExtensions = costOfAHit
	}
	return c
}

// costOfAHit is extensions.cost of a response served from the response cache: its worst
// case as priced, and what it spent: nothing.
func costOfAHit(ctx context.Context) map[string]any {
	cost := map[string]any{"upstreamCalls": 0, "cacheHits": 0, "responseCache": "hit"}
	if c := graph.OperationCost(ctx); c != nil {
		cost["estimated"] = c.Estimated
	}
	return map[string]any{"cost": cost}
}

// responseCache keys responses by workspace, caller role, document, operation name and
// variables, and keeps each under the tags of what its execution read (cache.Reads).
type responseCache struct {
	cache   *cache.Cache
	tenants *tenant.Resolver
	metrics *metrics.Metrics
}

// readsKey is the batch-segment key of the operation's cache.Reads (transport.Shared):
// the queries of a batch segment share their loaders, so an answer one of them primed
// serves the next without a cache read. Sharing the Reads too keeps every response of
// the segment tagged with everything the segment read (more tags than it needs, never
// fewer), and its epoch is that of the segment's start.
type readsKey struct{}

// Lookup implements transport.ResponseCache.
func (c responseCache) Lookup(ctx context.Context, rc *graphql.OperationContext) (*transport.StoredResponse, context.Context, transport.StoreFunc) {
	if rc.Operation == nil || rc.Operation.Operation != ast.Query {
		c.count("skip")
		return nil, ctx, nil
	}
	// The workspace keys the response, so the credential must be verified already
	// (that is remembered for 15 minutes); the lookup never spends a call on it. The
	// first query of a credential is therefore executed without the response cache: it
	// verifies the credential, or reports why it cannot be.
	t, ok := c.tenants.Verified(credentialFrom(ctx))
	if !ok {
		c.count("skip")
		return nil, ctx, nil
	}
	ctx = tenant.NewContext(ctx, t)
	vars, err := json.Marshal(rc.Variables) // canonical: map keys sorted, at every level
	if err != nil {
		c.count("skip")
		return nil, ctx, nil
	}
	caller, _ := auth.CallerFrom(ctx)
	key := cache.ResponseKey{Scope: t.Scope, Role: caller.Role.String(), Document: rc.RawQuery,
		OperationName: rc.OperationName, Variables: vars}
	if r, ok := c.cache.LookupResponse(key); ok {
		c.count("hit")
		return &transport.StoredResponse{Body: r.Body, ETag: r.ETag}, ctx, nil
	}
	c.count("miss")
	reads := transport.Shared(ctx, readsKey{}, func() *cache.Reads { return c.cache.NewReads(t.Scope) })
	ctx = cache.WithReads(ctx, reads)
	return nil, ctx, func(resp *graphql.Response, body []byte, etag string) {
		result := cache.NotStoredStale
		if _, stale := resp.Extensions["stale"]; !stale {
			result = c.cache.StoreResponse(key, &cache.Response{Body: body, ETag: etag}, reads)
		}
		if c.metrics != nil {
			c.metrics.ResponseCacheStores.WithLabelValues(result).Inc()
		}
	}
}

func (c responseCache) count(result string) {
	if c.metrics != nil {
		c.metrics.ResponseCacheRequests.WithLabelValues(result).Inc()
	}
}
