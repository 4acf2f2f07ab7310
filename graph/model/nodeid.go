package model

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"

	"github.com/99designs/gqlgen/graphql"

	"github.com/livestorm-gateway/gateway/livestorm"
)

// GlobalID encodes the global object id of a Node of GraphQL type kind, identified by
// parts (Livestorm ids): base64url, unpadded, of "Kind:part1:part2" (see
// graph/globalid.go, which decodes them). Every object of a page has one, so it is
// built in a stack buffer: one allocation, the string.
func GlobalID(kind string, parts ...string) string {
	var buf [160]byte
	return string(appendGlobalID(buf[:0], kind, parts...))
}

// appendGlobalID appends the encoded global id to dst.
func appendGlobalID(dst []byte, kind string, parts ...string) []byte {
	var raw [128]byte
	plain := append(raw[:0], kind...)
	for _, p := range parts {
		plain = append(append(plain, ':'), p...)
	}
	return base64.RawURLEncoding.AppendEncode(dst, plain)
}

// nodeKinds are the GraphQL types of the Livestorm resource types whose `id` is
// bound to livestorm.ResourceID.
var nodeKinds = map[string]string{"events": "Event", "sessions": "Session", "people": "Person"}

// MarshalNodeID writes a resource's global id. The schema's `id` fields of Event,
// Session and Person are bound to their ResourceID method through it (gqlgen.yml), so
// gqlgen writes them as plain fields: no resolver, hence no goroutine per object.
func MarshalNodeID(r livestorm.ResourceID) graphql.Marshaler {
	kind, ok := nodeKinds[r.Type]
	if !ok || r.ID == "" {
		return graphql.Null
	}
	id := r.ID
	return graphql.WriterFunc(func(w io.Writer) {
		// base64url needs no escaping. gqlgen writes the response into a bytes.Buffer:
		// the id is encoded straight into it.
		if b, ok := w.(*bytes.Buffer); ok {
			out := append(b.AvailableBuffer(), '"')
			out = append(appendGlobalID(out, kind, id), '"')
			_, _ = b.Write(out)
			return
		}
		_, _ = io.WriteString(w, `"`+GlobalID(kind, id)+`"`)
	})
}

// UnmarshalNodeID is MarshalNodeID's counterpart, which gqlgen requires; no argument or
// input of the schema is bound to a ResourceID (ids are read by graph.livestormID).
func UnmarshalNodeID(any) (livestorm.ResourceID, error) {
	return livestorm.ResourceID{}, errors.New("a resource id is not accepted as input")
}

// RegistrationID is the global id of a registration: to its session when there is one,
// else to its event ("Registration:event:eventId:personId").
func RegistrationID(sessionID, eventID, personID string) string {
	if sessionID != "" {
		return GlobalID("Registration", sessionID, personID)
	}
	return GlobalID("Registration", "event", eventID, personID)
}

// ID is the registration's global id.
func (r *Registration) ID() string {
	return RegistrationID(r.SessionID, r.EventID, r.Person.ID)
}

// NodeID is the registration as its global id, which the schema's Registration.id is
// bound to (gqlgen.yml): a method rather than a resolver, so no goroutine per row, and a
// value of the size of a pointer that writes itself, so gqlgen handles it without
// allocating.
func (r *Registration) NodeID() RegistrationNodeID { return RegistrationNodeID{r} }

// RegistrationNodeID writes a registration's global id.
type RegistrationNodeID struct{ r *Registration }

// MarshalGQL writes the id, straight into gqlgen's buffer when it can.
func (v RegistrationNodeID) MarshalGQL(w io.Writer) {
	r := v.r
	var parts [3]string
	p := append(parts[:0], r.SessionID, r.Person.ID)
	if r.SessionID == "" {
		p = append(parts[:0], "event", r.EventID, r.Person.ID)
	}
	if b, ok := w.(*bytes.Buffer); ok {
		out := append(b.AvailableBuffer(), '"')
		out = append(appendGlobalID(out, "Registration", p...), '"')
		_, _ = b.Write(out)
		return
	}
	_, _ = io.WriteString(w, `"`+GlobalID("Registration", p...)+`"`)
}

// UnmarshalGQL refuses: no argument or input is bound to it.
func (v *RegistrationNodeID) UnmarshalGQL(any) error {
	return errors.New("a registration id is not accepted as input")
}
