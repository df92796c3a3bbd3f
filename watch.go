package dokv

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"

	"github.com/dokv/dokv/driver"
	"github.com/dokv/dokv/internal/watch"
)

// Limits of watches. Each object enforces them.
const (
	// MaxWatchers is the most watchers one object serves at once, Go and
	// browser watchers together; more are refused (ErrOverloaded, or
	// WebSocket close code 1013).
	MaxWatchers = watch.MaxWatchers
	// MaxWatchLag is how many messages a Go watcher may leave unread
	// before the object drops it (ErrLagging).
	MaxWatchLag = watch.MaxLag
	// MaxEventBytes bounds the JSON of one emitted event.
	MaxEventBytes = watch.MaxEventBytes
	// MaxWatchMessageBytes bounds one message to a watcher; a change whose
	// value would not fit arrives with Truncated set and no value.
	MaxWatchMessageBytes = watch.MaxMessageBytes
	// WatchLogChanges and WatchLogBytes bound each object's change log,
	// which makes a watch resumable (WithResumeAfter). The log lives in the
	// object's memory: an object that was evicted starts a new one.
	WatchLogChanges = watch.MaxLogChanges
	WatchLogBytes   = watch.MaxLogBytes
)

// WatchKind says what a WatchEvent reports.
type WatchKind int

// Kinds of WatchEvent. A watch starts with WatchSnapshot or WatchResumed.
const (
	// WatchSnapshot: the key's state when the watch started; Version is 0
	// when the key is absent. Resynced is set when the watch asked to
	// resume from a position the object's change log no longer covers.
	WatchSnapshot WatchKind = iota + 1
	// WatchResumed: the watch continues after the WithResumeAfter position;
	// every change since follows, in order.
	WatchResumed
	// WatchSet: the key was written; Value and Version are the new ones.
	WatchSet
	// WatchDeleted: the key was deleted.
	WatchDeleted
	// WatchEmitted: an event was emitted to the key's watchers (Emit, or
	// emit() from TypeScript); it is not stored.
	WatchEmitted
)

// String names the kind as its JSON does: "snapshot", "resumed", "set",
// "deleted" or "emitted".
func (k WatchKind) String() string {
	switch k {
	case WatchSnapshot:
		return "snapshot"
	case WatchResumed:
		return "resumed"
	case WatchSet:
		return "set"
	case WatchDeleted:
		return "deleted"
	case WatchEmitted:
		return "emitted"
	}
	return fmt.Sprintf("WatchKind(%d)", int(k))
}

// MarshalText writes the kind's name (see String), so that a WatchEvent's
// JSON says "kind": "set" rather than a number. A kind without a name is
// an error.
func (k WatchKind) MarshalText() ([]byte, error) {
	if k < WatchSnapshot || k > WatchEmitted {
		return nil, fmt.Errorf("dokv: no name for WatchKind(%d)", int(k))
	}
	return []byte(k.String()), nil
}

// UnmarshalText reads a kind's name, as MarshalText writes it.
func (k *WatchKind) UnmarshalText(text []byte) error {
	for kind := WatchSnapshot; kind <= WatchEmitted; kind++ {
		if string(text) == kind.String() {
			*k = kind
			return nil
		}
	}
	return fmt.Errorf("dokv: unknown watch kind %q", text)
}

// WatchEvent is one item of a watch. Its JSON has camelCase names, kind as
// a name ("snapshot", "set", ...), and value only when the event carries
// one (see MarshalJSON).
type WatchEvent[T any] struct {
	Kind WatchKind `json:"kind,omitzero"`
	Key  string    `json:"key"`
	// At is the event's position in the object's sequence of changes.
	// To resume a watch without missing a change, pass the At of the last
	// event received to WithResumeAfter.
	At uint64 `json:"at"`
	// Version is the key's version after a WatchSet, and its version at a
	// WatchSnapshot (0 when absent).
	Version uint64 `json:"version"`
	// Value is the key's value for WatchSet and a WatchSnapshot of a
	// present key, unless Truncated.
	Value T `json:"value"`
	// Truncated: the value was too large for a watch message
	// (MaxWatchMessageBytes); read it with GetEntry.
	Truncated bool `json:"truncated,omitzero"`
	// Resynced: see WatchSnapshot.
	Resynced bool `json:"resynced,omitzero"`
	// Event is the JSON of a WatchEmitted event.
	Event json.RawMessage `json:"event,omitempty"`
}

