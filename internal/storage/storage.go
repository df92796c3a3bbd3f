// Package storage defines what a dokv object keeps and the in-memory engine
// that keeps it. The Durable Object's SQLite engine implements the same
// interface inside a Worker.
package storage

import "github.com/dokv/dokv/internal/protocol"

// Engine is an object's durable state: records ordered by key, and the last
// version the object handed out. An engine is used by one object at a time
// and need not be safe for concurrent use.
type Engine interface {
	// Get returns the record stored at key; ok is false when there is none.
	// The returned value must not be modified.
	Get(key string) (rec protocol.Record, ok bool, err error)
	// Put stores value at key with version, replacing any record there.
	// The engine keeps its own copy of value.
	Put(key string, version uint64, value []byte) error
	// Delete removes key; a missing key is not an error.
	Delete(key string) error
	// Scan returns, in ascending byte order, the records whose keys start
	// with prefix and sort after after. It stops at limit records or once
	// the values it holds reach maxBytes (but returns at least one record
	// when any matches); more reports that it stopped early.
	Scan(prefix, after string, limit, maxBytes int) (recs []protocol.Record, more bool, err error)
	// Stats counts the records whose keys start with prefix and the bytes
	// of their keys and values, and reports the bytes of the whole storage.
	Stats(prefix string) (protocol.Stats, error)
	// LastVersion returns the highest version the object handed out; 0 for
	// a new object.
	LastVersion() (uint64, error)
	// SetLastVersion records the highest version handed out.
	SetLastVersion(v uint64) error
	// Atomic runs fn. If fn returns an error, none of the changes it made
	// through the engine remain.
	Atomic(fn func() error) error
}
