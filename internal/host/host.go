// Package host runs dokv's object actors in process: each object an actor
// whose requests run one at a time, objects in parallel, alarms on a
// clock, Go watchers, and the rule that an object without storage is
// nothing. The in-memory namespace (dokv.NewMemoryNamespace) and the
// durable local one (module github.com/dokv/dokv/local) are hosts over
// different storage.
package host

import (
	"context"
	"crypto/sha256"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dokv/dokv/driver"
	"github.com/dokv/dokv/internal/object"
	"github.com/dokv/dokv/internal/protocol"
	"github.com/dokv/dokv/internal/storage"
	"github.com/dokv/dokv/internal/watch"
)

// Engine is an object's storage as a host needs it.
type Engine interface {
	storage.Engine
	// Alarm returns when the object's alarm is set for; 0 for none.
	Alarm() (uint64, error)
}

// Storage is where a host's objects keep their records.
type Storage interface {
	// Engine returns object id's engine: over what it stored, or new and
	// empty.
	Engine(id driver.ObjectID) (Engine, error)
	// Stored reports whether object id holds records that are not in
	// memory, so that a read of an object that is not resident loads it
	// rather than answering as an empty object.
	Stored(id driver.ObjectID) (bool, error)
}

// Clock is a host's time: when keys expire, from which floor versions
// count, and when alarms run.
type Clock interface {
	Now() time.Time
	AfterFunc(d time.Duration, f func()) (stop func() bool)
}

// Config is what a host is made of.
type Config struct {
	// Class is mixed into every ID, so that IDs depend on the namespace as
	// well as the name, as Cloudflare's do.
	Class   string
	Clock   Clock
	Storage Storage
	// The errors an object's refusals of a watch or an event wrap: a bad
	// request, too many watchers, and anything else.
	ErrInvalidArgument, ErrOverloaded, ErrObject error
	// Evict, when positive, takes objects idle that long out of memory
	// (evict.go). Only a host whose Storage keeps records outside memory
	// may evict.
	Evict time.Duration
}

// Namespace is a host's objects. It is safe for concurrent use.
type Namespace struct {
	cfg Config

	mu      sync.Mutex
	objects map[driver.ObjectID]*resident
	// dropped keeps the versions of dropped objects, so that a key deleted
	// with its object and written again gets a larger version even when
	// the clock stands still.
	dropped droppedVersions
	// empty holds actors over empty storage that answer reads of objects
	// that do not exist, so that a miss leaves nothing behind.
	empty sync.Pool
	// closed is set by Close: no alarm runs or is armed after it.
	closed atomic.Bool
	// sweepStop stops the next sweep for idle objects; sleeping holds the
	// alarm timers of evicted objects (evict.go).
	sweepStop func() bool
	sleeping  map[driver.ObjectID]func() bool
	evictions atomic.Uint64
}

// New returns a host with no resident object.
func New(cfg Config) *Namespace {
	ns := &Namespace{cfg: cfg, objects: make(map[driver.ObjectID]*resident)}
	ns.empty.New = func() any { return ns.newActor(memoryEngine{storage.NewMemory()}, 0) }
	ns.startSweeping()
	return ns
}

// IDFromName derives an object's ID: the SHA-256 of the class and the name.
func (ns *Namespace) IDFromName(name string) driver.ObjectID {
	return sha256.Sum256([]byte(ns.cfg.Class + name))
}

// Now is the host's time.
func (ns *Namespace) Now() time.Time { return ns.cfg.Clock.Now() }

// Get returns the stub of object id.
func (ns *Namespace) Get(id driver.ObjectID) *Stub {
	return &Stub{ns: ns, id: id}
}

// Objects reports how many objects are resident: for the memory host, the
// objects that hold keys (or watchers).
func (ns *Namespace) Objects() int {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	return len(ns.objects)
}

// RememberedDrops reports how many dropped objects' versions the host
// remembers one by one, for tests.
func (ns *Namespace) RememberedDrops() int {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	return len(ns.dropped.last)
}

// Load makes object id resident, as a request to it would, so that its
// alarm is armed: a host over durable storage loads the objects whose
// alarms are set when it opens. An object without records is dropped
// again at once.
func (ns *Namespace) Load(id driver.ObjectID) error {
	o, err := ns.turn(context.Background(), id, true)
	if err != nil {
		return err
	}
	o.release()
	return nil
}

// Close stops the alarms of the resident objects: none runs, and none is
// armed, after it; and it ends their watches. A host over durable storage calls it before it closes
// the storage, whose alarms then wait for the next host.
func (ns *Namespace) Close() {
	ns.closed.Store(true)
	ns.stopSleeping()
	ns.mu.Lock()
	objects := make([]*resident, 0, len(ns.objects))
	for _, o := range ns.objects {
		objects = append(objects, o)
	}
	ns.mu.Unlock()
	closed := watch.CloseMessage(watch.ReasonClosed)
	for _, o := range objects {
		o.turn <- struct{}{}
		if o.stopAlarm != nil {
			o.stopAlarm()
			o.stopAlarm, o.alarmAt = nil, 0
		}
		// Watchers end, rather than wait for changes that will never come:
		// a Go watcher gets ErrUnavailable, a browser the close code 1001.
		for _, ws := range o.watchers {
			for w := range ws {
				w.end(closed)
			}
		}
		<-o.turn
	}
}