// HasValue reports whether the event carries a value: a WatchSet or a
// WatchSnapshot of a present key, not Truncated. Value is T's zero value
// otherwise.
func (e WatchEvent[T]) HasValue() bool {
	return (e.Kind == WatchSet || e.Kind == WatchSnapshot && e.Version > 0) && !e.Truncated
}

// MarshalJSON writes the event with its value only when it carries one
// (HasValue): a deletion, an event or the snapshot of an absent key has no
// "value", where T's zero value would read as a stored one.
func (e WatchEvent[T]) MarshalJSON() ([]byte, error) {
	type plain WatchEvent[T] // the fields and tags, without this method
	if e.HasValue() {
		return json.Marshal(plain(e))
	}
	return json.Marshal(struct {
		plain
		Value struct{} `json:"value,omitzero"` // hides plain's Value
	}{plain: plain(e)})
}

// WatchOption configures Watch.
type WatchOption func(*watchConfig)

type watchConfig struct {
	after  uint64
	resume bool
}

// WithResumeAfter resumes a watch after position at (the At of the last event
// a previous watch received): the watch starts with WatchResumed and every
// change since, or, when the object's change log no longer reaches back
// that far, with a WatchSnapshot marked Resynced.
func WithResumeAfter(at uint64) WatchOption {
	return func(c *watchConfig) { c.after, c.resume = at, true }
}

// errNotWatchable is the error of a watch or an event on a namespace whose
// stubs are not driver.Watchers.
var errNotWatchable = fmt.Errorf("%w: the namespace's objects cannot be watched", ErrUnsupported)

// Watch follows key: it yields the key's state, then every change to it
// and every event emitted to it, in the order the object applied them,
// until ctx ends (the last item is then ctx's error), the object drops
// the watcher (ErrLagging, ErrOverloaded) or the stream is cut
// (ErrUnavailable, as when a Durable Object restarts or a local namespace
// closes). After ErrLagging or ErrUnavailable, watch again with
// WithResumeAfter and the last At received.
// Only the first error ends the watch. A watcher that reads slowly never holds up writers.
//
// Watch works on MemoryNamespace, the local namespace and WorkersNamespace
// (from a Worker's handler); other namespaces yield ErrUnsupported.
func (s *Store[T]) Watch(ctx context.Context, key string, opts ...WatchOption) iter.Seq2[WatchEvent[T], error] {
	return func(yield func(WatchEvent[T], error) bool) {
		var cfg watchConfig
		for _, o := range opts {
			o(&cfg)
		}
		stream, err := s.openWatch(ctx, key, cfg)
		if err != nil {
			yield(WatchEvent[T]{Key: key}, err)
			return
		}
		defer stream.Close()
		object := s.router.ObjectName(key)
		for {
			raw, err := stream.Next(ctx)
			if err != nil {
				switch {
				case ctx.Err() != nil:
					err = ctx.Err()
				case isSentinel(err):
					err = &Error{Op: "watch", Key: key, Object: object, Err: err}
				default: // the stream was cut: watch again with WithResumeAfter
					err = &Error{Op: "watch", Key: key, Object: object, Err: fmt.Errorf("%w: %w", ErrUnavailable, err)}
				}
				yield(WatchEvent[T]{Key: key}, err)
				return
			}
			ev, err := s.watchEvent(key, object, raw)
			if !yield(ev, err) || err != nil {
				return
			}
		}
	}
}

