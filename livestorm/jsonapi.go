package livestorm

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// This file decodes JSON:API documents. Structure (is it JSON, is data an
// object or an array) is checked strictly, because a broken structure means a
// truncated or malformed response worth retrying. Attribute values are read
// leniently (numbers in strings, null for zero values, …) because Livestorm's
// own sources disagree on types and one odd value must not lose a page.

var (
	errEmptyBody = errors.New("empty response body")
	errNoData    = errors.New("response document has no data")
)

// document is a decoded JSON:API document.
type document struct {
	// data is the primary data; many reports whether it was an array.
	data     []*resource
	many     bool
	hasData  bool
	included []*resource
	meta     attrMap
	hasMeta  bool
	index    map[resKey]*resource
}

type resKey struct{ typ, id string }

// resource is one JSON:API resource object.
type resource struct {
	ID    string
	Type  string
	attrs attrMap
	rels  map[string]linkage
	meta  attrMap
}

// linkage is a relationship's resource linkage (one or many identifiers).
type linkage struct {
	ids  []resKey
	many bool
}

func (l linkage) first() (resKey, bool) {
	if len(l.ids) == 0 {
		return resKey{}, false
	}
	return l.ids[0], true
}

// parseDocument decodes body. It accepts the documented envelope
// {"data":…,"included":…,"meta":…} and the root-level resource Livestorm's
// bulk endpoint answers with ({"type":"jobs","id":…,"attributes":…}).
func parseDocument(body []byte) (*document, error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil, errEmptyBody
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		return nil, fmt.Errorf("malformed JSON:API document: %w", err)
	}
	doc := &document{}
	if raw, ok := top["data"]; ok {
		doc.hasData = true
		raw = bytes.TrimSpace(raw)
		switch {
		case bytes.Equal(raw, []byte("null")):
		case len(raw) > 0 && raw[0] == '[':
			doc.many = true
			var err error
			if doc.data, err = parseResourceArray(raw, "data", "malformed data array"); err != nil {
				return nil, err
			}
		case len(raw) > 0 && raw[0] == '{':
			r, err := parseResource(raw)
			if err != nil {
				return nil, fmt.Errorf("data: %w", err)
			}
			doc.data = []*resource{r}
		default:
			return nil, errors.New("data is neither an object, an array nor null")
		}
	} else if _, ok := top["type"]; ok {
		// Root-level resource (no data wrapper).
		r, err := parseResource(body)
		if err != nil {
			return nil, err
		}
		doc.hasData = true
		doc.data = []*resource{r}
	}
	if raw, ok := top["included"]; ok && !isNull(raw) {
		var err error
		if doc.included, err = parseResourceArray(raw, "included", "malformed included"); err != nil {
			return nil, err
		}
	}
	if raw, ok := top["meta"]; ok && !isNull(raw) {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, fmt.Errorf("malformed meta: %w", err)
		}
		doc.meta = attrMap{m: m}
		doc.hasMeta = true
	}
	doc.index = make(map[resKey]*resource, len(doc.included))
	for _, r := range doc.included {
		doc.index[resKey{r.Type, r.ID}] = r
	}
	return doc, nil
}

// parseResourceArray decodes the data or included array of a document.
// Errors name a bad element by member and index ("included[2]: …"), and start
// with malformed when raw is not an array at all.
func parseResourceArray(raw json.RawMessage, member, malformed string) ([]*resource, error) {
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, fmt.Errorf("%s: %w", malformed, err)
	}
	var out []*resource
	for i, it := range items {
		r, err := parseResource(it)
		if err != nil {
			return nil, fmt.Errorf("%s[%d]: %w", member, i, err)
		}
		out = append(out, r)
	}
	return out, nil
}

func isNull(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == 0 || bytes.Equal(raw, []byte("null"))
}

func parseResource(raw json.RawMessage) (*resource, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("malformed resource object: %w", err)
	}
	top := attrMap{m: m}
	r := &resource{ID: top.str("id"), Type: top.str("type")}
	if a := top.object("attributes"); a != nil {
		r.attrs = *a
	}
	if mt := top.object("meta"); mt != nil {
		r.meta = *mt
	}
	if rels := top.object("relationships"); rels != nil {
		r.rels = make(map[string]linkage, len(rels.m))
		for name, v := range rels.m {
			r.rels[name] = parseLinkage(v)
		}
	}
	return r, nil
}

