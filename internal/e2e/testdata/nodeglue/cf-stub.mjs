// Test-only stand-in for the "cloudflare:workers" module when dokv's entry
// module runs in Node (nodeglue_test.go): the DurableObject base class.
export class DurableObject {
  constructor(ctx, env) {
    this.ctx = ctx;
    this.env = env;
  }
}

// The bindings a module reads at its evaluation: none here, so the Go
// program, which asks for KV, starts on its first request (with the env
// each script passes).
export const env = {};