func (s *core) openWatch(ctx context.Context, key string, cfg watchConfig) (driver.WatchStream, error) {
	if err := s.validateKey("watch", key); err != nil {
		return nil, err
	}
	object := s.router.ObjectName(key)
	ws, ok := s.ns.Get(s.objectID(object)).(driver.Watcher)
	if !ok {
		return nil, &Error{Op: "watch", Key: key, Object: object, Err: errNotWatchable}
	}
	if cfg.after > watch.MaxPosition {
		return nil, &Error{Op: "watch", Key: key, Err: ErrInvalidArgument, Detail: "position beyond 2^53-1"}
	}
	stream, err := ws.Watch(ctx, s.router.StoredKey(key), cfg.after, cfg.resume)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &Error{Op: "watch", Key: key, Object: object, Err: err}
	}
	return stream, nil
}

// watchEvent decodes one message of a watch of key.
func (s *Store[T]) watchEvent(key, object string, raw []byte) (WatchEvent[T], error) {
	ev := WatchEvent[T]{Key: key}
	var m watch.Message
	if err := json.Unmarshal(raw, &m); err != nil {
		return ev, &Error{Op: "watch", Key: key, Object: object, Err: ErrProtocol, Detail: err.Error()}
	}
	ev.At, ev.Version, ev.Truncated = m.At, m.Version, m.Truncated
	switch m.Type {
	case watch.TypeStart:
		ev.Kind = WatchSnapshot
		switch m.From {
		case watch.FromResume:
			ev.Kind = WatchResumed
		case watch.FromResync:
			ev.Resynced = true
		}
	case watch.TypeSet:
		ev.Kind = WatchSet
	case watch.TypeDelete:
		ev.Kind = WatchDeleted
	case watch.TypeEvent:
		ev.Kind, ev.Event = WatchEmitted, m.Event
	case watch.TypeClose:
		sentinel := ErrUnknownOutcome
		switch m.Reason {
		case watch.ReasonLagging:
			sentinel = ErrLagging
		case watch.ReasonTooManyWatchers:
			sentinel = ErrOverloaded
		case watch.ReasonClosed:
			sentinel = ErrUnavailable
		}
		return ev, &Error{Op: "watch", Key: key, Object: object, Err: sentinel, Detail: m.Reason}
	default:
		return ev, &Error{Op: "watch", Key: key, Object: object, Err: ErrProtocol, Detail: "unknown message type " + m.Type}
	}
	value := []byte(m.Value)
	if m.Value64 != nil {
		value = m.Value64
	}
	if value != nil {
		if err := s.codec.Unmarshal(value, &ev.Value); err != nil {
			return ev, &Error{Op: "watch", Key: key, Object: object, Err: decodeError(err)}
		}
	}
	return ev, nil
}

// Emit delivers event, marshalled as JSON, to every watcher of key, in
// order with the key's changes. It is not stored: a watcher that is not
// connected misses it. An event over MaxEventBytes is refused with
// ErrValueTooLarge.
func (s *Store[T]) Emit(ctx context.Context, key string, event any) error {
	if err := s.validateKey("emit", key); err != nil {
		return err
	}
	object := s.router.ObjectName(key)
	data, err := json.Marshal(event)
	if err != nil {
		return &Error{Op: "emit", Key: key, Err: ErrInvalidArgument, Detail: err.Error()}
	}
	if len(data) > MaxEventBytes {
		return &Error{Op: "emit", Key: key, Err: ErrValueTooLarge,
			Detail: fmt.Sprintf("event of %d bytes exceeds %d", len(data), MaxEventBytes)}
	}
	ws, ok := s.ns.Get(s.objectID(object)).(driver.Watcher)
	if !ok {
		return &Error{Op: "emit", Key: key, Object: object, Err: errNotWatchable}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := ws.Emit(ctx, s.router.StoredKey(key), data); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if !isSentinel(err) {
			err = fmt.Errorf("%w: %w", ErrUnknownOutcome, err)
		}
		return &Error{Op: "emit", Key: key, Object: object, Err: err}
	}
	return nil
}
