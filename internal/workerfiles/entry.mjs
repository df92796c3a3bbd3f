// dokv entry module. Written by `go run github.com/dokv/dokv/cmd/dokv`; do not
// edit: regenerate it with the dokv version your Worker is built with.
//
// It exports the Worker's fetch handler and the Durable Object class
// DokvObject. Both forward to one long-lived Go instance per isolate (Go's
// own wasm_exec.js runs app.wasm). Data crosses between JS and Go as bytes
// in Go's linear memory, through //go:wasmimport functions (the `dokv`
// imports below) and //go:wasmexport functions (instance exports dokv*), so
// the hot path creates no syscall/js values and no per-request callbacks.
import { DurableObject, env as moduleEnv } from "cloudflare:workers";
import "./wasm_exec.js";
import wasmModule from "./app.wasm";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const EMPTY = new Uint8Array(0);

// syumai/workers' cloudflare package (Getenv, KV, R2, D1) reads `env` and
// `ctx` from globalThis.context, an object it captures once at Go's package
// initialisation. It must exist before Go starts and must never be replaced;
// its properties are set before each entry into Go.
const runtimeContext = { env: undefined, ctx: undefined, binding: {} };
globalThis.context = runtimeContext;
globalThis.tryCatch = (fn) => {
  try {
    return { result: fn() };
  } catch (e) {
    return { error: e };
  }
};

// The size of the Go instance's linear memory, for tests and load runs that
// check that memory stays flat; and how many fetch handlers are running,
// for tests that check that none is left waiting.
globalThis.__dokvMemoryBytes = () => (ex ? ex.mem.buffer.byteLength : 0);
globalThis.__dokvActiveRequests = () => activeRequests;
let activeRequests = 0;

let go = null; // the isolate's Go instance
let ex = null; // its exports
// C holds the limits, codes and names this module shares with Go, read
// from Go (dokvConstants) when the instance starts: Go is their one source.
let C = null;
let bindingFailure = ""; // why the last binding lookup failed, for a start failure's message
let generation = 0; // bumped on every Go start; object handles die with their instance
let lastEnv = undefined; // the env whose bindings Go's stubs use

const requests = new Map(); // fetch id -> Mailbox of that request
const objects = new Map(); // Go object handle -> its ObjectStorage
let nextRequest = 1;
let staged = EMPTY; // bytes a dokv import prepared for Go to take

// memory is a view of Go's linear memory. The view is kept until the
// memory grows (which replaces its buffer), so that the many reads and
// writes of a request do not each allocate one.
let memoryView = new Uint8Array(0);
function memory() {
  const buffer = ex.mem.buffer;
  if (memoryView.buffer !== buffer) memoryView = new Uint8Array(buffer);
  return memoryView;
}
function readString(ptr, len) {
  return decoder.decode(memory().subarray(ptr, ptr + len));
}
function readBytes(ptr, len) {
  return memory().slice(ptr, ptr + len);
}
// writeIn copies bytes into a Go-owned buffer of at least bytes.length and
// returns its address.
function writeIn(bytes) {
  const ptr = ex.dokvInput(bytes.length);
  memory().set(bytes, ptr);
  return ptr;
}
function errorBits(e) {
  return (e?.retryable ? 2 : 0) | (e?.overloaded ? 4 : 0) | (e?.remote ? 8 : 0) | (e?.durableObjectReset ? 16 : 0);
}

// stage keeps bytes for Go to copy with take(); it returns their length.
function stage(bytes) {
  staged = bytes;
  return bytes.length;
}

