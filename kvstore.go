package dokv

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/dokv/dokv/driver"
	"github.com/dokv/dokv/internal/protocol"
	"github.com/dokv/dokv/internal/router"
)

// Limits, checked before a request is sent. They follow Cloudflare's limits
// for SQLite-backed Durable Objects.
const (
	// MaxKeyBytes is the longest key, in bytes.
	MaxKeyBytes = 2048
	// MaxEntryBytes bounds an encoded key (with the store's prefix) plus its
	// encoded value: 1,999,936 bytes, so that every entry dokv accepts is a
	// row Cloudflare stores (2,000,000 bytes at most, of which 64 are kept
	// for the row's version and SQLite's record header).
	MaxEntryBytes = protocol.MaxEntryBytes
	// MaxTxnKeys bounds the keys of one transaction.
	MaxTxnKeys = protocol.MaxMutations
)

// KvStore is the minimal typed key-value interface, shaped like the
// TypeScript KvStore of uploadista. *Store[T] implements it.
type KvStore[T any] interface {
	// Get returns the value at key, or an error wrapping ErrNotFound.
	Get(ctx context.Context, key string) (T, error)
	// Set stores value at key.
	Set(ctx context.Context, key string, value T) error
	// Delete removes key; deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error
}

// Entry is a stored key with its value and version. Its JSON is
// {"key", "value", "version", "expiresAt"}, the value as the store's T
// marshals, and expiresAt left out when the key does not expire.
type Entry[T any] struct {
	Key     string `json:"key"`
	Value   T      `json:"value"`
	Version uint64 `json:"version"`
	// ExpiresAt is when the key expires (see WithTTL); the zero Time when
	// it does not.
	ExpiresAt time.Time `json:"expiresAt,omitzero"`
}

// Store is a typed, strongly consistent key-value store over a Namespace of
// objects. Each key lives in exactly one object (see Partitioning), and each
// object runs its requests one at a time, so every operation on a key is
// linearizable.
//
// Every key has a version: 0 means absent, and each write of a key gives it a
// larger version than any it had before. A Store is safe for concurrent use.
type Store[T any] struct {
	core
	ttlFunc func(T) time.Duration
}

// core is the part of a Store that does not depend on its type of values:
// the calls, listings and raw reads and writes. Keeping it out of the
// generic type keeps one copy of its code in a binary however many types
// of stores the program has, which matters for a Worker's size.
type core struct {
	ns       Namespace
	router   router.Router
	codec    Codec
	pageSize int
	retry    RetryPolicy
	ttl      time.Duration
	// now is the namespace's clock (driver.Clocked), which Import reads to
	// work out what remains of an exported expiry.
	now func() time.Time
	// ids caches the IDs of a SingleObject or HashShards store's few
	// objects; PerKey IDs are derived per call, as their set is unbounded.
	ids map[string]ObjectID
	// watchTokens checks ServeWatch's tokens (WithWatchTokens); nil: none.
	watchTokens *WatchTokens
}

var _ KvStore[int] = (*Store[int])(nil)

// New returns a store of values of type T over ns. With no options it routes
// PerKey, has no prefix and encodes values as JSON. It fails with
// ErrInvalidArgument for an invalid option.
func New[T any](ns Namespace, opts ...Option) (*Store[T], error) {
	if ns == nil {
		return nil, &Error{Op: "new", Err: ErrInvalidArgument, Detail: "namespace is nil"}
	}
	c := defaultConfig()
	for _, opt := range opts {
		opt(&c)
	}
	if err := c.validate(); err != nil {
		return nil, &Error{Op: "new", Err: ErrInvalidArgument, Detail: err.Error()}
	}
	p := c.partitioning
	s := &Store[T]{core: core{
		ns:       ns,
		router:   router.New(p.scheme, p.name, p.shards, c.prefix),
		codec:    c.codec,
		pageSize: c.pageSize,
		retry:    c.retry,
		ttl:      c.ttl,
		now:      time.Now,

		watchTokens: c.watchTokens,
	}}
	if clocked, ok := ns.(driver.Clocked); ok {
		s.now = clocked.Now
	}
	if c.jobRetention != 0 {
		fn, ok := any(jobRetention(c.jobRetention)).(func(T) time.Duration)
		if !ok {
			var zero T
			return nil, &Error{Op: "new", Err: ErrInvalidArgument,
				Detail: fmt.Sprintf("WithFlowJobRetention applies to stores of FlowJob, not %T", zero)}
		}
		s.ttlFunc = fn
	}
	if objects := s.router.Objects(); objects != nil {
		s.ids = make(map[string]ObjectID, len(objects))
		for _, name := range objects {
			s.ids[name] = ns.IDFromName(name)
		}
	}
	return s, nil
}

