// Test-only main module (internal/e2e/interop_test.go), bundled with esbuild:
// TypeScript on dokv's DokvObject beside the glue test Worker's Go fetch
// handler, which reads and writes the same records with dokv's
// ObjectNamedByKey layout.
//
//   POST /npm/{flow|upload}/{get|set|delete}?key=K   run an operation of the
//        real npm client, @uploadista/kv-store-cloudflare-do, on a namespace
//        bound to DokvObject; answers {value, dates} or {error: code}
//   POST /ts/{method}?key=K   call an RPC method of the object named K as that
//        client does, ns.get(ns.idFromName(K))[method](value); answers
//        {value, dates} or {error: message}
//   anything else             the Go Worker (dokv's entry module)
//
// A body is the value as JSON, its "$date:" strings turned into Dates first;
// dates in an answer are the paths of the Date values in the result.
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

function answer(value) {
  return Response.json({ value: value === undefined ? "<undefined>" : value, dates: dates(value) });
}

async function npm(env, kind, op, key, text) {
  const make = kind === "flow" ? makeCloudflareDoFlowStore : makeCloudflareDoUploadStore;
  const store = make({ durableObject: env.KV });
  const exit = await Effect.runPromiseExit(op === "set" ? store.set(key, revive(JSON.parse(text))) : store[op](key));
  if (exit._tag === "Failure") {
    const failure = exit.cause?.error ?? exit.cause;
    return Response.json({ error: failure?.code ?? String(failure) });
  }
  return answer(exit.value);
}

async function rpc(env, method, key, text) {
  const stub = env.KV.get(env.KV.idFromName(key));
  try {
    return answer(await (text === "" ? stub[method]() : stub[method](revive(JSON.parse(text)))));
  } catch (e) {
    return Response.json({ error: String(e?.message ?? e) });
  }
}

export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    const [, route, a, b] = url.pathname.split("/");
    const key = url.searchParams.get("key");
    if (route === "npm") return npm(env, a, b, key, await request.text());
    if (route === "ts") return rpc(env, a, key, await request.text());
    return dokv.fetch(request, env, ctx);
  },
};
