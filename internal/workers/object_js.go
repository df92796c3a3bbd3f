//go:build js && wasm

package workers

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"unicode/utf8"

	"github.com/dokv/dokv/internal/object"
	"github.com/dokv/dokv/internal/protocol"
	"github.com/dokv/dokv/internal/storage"
)

// objects are the actors of the Durable Objects living in this isolate,
// by handle. A handle dies with the Go instance; the entry module makes a
// new one after a restart.
var (
	objects    = map[int32]*object.Object{}
	nextHandle int32
)

// dokvNewObject makes the actor of a Durable Object over its SQLite storage,
// which the entry module registered under the returned handle.
//
//go:wasmexport dokvNewObject
func dokvNewObject() int32 {
	nextHandle++
	objects[nextHandle] = object.New(&sqlEngine{h: nextHandle}, object.WithClock(runtimeClock))
	return nextHandle
}

// dokvDropObject forgets the actor of an object that workerd evicted.
//
//go:wasmexport dokvDropObject
func dokvDropObject(h int32) {
	delete(objects, h)
}

// runtimeClock is the Workers runtime's time, Date.now(): on Cloudflare it
// moves only between I/O, which is all an object's expiries need.
func runtimeClock() uint64 { return uint64(max(now(), 0)) }

// dokvEmptied reports (1 or 0) whether the last request or alarm run of
// object h left it without any record: the entry module then gives its
// storage back with deleteAll, outside the transaction.
//
//go:wasmexport dokvEmptied
func dokvEmptied(h int32) int32 {
	if o, ok := objects[h]; ok && o.Emptied() {
		return 1
	}
	return 0
}

// dokvAlarm runs the alarm of object h inside the transactionSync the entry
// module opened: it removes the expired records and re-arms. It returns 0,
// or -(length+1) with an error message in output, in which case the
// transaction rolls back and the alarm handler throws, so that the runtime
// retries it.
//
//go:wasmexport dokvAlarm
func dokvAlarm(h int32) (result int32) {
	defer func() {
		if p := recover(); p != nil {
			result = alarmError(fmt.Sprint("dokv: ", p))
		}
	}()
	o, ok := objects[h]
	if !ok {
		return alarmError("dokv: unknown object handle")
	}
	if err := o.Alarm(); err != nil {
		return alarmError("dokv: alarm: " + err.Error())
	}
	return 0
}

func alarmError(msg string) int32 {
	output = append(output[:0], msg...)
	return -int32(len(output)) - 1
}

// dokvObjectCall runs the request JS wrote to input on the object h, inside
// the transactionSync the entry module opened. It leaves the reply in output
// and returns its length, or -(length+1) when the request failed and the
// transaction must roll back.
//
//go:wasmexport dokvObjectCall
func dokvObjectCall(h int32, _ int32, n int32) (result int32) {
	// No collect here: an exported function must not block, and a forced
	// collection waits for the runtime's background workers.
	defer releaseInput()
	defer func() {
		// Handle never panics; the glue's own staging check may (see
		// takeBytes), and a panic must not unwind into JS.
		if p := recover(); p != nil {
			result = failCall(fmt.Sprint("dokv: ", p))
		}
	}()
	o, ok := objects[h]
	switch {
	case !ok:
		return failCall("dokv: unknown object handle")
	case int(n) != len(input):
		return failCall("dokv: request length does not match the bytes staged")
	}
	// Handle copies what it keeps from the request, and returns a new
	// reply: output holds one reply at a time, never a peak.
	output = o.Handle(input)
	if len(output) < 2 || protocol.Status(output[1]) != protocol.StatusOK {
		// A failed request applied nothing it may keep: roll back whatever
		// it wrote before it failed.
		return -int32(len(output)) - 1
	}
	return int32(len(output))
}

// dokvWrites reports (1 or 0) whether the request JS staged in input (n
// bytes) may write: the entry module runs a request that only reads
// outside transactionSync, as its SELECTs are consistent on their own, and
// saves the transaction. A request it cannot tell is treated as a write.
//
//go:wasmexport dokvWrites
func dokvWrites(n int32) int32 {
	if int(n) != len(input) || n < 2 {
		return 1
	}
	switch protocol.Op(input[1]) {
	case protocol.OpGet, protocol.OpList, protocol.OpStats:
		return 0
	}
	return 1
}

// failCall leaves an internal-error reply in output and returns the value
// that makes the entry module roll back.
func failCall(msg string) int32 {
	r := protocol.ErrorReply(protocol.StatusInternal, msg)
	output = protocol.AppendReply(output[:0], protocol.OpGet, &r)
	return -int32(len(output)) - 1
}

// sqlEngine is a storage.Engine over the object's SQLite database, through
// the entry module's sql* imports. Every request already runs inside
// transactionSync, so Atomic runs fn as it is and a failure rolls the whole
// request back.
type sqlEngine struct{ h int32 }

// sqlError turns a negative import result into the staged message.
func sqlError(n int32) error {
	return errors.New("sqlite: " + string(takeBytes(int(-n-1))))
}