func (s *core) objectID(name string) ObjectID {
	if id, ok := s.ids[name]; ok {
		return id
	}
	return s.ns.IDFromName(name)
}

// ObjectName reports the name of the object that holds key under the
// store's partitioning and prefix. Keys with the same object name can share a
// transaction.
func (s *Store[T]) ObjectName(key string) string { return s.router.ObjectName(key) }

// Get returns the value at key. A missing key gives an error wrapping
// ErrNotFound, never a zero value with a nil error.
func (s *Store[T]) Get(ctx context.Context, key string) (T, error) {
	e, err := s.getEntry(ctx, "get", key)
	return e.Value, err
}

// GetEntry returns the value at key with its version. A missing key gives an
// error wrapping ErrNotFound.
func (s *Store[T]) GetEntry(ctx context.Context, key string) (Entry[T], error) {
	return s.getEntry(ctx, "get", key)
}

func (s *Store[T]) getEntry(ctx context.Context, op, key string) (Entry[T], error) {
	e := Entry[T]{Key: key}
	if err := s.validateKey(op, key); err != nil {
		return e, err
	}
	object := s.router.ObjectName(key)
	reply, err := s.call(ctx, op, key, object, &protocol.Request{Op: protocol.OpGet, Key: s.router.StoredKey(key)})
	if err != nil {
		return e, err
	}
	if !reply.Found {
		return e, &Error{Op: op, Key: key, Object: object, Err: ErrNotFound}
	}
	if err := s.codec.Unmarshal(reply.Value, &e.Value); err != nil {
		var zero T
		e.Value = zero
		return e, &Error{Op: op, Key: key, Object: object, Err: decodeError(err)}
	}
	e.Version = reply.Version
	e.ExpiresAt = expiresAt(reply.Expires)
	return e, nil
}

// Set stores value at key, whatever is there.
func (s *Store[T]) Set(ctx context.Context, key string, value T) error {
	_, err := s.writeOne(ctx, "set", key, protocol.Mutation{Kind: protocol.KindPut}, value)
	return err
}

// SetEntry stores value at key and returns the key's new version.
func (s *Store[T]) SetEntry(ctx context.Context, key string, value T) (uint64, error) {
	return s.writeOne(ctx, "set", key, protocol.Mutation{Kind: protocol.KindPut}, value)
}

// Delete removes key. Deleting a missing key is not an error.
func (s *Store[T]) Delete(ctx context.Context, key string) error {
	_, err := s.writeOne(ctx, "delete", key, protocol.Mutation{Kind: protocol.KindDelete}, nil)
	return err
}

// CompareAndSwap stores value at key only if the key's version is version
// (0: only if the key is absent), and returns the new version. Otherwise it
// returns an error wrapping ErrConflict whose Current field holds the version
// found, and writes nothing.
func (s *Store[T]) CompareAndSwap(ctx context.Context, key string, version uint64, value T) (uint64, error) {
	return s.writeOne(ctx, "cas", key,
		protocol.Mutation{Kind: protocol.KindPut, HasCondition: true, Version: version}, value)
}

// CompareAndDelete removes key only if its version is version; otherwise it
// returns an error wrapping ErrConflict and removes nothing.
func (s *Store[T]) CompareAndDelete(ctx context.Context, key string, version uint64) error {
	_, err := s.writeOne(ctx, "cas-delete", key,
		protocol.Mutation{Kind: protocol.KindDelete, HasCondition: true, Version: version}, nil)
	return err
}

