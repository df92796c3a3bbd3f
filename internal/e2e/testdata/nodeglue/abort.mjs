// Runs dokv's entry module and the glue test Worker (internal/e2e/glueworker)
// in Node, to exercise what local workerd cannot trigger: a client that goes
// away while its request waits (workerd fires request.signal only in
// production). Prints one JSON line with what happened; see nodeglue_test.go.
const { default: worker } = await import("./entry.mjs");
const env = { KV: { idFromName: () => ({ toString: () => "ab".repeat(32) }) } };
const ctx = { waitUntil() {}, passThroughOnException() {} };

const first = await worker.fetch(new Request("http://w/sleep?ms=0"), env, ctx);
const ac = new AbortController();
const start = Date.now();
const pending = worker.fetch(new Request("http://w/sleep?ms=5000", { signal: ac.signal }), env, ctx);
setTimeout(() => ac.abort(), 100);
const aborted = await pending;
console.log(JSON.stringify({
  firstStatus: first.status,
  firstBody: await first.text(),
  abortedStatus: aborted.status,
  abortedAfterMs: Date.now() - start,
  activeRequests: globalThis.__dokvActiveRequests(),
}));
process.exit(0); // Go's instance keeps its timers alive