// Reset drops the in-memory state of the object's actor and keeps its
// storage, as Cloudflare does when it evicts or restarts an object. It waits
// for the request the object is running.
func (ns *Namespace) Reset(id driver.ObjectID) error {
	o, err := ns.turn(context.Background(), id, true)
	if err != nil {
		return err
	}
	o.actor = ns.newActor(o.engine, o.actor.LastVersion())
	o.release()
	return nil
}

func (ns *Namespace) newActor(engine storage.Engine, floor uint64) *object.Object {
	return object.New(engine, object.WithClock(ns.nowMillis), object.WithFloor(floor))
}

func (ns *Namespace) nowMillis() uint64 { return uint64(max(ns.cfg.Clock.Now().UnixMilli(), 0)) }

// turn waits for the turn of object id, which it loads or creates if need
// be and create is set or it has storage, else returns nil for; the caller
// gives it back with release.
func (ns *Namespace) turn(ctx context.Context, id driver.ObjectID, create bool) (*resident, error) {
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		o, err := ns.object(id, create)
		if o == nil || err != nil {
			return nil, err
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

// object returns resident object id; if there is none, it loads it when it
// has storage or create is set, else returns nil.
func (ns *Namespace) object(id driver.ObjectID, create bool) (*resident, error) {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	if o, ok := ns.objects[id]; ok {
		return o, nil
	}
	if !create {
		stored, err := ns.cfg.Storage.Stored(id)
		if !stored || err != nil {
			return nil, err
		}
	}
	engine, err := ns.cfg.Storage.Engine(id)
	if err != nil {
		return nil, err
	}
	o := &resident{ns: ns, id: id, turn: make(chan struct{}, 1), engine: engine, actor: ns.newActor(engine, ns.dropped.take(id))}
	o.lastUsed.Store(ns.nowMillis())
	ns.objects[id] = o
	ns.wake(id)
	return o, nil
}

// resident is an object in memory.
type resident struct {
	ns     *Namespace
	id     driver.ObjectID
	turn   chan struct{} // holds a token while a request runs: one at a time
	engine Engine
	actor  *object.Object
	// dropped is set, under the turn, when the object left the namespace;
	// a caller that was waiting for its turn looks the ID up again.
	dropped bool

	alarmAt   uint64      // the engine's alarm that timer waits for
	stopAlarm func() bool // stops the timer, if any
	// lastUsed is when a turn last ended (Unix milliseconds), for eviction.
	lastUsed atomic.Uint64

	// The object's Go watchers by stored key; they survive Reset, as a
	// Durable Object's hibernated WebSockets survive eviction.
	watchers     map[string]map[*watcher]struct{}
	watcherCount int
}

// Stub carries requests to one object of a host; it implements
// driver.Stub and driver.Watcher.
type Stub struct {
	ns *Namespace
	id driver.ObjectID
}

// Call implements driver.Stub.
func (s *Stub) Call(ctx context.Context, request []byte) ([]byte, error) {
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
func (o *resident) release() {
	defer func() { <-o.turn }()
	o.lastUsed.Store(o.ns.nowMillis())
	if empty, err := o.engine.Empty(); err == nil && empty && o.watcherCount == 0 {
		o.drop()
		return
	}
	if at, err := o.engine.Alarm(); err == nil && at != o.alarmAt && !o.ns.closed.Load() {
		if o.stopAlarm != nil {
			o.stopAlarm()
			o.stopAlarm = nil
		}
		o.alarmAt = at
		if at != 0 {
			d := time.UnixMilli(int64(at)).Sub(o.ns.cfg.Clock.Now())
			o.stopAlarm = o.ns.cfg.Clock.AfterFunc(d, o.runAlarm)
		}
	}
}

// drop removes o from its namespace, which remembers its versions.
func (o *resident) drop() {
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
func (o *resident) runAlarm() {
	o.turn <- struct{}{}
	if o.dropped || o.ns.closed.Load() {
		<-o.turn
		return
	}
	o.alarmAt, o.stopAlarm = 0, nil // this timer has fired
	if err := o.actor.Alarm(); err != nil {
		o.stopAlarm = o.ns.cfg.Clock.AfterFunc(time.Second, o.runAlarm)
		o.alarmAt, _ = o.engine.Alarm()
	} else {
		o.notify()
	}
	o.release()
}

// memoryEngine is the in-memory engine as a host sees it.
type memoryEngine struct{ *storage.Memory }

func (m memoryEngine) Alarm() (uint64, error) { return m.Memory.Alarm(), nil }

// Memory is the storage of the in-memory host: an object's records live
// as long as it is resident, so nothing is stored outside it.
type Memory struct{}

// Engine implements Storage: a new, empty engine.
func (Memory) Engine(driver.ObjectID) (Engine, error) { return memoryEngine{storage.NewMemory()}, nil }

// Stored implements Storage: never.
func (Memory) Stored(driver.ObjectID) (bool, error) { return false, nil }
