package dokv

import (
	"context"
	"fmt"
	"iter"
	"reflect"
	"time"

	"github.com/dokv/dokv/internal/protocol"
	"github.com/dokv/dokv/internal/rawstore"
)

// A Store's raw side, for package backup: Export, Import, Verify and
// Reshard work on the codec's bytes, which the Store does not export.
func init() {
	rawstore.Register(func(store any) rawstore.Store {
		if s, ok := store.(interface{ raw() rawstore.Store }); ok {
			return s.raw()
		}
		panic(fmt.Sprintf("dokv: %T is not a *dokv.Store", store))
	})
}

func (s *Store[T]) raw() rawstore.Store { return rawSide{core: &s.core, ttlOf: s.decodedTTL} }

// decodedTTL checks that value decodes as a T and returns the wire TTL the
// store gives a write of it.
func (s *Store[T]) decodedTTL(value []byte) (uint64, error) {
	var v T
	if err := s.codec.Unmarshal(value, &v); err != nil {
		return 0, fmt.Errorf("the value does not decode as the store's %v: %w", reflect.TypeFor[T](), err)
	}
	return s.ttlFor(v)
}

type rawSide struct {
	*core
	ttlOf func([]byte) (uint64, error)
}

func (r rawSide) Records(ctx context.Context, op, startAfter string, limit int) iter.Seq2[protocol.Record, error] {
	return r.records(ctx, op, ListOptions{StartAfter: startAfter, Limit: limit})
}

func (r rawSide) Put(ctx context.Context, op, key string, data []byte, ttl uint64) error {
	if err := r.validateKey(op, key); err != nil {
		return err
	}
	object := r.router.ObjectName(key)
	m := protocol.Mutation{Key: r.router.StoredKey(key), Kind: protocol.KindPut, Value: data, TTL: min(ttl, protocol.MaxTTL)}
	if size := len(m.Key) + len(data); size > MaxEntryBytes {
		return &Error{Op: op, Key: key, Object: object, Err: ErrValueTooLarge,
			Detail: fmt.Sprintf("key and value of %d bytes exceed %d", size, MaxEntryBytes)}
	}
	_, err := r.call(ctx, op, key, object, &protocol.Request{Op: protocol.OpWrite, Mutations: []protocol.Mutation{m}})
	return err
}

func (r rawSide) Get(ctx context.Context, op, key string) ([]byte, bool, error) {
	if err := r.validateKey(op, key); err != nil {
		return nil, false, err
	}
	object := r.router.ObjectName(key)
	reply, err := r.call(ctx, op, key, object, &protocol.Request{Op: protocol.OpGet, Key: r.router.StoredKey(key)})
	return reply.Value, reply.Found, err
}

func (r rawSide) TTLOf(value []byte) (uint64, error) { return r.ttlOf(value) }

func (r rawSide) Now() time.Time { return r.now() }

func (r rawSide) Listable() bool { return r.router.Objects() != nil }
