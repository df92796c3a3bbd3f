package dokv

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/dokv/dokv/internal/protocol"
	"github.com/dokv/dokv/internal/router"
)

// Option configures a Store in New. Invalid options make New fail with
// ErrInvalidArgument; they never fail later.
type Option func(*config)

type config struct {
	partitioning Partitioning
	prefix       string
	codec        Codec
	pageSize     int
	retry        RetryPolicy
	ttl          time.Duration
	jobRetention time.Duration // WithFlowJobRetention, for stores of FlowJob
	watchTokens  *WatchTokens  // WithWatchTokens
	tokensSet    bool          // WithWatchTokens was given, so a nil is refused
}

func defaultConfig() config {
	return config{partitioning: PerKey(), codec: JSON(), pageSize: 100, retry: DefaultRetryPolicy()}
}

// MaxPrefixBytes bounds the prefix of WithPrefix.
const MaxPrefixBytes = 1024

// MaxObjectNameBytes bounds the name given to SingleObject.
const MaxObjectNameBytes = 256

// MaxShards bounds the shard count of HashShards.
const MaxShards = 4096

func (c *config) validate() error {
	p := c.partitioning
	switch p.scheme {
	case router.Single:
		if p.name == "" || len(p.name) > MaxObjectNameBytes || !utf8.ValidString(p.name) {
			return fmt.Errorf("SingleObject name must be 1 to %d bytes of UTF-8, got %q", MaxObjectNameBytes, p.name)
		}
	case router.Shards:
		if p.shards < 1 || p.shards > MaxShards {
			return fmt.Errorf("HashShards count must be 1 to %d, got %d", MaxShards, p.shards)
		}
	}
	if len(c.prefix) > MaxPrefixBytes || !utf8.ValidString(c.prefix) {
		return fmt.Errorf("prefix must be at most %d bytes of UTF-8", MaxPrefixBytes)
	}
	if c.codec == nil {
		return fmt.Errorf("codec is nil")
	}
	if r := c.retry; r.MaxAttempts < 1 || r.BaseDelay < 0 || r.MaxDelay < r.BaseDelay {
		return fmt.Errorf("retry policy needs MaxAttempts >= 1 and 0 <= BaseDelay <= MaxDelay, got %+v", r)
	}
	if err := checkTTL(c.ttl); err != nil {
		return err
	}
	if err := checkTTL(c.jobRetention); err != nil {
		return fmt.Errorf("flow job retention: %w", err)
	}
	if c.tokensSet && c.watchTokens == nil {
		return fmt.Errorf("WithWatchTokens needs the tokens of NewWatchTokens, got nil")
	}
	if c.pageSize < 1 || c.pageSize > protocol.MaxListLimit {
		return fmt.Errorf("page size must be 1 to %d, got %d", protocol.MaxListLimit, c.pageSize)
	}
	return nil
}

// Partitioning decides which object holds a key. Build one with PerKey,
// SingleObject, HashShards or ObjectNamedByKey. Changing a store's partitioning changes where
// its keys live: data written under one partitioning is not visible under
// another.
type Partitioning struct {
	scheme router.Scheme
	name   string
	shards int
}

// String describes the partitioning, e.g. "HashShards(16)".
func (p Partitioning) String() string {
	switch p.scheme {
	case router.Single:
		return fmt.Sprintf("SingleObject(%q)", p.name)
	case router.Shards:
		return fmt.Sprintf("HashShards(%d)", p.shards)
	case router.Named:
		return "ObjectNamedByKey()"
	default:
		return "PerKey()"
	}
}

// PerKey puts every key in an object of its own, as
// @uploadista/kv-store-cloudflare-do does: the most parallelism, no
// bottleneck object, but no List and no transactions across keys unless the
// keys share a hash tag. It is the default.
func PerKey() Partitioning { return Partitioning{scheme: router.PerKey} }

// ObjectNamedByKey puts every key in an object whose name is the key
// itself, the layout of @uploadista/kv-store-cloudflare-do, whose client
// reaches a record with ns.get(ns.idFromName(key)): TypeScript code that
// names objects that way and a Go store with this partitioning meet in the
// same object. Each object holds one record per store, under the store's
// prefix, so an upload and a flow job with the same ID share an object but
// not a record. Like PerKey: no List, and no transaction across keys (hash
// tags do not apply: the name is the whole key).
func ObjectNamedByKey() Partitioning { return Partitioning{scheme: router.Named} }

// SingleObject puts every key in one object with the given name: List and
// transactions over any keys, at the throughput of one object (roughly a
// thousand requests per second on Cloudflare).
func SingleObject(name string) Partitioning {
	return Partitioning{scheme: router.Single, name: name}
}

