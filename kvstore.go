package dokv

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"math/rand/v2"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/dokv/dokv/driver"
	"github.com/dokv/dokv/internal/listing"
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

// Entry is a stored key with its value and version.
type Entry[T any] struct {
	Key     string
	Value   T
	Version uint64
	// ExpiresAt is when the key expires (see WithTTL); the zero Time when
	// it does not.
	ExpiresAt time.Time
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
	}}
	if c, ok := ns.(driver.Clocked); ok {
		s.now = c.Now
	}
	if c.ttlFunc != nil {
		fn, ok := c.ttlFunc.(func(T) time.Duration)
		if !ok {
			var zero T
			return nil, &Error{Op: "new", Err: ErrInvalidArgument,
				Detail: fmt.Sprintf("the TTL function takes %T, not the store's %T", c.ttlFunc, zero)}
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

// decodeError is the error of a stored value the codec could not decode: it
// matches ErrDecode and keeps the codec's error reachable with errors.As.
func decodeError(err error) error { return fmt.Errorf("%w: %w", ErrDecode, err) }

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

// encode encodes value and checks the entry's size.
func (s *core) encode(op, key, object, storedKey string, value any) ([]byte, error) {
	data, err := s.codec.Marshal(value)
	if err != nil {
		return nil, &Error{Op: op, Key: key, Object: object, Err: fmt.Errorf("%w: encode: %w", ErrDecode, err)}
	}
	if size := len(storedKey) + len(data); size > MaxEntryBytes {
		return nil, &Error{Op: op, Key: key, Object: object, Err: ErrValueTooLarge,
			Detail: fmt.Sprintf("key and value of %d bytes exceed %d", size, MaxEntryBytes)}
	}
	return data, nil
}

// call sends req to the named object and decodes the reply. Failures reported
// by the object come back as *Error wrapping the matching sentinel, with the
// key of the mutation concerned when keys is not nil.
func (s *core) call(ctx context.Context, op, key, object string, req *protocol.Request) (protocol.Reply, error) {
	return s.callKeys(ctx, op, object, req, func(int) string { return key })
}

func (s *core) callKeys(ctx context.Context, op, object string, req *protocol.Request, keyAt func(int) string) (protocol.Reply, error) {
	buf := protocol.AppendRequest(make([]byte, 0, requestSizeHint(req)), req)
	if len(buf) > protocol.MaxRequestBytes {
		return protocol.Reply{}, &Error{Op: op, Key: keyAt(0), Object: object, Err: ErrValueTooLarge,
			Detail: fmt.Sprintf("request of %d bytes exceeds %d", len(buf), protocol.MaxRequestBytes)}
	}
	raw, sent, err := s.send(ctx, object, req, buf)
	if err != nil {
		return protocol.Reply{}, callFailure(ctx, op, keyAt(0), object, req, sent, err)
	}
	reply, err := protocol.DecodeReply(req.Op, raw)
	if err != nil {
		return reply, &Error{Op: op, Key: keyAt(0), Object: object, Err: ErrProtocol, Detail: err.Error()}
	}
	if reply.Status == protocol.StatusOK {
		return reply, nil
	}
	return reply, &Error{
		Op:      op,
		Key:     keyAt(reply.Index),
		Object:  object,
		Current: reply.Current,
		Detail:  reply.Message,
		Err:     statusError(reply.Status),
	}
}

// send calls the object with buf, retrying an idempotent request that failed
// with ErrUnavailable under the store's RetryPolicy, each time with a new
// stub.
//
// sent reports whether any attempt reached a stub: a request refused before
// sending, because ctx had ended, cannot have run.
func (s *core) send(ctx context.Context, object string, req *protocol.Request, buf []byte) (raw []byte, sent bool, err error) {
	id := s.objectID(object)
	attempts := 1
	if idempotent(req) {
		attempts = s.retry.MaxAttempts
	}
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return nil, sent, err // never send for a caller that has gone
		}
		raw, err := s.ns.Get(id).Call(ctx, buf)
		sent = true
		if err == nil || attempt >= attempts || !errors.Is(err, ErrUnavailable) {
			return raw, sent, err
		}
		if err := sleep(ctx, rand.N(s.retry.ceiling(attempt)+1)); err != nil {
			return nil, sent, err
		}
	}
}

