// Test-only stand-in for the "cloudflare:workers" module when dokv's entry
// module runs in Node (nodeglue_test.go): the DurableObject base class.
export class DurableObject {
  constructor(ctx, env) {
    this.ctx = ctx;
    this.env = env;
  }
}
