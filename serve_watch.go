package dokv

import (
	"strings"

	"github.com/dokv/dokv/internal/watch"
)

// ServeWatch hands a browser's WebSocket upgrade request to the object
// that holds key, which accepts it with the WebSocket Hibernation API: an
// idle watcher costs no CPU and stays connected while the object is evicted
// from memory. The socket then receives one JSON text message per change
// and per emitted event, in order; the first says where the stream starts.
// A query parameter after=N resumes after position N, as WatchAfter does.
// The messages and close codes are described in the README ("Watch").
//
// It answers 426 to a request that is not a WebSocket upgrade, 400 to an
// invalid key or position (a position is written in canonical decimal: "0",
// or digits without a leading zero, below 2^53), and 501 when the store's namespace is not a
// Workers namespace: in process, watch with Store.Watch.
func (s *Store[T]) ServeWatch(w *ResponseWriter, r *Request, key string) { s.serveWatch(w, r, key) }

func (s *core) serveWatch(w *ResponseWriter, r *Request, key string) {
	if !strings.EqualFold(r.Header("Upgrade"), "websocket") {
		w.SetHeader("Upgrade", "websocket")
		plainError(w, 426, "a watch needs a WebSocket upgrade")
		return
	}
	if err := s.validateKey("watch", key); err != nil {
		plainError(w, 400, err.Error())
		return
	}
	query := "key=" + queryEscape(s.router.StoredKey(key))
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
	if err := forwardWatch(w, r, s.ns, s.objectID(s.router.ObjectName(key)), "https://dokv"+watch.Path+"?"+query); err != nil {
		plainError(w, 501, err.Error())
	}
}

func plainError(w *ResponseWriter, status int, msg string) {
	w.SetHeader("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	w.WriteString(msg)
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

// errNoWebSocketWatch is why ServeWatch answers 501 outside a Workers
// namespace.
var errNoWebSocketWatch = &Error{Op: "watch", Err: ErrUnsupported,
	Detail: "WebSocket watches are accepted by the Durable Object on Workers; in process, use Store.Watch"}
