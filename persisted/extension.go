package persisted

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/livestorm-gateway/gateway/auth"
	"github.com/livestorm-gateway/gateway/transport"
)

// DocumentIDExtension is the RawParams.Extensions key under which the HTTP transport
// puts a document id sent outside the extensions object: GraphQL-over-HTTP's
// `documentId` and Relay's `doc_id`, as {"id": "<id>"}.
const DocumentIDExtension = "persistedDocument"

// Error codes (extensions.code).
const (
	// CodeNotFound: the id names no document (Apollo clients then retry with the full
	// query, which an unrestricted caller may register by APQ).
	CodeNotFound = "PERSISTED_QUERY_NOT_FOUND"
	// CodeRequired: the caller may run persisted documents only, and sent query text.
	CodeRequired = "PERSISTED_QUERY_REQUIRED"
)

// Policy is the set of roles restricted to the manifest's documents
// (PERSISTED_DOCUMENTS_ONLY).
type Policy struct{ roles []auth.Role }

// ParsePolicy reads PERSISTED_DOCUMENTS_ONLY: "" (default: public), "all", "none", or a
// comma-separated list of roles ("public,viewer").
func ParsePolicy(s string) (Policy, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	switch s {
	case "":
		return Policy{roles: []auth.Role{auth.RolePublic}}, nil
	case "all":
		return Policy{roles: append([]auth.Role{auth.RoleNone}, auth.Roles...)}, nil
	case "none":
		return Policy{}, nil
	}
	var p Policy
	for _, f := range strings.Split(s, ",") {
		r, ok := auth.ParseRole(f)
		if !ok || r == auth.RoleNone {
			return Policy{}, fmt.Errorf("PERSISTED_DOCUMENTS_ONLY: %q is not public, viewer, editor or admin (or use all or none)", strings.TrimSpace(f))
		}
		if !slices.Contains(p.roles, r) {
			p.roles = append(p.roles, r)
		}
	}
	return p, nil
}

// Restricts reports whether a caller of role r may run manifest documents only. A
// caller without a role (no caller in the context) is restricted whenever anyone is.
func (p Policy) Restricts(r auth.Role) bool {
	if r == auth.RoleNone {
		return len(p.roles) > 0
	}
	return slices.Contains(p.roles, r)
}

// String lists the restricted roles ("public,viewer", "none").
func (p Policy) String() string {
	var names []string
	for _, r := range p.roles {
		if r != auth.RoleNone {
			names = append(names, r.String())
		}
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ",")
}

// Extension is the gqlgen handler extension that resolves document ids against the
// manifest and keeps restricted callers to its documents. It runs before the query is
// parsed, so a refused request costs no parsing or validation.
//
// Order matters: it must be added (srv.Use) before extension.AutomaticPersistedQuery.
// It resolves manifest ids itself and removes the persistedQuery extension it answered,
// and for restricted callers it refuses both forms of APQ (registering a hash with its
// text, which is free text; running a hash the APQ cache knows but the manifest does
// not) before APQ could accept them, so APQ never becomes a way around the manifest.
type Extension struct {
	Store  *Store
	Policy Policy
	// Logger gets one line per refusal: caller id, role, operation name, reason.
	Logger *slog.Logger
	// Denied counts refusals of restricted callers (gateway_access_denied_total{role}).
	Denied func(role string)
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
} = Extension{}

// ExtensionName implements graphql.HandlerExtension.
func (Extension) ExtensionName() string { return "PersistedDocuments" }

// Validate implements graphql.HandlerExtension.
func (e Extension) Validate(graphql.ExecutableSchema) error {
	if e.Store == nil || e.Store.Manifest() == nil {
		return errors.New("persisted documents: no manifest")
	}
	return nil
}

