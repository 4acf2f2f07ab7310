package persisted

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/livestorm-gateway/gateway/auth"
)

const (
	eventPage = `query EventPage($id: ID!) { event(id: $id) { title } }`
	register  = `mutation Register($in: RegisterPersonInput!) { registerPerson(input: $in) { person { id } } }`
)

func apolloManifest(t *testing.T, docs ...string) []byte {
	t.Helper()
	var ops []map[string]string
	for _, d := range docs {
		ops = append(ops, map[string]string{"id": sha256Hex(d), "name": "op", "type": "query", "body": d})
	}
	b, err := json.Marshal(map[string]any{"format": "apollo-persisted-query-manifest", "version": 1, "operations": ops})
	require.NoError(t, err)
	return b
}

func TestParse(t *testing.T) {
	t.Run("apollo manifest", func(t *testing.T) {
		m, err := Parse(apolloManifest(t, eventPage, register))
		require.NoError(t, err)
		assert.Equal(t, 2, m.Len())
		doc, ok := m.Lookup(sha256Hex(eventPage))
		assert.True(t, ok)
		assert.Equal(t, eventPage, doc)
	})
	t.Run("flat map (client preset sha256 ids, relay md5 ids)", func(t *testing.T) {
		m, err := Parse([]byte(`{"` + sha256Hex(eventPage) + `": ` + quote(eventPage) + `, "5f1f6c0f1d2e3a4b5c6d7e8f9a0b1c2d": ` + quote(register) + `}`))
		require.NoError(t, err)
		assert.Equal(t, 2, m.Len())
		for _, id := range []string{"5f1f6c0f1d2e3a4b5c6d7e8f9a0b1c2d", sha256Hex(register), "sha256:" + sha256Hex(register)} {
			doc, ok := m.Lookup(id)
			assert.True(t, ok, id)
			assert.Equal(t, register, doc, "every document is also found by its SHA-256 (%s)", id)
		}
		_, ok := m.Lookup("unknown")
		assert.False(t, ok)
		assert.True(t, m.Contains(eventPage))
		assert.False(t, m.Contains(eventPage+" "))
	})
	bad := []struct{ name, data, want string }{
		{"not JSON", `hello`, "not a JSON object"},
		{"trailing data", `{"a":"{ x }"} {}`, "trailing"},
		{"unknown format", `{"format":"persisted-v9","operations":[]}`, "unknown manifest format"},
		{"apollo version", `{"format":"apollo-persisted-query-manifest","version":2,"operations":[]}`, "version 2"},
		{"empty", `{}`, "no documents"},
		{"document does not parse", `{"abc":"query {"}`, `document "abc" does not parse`},
		{"value not a string", `{"abc":{"body":"{ x }"}}`, `id "abc"`},
		{"duplicate id", `{"format":"apollo-persisted-query-manifest","version":1,"operations":[{"id":"a","body":"{ x }"},{"id":"a","body":"{ y }"}]}`, `id "a" is given to two`},
		{"no id", `{"format":"apollo-persisted-query-manifest","version":1,"operations":[{"body":"{ x }"}]}`, "no id"},
	}
	for _, tc := range bad {
		t.Run("refused: "+tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.data))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func quote(s string) string { b, _ := json.Marshal(s); return string(b) }

func TestPolicy(t *testing.T) {
	cases := []struct {
		in                                string
		public, viewer, editor, admin, no bool
		str                               string
	}{
		{"", true, false, false, false, true, "public"},
		{"all", true, true, true, true, true, "public,viewer,editor,admin"},
		{"none", false, false, false, false, false, "none"},
		{" Public , viewer", true, true, false, false, true, "public,viewer"},
	}
	for _, tc := range cases {
		p, err := ParsePolicy(tc.in)
		require.NoError(t, err, tc.in)
		assert.Equal(t, []bool{tc.public, tc.viewer, tc.editor, tc.admin, tc.no},
			[]bool{p.Restricts(auth.RolePublic), p.Restricts(auth.RoleViewer), p.Restricts(auth.RoleEditor), p.Restricts(auth.RoleAdmin), p.Restricts(auth.RoleNone)}, tc.in)
		assert.Equal(t, tc.str, p.String())
	}
	_, err := ParsePolicy("public,guests")
	assert.ErrorContains(t, err, "PERSISTED_DOCUMENTS_ONLY")
}

// TestExtension drives the extension as gqlgen does, with the RawParams a transport
// decoded, including the DocumentIDExtension the HTTP transport sets for documentId and
// Relay's doc_id.
func TestExtension(t *testing.T) {
	m, err := Parse([]byte(`{"` + sha256Hex(eventPage) + `": ` + quote(eventPage) + `, "relay-md5-id": ` + quote(register) + `}`))
	require.NoError(t, err)
	var denied []string
	var logs bytes.Buffer
	ext := Extension{Store: NewStore(m), Policy: Policy{roles: []auth.Role{auth.RolePublic}},
		Logger: slog.New(slog.NewTextHandler(&logs, nil)), Denied: func(r string) { denied = append(denied, r) }}
	require.NoError(t, ext.Validate(nil))

	public := auth.Caller{ID: "ip:203.0.113.1", Role: auth.RolePublic, Method: auth.MethodAnonymous}
	viewer := auth.Caller{ID: "key:bff", Role: auth.RoleViewer, Method: auth.MethodAPIKey}
	apq := func(hash string) map[string]any {
		return map[string]any{"persistedQuery": map[string]any{"version": json.Number("1"), "sha256Hash": hash}}
	}
	docID := func(id string) map[string]any { return map[string]any{DocumentIDExtension: map[string]any{"id": id}} }
	const freeText = `{ users { nodes { email } } }`
	cases := []struct {
		name      string
		caller    *auth.Caller
		query     string
		ext       map[string]any
		code      string // "" = accepted
		wantQuery string
		keepsAPQ  bool // the persistedQuery extension is left for APQ
	}{
		{"public: documentId (sha256:)", &public, "", docID("sha256:" + sha256Hex(eventPage)), "", eventPage, false},
		{"public: relay doc_id", &public, "", docID("relay-md5-id"), "", register, false},
		{"public: unknown documentId", &public, "", docID("nope"), CodeNotFound, "", false},
		{"public: apollo hash in the manifest", &public, "", apq(sha256Hex(eventPage)), "", eventPage, false},
		{"public: apollo hash with its text", &public, eventPage, apq(sha256Hex(eventPage)), "", eventPage, false},
		{"public: unknown apollo hash", &public, "", apq(sha256Hex(freeText)), CodeNotFound, "", true},
		{"public: APQ registration refused", &public, freeText, apq(sha256Hex(freeText)), CodeRequired, freeText, true},
		{"public: free text refused", &public, freeText, nil, CodeRequired, freeText, false},
		{"public: text identical to a manifest document", &public, eventPage, nil, "", eventPage, false},
		{"no caller: restricted", nil, freeText, nil, CodeRequired, freeText, false},
		{"viewer: free text", &viewer, freeText, nil, "", freeText, false},
		{"viewer: APQ registration left to APQ", &viewer, freeText, apq(sha256Hex(freeText)), "", freeText, true},
		{"viewer: unknown hash left to APQ", &viewer, "", apq(sha256Hex(freeText)), "", "", true},
		{"viewer: unknown documentId", &viewer, "", docID("nope"), CodeNotFound, "", false},
		{"text that does not match its id", &viewer, freeText, docID("relay-md5-id"), "BAD_REQUEST", freeText, false},
		{"apq version 2", &public, "", map[string]any{"persistedQuery": map[string]any{"version": 2.0, "sha256Hash": "x"}}, "BAD_REQUEST", "", true},
		{"empty documentId", &public, "", map[string]any{DocumentIDExtension: map[string]any{"id": ""}}, "BAD_REQUEST", "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			if tc.caller != nil {
				ctx = auth.NewContext(ctx, *tc.caller)
			}
			p := &graphql.RawParams{Query: tc.query, OperationName: "Op", Extensions: tc.ext}
			gerr := ext.MutateOperationParameters(ctx, p)
			if tc.code == "" {
				require.Nil(t, gerr)
			} else {
				require.NotNil(t, gerr)
				assert.Equal(t, tc.code, gerr.Extensions["code"])
			}
			assert.Equal(t, tc.wantQuery, p.Query)
			_, kept := p.Extensions["persistedQuery"]
			assert.Equal(t, tc.keepsAPQ, kept, "persistedQuery extension left for APQ")
		})
	}
	assert.Equal(t, []string{"public", "public", "none"}, denied, "unknown ids are not denials; restrictions are")
	assert.Contains(t, logs.String(), `caller=ip:203.0.113.1 role=public auth=anonymous operation=Op code=PERSISTED_QUERY_REQUIRED`)
	assert.NotContains(t, logs.String(), "users", "the query text is never logged")
}

