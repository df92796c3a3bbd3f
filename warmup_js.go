//go:build js && wasm

package dokv

import (
	"context"
	"errors"

	"github.com/dokv/dokv/driver"
	"github.com/dokv/dokv/internal/object"
	"github.com/dokv/dokv/internal/storage"
	"github.com/dokv/dokv/internal/workers"
)

func init() { workers.SetWarmUp(warmUp) }

// warmUp runs a store's Set, Get and Delete once on a namespace of its
// own, so that the code a request runs (the store's encoding, the
// protocol, the object's actor) is compiled before the first request
// arrives: about 4.5 ms of that request's 17-20 on the lean Worker
// (BENCHMARKS.md).
// The Workers glue itself is not run: it needs a request. Only the calls
// every Worker makes are run, so that the warm-up links little code a
// Worker would not. The object's storage is the in-memory engine, the one
// the object is tested on, rather than a partial engine of the warm-up's
// own: 9 kB more of the example's gzipped wasm, no slower a first request
// (BENCHMARKS.md, issue 18).
func warmUp() error {
	ctx := context.Background()
	s, err := New[[]byte](warmUpNamespace{object.New(storage.NewMemory())}, WithCodec(Raw()), WithPartitioning(SingleObject("warm-up")))
	if err != nil {
		return err
	}
	if err := s.Set(ctx, "k", []byte("v")); err != nil {
		return err
	}
	if _, err := s.Get(ctx, "k"); err != nil {
		return err
	}
	if err := s.Delete(ctx, "k"); err != nil {
		return err
	}
	if _, err := s.Get(ctx, "k"); !errors.Is(err, ErrNotFound) {
		return errors.Join(err, errors.New("dokv: warm-up: the deleted key was found"))
	}
	return nil
}

// warmUpNamespace is one object's actor on memory storage, called by the
// warm-up's one goroutine, one call at a time. It is not the memory
// namespace, whose watchers, alarms and pools every Worker would then link
// (32 kB of the example's gzipped wasm).
type warmUpNamespace struct{ actor *object.Object }

func (ns warmUpNamespace) IDFromName(string) ObjectID { return ObjectID{} }
func (ns warmUpNamespace) Get(ObjectID) driver.Stub   { return ns }

// Call hands the request to another goroutine and waits for its reply on
// a channel or for ctx to end, as a call to a Durable Object waits for
// its settlement, so that Go's channel, select and scheduling code is
// compiled too.
func (ns warmUpNamespace) Call(ctx context.Context, request []byte) ([]byte, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	replies := make(chan []byte, 1)
	go func() { replies <- ns.actor.Handle(request) }()
	select {
	case reply := <-replies:
		return reply, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
