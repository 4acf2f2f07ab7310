package transport

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// AutomaticPersistedQuery is Apollo's automatic persisted queries (gqlgen's
// extension.AutomaticPersistedQuery, which keeps the hash → query cache and the stats)
// with every client mistake answered by its own code instead of an uncoded error the
// error presenter would log and hide as INTERNAL:
//
//   - a query whose SHA-256 is not the sha256Hash sent: PERSISTED_QUERY_HASH_MISMATCH;
//   - a version other than 1: PERSISTED_QUERY_NOT_SUPPORTED (Apollo clients then stop
//     sending hashes);
//   - persistedQuery not an object, or sha256Hash not 64 hex digits: BAD_REQUEST;
//   - an unknown hash without the query: PERSISTED_QUERY_NOT_FOUND, as gqlgen answers it
//     (the client retries with the query).
type AutomaticPersistedQuery struct {
	Cache graphql.Cache[string]
}

var _ interface {
	graphql.OperationParameterMutator
	graphql.HandlerExtension
} = AutomaticPersistedQuery{}

func (a AutomaticPersistedQuery) inner() extension.AutomaticPersistedQuery {
	return extension.AutomaticPersistedQuery{Cache: a.Cache}
}

// ExtensionName names the extension (gqlgen's, whose stats it records).
func (a AutomaticPersistedQuery) ExtensionName() string { return a.inner().ExtensionName() }

// Validate refuses a nil cache.
func (a AutomaticPersistedQuery) Validate(s graphql.ExecutableSchema) error {
	return a.inner().Validate(s)
}

// MutateOperationParameters checks extensions.persistedQuery, then lets gqlgen's
// extension look the hash up or remember the query.
func (a AutomaticPersistedQuery) MutateOperationParameters(ctx context.Context, raw *graphql.RawParams) *gqlerror.Error {
	v, ok := raw.Extensions["persistedQuery"]
	if !ok || v == nil {
		return nil
	}
	pq, ok := v.(map[string]any)
	if !ok {
		return coded(CodeBadRequest, "extensions.persistedQuery must be an object")
	}
	if !IsPersistedQueryVersion1(pq["version"]) {
		return coded(CodePersistedQueryNotSupported, "only version 1 of automatic persisted queries is supported")
	}
	hash, _ := pq["sha256Hash"].(string)
	hash = strings.ToLower(hash)
	if len(hash) != sha256.Size*2 || !isHex(hash) {
		return coded(CodeBadRequest, "extensions.persistedQuery.sha256Hash must be the query's SHA-256 as 64 hex digits")
	}
	if raw.Query != "" {
		sum := sha256.Sum256([]byte(raw.Query))
		if hex.EncodeToString(sum[:]) != hash {
			return coded(CodePersistedQueryHashMismatch, "extensions.persistedQuery.sha256Hash is not the SHA-256 of the query sent")
		}
	}
	pq["sha256Hash"] = hash // gqlgen compares lowercase hex
	return a.inner().MutateOperationParameters(ctx, raw)
}

// IsPersistedQueryVersion1 reports whether extensions.persistedQuery.version, as decoded
// from JSON, is 1, whichever way the transport decoded it (float64, or json.Number when it
// decodes with UseNumber).
func IsPersistedQueryVersion1(v any) bool {
	switch n := v.(type) {
	case json.Number:
		return n.String() == "1"
	case float64:
		return n == 1
	case int:
		return n == 1
	case int64:
		return n == 1
	}
	return false
}

func isHex(s string) bool {
	_, err := hex.DecodeString(s)
	return err == nil
}

func coded(code, msg string) *gqlerror.Error {
	err := gqlerror.Errorf("%s", msg)
	errcode.Set(err, code)
	return err
}
