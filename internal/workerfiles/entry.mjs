// dokv entry module. Written by `go run github.com/dokv/dokv/cmd/dokv`; do not
// edit: regenerate it with the dokv version your Worker is built with.
//
// It exports the Worker's fetch handler and the Durable Object class
// DokvObject. Both forward to one long-lived Go instance per isolate (Go's
// own wasm_exec.js runs app.wasm). Data crosses between JS and Go as bytes
// in Go's linear memory, through //go:wasmimport functions (the `dokv`
// imports below) and //go:wasmexport functions (instance exports dokv*), so
// the hot path creates no syscall/js values and no per-request callbacks.
import { DurableObject } from "cloudflare:workers";
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
let generation = 0; // bumped on every Go start; object handles die with their instance
let lastEnv = undefined; // the env whose bindings Go's stubs use

const requests = new Map(); // fetch id -> Mailbox of that request
const objects = new Map(); // Go object handle -> ctx.storage.sql
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
    const call = { token, binding: readString(bindingPtr, bindingLen), id: readString(idPtr, idLen), bytes: readBytes(reqPtr, reqLen) };
    const box = requests.get(requestId);
    if (box) box.push(call);
    else {
      const gen = generation;
      Promise.resolve().then(() => settle(gen, token, 0, encoder.encode("dokv: the request has ended"))); // after Go returns
    }
  },
  // --- Durable Object side: the object's SQLite storage ---
  // Each returns a non-negative result, or -(1 + message length) with the
  // error message staged: an exception must never unwind through Go.
  sqlGet(h, keyPtr, keyLen) {
    return guard(() => {
      const row = objects.get(h).exec(SQL_GET, readString(keyPtr, keyLen)).raw().next();
      if (row.done) return stage(ABSENT);
      lastVersion = row.value[0];
      return stage(new Uint8Array(row.value[1])) + 1;
    });
  },
  // sqlVersion is the version of the record sqlGet found.
  sqlVersion() {
    return lastVersion;
  },
  sqlPut(h, keyPtr, keyLen, version, valuePtr, valueLen) {
    return guard(() => {
      objects.get(h).exec(SQL_PUT, readString(keyPtr, keyLen), version, readBytes(valuePtr, valueLen));
      return 0;
    });
  },
  sqlDelete(h, keyPtr, keyLen) {
    return guard(() => {
      objects.get(h).exec(SQL_DELETE, readString(keyPtr, keyLen));
      return 0;
    });
  },
  // sqlScan stages up to limit records with key >= from, key > after and
  // key < to, stopping once maxBytes of keys and values are staged, and
  // returns the staged length. Records: u32 key length, key, f64 version,
  // u32 value length, value (little endian); a final byte says whether
  // more records may follow.
  sqlScan(h, fromPtr, fromLen, afterPtr, afterLen, toPtr, toLen, limit, maxBytes) {
    return guard(() => {
      const cursor = objects.get(h).exec(SQL_SCAN, readString(fromPtr, fromLen), readString(afterPtr, afterLen),
        readString(toPtr, toLen), limit + 1).raw();
      const parts = [];
      let size = 0, count = 0, more = false;
      for (const [key, version, value] of cursor) {
        if (count === limit || (count > 0 && size >= maxBytes)) {
          more = true;
          break;
        }
        const k = encoder.encode(key);
        const v = new Uint8Array(value);
        parts.push(k, version, v);
        size += k.length + v.length;
        count++;
      }
      const out = new Uint8Array(count * 16 + size + 1);
      const view = new DataView(out.buffer);
      let o = 0;
      for (let i = 0; i < parts.length; i += 3) {
        const k = parts[i], v = parts[i + 2];
        view.setUint32(o, k.length, true);
        out.set(k, o + 4);
        o += 4 + k.length;
        view.setFloat64(o, parts[i + 1], true);
        view.setUint32(o + 8, v.length, true);
        out.set(v, o + 12);
        o += 12 + v.length;
      }
      out[o] = more ? 1 : 0;
      return stage(out);
    });
  },
  sqlLastVersion(h) {
    return guard(() => {
      const row = objects.get(h).exec(SQL_META_GET).raw().next();
      return row.done ? 0 : row.value[0];
    });
  },
  sqlSetLastVersion(h, version) {
    return guard(() => {
      objects.get(h).exec(SQL_META_SET, version);
      return 0;
    });
  },
};
let lastVersion = 0;
const ABSENT = new Uint8Array(0);

