// Reference glue of the load test (internal/loadtest): the least a Go wasm
// needs to serve a Worker's fetch with net/http (./internal/loadtest/
// nethttpworker), for comparing dokv's cold start with plain net/http's.
// It starts the Go instance on the first request (workerd forbids Go's
// timers and randomness at global scope) and hands each request's method
// and URL to Go through one syscall/js function.
import "./wasm_exec.js";
import wasmModule from "./app.wasm";

let serve = null;

export default {
  async fetch(request) {
    if (serve === null) {
      const go = new Go();
      go.run(new WebAssembly.Instance(wasmModule, go.importObject)); // runs main until it blocks
      serve = globalThis.__nethttpServe;
    }
    return new Response(null, { status: serve(request.method, request.url) });
  },
};
