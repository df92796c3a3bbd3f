package host

import (
	"time"

	"github.com/dokv/dokv/driver"
)

// Eviction: a host over durable storage (Config.Evict > 0) takes objects
// that have been idle for Evict out of memory, as Cloudflare evicts idle
// Durable Objects, so that memory follows the objects in use rather than
// every object ever touched. The next request loads the object again from
// its storage. An object with Go watchers stays, as a Durable Object with
// open WebSockets is held by them. An evicted object's alarm waits on a
// plain timer that loads the object when it is due.

// sweepEvery is how often, as a share of Evict, the host looks for idle
// objects: an object leaves between Evict and 1.5 Evict after its last
// request.
const sweepEvery = 2

// startSweeping arms the first sweep, if the host evicts.
func (ns *Namespace) startSweeping() {
	if ns.cfg.Evict > 0 {
		// Under ns.mu, as every write of sweepStop: a short delay's sweep
		// may run, and arm the next, before AfterFunc has returned here.
		ns.mu.Lock()
		defer ns.mu.Unlock()
		ns.sweepStop = ns.cfg.Clock.AfterFunc(ns.cfg.Evict/sweepEvery, ns.sweep)
	}
}

// sweep evicts the objects idle for Evict, then arms the next sweep.
func (ns *Namespace) sweep() {
	if ns.closed.Load() {
		return
	}
	idleSince := ns.nowMillis() - min(ns.nowMillis(), uint64(ns.cfg.Evict.Milliseconds()))
	ns.mu.Lock()
	var idle []*resident
	for _, o := range ns.objects {
		if o.lastUsed.Load() <= idleSince {
			idle = append(idle, o)
		}
	}
	ns.mu.Unlock()
	for _, o := range idle {
		o.evict(idleSince)
	}
	ns.mu.Lock()
	defer ns.mu.Unlock()
	if !ns.closed.Load() {
		ns.sweepStop = ns.cfg.Clock.AfterFunc(ns.cfg.Evict/sweepEvery, ns.sweep)
	}
}

// evict takes o out of memory if it is still idle since idleSince and has
// no watchers. A busy object is left for the next sweep: the sweep never
// waits for a turn.
func (o *resident) evict(idleSince uint64) {
	select {
	case o.turn <- struct{}{}:
	default:
		return
	}
	defer func() { <-o.turn }()
	if o.dropped || o.watcherCount > 0 || o.lastUsed.Load() > idleSince {
		return
	}
	if o.stopAlarm != nil {
		o.stopAlarm()
		o.stopAlarm = nil
	}
	ns := o.ns
	ns.mu.Lock()
	defer ns.mu.Unlock()
	if ns.objects[o.id] != o {
		return
	}
	delete(ns.objects, o.id)
	ns.evictions.Add(1)
	o.dropped = true // a caller waiting for its turn looks the ID up again
	if last, err := o.engine.LastVersion(); err != nil || last < o.actor.LastVersion() {
		// The storage records versions ahead of those handed out; an actor
		// that counted from a floor it never wrote keeps it here.
		ns.dropped.add(o.id, o.actor.LastVersion())
	}
	if o.alarmAt != 0 && !ns.closed.Load() {
		ns.sleepAlarm(o.id, o.alarmAt)
	}
}

// sleepAlarm arms a timer that loads evicted object id when its alarm,
// at (Unix milliseconds), is due; the loaded object runs it. ns.mu is
// held.
func (ns *Namespace) sleepAlarm(id driver.ObjectID, at uint64) {
	if ns.sleeping == nil {
		ns.sleeping = make(map[driver.ObjectID]func() bool)
	}
	d := time.UnixMilli(int64(at)).Sub(ns.cfg.Clock.Now())
	ns.sleeping[id] = ns.cfg.Clock.AfterFunc(d, func() {
		ns.mu.Lock()
		delete(ns.sleeping, id)
		ns.mu.Unlock()
		if !ns.closed.Load() {
			// A failure leaves the alarm in storage: the next open runs it.
			_ = ns.Load(id)
		}
	})
}

// wake stops the sleeping alarm of object id, which is being loaded and
// arms its alarm itself. ns.mu is held.
func (ns *Namespace) wake(id driver.ObjectID) {
	if stop, ok := ns.sleeping[id]; ok {
		stop()
		delete(ns.sleeping, id)
	}
}

// Evictions reports how many times an object was evicted.
func (ns *Namespace) Evictions() uint64 { return ns.evictions.Load() }

// stopSleeping stops the sweeps and the sleeping alarms, for Close.
func (ns *Namespace) stopSleeping() {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	if ns.sweepStop != nil {
		ns.sweepStop()
	}
	for id, stop := range ns.sleeping {
		stop()
		delete(ns.sleeping, id)
	}
}
