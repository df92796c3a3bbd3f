// Pure-JS baseline for dokv's load test (internal/loadtest): a JS Worker and
// one JS Durable Object doing the storage work that dokv's Go Worker and Go
// Durable Objects do for the example app's /single/{key} and /perkey/{key}
// routes, with no Go. For ROUTE in single, perkey:
//
//   PUT    /ROUTE/{key}   store the body as the value: 204
//   GET    /ROUTE/{key}   200 with exactly the stored bytes, 404 if missing
//   DELETE /ROUTE/{key}   remove the key: 204, also when it was missing
//
// Fairness, route by route against dokv (examples/worker/app over
// SingleObject("single") with prefix "worker:single:", and PerKey() with
// prefix "worker:perkey:"):
// - every key lives in one object (/single) or in an object named by its
//   stored key (/perkey), found with idFromName on every request;
// - the key is percent-decoded and checked (1 to 2048 bytes; body and key
//   within dokv.MaxEntryBytes), and stored under the same stored key as dokv's;
// - one RPC call per request (methods put/get/delete on the object);
// - the object has the same schema as dokv's: an entries table (key TEXT
//   PRIMARY KEY, version INTEGER, value BLOB) and a meta table with the
//   object's last version, cached in memory like dokv's, and every write
//   (put or delete) updates the entry and the last version in one
//   transactionSync;
// - GET returns the value's bytes with the headers dokv's app sets.
// Reads do not open a transaction here; dokv's entry module opens one for
// every call, reads included (see BENCHMARKS.md).
import { DurableObject } from "cloudflare:workers";

// dokv stores the key under its store's encoded prefix ("14:" + prefix);
// the baseline stores the same bytes.
// /single keeps every key in one object; /perkey gives each key an object
// of its own, named by its stored key.
const ROUTES = [
  { path: "/single/", prefix: "14:worker:single:", object: () => "single" },
  { path: "/perkey/", prefix: "14:worker:perkey:", object: (stored) => stored },
];
const MAX_KEY_BYTES = 2048;
const MAX_ENTRY_BYTES = 2_000_000 - 64; // dokv.MaxEntryBytes
const encoder = new TextEncoder();

const SQL_SCHEMA = `
CREATE TABLE IF NOT EXISTS kv_entries (key TEXT PRIMARY KEY, version INTEGER NOT NULL, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS kv_meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);`;
const SQL_GET = "SELECT version, value FROM kv_entries WHERE key = ?";
const SQL_PUT =
  "INSERT INTO kv_entries (key, version, value) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET version = excluded.version, value = excluded.value";
const SQL_DELETE = "DELETE FROM kv_entries WHERE key = ?";
const SQL_META_GET = "SELECT value FROM kv_meta WHERE name = 'last_version'";
const SQL_META_SET =
  "INSERT INTO kv_meta (name, value) VALUES ('last_version', ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value";

export class BaselineObject extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(SQL_SCHEMA);
    this.last = -1; // cache of the last version; -1 until read
  }

  lastVersion() {
    if (this.last < 0) {
      const row = this.sql.exec(SQL_META_GET).raw().next();
      this.last = row.done ? 0 : row.value[0];
    }
    return this.last;
  }

  // write runs change(version) and records version as the object's last
  // version, in one transaction; it returns the new version.
  write(change) {
    try {
      const next = this.ctx.storage.transactionSync(() => {
        const next = this.lastVersion() + 1;
        change(next);
        this.sql.exec(SQL_META_SET, next);
        return next;
      });
      this.last = next;
      return next;
    } catch (e) {
      this.last = -1; // the cache may hold a version that was rolled back
      throw e;
    }
  }

  put(key, value) {
    return this.write((version) => this.sql.exec(SQL_PUT, key, version, value));
  }

  delete(key) {
    this.write(() => this.sql.exec(SQL_DELETE, key));
    return 0;
  }

  // get returns { version, value } or null.
  get(key) {
    const row = this.sql.exec(SQL_GET, key).raw().next();
    if (row.done) return null;
    return { version: row.value[0], value: new Uint8Array(row.value[1]) };
  }
}

function error(status, message, headers = {}) {
  return new Response(JSON.stringify({ error: message }), {
    status,
    headers: { "Content-Type": "application/json", ...headers },
  });
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const route = ROUTES.find((r) => url.pathname.startsWith(r.path));
    if (!route) return error(404, "no route for " + url.pathname);
    let key;
    try {
      key = decodeURIComponent(url.pathname.slice(route.path.length));
    } catch {
      return error(400, "invalid key: not valid UTF-8");
    }
    if (key === "") return error(501, "the baseline does not list keys");
    const keyBytes = encoder.encode(key).length;
    if (keyBytes > MAX_KEY_BYTES) return error(400, "invalid key: too long");
    const stored = route.prefix + key;
    const ns = env.BASELINE;
    const stub = ns.get(ns.idFromName(route.object(stored)));
    switch (request.method) {
      case "PUT": {
        const value = new Uint8Array(await request.arrayBuffer());
        if (route.prefix.length + keyBytes + value.length > MAX_ENTRY_BYTES) return error(413, "value too large");
        await stub.put(stored, value);
        return new Response(null, { status: 204 });
      }
      case "GET":
      case "HEAD": {
        const record = await stub.get(stored);
        if (record === null) return error(404, "not found");
        return new Response(request.method === "HEAD" ? null : record.value, {
          headers: {
            "Content-Type": "application/octet-stream",
            "Content-Length": String(record.value.length),
            "X-Content-Type-Options": "nosniff",
          },
        });
      }
      case "DELETE":
        await stub.delete(stored);
        return new Response(null, { status: 204 });
      default:
        return error(405, "method not allowed", { Allow: "DELETE, GET, HEAD, PUT" });
    }
  },
};
