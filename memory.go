package dokv

import (
	"context"
	"crypto/sha256"
	"sync"
	"time"

	"github.com/dokv/dokv/driver"
	"github.com/dokv/dokv/internal/object"
	"github.com/dokv/dokv/internal/protocol"
	"github.com/dokv/dokv/internal/storage"
)

// MemoryNamespace is a Namespace held in process memory: the embedded
// default and the fake for unit tests. It runs the same object code as the
// Durable Object, and requests cross its stubs as bytes in the same wire
// protocol. Each object is an actor: its requests run one at a time,
// different objects run in parallel. A MemoryNamespace is safe for
// concurrent use; its data lives as long as it does.
//
// Like a Durable Object, an object that holds no key takes no memory: a
// read of a key no one wrote leaves nothing behind, and an object whose
// last key is deleted or expires is dropped (unless it has watchers).
// Expired keys are removed by each object's alarm, on the namespace's Clock.
type MemoryNamespace struct {
	clock Clock

	mu      sync.Mutex
	objects map[ObjectID]*memoryObject
	// dropped keeps the versions of dropped objects, so that a key deleted
	// with its object and written again gets a larger version even when
	// the clock stands still.
	dropped droppedVersions
	// empty holds actors over empty storage that answer reads of objects
	// that do not exist, so that a miss leaves nothing behind.
	empty sync.Pool
}

// MemoryOption configures a MemoryNamespace.
type MemoryOption func(*MemoryNamespace)

// WithClock makes a MemoryNamespace read the time from c (SystemClock by
// default): pass a ManualClock to test expiry without sleeping.
func WithClock(c Clock) MemoryOption {
	return func(ns *MemoryNamespace) {
		if c != nil {
			ns.clock = c
		}
	}
}

// NewMemoryNamespace returns an empty in-memory namespace.
func NewMemoryNamespace(opts ...MemoryOption) *MemoryNamespace {
	ns := &MemoryNamespace{clock: SystemClock(), objects: make(map[ObjectID]*memoryObject)}
	for _, opt := range opts {
		opt(ns)
	}
	ns.empty.New = func() any { return ns.newActor(storage.NewMemory(), 0) }
	return ns
}

// memoryNamespaceClass is mixed into every ID so that IDs depend on the
// namespace as well as the name, as Cloudflare's do.
const memoryNamespaceClass = "dokv.MemoryNamespace\x00"

// IDFromName implements Namespace: the SHA-256 of the namespace's class and
// the name.
func (ns *MemoryNamespace) IDFromName(name string) ObjectID {
	return sha256.Sum256([]byte(memoryNamespaceClass + name))
}

// Now implements driver.Clocked: the time of the clock given WithClock,
// else the system's.
func (ns *MemoryNamespace) Now() time.Time { return ns.clock.Now() }

// Get implements Namespace.
func (ns *MemoryNamespace) Get(id ObjectID) driver.Stub {
	return memoryStub{ns: ns, id: id}
}

// Objects reports how many objects hold keys (or watchers): the objects
// that would hold storage on Cloudflare.
func (ns *MemoryNamespace) Objects() int {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	return len(ns.objects)
}

// Reset drops the in-memory state of the object's actor and keeps its
// storage, as Cloudflare does when it evicts or restarts an object. It waits
// for the request the object is running.
func (ns *MemoryNamespace) Reset(id ObjectID) {
	o, _ := ns.turn(context.Background(), id, true)
	o.actor = ns.newActor(o.engine, o.actor.LastVersion())
	o.release()
}

func (ns *MemoryNamespace) newActor(engine *storage.Memory, floor uint64) *object.Object {
	return object.New(engine, object.WithClock(ns.nowMillis), object.WithFloor(floor))
}

func (ns *MemoryNamespace) nowMillis() uint64 { return uint64(max(ns.clock.Now().UnixMilli(), 0)) }