const imports = {
  // take copies the staged bytes into Go memory at ptr, if n is their
  // length; it returns 0, or -1 (copying nothing) if it is not, so that no
  // interleaving can hand one call's bytes to another.
  take(ptr, n) {
    const bytes = staged;
    staged = EMPTY;
    if (bytes.length !== n) return -1;
    memory().set(bytes, ptr);
    return 0;
  },

  // --- Worker side ---
  // respond hands a request its response. The Response is built by the
  // request's own handler (see fetch), in its own context: workerd ties
  // I/O objects to the request that made them, and Go may run here on
  // behalf of any request.
  respond(id, status, headPtr, headLen, bodyPtr, bodyLen) {
    requests.get(id)?.push({
      status,
      head: headLen > 0 ? readString(headPtr, headLen) : "",
      body: bodyLen > 0 ? readBytes(bodyPtr, bodyLen) : null,
    });
  },
  // requestHeader stages the value of header name of request id and
  // returns its length, or -1 if the request has no such header (or has
  // ended). Go reads headers on demand: most handlers read few or none.
  requestHeader(id, namePtr, nameLen) {
    const value = requests.get(id)?.request.headers.get(readString(namePtr, nameLen));
    return value == null ? -1 : stage(encoder.encode(value));
  },
  // requestHeaders stages every header of request id as "name:value\n"
  // lines and returns their length, or -1 if the request has ended.
  requestHeaders(id) {
    const box = requests.get(id);
    if (!box) return -1;
    let head = "";
    for (const [name, value] of box.request.headers) head += name + ":" + value + "\n";
    return stage(encoder.encode(head));
  },
  // idFromName stages the hex ID of name in the namespace bound as binding;
  // it returns the hex length, or -(message length) with a message staged.
  idFromName(bindingPtr, bindingLen, namePtr, nameLen) {
    try {
      const ns = namespace(readString(bindingPtr, bindingLen));
      return stage(encoder.encode(ns.idFromName(readString(namePtr, nameLen)).toString()));
    } catch (e) {
      return -stage(encoder.encode(String(e?.message ?? e)));
    }
  },
  // stubCall starts an RPC call to an object on behalf of the fetch request
  // requestId (Go refuses calls with none); when it settles, Go's
  // settle(token, bits, length) is invoked and take() hands over the reply
  // or the error message. bits: 1 ok, 2 retryable, 4 overloaded, 8 remote,
  // 16 durableObjectReset. The call is made by the request's own handler,
  // in its context.
  stubCall(token, requestId, bindingPtr, bindingLen, idPtr, idLen, reqPtr, reqLen) {
    queueCall(requestId, token, { binding: readString(bindingPtr, bindingLen), id: readString(idPtr, idLen), bytes: readBytes(reqPtr, reqLen) });
  },
  // stubWatch opens a watch of a stored key through the object's watch RPC
  // method (Store.Watch in a Worker's handler); the call settles with the
  // handle of the stream (u32), which streamRead reads one message at a
  // time and streamClose ends.
  stubWatch(token, requestId, bindingPtr, bindingLen, idPtr, idLen, keyPtr, keyLen, after, resume) {
    queueCall(requestId, token, {
      kind: "watch",
      binding: readString(bindingPtr, bindingLen),
      id: readString(idPtr, idLen),
      key: readString(keyPtr, keyLen),
      after,
      resume: resume !== 0,
    });
  },
  // stubEmit delivers an event (JSON) to the watchers of a stored key.
  stubEmit(token, requestId, bindingPtr, bindingLen, idPtr, idLen, keyPtr, keyLen, eventPtr, eventLen) {
    queueCall(requestId, token, {
      kind: "emit",
      binding: readString(bindingPtr, bindingLen),
      id: readString(idPtr, idLen),
      key: readString(keyPtr, keyLen),
      event: readString(eventPtr, eventLen),
    });
  },
  streamRead(token, requestId, stream) {
    queueCall(requestId, token, { kind: "read", stream });
  },
  streamClose(stream) {
    const reader = watchStreams.get(stream);
    watchStreams.delete(stream);
    reader?.cancel();
  },
  // forward answers request requestId with the response of the object's
  // fetch handler to url, sent with the request's headers: how a watch's
  // WebSocket upgrade reaches the object that accepts it.
  forward(requestId, bindingPtr, bindingLen, idPtr, idLen, urlPtr, urlLen) {
    requests.get(requestId)?.push({
      forward: { binding: readString(bindingPtr, bindingLen), id: readString(idPtr, idLen), url: readString(urlPtr, urlLen) },
    });
  },
  // --- Durable Object side: the object's SQLite storage ---
  // Each returns a non-negative result, or -(1 + message length) with the
  // error message staged: an exception must never unwind through Go.
  // Reads of an object that has no tables yet find nothing; the first write
  // creates them (see ObjectStorage).
  sqlGet(h, keyPtr, keyLen) {
    return guard(() => {
      const st = objects.get(h);
      if (!st.ready()) return stage(ABSENT);
      const row = st.sql.exec(SQL_GET, readString(keyPtr, keyLen)).raw().next();
      if (row.done) return stage(ABSENT);
      [lastVersion, , lastExpires] = row.value;
      return stage(new Uint8Array(row.value[1])) + 1;
    });
  },
  // sqlVersion and sqlExpires are the version and expiry of the record
  // sqlGet found.
  sqlVersion() {
    return lastVersion;
  },
  sqlExpires() {
    return lastExpires;
  },
  sqlPut(h, keyPtr, keyLen, version, valuePtr, valueLen, expires) {
    return guard(() => {
      objects.get(h).create().exec(SQL_PUT, readString(keyPtr, keyLen), version, readBytes(valuePtr, valueLen), expires);
      return 0;
    });
  },
  sqlDelete(h, keyPtr, keyLen) {
    return guard(() => {
      const st = objects.get(h);
      if (st.ready()) st.sql.exec(SQL_DELETE, readString(keyPtr, keyLen));
      return 0;
    });
  },
  // sqlScan stages up to limit records with key >= from, key > after and
  // key < to that have not expired at now, stopping once maxBytes of keys
  // and values are staged, and returns the staged length. Records: u32 key
  // length, key, f64 version, f64 expiry, u32 value length, value (little
  // endian); a final byte says whether more records may follow.
  sqlScan(h, fromPtr, fromLen, afterPtr, afterLen, toPtr, toLen, limit, maxBytes, now) {
    return guard(() => {
      const st = objects.get(h);
      if (!st.ready()) return stage(NO_MORE);
      const cursor = st.sql.exec(SQL_SCAN, readString(fromPtr, fromLen), readString(afterPtr, afterLen),
        readString(toPtr, toLen), limit + 1, now).raw();
      const parts = [];
      let size = 0, count = 0, more = false;
      for (const [key, version, value, expires] of cursor) {
        if (count === limit || (count > 0 && size >= maxBytes)) {
          more = true;
          break;
        }
        const k = encoder.encode(key);
        const v = new Uint8Array(value);
        parts.push(k, version, expires, v);
        size += k.length + v.length;
        count++;
      }
      const out = new Uint8Array(count * 24 + size + 1);
      const view = new DataView(out.buffer);
      let o = 0;
      for (let i = 0; i < parts.length; i += 4) {
        const k = parts[i], v = parts[i + 3];
        view.setUint32(o, k.length, true);
        out.set(k, o + 4);
        o += 4 + k.length;
        view.setFloat64(o, parts[i + 1], true);
        view.setFloat64(o + 8, parts[i + 2], true);
        view.setUint32(o + 16, v.length, true);
        out.set(v, o + 20);
        o += 20 + v.length;
      }
      out[o] = more ? 1 : 0;
      return stage(out);
    });
  },
  // sqlStats stages three f64 (little endian): the count of keys with
  // from <= key < to that have not expired at now, the bytes of those keys
  // and values, and the size of the object's database.
  sqlStats(h, fromPtr, fromLen, toPtr, toLen, now) {
    return guard(() => {
      const st = objects.get(h);
      const [keys, bytes] = st.ready()
        ? st.sql.exec(SQL_STATS, readString(fromPtr, fromLen), readString(toPtr, toLen), now).raw().next().value
        : [0, 0];
      return stage(new Uint8Array(new Float64Array([keys, bytes, st.sql.databaseSize]).buffer)) - 24;
    });
  },
  // sqlExpired stages up to limit keys, in key order, whose records expired
  // at or before now: u32 key length, key.
  sqlExpired(h, now, limit) {
    return guard(() => {
      const st = objects.get(h);
      if (!st.ready()) return stage(EMPTY);
      const keys = [];
      let size = 0;
      for (const [key] of st.sql.exec(SQL_EXPIRED, now, limit).raw()) {
        const k = encoder.encode(key);
        keys.push(k);
        size += 4 + k.length;
      }
      const out = new Uint8Array(size);
      const view = new DataView(out.buffer);
      let o = 0;
      for (const k of keys) {
        view.setUint32(o, k.length, true);
        out.set(k, o + 4);
        o += 4 + k.length;
      }
      return stage(out);
    });
  },
  // sqlNextExpiry is the earliest expiry of any record, 0 for none.
  sqlNextExpiry(h) {
    return guard(() => {
      const st = objects.get(h);
      return st.ready() ? (st.sql.exec(SQL_NEXT_EXPIRY).raw().next().value[0] ?? 0) : 0;
    });
  },
  // sqlEmpty is 1 if the object holds no record, 0 if it does.
  sqlEmpty(h) {
    return guard(() => {
      const st = objects.get(h);
      return st.ready() && !st.sql.exec(SQL_ANY).raw().next().done ? 0 : 1;
    });
  },
  // setAlarm sets the object's alarm for time at (Unix milliseconds), or
  // deletes it for 0. Called inside the request's transactionSync: the
  // alarm is part of the object's SQLite database, and rolls back with it.
  setAlarm(h, at) {
    return guard(() => {
      const { storage } = objects.get(h);
      settled(at === 0 ? storage.deleteAlarm() : storage.setAlarm(at));
      return 0;
    });
  },
  now() {
    return Date.now();
  },
  sqlLastVersion(h) {
    return guard(() => {
      const st = objects.get(h);
      if (!st.ready()) return 0;
      const row = st.sql.exec(SQL_META_GET).raw().next();
      return row.done ? 0 : row.value[0];
    });
  },
  sqlSetLastVersion(h, version) {
    return guard(() => {
      objects.get(h).create().exec(SQL_META_SET, version);
      return 0;
    });
  },
};
let lastVersion = 0;
let lastExpires = 0;
const ABSENT = new Uint8Array(0);
const NO_MORE = new Uint8Array([0]);