function guard(fn) {
  try {
    return fn();
  } catch (e) {
    return -1 - stage(encoder.encode(String(e?.message ?? e) || "error"));
  }
}

// The object's one table: key, version, value. TEXT keys compare as their
// UTF-8 bytes (SQLite's BINARY collation), which is the order List promises.
const SQL_SCHEMA = `
CREATE TABLE IF NOT EXISTS dokv_entries (key TEXT PRIMARY KEY, version INTEGER NOT NULL, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS dokv_meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);`;
const SQL_GET = "SELECT version, value FROM dokv_entries WHERE key = ?";
const SQL_PUT =
  "INSERT INTO dokv_entries (key, version, value) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET version = excluded.version, value = excluded.value";
const SQL_DELETE = "DELETE FROM dokv_entries WHERE key = ?";
const SQL_SCAN =
  "SELECT key, version, value FROM dokv_entries WHERE key >= ?1 AND key > ?2 AND key < ?3 ORDER BY key LIMIT ?4";
const SQL_META_GET = "SELECT value FROM dokv_meta WHERE name = 'last_version'";
const SQL_META_SET =
  "INSERT INTO dokv_meta (name, value) VALUES ('last_version', ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value";

function namespace(binding) {
  const ns = lastEnv?.[binding];
  if (!ns || typeof ns.idFromName !== "function") {
    throw new Error(`no Durable Object namespace is bound as ${binding}`);
  }
  return ns;
}

// startCall makes an RPC call for the request whose mailbox is box, in that
// request's context. The call's settlement runs there too: it resumes Go
// and then wakes the box from its own context, so a response or a call that
// Go delivered from another request's context (whose wake-up workerd may
// drop) is found at once.
function startCall({ token, binding, id, bytes }, box) {
  let promise;
  try {
    const ns = namespace(binding);
    promise = ns.get(ns.idFromString(id)).call(bytes);
  } catch (e) {
    promise = Promise.reject(e);
  }
  const gen = generation;
  const done = (bits, data) => {
    settle(gen, token, bits, data);
    box.wakeOwn();
  };
  promise.then(
    (reply) => done(1, reply instanceof Uint8Array ? reply : new Uint8Array(reply)),
    (e) => done(errorBits(e), encoder.encode(String(e?.message ?? e))),
  );
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
  // wakeOwn ends the current wait from the request's own context. Unlike
  // rearm, it does not rely on this.wake, which a wake-up from another
  // context clears even when workerd then drops it; resolving a promise
  // twice is harmless.
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
  // that workerd drops: it delivers a promise resolution across requests
  // through the resolving request, and drops it if that request ends first.
  // The message itself is in the queue and is found at the next beat.
  next() {
    if (this.queue.length > 0) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        if (this.wake === wake) this.wake = null;
        resolve();
      };
      this.wake = wake;
      this.resolveOwn = resolve;
      const delay = Math.min(HEARTBEAT_MS, goTimerAt === null ? HEARTBEAT_MS : Math.max(0, goTimerAt - Date.now()));
      // The timer is never cleared: a wake-up from another request may be
      // dropped, and clearing the timer from there would leave this request
      // waiting on nothing. It fires within HEARTBEAT_MS and is harmless.
      setTimeout(() => {
        resumeGo();
        wake();
      }, delay);
    });
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
    schedule(sp);
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

// startGo starts the isolate's Go instance on first use: workerd forbids
// random numbers and timers, which Go's runtime needs, at global scope.
function startGo() {
  if (go && !go.exited) return;
  if (go) console.error("dokv: the Go instance exited; starting a new one");
  generation++;
  globalThis.__dokv = undefined;
  requests.clear();
  objects.clear();
  go = new Go();
  go.importObject.dokv = imports;
  goTimerAt = null;
  trackTimers(go);
  const instance = new WebAssembly.Instance(wasmModule, go.importObject);
  ex = instance.exports;
  go.run(instance); // runs main until it blocks after dokv.Serve
  if (!globalThis.__dokv) throw new Error("dokv: the Go program did not call dokv.Serve");
}

// MAX_BODY_BYTES is dokv.MaxRequestBodyBytes: a larger request body is
// answered 413 before it is read whole, so it never reaches Go's linear
// memory, which never shrinks.
const MAX_BODY_BYTES = 8 << 20;