// HashShards spreads keys over n objects by a stable 64-bit hash of the key
// (jump consistent hash): n times one object's throughput, and List merges
// the shards in key order. Transactions need keys in one shard: give them a
// common hash tag.
func HashShards(n int) Partitioning {
	return Partitioning{scheme: router.Shards, shards: n}
}

// WithPartitioning sets how keys are spread over objects. It affects every
// operation. The default is PerKey().
func WithPartitioning(p Partitioning) Option {
	return func(c *config) { c.partitioning = p }
}

// WithPrefix gives the store a namespace of its own: two stores on one
// Namespace with different prefixes never see each other's keys, in Get,
// List, transactions, or object names. The prefix is not part of the keys
// the store returns. At most MaxPrefixBytes of UTF-8.
func WithPrefix(prefix string) Option {
	return func(c *config) { c.prefix = prefix }
}

// WithCodec sets how values are encoded; the default is JSON(). It affects
// every operation that reads or writes values.
func WithCodec(codec Codec) Option {
	return func(c *config) { c.codec = codec }
}

// WithPageSize sets how many entries List fetches from an object per
// request, 1 to 1000; the default is 100. Larger pages mean fewer requests
// and more memory per page.
func WithPageSize(n int) Option {
	return func(c *config) { c.pageSize = n }
}

// RetryPolicy says how a Store retries a call that failed with
// ErrUnavailable, the runtime's transient failure. Only idempotent requests
// are retried: Get, GetEntry, List pages, Set, Delete, and transactions
// without conditions. Each attempt gets a new stub, as Cloudflare advises.
// A conditional write (CompareAndSwap, CompareAndDelete, a transaction with
// conditions) is never re-sent: its error wraps ErrUnknownOutcome. Calls
// refused with ErrOverloaded are never retried: retrying makes overload
// worse.
type RetryPolicy struct {
	// MaxAttempts is the number of attempts in all, at least 1 (1: no
	// retries).
	MaxAttempts int
	// BaseDelay is the ceiling of the random wait before the first retry;
	// it doubles for each further retry up to MaxDelay ("full jitter").
	BaseDelay time.Duration
	MaxDelay  time.Duration
}

// DefaultRetryPolicy is 4 attempts with full-jitter backoff from 10ms up to
// 500ms, always bounded by the caller's context.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{MaxAttempts: 4, BaseDelay: 10 * time.Millisecond, MaxDelay: 500 * time.Millisecond}
}

// ceiling is the ceiling of the random wait before retry attempt+1:
// BaseDelay doubled attempt-1 times, at most MaxDelay. It never overflows,
// whatever MaxAttempts is.
func (p RetryPolicy) ceiling(attempt int) time.Duration {
	if p.BaseDelay <= 0 || p.MaxDelay <= 0 {
		return max(0, min(p.BaseDelay, p.MaxDelay))
	}
	shift := attempt - 1
	if shift >= 62 || p.BaseDelay > p.MaxDelay>>shift {
		return p.MaxDelay
	}
	return p.BaseDelay << shift
}

// WithRetry sets the retry policy for calls that fail with ErrUnavailable;
// the default is DefaultRetryPolicy(). RetryPolicy{MaxAttempts: 1} turns
// retries off.
func WithRetry(p RetryPolicy) Option {
	return func(c *config) { c.retry = p }
}

// WithWatchTokens makes ServeWatch require a valid token query parameter,
// issued by the store's WatchToken, and answer 401 without handing the
// socket over when it is missing, malformed, expired, issued for another
// key or store, or altered. It affects ServeWatch, WatchToken and
// CheckWatchToken; Watch, in process, needs no token. Without it,
// ServeWatch lets in anyone its handler lets in.
func WithWatchTokens(t *WatchTokens) Option {
	return func(c *config) { c.watchTokens, c.tokensSet = t, true }
}

// Codec encodes values to bytes and back. Implementations must be safe for
// concurrent use.
type Codec interface {
	Marshal(v any) ([]byte, error)
	Unmarshal(data []byte, v any) error
}

// JSON returns the default codec, encoding/json.
func JSON() Codec { return jsonCodec{} }

type jsonCodec struct{}

func (jsonCodec) Marshal(v any) ([]byte, error)      { return json.Marshal(v) }
func (jsonCodec) Unmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }

// Raw returns a codec that stores []byte values as they are, for a
// Store[[]byte] that keeps opaque bytes. It fails on any other type.
func Raw() Codec { return rawCodec{} }

type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) {
	switch b := v.(type) {
	case []byte:
		return b, nil
	case *[]byte:
		return *b, nil
	}
	return nil, fmt.Errorf("raw codec needs []byte, got %T", v)
}

func (rawCodec) Unmarshal(data []byte, v any) error {
	p, ok := v.(*[]byte)
	if !ok {
		return fmt.Errorf("raw codec needs *[]byte, got %T", v)
	}
	*p = bytes.Clone(data)
	return nil
}