// Update runs a read-modify-write of key: it reads the current value (exists
// is false and current the zero value when the key is absent), calls fn, and
// stores fn's result only if the key has not changed since the read. On a
// conflict it reads again and calls fn again, so fn may be called several
// times and must not have side effects that cannot be repeated. It retries
// until it succeeds or ctx ends. An error from fn aborts the update and is
// returned as it is. Update returns the value it stored.
//
// Update never applies fn's result twice. If its write fails with an unknown
// outcome, it reads the key again: if the version is the one it read before,
// the write did not happen and it tries again; otherwise it returns an error
// wrapping ErrUnknownOutcome. If ctx ends while its write is on its way, the
// error matches both ErrUnknownOutcome and the context's error.
//
// That rests on one assumption: a call that failed does not run later, after
// Update's second read (a Durable Object runs a call when it arrives or
// never; a call whose reply was lost has already run). If a failed call
// could arrive late, fn's result could be applied twice: once by the late
// write, once by the retry, which would then conflict, read the late
// write's result and call fn on it.
func (s *Store[T]) Update(ctx context.Context, key string, fn func(current T, exists bool) (T, error)) (T, error) {
	var zero T
	for attempt := 0; ; attempt++ {
		start := time.Now()
		e, err := s.getEntry(ctx, "update", key)
		exists := err == nil
		if err != nil && !errors.Is(err, ErrNotFound) {
			return zero, err
		}
		next, err := fn(e.Value, exists)
		if err != nil {
			return zero, err
		}
		_, err = s.writeOne(ctx, "update", key,
			protocol.Mutation{Kind: protocol.KindPut, HasCondition: true, Version: e.Version}, next)
		if err == nil {
			return next, nil
		}
		if errors.Is(err, ErrUnknownOutcome) && !s.unchangedSince(ctx, key, e.Version) {
			return zero, err
		}
		if !errors.Is(err, ErrConflict) && !errors.Is(err, ErrUnknownOutcome) {
			return zero, err
		}
		if err := backoff(ctx, attempt, time.Since(start)); err != nil {
			return zero, err
		}
	}
}

// unchangedSince reports whether key still has the version it had when an
// Update read it: then the Update's write, whose outcome was unknown, did
// not happen (every write raises the version), and the Update may try again.
// An absent key proves nothing: the write may have happened and been
// deleted since.
func (s *Store[T]) unchangedSince(ctx context.Context, key string, version uint64) bool {
	if version == 0 {
		return false
	}
	e, err := s.getEntry(ctx, "update", key)
	return err == nil && e.Version == version
}

// backoff waits before retry attempt+1 of a conflicting update: not at all
// at first, then a random delay whose ceiling is the last attempt's round
// trip, doubled for each further conflict up to 64 round trips and a second.
// Scaling with the round trip spreads contending updaters out as well over
// an in-process namespace (microseconds) as over Workers RPC (milliseconds).
func backoff(ctx context.Context, attempt int, roundTrip time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if attempt < 1 {
		return nil
	}
	ceiling := max(roundTrip, 20*time.Microsecond) << min(attempt-1, 6)
	ceiling = min(ceiling, time.Second)
	return sleep(ctx, rand.N(ceiling)+1)
}

// writeOne sends a write of one key. value is encoded for puts.
func (s *Store[T]) writeOne(ctx context.Context, op, key string, m protocol.Mutation, value any) (uint64, error) {
	if err := s.validateKey(op, key); err != nil {
		return 0, err
	}
	object := s.router.ObjectName(key)
	m.Key = s.router.StoredKey(key)
	if m.Kind == protocol.KindPut {
		data, err := s.encode(op, key, object, m.Key, value)
		if err != nil {
			return 0, err
		}
		m.Value = data
		if m.TTL == 0 {
			if m.TTL, err = s.ttlFor(value); err != nil {
				return 0, &Error{Op: op, Key: key, Object: object, Err: ErrInvalidArgument, Detail: err.Error()}
			}
		}
	}
	reply, err := s.call(ctx, op, key, object, &protocol.Request{Op: protocol.OpWrite, Mutations: []protocol.Mutation{m}})
	if err != nil {
		return 0, err
	}
	if len(reply.Versions) != 1 {
		return 0, &Error{Op: op, Key: key, Object: object, Err: ErrProtocol,
			Detail: fmt.Sprintf("%d versions in the reply to one write", len(reply.Versions))}
	}
	return reply.Versions[0], nil
}
