package livestormsim

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// handlerFunc is a route handler: it returns the response instead of writing
// it, so the middleware can apply faults and always log the outcome.
type handlerFunc func(c *reqCtx) response

// route is one API operation, e.g. GET /events/{id}/sessions.
type route struct {
	method   string
	template string
	segs     []string
	area     scopeArea
	handle   handlerFunc
}

// router matches paths against templates with {wildcard} segments; static
// segments win over wildcards so /sessions/{id}/people/bulk beats
// /sessions/{id}/people/{people_id}.
type router struct{ routes []*route }

func (rt *router) add(method, template string, area scopeArea, h handlerFunc) {
	rt.routes = append(rt.routes, &route{method: method, template: template, segs: splitPath(template), area: area, handle: h})
}

func splitPath(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// routeMatch is the outcome of a lookup: the route for the method (nil when
// none), the best template for the path (for the request log) and the
// methods the path supports (for 405).
type routeMatch struct {
	route    *route
	params   map[string]string
	template string
	allowed  []string
}

func (rt *router) lookup(method, path string) routeMatch {
	segs := splitPath(path)
	var m routeMatch
	bestAny, bestMethod := -1, -1
	for _, r := range rt.routes {
		score, ok := matchSegments(r.segs, segs)
		if !ok {
			continue
		}
		if !slices.Contains(m.allowed, r.method) {
			m.allowed = append(m.allowed, r.method)
		}
		if score > bestAny {
			bestAny, m.template = score, r.template
		}
		if r.method == method && score > bestMethod {
			bestMethod, m.route = score, r
		}
	}
	if m.route != nil {
		m.template = m.route.template
		m.params = map[string]string{}
		for i, seg := range m.route.segs {
			if isWildcard(seg) {
				m.params[seg[1:len(seg)-1]] = segs[i]
			}
		}
	}
	return m
}

func isWildcard(seg string) bool { return strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") }

// matchSegments reports whether path segments fit a template and how many
// static segments matched.
func matchSegments(tmpl, segs []string) (int, bool) {
	if len(tmpl) != len(segs) {
		return 0, false
	}
	score := 0
	for i, t := range tmpl {
		switch {
		case isWildcard(t):
			if segs[i] == "" {
				return 0, false
			}
		case t == segs[i]:
			score++
		default:
			return 0, false
		}
	}
	return score, true
}

// reqCtx is what a handler gets: the request, path parameters and the
// authenticated organization.
type reqCtx struct {
	s      *Simulator
	r      *http.Request
	params map[string]string
	cred   credential
	org    *orgData
}

func (c *reqCtx) param(name string) string { return c.params[name] }

func (c *reqCtx) query(spec querySpec) (*listQuery, *apiError) {
	return parseQuery(c.r.URL.Query(), spec, c.s.cfg.DefaultPageSize, c.s.cfg.MaxPageSize)
}

func (c *reqCtx) now() int64 { return c.s.Now().Unix() }

func apiErrorResponse(e *apiError) response { return errorResponse(e.status, e.detail) }

// serveHTTP is the middleware chain: route lookup, latency, authentication,
// rate limiting, fault injection, scope check, body cap, handler, logging and
// panic recovery.
func (s *Simulator) serveHTTP(w http.ResponseWriter, r *http.Request) {
	rec := RequestRecord{Time: time.Now(), Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery}
	written := false
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("livestormsim: handler panic", "panic", fmt.Sprint(p), "method", r.Method, "path", r.URL.Path)
			if !written {
				rec.Status = writeResponse(w, errorResponse(http.StatusInternalServerError, "Internal server error"))
			}
		}
		s.reqlog.add(rec)
	}()
	resp, ok := s.process(w, r, &rec)
	if !ok {
		return // the client went away; nothing to write
	}
	written = true
	rec.Status = writeResponse(w, resp)
}

func writeResponse(w http.ResponseWriter, resp response) int {
	h := w.Header()
	for k, v := range resp.header {
		h[k] = v
	}
	if len(resp.body) > 0 && h.Get("Content-Type") == "" {
		h.Set("Content-Type", mediaType)
	}
	w.WriteHeader(resp.status)
	if len(resp.body) > 0 {
		_, _ = w.Write(resp.body)
	}
	return resp.status
}

