package host

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dokv/dokv/driver"
	"github.com/dokv/dokv/internal/object"
	"github.com/dokv/dokv/internal/watch"
	"github.com/dokv/dokv/internal/wsupgrade"
	"github.com/dokv/dokv/worker"
)

// ErrNoConnection is the error of ForwardWebSocket for a request whose
// connection cannot be taken over: it did not come through
// workerhttp.FromHandler (or came over HTTP/2). It wraps
// errors.ErrUnsupported, which ServeWatch answers 501.
var ErrNoConnection = fmt.Errorf("%w: a WebSocket watch in process needs the request's connection: serve the handler with workerhttp.FromHandler over HTTP/1.1", errors.ErrUnsupported)

// How the host closes a browser's watch, beside the Durable Object's codes
// (package watch), which it uses for the same causes.
const (
	// closeGoingAway: the request's context ended (the server is going
	// away), which a Durable Object's socket never sees.
	closeGoingAway = 1001
	// closeLagging: the socket fell watch.MaxLag messages behind. The
	// Durable Object never drops a socket (the runtime buffers what it
	// sends); a host must bound what it holds, and drops it as it drops a
	// Go watcher, with "try again later": the browser reconnects with
	// after= and misses nothing the log still holds.
	closeLagging = watch.CloseTooManyWatchers
	// writeTimeout bounds the write of one message: a client that stops
	// reading but keeps its connection open would otherwise hold the
	// watch's goroutine once the watcher is dropped.
	writeTimeout = 10 * time.Second
)

// The reasons the Durable Object closes a chatty watcher's socket with
// (internal/workers' entry constants, which a test compares).
var (
	reasonMessageTooBig   = "watchers only listen: a message over " + strconv.Itoa(watch.MaxClientMessageBytes) + " bytes closes the watch"
	reasonTooManyMessages = "watchers only listen: " + strconv.Itoa(watch.MaxClientMessages) + " messages close the watch"
	reasonGoingAway       = "going away"
)

// ForwardWebSocket implements driver.WebSocketForwarder in process: it
// takes over the connection of r, a WebSocket upgrade served by
// workerhttp.FromHandler, and serves the watch that target's query asks
// for (key, the stored key; watched, the key the messages carry; after,
// the position to resume after) as the Durable Object's fetch handler
// does: the same messages, one per text message, and the same close codes
// for the same causes (a refused watch is a close code on an accepted
// socket). Unlike the Durable Object, which returns as soon as it has
// accepted, it returns when the watch ends: when the client closes, breaks
// a rule (watch.MaxClientMessageBytes, watch.MaxClientMessages), falls
// watch.MaxLag messages behind (closed 1013, "lagging"), or r's context
// ends or the namespace closes (closed 1001). The watch's goroutines are gone when it returns.
//
// It fails with ErrNoConnection, writing nothing, when r's connection
// cannot be taken over, and with an error when target is not the watch
// path; once the connection is taken, it returns nil, as the client has
// had its answer (a handshake the client got wrong is answered 400 by
// the bridge).
func (ns *Namespace) ForwardWebSocket(_ *worker.ResponseWriter, r *worker.Request, id driver.ObjectID, target string) error {
	up, ok := wsupgrade.FromContext(r.Context())
	if !ok {
		return ErrNoConnection
	}
	path, query := splitURL(target)
	if path != watch.Path {
		return fmt.Errorf("host: %q is not the watch path %s", path, watch.Path)
	}
	conn, err := up.Accept()
	if err != nil {
		return nil
	}
	ns.serveSocket(r.Context(), conn, id, query)
	return nil
}

// serveSocket starts the watch that query asks for and sends its messages
// to conn until the watch ends; it closes conn.
func (ns *Namespace) serveSocket(ctx context.Context, conn wsupgrade.Conn, id driver.ObjectID, query string) {
	defer conn.CloseNow()
	key, _ := queryGet(query, "key")
	var after uint64
	afterText, resume := queryGet(query, "after")
	if resume {
		var err error
		if after, err = watch.ParsePosition(afterText); err != nil {
			conn.Close(watch.CloseBadRequest, closeReason("after: "+err.Error()))
			return
		}
	}
	keyJSON := watch.KeyJSON(key)
	if watched, ok := queryGet(query, "watched"); ok {
		var err error
		if keyJSON, err = object.WatchedKeyJSON(watched); err != nil {
			conn.Close(watch.CloseBadRequest, closeReason(err.Error()))
			return
		}
	}
	w, err := ns.Get(id).watch(ctx, key, keyJSON, after, resume)
	if err != nil {
		code, reason := refusal(ctx, err)
		conn.Close(code, closeReason(reason))
		return
	}
	defer w.Close()

	// The client's side is read on a goroutine of its own, as a
	// WebSocket's reads never stop; it ends when the connection closes,
	// and the watch with it. It reads with a context of its own: a read
	// whose context ends closes the connection at once, and this side
	// closes it with a code when r's context ends.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	readerDone := make(chan struct{})
	go func() {
		defer cancel()
		defer close(readerDone) // before cancel: the loop below tells why it ended
		readClient(conn)
	}()
	defer func() { <-readerDone }()
	defer conn.CloseNow() // ends the reader, if the socket is still open

	for {
		m, err := w.Next(ctx)
		if err != nil {
			select {
			case <-readerDone: // the client closed, or broke a rule
			default:
				conn.Close(closeGoingAway, reasonGoingAway)
			}
			return
		}
		if reason, ok := closeReasonOf(m); ok {
			if reason == watch.ReasonClosed {
				conn.Close(closeGoingAway, reasonGoingAway) // the host closed
			} else {
				// The watcher was dropped as too slow.
				conn.Close(closeLagging, closeReason(reason))
			}
			return
		}
		wctx, stop := context.WithTimeout(ctx, writeTimeout)
		err = conn.Write(wctx, m)
		stop()
		if err != nil {
			return
		}
	}
}