// MutateOperationParameters implements graphql.OperationParameterMutator.
func (e Extension) MutateOperationParameters(ctx context.Context, p *graphql.RawParams) *gqlerror.Error {
	m := e.Store.Manifest()
	caller, _ := auth.CallerFrom(ctx)
	restricted := e.Policy.Restricts(caller.Role)

	id, style, gerr := documentID(p)
	if gerr != nil {
		return gerr
	}
	if id != "" {
		doc, ok := m.Lookup(id)
		switch {
		case ok && p.Query != "" && p.Query != doc:
			return badRequest("the query text does not match the persisted document it names")
		case ok:
			p.Query = doc
			if style == apqStyle {
				// Answered from the manifest: APQ has nothing to look up or register.
				delete(p.Extensions, "persistedQuery")
			}
			return nil
		case restricted:
			// Neither registering (with text) nor running a hash only the APQ cache
			// knows: both would step outside the manifest.
			if p.Query != "" {
				return e.refuse(ctx, caller, p, true, CodeRequired, requiredMessage(caller.Role))
			}
			return e.refuse(ctx, caller, p, false, CodeNotFound, "PersistedQueryNotFound")
		case style == apqStyle:
			return nil // an unrestricted caller: automatic persisted queries as usual
		default:
			return e.refuse(ctx, caller, p, false, CodeNotFound, "PersistedQueryNotFound")
		}
	}
	if restricted && p.Query != "" && !m.Contains(p.Query) {
		return e.refuse(ctx, caller, p, true, CodeRequired, requiredMessage(caller.Role))
	}
	return nil
}

func requiredMessage(r auth.Role) string {
	return fmt.Sprintf("callers with role %s may run the application's persisted documents only: send its id (documentId, or extensions.persistedQuery.sha256Hash) instead of the query text", r)
}

type idStyle int

const (
	noID idStyle = iota
	apqStyle
	documentIDStyle
)

// documentID finds the id a request names: the HTTP transport's DocumentIDExtension,
// else Apollo's extensions.persistedQuery.sha256Hash (version 1).
func documentID(p *graphql.RawParams) (string, idStyle, *gqlerror.Error) {
	if raw, ok := p.Extensions[DocumentIDExtension]; ok {
		obj, _ := raw.(map[string]any)
		id, _ := obj["id"].(string)
		if id == "" {
			return "", noID, badRequest("the persisted document id must be a non-empty string")
		}
		return id, documentIDStyle, nil
	}
	raw, ok := p.Extensions["persistedQuery"]
	if !ok || raw == nil {
		return "", noID, nil
	}
	obj, _ := raw.(map[string]any)
	hash, _ := obj["sha256Hash"].(string)
	if hash == "" {
		return "", noID, badRequest("extensions.persistedQuery.sha256Hash must be a non-empty string")
	}
	if !transport.IsPersistedQueryVersion1(obj["version"]) {
		return "", noID, badRequest("unsupported persistedQuery version (want 1)")
	}
	return hash, apqStyle, nil
}

func badRequest(msg string) *gqlerror.Error {
	err := gqlerror.Errorf("%s", msg)
	errcode.Set(err, "BAD_REQUEST")
	return err
}

// refuse logs the refusal (who, which operation, why) and returns its error; denied
// says whether it is the restriction of a role (counted as an access denial) rather
// than a plain unknown id.
func (e Extension) refuse(ctx context.Context, c auth.Caller, p *graphql.RawParams, denied bool, code, msg string) *gqlerror.Error {
	if e.Logger != nil {
		reason := "unknown document id"
		if denied {
			reason = "query text from a role restricted to persisted documents"
		}
		e.Logger.InfoContext(ctx, "request refused", "caller", c.ID, "role", c.Role.String(), "auth", c.Method,
			"operation", truncate(p.OperationName, 100), "code", code, "reason", reason)
	}
	if denied && e.Denied != nil {
		e.Denied(c.Role.String())
	}
	err := gqlerror.Errorf("%s", msg)
	errcode.Set(err, code)
	return err
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