// process runs the chain and returns the response to write; ok is false when
// the client gave up while the request was delayed.
func (s *Simulator) process(w http.ResponseWriter, r *http.Request, rec *RequestRecord) (resp response, ok bool) {
	path := r.URL.Path
	if path != "/v1" && !strings.HasPrefix(path, "/v1/") {
		return errorResponse(http.StatusNotFound, "Not found: the API lives under /v1"), true
	}
	path = strings.TrimPrefix(path, "/v1")
	rec.Path = path
	m := s.router.lookup(r.Method, path)
	rec.Route = m.template

	if d := s.faults.delay(); d > 0 {
		if resp, waited := s.wait(r, d); !waited {
			return resp, resp.status != 0
		}
	}

	cred, err := s.tokens.authenticate(r.Header.Get("Authorization"))
	if err != nil {
		resp := errorResponse(http.StatusUnauthorized, err.Error())
		if ue, isUE := err.(*errUnauthorized); isUE && ue.oauth {
			resp.header = http.Header{"Www-Authenticate": {`Bearer realm="Doorkeeper", error="invalid_token", error_description="The access token is invalid"`}}
		}
		return resp, true
	}
	rec.OrgID = cred.orgID
	org := s.store.orgByID[cred.orgID] // orgs are fixed after New: no lock needed

	st := s.limiter.take(cred.orgID)
	header := http.Header{}
	st.writeHeaders(header)
	if !st.allowed {
		detail := "Rate limit exceeded: at most " + fmt.Sprint(st.intervalLimit) + " requests per second"
		if st.monthlyLimit > 0 && st.monthlyRem == 0 {
			detail = "Monthly API quota exhausted"
		}
		resp := errorResponse(http.StatusTooManyRequests, detail)
		resp.header = header
		return resp, true
	}

	fault, faultStatus := s.faults.pick()
	rec.Fault = fault
	switch fault {
	case FaultRateLimited:
		fst := s.limiter.peek(cred.orgID)
		fst.allowed, fst.retryAfter = false, 1
		header = http.Header{}
		fst.writeHeaders(header)
		resp := errorResponse(http.StatusTooManyRequests, "Rate limit exceeded")
		resp.header = header
		return resp, true
	case FaultServerError:
		resp := errorResponse(faultStatus, "Simulated server error")
		resp.header = header
		return resp, true
	case FaultTimeout:
		resp, waited := s.wait(r, s.faults.timeoutAfter())
		if waited {
			resp = errorResponse(http.StatusGatewayTimeout, "Simulated timeout")
			resp.header = header
		}
		return resp, resp.status != 0
	}

	resp = s.dispatch(w, r, m, cred, org)
	for k, v := range header {
		if resp.header == nil {
			resp.header = http.Header{}
		}
		resp.header[k] = v
	}
	if resp.status >= 200 && resp.status < 300 {
		switch fault {
		case FaultTruncated:
			resp.body = resp.body[:len(resp.body)/2]
		case FaultMalformed:
			resp.body = []byte("<html><body><h1>502 Bad Gateway</h1></body></html>")
		}
	}
	return resp, true
}

// dispatch runs the matched route after the scope check.
func (s *Simulator) dispatch(w http.ResponseWriter, r *http.Request, m routeMatch, cred credential, org *orgData) response {
	if m.route == nil {
		if len(m.allowed) > 0 {
			resp := errorResponse(http.StatusMethodNotAllowed, "Method "+r.Method+" is not allowed on "+m.template)
			resp.header = http.Header{"Allow": {strings.Join(m.allowed, ", ")}}
			return resp
		}
		return errorResponse(http.StatusNotFound, "No route matches "+r.Method+" "+strings.TrimPrefix(r.URL.Path, "/v1"))
	}
	if !cred.scopes.allows(m.route.area, r.Method) {
		return errorResponse(http.StatusForbidden, "This resource is not included in your token scopes")
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
	return m.route.handle(&reqCtx{s: s, r: r, params: m.params, cred: cred, org: org})
}

// wait sleeps for d unless the client leaves (zero response, false) or the
// simulator closes (503, false); it returns true when d elapsed.
func (s *Simulator) wait(r *http.Request, d time.Duration) (response, bool) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return response{}, true
	case <-r.Context().Done():
		return response{}, false
	case <-s.ctx.Done():
		return errorResponse(http.StatusServiceUnavailable, "Simulator is shutting down"), false
	}
}