export default {
  async fetch(request, env, ctx) {
    lastEnv = env;
    let body = EMPTY;
    if (request.body !== null && request.method !== "GET" && request.method !== "HEAD") {
      body = await readBody(request);
      if (body === null) return plainResponse(413, `request body exceeds ${MAX_BODY_BYTES} bytes`);
    }
    startGo();
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
        return plainResponse(500, "dokv: request buffer mismatch");
      }
      g._resume(); // run the handler until it waits
      for (;;) {
        if (g.exited || g !== go) throw new Error("dokv: the Go instance exited");
        if (box.aborted) return plainResponse(499, "client closed request");
        while (box.queue.length > 0) {
          const message = box.queue.shift();
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
// MAX_BODY_BYTES: a declared length over it is refused unread, and a body
// without one is read until it passes it.
async function readBody(request) {
  const declared = request.headers.get("content-length");
  if (declared !== null) {
    if (Number(declared) > MAX_BODY_BYTES) return null;
    const body = new Uint8Array(await request.arrayBuffer());
    return body.length > MAX_BODY_BYTES ? null : body;
  }
  const chunks = [];
  let size = 0;
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > MAX_BODY_BYTES) {
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

function plainResponse(status, text) {
  return new Response(text, { status, headers: { "Content-Type": "text/plain; charset=utf-8" } });
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

// Record kinds and operations of Go's dokvRecord.
const RECORD_UPLOAD_FILE = 1;
const RECORD_FLOW_JOB = 2;
const RECORD_GET = 1;
const RECORD_SET = 2;
const RECORD_DELETE = 3;
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
    this.sql = ctx.storage.sql;
    this.sql.exec(SQL_SCHEMA);
    this.handle = 0;
    this.generation = 0;
  }

  // The RPC methods of @uploadista/kv-store-cloudflare-do's client, which
  // names this object after the record's key (dokv's ObjectNamedByKey
  // layout): one upload file and one flow job per object, read and written
  // by the same Go actor as dokv's own requests, so versions advance on
  // both paths. A missing record is undefined; a value that is not a valid
  // record, or is too large, throws and stores nothing.
  getUploadFile() {
    return this.#record(RECORD_UPLOAD_FILE, RECORD_GET);
  }
  setUploadFile(value) {
    return this.#record(RECORD_UPLOAD_FILE, RECORD_SET, value);
  }
  deleteUploadFile() {
    return this.#record(RECORD_UPLOAD_FILE, RECORD_DELETE);
  }
  getFlowJob() {
    return this.#record(RECORD_FLOW_JOB, RECORD_GET);
  }
  setFlowJob(value) {
    return this.#record(RECORD_FLOW_JOB, RECORD_SET, value);
  }
  deleteFlowJob() {
    return this.#record(RECORD_FLOW_JOB, RECORD_DELETE);
  }

  // #record runs one of those methods in Go (dokvRecord). Values cross as
  // JSON, which Go validates as its record type; the paths of the Date
  // values a record was set with travel in it as DATES_FIELD (ignored by
  // Go), so that it comes back with Dates where it had them, and with the
  // ISO strings Go writes once Go has rewritten it.
  #record(kind, op, value) {
    this.#attach();
    let bytes = EMPTY;
    if (op === RECORD_SET) {
      const dates = [];
      datePaths(value, [], dates);
      const record = dates.length > 0 && isPlainObject(value) ? { ...value, [DATES_FIELD]: dates } : value;
      bytes = encoder.encode(JSON.stringify(record));
    }
    writeIn(bytes);
    let n = 0;
    const run = () => {
      n = ex.dokvRecord(this.handle, kind, op, bytes.length);
      if (n < -1) throw new Error(readString(ex.dokvOutput(), -n - 2));
    };
    if (op === RECORD_GET) run();
    else this.ctx.storage.transactionSync(run);
    if (op !== RECORD_GET) return undefined;
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
      objects.set(this.handle, this.sql);
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
    if (ex.dokvWrites(bytes.length) === 0) {
      // A read: its statements are consistent without a transaction.
      n = ex.dokvObjectCall(this.handle, ptr, bytes.length);
      if (n < 0) n = -n - 1;
    } else {
      try {
        this.ctx.storage.transactionSync(() => {
          n = ex.dokvObjectCall(this.handle, ptr, bytes.length);
          if (n < 0) throw ROLLBACK;
        });
      } catch (e) {
        if (e !== ROLLBACK) throw e;
        n = -n - 1;
      }
    }
    return memory().slice(ex.dokvOutput(), ex.dokvOutput() + n);
  }
}
