// Package dokv is a typed, strongly consistent key-value store whose state
// lives in Cloudflare Durable Objects, for Workers written in Go.
//
// A Store[T] validates keys and sizes, encodes values with a Codec (JSON by
// default), routes each key to an object of a Namespace, and sends the
// object one small binary request. The object runs requests one at a time
// against its storage, so each key's history is a single sequence.
//
//	jobs, err := dokv.NewFlowJobStore(dokv.NewMemoryNamespace())
//	err = jobs.Set(ctx, job.ID, job)
//	job, err = jobs.Get(ctx, id) // errors.Is(err, dokv.ErrNotFound) on a miss
//
// The same code runs in a Worker over WorkersNamespace, and in tests and
// local programs over NewMemoryNamespace, which runs the very object code
// that the Durable Object runs.
//
// # Partitioning
//
// WithPartitioning decides which object holds a key:
//
//   - PerKey (the default): one object per key. No shared bottleneck; no
//     List; transactions only over keys with a common hash tag.
//   - SingleObject(name): one object for the store. List and transactions
//     over any keys, at one object's throughput.
//   - HashShards(n): n objects chosen by a stable hash. List merges the
//     shards in key order; transactions need a common hash tag.
//
// A hash tag is Redis Cluster's: in "{upload-1}/chunk/7" only "upload-1" is
// hashed, so every key tagged {upload-1} lands in one object and can change
// atomically with the others.
//
// # Versions and CompareAndSwap
//
// Every key has a version. 0 means absent; every write of a key gives it a
// version larger than any it had before, even across a delete. GetEntry
// returns the version; CompareAndSwap writes only if the version is still
// the one the caller read (0: only if absent) and otherwise fails with
// ErrConflict, writing nothing. Update is the read-modify-write loop built
// on the two, retried on conflict until it succeeds or its context ends.
//
// Versions are at least the object's time in microseconds, so they keep
// growing when an object gives its storage back and is written again.
//
// # Lifecycle
//
// WithTTL, WithTTLFunc and SetWithTTL make keys expire: an expired key is
// absent at once, and its object's alarm removes it. FlowJobRetention lets
// finished flow jobs expire. An object left without keys gives its storage
// back. Export, Import, Verify and Reshard move a store's entries as JSON
// Lines, also between partitionings; AdminHandler serves them to
// `dokv export` and `dokv import` behind a secret.
//
// # Transactions
//
// Store.Txn builds an atomic write of up to MaxTxnKeys keys in one object:
// version checks, sets and deletes that all apply or none do. Keys that
// route to different objects are refused with ErrCrossObject before anything
// is sent.
//
// # Consistency
//
// Operations on a key are linearizable: an object runs one request at a time
// and every operation on a key goes to that key's one object. List reads
// each page consistently from one object but is not a snapshot of the whole
// store.
//
// # Errors
//
// Every failure, except a context's own error for a call that was not sent
// (or a read cut off), is an *Error naming the operation, the key and the
// object, and wrapping one sentinel: ErrNotFound, ErrConflict,
// ErrInvalidKey, ErrValueTooLarge, ErrTooManyKeys, ErrCrossObject,
// ErrUnsupported, ErrInvalidArgument, ErrDecode, ErrProtocol, ErrObject,
// ErrOverloaded, ErrUnavailable or ErrUnknownOutcome. Test them with
// errors.Is. A write cut off by its context after it was sent matches both
// ErrUnknownOutcome and the context's error; a Stub's own error becomes
// ErrUnknownOutcome wrapping it. Requests that break a limit (MaxKeyBytes,
// MaxEntryBytes, MaxTxnKeys) fail before they are sent and change nothing.
//
// # Retries and faults
//
// A call to an object can fail without a reply. ErrOverloaded: the object
// refused it; it is never retried. ErrUnavailable: the runtime judged the
// failure transient; idempotent requests (reads, unconditional writes) are
// retried with a new stub under WithRetry's policy. ErrUnknownOutcome: the
// request may or may not have run; conditional writes are never re-sent,
// and Update re-reads to decide safely. WithFaults injects each of these,
// plus object resets and latency, deterministically under a seed, so that
// code can be tested against them on the in-memory namespace.
//
// # Workers
//
// Inside a Worker (GOOS=js GOARCH=wasm), the Durable Object class is written
// in Go too: the same object code, over the object's SQLite storage.
// WorkersNamespace reaches the objects over Workers RPC, and Serve serves the
// Worker's fetch handler (a Handler: dokv's lean form, with no net/http) and
// the DokvObject class from one Go instance per isolate; package dokvhttp
// serves an http.Handler instead. cmd/dokv writes the JavaScript entry
// module and configs. Use the request's context (r.Context()) for store
// calls in a handler: it carries the request whose JavaScript context makes
// the calls, and a call with any other context fails with
// ErrInvalidArgument before it is sent.
package dokv
