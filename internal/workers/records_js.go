//go:build js && wasm

package workers

import (
	"fmt"

	"github.com/dokv/dokv/internal/protocol"
	"github.com/dokv/dokv/internal/router"
)

// RecordKind is a record type that DokvObject serves over the RPC methods
// of @uploadista/kv-store-cloudflare-do (getUploadFile, setFlowJob, ...):
// its store's prefix, and a check that a JSON value decodes as the record.
type RecordKind struct {
	Prefix   string
	Validate func(json []byte) error
}

// recordKinds are the kinds the entry module may name, by number (1: upload
// files, 2: flow jobs); package dokv registers them.
var recordKinds = map[int32]RecordKind{}

// RegisterRecordKind makes kind n servable by dokvRecord.
func RegisterRecordKind(n int32, k RecordKind) { recordKinds[n] = k }

// recordTTL, when set, gives the time to live, in whole milliseconds on
// the wire (protocol.Mutation.TTL; 0 for none), of a write of the record
// json stored under prefix, as the Go program's stores decide it; an error
// refuses the write. Package dokv sets it (SetRecordTTL).
var recordTTL func(prefix string, json []byte) (uint64, error)

// SetRecordTTL makes fn decide the TTL of the records dokvRecord writes.
func SetRecordTTL(fn func(prefix string, json []byte) (uint64, error)) { recordTTL = fn }

// Serving reports whether main has called Serve. The Durable Object's calls
// come only after that (the entry module runs main until Serve before any
// call, startGo), so what main set up before Serve every call sees.
func Serving() bool { return handler != nil }

// Operations of dokvRecord.
const (
	recordGet    = 1
	recordSet    = 2
	recordDelete = 3
)

// dokvRecord(h, kind, op, n) runs one RPC method of the npm client on the
// object h: the record of kind stored in this object under its store's
// prefix (the ObjectNamedByKey layout), through the object's actor, so that
// versions advance as for any write. For a set, JS wrote the record's JSON
// (n bytes) to input. It returns the length of the reply in output: the
// record's JSON for a get; -1 when a get finds none; or -(2 + length) with
// an error message in output, in which case JS throws it (and a write
// rolls back).
//
// A set carries the TTL that the Go program's stores of the kind would give
// the record (recordTTL), so that a flow job finished from TypeScript
// expires after WithFlowJobRetention, and a record of a store with WithTTL
// expires as Go's writes do; the stored bytes stay exactly what JS sent.
//
//go:wasmexport dokvRecord
func dokvRecord(h, kind, op, n int32) (result int32) {
	defer releaseInput()
	defer func() {
		if p := recover(); p != nil {
			result = recordError(fmt.Sprint("dokv: ", p))
		}
	}()
	o, ok := objects[h]
	if !ok {
		return recordError("dokv: unknown object handle")
	}
	k, ok := recordKinds[kind]
	if !ok {
		return recordError(fmt.Sprintf("dokv: unknown record kind %d", kind))
	}
	if int(n) != len(input) {
		return recordError("dokv: record length does not match the bytes staged")
	}
	key := router.New(router.Named, "", 0, k.Prefix).StoredKey("")
	var req protocol.Request
	switch op {
	case recordGet:
		req = protocol.Request{Op: protocol.OpGet, Key: key}
	case recordSet:
		if err := k.Validate(input); err != nil {
			return recordError("dokv: the value is not a valid record: " + err.Error())
		}
		if size := len(key) + len(input); size > protocol.MaxEntryBytes {
			return recordError(fmt.Sprintf("dokv: value too large: record of %d bytes exceeds %d", size, protocol.MaxEntryBytes))
		}
		var ttl uint64
		if recordTTL != nil {
			var err error
			if ttl, err = recordTTL(k.Prefix, input); err != nil {
				return recordError("dokv: " + err.Error())
			}
		}
		req = protocol.Request{Op: protocol.OpWrite, Mutations: []protocol.Mutation{{Key: key, Kind: protocol.KindPut, Value: input, TTL: ttl}}}
	case recordDelete:
		req = protocol.Request{Op: protocol.OpWrite, Mutations: []protocol.Mutation{{Key: key, Kind: protocol.KindDelete}}}
	default:
		return recordError(fmt.Sprintf("dokv: unknown record operation %d", op))
	}
	reply, err := protocol.DecodeReply(req.Op, o.Handle(protocol.AppendRequest(nil, &req)))
	switch {
	case err != nil:
		return recordError("dokv: " + err.Error())
	case reply.Status != protocol.StatusOK:
		return recordError("dokv: " + reply.Message)
	case op == recordGet && !reply.Found:
		return -1
	case op == recordGet:
		output = append(output[:0], reply.Value...)
		return int32(len(output))
	}
	output = output[:0]
	return 0
}

// recordError leaves msg in output and returns the value that says so.
func recordError(msg string) int32 {
	output = append(output[:0], msg...)
	return -int32(len(output)) - 2
}