// settled keeps a storage promise that no one awaits from being reported as
// unhandled: on a SQLite-backed object the change it stands for is made
// when the call returns, and a failure fails the object's output gate.
function settled(promise) {
  promise?.catch?.(() => {});
}

function guard(fn) {
  try {
    return fn();
  } catch (e) {
    return -1 - stage(encoder.encode(String(e?.message ?? e) || "error"));
  }
}

// The object's table: key, version, value, and expiry (Unix milliseconds, 0
// for never; indexed for the alarm). TEXT keys compare as their UTF-8 bytes
// (SQLite's BINARY collation), which is the order List promises.
const SQL_SCHEMA = `
CREATE TABLE IF NOT EXISTS dokv_entries (key TEXT PRIMARY KEY, version INTEGER NOT NULL, value BLOB NOT NULL, expires INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS dokv_expiry ON dokv_entries (expires) WHERE expires > 0;
CREATE TABLE IF NOT EXISTS dokv_meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);`;
// The tables of dokv before expiries had no expires column.
const SQL_TABLES = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'dokv_entries'";
const SQL_HAS_EXPIRES = "SELECT 1 FROM pragma_table_info('dokv_entries') WHERE name = 'expires'";
const SQL_ADD_EXPIRES = `
ALTER TABLE dokv_entries ADD COLUMN expires INTEGER NOT NULL DEFAULT 0;
CREATE INDEX IF NOT EXISTS dokv_expiry ON dokv_entries (expires) WHERE expires > 0;`;
const SQL_GET = "SELECT version, value, expires FROM dokv_entries WHERE key = ?";
const SQL_PUT =
  "INSERT INTO dokv_entries (key, version, value, expires) VALUES (?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET version = excluded.version, value = excluded.value, expires = excluded.expires";
const SQL_DELETE = "DELETE FROM dokv_entries WHERE key = ?";
const SQL_SCAN =
  "SELECT key, version, value, expires FROM dokv_entries WHERE key >= ?1 AND key > ?2 AND key < ?3 AND (expires = 0 OR expires > ?5) ORDER BY key LIMIT ?4";
const SQL_STATS =
  "SELECT count(*), coalesce(sum(length(CAST(key AS BLOB)) + length(value)), 0) FROM dokv_entries WHERE key >= ?1 AND key < ?2 AND (expires = 0 OR expires > ?3)";
const SQL_EXPIRED = "SELECT key FROM dokv_entries WHERE expires > 0 AND expires <= ?1 ORDER BY key LIMIT ?2";
const SQL_NEXT_EXPIRY = "SELECT min(expires) FROM dokv_entries WHERE expires > 0";
const SQL_ANY = "SELECT 1 FROM dokv_entries LIMIT 1";

// ObjectStorage is an object's SQLite storage as Go's engine sees it. Its
// tables are created by the first write, not by the constructor, so that
// reading a key of an object no one wrote stores nothing; and an object
// that gave its storage back (deleteAll) has none until it is written again.
class ObjectStorage {
  constructor(storage) {
    this.storage = storage;
    this.sql = storage.sql;
    this.tables = undefined; // whether dokv's tables exist; undefined: look
  }

  // ready reports whether the tables exist, bringing those of an older dokv
  // up to date.
  ready() {
    if (this.tables === undefined) {
      this.tables = !this.sql.exec(SQL_TABLES).raw().next().done;
      if (this.tables && this.sql.exec(SQL_HAS_EXPIRES).raw().next().done) this.sql.exec(SQL_ADD_EXPIRES);
    }
    return this.tables;
  }

  // create makes sure the tables exist, inside the running transaction, and
  // returns the SQL handle. A transaction that rolls back must call forget.
  create() {
    if (!this.ready()) {
      this.sql.exec(SQL_SCHEMA);
      this.tables = true;
    }
    return this.sql;
  }

  // forget makes the next use look at the tables again: after a rollback
  // (which may have undone their creation) or a deleteAll.
  forget() {
    this.tables = undefined;
  }
}
const SQL_META_GET = "SELECT value FROM dokv_meta WHERE name = 'last_version'";
const SQL_META_SET =
  "INSERT INTO dokv_meta (name, value) VALUES ('last_version', ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value";

function namespace(binding) {
  const ns = lastEnv?.[binding];
  if (!ns || typeof ns.idFromName !== "function") {
    const what = ns === undefined ? "nothing is bound as" : "not a Durable Object namespace:";
    bindingFailure = `${what} ${binding} (the Worker's bindings: ${describeBindings(lastEnv)})`;
    throw new Error(bindingFailure);
  }
  return ns;
}

// describeBindings lists the names bound in env, and what each is, for the
// message of a wrong binding name. Values are never shown.
function describeBindings(env) {
  const names = Object.keys(env ?? {}).sort();
  if (names.length === 0) return "none";
  return names.map((name) => {
    const v = env[name];
    const kind = typeof v?.idFromName === "function" ? "Durable Object namespace" : typeof v === "string" ? "text" : typeof v;
    return `${name} (${kind})`;
  }).join(", ");
}

// queueCall hands call (with token) to the mailbox of request requestId, or
// fails it if that request has ended.
function queueCall(requestId, token, call) {
  call.token = token;
  const box = requests.get(requestId);
  if (box) box.push(call);
  else {
    const gen = generation;
    Promise.resolve().then(() => settle(gen, token, 0, encoder.encode("dokv: the request has ended"))); // after Go returns
  }
}

// startCall makes an RPC call (or reads a watch stream) for the request
// whose mailbox is box, in that request's context. The call's settlement
// runs there too: it resumes Go and then wakes the box from its own
// context, so a response or a call that Go delivered from another
// request's context (whose wake-up workerd may drop) is found at once.
function startCall(call, box) {
  let promise;
  try {
    promise = callPromise(call);
  } catch (e) {
    promise = Promise.reject(e);
  }
  const gen = generation;
  const done = (bits, data) => {
    settle(gen, call.token, bits, data);
    box.wakeOwn();
  };
  promise.then(
    (reply) => done(1, reply),
    (e) => done(errorBits(e), encoder.encode(String(e?.message ?? e))),
  );
}

