package dokv

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/dokv/dokv/internal/protocol"
	"github.com/dokv/dokv/internal/router"
)

// MaxTTL is the longest time to live a write may ask for: about 100 years.
const MaxTTL = time.Duration(protocol.MaxTTL) * time.Millisecond

// WithTTL gives every value the store writes a time to live: the key
// expires d after the object applied the write, unless a later write
// replaces it (a write without a TTL makes the key permanent again).
//
// An expired key is gone at once for every read, list, transaction
// condition and watcher start, as if deleted: its version is 0, and a key
// written again gets a larger version than any it had. The object's alarm
// then removes it from storage (one alarm per object, set for its earliest
// expiry), and an object left without keys gives its storage back.
// Expiry times have millisecond resolution and follow the object's clock:
// the Workers runtime's on Cloudflare, the namespace's Clock in memory.
//
// d must be between 0 (no TTL, the default) and MaxTTL.
func WithTTL(d time.Duration) Option {
	return func(c *config) { c.ttl = d }
}

// WithTTLFunc returns a store like s (the same namespace, partitioning and
// options) that decides the time to live of each value it writes from the
// value: a positive duration is the TTL of that write, 0 (or a negative
// one) falls back to WithTTL's. fn is typed by the store's values, so a
// function of another type does not compile. s itself is unchanged.
//
// Records that TypeScript writes (see NewFlowJobStore) get the TTLs of the
// stores made by NewFlowJobStore and NewUploadFileStore, with their options
// (WithTTL, WithFlowJobRetention); a store made by WithTTLFunc sets none.
func (s *Store[T]) WithTTLFunc(fn func(value T) time.Duration) *Store[T] {
	return &Store[T]{core: s.core, ttlFunc: fn}
}

// WithFlowJobRetention keeps finished flow jobs (completed, failed or
// cancelled) for d after the write that finished them, and then lets them
// expire; running jobs are kept as long as the store's WithTTL says
// (forever by default). It applies to stores of FlowJob (NewFlowJobStore);
// New fails with ErrInvalidArgument for a store of another type.
//
// In a Worker, a store made by NewFlowJobStore in the layout of
// @uploadista/kv-store-cloudflare-do (ObjectNamedByKey, FlowJobPrefix, the
// JSON codec) before Serve also gives its TTLs to the jobs that TypeScript
// writes through that client's RPC methods on DokvObject (setFlowJob): see
// NewFlowJobStore.
func WithFlowJobRetention(d time.Duration) Option {
	return func(c *config) { c.jobRetention = d }
}

// jobRetention is the TTL function of WithFlowJobRetention(d).
func jobRetention(d time.Duration) func(FlowJob) time.Duration {
	return func(j FlowJob) time.Duration {
		if j.Status.Terminal() {
			return d
		}
		return 0
	}
}

// checkTTL validates a TTL option or argument.
func checkTTL(d time.Duration) error {
	if d < 0 || d > MaxTTL {
		return fmt.Errorf("TTL %v is not within 0 and %v", d, MaxTTL)
	}
	return nil
}

// ttlMillis is the TTL on the wire: whole milliseconds, rounded up, so that
// a key never expires before its TTL has passed; 0 for none.
func ttlMillis(d time.Duration) uint64 {
	return uint64((d + time.Millisecond - 1) / time.Millisecond)
}

// ttlFor returns the wire TTL of a write of value that gave no TTL of its
// own: WithTTLFunc's, else WithTTL's; or an error for one out of range.
func (s *Store[T]) ttlFor(value any) (uint64, error) {
	var d time.Duration
	if s.ttlFunc != nil {
		if v, ok := value.(T); ok {
			d = s.ttlFunc(v)
			if d < 0 {
				d = 0
			}
		}
	}
	if d == 0 {
		d = s.ttl
	}
	if err := checkTTL(d); err != nil {
		return 0, err
	}
	return ttlMillis(d), nil
}

// recordTTLRule returns the TTL rule that s sets for the records
// TypeScript writes through the RPC methods of
// @uploadista/kv-store-cloudflare-do under prefix (FlowJobPrefix or
// UploadFilePrefix): the wire TTL that s would give a write of the
// record's value, from its WithTTLFunc and WithTTL (ttlFor), so that both
// write paths keep a record equally long. It is nil, setting no rule, when
// s does not read those records (another partitioning or prefix, or a codec
// other than JSON, in which TypeScript's records are not written) or has
// no TTL of its own: a store made only to read the records has no say in
// how long they are kept.
func recordTTLRule[T any](s *Store[T], prefix string) func(json []byte) (uint64, error) {
	if s.router != router.New(router.Named, "", 0, prefix) {
		return nil
	}
	if _, ok := s.codec.(jsonCodec); !ok || (s.ttl == 0 && s.ttlFunc == nil) {
		return nil
	}
	return func(data []byte) (uint64, error) {
		var v T
		if err := json.Unmarshal(data, &v); err != nil {
			return 0, err
		}
		return s.ttlFor(v)
	}
}

// recordTTLs are the TTL rules that the program's stores set for the
// records TypeScript writes, by the prefix the records are stored under.
// In a Worker they are added in main, before Serve, and read by the
// object's calls after it; a Go wasm instance never runs both at once.
type recordTTLs map[string][]func(json []byte) (uint64, error)

// addRecordTTL adds the rule of s for the records under prefix, if s sets one.
func addRecordTTL[T any](rules recordTTLs, s *Store[T], prefix string) {
	if rule := recordTTLRule(s, prefix); rule != nil {
		rules[prefix] = append(rules[prefix], rule)
	}
}

// ttl is the wire TTL of a write of json under prefix: the longest that any
// rule gives it, no TTL (0) being the longest of all; 0 with no rule. A
// record written from TypeScript cannot say which Go store it stands for;
// keeping it longer than one store wanted costs only storage, while
// expiring it sooner than another store wanted loses a record that part of
// the program still expects.
func (rules recordTTLs) ttl(prefix string, json []byte) (uint64, error) {
	var longest uint64
	forever := false
	for _, rule := range rules[prefix] {
		// Every rule runs, so that one that refuses the write (a TTL out
		// of range) refuses it whatever the order of the stores.
		ttl, err := rule(json)
		if err != nil {
			return 0, err
		}
		forever = forever || ttl == 0
		longest = max(longest, ttl)
	}
	if forever {
		return 0, nil
	}
	return longest, nil
}

// SetWithTTL stores value at key, to expire ttl after the object applies
// the write (see WithTTL), and returns the key's new version. ttl must be
// positive and at most MaxTTL, else the error wraps ErrInvalidArgument and
// nothing is written.
func (s *Store[T]) SetWithTTL(ctx context.Context, key string, value T, ttl time.Duration) (uint64, error) {
	if ttl <= 0 || ttl > MaxTTL {
		return 0, &Error{Op: "set", Key: key, Err: ErrInvalidArgument, Detail: fmt.Sprintf("TTL %v is not within 1ms and %v", ttl, MaxTTL)}
	}
	return s.writeOne(ctx, "set", key, protocol.Mutation{Kind: protocol.KindPut, TTL: ttlMillis(ttl)}, value)
}

// expiresAt is the time of a wire expiry; the zero time for none.
func expiresAt(ms uint64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(int64(ms)).UTC()
}
