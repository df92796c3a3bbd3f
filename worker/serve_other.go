//go:build !(js && wasm)

package worker

import (
	"errors"
	"fmt"
	"os"
)

// Serve serves the Worker's fetch events with handler and the DokvObject
// Durable Objects from one Go instance per isolate. It needs GOOS=js
// GOARCH=wasm; built for any other platform it reports that and exits with
// status 2. To run a Handler locally, serve workerhttp.FromHandler(handler)
// with net/http over dokv.NewMemoryNamespace.
func Serve(handler Handler) {
	_ = handler
	fmt.Fprintln(os.Stderr, "worker.Serve needs a Worker built with GOOS=js GOARCH=wasm; for local runs serve workerhttp.FromHandler with net/http over dokv.NewMemoryNamespace")
	os.Exit(2)
}

// ErrNotAWorker is the error of ForwardToObject outside a Worker.
var ErrNotAWorker = errors.New("worker: needs a Worker built with GOOS=js GOARCH=wasm")

// ForwardToObject answers r with the response of a Durable Object's fetch
// handler; outside a Worker there is none, and it fails with ErrNotAWorker.
func ForwardToObject(_ *ResponseWriter, _ *Request, _, _, _ string) error {
	return ErrNotAWorker
}