// callPromise starts what call asks for; its promise resolves to the
// Uint8Array Go receives.
function callPromise(call) {
  if (call.kind === "read") return readStream(call.stream);
  const ns = namespace(call.binding);
  const stub = ns.get(ns.idFromString(call.id));
  switch (call.kind) {
    case "watch":
      return stub.watch(call.key, call.after, call.resume).then(openStream);
    case "emit":
      return stub.watchEmit(call.key, call.event).then(() => EMPTY);
  }
  return stub.call(call.bytes).then((reply) => (reply instanceof Uint8Array ? reply : new Uint8Array(reply)));
}

// The watch streams Go's handlers read, by handle.
const watchStreams = new Map();
let nextStream = 1;

function openStream(stream) {
  const handle = nextStream++;
  watchStreams.set(handle, new LineReader(stream));
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setUint32(0, handle, true);
  return bytes;
}

async function readStream(handle) {
  const reader = watchStreams.get(handle);
  if (!reader) throw new Error("dokv: the watch is closed");
  const line = await reader.next();
  if (line === null) {
    watchStreams.delete(handle);
    throw new Error("dokv: the watch stream ended");
  }
  return encoder.encode(line);
}

// LineReader splits a byte stream into its lines: a watch stream carries
// one JSON message per line, and RPC does not keep chunk boundaries.
class LineReader {
  constructor(stream) {
    this.reader = stream.getReader();
    this.lines = [];
    this.partial = "";
    this.done = false;
    this.decoder = new TextDecoder();
  }
  async next() {
    while (this.lines.length === 0) {
      if (this.done) return null;
      const { done, value } = await this.reader.read();
      if (done) {
        this.done = true;
        continue;
      }
      const parts = (this.partial + this.decoder.decode(value, { stream: true })).split("\n");
      this.partial = parts.pop();
      this.lines.push(...parts);
    }
    return this.lines.shift();
  }
  cancel() {
    this.reader.cancel().catch(() => {});
  }
}

// Mailbox is what Go sends one fetch request: RPC calls to make and, last,
// the response. Go may run in the context of any request; the request's own
// handler drains its mailbox in its own context.
class Mailbox {
  constructor(request) {
    this.request = request; // for the headers Go asks for
    this.queue = [];
    this.wake = null;
    this.aborted = false;
    this.resolveOwn = null; // ends the current wait; called from this request's context only
  }
  push(message) {
    this.queue.push(message);
    this.rearm();
  }
  // wakeOwn ends the current wait from the request's own context, through
  // the wait's own promise (see next), which no other request resolves.
  wakeOwn() {
    this.resolveOwn?.();
  }
  // rearm ends the current wait, so that the handler waits again with a
  // fresh timer.
  rearm() {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }
  // next resolves when a message is queued, or when Go's earliest timer is
  // due, or after a short heartbeat. Go schedules its timers in whichever
  // request it runs for, and workerd drops a request's timers when it ends
  // and cancels a request that waits on nothing it can see, so every waiting
  // request keeps a timer of its own. The heartbeat also covers a wake-up
  // that workerd drops: the message itself is in the queue and is found at
  // the next beat.
  next() {
    if (this.queue.length > 0) return Promise.resolve();
    // Two promises: one that another request may resolve (rearm), and one
    // that only this request resolves (its timer, wakeOwn). workerd runs
    // the continuation of a promise resolved from another request in that
    // request's queue, and drops it if that request ends first; the
    // promise is then resolved but its waiter never resumes, so the
    // request's own wake-ups must not depend on it.
    let wakeOther, wakeOwn;
    const other = new Promise((resolve) => (wakeOther = resolve));
    const own = new Promise((resolve) => (wakeOwn = resolve));
    const wake = () => {
      if (this.wake === wake) this.wake = null;
      wakeOther();
    };
    this.wake = wake;
    this.resolveOwn = wakeOwn;
    const delay = Math.min(HEARTBEAT_MS, goTimerAt === null ? HEARTBEAT_MS : Math.max(0, goTimerAt - Date.now()));
    // The timer is never cleared: a wake-up from another request may be
    // dropped, and clearing the timer from there would leave this request
    // waiting on nothing. It fires within HEARTBEAT_MS and is harmless.
    setTimeout(() => {
      resumeGo();
      if (this.wake === wake) this.wake = null;
      wakeOwn();
    }, delay);
    return Promise.race([other, own]);
  }
}

let goTimerAt = null; // when Go's earliest timer is due (ms since epoch), if any
const HEARTBEAT_MS = 5;

// goTimer records Go's next timer; waiting requests re-arm when it is
// earlier than the one they wait for.
function goTimer(at) {
  const earlier = goTimerAt === null || at < goTimerAt;
  goTimerAt = at;
  if (earlier) for (const box of requests.values()) box.rearm();
}

function resumeGo() {
  if (go && !go.exited && goTimerAt !== null && Date.now() >= goTimerAt) {
    goTimerAt = null;
    go._resume();
  }
}

// trackTimers wraps wasm_exec's timer imports to record Go's next timer.
function trackTimers(g) {
  const imports = g.importObject.gojs;
  const schedule = imports["runtime.scheduleTimeoutEvent"];
  imports["runtime.scheduleTimeoutEvent"] = (sp) => {
    if (evaluating) {
      // No timers at global scope: the event gets an id and no timer; the
      // first request's wait (Mailbox.next) sees it due and resumes Go.
      g.mem.setInt32((sp >>> 0) + 16, g._nextCallbackTimeoutID++, true);
    } else {
      schedule(sp);
    }
    const at = sp >>> 0;
    const delay = g.mem.getUint32(at + 8, true) + g.mem.getInt32(at + 12, true) * 4294967296;
    goTimer(Date.now() + delay);
  };
}

// settle hands Go the outcome of call token of the Go instance of
// generation gen. Tokens are counted per instance, so the outcome of a call
// that an instance made before it exited is dropped: handed to its
// successor, it could answer another call with the same token.
function settle(gen, token, bits, bytes) {
  if (!go || go.exited || gen !== generation) return;
  staged = bytes;
  ex.dokvSettle(token, bits, bytes.length);
  go._resume(); // run the goroutine that waited for it
}

