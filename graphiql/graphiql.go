// Package graphiql serves the GraphiQL playground at "/" with its browser
// bundles embedded in the binary, so it works with no internet access.
//
// The bundles (GraphiQL, React 18, graphql-ws, all pinned by
// package-lock.json) are copied into dist/ by fetch-assets.sh (`make assets`)
// and embedded at build time. A binary built without them still serves the
// page, loading the same pinned versions from a CDN with Subresource
// Integrity, and logs one warning when the handler is built.
//
// Mounting: one handler answers both the page and its assets:
//
//	h := graphiql.Handler(graphiql.Options{Endpoint: "/graphql"})
//	mux.Handle("/", h)         // the page (GET / and HEAD /); 404 for any other path it gets
//	mux.Handle("/graphiql/", h) // /graphiql, /graphiql/ (the page) and /graphiql/assets/...
//
// With Go's ServeMux the "/graphiql/" line is optional, because "/" already
// receives every path no other pattern claims; it only makes the routing
// explicit. The handler matches on the full request path, so do not strip a
// prefix before it.
package graphiql

import (
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"strings"
	"sync"
	"time"
)

//go:embed all:dist
var distFS embed.FS

// AssetPrefix is the URL path under which the embedded bundles are served.
const AssetPrefix = "/graphiql/assets/"

// CDNBase is where the page loads the pinned bundles from when the binary has
// no embedded assets. Paths below it mirror the ones below AssetPrefix.
const CDNBase = "https://cdn.jsdelivr.net/npm/"

// DefaultEndpoint is the GraphQL endpoint used when Options.Endpoint is empty.
const DefaultEndpoint = "/graphql"

// DefaultQuery is the query shown in the editor of a fresh GraphiQL.
const DefaultQuery = `# Livestorm GraphQL gateway. Run with Ctrl-Enter.
# Credentials go in the Headers tab below, e.g.
#   {"Authorization": "<Livestorm API token>"}
# They are sent with every request and as the
# connectionParams of subscriptions (WebSocket).
{
  events(first: 5) {
    nodes {
      id
      title
      sessions(first: 3) {
        nodes {
          id
          status
          registrantsCount
        }
      }
    }
  }
}
`

const warnNoAssets = "graphiql assets not embedded; serving GraphiQL from CDN — run make assets"

// Options configures Handler.
type Options struct {
	// Endpoint is the GraphQL endpoint, a path on this origin ("/graphql",
	// the default) or an absolute http(s) URL. Subscriptions use the same
	// URL with the ws/wss scheme.
	Endpoint string
	// Title is the page title and the text of GraphiQL's logo.
	Title string
	// Logger receives the warning about missing assets; slog.Default() if nil.
	Logger *slog.Logger
}

// asset is one pinned file the page loads. The versions must equal the ones
// package-lock.json pins (the tests check it), and integrity is the SRI hash of
// the file, used when loading it from the CDN.
type asset struct {
	pkg, version, path string
	integrity          string
	style              bool
}

// name is the asset's path below AssetPrefix and below CDNBase.
func (a asset) name() string { return a.pkg + "@" + a.version + "/" + a.path }

// pageAssets in load order: React before ReactDOM before GraphiQL.
var pageAssets = []asset{
	{pkg: "graphiql", version: "4.1.2", path: "graphiql.min.css", style: true,
		integrity: "sha384-1el1QShFBnnXTx9x/Cprg82hZWKt0ry29OAYIXt05swbi0KcZDFoj0CWguMpopJr"},
	{pkg: "react", version: "18.3.1", path: "umd/react.production.min.js",
		integrity: "sha384-DGyLxAyjq0f9SPpVevD6IgztCFlnMF6oW/XQGmfe+IsZ8TqEiDrcHkMLKI6fiB/Z"},
	{pkg: "react-dom", version: "18.3.1", path: "umd/react-dom.production.min.js",
		integrity: "sha384-gTGxhz21lVGYNMcdJOyq01Edg0jhn/c22nsx0kyqP0TxaV5WVdsSH1fSDUf5YJj1"},
	{pkg: "graphql-ws", version: "6.4.2", path: "umd/graphql-ws.min.js",
		integrity: "sha384-mxvR4Mzbsb6QVx/9xI2gtQikQA6m8zMDBFnu3l//4/ROsWt7y2sUGWd+/tYQqDm7"},
	{pkg: "graphiql", version: "4.1.2", path: "graphiql.min.js",
		integrity: "sha384-9XdHu7ajgGJziD4J1zNBKQ842Q/+zZfDv+ib1eMhZWBH6hPAs806x+Jbcf0yNO6B"},
}

