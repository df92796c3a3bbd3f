// Package rawstore lets dokv's own packages (backup) reach a Store's raw
// records, the codec's bytes, which package dokv does not export: a
// dokv.Store registers itself here, and backup asks for it by value.
package rawstore

import (
	"context"
	"iter"
	"time"

	"github.com/dokv/dokv/internal/protocol"
)

// Store is the raw side of a dokv.Store.
type Store interface {
	// Records yields the store's records after startAfter (all of them for
	// ""), up to limit (0: all), in key order across its objects, with the
	// user's keys. It yields an error wrapping dokv.ErrUnsupported for a
	// partitioning that cannot list.
	Records(ctx context.Context, op, startAfter string, limit int) iter.Seq2[protocol.Record, error]
	// Put stores data, already encoded by the codec, at key, with a wire
	// TTL (milliseconds; 0 for none).
	Put(ctx context.Context, op, key string, data []byte, ttl uint64) error
	// Get returns the codec's bytes at key; found is false when it is
	// absent.
	Get(ctx context.Context, op, key string) (data []byte, found bool, err error)
	// TTLOf checks that value decodes with the store's codec as its type,
	// and returns the wire TTL the store gives a write of it.
	TTLOf(value []byte) (uint64, error)
	// Now is the time of the store's namespace.
	Now() time.Time
	// Listable reports whether Records can list the store.
	Listable() bool
}

var of func(store any) Store

// Register sets how Of finds a store's raw side; package dokv calls it.
func Register(f func(store any) Store) { of = f }

// Of returns the raw side of store, a *dokv.Store[T].
func Of(store any) Store { return of(store) }