// startGo starts the isolate's Go instance if none runs: at module
// evaluation (startAtEvaluation), else on first use, or again after the
// instance exited.
function startGo() {
  if (go && !go.exited) return;
  if (go) console.error("dokv: the Go instance exited; starting a new one");
  generation++;
  globalThis.__dokv = undefined;
  requests.clear();
  objects.clear();
  for (const reader of watchStreams.values()) reader.cancel();
  watchStreams.clear();
  go = new Go();
  go.importObject.dokv = imports;
  goTimerAt = null;
  trackTimers(go);
  seedRuntime(go);
  const instance = new WebAssembly.Instance(wasmModule, go.importObject);
  ex = instance.exports;
  bindingFailure = "";
  go.run(instance); // runs main until it blocks after worker.Serve
  if (!globalThis.__dokv) {
    const why = go.exited ? "exited before it called worker.Serve" : "did not call worker.Serve";
    throw new Error(`dokv: the Go program ${why}` + (bindingFailure ? `; ${bindingFailure}` : ""));
  }
  const n = ex.dokvConstants(); // before dokvOutput: it moves the output
  C = JSON.parse(readString(ex.dokvOutput(), n));
}

// evaluating is true while the module is evaluated: Cloudflare does that
// while a new isolate's first connection shakes hands, and keeps warm
// isolates, so Go's start (instantiating the wasm, the runtime, every
// package's init, main up to worker.Serve) costs no request. The global
// scope forbids random numbers and timers; seedRuntime and trackTimers
// work around what Go's runtime asks of them there.
let evaluating = false;

// startAtEvaluation starts Go while the module is evaluated, with the
// bindings of `import { env } from "cloudflare:workers"`. A program that
// needs more than the global scope allows at its start (crypto/rand in an
// init, say) fails here without a trace and starts on its first request,
// as it would without this.
//
// What Go prints meanwhile is held back, and printed only if the start
// succeeds, so that a start that fails here (and prints its panic) is
// reported once, by the start that follows. After the start, a warm-up
// (dokvWarmUp, run to its end by the resume) has V8 compile the request
// path before the first request.
function startAtEvaluation() {
  lastEnv = moduleEnv;
  runtimeContext.env = moduleEnv;
  const fs = globalThis.fs;
  const writeSync = fs.writeSync;
  const held = [];
  fs.writeSync = (fd, buf) => {
    held.push([fd, buf.slice()]);
    return buf.length;
  };
  evaluating = true;
  try {
    startGo();
    ex.dokvWarmUp();
    go._resume();
    startedAtEvaluation = true;
  } catch {
    go = null; // start again, and report why, on first use
    held.length = 0;
  } finally {
    evaluating = false;
    fs.writeSync = writeSync;
  }
  for (const [fd, buf] of held) writeSync.call(fs, fd, buf);
}

// startedAtEvaluation tells tests whether the running instance started at
// module evaluation (globalThis.__dokvStartedAtEvaluation).
let startedAtEvaluation = false;
globalThis.__dokvStartedAtEvaluation = () => startedAtEvaluation && generation === 1;

// seedRuntime lets Go's runtime seed itself at module evaluation, where
// crypto.getRandomValues throws. The runtime reads 32 bytes once, first,
// for the seed of its own generator (map hash seeds, math/rand); at global
// scope, and for that first read only, they come from Math.random, which V8
// seeds from the system's entropy for each isolate (Go's own fallback would
// be the clock, which reads 0 there). Every other read (crypto/rand)
// reaches crypto.getRandomValues, and at global scope throws, failing the
// early start.
//
// Time stands still at 0 at global scope (Date.now and performance.now),
// and Go's runtime refuses a monotonic clock that reads 0: while the module
// is evaluated, it reads 1 ms, and afterwards what wasm_exec reads, which
// is larger.
function seedRuntime(g) {
  const imports = g.importObject.gojs;
  const nanotime = imports["runtime.nanotime1"];
  imports["runtime.nanotime1"] = (sp) => {
    if (!evaluating) return nanotime(sp);
    g.mem.setBigInt64((sp >>> 0) + 8, 1_000_000n, true);
  };
  const read = imports["runtime.getRandomData"];
  let first = true;
  imports["runtime.getRandomData"] = (sp) => {
    const seed = first && evaluating;
    first = false;
    if (!seed) return read(sp);
    sp >>>= 0;
    const ptr = g.mem.getUint32(sp + 8, true) + g.mem.getInt32(sp + 12, true) * 4294967296;
    const len = g.mem.getUint32(sp + 16, true) + g.mem.getInt32(sp + 20, true) * 4294967296;
    const bytes = new Uint8Array(g._inst.exports.mem.buffer, ptr, len);
    for (let i = 0; i < len; i++) bytes[i] = Math.floor(Math.random() * 0x100);
  };
}

// startFailure answers a request when the Go instance cannot start: the
// log says why, and so does the response when the request was made to a
// local run (wrangler dev, workerd on a loopback address), where the reason
// is for the developer; elsewhere it may name what a client must not see.
function startFailure(e, request) {
  const message = String(e?.message ?? e);
  console.error(message);
  const host = new URL(request.url).hostname;
  const local = host === "localhost" || host.endsWith(".localhost") || host === "127.0.0.1" || host === "[::1]";
  return errorResponse(500, local ? message : "dokv: the Worker failed to start (its log says why)");
}

export default {
  async fetch(request, env, ctx) {
    lastEnv = env;
    try {
      startGo(); // before the body is read: its limit is Go's (C.maxBodyBytes)
    } catch (e) {
      return startFailure(e, request);
    }
    let body = EMPTY;
    if (request.body !== null && request.method !== "GET" && request.method !== "HEAD") {
      // A declared length that is not a whole number is refused unread:
      // it says nothing of how much would come.
      const declared = request.headers.get("content-length");
      if (declared !== null && !/^[0-9]+$/.test(declared)) {
        return errorResponse(400, "Content-Length must be a whole number of bytes");
      }
      body = await readBody(request, declared);
      if (body === null) return errorResponse(413, `request body exceeds ${C.maxBodyBytes} bytes`);
      try {
        startGo(); // the instance may have exited while the body was read
      } catch (e) {
        return startFailure(e, request);
      }
    }
    const g = go; // the instance this request runs on: if it exits, the request fails
    activeRequests++;
    const id = nextRequest++;
    const box = new Mailbox(request);
    requests.set(id, box);
    // A client that goes away ends its request at once and cancels the
    // handler's context in Go (needs the enable_request_signal
    // compatibility flag).
    request.signal?.addEventListener?.("abort", () => {
      if (!requests.delete(id)) return;
      box.aborted = true;
      box.wakeOwn();
      if (!g.exited) globalThis.__dokv.abort(id);
    });
    try {
      const head = encoder.encode(request.method + request.url);
      const methodLen = request.method.length; // a method is ASCII
      const ptr = ex.dokvInput(head.length + body.length);
      const mem = memory();
      mem.set(head, ptr);
      mem.set(body, ptr + head.length);
      runtimeContext.env = env;
      runtimeContext.ctx = ctx;
      if (ex.dokvFetch(id, methodLen, head.length - methodLen, body.length) !== 0) {
        return errorResponse(500, "dokv: request buffer mismatch");
      }
      g._resume(); // run the handler until it waits
      for (;;) {
        if (g.exited || g !== go) throw new Error("dokv: the Go instance exited");
        if (box.aborted) return errorResponse(499, "client closed request");
        while (box.queue.length > 0) {
          const message = box.queue.shift();
          if (message.forward) return forwardRequest(message.forward, request);
          if (message.token === undefined) return response(message);
          startCall(message, box);
        }
        await box.next();
      }
    } finally {
      requests.delete(id);
      activeRequests--;
    }
  },
};

