package watch

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"

	"github.com/dokv/dokv/internal/exactjson"
)

// Limits of a watch.
const (
	// MaxMessageBytes bounds one message to a watcher. A change whose
	// message would be larger is sent without its value, marked truncated.
	MaxMessageBytes = 1 << 20
	// MaxEventBytes bounds the JSON of one emitted event.
	MaxEventBytes = 64 << 10
	// MaxWatchers bounds the watchers of one object.
	MaxWatchers = 1000
	// MaxLag is how many messages a watcher may have waiting before it is
	// dropped as too slow.
	MaxLag = 256
)

// Message types.
const (
	TypeStart  = "start"  // the first message: where the stream starts
	TypeSet    = "set"    // a put of the key
	TypeDelete = "delete" // a delete of the key
	TypeEvent  = "event"  // an emitted event, not stored
	TypeClose  = "close"  // the last message to a Go watcher: why it ends
)

// Where a stream starts (the From of a start message).
const (
	// FromSnapshot: the start message carries the key's current state.
	FromSnapshot = "snapshot"
	// FromResume: the changes after the requested position follow.
	FromResume = "resume"
	// FromResync: the requested position was past the log's horizon; the
	// start message carries the key's current state.
	FromResync = "resync"
)

// Message is one JSON text message to a watcher.
type Message struct {
	Type string `json:"type"`
	// Key is the stored key; empty for an event emitted to every watcher
	// of the object.
	Key string `json:"key,omitempty"`
	// At is the position to resume from after this message.
	At   uint64 `json:"at"`
	From string `json:"from,omitempty"`
	// Version is the key's version: absent (0) when the key is.
	Version uint64 `json:"version,omitempty"`
	// Value is the stored value, verbatim, when it can stand in the message
	// as it is (exactjson.Inlinable); Value64 (base64) when it cannot.
	// Either way a reader gets back exactly the stored bytes.
	Value     json.RawMessage `json:"value,omitempty"`
	Value64   []byte          `json:"value64,omitempty"`
	Truncated bool            `json:"truncated,omitempty"`
	Event     json.RawMessage `json:"event,omitempty"`
	Reason    string          `json:"reason,omitempty"`
}

// Encode returns m as JSON, with Value copied verbatim (encoding/json would
// compact and escape it) and an empty Value64 written as "" (omitempty
// would leave it out, and the reader would see no value). It cannot fail:
// every field marshals, Event is checked JSON and Value is inlinable.
func (m *Message) Encode() []byte {
	rest := *m
	rest.Value, rest.Value64 = nil, nil
	b, err := json.Marshal(&rest)
	if err != nil {
		panic("watch: message does not encode: " + err.Error())
	}
	return exactjson.AppendValue(b, m.Value, m.Value64)
}

// setValue puts value in m, as JSON when it is, and leaves it out when the
// message would exceed MaxMessageBytes.
func (m *Message) setValue(value []byte) {
	switch {
	case len(value)+len(m.Key)+256 > MaxMessageBytes:
		m.Truncated = true
	case exactjson.Inlinable(value):
		m.Value = value
	default:
		if len(value)*4/3+len(m.Key)+256 > MaxMessageBytes {
			m.Truncated = true
		} else {
			m.Value64 = value
		}
	}
}

// ChangeMessage is the message of a committed change.
func ChangeMessage(c *Change) []byte {
	m := Message{Type: TypeSet, Key: c.Key, At: c.At, Version: c.At}
	if c.Deleted {
		m = Message{Type: TypeDelete, Key: c.Key, At: c.At}
	} else {
		m.setValue(c.Value)
	}
	return m.Encode()
}

// StartMessage is the first message of a stream. For FromResume, at is the
// position the stream resumes from; otherwise the object's version, with
// the key's state (version 0 when it is absent).
func StartMessage(key, from string, at, version uint64, value []byte) []byte {
	m := Message{Type: TypeStart, Key: key, At: at, From: from, Version: version}
	if version > 0 {
		m.setValue(value)
	}
	return m.Encode()
}

// EventMessage is the message of an emitted event, which the caller has
// checked with CheckEvent; key is empty for an event to every watcher.
func EventMessage(key string, at uint64, event []byte) []byte {
	return (&Message{Type: TypeEvent, Key: key, At: at, Event: event}).Encode()
}

// CloseMessage is the last message to a Go watcher.
func CloseMessage(reason string) []byte {
	return (&Message{Type: TypeClose, Reason: reason}).Encode()
}

// Tag is the WebSocket tag of the watchers of a stored key: Durable Objects
// allow tags of up to 256 characters, and keys may be longer.
func Tag(key string) string {
	if len(key) <= 200 {
		return "k:" + key
	}
	sum := sha256.Sum256([]byte(key))
	return "h:" + hex.EncodeToString(sum[:])
}

// Why a Go watcher's stream ends (the Reason of a close message).
const (
	ReasonLagging         = "lagging"
	ReasonTooManyWatchers = "too many watchers"
)

// Where and from where watches start.
const (
	// Path is the path of the Durable Object's fetch handler that accepts
	// the WebSocket watches ServeWatch hands over.
	Path = "/__dokv/watch"
	// MaxPosition is the largest watch position (see ParsePosition): the
	// largest integer JavaScript holds exactly, as versions are.
	MaxPosition = 1<<53 - 1
)

// What a browser's watcher may send. Watchers only listen; a client may
// keep its connection alive with the text message AutoPing, which the
// runtime answers AutoPong without waking the object. Any other message
// wakes the object: one over MaxClientMessageBytes (UTF-8 bytes) closes the
// watch with CloseMessageTooBig, and the MaxClientMessages-th closes it
// with CloseBadRequest, so that no client keeps an object awake.
const (
	AutoPing              = "ping"
	AutoPong              = "pong"
	MaxClientMessageBytes = 1024
	MaxClientMessages     = 16
)

// WebSocket close codes the object closes a browser's watch with.
const (
	// CloseNormal: the client closed the watch.
	CloseNormal = 1000
	// CloseBadRequest (policy violation): the watch request was invalid,
	// or the client sent MaxClientMessages messages (watchers only listen).
	CloseBadRequest = 1008
	// CloseMessageTooBig: the client sent a message over
	// MaxClientMessageBytes.
	CloseMessageTooBig = 1009
	// CloseInternal: the object failed to start the watch.
	CloseInternal = 1011
	// CloseTooManyWatchers (try again later): the object has MaxWatchers.
	CloseTooManyWatchers = 1013
)
