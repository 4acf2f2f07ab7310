package cache

import (
	"crypto/sha256"
	"encoding/hex"
	"math"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// The response cache keeps the serialized response of a GraphQL query, so that the next
// identical query (same workspace, role, document, operation and variables) is answered
// with the same bytes without executing anything. It lives beside the data cache because
// it obeys the same invalidation: each response is tagged with the union of the tags of
// every entry its execution read (Reads), so the webhook or mutation that evicts any of
// them evicts it too, under the same lock; it expires with the shortest-lived entry it
// read; and a response computed while an invalidation of its workspace raced it is never
// kept. Memory is bounded in bytes (Options.ResponseBytes), least recently used first.

// responseResource marks response entries in the tag index.
const responseResource = "\x00response"

// Reasons a response is not kept (the result label of the store metric).
const (
	Stored              = "stored"
	NotStoredStale      = "stale"     // an entry was served stale (quota nearly gone)
	NotStoredRaced      = "raced"     // an invalidation of the workspace overtook the execution
	NotStoredExpired    = "expired"   // an entry it read expired during the execution
	NotStoredTooLarge   = "too_large" // larger than an eighth of the cache
	NotStoredDisabled   = "disabled"
	NotStoredWrongScope = "wrong_scope"
)

// ResponseKey identifies a response: who asked (workspace and role, since two roles
// may be shown different fields) and what (the document, the operation in it, and the
// variables as canonical JSON).
type ResponseKey struct {
	Scope, Role, Document, OperationName string
	Variables                            []byte
}

// id is the key inside the store: the scope, then a hash of the rest, so that a long
// document costs 32 bytes per entry.
func (k ResponseKey) id() string {
	h := sha256.New()
	for _, part := range [][]byte{[]byte(k.Role), []byte(k.Document), []byte(k.OperationName), k.Variables} {
		var n [8]byte
		for i, l := 0, uint64(len(part)); i < 8; i, l = i+1, l>>8 {
			n[i] = byte(l) // length-prefixed: no two different keys hash the same parts
		}
		h.Write(n[:])
		h.Write(part)
	}
	return k.Scope + "\x00" + hex.EncodeToString(h.Sum(nil))
}

// Response is a stored response: the exact bytes sent, and their entity tag.
type Response struct {
	Body []byte
	ETag string
}

// responseStore is an LRU bounded by bytes; every access holds the Cache's mutex.
type responseStore struct {
	c     *Cache
	max   int64
	bytes int64
	lru   *simplelru.LRU[string, *entry]
}

func newResponseStore(c *Cache, max int64) *responseStore {
	s := &responseStore{c: c, max: max}
	// Bounded by bytes below, not by count.
	s.lru, _ = simplelru.NewLRU(math.MaxInt32, func(key string, e *entry) {
		s.bytes -= responseSize(key, e)
		c.unindex(key, e)
	})
	return s
}

func responseSize(key string, e *entry) int64 {
	n := int64(len(key)+len(e.value.(*Response).Body)) + 256 // entry, LRU element, ETag
	for _, t := range e.tags {
		n += int64(len(t)) + 64 // and its place in the tag index
	}
	return n
}

// remove drops one response; c.mu must be held.
func (s *responseStore) remove(key string) {
	if s != nil {
		s.lru.Remove(key)
	}
}

// ResponseCacheEnabled reports whether the cache keeps responses.
func (c *Cache) ResponseCacheEnabled() bool { return c.responses != nil }

// LookupResponse returns the stored response for key if it is still fresh.
func (c *Cache) LookupResponse(key ResponseKey) (*Response, bool) {
	if c.responses == nil || key.Scope == "" {
		return nil, false
	}
	id := key.id()
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.responses.lru.Get(id)
	if !ok {
		return nil, false
	}
	if !c.opts.Now().Before(e.expires) {
		c.responses.lru.Remove(id)
		return nil, false
	}
	return e.value.(*Response), true
}

// StoreResponse keeps r under key, tagged with what reads collected during its
// execution and expiring with the earliest entry it read (or after the default TTL when
// it read none, e.g. introspection). It returns Stored, or why it did not keep r: the
// execution raced an invalidation of its workspace, read a stale entry or something
// marked NoStore, outlived an entry it read, or r is too large.
func (c *Cache) StoreResponse(key ResponseKey, r *Response, reads *Reads) string {
	if c.responses == nil || reads == nil {
		return NotStoredDisabled
	}
	if key.Scope == "" || key.Scope != reads.scope {
		return NotStoredWrongScope
	}
	tags, expires, refuse := reads.snapshot()
	if refuse != "" {
		return refuse
	}
	id := key.id()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.epochs[key.Scope] != reads.epoch {
		return NotStoredRaced
	}
	now := c.opts.Now()
	if expires.IsZero() {
		expires = now.Add(c.opts.TTL)
	}
	if !now.Before(expires) {
		return NotStoredExpired
	}
	s := c.responses
	e := &entry{value: r, expires: expires, scope: key.Scope, tags: tags}
	size := responseSize(id, e)
	if size > s.max/8 {
		return NotStoredTooLarge
	}
	s.lru.Remove(id) // an older copy, with its tags
	s.lru.Add(id, e)
	s.bytes += size
	c.index(key.Scope, id, responseResource, tags)
	for s.bytes > s.max {
		if _, _, ok := s.lru.RemoveOldest(); !ok {
			break
		}
	}
	return Stored
}

// ResponseCacheBytes returns the memory the stored responses are counted for.
func (c *Cache) ResponseCacheBytes() int64 {
	if c.responses == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.responses.bytes
}

// ResponseCacheLen returns the number of stored responses.
func (c *Cache) ResponseCacheLen() int {
	if c.responses == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.responses.lru.Len()
}