// turn waits for the turn of object id, which it creates if need be and
// create is set, else returns nil for; the caller gives it back with
// release.
func (ns *MemoryNamespace) turn(ctx context.Context, id ObjectID, create bool) (*memoryObject, error) {
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		o := ns.object(id, create)
		if o == nil {
			return nil, nil
		}
		select {
		case o.turn <- struct{}{}:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if !o.dropped {
			return o, nil
		}
		<-o.turn // dropped while we waited: its successor is in the map
	}
}

// object returns object id; if it does not exist, a new one when create
// is set, else nil.
func (ns *MemoryNamespace) object(id ObjectID, create bool) *memoryObject {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	o, ok := ns.objects[id]
	if !ok && create {
		engine := storage.NewMemory()
		o = &memoryObject{ns: ns, id: id, turn: make(chan struct{}, 1), engine: engine, actor: ns.newActor(engine, ns.dropped.take(id))}
		ns.objects[id] = o
	}
	return o
}

type memoryObject struct {
	ns     *MemoryNamespace
	id     ObjectID
	turn   chan struct{} // holds a token while a request runs: one at a time
	engine *storage.Memory
	actor  *object.Object
	// dropped is set, under the turn, when the object left the namespace;
	// a caller that was waiting for its turn looks the ID up again.
	dropped bool

	alarmAt   uint64      // the engine's alarm that timer waits for
	stopAlarm func() bool // stops the timer, if any

	// The object's Go watchers by stored key; they survive Reset, as a
	// Durable Object's hibernated WebSockets survive eviction.
	watchers     map[string]map[*memoryWatcher]struct{}
	watcherCount int
}

type memoryStub struct {
	ns *MemoryNamespace
	id ObjectID
}

func (s memoryStub) Call(ctx context.Context, request []byte) ([]byte, error) {
	o, err := s.ns.turn(ctx, s.id, !protocol.ReadsOnly(request))
	if err != nil {
		return nil, err
	}
	if o == nil {
		// A read of an object that does not exist: answer as an empty
		// object would, without making one, so that a miss leaves nothing
		// behind. The read takes effect at the moment the object did not
		// exist, within the call, so it stays linearizable.
		a := s.ns.empty.Get().(*object.Object)
		defer s.ns.empty.Put(a)
		return a.Handle(request), nil
	}
	defer o.release()
	reply := o.actor.Handle(request)
	o.notify()
	return reply, nil
}

// release ends the caller's turn on o, after it sets the timer of o's
// alarm, or drops o if it holds neither keys nor watchers, as a Durable
// Object without storage is nothing.
func (o *memoryObject) release() {
	defer func() { <-o.turn }()
	if o.engine.Len() == 0 && o.watcherCount == 0 {
		o.drop()
		return
	}
	if at := o.engine.Alarm(); at != o.alarmAt {
		if o.stopAlarm != nil {
			o.stopAlarm()
			o.stopAlarm = nil
		}
		o.alarmAt = at
		if at != 0 {
			d := time.UnixMilli(int64(at)).Sub(o.ns.clock.Now())
			o.stopAlarm = o.ns.clock.AfterFunc(d, o.runAlarm)
		}
	}
}

// drop removes o from its namespace, which remembers its versions.
func (o *memoryObject) drop() {
	if o.stopAlarm != nil {
		o.stopAlarm()
	}
	last, _ := o.engine.LastVersion()
	ns := o.ns
	ns.mu.Lock()
	defer ns.mu.Unlock()
	if ns.objects[o.id] == o {
		delete(ns.objects, o.id)
		ns.dropped.add(o.id, max(last, o.actor.LastVersion()))
	}
	o.dropped = true
}

// runAlarm runs o's alarm when its timer fires. A failed run is retried a
// second later, as Cloudflare retries alarms.
func (o *memoryObject) runAlarm() {
	o.turn <- struct{}{}
	if o.dropped {
		<-o.turn
		return
	}
	o.alarmAt, o.stopAlarm = 0, nil // this timer has fired
	if err := o.actor.Alarm(); err != nil {
		o.stopAlarm = o.ns.clock.AfterFunc(time.Second, o.runAlarm)
		o.alarmAt = o.engine.Alarm()
	} else {
		o.notify()
	}
	o.release()
}
