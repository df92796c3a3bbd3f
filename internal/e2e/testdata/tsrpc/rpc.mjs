// Test-only main module (internal/e2e/tsrpc_test.go): calls DokvObject's
// RPC methods exactly as @uploadista/kv-store-cloudflare-do's client does,
// ns.get(ns.idFromName(key)).getFlowJob() and so on, with structured-clone
// values, beside the glue test Worker's Go fetch handler, which reads and
// writes the same records with dokv's ObjectNamedByKey layout.
//
//   POST /ts/{method}?key=K   call method on the object named K; the body, if
//                             any, is the value as JSON, its "$date:" strings
//                             turned into Dates first; answers {value, dates}
//                             (dates: the paths of Date values in the result)
//                             or {error}
//   anything else             the Go Worker (dokv's entry module)
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
    if (!url.pathname.startsWith("/ts/")) return dokv.fetch(request, env, ctx);
    const method = url.pathname.slice(4);
    const key = url.searchParams.get("key");
    const stub = env.KV.get(env.KV.idFromName(key));
    const text = await request.text();
    try {
      const value = await (text === "" ? stub[method]() : stub[method](revive(JSON.parse(text))));
      return Response.json({ value: value === undefined ? "<undefined>" : value, dates: dates(value) });
    } catch (e) {
      return Response.json({ error: String(e?.message ?? e) });
    }
  },
};
