// Package workerhttp joins package worker's lean fetch handlers and net/http: Serve
// runs an http.Handler as a Worker's fetch handler, and FromHandler runs a
// worker.Handler under net/http, for local programs and tests.
//
// It is a package of its own so that a Worker written on worker.Handler links
// no net/http: a package's code and initialisation are paid at every cold
// start of every isolate, whether or not a request uses them.
package workerhttp

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"

	"github.com/dokv/dokv/worker"
)

// Serve serves the Worker's fetch requests with h, and the DokvObject
// Durable Objects of this Worker, as worker.Serve does; it never returns.
// Each request becomes an *http.Request with every header and the whole
// body; what h writes is sent when it returns (h cannot stream). A panic in
// h becomes a 500 response and does not end the instance.
func Serve(h http.Handler) {
	worker.Serve(Handler(h))
}

// Handler returns a worker.Handler that serves each request with h.
func Handler(h http.Handler) worker.Handler {
	return worker.HandlerFunc(func(w *worker.ResponseWriter, r *worker.Request) {
		req, err := http.NewRequestWithContext(r.Context(), r.Method, r.URL, bytes.NewReader(r.Body))
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			w.SetHeader("Content-Type", "text/plain; charset=utf-8")
			w.WriteString(err.Error())
			return
		}
		for name, value := range r.Headers() {
			req.Header.Add(name, value)
		}
		req.RequestURI = req.URL.RequestURI()
		req.ContentLength = int64(len(r.Body))
		if len(r.Body) == 0 {
			req.Body = http.NoBody
		}
		if ip := req.Header.Get("Cf-Connecting-Ip"); ip != "" {
			req.RemoteAddr = ip
		}
		rw := writers.Get().(*responseWriter)
		rw.w = w
		defer func() {
			rw.flush()
			rw.reset()
			writers.Put(rw)
		}()
		h.ServeHTTP(rw, req)
	})
}

// writers are reusable http.ResponseWriters, with their header maps.
var writers = sync.Pool{New: func() any { return &responseWriter{header: http.Header{}} }}

// responseWriter is an http.ResponseWriter over a worker.ResponseWriter. The
// headers go over when the status is written (or the handler returns), as
// net/http does.
type responseWriter struct {
	w       *worker.ResponseWriter
	header  http.Header
	flushed bool
}

func (rw *responseWriter) Header() http.Header { return rw.header }

func (rw *responseWriter) WriteHeader(status int) {
	if rw.flushed {
		return
	}
	rw.flushed = true
	for name, values := range rw.header {
		for _, v := range values {
			rw.w.AddHeader(name, v)
		}
	}
	rw.w.WriteHeader(status)
}

func (rw *responseWriter) Write(p []byte) (int, error) {
	rw.WriteHeader(http.StatusOK)
	return rw.w.Write(p)
}

// flush sends the headers of a handler that wrote nothing.
func (rw *responseWriter) flush() { rw.WriteHeader(http.StatusOK) }

func (rw *responseWriter) reset() {
	clear(rw.header)
	rw.w, rw.flushed = nil, false
}

// FromHandler returns an http.Handler that serves each request with h: the
// request's whole body (at most worker.MaxRequestBodyBytes; more is answered
// 413), its headers, and its full URL. Use it to run a Worker's handler
// locally over dokv.NewMemoryNamespace, or in tests with httptest.
//
// A WebSocket upgrade's connection can be taken over by the handler (not in
// js/wasm builds): dokv's Store.ServeWatch does, on the in-process
// namespaces, and serves the watch until it ends, so that browsers watch
// natively as they do on Workers. The handler's own response is then
// dropped. Under HTTP/2, or on an http.ResponseWriter that cannot be
// hijacked, it cannot, and ServeWatch answers 501.
func FromHandler(h worker.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, worker.MaxRequestBodyBytes))
		if err != nil {
			status := http.StatusBadRequest
			if maxBytes := new(http.MaxBytesError); errors.As(err, &maxBytes) {
				status = http.StatusRequestEntityTooLarge
			}
			http.Error(w, fmt.Sprintf("reading the request body: %v", err), status)
			return
		}
		scheme := "http"
		if req.TLS != nil {
			scheme = "https"
		}
		up := newUpgrader(w, req)
		r, err := worker.NewRequest(withUpgrader(req.Context(), up), req.Method, scheme+"://"+req.Host+req.URL.RequestURI(), req.Header, body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var out worker.ResponseWriter
		h.ServeFetch(&out, r)
		if up.tookOver() {
			return // the handler answered on the connection it took
		}
		for name, value := range out.Headers() {
			w.Header().Add(name, value)
		}
		w.WriteHeader(out.Status())
		_, _ = w.Write(out.Body())
	})
}
