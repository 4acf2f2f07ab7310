package graphiql

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"html"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeDist is a file system laid out like a populated dist/.
func fakeDist() fstest.MapFS {
	fsys := fstest.MapFS{
		".gitkeep":                     {Data: nil},
		".lockhash":                    {Data: []byte("0123\n")},
		"graphiql@4.1.2/LICENSE":       {Data: []byte("MIT License")},
		"react@18.3.1/umd/unused.js":   {Data: []byte("/* not referenced by the page */")},
		"react-dom@18.3.1/LICENSE":     {Data: []byte("MIT License")},
		"graphql-ws@6.4.2/LICENSE.md":  {Data: []byte("# MIT")},
		"graphiql@4.1.2/README.md":     {Data: []byte("readme")},
		"graphiql@4.1.2/unused/x.json": {Data: []byte("{}")},
	}
	for _, a := range pageAssets {
		// Big enough to be worth compressing.
		fsys[a.name()] = &fstest.MapFile{Data: []byte(strings.Repeat("/* "+a.name()+" */\n", 200))}
	}
	return fsys
}

func logCapture() (*slog.Logger, *bytes.Buffer) {
	var buf bytes.Buffer
	return slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})), &buf
}

var (
	scriptSrcRE = regexp.MustCompile(`<script\b[^>]*\bsrc="([^"]*)"`)
	linkHrefRE  = regexp.MustCompile(`<link\b[^>]*\bhref="([^"]*)"`)
	nonceAttrRE = regexp.MustCompile(`<script nonce="([^"]+)">`)
	cspNonceRE  = regexp.MustCompile(`script-src [^;]*'nonce-([^']+)'`)
)

// refs returns the URLs of every <script src> and <link href> of a page,
// leaving out the data: favicon.
func refs(t *testing.T, page string) []string {
	t.Helper()
	var out []string
	for _, re := range []*regexp.Regexp{scriptSrcRE, linkHrefRE} {
		for _, m := range re.FindAllStringSubmatch(page, -1) {
			if strings.HasPrefix(m[1], "data:") {
				continue
			}
			out = append(out, m[1])
		}
	}
	return out
}

func get(t *testing.T, h http.Handler, target string, hdr ...string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, target, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func body(t *testing.T, res *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return string(b)
}

// checkLocalPage asserts that h serves an offline page: every script and
// stylesheet is same-origin, served with the right type and caching headers.
func checkLocalPage(t *testing.T, h http.Handler) {
	t.Helper()
	res := get(t, h, "/")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "text/html; charset=utf-8", res.Header.Get("Content-Type"))
	assert.Equal(t, "nosniff", res.Header.Get("X-Content-Type-Options"))
	assert.Equal(t, "no-store", res.Header.Get("Cache-Control"))
	page := body(t, res)

	csp := res.Header.Get("Content-Security-Policy")
	require.NotEmpty(t, csp)
	assert.Contains(t, csp, "default-src 'none'")
	assert.Contains(t, csp, "connect-src 'self'")
	assert.NotContains(t, csp, "https:")
	assert.NotContains(t, csp, "unsafe-inline")
	assert.NotContains(t, csp, "unsafe-eval")
	assert.NotContains(t, csp, "*")
	for _, d := range []string{"script-src", "style-src"} {
		assert.Regexp(t, `(^|; )`+d+` 'self' 'nonce-[A-Za-z0-9_-]{24}'(;|$)`, csp)
	}
	// The inline bootstrap carries the CSP's nonce.
	cspNonce := cspNonceRE.FindStringSubmatch(csp)
	scriptNonce := nonceAttrRE.FindStringSubmatch(page)
	require.Len(t, cspNonce, 2)
	require.Len(t, scriptNonce, 2)
	assert.Equal(t, cspNonce[1], scriptNonce[1])

	assert.Contains(t, page, "events(first: 5)")
	assert.Contains(t, page, "registrantsCount")
	assert.Contains(t, page, "graphqlWs.createClient")
	assert.Contains(t, page, `"endpoint":"/graphql"`)

	urls := refs(t, page)
	require.Len(t, urls, len(pageAssets), "page references: %v", urls)
	for _, ref := range urls {
		u, err := url.Parse(ref)
		require.NoError(t, err)
		assert.Empty(t, u.Scheme, "scheme in %q", ref)
		assert.Empty(t, u.Host, "host in %q", ref)
		assert.True(t, strings.HasPrefix(ref, AssetPrefix), "%q outside %s", ref, AssetPrefix)

		res := get(t, h, ref)
		require.Equal(t, http.StatusOK, res.StatusCode, ref)
		want := "text/javascript; charset=utf-8"
		if strings.HasSuffix(ref, ".css") {
			want = "text/css; charset=utf-8"
		}
		assert.Equal(t, want, res.Header.Get("Content-Type"), ref)
		assert.Equal(t, "nosniff", res.Header.Get("X-Content-Type-Options"), ref)
		assert.Equal(t, "public, max-age=31536000, immutable", res.Header.Get("Cache-Control"), ref)
		etag := res.Header.Get("ETag")
		assert.Regexp(t, `^"[0-9a-f]{32}"$`, etag, ref)
		assert.NotEmpty(t, body(t, res), ref)

		res = get(t, h, ref, "If-None-Match", etag)
		assert.Equal(t, http.StatusNotModified, res.StatusCode, ref)
	}
}

