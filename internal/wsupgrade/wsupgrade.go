// Package wsupgrade lets a worker.Handler served under net/http (by
// workerhttp.FromHandler) take over a WebSocket upgrade's connection, so
// that the in-process namespaces can serve browsers' watches as the
// Durable Object does on Workers.
//
// It is the meeting point of the two sides, and imports neither: the
// bridge, which links net/http and the WebSocket library, puts an Upgrader
// in the request's context; the host, which package dokv links (and must
// link no net/http, as a Worker pays for every package at each cold
// start), finds it there and accepts the socket through these interfaces.
package wsupgrade

import "context"

// Conn is a WebSocket a server accepted. Write, Close and CloseNow may be
// called concurrently with each other and with one Read at a time.
type Conn interface {
	// Read waits for the client's next data message (its keep-alive pings
	// are answered without it) and returns at most limit+1 bytes of it, so
	// that a caller can tell a message over limit without holding it all;
	// text tells a text message from a binary one. An error means the
	// socket is closed or failing.
	Read(ctx context.Context, limit int) (p []byte, text bool, err error)
	// Write sends p as one text message. A write that ctx ends closes the
	// connection.
	Write(ctx context.Context, p []byte) error
	// Close closes the socket with a close code and reason (at most 123
	// bytes), with the close handshake, which it bounds in time.
	Close(code int, reason string) error
	// CloseNow closes the connection without a handshake.
	CloseNow() error
}

// Upgrader takes over the connection of one WebSocket upgrade request.
type Upgrader interface {
	// Accept completes the handshake and returns the socket. From its
	// first call, the connection is the caller's: the bridge writes no
	// response of its own, even when Accept fails, having answered the
	// client (400, 403, 426) itself. It must be called before the
	// handler returns, on the handler's goroutine.
	Accept() (Conn, error)
}

type contextKey struct{}

// NewContext returns ctx carrying u.
func NewContext(ctx context.Context, u Upgrader) context.Context {
	return context.WithValue(ctx, contextKey{}, u)
}

// FromContext returns the Upgrader of a request's context, if its
// connection can be taken over.
func FromContext(ctx context.Context) (Upgrader, bool) {
	u, ok := ctx.Value(contextKey{}).(Upgrader)
	return u, ok
}
