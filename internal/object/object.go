// Package object is the one implementation of dokv's semantics: it decodes a
// request, runs it atomically against an object's storage engine, and
// encodes the reply. The in-memory namespace and the Durable Object both run
// this code, so the tests exercise what ships.
package object

import (
	"errors"
	"fmt"
	"runtime/debug"
	"time"
	"unicode/utf8"

	"github.com/dokv/dokv/internal/protocol"
	"github.com/dokv/dokv/internal/storage"
	"github.com/dokv/dokv/internal/watch"
)

// Object is one object's actor. Its callers must run its requests one at a
// time; Durable Objects and the in-memory namespace both guarantee that.
type Object struct {
	engine storage.Engine
	clock  func() uint64 // Unix milliseconds
	last   uint64        // the last version handed out, valid when loaded
	loaded bool
	// recorded is the version the engine's record of the last version
	// holds, valid when loaded: writes up to it need not record it again
	// (see recordVersion).
	recorded uint64
	// floor is a version every later one must exceed, whatever the
	// engine says: the last version of storage the object gave back.
	floor uint64

	alarm      uint64 // when the engine's alarm is set for (0: none), if alarmKnown
	alarmKnown bool
	emptied    bool // the last request left no record: give the storage back

	log     watch.Log      // recent changes, for watchers that resume
	changes []watch.Change // the changes of the last request, for its watchers
}

// An Option configures an Object.
type Option func(*Object)

// WithClock makes the object read the time, in Unix milliseconds, from
// clock instead of the system's: it decides expiries and version floors.
func WithClock(clock func() uint64) Option { return func(o *Object) { o.clock = clock } }

// WithFloor makes every version the object hands out exceed floor: what a
// host that gave the storage of an object back remembers of its versions.
func WithFloor(floor uint64) Option { return func(o *Object) { o.floor = floor } }

// New returns an actor over engine. The actor keeps only a cache of what the
// engine holds, so a new actor over the same engine continues where an old
// one stopped: that is what an object reset is.
func New(engine storage.Engine, opts ...Option) *Object {
	o := &Object{engine: engine, clock: systemClock}
	for _, opt := range opts {
		opt(o)
	}
	return o
}

func systemClock() uint64 { return uint64(time.Now().UnixMilli()) }

// Handle runs one encoded request and returns the encoded reply. It never
// panics: a bad request gets an error reply, and a failure inside the engine
// gets a StatusInternal reply with nothing applied.
func (o *Object) Handle(req []byte) (reply []byte) {
	op := protocol.OpGet
	defer func() {
		if p := recover(); p != nil {
			o.loaded = false // the engine may have moved on without us
			r := protocol.ErrorReply(protocol.StatusInternal, fmt.Sprintf("object panic: %v\n%s", p, debug.Stack()))
			reply = protocol.AppendReply(nil, op, &r)
		}
	}()
	o.changes = o.changes[:0]
	o.emptied = false
	var r protocol.Reply
	if len(req) > protocol.MaxRequestBytes {
		r = protocol.ErrorReply(protocol.StatusTooLarge,
			fmt.Sprintf("request of %d bytes exceeds %d", len(req), protocol.MaxRequestBytes))
	} else if decoded, err := protocol.DecodeRequest(req); err != nil {
		status := protocol.StatusBadRequest
		if errors.Is(err, protocol.ErrTooMany) {
			status = protocol.StatusTooMany
		}
		r = protocol.ErrorReply(status, err.Error())
	} else {
		op = decoded.Op
		r = o.run(&decoded)
	}
	return protocol.AppendReply(make([]byte, 0, replySizeHint(&r)), op, &r)
}

// replySizeHint estimates the encoded size of r, so that encoding allocates
// once.
func replySizeHint(r *protocol.Reply) int {
	n := 16 + len(r.Value) + len(r.Message) + 10*len(r.Versions)
	for i := range r.Entries {
		n += 16 + len(r.Entries[i].Key) + len(r.Entries[i].Value)
	}
	return n
}

