package main

import "testing"

// benchGatewaySet are the gateways the bench table compares with the plain server.
type benchGatewaySet struct{ hit, miss benchTarget }

// benchGateways starts them, each over its own simulator (default data): one with the
// response cache (every repeat a hit), one without (RESPONSE_CACHE=false: every query
// executed, from the warm data cache).
func benchGateways(t *testing.T) benchGatewaySet {
	hit := newHarness(t)
	hit.warmTenant(t)
	miss := newHarness(t, withoutResponseCache())
	return benchGatewaySet{
		hit:  benchTarget{name: "gateway, response-cache hit", url: hit.gw.URL, calls: hit.upstreamCalls},
		miss: benchTarget{name: "gateway, response-cache miss (RESPONSE_CACHE=false)", url: miss.gw.URL, calls: miss.upstreamCalls},
	}
}