// embedded returns the embedded dist/ directory as the root of a file system.
func embedded() fs.FS {
	sub, err := fs.Sub(distFS, "dist")
	if err != nil { // cannot happen: "dist" is a valid path
		panic(err)
	}
	return sub
}

// HasLocalAssets reports whether the binary was built with the GraphiQL
// bundles embedded (after `make assets`), i.e. whether the page works offline.
func HasLocalAssets() bool { return hasAssets(embedded()) }

func hasAssets(fsys fs.FS) bool {
	for _, a := range pageAssets {
		if st, err := fs.Stat(fsys, a.name()); err != nil || !st.Mode().IsRegular() {
			return false
		}
	}
	return true
}

// Handler returns the handler for the GraphiQL page and its assets; see the
// package documentation for how to mount it.
func Handler(opts Options) http.Handler { return newHandler(opts, embedded()) }

type handler struct {
	local    bool
	assets   map[string]*file // by path below AssetPrefix
	endpoint string
	title    string
	// connectSrc is the fixed part of the CSP connect-src directive.
	connectSrc []string
	// absoluteEndpoint is set when Options.Endpoint names another origin.
	absoluteEndpoint bool
}

// newHandler builds the handler from a file system laid out like dist/ (so
// tests can pass one with or without the bundles).
func newHandler(opts Options, fsys fs.FS) *handler {
	logger := opts.Logger
	if logger == nil {
		logger = slog.Default()
	}
	h := &handler{
		assets:     map[string]*file{},
		endpoint:   opts.Endpoint,
		title:      opts.Title,
		connectSrc: []string{"'self'"},
	}
	if h.endpoint == "" {
		h.endpoint = DefaultEndpoint
	}
	if h.title == "" {
		h.title = "Livestorm GraphiQL"
	}
	if u, err := url.Parse(h.endpoint); err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
		h.absoluteEndpoint = true
		ws := "ws"
		if u.Scheme == "https" {
			ws = "wss"
		}
		h.connectSrc = append(h.connectSrc, u.Scheme+"://"+u.Host, ws+"://"+u.Host)
	}

	h.local = hasAssets(fsys)
	if !h.local {
		logger.Warn(warnNoAssets, "cdn", CDNBase)
		return h
	}
	_ = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(path.Base(p), ".") {
			return nil // skip unreadable entries and .gitkeep/.lockhash
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return nil
		}
		sum := sha256.Sum256(data)
		h.assets[p] = &file{
			data:        data,
			etag:        `"` + hex.EncodeToString(sum[:16]) + `"`,
			contentType: contentType(p),
		}
		return nil
	})
	return h
}

// file is one embedded asset, with its gzip encoding made on first request.
type file struct {
	data        []byte
	etag        string
	contentType string

	gzOnce sync.Once
	gz     []byte // nil when compression does not pay
}

func (f *file) gzipped() []byte {
	f.gzOnce.Do(func() {
		if len(f.data) < 1024 || !strings.HasPrefix(f.contentType, "text/") {
			return
		}
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		_, _ = zw.Write(f.data)
		_ = zw.Close()
		if buf.Len() < len(f.data) {
			f.gz = buf.Bytes()
		}
	})
	return f.gz
}

