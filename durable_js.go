//go:build js && wasm

package dokv

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/dokv/dokv/internal/workers"
)

// WorkersNamespace returns the Durable Object namespace bound to the Worker
// under binding (a durable_objects binding in wrangler.toml whose class is
// DokvObject). Calls reach the objects over Workers RPC with the request's
// bytes. The binding is looked up when the first call is made, so
// WorkersNamespace may be called in main, before Serve.
func WorkersNamespace(binding string) (Namespace, error) {
	if binding == "" {
		return nil, &Error{Op: "workers", Err: ErrInvalidArgument, Detail: "empty binding name"}
	}
	return &workersNamespace{binding: binding}, nil
}

// Serve serves the Worker's fetch events with handler, and the DokvObject
// Durable Objects of this Worker, from one long-lived Go instance per
// isolate. It never returns. A panic in handler becomes a 500 response; a
// failure inside an object becomes an error reply; neither ends the instance.
func Serve(handler http.Handler) {
	workers.Serve(handler)
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
		_, err := workers.IDFromName(s.binding, "")
		return nil, fmt.Errorf("%w: %v", ErrInvalidArgument, err)
	}
	reply, err := workers.Call(ctx, s.binding, s.id.String(), request)
	var ce *workers.CallError
	if errors.As(err, &ce) {
		return nil, callError(ce)
	}
	return reply, err
}
