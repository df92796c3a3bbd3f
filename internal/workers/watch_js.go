//go:build js && wasm

package workers

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/dokv/dokv/internal/object"
	"github.com/dokv/dokv/internal/watch"
)

// --- Worker side: a request's handler watching an object ---

// Stream is an open watch of an object, read by the request that opened
// it: one JSON message per Next.
type Stream struct {
	id     int32
	closed bool
}

// Watch opens a watch of the stored key in the object with the hex ID id,
// through the object's watch RPC method. The first message says where the
// stream starts.
func Watch(ctx context.Context, binding, id, key string, after uint64, resume bool) (*Stream, error) {
	bp, bl := strPtr(binding)
	ip, il := strPtr(id)
	kp, kl := strPtr(key)
	r := int32(0)
	if resume {
		r = 1
	}
	reply, err := roundTrip(ctx, func(token, rid int32) {
		stubWatch(token, rid, bp, bl, ip, il, kp, kl, float64(after), r)
	})
	if err != nil {
		return nil, err
	}
	if len(reply) != 4 {
		return nil, errors.New("dokv: malformed watch handle")
	}
	return &Stream{id: int32(binary.LittleEndian.Uint32(reply))}, nil
}

// Next returns the next message, waiting until one arrives or ctx ends.
func (s *Stream) Next(ctx context.Context) ([]byte, error) {
	if s.closed {
		return nil, errors.New("dokv: watch closed")
	}
	return roundTrip(ctx, func(token, rid int32) { streamRead(token, rid, s.id) })
}

// Close ends the watch.
func (s *Stream) Close() {
	if !s.closed {
		s.closed = true
		streamClose(s.id)
	}
}

// Emit delivers event (JSON) to the watchers of the stored key in the
// object with the hex ID id.
func Emit(ctx context.Context, binding, id, key string, event []byte) error {
	bp, bl := strPtr(binding)
	ip, il := strPtr(id)
	kp, kl := strPtr(key)
	ep, el := bytesPtr(event)
	_, err := roundTrip(ctx, func(token, rid int32) { stubEmit(token, rid, bp, bl, ip, il, kp, kl, ep, el) })
	return err
}

// --- Durable Object side: the object's watchers ---
//
// The entry module keeps the watchers (hibernatable WebSockets and the
// streams of Go watchers) under the tag of their stored key; Go decides
// what they receive. Each export below leaves in output a list of
// messages, each prefixed by the tag of its watchers: u32 tag length, tag,
// u32 message length, message (little endian). The messages have no key:
// the entry module adds each watcher's own (its withKey is
// watch.WithKey), which dokvWatchStart gave it.

// dokvWatchStart starts a watch on object h, which has watchers watchers
// already. input holds the stored key (keyLen bytes); then, if afterLen is
// not negative, the text of the position to resume after (afterLen bytes),
// which Go parses by the one rule of watch.ParsePosition: the entry module
// passes on what it received, from a URL or an RPC argument, unread; then,
// if watchedLen is not negative, the key the watcher asked for (watchedLen
// bytes), which its messages carry instead of the stored key (ServeWatch
// passes the user's key). output holds, with the stored key's tag, the
// JSON of the watcher's key, then the watch's first messages. It returns
// output's length, or a refusal (see watchBad).
//
//go:wasmexport dokvWatchStart
func dokvWatchStart(h, keyLen, afterLen, watchedLen, watchers int32) (result int32) {
	defer releaseInput()
	defer recoverWatch(&result)
	o, ok := objects[h]
	if !ok || keyLen < 0 || int(keyLen)+max(int(afterLen), 0)+max(int(watchedLen), 0) != len(input) {
		return watchFail(watchInternal, "dokv: unknown object handle or staging mismatch")
	}
	key := string(input[:keyLen])
	rest := input[keyLen:]
	var after uint64
	resume := afterLen >= 0
	if resume {
		var err error
		if after, err = watch.ParsePosition(string(rest[:afterLen])); err != nil {
			return watchFail(watchBad, "after: "+err.Error())
		}
		rest = rest[afterLen:]
	}
	keyJSON := watch.KeyJSON(key)
	if watchedLen >= 0 {
		var err error
		if keyJSON, err = object.WatchedKeyJSON(string(rest)); err != nil {
			return watchError(err)
		}
	}
	messages, err := o.Watch(key, after, resume, int(watchers))
	if err != nil {
		return watchError(err)
	}
	tag := watch.Tag(key)
	output = appendTagged(output[:0], tag, keyJSON)
	for _, m := range messages {
		output = appendTagged(output, tag, m)
	}
	return int32(len(output))
}

// dokvWatchEmit makes the message of an event: input holds the stored key
// (keyLen bytes, none for every watcher of the object) then the event's
// JSON (eventLen bytes). output holds the message with its tag, empty for
// every watcher.
//
//go:wasmexport dokvWatchEmit
func dokvWatchEmit(h, keyLen, eventLen int32) (result int32) {
	defer releaseInput()
	defer recoverWatch(&result)
	o, ok := objects[h]
	if !ok || keyLen < 0 || eventLen < 0 || int(keyLen)+int(eventLen) != len(input) {
		return watchFail(watchInternal, "dokv: unknown object handle or staging mismatch")
	}
	key := string(input[:keyLen])
	m, err := o.Emit(key, input[keyLen:])
	if err != nil {
		return watchError(err)
	}
	tag := ""
	if key != "" {
		tag = watch.Tag(key)
	}
	output = appendTagged(output[:0], tag, m)
	return int32(len(output))
}

// dokvChanges leaves in output the messages of the changes the last
// request to object h committed, each with its key's tag, and returns
// output's length. The entry module asks only when the object has
// watchers.
//
//go:wasmexport dokvChanges
func dokvChanges(h int32) int32 {
	output = output[:0]
	o, ok := objects[h]
	if !ok {
		return 0
	}
	for _, c := range o.Changes() {
		output = appendTagged(output, watch.Tag(c.Key), watch.ChangeMessage(&c))
	}
	return int32(len(output))
}

func appendTagged(b []byte, tag string, m []byte) []byte {
	b = binary.LittleEndian.AppendUint32(b, uint32(len(tag)))
	b = append(b, tag...)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(m)))
	return append(b, m...)
}

func watchError(err error) int32 {
	switch {
	case errors.Is(err, object.ErrBadWatch):
		return watchFail(watchBad, err.Error())
	case errors.Is(err, object.ErrTooManyWatchers):
		return watchFail(watchTooMany, watch.ReasonTooManyWatchers)
	}
	return watchFail(watchInternal, err.Error())
}

// watchFail leaves code and msg in output and returns the refusal.
func watchFail(code byte, msg string) int32 {
	output = append(append(output[:0], code), msg...)
	return -int32(len(output)) - 1
}

func recoverWatch(result *int32) {
	if p := recover(); p != nil {
		*result = watchFail(watchInternal, fmt.Sprint("dokv: ", p))
	}
}

// Forward has the entry module answer the request ctx serves with the
// response of the object's fetch handler to url (sent with the request's
// headers), instead of the response its handler writes.
func Forward(ctx context.Context, binding, id, url string) error {
	rid := requestID(ctx)
	if rid == 0 {
		return ErrNoRequest
	}
	bp, bl := strPtr(binding)
	ip, il := strPtr(id)
	up, ul := strPtr(url)
	forward(rid, bp, bl, ip, il, up, ul)
	return nil
}
