package dokvtest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/dokv/dokv"
	"github.com/dokv/dokv/driver"
	"github.com/dokv/dokv/worker"
)

// errNotWatchable is the error of a watch through a FaultyNamespace whose
// wrapped namespace cannot watch.
var errNotWatchable = fmt.Errorf("%w: the wrapped namespace's objects cannot be watched", dokv.ErrUnsupported)

// Faults are the failures a FaultyNamespace injects, each with the
// probability of happening to one call. They model what Cloudflare's runtime
// does to Durable Object calls, so that code can be tested against them.
type Faults struct {
	// Seed makes the injected faults a deterministic sequence: the same
	// seed and the same order of calls give the same faults.
	Seed uint64
	// Reset drops the object's in-memory actor state before the call, as an
	// eviction or restart does; storage is kept. It needs a namespace with
	// a Reset(driver.ObjectID) method, such as *dokv.MemoryNamespace.
	Reset float64
	// Overloaded refuses the call with dokv.ErrOverloaded; the request does not
	// run.
	Overloaded float64
	// Unavailable fails the call with dokv.ErrUnavailable before the request
	// runs. The caller cannot tell that it did not run.
	Unavailable float64
	// LostReply runs the request, then fails the call with
	// dokv.ErrUnknownOutcome, as a connection lost after the object acted would.
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

// FaultyNamespace wraps a driver.Namespace and injects Faults into its calls. It is
// safe for concurrent use.
type FaultyNamespace struct {
	inner  driver.Namespace
	faults Faults

	mu     sync.Mutex
	rng    *rand.Rand
	counts FaultCounts
}

// WithFaults returns ns with faults injected into every call.
func WithFaults(ns driver.Namespace, faults Faults) *FaultyNamespace {
	return &FaultyNamespace{inner: ns, faults: faults, rng: rand.New(rand.NewPCG(faults.Seed, faults.Seed^0x9e3779b97f4a7c15))}
}

// IDFromName implements driver.Namespace.
func (f *FaultyNamespace) IDFromName(name string) driver.ObjectID { return f.inner.IDFromName(name) }

// Now implements driver.Clocked: the wrapped namespace's time, or the
// system's.
func (f *FaultyNamespace) Now() time.Time {
	if c, ok := f.inner.(driver.Clocked); ok {
		return c.Now()
	}
	return time.Now()
}

// ForwardWebSocket implements driver.WebSocketForwarder without faults,
// when the wrapped namespace does: browsers' watches reach its objects as
// they would without the wrapper.
func (f *FaultyNamespace) ForwardWebSocket(w *worker.ResponseWriter, r *worker.Request, id driver.ObjectID, url string) error {
	fw, ok := f.inner.(driver.WebSocketForwarder)
	if !ok {
		return fmt.Errorf("%w: the wrapped namespace cannot hand a WebSocket to its objects", errors.ErrUnsupported)
	}
	return fw.ForwardWebSocket(w, r, id, url)
}

// Get implements driver.Namespace.
func (f *FaultyNamespace) Get(id driver.ObjectID) driver.Stub {
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
	id   driver.ObjectID
	next driver.Stub
}

type resetter interface{ Reset(driver.ObjectID) }

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
		return nil, fmt.Errorf("%w: injected fault", dokv.ErrOverloaded)
	case p.unavailable:
		return nil, fmt.Errorf("%w: injected fault before the request ran", dokv.ErrUnavailable)
	}
	reply, err := s.next.Call(ctx, request)
	if err == nil && p.lostReply {
		return nil, fmt.Errorf("%w: injected fault after the request ran", dokv.ErrUnknownOutcome)
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

// Watch implements driver.Watcher without faults: a FaultyNamespace
// injects faults into calls only.
func (s faultyStub) Watch(ctx context.Context, key string, after uint64, resume bool) (driver.WatchStream, error) {
	ws, ok := s.next.(driver.Watcher)
	if !ok {
		return nil, errNotWatchable
	}
	return ws.Watch(ctx, key, after, resume)
}

// Emit implements driver.Watcher without faults.
func (s faultyStub) Emit(ctx context.Context, key string, event []byte) error {
	ws, ok := s.next.(driver.Watcher)
	if !ok {
		return errNotWatchable
	}
	return ws.Emit(ctx, key, event)
}
