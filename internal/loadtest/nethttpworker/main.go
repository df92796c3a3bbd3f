//go:build js && wasm

// Command nethttpworker is the load test's reference for cold start and
// size: a plain net/http Go wasm behind a minimal glue (jsbaseline/
// nethttp.mjs), with no dokv. Each request becomes an *http.Request served
// by a ServeMux that answers 404 for everything; the glue passes the method
// and URL in and the status out through one syscall/js function.
//
// It is test-only. Build it with GOOS=js GOARCH=wasm.
package main

import (
	"bytes"
	"net/http"
	"syscall/js"
)

// responseWriter collects a response.
type responseWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (w *responseWriter) Header() http.Header { return w.header }

func (w *responseWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

func (w *responseWriter) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.body.Write(p)
}

func main() {
	mux := http.NewServeMux()
	js.Global().Set("__nethttpServe", js.FuncOf(func(_ js.Value, args []js.Value) any {
		req, err := http.NewRequest(args[0].String(), args[1].String(), nil)
		if err != nil {
			return http.StatusBadRequest
		}
		w := &responseWriter{header: http.Header{}}
		mux.ServeHTTP(w, req)
		return w.status
	}))
	select {}
}
