// Package plain is the bench's yardstick: a plain gqlgen server with the shape of the
// gateway's event-page query (events → sessions → registrations → person), answering
// from memory with the data the gateway returned, so the bench compares the two on the
// same bytes.
//
// It is written the way a gqlgen server usually is: generated executor, models with
// plain fields, a resolver for each field that takes arguments (Query.events,
// Session.registrations), POST transport and a parsed-query cache. No loaders, no
// cache, no limits, no authentication.
package plain

//go:generate go run github.com/99designs/gqlgen generate --config gqlgen.yml