func TestLocalAssets(t *testing.T) {
	logger, logs := logCapture()
	h := newHandler(Options{Logger: logger}, fakeDist())
	require.True(t, h.local)
	checkLocalPage(t, h)
	assert.Empty(t, logs.String(), "no warning when assets are embedded")

	// Other files of dist/ are served too; dot files are not.
	res := get(t, h, AssetPrefix+"graphiql@4.1.2/LICENSE")
	assert.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "text/plain; charset=utf-8", res.Header.Get("Content-Type"))
	assert.Equal(t, http.StatusNotFound, get(t, h, AssetPrefix+".lockhash").StatusCode)
	assert.Equal(t, http.StatusNotFound, get(t, h, AssetPrefix+".gitkeep").StatusCode)
}

func TestPageAliases(t *testing.T) {
	h := newHandler(Options{Logger: slog.New(slog.DiscardHandler)}, fakeDist())
	for _, p := range []string{"/", "/graphiql", "/graphiql/"} {
		res := get(t, h, p)
		assert.Equal(t, http.StatusOK, res.StatusCode, p)
		assert.Contains(t, body(t, res), "<title>Livestorm GraphiQL</title>", p)
	}

	req := httptest.NewRequest(http.MethodHead, "/", nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Empty(t, rec.Body.String())
	assert.NotEmpty(t, rec.Header().Get("Content-Security-Policy"))
}

func TestNotFoundAndMethods(t *testing.T) {
	h := newHandler(Options{Logger: slog.New(slog.DiscardHandler)}, fakeDist())
	for _, p := range []string{
		AssetPrefix + "nope.js",
		AssetPrefix + "react@18.3.1/umd/react.development.js",
		AssetPrefix,
		AssetPrefix + "../graphiql.go",
		"/graphiql/assets",
		"/favicon.ico",
		"/graphql", // not ours: the caller mounts the API more specifically
		"/index.html",
	} {
		res := get(t, h, p)
		assert.Equal(t, http.StatusNotFound, res.StatusCode, p)
		assert.Equal(t, "nosniff", res.Header.Get("X-Content-Type-Options"), p)
	}

	for _, p := range []string{"/", AssetPrefix + pageAssets[0].name()} {
		req := httptest.NewRequest(http.MethodPost, p, strings.NewReader("{}"))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		assert.Equal(t, http.StatusMethodNotAllowed, rec.Code, p)
		assert.Equal(t, "GET, HEAD", rec.Header().Get("Allow"), p)
	}
}

func TestGzip(t *testing.T) {
	fsys := fakeDist()
	h := newHandler(Options{Logger: slog.New(slog.DiscardHandler)}, fsys)
	name := pageAssets[len(pageAssets)-1].name()
	plain := get(t, h, AssetPrefix+name)
	require.Equal(t, http.StatusOK, plain.StatusCode)
	assert.Empty(t, plain.Header.Get("Content-Encoding"))

	res := get(t, h, AssetPrefix+name, "Accept-Encoding", "br, gzip;q=0.8")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "gzip", res.Header.Get("Content-Encoding"))
	assert.Equal(t, "Accept-Encoding", res.Header.Get("Vary"))
	assert.NotEqual(t, plain.Header.Get("ETag"), res.Header.Get("ETag"))
	zr, err := gzip.NewReader(res.Body)
	require.NoError(t, err)
	got, err := io.ReadAll(zr)
	require.NoError(t, err)
	assert.Equal(t, fsys[name].Data, got)

	res = get(t, h, AssetPrefix+name, "Accept-Encoding", "gzip;q=0")
	assert.Empty(t, res.Header.Get("Content-Encoding"))
}

func TestCDNFallback(t *testing.T) {
	logger, logs := logCapture()
	h := newHandler(Options{Logger: logger}, fstest.MapFS{".gitkeep": {}})
	require.False(t, h.local)
	assert.Equal(t, 1, strings.Count(logs.String(), "level=WARN"), logs.String())
	assert.Contains(t, logs.String(), warnNoAssets)

	res := get(t, h, "/")
	require.Equal(t, http.StatusOK, res.StatusCode)
	page := html.UnescapeString(body(t, res)) // html/template writes "+" as &#43;
	csp := res.Header.Get("Content-Security-Policy")
	assert.Contains(t, csp, "script-src 'self' https://cdn.jsdelivr.net 'nonce-")
	assert.Contains(t, csp, "style-src 'self' https://cdn.jsdelivr.net 'nonce-")

	urls := refs(t, page)
	require.Len(t, urls, len(pageAssets))
	for _, a := range pageAssets {
		ref := CDNBase + a.name()
		assert.Contains(t, urls, ref)
		assert.Contains(t, page, `"`+ref+`" integrity="`+a.integrity+`" crossorigin="anonymous"`)
	}
	assert.Contains(t, page, "events(first: 5)")

	// Building more handlers logs once each, serving logs nothing more.
	get(t, h, "/")
	assert.Equal(t, 1, strings.Count(logs.String(), "level=WARN"))
	assert.Equal(t, http.StatusNotFound, get(t, h, AssetPrefix+pageAssets[0].name()).StatusCode)

	// A dist/ missing one pinned file (stale after a version bump) is no good either.
	partial := fakeDist()
	delete(partial, pageAssets[1].name())
	logger2, logs2 := logCapture()
	assert.False(t, newHandler(Options{Logger: logger2}, partial).local)
	assert.Contains(t, logs2.String(), warnNoAssets)
}