// parseLinkage reads {"data": …}, and tolerates the bare array/object forms
// Livestorm uses in some write bodies.
func parseLinkage(raw json.RawMessage) linkage {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return linkage{}
	}
	if raw[0] == '{' {
		var m map[string]json.RawMessage
		if json.Unmarshal(raw, &m) != nil {
			return linkage{}
		}
		if d, ok := m["data"]; ok {
			return parseLinkageData(d)
		}
		return parseLinkageData(raw)
	}
	return parseLinkageData(raw)
}

func parseLinkageData(raw json.RawMessage) linkage {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || isNull(raw) {
		return linkage{}
	}
	ident := func(r json.RawMessage) (resKey, bool) {
		var m map[string]json.RawMessage
		if json.Unmarshal(r, &m) != nil {
			return resKey{}, false
		}
		a := attrMap{m: m}
		if d := a.object("data"); d != nil { // [{"data":{…}}] write-style items
			a = *d
		}
		k := resKey{typ: a.str("type"), id: a.str("id")}
		return k, k.id != ""
	}
	if raw[0] == '[' {
		var items []json.RawMessage
		if json.Unmarshal(raw, &items) != nil {
			return linkage{many: true}
		}
		l := linkage{many: true}
		for _, it := range items {
			if k, ok := ident(it); ok {
				l.ids = append(l.ids, k)
			}
		}
		return l
	}
	if k, ok := ident(raw); ok {
		return linkage{ids: []resKey{k}}
	}
	return linkage{}
}

// one returns the single primary resource.
func (d *document) one() (*resource, error) {
	if !d.hasData || len(d.data) == 0 {
		return nil, errNoData
	}
	if d.many {
		if len(d.data) == 1 {
			return d.data[0], nil
		}
		return nil, errors.New("expected one resource, got an array")
	}
	return d.data[0], nil
}

// list returns the primary resources; a list endpoint must answer with data.
func (d *document) list() ([]*resource, error) {
	if !d.hasData {
		return nil, errNoData
	}
	return d.data, nil
}

// lookup finds an included resource.
func (d *document) lookup(k resKey) *resource {
	if d == nil {
		return nil
	}
	if r, ok := d.index[k]; ok {
		return r
	}
	if k.typ == "" { // untyped linkage: match on id alone
		for _, r := range d.included {
			if r.ID == k.id {
				return r
			}
		}
	}
	return nil
}

// includedOfType lists included resources of one of the given types.
func (d *document) includedOfType(types ...string) []*resource {
	if d == nil {
		return nil
	}
	var out []*resource
	for _, r := range d.included {
		for _, t := range types {
			if r.Type == t {
				out = append(out, r)
				break
			}
		}
	}
	return out
}

// listMeta reads pagination meta, deriving missing keys: Livestorm's 2021
// documents carry only record_count, page_count and items_per_page.
func (d *document) listMeta(requested int) ListMeta {
	m := ListMeta{CurrentPage: requested}
	if !d.hasMeta {
		return m
	}
	a := d.meta
	if v, ok := a.intOK("current_page"); ok {
		m.CurrentPage = v
	}
	m.RecordCount = a.int("record_count")
	m.PageCount = a.int("page_count")
	m.ItemsPerPage = a.int("items_per_page")
	if a.has("next_page") {
		m.NextPage = a.intPtr("next_page")
	} else if _, ok := a.intOK("page_count"); ok && m.CurrentPage+1 < m.PageCount {
		n := m.CurrentPage + 1
		m.NextPage = &n
	}
	if a.has("previous_page") {
		m.PreviousPage = a.intPtr("previous_page")
	} else if m.CurrentPage > 0 {
		p := m.CurrentPage - 1
		m.PreviousPage = &p
	}
	return m
}

// attrMap is a JSON object read leniently. Keys whose values could not be
// coerced to the wanted type are remembered in bad so the client can log
// them instead of failing the call.
type attrMap struct {
	m   map[string]json.RawMessage
	bad *[]string
}

func (a attrMap) raw(keys ...string) (json.RawMessage, string, bool) {
	for _, k := range keys {
		if v, ok := a.m[k]; ok {
			return v, k, true
		}
	}
	return nil, "", false
}

func (a attrMap) has(keys ...string) bool {
	_, _, ok := a.raw(keys...)
	return ok
}

