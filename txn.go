package dokv

import (
	"context"
	"fmt"
	"time"

	"github.com/dokv/dokv/internal/protocol"
)

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

// SetWithTTL stores value at key, to expire ttl after the transaction
// commits (see Store.SetWithTTL).
func (t *Txn[T]) SetWithTTL(key string, value T, ttl time.Duration) *Txn[T] {
	if (ttl <= 0 || ttl > MaxTTL) && t.err == nil {
		t.err = &Error{Op: "txn", Key: key, Err: ErrInvalidArgument, Detail: fmt.Sprintf("TTL %v is not within 1ms and %v", ttl, MaxTTL)}
	}
	return t.add(key, protocol.Mutation{Kind: protocol.KindPut, TTL: ttlMillis(ttl)}, value)
}
