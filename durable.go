package dokv

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/dokv/dokv/internal/object"
	"github.com/dokv/dokv/internal/protocol"
	"github.com/dokv/dokv/internal/storage"
	"github.com/dokv/dokv/internal/workers"
)

// Namespace is a Durable Object namespace: a class of objects addressed by
// name. Implementations must be safe for concurrent use.
//
// dokv ships two: NewMemoryNamespace, in process, and WorkersNamespace, the
// Durable Object binding of a Worker.
type Namespace interface {
	// IDFromName derives the ID of the object with the given name. It is
	// deterministic: the same name in the same namespace gives the same ID.
	IDFromName(name string) ObjectID
	// Get returns a stub for the object. Getting a stub sends nothing; the
	// object exists once a call reaches it.
	Get(id ObjectID) Stub
}

// Stub carries requests to one object.
type Stub interface {
	// Call sends one encoded request to the object and returns its encoded
	// reply. The object runs its requests one at a time. Call does not
	// keep request after it returns. An error means the request may or may
	// not have run; a reply, even one reporting a failure, means it ran.
	Call(ctx context.Context, request []byte) (reply []byte, err error)
}

// ObjectID identifies an object within a namespace: 32 bytes, written as 64
// lowercase hex digits like a Durable Object ID.
type ObjectID [32]byte

// String returns the ID as 64 lowercase hex digits.
func (id ObjectID) String() string { return hex.EncodeToString(id[:]) }

// ParseObjectID parses the 64-hex-digit form that String returns.
func ParseObjectID(s string) (ObjectID, error) {
	var id ObjectID
	if len(s) != 2*len(id) {
		return id, fmt.Errorf("%w: object ID %q is not 64 hex digits", ErrInvalidArgument, s)
	}
	if _, err := hex.Decode(id[:], []byte(s)); err != nil {
		return id, fmt.Errorf("%w: object ID %q: %v", ErrInvalidArgument, s, err)
	}
	return id, nil
}

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

// Clock implements Clocked: the clock given WithClock, else SystemClock.
func (ns *MemoryNamespace) Clock() Clock { return ns.clock }

// Get implements Namespace.
func (ns *MemoryNamespace) Get(id ObjectID) Stub {
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

// callError maps the flags of a rejected Workers RPC call to dokv's
// sentinels, following Cloudflare's guidance: an overloaded object must not
// be retried; a retryable failure may be retried if the request is
// idempotent; anything else leaves the outcome unknown.
func callError(ce *workers.CallError) error {
	switch {
	case ce.Overloaded:
		return fmt.Errorf("%w: %s", ErrOverloaded, ce.Message)
	case ce.Retryable:
		return fmt.Errorf("%w: %s", ErrUnavailable, ce.Message)
	default:
		return fmt.Errorf("%w: %s", ErrUnknownOutcome, ce.Message)
	}
}

// Faults are the failures a FaultyNamespace injects, each with the
// probability of happening to one call. They model what Cloudflare's runtime
// does to Durable Object calls, so that code can be tested against them.
type Faults struct {
	// Seed makes the injected faults a deterministic sequence: the same
	// seed and the same order of calls give the same faults.
	Seed uint64
	// Reset drops the object's in-memory actor state before the call, as an
	// eviction or restart does; storage is kept. It needs a namespace with
	// a Reset(ObjectID) method, such as *MemoryNamespace.
	Reset float64
	// Overloaded refuses the call with ErrOverloaded; the request does not
	// run.
	Overloaded float64
	// Unavailable fails the call with ErrUnavailable before the request
	// runs. The caller cannot tell that it did not run.
	Unavailable float64
	// LostReply runs the request, then fails the call with
	// ErrUnknownOutcome, as a connection lost after the object acted would.
	LostReply float64
	// MaxLatency delays each call by a random duration up to it.
	MaxLatency time.Duration
	// SlowReply delays the reply of every call that ran by this long. A
	// context that ends meanwhile gets its error although the request ran,
	// as when a deadline passes while the reply is on its way.
	SlowReply time.Duration
}

// FaultCounts reports how many faults a FaultyNamespace injected.
type FaultCounts struct {
	Calls, Resets, Overloaded, Unavailable, LostReplies int64
}

// FaultyNamespace wraps a Namespace and injects Faults into its calls. It is
// safe for concurrent use.
type FaultyNamespace struct {
	inner  Namespace
	faults Faults

	mu     sync.Mutex
	rng    *rand.Rand
	counts FaultCounts
}

// WithFaults returns ns with faults injected into every call.
func WithFaults(ns Namespace, faults Faults) *FaultyNamespace {
	return &FaultyNamespace{inner: ns, faults: faults, rng: rand.New(rand.NewPCG(faults.Seed, faults.Seed^0x9e3779b97f4a7c15))}
}

// IDFromName implements Namespace.
func (f *FaultyNamespace) IDFromName(name string) ObjectID { return f.inner.IDFromName(name) }

// Clock implements Clocked: the wrapped namespace's clock, or SystemClock.
func (f *FaultyNamespace) Clock() Clock {
	if c, ok := f.inner.(Clocked); ok {
		return c.Clock()
	}
	return SystemClock()
}

// Get implements Namespace.
func (f *FaultyNamespace) Get(id ObjectID) Stub {
	return faultyStub{ns: f, id: id, next: f.inner.Get(id)}
}

// Counts reports the faults injected so far.
func (f *FaultyNamespace) Counts() FaultCounts {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.counts
}

// plan draws the faults of one call.
type plan struct {
	reset, overloaded, unavailable, lostReply bool
	latency                                   time.Duration
}

func (f *FaultyNamespace) draw() plan {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.counts.Calls++
	var p plan
	p.reset = f.rng.Float64() < f.faults.Reset
	p.overloaded = f.rng.Float64() < f.faults.Overloaded
	p.unavailable = f.rng.Float64() < f.faults.Unavailable
	p.lostReply = f.rng.Float64() < f.faults.LostReply
	if f.faults.MaxLatency > 0 {
		p.latency = time.Duration(f.rng.Int64N(int64(f.faults.MaxLatency) + 1))
	}
	switch {
	case p.overloaded:
		f.counts.Overloaded++
	case p.unavailable:
		f.counts.Unavailable++
	case p.lostReply:
		f.counts.LostReplies++
	}
	if p.reset {
		f.counts.Resets++
	}
	return p
}

type faultyStub struct {
	ns   *FaultyNamespace
	id   ObjectID
	next Stub
}

type resetter interface{ Reset(ObjectID) }

func (s faultyStub) Call(ctx context.Context, request []byte) ([]byte, error) {
	p := s.ns.draw()
	if p.latency > 0 {
		t := time.NewTimer(p.latency)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		}
	}
	if r, ok := s.ns.inner.(resetter); ok && p.reset {
		r.Reset(s.id)
	}
	switch {
	case p.overloaded:
		return nil, fmt.Errorf("%w: injected fault", ErrOverloaded)
	case p.unavailable:
		return nil, fmt.Errorf("%w: injected fault before the request ran", ErrUnavailable)
	}
	reply, err := s.next.Call(ctx, request)
	if err == nil && p.lostReply {
		return nil, fmt.Errorf("%w: injected fault after the request ran", ErrUnknownOutcome)
	}
	if err == nil && s.ns.faults.SlowReply > 0 {
		t := time.NewTimer(s.ns.faults.SlowReply)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return reply, err
}
