//go:build !(js && wasm)

package dokv

import (
	"fmt"
	"os"
)

// WorkersNamespace returns the Durable Object namespace bound to the Worker
// under binding. It needs GOOS=js GOARCH=wasm; built for any other platform
// it returns an error wrapping ErrUnsupported, so code that uses it still
// compiles and can fall back to NewMemoryNamespace.
func WorkersNamespace(binding string) (Namespace, error) {
	return nil, &Error{Op: "workers", Err: ErrUnsupported,
		Detail: fmt.Sprintf("WorkersNamespace(%q) needs a Worker built with GOOS=js GOARCH=wasm", binding)}
}

// Serve serves the Worker's fetch events with handler and the DokvObject
// Durable Objects from one Go instance per isolate. It needs GOOS=js
// GOARCH=wasm; built for any other platform it reports that and exits with
// status 2. To run a Handler locally, serve dokvhttp.FromHandler(handler)
// with net/http over NewMemoryNamespace.
func Serve(handler Handler) {
	_ = handler
	fmt.Fprintln(os.Stderr, "dokv.Serve needs a Worker built with GOOS=js GOARCH=wasm; for local runs use NewMemoryNamespace and net/http")
	os.Exit(2)
}

// forwardWatch: outside a Worker there is no Durable Object to accept a
// WebSocket.
func forwardWatch(_ *ResponseWriter, _ *Request, _ Namespace, _ ObjectID, _ string) error {
	return errNoWebSocketWatch
}