func contentType(name string) string {
	switch path.Ext(name) {
	case ".js", ".mjs":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".map", ".json":
		return "application/json"
	case ".html":
		return "text/html; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	case ".woff2":
		return "font/woff2"
	default: // LICENSE, *.md
		return "text/plain; charset=utf-8"
	}
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	p := r.URL.Path
	isPage := p == "/" || p == "/graphiql" || p == "/graphiql/"
	isAsset := strings.HasPrefix(p, AssetPrefix)
	if !isPage && !isAsset {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return
	}
	if isPage {
		h.servePage(w, r)
		return
	}
	h.serveAsset(w, r, strings.TrimPrefix(p, AssetPrefix))
}

func (h *handler) serveAsset(w http.ResponseWriter, r *http.Request, name string) {
	f, ok := h.assets[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	hdr := w.Header()
	hdr.Set("Content-Type", f.contentType)
	// Asset paths carry the pinned package version, so their content never
	// changes under a given URL.
	hdr.Set("Cache-Control", "public, max-age=31536000, immutable")
	hdr.Set("Cross-Origin-Resource-Policy", "same-origin")
	hdr.Set("Vary", "Accept-Encoding")
	data, etag := f.data, f.etag
	if acceptsGzip(r) {
		if gz := f.gzipped(); gz != nil {
			data, etag = gz, strings.TrimSuffix(f.etag, `"`)+`-gz"`
			hdr.Set("Content-Encoding", "gzip")
		}
	}
	hdr.Set("ETag", etag)
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(data))
}

// acceptsGzip reports whether the Accept-Encoding header allows gzip.
func acceptsGzip(r *http.Request) bool {
	for _, v := range r.Header.Values("Accept-Encoding") {
		for _, part := range strings.Split(v, ",") {
			coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
			if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
				continue
			}
			q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
			return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
		}
	}
	return false
}

// hostRE accepts what may appear as host[:port] in a CSP source expression.
var hostRE = regexp.MustCompile(`^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$`)

type pageRef struct {
	URL       string
	Integrity string
}

type pageConfig struct {
	Endpoint     string `json:"endpoint"`
	Title        string `json:"title"`
	DefaultQuery string `json:"defaultQuery"`
	CDN          bool   `json:"cdn"`
	AssetBase    string `json:"assetBase"`
}

type pageData struct {
	Title   string
	Nonce   string
	Styles  []pageRef
	Scripts []pageRef
	Config  pageConfig
}

func (h *handler) servePage(w http.ResponseWriter, r *http.Request) {
	var nb [18]byte
	_, _ = rand.Read(nb[:])
	nonce := base64.RawURLEncoding.EncodeToString(nb[:]) // no "+" to escape in HTML

	base := AssetPrefix
	if !h.local {
		base = CDNBase
	}
	data := pageData{
		Title: h.title,
		Nonce: nonce,
		Config: pageConfig{
			Endpoint:     h.endpoint,
			Title:        h.title,
			DefaultQuery: DefaultQuery,
			CDN:          !h.local,
			AssetBase:    base,
		},
	}
	for _, a := range pageAssets {
		ref := pageRef{URL: base + a.name()}
		if !h.local {
			ref.Integrity = a.integrity
		}
		if a.style {
			data.Styles = append(data.Styles, ref)
		} else {
			data.Scripts = append(data.Scripts, ref)
		}
	}

	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, data); err != nil {
		http.Error(w, "rendering GraphiQL failed", http.StatusInternalServerError)
		return
	}

	hdr := w.Header()
	hdr.Set("Content-Type", "text/html; charset=utf-8")
	hdr.Set("Cache-Control", "no-store") // the CSP nonce is per response
	hdr.Set("Content-Security-Policy", h.csp(r, nonce))
	hdr.Set("X-Frame-Options", "DENY")
	hdr.Set("Referrer-Policy", "no-referrer")
	hdr.Set("Cross-Origin-Opener-Policy", "same-origin")
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(buf.Bytes())
	}
}

