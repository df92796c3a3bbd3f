package object

import (
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/dokv/dokv/internal/protocol"
	"github.com/dokv/dokv/internal/storage"
	"github.com/dokv/dokv/internal/watch"
)

// Refusals of a watch or an event.
var (
	ErrBadWatch        = errors.New("bad watch request")
	ErrTooManyWatchers = errors.New("too many watchers")
)

// record notes the changes of a committed write for the watchers of their
// keys, and logs them if the object has been watched since it was loaded.
// An object that no one watches keeps no log: it costs no memory, as most
// objects are never watched. A noted change's value aliases the request,
// which outlives the request's notification.
func (o *Object) record(muts []protocol.Mutation, versions []uint64) {
	for i := range muts {
		m := &muts[i]
		var c watch.Change
		switch m.Kind {
		case protocol.KindPut:
			c = watch.Change{Key: m.Key, At: versions[i], Value: m.Value}
		case protocol.KindDelete:
			c = watch.Change{Key: m.Key, At: o.last, Deleted: true}
		default:
			continue
		}
		o.changes = append(o.changes, c)
		if o.log.Started() {
			if c.Value != nil {
				c.Value = append([]byte{}, c.Value...)
			}
			o.log.Append(c)
		}
	}
}

// Changes returns the changes committed by the last request Handle ran, in
// order, for the watchers of their keys. They are valid while that
// request's bytes are, and until the next request.
func (o *Object) Changes() []watch.Change { return o.changes }

// Watch returns the first messages of a new watch of key: a start message,
// then, when resume is set and the log knows every change since after,
// those changes. Otherwise the start message carries the key's current
// state. The messages have no key: the caller adds its watcher's (see
// watch.WithKey). watchers is how many watchers the object serves already;
// at watch.MaxWatchers it refuses with ErrTooManyWatchers.
func (o *Object) Watch(key string, after uint64, resume bool, watchers int) (messages [][]byte, err error) {
	if r, bad := checkKey(key, 0); bad {
		return nil, fmt.Errorf("%w: %s", ErrBadWatch, r.Message)
	}
	if watchers >= watch.MaxWatchers {
		return nil, fmt.Errorf("%w: the object has %d", ErrTooManyWatchers, watchers)
	}
	last, err := o.position()
	if err != nil {
		return nil, err
	}
	o.log.Start(last)
	from := watch.FromSnapshot
	if resume {
		if changes, ok := o.log.Since(key, after, last); ok {
			messages = append(messages, watch.StartMessage(watch.FromResume, after, 0, nil))
			for i := range changes {
				messages = append(messages, watch.ChangeMessage(&changes[i]))
			}
			return messages, nil
		}
		from = watch.FromResync
	}
	rec, found, err := o.engine.Get(key)
	if err != nil {
		return nil, err
	}
	if !found || storage.Expired(rec.Expires, o.clock()) {
		return [][]byte{watch.StartMessage(from, last, 0, nil)}, nil
	}
	return [][]byte{watch.StartMessage(from, last, rec.Version, rec.Value)}, nil
}

// WatchedKeyJSON checks the key a browser's watcher asked for (the one its
// messages carry, which may differ from the stored key it watches) by the
// rules of stored keys, and returns it as its messages carry it
// (watch.KeyJSON).
func WatchedKeyJSON(key string) ([]byte, error) {
	if r, bad := checkKey(key, 0); bad {
		return nil, fmt.Errorf("%w: watched key: %s", ErrBadWatch, r.Message)
	}
	return watch.KeyJSON(key), nil
}

// Emit returns the message of an event for the watchers of key (every
// watcher of the object when key is empty), without a key (see
// watch.WithKey). The event must be JSON of at most watch.MaxEventBytes.
func (o *Object) Emit(key string, event []byte) ([]byte, error) {
	if key != "" {
		if r, bad := checkKey(key, 0); bad {
			return nil, fmt.Errorf("%w: %s", ErrBadWatch, r.Message)
		}
	}
	if len(event) > watch.MaxEventBytes {
		return nil, fmt.Errorf("%w: event of %d bytes exceeds %d", ErrBadWatch, len(event), watch.MaxEventBytes)
	}
	if !utf8.Valid(event) || !json.Valid(event) {
		return nil, fmt.Errorf("%w: event is not JSON", ErrBadWatch)
	}
	last, err := o.position()
	if err != nil {
		return nil, err
	}
	return watch.EventMessage(last, event), nil
}

// position is the object's position in its history, for watchers: its last
// version, or the versions of storage it gave back if they are larger.
func (o *Object) position() (uint64, error) {
	last, err := o.lastVersion()
	return max(last, o.floor), err
}
