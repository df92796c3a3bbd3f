//go:build js && wasm

package worker

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"os"
	"strings"
	"sync"

	"github.com/dokv/dokv/internal/workers"
)

// Serve serves the Worker's fetch events with handler, and the DokvObject
// Durable Objects of this Worker, from one long-lived Go instance per
// isolate. It never returns. A panic in handler becomes a 500 response; a
// failure inside an object becomes an error reply; neither ends the
// instance. To serve an http.Handler, use workerhttp.Serve.
//
// Request bodies over MaxRequestBodyBytes are answered 413 before they
// are read.
func Serve(handler Handler) {
	workers.Serve(func(ctx context.Context, in *workers.Request) {
		serveFetch(ctx, handler, in)
	})
}

// writers are the response writers of finished requests: the entry module
// copies a response before Respond returns, so their buffers can serve the
// next one.
var writers = sync.Pool{New: func() any { return new(ResponseWriter) }}

func serveFetch(ctx context.Context, handler Handler, in *workers.Request) {
	w := writers.Get().(*ResponseWriter)
	defer func() {
		if p := recover(); p != nil {
			fmt.Fprintf(os.Stderr, "dokv: handler panic: %v\n", p)
			w.reset()
			jsonError(w, 500, "internal server error")
		}
		if !w.forwarded {
			respond(in.ID, w)
		}
		w.reset()
		if cap(w.body) <= maxPooledBody {
			writers.Put(w)
		}
	}()
	r := &Request{Method: in.Method, URL: in.URL, Body: in.Body, ctx: ctx, headers: workersHeaders(in.ID)}
	if err := r.parseURL(); err != nil {
		jsonError(w, 400, err.Error())
		return
	}
	handler.ServeFetch(w, r)
}

// maxPooledBody bounds the body buffer a pooled writer keeps.
const maxPooledBody = 64 << 10

// respond hands w's response to the entry module.
func respond(id int32, w *ResponseWriter) {
	status := w.Status()
	if status < 100 || status > 599 {
		status = 500
	}
	var head string
	if len(w.header) > 0 {
		var b strings.Builder
		for i := 0; i < len(w.header); i += 2 {
			b.WriteString(w.header[i])
			b.WriteByte(':')
			b.WriteString(w.header[i+1])
			b.WriteByte('\n')
		}
		head = b.String()
	}
	workers.Respond(id, status, head, w.body)
}

// workersHeaders reads a request's headers from the runtime on demand.
type workersHeaders int32

func (id workersHeaders) lookup(lowerName string) (string, bool) {
	return workers.Header(int32(id), lowerName)
}

func (id workersHeaders) all() iter.Seq2[string, string] {
	return func(yield func(string, string) bool) {
		for line := range strings.SplitSeq(workers.Headers(int32(id)), "\n") {
			if name, value, ok := strings.Cut(line, ":"); ok && !yield(name, value) {
				return
			}
		}
	}
}

// ForwardToObject answers r with the response of a Durable Object's fetch
// handler to url: the object with the given ID (64 hex digits) in the
// namespace bound as binding. The object's response (such as a WebSocket
// it accepted) answers the client; whatever the handler writes to w is
// dropped. It fails, writing nothing, when the object cannot be reached.
func ForwardToObject(w *ResponseWriter, r *Request, binding, id, url string) error {
	if err := workers.Forward(r.Context(), binding, id, url); err != nil {
		return err
	}
	w.forwarded = true
	return nil
}

// jsonError answers {"error": msg} with status, as the entry module answers
// what it refuses, so that a client reads every error of the Worker's own
// the same way.
func jsonError(w *ResponseWriter, status int, msg string) {
	b, _ := json.Marshal(map[string]string{"error": msg})
	w.WriteHeader(status)
	w.SetHeader("Content-Type", "application/json")
	w.Write(b)
}
