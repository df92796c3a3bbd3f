// Package worker hosts a Go program as a Cloudflare Worker: Serve runs its
// fetch handler and dokv's Durable Objects (the DokvObject class) from one
// Go instance per isolate, in the shape of net/http (Handler, HandlerFunc,
// Request, ResponseWriter) but without net/http on the path. Package
// workerhttp serves an http.Handler instead.
//
// Outside a Worker (any GOOS but js), the types work as they are, for tests
// and adapters, and Serve reports that it needs a Worker.
package worker

import "github.com/dokv/dokv/internal/workers"

// MaxRequestBodyBytes is the largest request body a Worker served by Serve
// accepts: 8 MiB, four times dokv.MaxEntryBytes, so that any value dokv
// stores fits with room for its encoding. A larger body is answered 413 by
// the entry module before it is read, so it never reaches Go's memory, whose
// linear memory never shrinks. The entry module reads it from Go when it
// starts.
const MaxRequestBodyBytes = workers.MaxRequestBodyBytes

// A Handler serves a Worker's fetch requests (see Serve). It is the lean
// handler form: the request's method, URL and body, headers read on demand,
// and a buffered response, with no net/http on the path. A Worker whose
// packages import no net/http starts faster and spends less CPU per request;
// package workerhttp serves an http.Handler instead.
type Handler interface {
	ServeFetch(w *ResponseWriter, r *Request)
}

// HandlerFunc adapts a function to a Handler.
type HandlerFunc func(w *ResponseWriter, r *Request)

// ServeFetch calls f(w, r).
func (f HandlerFunc) ServeFetch(w *ResponseWriter, r *Request) { f(w, r) }