// readBody returns the request's body, or null if it is over
// C.maxBodyBytes (worker.MaxRequestBodyBytes), so that it never reaches Go's
// linear memory, which never shrinks: a declared length (digits only, which
// the caller checked) over it is refused unread, and a body without one is
// read until it passes it.
async function readBody(request, declared) {
  if (declared !== null) {
    if (Number(declared) > C.maxBodyBytes) return null;
    const body = new Uint8Array(await request.arrayBuffer());
    return body.length > C.maxBodyBytes ? null : body;
  }
  const chunks = [];
  let size = 0;
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > C.maxBodyBytes) {
      await reader.cancel();
      return null;
    }
    chunks.push(value);
  }
  const body = new Uint8Array(size);
  let o = 0;
  for (const c of chunks) {
    body.set(c, o);
    o += c.length;
  }
  return body;
}

// forwardRequest sends request, with its headers, to url on the object's
// fetch handler, and returns the object's response (a watch's 101).
function forwardRequest({ binding, id, url }, request) {
  const ns = namespace(binding);
  return ns.get(ns.idFromString(id)).fetch(new Request(url, { headers: request.headers }));
}

// errorResponse is the entry module's own answer to a request Go's handler
// never saw (a body over the limit, a Go instance that cannot start):
// {"error": message}, as JSON as a Worker's handler errors usually are, so
// that a client reads every error of a dokv Worker the same way.
function errorResponse(status, message) {
  return new Response(JSON.stringify({ error: message }) + "\n", {
    status,
    headers: { "Content-Type": "application/json", "X-Content-Type-Options": "nosniff" },
  });
}

function response({ status, head, body }) {
  const nullBody = status === 101 || status === 204 || status === 205 || status === 304;
  if (head === "") return new Response(nullBody ? null : body, { status });
  const headers = [];
  for (const line of head.split("\n")) {
    const i = line.indexOf(":");
    if (i > 0) headers.push([line.slice(0, i), line.slice(i + 1)]);
  }
  return new Response(nullBody ? null : body, { status, headers });
}

const ROLLBACK = new Error("dokv: roll back");

// DATES_FIELD lists, in a stored record, the paths of its Date values.
const DATES_FIELD = "$dokvDates";

function isPlainObject(v) {
  return v !== null && typeof v === "object" && !Array.isArray(v) && !(v instanceof Date);
}

// datePaths appends to out the path (an array of keys and indexes) of every
// Date within v.
function datePaths(v, path, out) {
  if (v instanceof Date) {
    out.push(path);
  } else if (Array.isArray(v)) {
    v.forEach((item, i) => datePaths(item, [...path, i], out));
  } else if (v !== null && typeof v === "object") {
    for (const [k, item] of Object.entries(v)) datePaths(item, [...path, k], out);
  }
}

// reviveDate turns the ISO string at path within record back into a Date.
function reviveDate(record, path) {
  let holder = record;
  for (let i = 0; i < path.length - 1; i++) {
    holder = holder?.[path[i]];
  }
  const last = path[path.length - 1];
  if (holder != null && typeof holder[last] === "string") holder[last] = new Date(holder[last]);
}

// Handles of objects that workerd evicted are forgotten, in JS and in Go,
// so that the maps grow with live objects, not with constructions.
const handles = typeof FinalizationRegistry === "function"
  ? new FinalizationRegistry(({ handle, gen }) => {
      if (gen !== generation) return; // the Go instance that knew it is gone
      objects.delete(handle);
      ex.dokvDropObject(handle);
    })
  : null;

