package graph

import (
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/livestorm-gateway/gateway/graph/model"
)

// Global object identification (Relay, GitHub's model). Every Node's `id` is an opaque
// global id: base64url (unpadded) of "Type:livestormId", or for a registration
// "Registration:sessionId:personId" ("Registration:event:eventId:personId" for an
// event-wide row without a session). The type inside makes ids unique across types (Relay
// keys its store by id alone) and lets node(id:) find the object from the id alone;
// Livestorm's own UUID stays available as `livestormId`, and every id argument accepts
// either form, so ids copied from Livestorm keep working.

// nodeKind is the GraphQL type a global id names.
type nodeKind string

// The Node types. A kind is added here, in nodeKinds, in resolveNode and in the schema.
const (
	kindEvent           nodeKind = "Event"
	kindSession         nodeKind = "Session"
	kindPerson          nodeKind = "Person"
	kindRegistration    nodeKind = "Registration"
	kindJob             nodeKind = "Job"
	kindOrganization    nodeKind = "Organization"
	kindUser            nodeKind = "User"
	kindWebhook         nodeKind = "Webhook"
	kindPeopleAttribute nodeKind = "PeopleAttribute"
)

var nodeKinds = map[nodeKind]bool{
	kindEvent: true, kindSession: true, kindPerson: true, kindRegistration: true, kindJob: true,
	kindOrganization: true, kindUser: true, kindWebhook: true, kindPeopleAttribute: true,
}

// eventScope is the first part of an event-wide registration's id.
const eventScope = "event"

var idEncoding = base64.RawURLEncoding

// globalID encodes the id of an object of kind identified by parts (Livestorm ids).
func globalID(kind nodeKind, parts ...string) string {
	return model.GlobalID(string(kind), parts...)
}

// registrationID is the global id of a registration: to its session when there is one,
// else to its event.
func registrationID(sessionID, eventID, personID string) string {
	return model.RegistrationID(sessionID, eventID, personID)
}

// optionalGlobalID is globalID for ids that may be absent.
func optionalGlobalID(kind nodeKind, id *string) *string {
	if id == nil || *id == "" {
		return nil
	}
	g := globalID(kind, *id)
	return &g
}

// parseGlobalID decodes a global id into its kind and Livestorm ids. ok is false for
// anything this gateway did not issue (e.g. a raw Livestorm UUID).
func parseGlobalID(id string) (kind nodeKind, parts []string, ok bool) {
	b, err := idEncoding.DecodeString(strings.TrimRight(id, "="))
	if err != nil {
		return "", nil, false
	}
	k, rest, found := strings.Cut(string(b), ":")
	if !found || !nodeKinds[nodeKind(k)] {
		return "", nil, false
	}
	parts = strings.Split(rest, ":")
	want := 1
	switch {
	case nodeKind(k) != kindRegistration:
	case parts[0] == eventScope:
		want = 3
	default:
		want = 2
	}
	if len(parts) != want {
		return "", nil, false
	}
	for _, p := range parts {
		if !isLivestormID(p) {
			return "", nil, false
		}
	}
	return nodeKind(k), parts, true
}

// registrationRef is what a registration's global id names.
type registrationRef struct{ sessionID, eventID, personID string }

func registrationOf(parts []string) registrationRef {
	if len(parts) == 3 {
		return registrationRef{eventID: parts[1], personID: parts[2]}
	}
	return registrationRef{sessionID: parts[0], personID: parts[1]}
}

// maxIDLen bounds a Livestorm id (they are UUIDs); ids go into URL paths.
const maxIDLen = 64

// isLivestormID reports whether s looks like a Livestorm id: short, and made of id
// characters only.
func isLivestormID(s string) bool {
	return s != "" && len(s) <= maxIDLen && strings.IndexFunc(s, func(r rune) bool {
		return !(r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	}) < 0
}

// livestormID returns the Livestorm id an argument names, given either a global id of
// kind or a raw Livestorm id. A global id of another kind, or something that is neither,
// is the caller's mistake (BAD_USER_INPUT naming field), found before any upstream call.
func livestormID(field string, kind nodeKind, id string) (string, error) {
	if k, parts, ok := parseGlobalID(id); ok {
		if k != kind || len(parts) != 1 {
			return "", inputError(field, fmt.Sprintf("%s is the id of a %s, not of a %s", field, k, kind))
		}
		return parts[0], nil
	}
	if id == "" {
		return "", inputError(field, field+" is required")
	}
	if !isLivestormID(id) {
		return "", inputError(field, fmt.Sprintf("%s is neither a global id nor a Livestorm id", field))
	}
	return id, nil
}

// optionalLivestormID is livestormID for optional arguments (nil stays nil).
func optionalLivestormID(field string, kind nodeKind, id *string) (*string, error) {
	if id == nil {
		return nil, nil
	}
	raw, err := livestormID(field, kind, *id)
	if err != nil {
		return nil, err
	}
	return &raw, nil
}
