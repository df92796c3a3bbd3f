//go:build !(js && wasm)

package dokv

// registerRecordTTL: outside a Worker no object serves the RPC methods of
// @uploadista/kv-store-cloudflare-do, so no record written from TypeScript
// needs a store's TTL rule.
func registerRecordTTL[T any](_ *Store[T], _ string) {}