func TestOptions(t *testing.T) {
	h := newHandler(Options{
		Endpoint: "https://api.example.com/graphql",
		Title:    `Dev </script><script>alert(1)</script>`,
		Logger:   slog.New(slog.DiscardHandler),
	}, fakeDist())
	res := get(t, h, "/")
	page := body(t, res)
	csp := res.Header.Get("Content-Security-Policy")
	assert.Contains(t, csp, "connect-src 'self' https://api.example.com wss://api.example.com;")
	assert.Contains(t, page, `"endpoint":"https://api.example.com/graphql"`)
	assert.NotContains(t, page, "<script>alert(1)")
	assert.Contains(t, page, "<title>Dev &lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;</title>")
	assert.Equal(t, 1, strings.Count(page, "<script nonce="))
}

func TestHostInCSP(t *testing.T) {
	h := newHandler(Options{Logger: slog.New(slog.DiscardHandler)}, fakeDist())

	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Host = "gateway.example.com:8443"
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	assert.Contains(t, rec.Header().Get("Content-Security-Policy"),
		"connect-src 'self' ws://gateway.example.com:8443 wss://gateway.example.com:8443;")

	req = httptest.NewRequest(http.MethodGet, "/", nil)
	req.Host = "evil;script-src *"
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	csp := rec.Header().Get("Content-Security-Policy")
	assert.Contains(t, csp, "connect-src 'self';")
	assert.NotContains(t, csp, "evil")
}

func TestNoncePerResponse(t *testing.T) {
	h := newHandler(Options{Logger: slog.New(slog.DiscardHandler)}, fakeDist())
	a := get(t, h, "/").Header.Get("Content-Security-Policy")
	b := get(t, h, "/").Header.Get("Content-Security-Policy")
	assert.NotEqual(t, a, b)
}

// TestPinnedVersions checks the versions graphiql.go loads against the lock
// file that fetch-assets.sh installs, and that package.json pins exactly.
func TestPinnedVersions(t *testing.T) {
	var pkg struct {
		Dependencies map[string]string `json:"dependencies"`
	}
	raw, err := os.ReadFile("package.json")
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &pkg))
	for name, v := range pkg.Dependencies {
		assert.Regexp(t, `^\d+\.\d+\.\d+$`, v, "package.json must pin %s exactly", name)
	}

	var lock struct {
		Packages map[string]struct {
			Version   string `json:"version"`
			Integrity string `json:"integrity"`
		} `json:"packages"`
	}
	raw, err = os.ReadFile("package-lock.json")
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &lock))
	for _, a := range pageAssets {
		p, ok := lock.Packages["node_modules/"+a.pkg]
		require.True(t, ok, "package-lock.json lacks %s", a.pkg)
		assert.Equal(t, a.version, p.Version, "graphiql.go and package-lock.json disagree on %s", a.pkg)
		assert.Equal(t, a.version, pkg.Dependencies[a.pkg], "package.json pins another %s", a.pkg)
		assert.True(t, strings.HasPrefix(p.Integrity, "sha512-"), "no integrity for %s", a.pkg)
	}
}

// TestEmbeddedAssets runs against the real embedded dist/. `make test` (and so
// CI) always runs `make assets` first, so this only skips for a bare
// `go test` in a checkout that never fetched the assets.
func TestEmbeddedAssets(t *testing.T) {
	if !HasLocalAssets() {
		t.Skip("dist/ has no assets: run `make assets` (make test does)")
	}
	logger, logs := logCapture()
	h := Handler(Options{Endpoint: "/graphql", Logger: logger})
	checkLocalPage(t, h)
	assert.Empty(t, logs.String())

	// The SRI hashes the CDN fallback uses are those of the pinned files.
	for _, a := range pageAssets {
		data, err := fs.ReadFile(embedded(), a.name())
		require.NoError(t, err)
		sum := sha512.Sum384(data)
		assert.Equal(t, a.integrity, "sha384-"+base64.StdEncoding.EncodeToString(sum[:]), a.name())
	}

	// dist/.lockhash says which lock file the assets came from.
	lockhash, err := fs.ReadFile(embedded(), ".lockhash")
	require.NoError(t, err)
	lock, err := os.ReadFile("package-lock.json")
	require.NoError(t, err)
	assert.Equal(t, sha256hex(lock), strings.TrimSpace(string(lockhash)),
		"dist/ is stale: run make assets")
}

func sha256hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