// callFailure turns the error of a call that failed into what the caller
// gets. A request refused before sending returns the context's error as it
// is. Otherwise the request may have run: a write cut off by its context
// gets an *Error matching both ErrUnknownOutcome and the context's error; a
// read, whose outcome does not matter, the context's error; an error from a
// Stub that names no dokv sentinel (a Stub implemented elsewhere) is an
// unknown outcome wrapping it, as the Stub contract says.
func callFailure(ctx context.Context, op, key, object string, req *protocol.Request, sent bool, err error) error {
	ctxErr := ctx.Err()
	canceled := errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
	switch {
	case canceled && ctxErr != nil && (!sent || req.Op != protocol.OpWrite):
		return ctxErr
	case canceled && ctxErr != nil:
		err = fmt.Errorf("%w: %w", ErrUnknownOutcome, ctxErr)
	case !isSentinel(err):
		err = fmt.Errorf("%w: %w", ErrUnknownOutcome, err)
	}
	return &Error{Op: op, Key: key, Object: object, Err: err}
}

// idempotent reports whether sending req twice has the same effect as once:
// reads, and writes without conditions.
func idempotent(req *protocol.Request) bool {
	for i := range req.Mutations {
		if req.Mutations[i].HasCondition {
			return false
		}
	}
	return true
}

// sleep waits for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// requestSizeHint estimates the encoded size of req, so that encoding
// allocates once.
func requestSizeHint(req *protocol.Request) int {
	n := 16 + len(req.Key) + len(req.List.Prefix) + len(req.List.StartAfter)
	for i := range req.Mutations {
		n += 16 + len(req.Mutations[i].Key) + len(req.Mutations[i].Value)
	}
	return n
}

func statusError(s protocol.Status) error {
	switch s {
	case protocol.StatusConflict:
		return ErrConflict
	case protocol.StatusInvalidKey:
		return ErrInvalidKey
	case protocol.StatusTooLarge:
		return ErrValueTooLarge
	case protocol.StatusTooMany:
		return ErrTooManyKeys
	case protocol.StatusBadRequest:
		return ErrProtocol
	default:
		return ErrObject
	}
}

// validateKey validates a user key for the store before anything is sent:
// the rules of every key, and none that the partitioning reserves.
func (s *core) validateKey(op, key string) error {
	if err := checkKey(op, key); err != nil {
		return err
	}
	if s.router.Reserved(key) {
		return &Error{Op: op, Key: key, Err: ErrInvalidKey,
			Detail: "under ObjectNamedByKey a key may not start with " + strconv.Quote(router.OwnNamePrefix) + ", which names dokv's own objects"}
	}
	return nil
}

// checkKey validates a user key before anything is sent.
func checkKey(op, key string) error {
	var detail string
	switch {
	case key == "":
		detail = "empty key"
	case len(key) > MaxKeyBytes:
		detail = fmt.Sprintf("key of %d bytes exceeds %d", len(key), MaxKeyBytes)
	case !utf8.ValidString(key):
		detail = "key is not valid UTF-8"
	default:
		return nil
	}
	return &Error{Op: op, Key: key, Err: ErrInvalidKey, Detail: detail}
}

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

// Txn is an atomic, conditional write of several keys in one object, built
// with Check, Set, SetIf, Delete and DeleteIf and sent by Commit. Either every
// condition holds and every write applies, or nothing applies. All keys must
// route to the same object (give them a common hash tag, or use
// SingleObject); each key may appear once; at most MaxTxnKeys keys.
//
// A Txn is not safe for concurrent use and is used once.
type Txn[T any] struct {
	s    *Store[T]
	keys []string
	muts []protocol.Mutation
	vals []any
	err  error // the first invalid argument, reported by Commit
}

// Txn starts a transaction on the store.
func (s *Store[T]) Txn() *Txn[T] { return &Txn[T]{s: s} }

// Check makes the transaction depend on key's version being version (0: the
// key is absent), without writing key.
func (t *Txn[T]) Check(key string, version uint64) *Txn[T] {
	return t.add(key, protocol.Mutation{Kind: protocol.KindCheck, HasCondition: true, Version: version}, nil)
}