func (a attrMap) mark(key string) {
	if a.bad != nil {
		*a.bad = append(*a.bad, key)
	}
}

// strPtr returns nil for absent or null values; numbers and booleans are
// returned in their JSON spelling.
func (a attrMap) strPtr(keys ...string) *string {
	raw, key, ok := a.raw(keys...)
	if !ok || isNull(raw) {
		return nil
	}
	s, ok := scalarString(raw)
	if !ok {
		a.mark(key)
		return nil
	}
	return &s
}

func (a attrMap) str(keys ...string) string {
	if p := a.strPtr(keys...); p != nil {
		return *p
	}
	return ""
}

func scalarString(raw json.RawMessage) (string, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "", false
	}
	switch raw[0] {
	case '"':
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return "", false
		}
		return s, true
	case '{', '[':
		return "", false
	}
	return string(raw), true // number, true, false
}

func (a attrMap) intOK(keys ...string) (int, bool) {
	raw, key, ok := a.raw(keys...)
	if !ok || isNull(raw) {
		return 0, false
	}
	n, ok := scalarInt(raw)
	if !ok {
		a.mark(key)
	}
	return int(n), ok
}

func (a attrMap) int(keys ...string) int {
	n, _ := a.intOK(keys...)
	return n
}

func (a attrMap) int64(keys ...string) int64 {
	raw, key, ok := a.raw(keys...)
	if !ok || isNull(raw) {
		return 0
	}
	n, ok := scalarInt(raw)
	if !ok {
		a.mark(key)
	}
	return n
}

func (a attrMap) intPtr(keys ...string) *int {
	n, ok := a.intOK(keys...)
	if !ok {
		return nil
	}
	return &n
}

func scalarInt(raw json.RawMessage) (int64, bool) {
	s, ok := scalarString(raw)
	if !ok {
		return 0, false
	}
	s = strings.TrimSpace(s)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 9e15 {
		return 0, false
	}
	return int64(math.Round(f)), true
}

func (a attrMap) floatPtr(keys ...string) *float64 {
	raw, key, ok := a.raw(keys...)
	if !ok || isNull(raw) {
		return nil
	}
	s, ok := scalarString(raw)
	if ok {
		if f, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) {
			return &f
		}
	}
	a.mark(key)
	return nil
}

func (a attrMap) boolPtr(keys ...string) *bool {
	raw, key, ok := a.raw(keys...)
	if !ok || isNull(raw) {
		return nil
	}
	s, ok := scalarString(raw)
	if ok {
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "true", "1", "yes":
			t := true
			return &t
		case "false", "0", "no", "":
			f := false
			return &f
		}
	}
	a.mark(key)
	return nil
}

func (a attrMap) boolean(keys ...string) bool {
	if p := a.boolPtr(keys...); p != nil {
		return *p
	}
	return false
}

func (a attrMap) time(keys ...string) time.Time {
	raw, key, ok := a.raw(keys...)
	if !ok {
		return time.Time{}
	}
	t, ok := parseTimeValue(raw)
	if !ok {
		a.mark(key)
	}
	return t
}

// object returns a nested object (nil when absent, null or not an object).
func (a attrMap) object(keys ...string) *attrMap {
	raw, key, ok := a.raw(keys...)
	if !ok || isNull(raw) {
		return nil
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		a.mark(key)
		return nil
	}
	return &attrMap{m: m, bad: a.bad}
}

// array returns the elements of a nested array (nil when absent or null).
func (a attrMap) array(keys ...string) ([]json.RawMessage, bool) {
	raw, key, ok := a.raw(keys...)
	if !ok || isNull(raw) {
		return nil, ok
	}
	var items []json.RawMessage
	if json.Unmarshal(raw, &items) != nil {
		a.mark(key)
		return nil, false
	}
	return items, true
}

// rawCopy returns a copy of the raw value at key (nil when absent or null), so
// a decoded struct does not pin the whole response body.
func (a attrMap) rawCopy(key string) json.RawMessage {
	if raw, _, ok := a.raw(key); ok && !isNull(raw) {
		return append(json.RawMessage(nil), raw...)
	}
	return nil
}

// sub wraps a raw object in an attrMap sharing a's bad-key log.
func (a attrMap) sub(raw json.RawMessage) *attrMap {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return nil
	}
	return &attrMap{m: m, bad: a.bad}
}
