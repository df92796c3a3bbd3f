//go:build !(js && wasm)

package workerhttp

import (
	"context"
	"io"
	"net/http"
	"strings"

	"github.com/coder/websocket"

	"github.com/dokv/dokv/internal/wsupgrade"
)

// upgrader takes over the connection of a WebSocket upgrade that
// FromHandler serves, for a handler that accepts it (dokv's ServeWatch on
// the in-process namespaces). The WebSocket library lives in this file
// alone, built for every platform but js/wasm: a Worker never links it
// (its WebSockets are the runtime's).
type upgrader struct {
	w   http.ResponseWriter
	req *http.Request
	// took is set by the first Accept: the connection is the handler's,
	// and FromHandler writes nothing of its own.
	took bool
}

// newUpgrader returns the upgrader of req, or nil when req is not a
// WebSocket upgrade or w cannot give up its connection (HTTP/2, or a
// recorder in a test): the handler then answers as it would without one
// (ServeWatch: 501).
func newUpgrader(w http.ResponseWriter, req *http.Request) *upgrader {
	if !headerHasToken(req.Header, "Upgrade", "websocket") || !hijackable(w) {
		return nil
	}
	return &upgrader{w: w, req: req}
}

// withUpgrader returns ctx carrying u, if any.
func withUpgrader(ctx context.Context, u *upgrader) context.Context {
	if u == nil {
		return ctx
	}
	return wsupgrade.NewContext(ctx, u)
}

// tookOver reports whether the handler took the connection over.
func (u *upgrader) tookOver() bool { return u != nil && u.took }

// Accept implements wsupgrade.Upgrader. Any origin may connect, as the
// Durable Object lets any in on Workers, so that a handler behaves the same
// on both; one that authorises by cookie checks the Origin header itself.
func (u *upgrader) Accept() (wsupgrade.Conn, error) {
	u.took = true
	c, err := websocket.Accept(u.w, u.req, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		return nil, err
	}
	// Read bounds what it keeps itself; a larger message is only counted.
	c.SetReadLimit(-1)
	return wsConn{c}, nil
}

// wsConn is a wsupgrade.Conn over coder/websocket.
type wsConn struct{ c *websocket.Conn }

func (s wsConn) Read(ctx context.Context, limit int) ([]byte, bool, error) {
	typ, r, err := s.c.Reader(ctx)
	if err != nil {
		return nil, false, err
	}
	// limit+1 bytes tell an oversized message; its rest is never read, as
	// the caller closes the socket (Close discards it).
	p, err := io.ReadAll(io.LimitReader(r, int64(limit)+1))
	return p, typ == websocket.MessageText, err
}

func (s wsConn) Write(ctx context.Context, p []byte) error {
	return s.c.Write(ctx, websocket.MessageText, p)
}

func (s wsConn) Close(code int, reason string) error {
	return s.c.Close(websocket.StatusCode(code), reason)
}

func (s wsConn) CloseNow() error { return s.c.CloseNow() }

// hijackable reports whether w can give up its connection, following
// Unwrap as http.ResponseController (and coder/websocket) do.
func hijackable(w http.ResponseWriter) bool {
	for {
		switch t := w.(type) {
		case http.Hijacker:
			return true
		case interface{ Unwrap() http.ResponseWriter }:
			w = t.Unwrap()
		default:
			return false
		}
	}
}

// headerHasToken reports whether a comma-separated header holds token,
// case-insensitively.
func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for part := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(part), token) {
				return true
			}
		}
	}
	return false
}