// readClient reads the client's messages until the connection closes, as
// the Durable Object answers them: the keep-alive watch.AutoPing is
// answered watch.AutoPong and not counted; a message over
// watch.MaxClientMessageBytes closes the socket with
// watch.CloseMessageTooBig, and the watch.MaxClientMessages-th message
// with watch.CloseBadRequest: watchers only listen.
func readClient(conn wsupgrade.Conn) {
	ctx := context.Background()
	for messages := 0; ; {
		p, text, err := conn.Read(ctx, watch.MaxClientMessageBytes)
		if err != nil {
			return
		}
		if len(p) > watch.MaxClientMessageBytes {
			conn.Close(watch.CloseMessageTooBig, reasonMessageTooBig)
			return
		}
		if text && string(p) == watch.AutoPing {
			wctx, stop := context.WithTimeout(ctx, writeTimeout)
			err := conn.Write(wctx, []byte(watch.AutoPong))
			stop()
			if err != nil {
				return
			}
			continue
		}
		if messages++; messages >= watch.MaxClientMessages {
			conn.Close(watch.CloseBadRequest, reasonTooManyMessages)
			return
		}
	}
}

// refusal is the close code and reason of a watch the object refused, as
// the Durable Object's (internal/workers' watchError) are.
func refusal(ctx context.Context, err error) (int, string) {
	switch {
	case ctx.Err() != nil:
		return closeGoingAway, reasonGoingAway
	case errors.Is(err, object.ErrTooManyWatchers):
		return watch.CloseTooManyWatchers, watch.ReasonTooManyWatchers
	case errors.Is(err, object.ErrBadWatch):
		return watch.CloseBadRequest, objectMessage(err)
	}
	return watch.CloseInternal, objectMessage(err)
}

// objectMessage is the object's own words for a refusal, without the
// namespace's error that objectError puts before them (fmt.Errorf with two
// %w), as the Durable Object closes a socket with them.
func objectMessage(err error) string {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		if errs := j.Unwrap(); len(errs) == 2 {
			return errs[1].Error()
		}
	}
	return err.Error()
}

// closeReasonOf returns the reason of a close message, the last message of
// a dropped watcher's stream.
func closeReasonOf(m []byte) (string, bool) {
	if !bytes.HasPrefix(m, []byte(`{"type":"`+watch.TypeClose+`"`)) {
		return "", false
	}
	var msg watch.Message
	_ = json.Unmarshal(m, &msg) // package watch wrote it
	return msg.Reason, true
}

// closeReason cuts text to the 123 bytes a close reason may hold, at a
// character boundary, as the entry module's closeReason does.
func closeReason(text string) string {
	if len(text) <= 123 {
		return text
	}
	n := 0
	for n < len(text) {
		_, size := utf8.DecodeRuneInString(text[n:])
		if n+size > 123 {
			break
		}
		n += size
	}
	return text[:n]
}

// splitURL returns the path and the raw query of a URL.
func splitURL(u string) (path, query string) {
	u, _, _ = strings.Cut(u, "#")
	u, query, _ = strings.Cut(u, "?")
	if i := strings.Index(u, "://"); i >= 0 {
		u = u[i+3:]
		if j := strings.IndexByte(u, '/'); j >= 0 {
			return u[j:], query
		}
		return "/", query
	}
	return u, query
}

// queryGet returns the first value of the query parameter name and whether
// there is one, decoded as the Durable Object's URLSearchParams decodes it
// ('+' is a space; a malformed escape stays as it is). The query is built
// by ServeWatch, but the host reads it by the object's rules, as the object
// may be reached without ServeWatch.
func queryGet(query, name string) (string, bool) {
	for part := range strings.SplitSeq(query, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		if formDecode(k) == name {
			return formDecode(v), true
		}
	}
	return "", false
}

func formDecode(s string) string {
	if !strings.ContainsAny(s, "%+") {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '+':
			b = append(b, ' ')
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
		default:
			b = append(b, c)
		}
	}
	return string(b)
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}
