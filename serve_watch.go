package dokv

import (
	"encoding/json"
	"errors"
	"strings"

	"github.com/dokv/dokv/driver"
	"github.com/dokv/dokv/internal/watch"
	"github.com/dokv/dokv/worker"
)

// ServeWatch hands a browser's WebSocket upgrade request to the object
// that holds key, which accepts it with the WebSocket Hibernation API: an
// idle watcher costs no CPU and stays connected while the object is evicted
// from memory. The socket then receives one JSON text message per change
// and per emitted event, in order; the first says where the stream starts.
// Each message carries key, as the browser asked for it, not the key the
// object stores for it. A query parameter after=N resumes after position
// N, as WithResumeAfter does. Under WithWatchTokens, the query parameter
// token must hold a token from WatchToken for key; it is not passed on to
// the object.
// The messages and close codes are described in the README ("Watch").
//
// It answers 426 to a request that is not a WebSocket upgrade, 400 to an
// invalid key, 401 under WithWatchTokens when the token is refused (see
// CheckWatchToken), 400 to an invalid position (a position is written in
// canonical decimal: "0", or digits without a leading zero, below 2^53),
// 501 when the store's namespace cannot hand a WebSocket to its objects
// (driver.WebSocketForwarder) or r's connection cannot be taken over, and
// 502 when the object cannot be reached. Its errors are JSON: {"error":
// "..."}.
//
// In process (NewMemoryNamespace, and the local namespace of module
// github.com/dokv/dokv/local), a handler served under net/http by
// workerhttp.FromHandler over HTTP/1.1 serves browsers' watches too: the
// namespace takes over the connection and serves the watch as the Durable
// Object does, with the same messages and close codes; ServeWatch then
// returns when the watch ends (the client closes, r's context ends, or the
// local namespace closes: code 1001). A
// watcher that falls MaxWatchLag messages behind is closed with code 1013
// (the Durable Object's runtime buffers instead). A request that did not
// come through FromHandler, such as one made with worker.NewRequest, is
// answered 501.
func (s *Store[T]) ServeWatch(w *worker.ResponseWriter, r *worker.Request, key string) {
	s.serveWatch(w, r, key)
}

func (s *core) serveWatch(w *worker.ResponseWriter, r *worker.Request, key string) {
	if !strings.EqualFold(r.Header("Upgrade"), "websocket") {
		w.SetHeader("Upgrade", "websocket")
		plainError(w, 426, "a watch needs a WebSocket upgrade")
		return
	}
	if err := s.validateKey("watch", key); err != nil {
		plainError(w, 400, err.Error())
		return
	}
	if s.watchTokens != nil {
		// Checked before anything else is parsed or any object is reached:
		// a refused browser learns nothing of the store.
		if err := s.checkWatchToken(key, r.Query("token")); err != nil {
			// RFC 9110 asks a 401 to name a scheme; a token in the query is
			// RFC 6750's Bearer.
			w.SetHeader("WWW-Authenticate", `Bearer realm="dokv watch"`)
			plainError(w, 401, err.Error())
			return
		}
	}
	// The object stores the key under the store's prefix (or, under
	// ObjectNamedByKey, stores the prefix alone in the object named by the
	// key), so it cannot tell the key from what it stores: watched is the
	// key the browser's messages carry. The query is built afresh, so the
	// browser's other parameters, its watch token among them, stay here.
	query := "key=" + queryEscape(s.router.StoredKey(key)) + "&watched=" + queryEscape(key)
	if after := r.Query("after"); after != "" {
		// The object parses the position again by the same rule (it may be
		// reached without ServeWatch); refusing here answers a browser with
		// a status rather than a closed socket.
		if _, err := watch.ParsePosition(after); err != nil {
			plainError(w, 400, "after: "+err.Error())
			return
		}
		query += "&after=" + after
	}
	fw, ok := s.ns.(driver.WebSocketForwarder)
	if !ok {
		plainError(w, 501, errNoWebSocketWatch.Error())
		return
	}
	if err := fw.ForwardWebSocket(w, r, s.objectID(s.router.ObjectName(key)), "https://dokv"+watch.Path+"?"+query); err != nil {
		if errors.Is(err, errors.ErrUnsupported) {
			// An in-process namespace without a connection to take over.
			plainError(w, 501, errNoWebSocketWatch.Error())
			return
		}
		plainError(w, 502, "the object did not take the watch: "+err.Error())
	}
}

// plainError answers a watch that was not handed over with a JSON error,
// {"error": msg}, as a browser's fetch of the same URL can read it.
func plainError(w *worker.ResponseWriter, status int, msg string) {
	b, _ := json.Marshal(map[string]string{"error": msg})
	w.SetHeader("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}

// queryEscape percent-encodes s for a URL query, leaving only unreserved
// characters as they are (package dokv links no net/url).
func queryEscape(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
		} else {
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}

// errNoWebSocketWatch is why ServeWatch answers 501: a namespace that
// cannot hand a WebSocket to its objects, or an in-process one without a
// connection to take over.
var errNoWebSocketWatch = &Error{Op: "watch", Err: ErrUnsupported,
	Detail: "WebSocket watches are accepted by the Durable Object on Workers, or in process by a handler served with workerhttp.FromHandler over HTTP/1.1; otherwise use Store.Watch"}