func (o *Object) run(req *protocol.Request) protocol.Reply {
	switch req.Op {
	case protocol.OpGet:
		return o.get(req.Key)
	case protocol.OpWrite:
		return o.write(req.Mutations)
	case protocol.OpList:
		return o.list(req.List)
	case protocol.OpStats:
		return o.stats(req.Key)
	}
	return protocol.ErrorReply(protocol.StatusBadRequest, "unknown op "+req.Op.String())
}

func (o *Object) get(key string) protocol.Reply {
	if r, bad := checkKey(key, 0); bad {
		return r
	}
	rec, ok, err := o.engine.Get(key)
	if err != nil {
		return internal(err)
	}
	if !ok || storage.Expired(rec.Expires, o.clock()) {
		return protocol.Reply{}
	}
	return protocol.Reply{Found: true, Version: rec.Version, Value: rec.Value, Expires: rec.Expires}
}

func (o *Object) list(l protocol.ListRequest) protocol.Reply {
	if l.Limit < 1 {
		return protocol.ErrorReply(protocol.StatusBadRequest, "list limit must be at least 1")
	}
	recs, more, err := o.engine.Scan(l.Prefix, l.StartAfter, l.Limit, protocol.MaxReplyBytes, o.clock())
	if err != nil {
		return internal(err)
	}
	return protocol.Reply{Entries: recs, More: more}
}

func (o *Object) stats(prefix string) protocol.Reply {
	stats, err := o.engine.Stats(prefix, o.clock())
	if err != nil {
		return internal(err)
	}
	last, err := o.lastVersion()
	if err != nil {
		return internal(err)
	}
	if stats.NextAlarm, err = o.nextAlarm(); err != nil {
		return internal(err)
	}
	return protocol.Reply{Version: last, Stats: stats}
}

// errRejected aborts a write's transaction; the reply it carries says why.
type errRejected struct{ reply protocol.Reply }

func (e *errRejected) Error() string { return e.reply.Message }

func (o *Object) write(muts []protocol.Mutation) protocol.Reply {
	if r, bad := checkMutations(muts); bad {
		return r
	}
	versions := make([]uint64, len(muts))
	now := o.clock()
	alarm, deleted := uint64(0), false
	err := o.engine.Atomic(func() error {
		next, err := o.nextVersion(now)
		if err != nil {
			return err
		}
		changes := false
		earliest := uint64(0) // the earliest expiry this write sets
		for i := range muts {
			m := &muts[i]
			if !m.HasCondition && m.Kind != protocol.KindCheck {
				continue
			}
			rec, ok, err := o.engine.Get(m.Key)
			if err != nil {
				return err
			}
			current := uint64(0)
			if ok && !storage.Expired(rec.Expires, now) {
				current = rec.Version
			}
			if m.HasCondition && current != m.Version {
				return &errRejected{protocol.Reply{
					Status:  protocol.StatusConflict,
					Index:   i,
					Current: current,
					Message: fmt.Sprintf("version is %d, not %d", current, m.Version),
				}}
			}
			versions[i] = current
		}
		for i := range muts {
			m := &muts[i]
			switch m.Kind {
			case protocol.KindPut:
				expires := uint64(0)
				if m.TTL > 0 {
					expires = now + m.TTL
					if earliest == 0 || expires < earliest {
						earliest = expires
					}
				}
				err = o.engine.Put(m.Key, next, m.Value, expires)
				versions[i] = next
				changes = true
			case protocol.KindDelete:
				err = o.engine.Delete(m.Key)
				versions[i] = 0
				changes = true
				deleted = true
			}
			if err != nil {
				return err
			}
		}
		if !changes {
			return nil
		}
		if err := o.recordVersion(next); err != nil {
			return err
		}
		o.last = next
		if alarm, err = o.armFor(earliest); err != nil {
			return err
		}
		if deleted {
			return o.checkEmptied()
		}
		return nil
	})
	if err != nil {
		o.loaded = false // the cache may hold a version that was rolled back
		o.alarmKnown = false
		o.emptied = false
		var rej *errRejected
		if errors.As(err, &rej) {
			return rej.reply
		}
		return internal(err)
	}
	if alarm != 0 {
		o.alarm, o.alarmKnown = alarm, true
	}
	o.record(muts, versions)
	o.afterEmptied()
	return protocol.Reply{Versions: versions}
}

