// Runs dokv's entry module and the glue test Worker in Node with a Durable
// Object namespace whose calls the script answers itself, to show that the
// reply of a call made by a Go instance that has since exited is not handed
// to the next instance (whose calls reuse its tokens). The replies come from
// the Go test as hex: process.argv[2] for the stale call, [3] for the new.
// Prints one JSON line; see nodeglue_test.go.
const { default: worker } = await import("./entry.mjs");
const pending = []; // resolvers of the calls made, in order
const ns = {
  idFromName: () => ({ toString: () => "ab".repeat(32) }),
  idFromString: (hex) => hex,
  get: () => ({ call: () => new Promise((resolve) => pending.push(resolve)) }),
};
const env = { KV: ns };
const ctx = { waitUntil() {}, passThroughOnException() {} };
const hex = (s) => Uint8Array.from(s.match(/../g).map((b) => parseInt(b, 16)));
const settled = (p) => p.then((r) => r.text().then((body) => ({ status: r.status, body })), (e) => ({ error: String(e) }));
const until = async (cond) => {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 2));
};

const stale = settled(worker.fetch(new Request("http://w/get?key=a"), env, ctx)); // call 1 of instance 1
await until(() => pending.length === 1);
const exit = settled(worker.fetch(new Request("http://w/exit", { method: "POST" }), env, ctx));
const fresh = settled(worker.fetch(new Request("http://w/get?key=c"), env, ctx)); // call 1 of instance 2
await until(() => pending.length === 2);
pending[0](hex(process.argv[2])); // the stale reply arrives first
await new Promise((r) => setTimeout(r, 20));
pending[1](hex(process.argv[3]));
console.log(JSON.stringify({ stale: await stale, exit: await exit, fresh: await fresh }));
process.exit(0);
