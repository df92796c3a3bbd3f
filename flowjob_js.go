//go:build js && wasm

package dokv

import (
	"fmt"
	"os"
	"sync"

	"github.com/dokv/dokv/internal/workers"
)

// workerRecordTTLs are the rules of the stores that set the TTL of the
// records DokvObject writes for the RPC methods of
// @uploadista/kv-store-cloudflare-do (dokvRecord).
var workerRecordTTLs = recordTTLs{}

func init() { workers.SetRecordTTL(workerRecordTTLs.ttl) }

// lateRecordStore tells once that a store was made too late to set the
// TTL of records written from TypeScript.
var lateRecordStore sync.Once

// registerRecordTTL adds the TTL rule of s, if it sets one (see
// recordTTLRule), to the records DokvObject stores under prefix. Only
// stores over a WorkersNamespace set one: a store over another namespace
// does not share this Worker's objects. DokvObject cannot tell which
// binding names it, so a rule holds for every DokvObject namespace of the
// Worker.
//
// Only stores made before Serve set one. The entry module runs main until
// Serve before any call reaches an object (startGo), so every call of every
// object sees the same rules. A store made later, in a handler say, would
// change them for some calls and not others, and stores made per request
// would add rules without bound.
func registerRecordTTL[T any](s *Store[T], prefix string) {
	if _, ok := s.ns.(*workersNamespace); !ok {
		return
	}
	if !workers.Serving() {
		addRecordTTL(workerRecordTTLs, s, prefix)
		return
	}
	if recordTTLRule(s, prefix) != nil {
		// Its own writes get their TTL, those from TypeScript do not. Said
		// once, as such a store may be made per request.
		lateRecordStore.Do(func() {
			fmt.Fprintf(os.Stderr, "dokv: a store of %q with a TTL was made after Serve: records written from TypeScript do not get its TTL; make it in main, before Serve\n", prefix)
		})
	}
}