// DokvObject is the Durable Object class. Bind it with new_sqlite_classes
// (wrangler) or enableSql = true (workerd).
export class DokvObject extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    lastEnv ??= env;
    startGo();
    // A watcher's keep-alive is answered by the runtime, without waking the
    // object (or starting it after an eviction): see webSocketMessage.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(C.autoPing, C.autoPong));
    this.store = new ObjectStorage(ctx.storage);
    this.handle = 0;
    this.generation = 0;
    // Watchers: the streams of Go watchers by key tag (in memory), and the
    // count of hibernatable WebSockets, which the runtime keeps across
    // evictions (-1: count them when next needed).
    this.watchStreams = new Map();
    this.streamCount = 0;
    this.socketCount = -1;
  }

  // fetch accepts a watch over a hibernatable WebSocket: the upgrade
  // request a Worker handed over with dokv's ServeWatch, for the stored key
  // in the query, the key the browser watched (which its messages carry;
  // the stored key when absent) and the position to resume after, if any.
  // The watched key's JSON is kept in the socket's attachment, which
  // outlives the object's eviction. Refusals are close codes on an
  // accepted socket, so a browser can see them.
  async fetch(request) {
    startGo();
    const url = new URL(request.url);
    if (url.pathname !== C.watchPath) return errorResponse(404, "not found");
    if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") {
      return errorResponse(426, "a watch needs a WebSocket upgrade");
    }
    const [client, server] = Object.values(new WebSocketPair());
    const params = url.searchParams;
    const start = this.#startWatch(params.get("key") ?? "", params.get("after"), params.get("watched"));
    if (start.code) {
      server.accept();
      server.close(start.code, closeReason(start.reason));
      return new Response(null, { status: 101, webSocket: client });
    }
    this.ctx.acceptWebSocket(server, [start.tag]);
    server.serializeAttachment({ key: start.keyJSON, messages: 0 });
    socketKeys.set(server, start.keyJSON);
    this.socketCount = -1;
    for (const message of start.messages) server.send(withKey(message, start.keyJSON));
    return new Response(null, { status: 101, webSocket: client });
  }

  // Watchers only listen. Their keep-alive (C.autoPing) never gets here:
  // the runtime answers it. Any other message woke the object: one over
  // C.maxClientMessageBytes (UTF-8 bytes) closes the socket, and so does
  // the C.maxClientMessages-th, counted in the socket's attachment (which
  // survives the object's eviction), so that a client cannot keep the
  // object awake; the others are ignored.
  webSocketMessage(ws, message) {
    startGo();
    const max = C.maxClientMessageBytes;
    const size = typeof message === "string"
      ? (message.length > max ? message.length : encoder.encode(message).length) // a UTF-16 unit is at least one UTF-8 byte
      : message.byteLength;
    if (size > max) {
      ws.close(C.closeMessageTooBig, C.reasonMessageTooBig);
      return;
    }
    const attachment = ws.deserializeAttachment();
    const messages = (attachment?.messages ?? 0) + 1;
    if (messages >= C.maxClientMessages) {
      ws.close(C.closeBadRequest, C.reasonTooManyMessages);
      return;
    }
    ws.serializeAttachment({ ...attachment, messages });
  }

  webSocketClose(ws, code, reason) {
    this.socketCount = -1;
    try {
      ws.close(C.closeNormal, C.reasonClosed);
    } catch {
      // already closed
    }
  }

  webSocketError() {
    this.socketCount = -1;
  }

  // watch is the RPC method behind Store.Watch in a Worker's handler: a
  // stream of the watch's JSON messages, one per line. A watcher that
  // leaves Go's watch.MaxLag messages unread is sent a close message and
  // dropped, so that it never holds up the object. The position is read by
  // Go's one rule for positions, as the text a number converts to.
  watch(key, after, resume) {
    const start = this.#startWatch(key, resume ? String(after) : null, null);
    if (start.code === C.closeTooManyWatchers) return closedStream(C.tooManyWatchersClose);
    if (start.code) throw new Error(start.reason);
    let watcher;
    return new ReadableStream({
      start: (controller) => {
        watcher = { controller, tag: start.tag, keyJSON: start.keyJSON };
        for (const message of start.messages) this.#sendStream(watcher, withKey(message, start.keyJSON));
        let set = this.watchStreams.get(start.tag);
        if (!set) this.watchStreams.set(start.tag, (set = new Set()));
        set.add(watcher);
        this.streamCount++;
      },
      cancel: () => this.#dropStream(watcher),
    });
  }

  // watchEmit is the RPC method behind Store.Emit: an event (JSON text)
  // for the watchers of a stored key.
  watchEmit(key, event) {
    this.#emit(key, event);
  }

  // emit is @uploadista/kv-store-cloudflare-do's: an event (any value that
  // JSON can hold) for every watcher of this object, not stored.
  emit(event) {
    const json = JSON.stringify(event);
    if (json === undefined) throw new Error("dokv: the event is not JSON");
    this.#emit("", json);
  }

  #emit(key, json) {
    this.#attach();
    const k = encoder.encode(key);
    const e = encoder.encode(json);
    const bytes = new Uint8Array(k.length + e.length);
    bytes.set(k);
    bytes.set(e, k.length);
    writeIn(bytes);
    const n = ex.dokvWatchEmit(this.handle, k.length, e.length);
    if (n < 0) throw new Error(watchRefusal(n).reason);
    if (this.#watched()) this.#broadcast(taggedMessages(n));
  }

  // #startWatch starts a watch in Go: {tag, keyJSON, messages}, or {code,
  // reason} when it is refused. after is the text of the position to resume
  // after, or null for none; Go parses it (ServeWatch checked it by the
  // same rule, but the object may be reached without ServeWatch). watched
  // is the key the watcher's messages carry, or null for the stored key;
  // Go checks it and gives back its JSON (keyJSON), which withKey adds to
  // each message (they come without a key).
  #startWatch(key, after, watched) {
    this.#attach();
    const k = encoder.encode(key);
    const a = after === null ? EMPTY : encoder.encode(after);
    const w = watched === null ? EMPTY : encoder.encode(watched);
    const bytes = new Uint8Array(k.length + a.length + w.length);
    bytes.set(k);
    bytes.set(a, k.length);
    bytes.set(w, k.length + a.length);
    writeIn(bytes);
    const n = ex.dokvWatchStart(this.handle, k.length, after === null ? -1 : a.length, watched === null ? -1 : w.length, this.#watchCount());
    if (n < 0) return watchRefusal(n);
    const [[tag, keyJSON], ...messages] = taggedMessages(n);
    return { tag, keyJSON, messages: messages.map(([, message]) => message) };
  }

  #sockets() {
    if (this.socketCount < 0) this.socketCount = this.ctx.getWebSockets().length;
    return this.socketCount;
  }

  #watchCount() {
    return this.streamCount + this.#sockets();
  }

  #watched() {
    return this.streamCount > 0 || this.#sockets() > 0;
  }

  // #notify sends the changes of the write that just committed to their
  // watchers.
  #notify() {
    if (!this.#watched()) return;
    const n = ex.dokvChanges(this.handle);
    if (n > 0) this.#broadcast(taggedMessages(n));
  }

  // #broadcast sends each [tag, message] to the watchers of tag, or to
  // every watcher for the empty tag, each with its own key.
  #broadcast(tagged) {
    for (const [tag, message] of tagged) {
      for (const ws of tag === "" ? this.ctx.getWebSockets() : this.ctx.getWebSockets(tag)) {
        try {
          ws.send(withKey(message, socketKey(ws)));
        } catch {
          // a socket that is closing
        }
      }
      const streams = tag === "" ? [...this.watchStreams.values()].flatMap((set) => [...set]) : this.watchStreams.get(tag);
      for (const watcher of streams ?? []) this.#sendStream(watcher, withKey(message, watcher.keyJSON));
    }
  }

  #sendStream(watcher, message) {
    const { controller } = watcher;
    if (controller.desiredSize !== null && controller.desiredSize <= -C.maxLag) {
      controller.enqueue(encoder.encode(C.lagClose + "\n"));
      controller.close();
      this.#dropStream(watcher);
      return;
    }
    controller.enqueue(encoder.encode(message + "\n"));
  }

  #dropStream(watcher) {
    const set = watcher && this.watchStreams.get(watcher.tag);
    if (set?.delete(watcher)) {
      this.streamCount--;
      if (set.size === 0) this.watchStreams.delete(watcher.tag);
    }
  }

  // The RPC methods of @uploadista/kv-store-cloudflare-do's client, which
  // names this object after the record's key (dokv's ObjectNamedByKey
  // layout): one upload file and one flow job per object, read and written
  // by the same Go actor as dokv's own requests, so versions advance on
  // both paths. A missing record is undefined; a value that is not a valid
  // record, or is too large, throws and stores nothing.
  getUploadFile() {
    return this.#record(C.recordUploadFile, C.recordGet);
  }
  setUploadFile(value) {
    return this.#record(C.recordUploadFile, C.recordSet, value);
  }
  deleteUploadFile() {
    return this.#record(C.recordUploadFile, C.recordDelete);
  }
  getFlowJob() {
    return this.#record(C.recordFlowJob, C.recordGet);
  }
  setFlowJob(value) {
    return this.#record(C.recordFlowJob, C.recordSet, value);
  }
  deleteFlowJob() {
    return this.#record(C.recordFlowJob, C.recordDelete);
  }

  // #record runs one of those methods in Go (dokvRecord). Values cross as
  // JSON, which Go validates as its record type; the paths of the Date
  // values a record was set with travel in it as DATES_FIELD (ignored by
  // Go), so that it comes back with Dates where it had them, and with the
  // ISO strings Go writes once Go has rewritten it. A value over
  // C.maxEntryBytes is refused here, before it is copied into Go's memory,
  // which never shrinks; Go checks the exact bound, with the key, again.
  #record(kind, op, value) {
    this.#attach();
    let bytes = EMPTY;
    if (op === C.recordSet) {
      const dates = [];
      datePaths(value, [], dates);
      const record = dates.length > 0 && isPlainObject(value) ? { ...value, [DATES_FIELD]: dates } : value;
      bytes = encoder.encode(JSON.stringify(record));
      if (bytes.length > C.maxEntryBytes) {
        throw new Error(`dokv: value too large: record of ${bytes.length} bytes exceeds ${C.maxEntryBytes}`);
      }
    }
    writeIn(bytes);
    let n = 0;
    const run = () => {
      n = ex.dokvRecord(this.handle, kind, op, bytes.length);
      if (n < -1) throw new Error(readString(ex.dokvOutput(), -n - 2));
    };
    if (op === C.recordGet) run();
    else this.#transaction(run);
    if (op !== C.recordGet) {
      this.#afterWrite();
      return undefined;
    }
    if (n === -1) return undefined;
    const record = JSON.parse(readString(ex.dokvOutput(), n));
    if (isPlainObject(record) && Array.isArray(record[DATES_FIELD])) {
      for (const path of record[DATES_FIELD]) reviveDate(record, path);
      delete record[DATES_FIELD];
    }
    return record;
  }

  // #attach makes this object's actor in the current Go instance.
  #attach() {
    startGo();
    if (this.generation !== generation) {
      this.handle = ex.dokvNewObject();
      objects.set(this.handle, this.store);
      this.generation = generation;
      handles?.register(this, { handle: this.handle, gen: generation });
    }
  }

  // call runs one dokv request (Uint8Array) and returns the reply
  // (Uint8Array). A request that may write runs inside transactionSync: if
  // it fails, it is rolled back whole.
  call(request) {
    this.#attach();
    const bytes = request instanceof Uint8Array ? request : new Uint8Array(request);
    const ptr = writeIn(bytes);
    let n = 0;
    const writes = ex.dokvWrites(bytes.length) !== 0;
    if (!writes) {
      // A read: its statements are consistent without a transaction.
      n = ex.dokvObjectCall(this.handle, ptr, bytes.length);
      if (n < 0) n = -n - 1;
    } else {
      try {
        this.#transaction(() => {
          n = ex.dokvObjectCall(this.handle, ptr, bytes.length);
          if (n < 0) throw ROLLBACK;
        });
      } catch (e) {
        if (e !== ROLLBACK) throw e;
        n = -n - 1;
      }
    }
    const reply = memory().slice(ex.dokvOutput(), ex.dokvOutput() + n);
    if (writes) this.#afterWrite();
    return reply;
  }

  // alarm removes the keys that expired (Go's dokvAlarm) and re-arms. If it
  // throws, the runtime retries it; the transaction left nothing behind.
  alarm() {
    this.#attach();
    this.#transaction(() => {
      const n = ex.dokvAlarm(this.handle);
      if (n < 0) throw new Error(readString(ex.dokvOutput(), -n - 1));
    });
    this.#afterWrite();
  }

  // #transaction runs fn in transactionSync; if it throws, the tables may
  // have been created and rolled back, so the storage looks again.
  #transaction(fn) {
    try {
      this.ctx.storage.transactionSync(fn);
    } catch (e) {
      this.store.forget();
      throw e;
    }
  }

  // #afterWrite sends the changes of the write that just committed to
  // their watchers, and gives the object's storage back when the write left
  // it without a key: deleteAll (outside a transaction, where it must run)
  // and deleteAlarm (which deleteAll keeps before compatibility date
  // 2026-02-24).
  #afterWrite() {
    this.#notify();
    if (ex.dokvEmptied(this.handle) === 0) return;
    settled(this.ctx.storage.deleteAlarm());
    settled(this.ctx.storage.deleteAll());
    this.store.forget();
  }
}

