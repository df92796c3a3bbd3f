// Package dokv is a typed, strongly consistent key-value store whose state
// lives in Cloudflare Durable Objects, for Workers written in Go. It is the
// Go counterpart of the npm package @uploadista/kv-store-cloudflare-do.
//
// A Store[T] validates keys and sizes, encodes values with a Codec (JSON by
// default), routes each key to an object of a Namespace, and sends the
// object one small binary request. The object runs requests one at a time
// against its storage, so each key's history is a single sequence and
// operations on a key are linearizable.
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
//   - ObjectNamedByKey: one object per key, named by the key itself, as
//     TypeScript code reaches it with ns.get(ns.idFromName(key)): the
//     layout of @uploadista/kv-store-cloudflare-do's records.
//
// A hash tag is Redis Cluster's: in "{upload-1}/chunk/7" only "upload-1" is
// hashed, so every key tagged {upload-1} lands in one object and can change
// atomically with the others. Store.ObjectName says where a key lives.
//
// # Versions and CompareAndSwap
//
// Every key has a version. 0 means absent; every write of a key gives it a
// version larger than any it had before, even across a delete. GetEntry
// returns the version; CompareAndSwap writes only if the version is still
// the one the caller read (0: only if absent) and otherwise fails with
// ErrConflict, writing nothing. Update is the read-modify-write loop built
// on the two, retried on conflict until it succeeds or its context ends.
// Versions are at least the object's time in microseconds, so they keep
// growing when an object gives its storage back and is written again.
//
// # Transactions
//
// Store.Txn builds an atomic write of up to MaxTxnKeys keys in one object:
// version checks, sets and deletes that all apply or none do. Keys that
// route to different objects are refused with ErrCrossObject before anything
// is sent. List reads each page consistently from one object, but a whole
// listing is not a snapshot.
//
// # Watch
//
// Store.Watch follows a key: its state, then every change and every event
// that Store.Emit sends to it, in the order the object applied them. Each
// item carries a position (WatchEvent.At); WithResumeAfter resumes after one
// without missing a change while it is in the object's change log.
// Store.ServeWatch hands a browser's WebSocket to the key's object, which
// holds it with the WebSocket Hibernation API. A slow Go watcher is dropped
// (ErrLagging) and never holds up writers.
//
// # Lifecycle
//
// WithTTL, Store.WithTTLFunc and Store.SetWithTTL make keys expire: an
// expired key is absent at once, and its object's alarm removes it.
// WithFlowJobRetention lets finished flow jobs expire. An object left
// without keys gives its storage back. Stats and ObjectStats report each
// object's keys, bytes and storage, and flag objects near Cloudflare's
// limit (StorageWarnBytes).
//
// # Errors
//
// Every failure, except a context's own error for a call that was not sent
// (or a read cut off), is an *Error naming the operation, the key and the
// object, and wrapping one sentinel: ErrNotFound, ErrConflict,
// ErrInvalidKey, ErrValueTooLarge, ErrTooManyKeys, ErrCrossObject,
// ErrUnsupported, ErrInvalidArgument, ErrDecode, ErrProtocol, ErrObject,
// ErrLagging, or for a failed call ErrOverloaded, ErrUnavailable or
// ErrUnknownOutcome. Test them with errors.Is. Requests that break a limit
// (MaxKeyBytes, MaxEntryBytes, MaxTxnKeys) fail before they are sent.
//
// A call can fail without a reply. ErrOverloaded: the object refused it; it
// is never retried. ErrUnavailable: the runtime judged the failure
// transient; idempotent requests (reads, unconditional writes) are retried
// with a new stub under WithRetry's policy. ErrUnknownOutcome: the request
// may or may not have run; conditional writes are never re-sent, and Update
// re-reads to decide safely. A write cut off by its context after it was
// sent matches both ErrUnknownOutcome and the context's error.
//
// # Workers
//
// Inside a Worker (GOOS=js GOARCH=wasm), the Durable Object class is written
// in Go too: the same object code, over the object's SQLite storage.
// WorkersNamespace reaches the objects over Workers RPC, and package worker
// serves the Worker's fetch handler and the DokvObject class from one Go
// instance per isolate. Use the request's context for store calls in a
// handler: a call with any other context fails with ErrInvalidArgument
// before it is sent. The command cmd/dokv writes the JavaScript entry
// module and wrangler.toml, builds the wasm, and serves it on workerd.
//
// # Packages
//
//   - driver: the contract a Namespace implements, for drivers written
//     outside dokv.
//   - worker: Serve, Handler, Request and ResponseWriter, the lean fetch
//     handler form; worker/workerhttp serves an http.Handler instead.
//   - backup: Export and Import as JSON Lines, Verify, Reshard between
//     partitionings, and AdminHandler for `dokv export` and `dokv import`.
//   - dokvtest: RunConformanceTests, the suite every namespace passes;
//     WithFaults, which injects Cloudflare's failures; ManualClock.
package dokv