// Set stores value at key, whatever is there.
func (t *Txn[T]) Set(key string, value T) *Txn[T] {
	return t.add(key, protocol.Mutation{Kind: protocol.KindPut}, value)
}

// SetIf stores value at key if key's version is version (0: absent).
func (t *Txn[T]) SetIf(key string, version uint64, value T) *Txn[T] {
	return t.add(key, protocol.Mutation{Kind: protocol.KindPut, HasCondition: true, Version: version}, value)
}

// Delete removes key, if it exists.
func (t *Txn[T]) Delete(key string) *Txn[T] {
	return t.add(key, protocol.Mutation{Kind: protocol.KindDelete}, nil)
}

// DeleteIf removes key if key's version is version.
func (t *Txn[T]) DeleteIf(key string, version uint64) *Txn[T] {
	return t.add(key, protocol.Mutation{Kind: protocol.KindDelete, HasCondition: true, Version: version}, nil)
}

func (t *Txn[T]) add(key string, m protocol.Mutation, value any) *Txn[T] {
	t.keys = append(t.keys, key)
	t.muts = append(t.muts, m)
	t.vals = append(t.vals, value)
	return t
}

// Commit validates the transaction, sends it, and returns the new version of
// every key it wrote (deleted keys map to 0; checked keys are absent). If a
// condition fails, the error wraps ErrConflict and names the key, and nothing
// was written. Keys that route to different objects give ErrCrossObject, and
// invalid keys, duplicate keys, too many keys or too large values give their
// errors, before anything is sent.
func (t *Txn[T]) Commit(ctx context.Context) (map[string]uint64, error) {
	s := t.s
	if t.err != nil {
		return nil, t.err
	}
	if len(t.keys) == 0 {
		return map[string]uint64{}, nil
	}
	if len(t.keys) > MaxTxnKeys {
		return nil, &Error{Op: "txn", Err: ErrTooManyKeys,
			Detail: fmt.Sprintf("%d keys exceed %d", len(t.keys), MaxTxnKeys)}
	}
	object := s.router.ObjectName(t.keys[0])
	seen := make(map[string]struct{}, len(t.keys))
	for i, key := range t.keys {
		if err := s.validateKey("txn", key); err != nil {
			return nil, err
		}
		if o := s.router.ObjectName(key); o != object {
			return nil, &Error{Op: "txn", Key: key, Object: o, Err: ErrCrossObject,
				Detail: fmt.Sprintf("%q routes to %s", t.keys[0], object)}
		}
		if _, dup := seen[key]; dup {
			return nil, &Error{Op: "txn", Key: key, Object: object, Err: ErrInvalidArgument, Detail: "key appears twice"}
		}
		seen[key] = struct{}{}
		m := &t.muts[i]
		m.Key = s.router.StoredKey(key)
		if m.Kind == protocol.KindPut {
			data, err := s.encode("txn", key, object, m.Key, t.vals[i])
			if err != nil {
				return nil, err
			}
			m.Value = data
			if m.TTL == 0 {
				if m.TTL, err = s.ttlFor(t.vals[i]); err != nil {
					return nil, &Error{Op: "txn", Key: key, Object: object, Err: ErrInvalidArgument, Detail: err.Error()}
				}
			}
		}
	}
	reply, err := s.callKeys(ctx, "txn", object, &protocol.Request{Op: protocol.OpWrite, Mutations: t.muts},
		func(i int) string {
			if i >= 0 && i < len(t.keys) {
				return t.keys[i]
			}
			return ""
		})
	if err != nil {
		return nil, err
	}
	if len(reply.Versions) != len(t.keys) {
		return nil, &Error{Op: "txn", Object: object, Err: ErrProtocol,
			Detail: fmt.Sprintf("%d versions in the reply to %d mutations", len(reply.Versions), len(t.keys))}
	}
	versions := make(map[string]uint64, len(t.keys))
	for i, key := range t.keys {
		if t.muts[i].Kind != protocol.KindCheck {
			versions[key] = reply.Versions[i]
		}
	}
	return versions, nil
}
