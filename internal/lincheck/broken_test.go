package lincheck

import (
	"context"
	"math/rand/v2"
	"sync"

	"github.com/dokv/dokv"
	"github.com/dokv/dokv/driver"
	"github.com/dokv/dokv/internal/object"
	"github.com/dokv/dokv/internal/protocol"
	"github.com/dokv/dokv/internal/storage"
)

// Deliberately broken namespaces, each with a bug a real one could have,
// to show that the check finds them.

// staleReads serves some Gets an old reply for the key, as a read cache
// that is not invalidated on writes would.
type staleReads struct {
	inner dokv.Namespace
	p     float64

	mu    sync.Mutex
	rng   *rand.Rand
	cache map[string][]byte
}

func newStaleReads(p float64) *staleReads {
	return &staleReads{inner: dokv.NewMemoryNamespace(), p: p, rng: rand.New(rand.NewPCG(1, 2)), cache: make(map[string][]byte)}
}

func (n *staleReads) IDFromName(name string) dokv.ObjectID { return n.inner.IDFromName(name) }
func (n *staleReads) Get(id dokv.ObjectID) driver.Stub     { return staleStub{n, n.inner.Get(id)} }

type staleStub struct {
	ns   *staleReads
	next driver.Stub
}

func (s staleStub) Call(ctx context.Context, request []byte) ([]byte, error) {
	req, err := protocol.DecodeRequest(request)
	if err != nil || req.Op != protocol.OpGet {
		return s.next.Call(ctx, request)
	}
	n := s.ns
	n.mu.Lock()
	old, cached := n.cache[req.Key]
	stale := cached && n.rng.Float64() < n.p
	n.mu.Unlock()
	if stale {
		return old, nil
	}
	reply, err := s.next.Call(ctx, request)
	if err == nil {
		n.mu.Lock()
		if !cached || n.rng.Float64() < 0.1 { // keep replies around for a while
			n.cache[req.Key] = reply
		}
		n.mu.Unlock()
	}
	return reply, err
}

// unconditional drops the condition of some conditional writes, as an
// object that applied a CAS regardless of the version would.
type unconditional struct {
	inner dokv.Namespace
	p     float64

	mu  sync.Mutex
	rng *rand.Rand
}

func newUnconditional(p float64) *unconditional {
	return &unconditional{inner: dokv.NewMemoryNamespace(), p: p, rng: rand.New(rand.NewPCG(3, 4))}
}

func (n *unconditional) IDFromName(name string) dokv.ObjectID { return n.inner.IDFromName(name) }
func (n *unconditional) Get(id dokv.ObjectID) driver.Stub {
	return unconditionalStub{n, n.inner.Get(id)}
}

type unconditionalStub struct {
	ns   *unconditional
	next driver.Stub
}

func (s unconditionalStub) Call(ctx context.Context, request []byte) ([]byte, error) {
	req, err := protocol.DecodeRequest(request)
	if err != nil || req.Op != protocol.OpWrite {
		return s.next.Call(ctx, request)
	}
	s.ns.mu.Lock()
	drop := s.ns.rng.Float64() < s.ns.p
	s.ns.mu.Unlock()
	if !drop {
		return s.next.Call(ctx, request)
	}
	for i := range req.Mutations {
		req.Mutations[i].HasCondition = false
	}
	return s.next.Call(ctx, protocol.AppendRequest(nil, &req))
}

// forgetfulCounter runs dokv's object code over a storage engine that does
// not keep the last version handed out but derives it from the records it
// holds, and resets objects at random: after a key with the highest version
// is deleted and the object restarts, versions are handed out again.
type forgetfulCounter struct {
	reset float64

	mu      sync.Mutex
	rng     *rand.Rand
	objects map[dokv.ObjectID]*forgetfulObject
}

type forgetfulObject struct {
	mu     sync.Mutex
	engine *forgetfulEngine
	actor  *object.Object
}

// forgetfulEngine is storage.Memory whose LastVersion is the highest version
// of a live record.
type forgetfulEngine struct{ *storage.Memory }

func (e forgetfulEngine) LastVersion() (uint64, error) {
	recs, _, err := e.Scan("", "", protocol.MaxListLimit, protocol.MaxReplyBytes, 0)
	var last uint64
	for _, r := range recs {
		last = max(last, r.Version)
	}
	return last, err
}

func (e forgetfulEngine) SetLastVersion(uint64) error { return nil }

func newForgetfulCounter(reset float64) *forgetfulCounter {
	return &forgetfulCounter{reset: reset, rng: rand.New(rand.NewPCG(5, 6)), objects: make(map[dokv.ObjectID]*forgetfulObject)}
}

func (n *forgetfulCounter) IDFromName(name string) dokv.ObjectID {
	return dokv.NewMemoryNamespace().IDFromName(name)
}

func (n *forgetfulCounter) Get(id dokv.ObjectID) driver.Stub { return forgetfulStub{n, id} }

type forgetfulStub struct {
	ns *forgetfulCounter
	id dokv.ObjectID
}

func (s forgetfulStub) Call(ctx context.Context, request []byte) ([]byte, error) {
	n := s.ns
	n.mu.Lock()
	o, ok := n.objects[s.id]
	if !ok {
		e := &forgetfulEngine{storage.NewMemory()}
		o = &forgetfulObject{engine: e, actor: object.New(e, stoppedClock)}
		n.objects[s.id] = o
	}
	reset := n.rng.Float64() < n.reset
	n.mu.Unlock()
	o.mu.Lock()
	defer o.mu.Unlock()
	if reset {
		o.actor = object.New(o.engine, stoppedClock)
	}
	return o.actor.Handle(request), nil
}

// failing fails every call with an error that is not one of dokv's call
// failures.
type failing struct{ dokv.Namespace }

func (n failing) Get(id dokv.ObjectID) driver.Stub { return failingStub{} }

type failingStub struct{}

// Call answers with a reply the client cannot decode: an ErrProtocol that
// no model of a working store allows. (A plain error would be an unknown
// outcome, which the model does allow.)
func (failingStub) Call(context.Context, []byte) ([]byte, error) {
	return []byte("connection refused"), nil
}

// stoppedClock keeps the time floor of versions out of the way: with it,
// only the engine's memory of versions keeps them monotonic, and the
// forgetful engine's forgetting shows.
var stoppedClock = object.WithClock(func() uint64 { return 0 })
