// Test-only Node module hooks (nodeglue_test.go): "cloudflare:workers"
// resolves to cf-stub.mjs, and a .wasm import gives a compiled
// WebAssembly.Module, as workerd's wasm modules do.
export async function resolve(specifier, context, next) {
  if (specifier === "cloudflare:workers") return { url: new URL("./cf-stub.mjs", import.meta.url).href, shortCircuit: true };
  return next(specifier, context);
}
export async function load(url, context, next) {
  if (url.endsWith(".wasm")) {
    const source = `import { readFile } from "node:fs/promises";
export default await WebAssembly.compile(await readFile(new URL(${JSON.stringify(url)})));`;
    return { format: "module", source, shortCircuit: true };
  }
  return next(url, context);
}
