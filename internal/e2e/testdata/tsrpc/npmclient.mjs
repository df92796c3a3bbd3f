// Test-only main module (internal/e2e/tsrpc_test.go), bundled with esbuild:
// the real npm client, @uploadista/kv-store-cloudflare-do, on a namespace
// bound to dokv's DokvObject, beside the glue test Worker's Go fetch
// handler, which reads and writes the same records.
//
//   POST /npm/{flow|upload}/{get|set|delete}?key=K   run the client's
//        operation; a set's body is the value as JSON, its "$date:" strings
//        turned into Dates first; answers {value, dates} or {error: code}
//   anything else   the Go Worker (dokv's entry module)
import { makeCloudflareDoFlowStore, makeCloudflareDoUploadStore } from "@uploadista/kv-store-cloudflare-do";
import { Effect } from "effect";
import dokv, { DokvObject } from "./entry.mjs";
export { DokvObject };

function revive(v) {
  if (typeof v === "string" && v.startsWith("$date:")) return new Date(v.slice(6));
  if (Array.isArray(v)) return v.map(revive);
  if (v !== null && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, revive(x)]));
  return v;
}

function dates(v, path = [], out = []) {
  if (v instanceof Date) out.push(path.join("."));
  else if (v !== null && typeof v === "object") for (const [k, x] of Object.entries(v)) dates(x, [...path, k], out);
  return out;
}

export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    if (!url.pathname.startsWith("/npm/")) return dokv.fetch(request, env, ctx);
    const [, , kind, op] = url.pathname.split("/");
    const key = url.searchParams.get("key");
    const make = kind === "flow" ? makeCloudflareDoFlowStore : makeCloudflareDoUploadStore;
    const store = make({ durableObject: env.KV });
    const text = await request.text();
    const effect = op === "set" ? store.set(key, revive(JSON.parse(text))) : store[op](key);
    const exit = await Effect.runPromiseExit(effect);
    if (exit._tag === "Failure") {
      const failure = exit.cause?.error ?? exit.cause;
      return Response.json({ error: failure?.code ?? String(failure) });
    }
    return Response.json({ value: exit.value === undefined ? "<undefined>" : exit.value, dates: dates(exit.value) });
  },
};
