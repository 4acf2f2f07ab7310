// Package gateway is the typed client of the Livestorm GraphQL gateway used by the BFF:
// genqlient generates generated.go from ../operations.graphql and the gateway's schema
// files (../../../schema/*.graphqls) when `go generate ./...` runs in examples/bff.
// DateTime is bound to time.Time (genqlient.yaml); nullable fields and optional inputs are
// pointers, and optional inputs are omitted when nil.
package gateway