// csp is the page's Content-Security-Policy: only this origin (or, without
// embedded assets, the pinned CDN files) plus the inline bootstrap script and
// style carrying the response's nonce. GraphiQL's fonts and icons are data:
// URLs inside its CSS. The nonce is also handed to GraphiQL (via
// __webpack_nonce__) for the one <style> element it inserts at run time;
// the inline styles React sets go through the CSSOM, which CSP allows.
func (h *handler) csp(r *http.Request, nonce string) string {
	src := "'self'"
	if !h.local {
		src += " " + strings.TrimSuffix(CDNBase, "/npm/") // https://cdn.jsdelivr.net
	}
	connect := append([]string(nil), h.connectSrc...)
	if !h.absoluteEndpoint && hostRE.MatchString(r.Host) {
		// 'self' covers same-origin ws:/wss: in CSP3 browsers; older ones need it spelled out.
		connect = append(connect, "ws://"+r.Host, "wss://"+r.Host)
	}
	return strings.Join([]string{
		"default-src 'none'",
		"script-src " + src + " 'nonce-" + nonce + "'",
		"style-src " + src + " 'nonce-" + nonce + "'",
		"img-src 'self' data:",
		"font-src 'self' data:",
		"connect-src " + strings.Join(connect, " "),
		"base-uri 'none'",
		"form-action 'none'",
		"frame-ancestors 'none'",
	}, "; ")
}

var pageTemplate = template.Must(template.New("graphiql").Parse(pageHTML))

