//go:build js && wasm

package dokv

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

// WorkersNamespace returns the Durable Object namespace bound to the Worker
// under binding (a durable_objects binding in wrangler.toml whose class is
// DokvObject). Calls reach the objects over Workers RPC with the request's
// bytes. It checks the binding at once (the Worker's bindings are known
// before main runs), and fails with ErrInvalidArgument naming it if it is
// missing or is not a Durable Object namespace.
func WorkersNamespace(binding string) (Namespace, error) {
	if binding == "" {
		return nil, &Error{Op: "workers", Err: ErrInvalidArgument, Detail: "empty binding name"}
	}
	if _, err := workers.IDFromName(binding, "dokv-binding-check"); err != nil {
		return nil, &Error{Op: "workers", Err: ErrInvalidArgument, Detail: err.Error()}
	}
	return &workersNamespace{binding: binding}, nil
}

// Serve serves the Worker's fetch events with handler, and the DokvObject
// Durable Objects of this Worker, from one long-lived Go instance per
// isolate. It never returns. A panic in handler becomes a 500 response; a
// failure inside an object becomes an error reply; neither ends the
// instance. To serve an http.Handler, use dokvhttp.Serve.
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
			w.WriteHeader(500)
			w.SetHeader("Content-Type", "text/plain; charset=utf-8")
			w.WriteString("internal server error")
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
		w.WriteHeader(400)
		w.SetHeader("Content-Type", "text/plain; charset=utf-8")
		w.WriteString(err.Error())
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

// The records DokvObject serves to @uploadista/kv-store-cloudflare-do's
// RPC methods, numbered as the entry module names them. A record set from
// TypeScript must decode as its Go type, or it is refused.
func init() {
	workers.RegisterRecordKind(workers.RecordUploadFile, workers.RecordKind{Prefix: UploadFilePrefix, Validate: decodesAs[UploadFile]})
	workers.RegisterRecordKind(workers.RecordFlowJob, workers.RecordKind{Prefix: FlowJobPrefix, Validate: validFlowJob})
}

// validFlowJob reports whether data is a flow job with valid statuses.
func validFlowJob(data []byte) error {
	var job FlowJob
	if err := json.Unmarshal(data, &job); err != nil {
		return err
	}
	if !job.Status.Valid() {
		return fmt.Errorf("status %q is not a flow job status", job.Status)
	}
	for _, task := range job.Tasks {
		if !task.Status.Valid() {
			return fmt.Errorf("task %q: status %q is not a task status", task.NodeID, task.Status)
		}
	}
	return nil
}

// decodesAs reports whether data decodes as JSON into a T.
func decodesAs[T any](data []byte) error {
	var v T
	return json.Unmarshal(data, &v)
}

type workersNamespace struct{ binding string }

func (n *workersNamespace) IDFromName(name string) ObjectID {
	hex, err := workers.IDFromName(n.binding, name)
	if err != nil {
		return ObjectID{}
	}
	id, err := ParseObjectID(hex)
	if err != nil {
		return ObjectID{}
	}
	return id
}

func (n *workersNamespace) Get(id ObjectID) Stub {
	return workersStub{binding: n.binding, id: id}
}

type workersStub struct {
	binding string
	id      ObjectID
}

func (s workersStub) Call(ctx context.Context, request []byte) ([]byte, error) {
	if s.id == (ObjectID{}) {
		// IDFromName failed: the binding is missing or not a namespace.
		return nil, s.badBinding()
	}
	reply, err := workers.Call(ctx, s.binding, s.id.String(), request)
	return reply, workersError(err)
}
