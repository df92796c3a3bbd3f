// Diagnostic variant of dokv's load test (go run ./internal/loadtest
// -diagnose): dokv's Go Durable Object (DokvObject from dokv's entry module,
// running the Go wasm) behind a fetch handler written in JS instead of Go.
// Comparing it with dokv and with the JS baseline splits dokv's cost into
// its Worker side and its object side. It serves /single/{key} and
// /perkey/{key} like the baseline (worker.mjs), encoding dokv's wire protocol (internal/protocol,
// version 1) itself: one RPC call, DokvObject.call(bytes), per request.
import { DokvObject } from "./entry.mjs";

export { DokvObject };

// The stored keys and objects of dokv's SingleObject("single") store with
// prefix "worker:single:" and its PerKey() store with prefix
// "worker:perkey:" (internal/router; the load test's keys have no hash tag).
const ROUTES = [
  { path: "/single/", space: "14:worker:single:", object: () => "dokv/14:worker:single:/single/single" },
  { path: "/perkey/", space: "14:worker:perkey:", object: (key) => "dokv/14:worker:perkey:/key/" + key },
];
const MAX_KEY_BYTES = 2048;
const MAX_ENTRY_BYTES = 2_000_000 - 64; // dokv.MaxEntryBytes
const encoder = new TextEncoder();

function uvarint(out, n) {
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
}

// request encodes a Get (op 1) or a one-mutation Write (op 2: kind 1 put,
// 2 delete; no condition).
function request(op, key, kind, value) {
  const k = encoder.encode(key);
  const head = [1, op];
  if (op === 2) uvarint(head, 1);
  uvarint(head, k.length);
  const tail = [];
  if (op === 2) {
    tail.push(kind, 0, 0);
    if (kind === 1) uvarint(tail, value.length);
  }
  const size = head.length + k.length + tail.length + (kind === 1 ? value.length : 0);
  const out = new Uint8Array(size);
  out.set(head, 0);
  out.set(k, head.length);
  out.set(tail, head.length + k.length);
  if (kind === 1) out.set(value, head.length + k.length + tail.length);
  return out;
}

function readUvarint(b, at) {
  let n = 0, scale = 1;
  for (;;) {
    const x = b[at.i++];
    n += (x & 0x7f) * scale;
    if (x < 0x80) return n;
    scale *= 128;
  }
}

function error(status, message) {
  return new Response(JSON.stringify({ error: message }), { status, headers: { "Content-Type": "application/json" } });
}

export default {
  async fetch(request_, env) {
    const url = new URL(request_.url);
    const route = ROUTES.find((r) => url.pathname.startsWith(r.path));
    if (!route) return error(404, "no route for " + url.pathname);
    const SPACE = route.space;
    let key;
    try {
      key = decodeURIComponent(url.pathname.slice(route.path.length));
    } catch {
      return error(400, "invalid key: not valid UTF-8");
    }
    if (key === "") return error(501, "the hybrid does not list keys");
    const keyBytes = encoder.encode(key).length;
    if (keyBytes > MAX_KEY_BYTES) return error(400, "invalid key: too long");
    const ns = env.DOKV;
    const stub = ns.get(ns.idFromName(route.object(key)));
    let req;
    switch (request_.method) {
      case "PUT": {
        const value = new Uint8Array(await request_.arrayBuffer());
        if (SPACE.length + keyBytes + value.length > MAX_ENTRY_BYTES) return error(413, "value too large");
        req = request(2, SPACE + key, 1, value);
        break;
      }
      case "GET":
        req = request(1, SPACE + key, 0, null);
        break;
      case "DELETE":
        req = request(2, SPACE + key, 2, null);
        break;
      default:
        return error(405, "method not allowed");
    }
    const reply = await stub.call(req);
    if (reply[0] !== 1 || reply[1] !== 0) return error(500, "dokv object failed (status " + reply[1] + ")");
    if (request_.method !== "GET") return new Response(null, { status: 204 });
    if (reply[2] === 0) return error(404, "not found");
    const at = { i: 3 };
    readUvarint(reply, at); // version
    const n = readUvarint(reply, at);
    const value = reply.subarray(at.i, at.i + n);
    return new Response(value, {
      headers: {
        "Content-Type": "application/octet-stream",
        "Content-Length": String(value.length),
        "X-Content-Type-Options": "nosniff",
      },
    });
  },
};