// pageHTML is the GraphiQL page. The bootstrap script builds a fetcher that
// sends queries and mutations as POST requests to the endpoint with the
// headers of GraphiQL's headers editor, and runs subscriptions over a
// graphql-transport-ws WebSocket (graphql-ws client) whose connectionParams
// are those same headers.
const pageHTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{{.Title}}</title>
<link rel="icon" href="data:,">
{{- range .Styles}}
<link rel="stylesheet" href="{{.URL}}"{{if .Integrity}} integrity="{{.Integrity}}" crossorigin="anonymous"{{end}}>
{{- end}}
<style nonce="{{.Nonce}}">
html, body { height: 100%; margin: 0; overflow: hidden; }
#graphiql { height: 100vh; }
#graphiql > .graphiql-load-error { font: 15px/1.5 system-ui, sans-serif; padding: 2em; }
</style>
</head>
<body>
<div id="graphiql"><noscript>GraphiQL needs JavaScript.</noscript></div>
{{- range .Scripts}}
<script src="{{.URL}}"{{if .Integrity}} integrity="{{.Integrity}}" crossorigin="anonymous"{{end}}></script>
{{- end}}
<script nonce="{{.Nonce}}">
(function () {
  'use strict';
  var config = {{.Config}};
  var script = document.currentScript;
  // GraphiQL adds one <style> element at run time and gives it this nonce.
  window.__webpack_nonce__ = script && script.nonce;
  var root = document.getElementById('graphiql');

  if (!window.React || !window.ReactDOM || !window.GraphiQL || !window.graphqlWs) {
    var msg = document.createElement('p');
    msg.className = 'graphiql-load-error';
    msg.textContent = 'GraphiQL could not load its scripts from ' + config.assetBase + '. ' +
      (config.cdn ? 'This gateway was built without embedded assets and the CDN is unreachable: rebuild it after "make assets".'
                  : 'Check the gateway logs.');
    root.replaceChildren(msg);
    return;
  }

  var endpoint = new URL(config.endpoint, window.location.href);
  var wsURL = new URL(endpoint.href);
  wsURL.protocol = endpoint.protocol === 'https:' ? 'wss:' : 'ws:';

  // operationType tells whether GraphiQL is about to run a query, a mutation
  // or a subscription. It trusts the document GraphiQL parsed only when it
  // is the one being run (GraphiQL updates it after a short delay), and
  // otherwise scans the top level of the query text itself.
  function operationType(params, opts) {
    var query = String(params.query || '');
    var doc = opts && opts.documentAST;
    var ops;
    if (doc && doc.definitions && doc.loc && doc.loc.source && doc.loc.source.body === query) {
      ops = doc.definitions.filter(function (d) { return d.kind === 'OperationDefinition'; })
        .map(function (d) { return { type: d.operation, name: d.name ? d.name.value : null }; });
    } else {
      ops = scanOperations(query);
    }
    var op = params.operationName ? ops.find(function (o) { return o.name === params.operationName; }) : undefined;
    if (!op && ops.length === 1) op = ops[0];
    return op ? op.type : 'query';
  }

  // scanOperations lists the operations of a GraphQL document: the keywords
  // and names found outside braces and parentheses, once comments and strings
  // are blanked out. A bare selection set is an anonymous query.
  function scanOperations(src) {
    src = src.replace(/"""[\s\S]*?"""|"(?:[^"\\\n]|\\.)*"|#[^\n\r]*/g, ' ');
    var ops = [], depth = 0, current = null, expectName = false;
    var re = /[{}()]|[_A-Za-z][_0-9A-Za-z]*/g, m;
    while ((m = re.exec(src))) {
      var t = m[0];
      if (t === '{' || t === '(') {
        if (depth === 0 && t === '{' && !current) ops.push({ type: 'query', name: null });
        depth++;
        expectName = false;
      } else if (t === '}' || t === ')') {
        depth = Math.max(0, depth - 1);
        if (depth === 0 && t === '}') current = null;
      } else if (depth === 0) {
        if (t === 'query' || t === 'mutation' || t === 'subscription' || t === 'fragment') {
          current = { type: t, name: null };
          if (t !== 'fragment') ops.push(current);
          expectName = true;
        } else if (expectName && current) {
          current.name = t;
          expectName = false;
        }
      }
    }
    return ops;
  }

  function httpFetch(params, headers) {
    return fetch(endpoint.href, {
      method: 'POST',
      credentials: 'same-origin',
      headers: Object.assign({
        'Content-Type': 'application/json',
        'Accept': 'application/graphql-response+json, application/json'
      }, headers),
      body: JSON.stringify(params)
    }).then(function (res) {
      return res.text().then(function (text) {
        try {
          return JSON.parse(text);
        } catch (e) {
          return { errors: [{ message: 'HTTP ' + res.status + ' ' + res.statusText + ': ' + text.slice(0, 2000) }] };
        }
      });
    });
  }

  // One graphql-ws client per distinct set of headers: the headers are the
  // connection's connectionParams, fixed when the socket opens. Clients are
  // lazy, so an idle one holds no socket.
  var clients = new Map();
  function wsClient(headers) {
    var key = JSON.stringify(headers);
    var client = clients.get(key);
    if (!client) {
      client = graphqlWs.createClient({ url: wsURL.href, connectionParams: headers, lazy: true });
      clients.set(key, client);
    }
    return client;
  }

  // asError turns the WebSocket events graphql-ws rejects with into messages
  // GraphiQL can show; GraphQL errors pass through.
  function asError(err) {
    if (typeof CloseEvent !== 'undefined' && err instanceof CloseEvent) {
      return new Error('WebSocket closed (' + err.code + (err.reason ? ': ' + err.reason : '') + ')');
    }
    if (typeof Event !== 'undefined' && err instanceof Event) {
      return new Error('WebSocket error: could not connect to ' + wsURL.href);
    }
    return err;
  }

  // subscribe returns an async iterable of execution results. Its return()
  // (GraphiQL's stop button) completes the subscription at once.
  function subscribe(params, headers) {
    var it = wsClient(headers).iterate({
      query: params.query,
      variables: params.variables || undefined,
      operationName: params.operationName || undefined
    });
    var iterable = {
      next: function () { return it.next().catch(function (err) { throw asError(err); }); },
      return: function () { return it.return ? it.return() : Promise.resolve({ done: true, value: undefined }); }
    };
    iterable[Symbol.asyncIterator] = function () { return iterable; };
    return iterable;
  }

  function fetcher(params, opts) {
    var headers = (opts && opts.headers) || {};
    if (operationType(params, opts) === 'subscription') {
      return subscribe(params, headers);
    }
    return httpFetch(params, headers);
  }

  ReactDOM.createRoot(root).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: config.defaultQuery,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: false
    }, React.createElement(GraphiQL.Logo, null, config.title))
  );
})();
</script>
</body>
</html>
`
