// Package storage defines what a dokv object keeps and the in-memory engine
// that keeps it. The Durable Object's SQLite engine implements the same
// interface inside a Worker.
package storage

import (
	"unicode/utf8"

	"github.com/dokv/dokv/internal/protocol"
)

// Engine is an object's durable state: records ordered by key, each with an
// optional expiry, the last version the object handed out, and when its
// alarm should next run. An engine is used by one object at a time and need
// not be safe for concurrent use.
//
// Times are Unix milliseconds. The engine stores expired records like any
// other; hiding them is the object's job, except where a method takes now.
type Engine interface {
	// Get returns the record stored at key, expired or not; ok is false
	// when there is none. The returned value must not be modified.
	Get(key string) (rec protocol.Record, ok bool, err error)
	// Put stores value at key with version and expiry (0: never),
	// replacing any record there. The engine keeps its own copy of value.
	Put(key string, version uint64, value []byte, expires uint64) error
	// Delete removes key; a missing key is not an error.
	Delete(key string) error
	// Scan returns, in ascending byte order, the records whose keys start
	// with prefix, sort after after, and have not expired at now. It stops
	// at limit records or once the values it holds reach maxBytes (but
	// returns at least one record when any matches); more reports that it
	// stopped early.
	Scan(prefix, after string, limit, maxBytes int, now uint64) (recs []protocol.Record, more bool, err error)
	// Stats counts the records whose keys start with prefix and have not
	// expired at now, and the bytes of their keys and values, and reports
	// the bytes of the whole storage.
	Stats(prefix string, now uint64) (protocol.Stats, error)
	// Expired returns, in key order, up to limit keys whose records
	// expired at or before now; when more have, which ones is the
	// engine's choice.
	Expired(now uint64, limit int) ([]string, error)
	// NextExpiry returns the earliest expiry of any record; 0 when no
	// record expires.
	NextExpiry() (uint64, error)
	// Empty reports whether the engine holds no record at all.
	Empty() (bool, error)
	// SetAlarm asks for the object's alarm at the given time; 0 cancels
	// it. Like every change, it is undone if the enclosing Atomic fails.
	SetAlarm(at uint64) error
	// LastVersion returns what SetLastVersion last recorded, a version at
	// least as high as any the object handed out; 0 for a new object.
	LastVersion() (uint64, error)
	// SetLastVersion records v, at least the highest version handed out.
	SetLastVersion(v uint64) error
	// Atomic runs fn. If fn returns an error, none of the changes it made
	// through the engine remain.
	Atomic(fn func() error) error
}

// Expired reports whether a record with the given expiry (0: never) has
// expired at now: the one rule every engine and the object apply.
func Expired(expires, now uint64) bool { return expires != 0 && expires <= now }

// PrefixEnd returns the least string greater than every string that starts
// with prefix, the exclusive end of a range scan of a prefix in an SQL
// engine; bounded is false when there is none (an empty prefix, or one of
// only maximal runes), and end is then "".
func PrefixEnd(prefix string) (end string, bounded bool) {
	for len(prefix) > 0 {
		r, size := utf8.DecodeLastRuneInString(prefix)
		prefix = prefix[:len(prefix)-size]
		if r == utf8.MaxRune || r == utf8.RuneError && size <= 1 {
			continue
		}
		next := r + 1
		if next == 0xD800 { // skip the surrogates, which UTF-8 cannot hold
			next = 0xE000
		}
		return prefix + string(next), true
	}
	return "", false
}
