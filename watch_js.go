//go:build js && wasm

package dokv

import (
	"context"
	"errors"
	"fmt"

	"github.com/dokv/dokv/driver"
	"github.com/dokv/dokv/internal/workers"
	"github.com/dokv/dokv/worker"
)

// Watch implements driver.Watcher over the object's watch RPC method.
func (s workersStub) Watch(ctx context.Context, key string, after uint64, resume bool) (driver.WatchStream, error) {
	if s.id == (ObjectID{}) {
		return nil, s.badBinding()
	}
	stream, err := workers.Watch(ctx, s.binding, s.id.String(), key, after, resume)
	if err != nil {
		return nil, workersError(err)
	}
	return workersStream{stream}, nil
}

// Emit implements driver.Watcher over the object's watchEmit RPC method.
func (s workersStub) Emit(ctx context.Context, key string, event []byte) error {
	if s.id == (ObjectID{}) {
		return s.badBinding()
	}
	return workersError(workers.Emit(ctx, s.binding, s.id.String(), key, event))
}

func (s workersStub) badBinding() error {
	_, err := workers.IDFromName(s.binding, "")
	return fmt.Errorf("%w: %v", ErrInvalidArgument, err)
}

// workersError maps the error of a call to an object.
func workersError(err error) error {
	if errors.Is(err, workers.ErrNoRequest) {
		return fmt.Errorf("%w: %v", ErrInvalidArgument, err)
	}
	var ce *workers.CallError
	if errors.As(err, &ce) {
		return callError(ce)
	}
	return err
}

type workersStream struct{ s *workers.Stream }

func (w workersStream) Next(ctx context.Context) ([]byte, error) {
	m, err := w.s.Next(ctx)
	return m, workersError(err)
}

func (w workersStream) Close() { w.s.Close() }

// ForwardWebSocket implements driver.WebSocketForwarder: the entry module
// answers r with the response of the object's fetch handler to url.
func (n *workersNamespace) ForwardWebSocket(w *worker.ResponseWriter, r *worker.Request, id ObjectID, url string) error {
	return worker.ForwardToObject(w, r, n.binding, id.String(), url)
}
