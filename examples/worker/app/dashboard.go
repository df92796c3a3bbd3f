package app

import (
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"net/http"
	"strings"
)

// The dashboard: plain HTML, CSS and JavaScript embedded in the Worker
// (no build step), served at GET / to browsers.
//
//go:embed dashboard/index.html dashboard/dashboard.css dashboard/dashboard.js
var dashboardFiles embed.FS

// asset is one embedded file of the dashboard, with its ETag.
type asset struct {
	body        []byte
	contentType string
	etag        string
}

func loadAsset(name, contentType string) asset {
	body, err := dashboardFiles.ReadFile("dashboard/" + name)
	if err != nil {
		panic(err) // embedded at build time: cannot fail
	}
	sum := sha256.Sum256(body)
	return asset{body: body, contentType: contentType, etag: `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`}
}

var (
	dashboardPage   = loadAsset("index.html", "text/html; charset=utf-8")
	dashboardAssets = map[string]asset{
		"/dashboard.css": loadAsset("dashboard.css", "text/css; charset=utf-8"),
		"/dashboard.js":  loadAsset("dashboard.js", "text/javascript; charset=utf-8"),
	}
)

// wantsPage reports whether GET / comes from a browser (which asks for
// HTML) rather than from curl or a client, which get the list of routes.
func wantsPage(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "text/html")
}

// serveAsset answers GET /dashboard.css and /dashboard.js.
func serveAsset(w http.ResponseWriter, r *http.Request) {
	a, ok := dashboardAssets[r.URL.Path]
	if !ok {
		writeErrorStatus(w, http.StatusNotFound, "no route for "+r.URL.Path)
		return
	}
	writeAsset(w, r, a)
}

// writeAsset writes a with headers that fit a page of this Worker: revalidated
// on every use (the ETag makes that a 304 when unchanged, and a new
// deployment is seen at once), never sniffed, and under a
// Content-Security-Policy that allows only this origin's scripts, styles,
// requests and WebSockets.
func writeAsset(w http.ResponseWriter, r *http.Request, a asset) {
	h := w.Header()
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", a.etag)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", contentSecurityPolicy(r.Host))
	if match := r.Header.Get("If-None-Match"); match != "" && strings.Contains(match, a.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", a.contentType)
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(a.body)
	}
}

// contentSecurityPolicy allows the page's own scripts, styles, requests and
// watch WebSockets (named by host: 'self' covers ws: and wss: only in
// newer browsers), and nothing else.
func contentSecurityPolicy(host string) string {
	connect := "'self'"
	if host != "" && !strings.ContainsAny(host, " ;'\"") {
		connect += " ws://" + host + " wss://" + host
	}
	return "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src " + connect +
		"; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
}
