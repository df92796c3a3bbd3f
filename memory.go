package dokv

import (
	"time"

	"github.com/dokv/dokv/driver"
	"github.com/dokv/dokv/internal/host"
	"github.com/dokv/dokv/worker"
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
	host  *host.Namespace
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
	ns := &MemoryNamespace{clock: SystemClock()}
	for _, opt := range opts {
		opt(ns)
	}
	ns.host = host.New(host.Config{
		Class: memoryNamespaceClass, Clock: ns.clock, Storage: host.Memory{},
		ErrInvalidArgument: ErrInvalidArgument, ErrOverloaded: ErrOverloaded, ErrObject: ErrObject,
	})
	return ns
}

// memoryNamespaceClass is mixed into every ID so that IDs depend on the
// namespace as well as the name, as Cloudflare's do.
const memoryNamespaceClass = "dokv.MemoryNamespace\x00"

// IDFromName implements Namespace: the SHA-256 of the namespace's class and
// the name.
func (ns *MemoryNamespace) IDFromName(name string) ObjectID { return ns.host.IDFromName(name) }

// Now implements driver.Clocked: the time of the clock given WithClock,
// else the system's.
func (ns *MemoryNamespace) Now() time.Time { return ns.clock.Now() }

// Get implements Namespace. The stub is also a driver.Watcher.
func (ns *MemoryNamespace) Get(id ObjectID) driver.Stub { return ns.host.Get(id) }

// ForwardWebSocket implements driver.WebSocketForwarder in process: when
// r came through workerhttp.FromHandler (over HTTP/1.1), it takes over its
// connection and serves the browser's watch as the Durable Object does on
// Workers, returning when the watch ends. Otherwise it fails with an error
// wrapping errors.ErrUnsupported (ServeWatch answers 501).
func (ns *MemoryNamespace) ForwardWebSocket(w *worker.ResponseWriter, r *worker.Request, id ObjectID, url string) error {
	return ns.host.ForwardWebSocket(w, r, id, url)
}

// Objects reports how many objects hold keys (or watchers): the objects
// that would hold storage on Cloudflare.
func (ns *MemoryNamespace) Objects() int { return ns.host.Objects() }

// Reset drops the in-memory state of the object's actor and keeps its
// storage, as Cloudflare does when it evicts or restarts an object. It waits
// for the request the object is running.
func (ns *MemoryNamespace) Reset(id ObjectID) {
	_ = ns.host.Reset(id) // memory storage cannot fail
}
