// Package watch holds what dokv's objects need to let clients follow a key:
// the bounded per-object change log that makes a watch resumable, and the
// JSON messages a watcher receives. The in-memory namespace and the Durable
// Object both use it through package object, so Go watchers and browsers
// see the same stream.
package watch

// Bounds of an object's change log. A watcher that resumes from a position
// still inside the log misses nothing; one from further back gets the
// key's current state instead. They are small because an isolate holds the
// logs of every object it runs, and with one object per key most objects
// hold one record.
const (
	MaxLogChanges = 64
	MaxLogBytes   = 64 << 10
)

// Change is one committed change to a stored key.
type Change struct {
	Key string
	// At is the object's version when the change committed: the new
	// version of a put, the version the object reached for a delete.
	At      uint64
	Deleted bool
	Value   []byte // a put's value; nil for a delete
}

func (c *Change) size() int { return len(c.Key) + len(c.Value) + 32 }

// Log is an object's recent changes, oldest first. It knows every change
// after its horizon. The zero value is empty and not yet started: Start
// sets the horizon to the object's version when its first watch starts,
// since a log kept in memory knows nothing of the changes before it.
type Log struct {
	changes []Change
	bytes   int
	horizon uint64
	started bool
}

// Start sets the horizon of a log that has none to last, the object's
// current version.
func (l *Log) Start(last uint64) {
	if !l.started {
		l.horizon, l.started = last, true
	}
}

// Started reports whether Start was called.
func (l *Log) Started() bool { return l.started }

// Append records c, whose value the log keeps (the caller must not modify
// it), and forgets the oldest changes beyond the bounds: a change larger
// than MaxLogBytes on its own is forgotten at once. The caller has started
// the log, and appends in version order.
func (l *Log) Append(c Change) {
	l.changes = append(l.changes, c)
	l.bytes += c.size()
	drop := 0
	for len(l.changes)-drop > MaxLogChanges || l.bytes > MaxLogBytes {
		l.bytes -= l.changes[drop].size()
		l.horizon = l.changes[drop].At
		drop++
	}
	if drop > 0 {
		l.changes = append(l.changes[:0], l.changes[drop:]...)
	}
}

// Since returns the changes to key after position after. ok is false when
// the log cannot know them: after is before its horizon, or beyond last,
// the object's current version.
func (l *Log) Since(key string, after, last uint64) (changes []Change, ok bool) {
	if !l.started || after < l.horizon || after > last {
		return nil, false
	}
	for i := range l.changes {
		if c := &l.changes[i]; c.At > after && c.Key == key {
			changes = append(changes, *c)
		}
	}
	return changes, true
}

// Horizon reports the position after which the log knows every change.
func (l *Log) Horizon() uint64 { return l.horizon }
