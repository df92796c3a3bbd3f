//go:build js && wasm

package dokv

import (
	"context"
	"errors"

	"github.com/dokv/dokv/internal/workers"
)

func init() { workers.SetWarmUp(warmUp) }

// warmUp runs each kind of store call once on a memory namespace, so that
// the code a request runs (the store's encoding, the protocol, the
// object's actor) is compiled before the first request arrives: about 3 ms
// of that request on the lean Worker (BENCHMARKS.md). The Workers glue
// itself is not run: it needs a request.
func warmUp() error {
	ctx := context.Background()
	s, err := New[[]byte](NewMemoryNamespace(), WithCodec(Raw()), WithPartitioning(SingleObject("warm-up")))
	if err != nil {
		return err
	}
	v, err := s.SetEntry(ctx, "k", []byte("v"))
	if err != nil {
		return err
	}
	_, err1 := s.Get(ctx, "k")
	_, err2 := s.CompareAndSwap(ctx, "k", v, []byte("w"))
	_, err3 := s.Update(ctx, "k", func(old []byte, _ bool) ([]byte, error) { return old, nil })
	for _, err := range s.List(ctx, ListOptions{}) {
		err1 = errors.Join(err1, err)
	}
	err4 := s.Delete(ctx, "k")
	_, err5 := s.Get(ctx, "k")
	if !errors.Is(err5, ErrNotFound) {
		return errors.Join(err1, err2, err3, err4, err5, errors.New("the deleted key was found"))
	}
	return errors.Join(err1, err2, err3, err4)
}
