package main

import "testing"

// benchGatewaySet are the gateways the bench table compares with the plain server.
type benchGatewaySet struct{ hit, miss benchTarget }

// benchGateways starts them, each over its own simulator (default data).
func benchGateways(t *testing.T) benchGatewaySet {
	hit := newHarness(t)
	miss := newHarness(t)
	return benchGatewaySet{
		hit:  benchTarget{name: "gateway (no response cache yet)", url: hit.gw.URL, calls: hit.upstreamCalls},
		miss: benchTarget{name: "gateway, second instance", url: miss.gw.URL, calls: miss.upstreamCalls},
	}
}
