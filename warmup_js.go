//go:build js && wasm

package dokv

import (
	"context"
	"errors"

	"github.com/dokv/dokv/driver"
	"github.com/dokv/dokv/internal/object"
	"github.com/dokv/dokv/internal/protocol"
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
// Worker would not.
func warmUp() error {
	ctx := context.Background()
	s, err := New[[]byte](warmUpNamespace{object.New(&warmUpEngine{})}, WithCodec(Raw()), WithPartitioning(SingleObject("warm-up")))
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

// warmUpEngine holds the warm-up's one key: the memory engine would add
// its ordered index to every Worker's wasm.
type warmUpEngine struct {
	rec   protocol.Record
	found bool
	last  uint64
}

func (e *warmUpEngine) Get(key string) (protocol.Record, bool, error) {
	return e.rec, e.found && e.rec.Key == key, nil
}

func (e *warmUpEngine) Put(key string, version uint64, value []byte, expires uint64) error {
	e.rec, e.found = protocol.Record{Key: key, Version: version, Value: value, Expires: expires}, true
	return nil
}

func (e *warmUpEngine) Delete(key string) error {
	e.found = e.found && e.rec.Key != key
	return nil
}

func (e *warmUpEngine) Scan(string, string, int, int, uint64) ([]protocol.Record, bool, error) {
	return nil, false, nil
}
func (e *warmUpEngine) Stats(string, uint64) (protocol.Stats, error) { return protocol.Stats{}, nil }
func (e *warmUpEngine) Expired(uint64, int) ([]string, error)        { return nil, nil }
func (e *warmUpEngine) NextExpiry() (uint64, error)                  { return 0, nil }
func (e *warmUpEngine) Empty() (bool, error)                         { return !e.found, nil }
func (e *warmUpEngine) SetAlarm(uint64) error                        { return nil }
func (e *warmUpEngine) LastVersion() (uint64, error)                 { return e.last, nil }
func (e *warmUpEngine) SetLastVersion(v uint64) error                { e.last = v; return nil }
func (e *warmUpEngine) Atomic(fn func() error) error                 { return fn() }