// socketKeys caches the key JSON of a watch's socket, which its attachment
// keeps across the object's evictions (a socket object is new after one).
const socketKeys = new WeakMap();

// socketKey is the JSON of the key a watch's socket watched.
function socketKey(ws) {
  let key = socketKeys.get(ws);
  if (key === undefined) {
    key = ws.deserializeAttachment()?.key ?? null;
    socketKeys.set(ws, key);
  }
  return key;
}

// withKey adds the member "key": keyJSON to message, which Go wrote
// without a key, after its first member, "type" (a bare word, so its value
// ends at the first quote after '{"type":"'): Go's watch.WithKey. A null
// keyJSON leaves message as it is.
function withKey(message, keyJSON) {
  if (keyJSON === null) return message;
  const i = message.indexOf('"', 9) + 1;
  return message.slice(0, i) + ',"key":' + keyJSON + message.slice(i);
}

// taggedMessages decodes the [tag, message] list a watch export left in
// Go's output (n bytes): u32 tag length, tag, u32 message length, message.
function taggedMessages(n) {
  const base = ex.dokvOutput();
  const view = new DataView(memory().buffer, base, n);
  const out = [];
  for (let o = 0; o < n; ) {
    const tagLen = view.getUint32(o, true);
    const tag = readString(base + o + 4, tagLen);
    o += 4 + tagLen;
    const len = view.getUint32(o, true);
    out.push([tag, readString(base + o + 4, len)]);
    o += 4 + len;
  }
  return out;
}

// watchRefusal reads a watch export's refusal (result n < 0): a code byte,
// which Go maps to a close code (C.refusalCodes), then the reason.
function watchRefusal(n) {
  const len = -n - 1;
  const base = ex.dokvOutput();
  return { code: C.refusalCodes[memory()[base]] ?? C.closeInternal, reason: readString(base + 1, len - 1) };
}

// closeReason cuts text to the 123 UTF-8 bytes a close reason may hold,
// at a character boundary.
function closeReason(text) {
  let out = "";
  let size = 0;
  for (const ch of text) {
    size += encoder.encode(ch).length;
    if (size > 123) break;
    out += ch;
  }
  return out;
}

// closedStream is the stream of a watch refused with message, Go's close
// message (one JSON line).
function closedStream(message) {
  return new ReadableStream({
    start(controller) {
      controller.enqueue(encoder.encode(message + "\n"));
      controller.close();
    },
  });
}

// Last, when every declaration of this module is initialised.
startAtEvaluation();