// nextVersion returns the version of a write at now: one more than the
// last, but at least the time in microseconds, so that an object that gave
// its storage back (and forgot its last version) and is written again later
// still hands out larger versions than before; and more than floor.
func (o *Object) nextVersion(now uint64) (uint64, error) {
	last, err := o.lastVersion()
	if err != nil {
		return 0, err
	}
	next := max(last, o.floor) + 1
	if now <= protocol.MaxVersion/1000 {
		next = max(next, now*1000)
	}
	if next > protocol.MaxVersion {
		return 0, fmt.Errorf("the object's versions reached %d, the largest JavaScript numbers keep exactly", uint64(protocol.MaxVersion))
	}
	return next, nil
}

func (o *Object) lastVersion() (uint64, error) {
	if !o.loaded {
		v, err := o.engine.LastVersion()
		if err != nil {
			return 0, err
		}
		o.last, o.recorded, o.loaded = v, v, true
	}
	return o.last, nil
}

// versionReserve is how far ahead of a write's version recordVersion
// records the last version: about a second of the microsecond time floor.
const versionReserve = 1 << 20

// recordVersion makes the engine's record of the last version cover next,
// inside the write's Atomic call. It records a mark versionReserve ahead,
// so that the writes up to the mark need not write it again: one storage
// write per write instead of two, and about one in a second under
// sustained writes, whose versions follow the microsecond clock. An actor
// that loads the mark after a restart counts on from it, above every
// version handed out; versions only need to grow, so the gap is harmless.
func (o *Object) recordVersion(next uint64) error {
	if next <= o.recorded {
		return nil
	}
	mark := min(next+versionReserve, protocol.MaxVersion)
	if err := o.engine.SetLastVersion(mark); err != nil {
		return err
	}
	o.recorded = mark
	return nil
}

// checkMutations enforces the limits of a write before anything runs.
func checkMutations(muts []protocol.Mutation) (protocol.Reply, bool) {
	if len(muts) == 0 {
		return protocol.ErrorReply(protocol.StatusBadRequest, "a write needs at least one mutation"), true
	}
	if len(muts) > protocol.MaxMutations {
		return protocol.ErrorReply(protocol.StatusTooMany,
			fmt.Sprintf("%d keys exceed the limit of %d", len(muts), protocol.MaxMutations)), true
	}
	seen := make(map[string]struct{}, len(muts))
	for i := range muts {
		m := &muts[i]
		if r, bad := checkKey(m.Key, i); bad {
			return r, true
		}
		if _, dup := seen[m.Key]; dup {
			r := protocol.ErrorReply(protocol.StatusBadRequest, "a key appears twice in one write")
			r.Index = i
			return r, true
		}
		seen[m.Key] = struct{}{}
		if size := len(m.Key) + len(m.Value); size > protocol.MaxEntryBytes {
			r := protocol.ErrorReply(protocol.StatusTooLarge,
				fmt.Sprintf("key and value of %d bytes exceed %d", size, protocol.MaxEntryBytes))
			r.Index = i
			return r, true
		}
	}
	return protocol.Reply{}, false
}

// checkKey enforces what the engines need of a stored key: not empty, not too
// long, and valid UTF-8 (the Durable Object hands keys to JavaScript as
// strings, which would replace invalid bytes).
func checkKey(key string, index int) (protocol.Reply, bool) {
	var msg string
	switch {
	case key == "":
		msg = "empty key"
	case len(key) > protocol.MaxKeyBytes:
		msg = fmt.Sprintf("key of %d bytes exceeds %d", len(key), protocol.MaxKeyBytes)
	case !utf8.ValidString(key):
		msg = "key is not valid UTF-8"
	default:
		return protocol.Reply{}, false
	}
	r := protocol.ErrorReply(protocol.StatusInvalidKey, msg)
	r.Index = index
	return r, true
}

func internal(err error) protocol.Reply {
	return protocol.ErrorReply(protocol.StatusInternal, err.Error())
}
