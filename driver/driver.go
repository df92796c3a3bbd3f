// Package driver defines the contract between dokv's Store and a namespace
// of objects: what a Namespace implements so that a dokv.Store can run over
// it. dokv ships three implementations (in memory, Durable Objects on
// Workers, and the fault injector of package dokvtest); anyone may write
// another, and prove it with dokvtest.RunConformanceTests.
//
// A namespace is thin: it carries bytes. The Store validates arguments,
// encodes values, routes keys to objects, retries what is safe to retry and
// maps errors; the objects run dokv's own actor, which decodes a request,
// applies it atomically and encodes the reply. So a namespace must
//
//   - derive a stable ID from a name (IDFromName);
//   - run each object's requests one at a time, and different objects in
//     parallel, each request whole or not at all (Stub.Call);
//   - optionally, let Stores watch keys (Watcher), hand a browser's
//     WebSocket to an object (WebSocketForwarder), and tell the time its
//     objects keep (Clocked).
//
// Errors: an error wrapping one of dokv's sentinel errors (such as
// dokv.ErrOverloaded or dokv.ErrUnavailable) keeps its meaning, and the
// Store retries ErrUnavailable where that is safe; any other error of a
// Call means the request may or may not have run (dokv.ErrUnknownOutcome).
// A context error is returned as it is.
package driver

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/dokv/dokv/worker"
)

// Namespace is a Durable Object namespace: a class of objects addressed by
// name. Implementations must be safe for concurrent use.
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

// Watcher is a Stub whose object can be watched: Store.Watch and
// Store.Emit need it, and fail with dokv.ErrUnsupported without it.
type Watcher interface {
	Stub
	// Watch starts a watch of a stored key: after a start message, the
	// stream carries one JSON message per change of the key and per event
	// emitted to it, as the object's actor writes them; a close message
	// ends it. With resume, it resumes after position after.
	Watch(ctx context.Context, key string, after uint64, resume bool) (WatchStream, error)
	// Emit delivers an event (JSON) to the watchers of a stored key.
	Emit(ctx context.Context, key string, event []byte) error
}

// WatchStream is an open watch.
type WatchStream interface {
	// Next returns the next message, waiting for it until ctx ends.
	Next(ctx context.Context) ([]byte, error)
	// Close ends the watch. It may be called more than once.
	Close()
}

// WebSocketForwarder is a Namespace whose objects accept browsers'
// WebSockets themselves: Store.ServeWatch needs it, and answers 501
// without it. On Workers, Durable Objects accept them with the Hibernation
// API; in process, the memory and local namespaces take over the
// connection of a request served under net/http by
// workerhttp.FromHandler, and serve the watch until it ends.
type WebSocketForwarder interface {
	// ForwardWebSocket answers r, a WebSocket upgrade, with the response of
	// object id's fetch handler to url. It writes nothing to w when it
	// fails. An error wrapping errors.ErrUnsupported means r cannot be
	// handed over (in process: it did not come through FromHandler, so
	// there is no connection to take over); ServeWatch answers it 501.
	ForwardWebSocket(w *worker.ResponseWriter, r *worker.Request, id ObjectID, url string) error
}

// Clocked is a Namespace whose objects keep the time of a clock other than
// the system's, such as a MemoryNamespace made with dokv.WithClock. A Store
// reads that clock where it must agree with the objects: an import works out
// what remains of an exported expiry by it.
type Clocked interface {
	Now() time.Time
}

// ObjectID identifies an object within a namespace: 32 bytes, written as 64
// lowercase hex digits like a Durable Object ID.
type ObjectID [32]byte

// String returns the ID as 64 lowercase hex digits.
func (id ObjectID) String() string { return hex.EncodeToString(id[:]) }

// ErrBadObjectID is the error of ParseObjectID for text that is not an ID.
var ErrBadObjectID = errors.New("driver: not an object ID")

// ParseObjectID parses the 64-hex-digit form that String returns.
func ParseObjectID(s string) (ObjectID, error) {
	var id ObjectID
	if len(s) != 2*len(id) {
		return id, fmt.Errorf("%w: %q is not 64 hex digits", ErrBadObjectID, s)
	}
	if _, err := hex.Decode(id[:], []byte(s)); err != nil {
		return id, fmt.Errorf("%w: %q: %v", ErrBadObjectID, s, err)
	}
	return id, nil
}