func (e *sqlEngine) Get(key string) (protocol.Record, bool, error) {
	kp, kl := strPtr(key)
	n := sqlGet(e.h, kp, kl)
	switch {
	case n < 0:
		return protocol.Record{}, false, sqlError(n)
	case n == 0:
		takeBytes(0)
		return protocol.Record{}, false, nil
	}
	value := takeBytes(int(n - 1))
	return protocol.Record{Key: key, Version: uint64(sqlVersion()), Value: value, Expires: uint64(sqlExpires())}, true, nil
}

func (e *sqlEngine) Put(key string, version uint64, value []byte, expires uint64) error {
	kp, kl := strPtr(key)
	vp, vl := bytesPtr(value)
	if n := sqlPut(e.h, kp, kl, float64(version), vp, vl, float64(expires)); n < 0 {
		return sqlError(n)
	}
	return nil
}

func (e *sqlEngine) Delete(key string) error {
	kp, kl := strPtr(key)
	if n := sqlDelete(e.h, kp, kl); n < 0 {
		return sqlError(n)
	}
	return nil
}

func (e *sqlEngine) Scan(prefix, after string, limit, maxBytes int, now uint64) ([]protocol.Record, bool, error) {
	end, bounded := storage.PrefixEnd(prefix)
	if !bounded {
		end = string(utf8.MaxRune) + string(utf8.MaxRune)
	}
	fp, fl := strPtr(prefix)
	ap, al := strPtr(after)
	tp, tl := strPtr(end)
	n := sqlScan(e.h, fp, fl, ap, al, tp, tl, int32(limit), int32(min(maxBytes, math.MaxInt32)), float64(now))
	if n < 0 {
		return nil, false, sqlError(n)
	}
	return decodeScan(takeBytes(int(n)))
}

// decodeScan reads the records sqlScan staged.
func decodeScan(b []byte) ([]protocol.Record, bool, error) {
	var recs []protocol.Record
	bad := errors.New("sqlite: malformed scan result")
	for len(b) > 1 {
		if len(b) < 4 {
			return nil, false, bad
		}
		kl := int(binary.LittleEndian.Uint32(b))
		if len(b) < 4+kl+20 {
			return nil, false, bad
		}
		key := string(b[4 : 4+kl])
		b = b[4+kl:]
		version := uint64(math.Float64frombits(binary.LittleEndian.Uint64(b)))
		expires := uint64(math.Float64frombits(binary.LittleEndian.Uint64(b[8:])))
		vl := int(binary.LittleEndian.Uint32(b[16:]))
		if len(b) < 20+vl {
			return nil, false, bad
		}
		recs = append(recs, protocol.Record{Key: key, Version: version, Value: b[20 : 20+vl : 20+vl], Expires: expires})
		b = b[20+vl:]
	}
	if len(b) != 1 {
		return nil, false, bad
	}
	return recs, b[0] == 1, nil
}

func (e *sqlEngine) Stats(prefix string, now uint64) (protocol.Stats, error) {
	end, bounded := storage.PrefixEnd(prefix)
	if !bounded {
		end = string(utf8.MaxRune) + string(utf8.MaxRune)
	}
	fp, fl := strPtr(prefix)
	tp, tl := strPtr(end)
	if n := sqlStats(e.h, fp, fl, tp, tl, float64(now)); n < 0 {
		return protocol.Stats{}, sqlError(n)
	}
	b := takeBytes(24)
	f := func(i int) uint64 { return uint64(math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))) }
	return protocol.Stats{Keys: f(0), Bytes: f(1), StorageBytes: f(2)}, nil
}

func (e *sqlEngine) Expired(now uint64, limit int) ([]string, error) {
	n := sqlExpired(e.h, float64(now), int32(limit))
	if n < 0 {
		return nil, sqlError(n)
	}
	b := takeBytes(int(n))
	var keys []string
	for len(b) > 0 {
		if len(b) < 4 || len(b) < 4+int(binary.LittleEndian.Uint32(b)) {
			return nil, errors.New("sqlite: malformed expired keys")
		}
		kl := int(binary.LittleEndian.Uint32(b))
		keys = append(keys, string(b[4:4+kl]))
		b = b[4+kl:]
	}
	return keys, nil
}

func (e *sqlEngine) NextExpiry() (uint64, error) {
	v := sqlNextExpiry(e.h)
	if v < 0 {
		return 0, sqlError(int32(v))
	}
	return uint64(v), nil
}

func (e *sqlEngine) Empty() (bool, error) {
	n := sqlEmpty(e.h)
	if n < 0 {
		return false, sqlError(n)
	}
	return n == 1, nil
}

func (e *sqlEngine) SetAlarm(at uint64) error {
	if n := setAlarm(e.h, float64(at)); n < 0 {
		return sqlError(n)
	}
	return nil
}

func (e *sqlEngine) LastVersion() (uint64, error) {
	v := sqlLastVersion(e.h)
	if v < 0 {
		return 0, sqlError(int32(v))
	}
	return uint64(v), nil
}

func (e *sqlEngine) SetLastVersion(v uint64) error {
	if n := sqlSetLastVersion(e.h, float64(v)); n < 0 {
		return sqlError(n)
	}
	return nil
}

func (e *sqlEngine) Atomic(fn func() error) error { return fn() }
