package object

import (
	"github.com/dokv/dokv/internal/protocol"
	"github.com/dokv/dokv/internal/watch"
)

// MaxExpiredPerAlarm bounds the records one alarm run removes, so that a
// run stays a short transaction; a run that reaches it re-arms the alarm
// at once for the rest.
const MaxExpiredPerAlarm = 1000

// armFor makes sure the alarm runs no later than earliest, an expiry the
// running write set (0: none), and returns the time it set, or 0 if it left
// the alarm alone. It runs inside the write's Atomic call.
func (o *Object) armFor(earliest uint64) (uint64, error) {
	if earliest == 0 || (o.alarmKnown && o.alarm != 0 && o.alarm <= earliest) {
		return 0, nil
	}
	at := earliest
	if !o.alarmKnown {
		// After a load the object does not know its alarm: the earliest
		// expiry of every record, this write's included, is always right.
		next, err := o.engine.NextExpiry()
		if err != nil {
			return 0, err
		}
		at = min(at, next)
	}
	return at, o.engine.SetAlarm(at)
}

// nextAlarm reports when the alarm will next run; 0 for never.
func (o *Object) nextAlarm() (uint64, error) {
	if o.alarmKnown {
		return o.alarm, nil
	}
	return o.engine.NextExpiry()
}

// checkEmptied notes, inside a write's Atomic call, whether the object holds
// no record any more.
func (o *Object) checkEmptied() error {
	empty, err := o.engine.Empty()
	o.emptied = empty
	return err
}

// afterEmptied prepares the actor, after a committed request that left the
// object empty, for its host to give the storage back: the versions it
// handed out become its floor, its change log ends (a watcher resuming
// from inside it resynchronises), and it has no alarm.
func (o *Object) afterEmptied() {
	if !o.emptied {
		return
	}
	o.floor = max(o.floor, o.last)
	o.recorded = 0 // the recorded mark goes with the storage
	o.log = watch.Log{}
	o.alarm, o.alarmKnown = 0, true
}

// Emptied reports whether the last request (Handle or Alarm) left the object
// without any record. Its host should then give the object's storage back
// (on Workers, deleteAll and deleteAlarm) before the next request; the
// actor remembers the versions it handed out, and the time floor of
// versions covers an actor that is gone by the time its object is written
// again.
func (o *Object) Emptied() bool { return o.emptied }

// LastVersion reports the highest version the actor knows the object
// handed out (0 if it has not read it from the engine yet): what a host
// that drops an emptied object must make later objects exceed.
func (o *Object) LastVersion() uint64 { return max(o.last, o.floor) }

// Alarm runs the object's alarm at the clock's time: it removes up to
// MaxExpiredPerAlarm expired records in one transaction under a new version,
// notes them as deletes for watchers (see Changes), and sets the alarm for
// the next expiry (or at once, when records remain to remove; or none). It
// is safe to run at any time and any number of times: a run that fails
// changes nothing, and a run with nothing to do only re-arms.
func (o *Object) Alarm() error {
	o.changes = o.changes[:0]
	o.emptied = false
	now := o.clock()
	var removed []string
	var at uint64
	err := o.engine.Atomic(func() error {
		keys, err := o.engine.Expired(now, MaxExpiredPerAlarm)
		if err != nil {
			return err
		}
		if len(keys) > 0 {
			next, err := o.nextVersion(now)
			if err != nil {
				return err
			}
			for _, key := range keys {
				if err := o.engine.Delete(key); err != nil {
					return err
				}
			}
			if err := o.recordVersion(next); err != nil {
				return err
			}
			o.last = next
		}
		if len(keys) == MaxExpiredPerAlarm {
			at = now
		} else if at, err = o.engine.NextExpiry(); err != nil {
			return err
		}
		if err := o.engine.SetAlarm(at); err != nil {
			return err
		}
		removed = keys
		if len(keys) > 0 {
			return o.checkEmptied()
		}
		return nil
	})
	if err != nil {
		o.loaded, o.alarmKnown, o.emptied = false, false, false
		return err
	}
	o.alarm, o.alarmKnown = at, true
	muts := make([]protocol.Mutation, len(removed))
	for i, key := range removed {
		muts[i] = protocol.Mutation{Key: key, Kind: protocol.KindDelete}
	}
	o.record(muts, make([]uint64, len(muts)))
	o.afterEmptied()
	return nil
}
