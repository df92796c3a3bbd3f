package watch

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"

	"github.com/dokv/dokv/internal/exactjson"
	"github.com/dokv/dokv/internal/protocol"
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

// MaxKeyJSONBytes bounds the JSON of a watcher's key (KeyJSON): a key of
// protocol.MaxKeyBytes whose every byte json.Marshal writes as \u00XX.
// Messages keep room for it, as each watcher's key is added to a message
// written once for all (WithKey).
const MaxKeyJSONBytes = 6*protocol.MaxKeyBytes + 2

// Message is one JSON text message to a watcher.
//
// The object writes each message once for every watcher it goes to,
// without a key (ChangeMessage, StartMessage, EventMessage), and each
// watcher's own key is added as the message is sent (WithKey): a Go
// watcher's is the stored key it watches, and a browser's the key it
// asked for (ServeWatch passes it), which the object cannot derive from
// the stored key (under ObjectNamedByKey the key is the object's name).
type Message struct {
	Type string `json:"type"`
	// Key is the watcher's key.
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
// message, with the longest key a watcher may add, would exceed
// MaxMessageBytes.
func (m *Message) setValue(value []byte) {
	switch {
	case len(value)+MaxKeyJSONBytes+256 > MaxMessageBytes:
		m.Truncated = true
	case exactjson.Inlinable(value):
		m.Value = value
	default:
		if len(value)*4/3+MaxKeyJSONBytes+256 > MaxMessageBytes {
			m.Truncated = true
		} else {
			m.Value64 = value
		}
	}
}

// ChangeMessage is the message of a committed change, without a key (see
// WithKey).
func ChangeMessage(c *Change) []byte {
	m := Message{Type: TypeSet, At: c.At, Version: c.At}
	if c.Deleted {
		m = Message{Type: TypeDelete, At: c.At}
	} else {
		m.setValue(c.Value)
	}
	return m.Encode()
}

// StartMessage is the first message of a stream, without a key (see
// WithKey). For FromResume, at is the position the stream resumes from;
// otherwise the object's version, with the key's state (version 0 when it
// is absent).
func StartMessage(from string, at, version uint64, value []byte) []byte {
	m := Message{Type: TypeStart, At: at, From: from, Version: version}
	if version > 0 {
		m.setValue(value)
	}
	return m.Encode()
}

// EventMessage is the message of an emitted event, which the caller has
// checked, without a key (see WithKey).
func EventMessage(at uint64, event []byte) []byte {
	return (&Message{Type: TypeEvent, At: at, Event: event}).Encode()
}

// KeyJSON is a watcher's key as its messages carry it (a JSON string), for
// WithKey.
func KeyJSON(key string) []byte {
	b, err := json.Marshal(key)
	if err != nil {
		panic("watch: a string does not encode: " + err.Error())
	}
	return b
}

// WithKey returns m, a message written without a key, with the member
// "key": keyJSON after its first member, "type". The entry module's
// withKey does the same for the watchers it serves: a type is a bare word,
// so the type's value ends at the first quote after `{"type":"`.
func WithKey(m, keyJSON []byte) []byte {
	const head = `{"type":"`
	if !bytes.HasPrefix(m, []byte(head)) {
		panic("watch: a message does not start with its type: " + string(m))
	}
	i := len(head) + bytes.IndexByte(m[len(head):], '"') + 1
	out := make([]byte, 0, len(m)+len(keyJSON)+7)
	out = append(out, m[:i]...)
	out = append(out, `,"key":`...)
	out = append(out, keyJSON...)
	return append(out, m[i:]...)
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
	// ReasonClosed: the namespace that hosts the object in process was
	// closed (a server stopping).
	ReasonClosed = "closed"
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