func TestStoreReload(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "manifest.json")
	require.NoError(t, os.WriteFile(path, apolloManifest(t, eventPage), 0o600))
	var logs bytes.Buffer
	s, err := Open(path, slog.New(slog.NewTextHandler(&logs, nil)))
	require.NoError(t, err)
	assert.Equal(t, 1, s.Manifest().Len())

	require.NoError(t, os.WriteFile(path, apolloManifest(t, eventPage, register), 0o600))
	require.NoError(t, s.Reload())
	assert.Equal(t, 2, s.Manifest().Len())
	assert.Contains(t, logs.String(), "persisted documents reloaded")

	require.NoError(t, os.WriteFile(path, []byte(`{"broken":`), 0o600))
	err = s.Reload()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "PERSISTED_DOCUMENTS")
	assert.Equal(t, 2, s.Manifest().Len(), "a bad file keeps the previous manifest")
	assert.Contains(t, logs.String(), "previous manifest stays in service")

	require.NoError(t, os.Remove(path))
	require.Error(t, s.Reload())
	_, ok := s.Manifest().Lookup(sha256Hex(register))
	assert.True(t, ok)

	_, err = Open(filepath.Join(dir, "missing.json"), nil)
	assert.ErrorContains(t, err, "PERSISTED_DOCUMENTS")
}
