package dokv

import (
	"context"
	"iter"
	"unicode/utf8"

	"github.com/dokv/dokv/internal/listing"
	"github.com/dokv/dokv/internal/protocol"
)

// ListOptions selects the entries List yields.
type ListOptions struct {
	// Prefix keeps only keys that start with it.
	Prefix string
	// StartAfter starts the listing after this key (exclusive), to resume
	// where an earlier listing stopped.
	StartAfter string
	// Limit stops after this many entries; 0 means no limit.
	Limit int
}

// List yields the store's entries in ascending key-byte order. It fetches
// pages of WithPageSize entries from the objects as the caller iterates, so
// it never holds an object's whole contents; under HashShards it merges the
// shards' pages in order. Each page is a consistent read of one object, but
// the listing as a whole is not a snapshot: writes made while it runs may or
// may not show.
//
// An error is yielded once, with a zero Entry, and ends the sequence. Under
// PerKey and ObjectNamedByKey, whose objects cannot be enumerated, the error
// wraps ErrUnsupported.
func (s *Store[T]) List(ctx context.Context, opts ListOptions) iter.Seq2[Entry[T], error] {
	return func(yield func(Entry[T], error) bool) {
		for rec, err := range s.records(ctx, "list", opts) {
			if err != nil {
				yield(Entry[T]{}, err)
				return
			}
			e := Entry[T]{Key: rec.Key, Version: rec.Version, ExpiresAt: expiresAt(rec.Expires)}
			if err := s.codec.Unmarshal(rec.Value, &e.Value); err != nil {
				yield(Entry[T]{}, &Error{Op: "list", Key: rec.Key, Object: s.router.ObjectName(rec.Key), Err: decodeError(err)})
				return
			}
			if !yield(e, nil) {
				return
			}
		}
	}
}

// records yields the store's records as List would find them, with the
// user's keys and the codec's bytes: what List decodes and Export writes.
func (s *core) records(ctx context.Context, op string, opts ListOptions) iter.Seq2[protocol.Record, error] {
	return func(yield func(protocol.Record, error) bool) {
		objects := s.router.Objects()
		if objects == nil {
			yield(protocol.Record{}, &Error{Op: op, Err: ErrUnsupported,
				Detail: "PerKey and ObjectNamedByKey partitionings cannot enumerate their objects; use SingleObject or HashShards"})
			return
		}
		if opts.Limit < 0 {
			yield(protocol.Record{}, &Error{Op: op, Err: ErrInvalidArgument, Detail: "negative limit"})
			return
		}
		if !utf8.ValidString(opts.Prefix) || !utf8.ValidString(opts.StartAfter) || len(opts.Prefix) > MaxKeyBytes || len(opts.StartAfter) > MaxKeyBytes {
			yield(protocol.Record{}, &Error{Op: op, Err: ErrInvalidKey, Detail: "prefix and start must be keys of valid UTF-8"})
			return
		}
		storedPrefix := s.router.StoredPrefix(opts.Prefix)
		start := ""
		if opts.StartAfter != "" {
			start = s.router.StoredKey(opts.StartAfter)
		}
		fetch := func(ctx context.Context, object, after string, limit int) ([]protocol.Record, bool, error) {
			req := protocol.Request{Op: protocol.OpList, List: protocol.ListRequest{Prefix: storedPrefix, StartAfter: after, Limit: limit}}
			reply, err := s.call(ctx, op, "", object, &req)
			return reply.Entries, reply.More, err
		}
		for rec, err := range listing.Merge(ctx, objects, start, opts.Limit, s.pageSize, fetch) {
			if err != nil {
				yield(protocol.Record{}, err)
				return
			}
			key, ok := s.router.UserKey(rec.Key)
			if !ok {
				yield(protocol.Record{}, &Error{Op: op, Err: ErrProtocol, Detail: "object returned a key outside the store"})
				return
			}
			rec.Key = key
			if !yield(rec, nil) {
				return
			}
		}
	}
}
