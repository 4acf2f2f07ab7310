// Package persisted serves trusted documents: the operations an application was built
// with, read from a manifest, so that callers restricted to them (the public frontend's
// visitors, by default) can run the application's queries and nothing else, and so that
// frontends can send a short id instead of the query text.
//
// Two manifest formats are accepted: Apollo's persisted query manifest
// ({"format":"apollo-persisted-query-manifest","version":1,"operations":[{"id","name",
// "type","body"}]}, from @apollo/generate-persisted-query-manifest) and the flat
// {"<id>": "<document>"} map that GraphQL Code Generator's client preset
// (persistedDocuments) and relay-compiler (persistConfig) write.
package persisted

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
)

// Manifest is an immutable set of trusted documents by id.
type Manifest struct {
	byID map[string]string
	// bySHA holds every document under the hex SHA-256 of its text, the id Apollo's
	// persistedQuery extension and the "sha256:" ids of the GraphQL-over-HTTP proposal
	// use, whatever ids the manifest itself gives.
	bySHA map[string]string
	count int
}

// Len is the number of documents.
func (m *Manifest) Len() int { return m.count }

// Lookup returns the document of id: a manifest id as written, a "sha256:<hex>" id, or
// the bare hex SHA-256 of a document's text.
func (m *Manifest) Lookup(id string) (string, bool) {
	if m == nil || id == "" {
		return "", false
	}
	if d, ok := m.byID[id]; ok {
		return d, true
	}
	h := strings.ToLower(strings.TrimPrefix(id, "sha256:"))
	d, ok := m.bySHA[h]
	return d, ok
}

// Contains reports whether doc is, byte for byte, one of the manifest's documents.
func (m *Manifest) Contains(doc string) bool {
	if m == nil {
		return false
	}
	_, ok := m.bySHA[sha256Hex(doc)]
	return ok
}

func sha256Hex(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

const apolloFormat = "apollo-persisted-query-manifest"

// Parse reads a manifest in either format. Every document must parse as GraphQL, ids
// must be unique, and the manifest must not be empty; an error names what is wrong
// (the id, never a document's text).
func Parse(data []byte) (*Manifest, error) {
	var top map[string]json.RawMessage
	if err := strictUnmarshal(data, &top); err != nil {
		return nil, fmt.Errorf("not a JSON object: %w", err)
	}
	m := &Manifest{byID: map[string]string{}, bySHA: map[string]string{}}
	add := func(id, body string) error {
		if id == "" {
			return errors.New("an operation has no id")
		}
		if strings.TrimSpace(body) == "" {
			return fmt.Errorf("document %q is empty", id)
		}
		if prev, dup := m.byID[id]; dup && prev != body {
			return fmt.Errorf("id %q is given to two different documents", id)
		}
		if _, err := parser.ParseQuery(&ast.Source{Name: id, Input: body}); err != nil {
			return fmt.Errorf("document %q does not parse: %s", id, err)
		}
		if _, dup := m.byID[id]; !dup {
			m.count++
		}
		m.byID[id] = body
		m.bySHA[sha256Hex(body)] = body
		return nil
	}

	if raw, ok := top["format"]; ok {
		var format string
		_ = json.Unmarshal(raw, &format)
		if format != apolloFormat {
			return nil, fmt.Errorf("unknown manifest format %q (want %q or a flat {\"id\": \"document\"} map)", format, apolloFormat)
		}
		var apollo struct {
			Version    int `json:"version"`
			Operations []struct {
				ID   string `json:"id"`
				Name string `json:"name"`
				Type string `json:"type"`
				Body string `json:"body"`
			} `json:"operations"`
		}
		if err := json.Unmarshal(data, &apollo); err != nil {
			return nil, fmt.Errorf("apollo manifest: %w", err)
		}
		if apollo.Version != 1 {
			return nil, fmt.Errorf("apollo manifest version %d is not supported (want 1)", apollo.Version)
		}
		for _, op := range apollo.Operations {
			if err := add(op.ID, op.Body); err != nil {
				return nil, err
			}
		}
	} else {
		for id, raw := range top {
			var body string
			if err := json.Unmarshal(raw, &body); err != nil {
				return nil, fmt.Errorf("id %q: the value must be the document's text (a string)", id)
			}
			if err := add(id, body); err != nil {
				return nil, err
			}
		}
	}
	if m.count == 0 {
		return nil, errors.New("the manifest has no documents")
	}
	return m, nil
}

// strictUnmarshal decodes exactly one JSON value, refusing trailing data.
func strictUnmarshal(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}

// Store holds the current manifest of a file and re-reads it on Reload (SIGHUP).
type Store struct {
	path   string
	logger *slog.Logger
	cur    atomic.Pointer[Manifest]
}

// Open reads the manifest at path (PERSISTED_DOCUMENTS).
func Open(path string, logger *slog.Logger) (*Store, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Store{path: path, logger: logger}
	m, err := load(path)
	if err != nil {
		return nil, fmt.Errorf("PERSISTED_DOCUMENTS: %s: %w", path, err)
	}
	s.cur.Store(m)
	return s, nil
}

// NewStore serves m, with no file behind it (tests, embedding).
func NewStore(m *Manifest) *Store {
	s := &Store{logger: slog.New(slog.DiscardHandler)}
	s.cur.Store(m)
	return s
}

func load(path string) (*Manifest, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(data)
}

// Manifest is the current manifest.
func (s *Store) Manifest() *Manifest { return s.cur.Load() }

// Reload re-reads the file. A file that cannot be read or parsed leaves the previous
// manifest in service; the error says why (and is logged).
func (s *Store) Reload() error {
	if s.path == "" {
		return errors.New("persisted documents: no file to reload")
	}
	m, err := load(s.path)
	if err != nil {
		s.logger.Error("persisted documents not reloaded; the previous manifest stays in service",
			"file", s.path, "err", err, "documents", s.Manifest().Len())
		return fmt.Errorf("PERSISTED_DOCUMENTS: %s: %w", s.path, err)
	}
	s.cur.Store(m)
	s.logger.Info("persisted documents reloaded", "file", s.path, "documents", m.Len())
	return nil
}
