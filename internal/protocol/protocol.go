// Package protocol is the wire format between a dokv client and a dokv
// object: one request message in, one reply message out.
//
// The same bytes cross the in-memory namespace and the Workers RPC boundary,
// so a protocol bug shows up in unit tests. Every message starts with a
// version byte. Old and new Workers talk to old and new objects during a
// deploy, so a decoder rejects an unknown version or op with ErrMalformed and
// never guesses.
//
// Encoding: integers are unsigned varints, strings and byte slices are a
// varint length followed by the bytes. Decoders check every length against
// the remaining input and against the limits below, so no input can make
// them panic or allocate more than a small multiple of the message size.
package protocol

import (
	"errors"
	"fmt"
)

// Version is the protocol version this package writes and reads.
const Version byte = 1

// Limits enforced by the object. Clients check them first so that a request
// that breaks one is never sent; the object checks them again because it
// must not trust its callers.
const (
	// MaxKeyBytes bounds a stored key (the user's key plus the store's
	// encoded prefix).
	MaxKeyBytes = 4096
	// MaxEntryBytes bounds a stored key plus its value so that Cloudflare
	// stores the row: SQLite-backed Durable Objects refuse a string, BLOB or
	// row over 2 MB, 2,000,000 bytes (Cloudflare's Durable Objects limits:
	// "Key and value combined cannot exceed 2 MB", "Maximum string, BLOB or
	// table row size: 2 MB"; Cloudflare counts storage in decimal units).
	// A row of dokv's table is the key, the version (an 8-byte integer) and
	// the value, behind SQLite's record header (a few bytes of varints):
	// RowOverheadBytes keeps room for both. Local workerd allows 4 MiB, so
	// only this constant keeps a test here from accepting an entry that
	// Cloudflare would refuse.
	MaxEntryBytes = 2_000_000 - RowOverheadBytes
	// RowOverheadBytes is what a row holds besides its key and value: at
	// most 17 bytes (the version and the record header), rounded up.
	RowOverheadBytes = 64
	// MaxMutations bounds the keys written or checked by one request.
	MaxMutations = 128
	// MaxListLimit bounds the entries one List request may return.
	MaxListLimit = 1000
	// MaxReplyBytes bounds the bytes of values one List reply carries, so a
	// page never holds a whole object in memory: two of the largest entries.
	MaxReplyBytes = 2 * MaxEntryBytes
	// MaxRequestBytes bounds a whole request; it is below the 32 MiB that
	// Workers RPC accepts for one call.
	MaxRequestBytes = 24 << 20
)

// ErrMalformed reports a message that cannot be decoded: a wrong version, an
// unknown op, or bytes that do not follow the format.
var ErrMalformed = errors.New("malformed message")

// ErrTooMany reports a message that holds more elements than a limit allows
// (more than MaxMutations mutations, say). It wraps ErrMalformed; the object
// answers it with StatusTooMany rather than StatusBadRequest.
var ErrTooMany = fmt.Errorf("%w: too many elements", ErrMalformed)

// Op names what a request asks the object to do.
type Op byte

// The ops of protocol version 1.
const (
	OpGet   Op = 1 // read one key
	OpWrite Op = 2 // apply mutations atomically, if all their conditions hold
	OpList  Op = 3 // read a page of keys in order
	OpStats Op = 4 // count the keys under a prefix, and the object's storage
)

// ReadsOnly reports whether the encoded request req can only read and
// reports nothing of the object's versions: a get or a list. A request it
// cannot tell counts as one that may write.
func ReadsOnly(req []byte) bool {
	return len(req) >= 2 && (Op(req[1]) == OpGet || Op(req[1]) == OpList)
}

func (o Op) String() string {
	switch o {
	case OpGet:
		return "get"
	case OpWrite:
		return "write"
	case OpList:
		return "list"
	case OpStats:
		return "stats"
	}
	return fmt.Sprintf("op(%d)", byte(o))
}

// Kind is what a mutation does to its key.
type Kind byte

// Mutation kinds.
const (
	KindCheck  Kind = 0 // only check the condition
	KindPut    Kind = 1 // store the value
	KindDelete Kind = 2 // remove the key
)

// Mutation is one key's part of a write request.
type Mutation struct {
	Key  string
	Kind Kind
	// HasCondition makes the write depend on the stored version being
	// Version (0: the key is absent).
	HasCondition bool
	Version      uint64
	Value        []byte // KindPut only
	// TTL makes a put expire this many milliseconds after the object
	// applies it; 0 never expires. At most MaxTTL.
	TTL uint64
}

// MaxTTL bounds a mutation's TTL: about 100 years, in milliseconds.
const MaxTTL = 100 * 365 * 24 * 3600 * 1000

// MaxVersion is the largest version an object hands out: 2^53-1, the
// largest integer JavaScript numbers and SQLite's REAL conversions keep
// exactly, as versions cross both on Workers.
const MaxVersion = 1<<53 - 1

// ListRequest asks for up to Limit entries whose keys start with Prefix and
// sort after StartAfter, in ascending byte order.
type ListRequest struct {
	Prefix     string
	StartAfter string
	Limit      int
}

// Request is one decoded request.
type Request struct {
	Op        Op
	Key       string     // OpGet; OpStats: the prefix of the keys to count
	Mutations []Mutation // OpWrite
	List      ListRequest
}

// Status is the outcome of a request.
type Status byte

// Statuses. Anything but StatusOK carries Index, Current and Message.
const (
	StatusOK         Status = 0
	StatusConflict   Status = 1 // a condition failed; Index names the mutation, Current its version
	StatusInvalidKey Status = 2
	StatusTooLarge   Status = 3
	StatusTooMany    Status = 4
	StatusBadRequest Status = 5 // the request could not be decoded or is not allowed
	StatusInternal   Status = 6 // the object failed; the request was not applied
	statusUpperBound Status = 7
)

const (
	maxMessageBytes   = 1024 // an error reply's message
	minMutationBytes  = 4    // key length, kind, condition flag, version
	minListEntryBytes = 3    // key length, version, value length
)

// Record is one stored key with its version and value.
type Record struct {
	Key     string
	Version uint64
	Value   []byte
	// Expires is when the record expires, in Unix milliseconds; 0 never.
	Expires uint64
}

// Reply is one decoded reply.
type Reply struct {
	Status Status

	// OpGet: Found is false on a miss; Version, Value and Expires (Unix
	// milliseconds, 0 for never) describe the hit.
	Found   bool
	Version uint64
	Value   []byte
	Expires uint64

	// OpWrite: the new version of each mutation, in request order (0 for
	// deletes; for checks, the version the key had, 0 when absent).
	Versions []uint64

	// OpList: the page, and whether more entries may follow the last one.
	Entries []Record
	More    bool

	// OpStats: the object's figures; Version is its newest version.
	Stats Stats

	// Errors.
	Index   int
	Current uint64
	Message string
}

// Stats are an object's figures for OpStats.
type Stats struct {
	Keys  uint64 // keys under the prefix
	Bytes uint64 // their keys' and values' bytes
	// StorageBytes is the object's whole storage: SQLite's database size
	// on Workers, the bytes of every key and value in memory.
	StorageBytes uint64
	// NextAlarm is when the object's alarm next removes expired keys, in
	// Unix milliseconds; 0 when none is due. Set by the object, not the
	// engine.
	NextAlarm uint64
}

// ErrorReply builds a reply for a failed request.
func ErrorReply(s Status, msg string) Reply {
	return Reply{Status: s, Message: msg}
}
