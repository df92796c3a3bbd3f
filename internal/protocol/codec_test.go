package protocol

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// errorStatuses are every status but StatusOK.
var errorStatuses = []Status{
	StatusConflict, StatusInvalidKey, StatusTooLarge, StatusTooMany, StatusBadRequest, StatusInternal,
}

var allOps = []Op{OpGet, OpWrite, OpList, OpStats}

// sampleRequests returns valid requests of every op, used by the round-trip,
// truncation and fuzz tests.
func sampleRequests() []Request {
	many := make([]Mutation, MaxMutations)
	for i := range many {
		many[i] = Mutation{Key: fmt.Sprintf("k%03d", i), Kind: Kind(i % 3), HasCondition: i%2 == 0, Version: uint64(i) * 1000}
		if many[i].Kind == KindPut {
			many[i].Value = []byte(fmt.Sprintf("value %d", i))
		}
	}
	return []Request{
		{Op: OpGet, Key: "k"},
		{Op: OpGet, Key: ""},
		{Op: OpGet, Key: "ключ/日本語/🙂"},
		{Op: OpGet, Key: strings.Repeat("x", MaxKeyBytes)},
		{Op: OpWrite, Mutations: []Mutation{{Key: "a", Kind: KindPut, Value: []byte("hello")}}},
		{Op: OpWrite, Mutations: []Mutation{{Key: "empty", Kind: KindPut, Value: []byte{}}}},
		{Op: OpWrite, Mutations: []Mutation{
			{Key: "put-if", Kind: KindPut, HasCondition: true, Version: 7, Value: []byte{0, 1, 2, 0xff}},
			{Key: "del", Kind: KindDelete},
			{Key: "del-if", Kind: KindDelete, HasCondition: true, Version: math.MaxUint64},
			{Key: "check", Kind: KindCheck, HasCondition: true, Version: 0},
			{Key: "check-free", Kind: KindCheck},
			{Key: "日本/ü", Kind: KindPut, Value: []byte("ünïcödé")},
		}},
		{Op: OpWrite, Mutations: many},
		{Op: OpWrite, Mutations: []Mutation{
			{Key: "ttl", Kind: KindPut, Value: []byte("v"), TTL: 1},
			{Key: "ttl-if", Kind: KindPut, HasCondition: true, Version: 3, Value: []byte{}, TTL: MaxTTL},
		}},
		{Op: OpList, List: ListRequest{Prefix: "p/", StartAfter: "p/c", Limit: 10}},
		{Op: OpList, List: ListRequest{Limit: 0}},
		{Op: OpList, List: ListRequest{Prefix: "日本", StartAfter: "", Limit: MaxListLimit}},
		{Op: OpStats, Key: "3:p/:"},
		{Op: OpStats},
	}
}

type sampleReply struct {
	op    Op
	reply Reply
}

// sampleReplies returns valid replies to every op, including error replies
// of every status.
func sampleReplies() []sampleReply {
	versions := make([]uint64, MaxMutations)
	for i := range versions {
		versions[i] = uint64(i) << (i % 64)
	}
	entries := make([]Record, MaxListLimit)
	for i := range entries {
		entries[i] = Record{Key: fmt.Sprintf("key/%04d", i), Version: uint64(i + 1), Value: []byte(fmt.Sprint(i))}
	}
	out := []sampleReply{
		{OpGet, Reply{Found: false}},
		{OpGet, Reply{Found: true, Version: 1, Value: []byte("v")}},
		{OpGet, Reply{Found: true, Version: math.MaxUint64, Value: []byte{}}},
		{OpWrite, Reply{Versions: []uint64{5}}},
		{OpWrite, Reply{Versions: []uint64{0, 9, math.MaxUint64}}},
		{OpWrite, Reply{Versions: versions}},
		{OpList, Reply{Entries: []Record{}, More: false}},
		{OpList, Reply{Entries: []Record{{Key: "a", Version: 1, Value: []byte{}}, {Key: "ü/🙂", Version: 2, Value: []byte("x")}}, More: true}},
		{OpList, Reply{Entries: entries, More: true}},
		{OpGet, Reply{Found: true, Version: MaxVersion, Value: []byte("v"), Expires: 1_800_000_000_000}},
		{OpList, Reply{Entries: []Record{{Key: "a", Version: 1, Value: []byte{}}, {Key: "b", Version: 2, Value: []byte("x"), Expires: 7}}, More: true}},
		{OpList, Reply{Entries: []Record{{Key: "a", Version: 1, Value: []byte{}, Expires: 9}}}},
		{OpStats, Reply{Version: 7, Stats: Stats{Keys: 3, Bytes: 120, StorageBytes: 8192, NextAlarm: 1_800_000_000_000}}},
		{OpStats, Reply{Stats: Stats{StorageBytes: math.MaxUint64}}},
	}
	for _, s := range errorStatuses {
		for _, op := range allOps {
			out = append(out, sampleReply{op, Reply{Status: s, Index: int(s) * 10, Current: uint64(s) * 1e12, Message: fmt.Sprintf("failed with status %d", s)}})
		}
	}
	return out
}

// normalizeRequest returns what r decodes to: a put's nil value decodes as
// an empty value, and other mutations carry no value on the wire.
func normalizeRequest(r Request) Request {
	if r.Op != OpWrite {
		return Request{Op: r.Op, Key: r.Key, List: r.List}
	}
	out := Request{Op: r.Op, Mutations: make([]Mutation, len(r.Mutations))}
	for i, m := range r.Mutations {
		if m.Kind == KindPut {
			m.Value = append([]byte{}, m.Value...)
		} else {
			m.Value = nil
		}
		out.Mutations[i] = m
	}
	return out
}

func mustDecodeRequest(t *testing.T, data []byte) Request {
	t.Helper()
	r, err := DecodeRequest(data)
	require.NoError(t, err)
	return r
}

func requireMalformed(t *testing.T, err error, msgAndArgs ...any) {
	t.Helper()
	require.Error(t, err, msgAndArgs...)
	require.ErrorIs(t, err, ErrMalformed, msgAndArgs...)
}

// wire builds a message from raw parts: bytes are appended as they are,
// uint64 as varints and strings as length-prefixed bytes.
func wire(parts ...any) []byte {
	var b []byte
	for _, p := range parts {
		switch v := p.(type) {
		case byte:
			b = append(b, v)
		case Op:
			b = append(b, byte(v))
		case Kind:
			b = append(b, byte(v))
		case Status:
			b = append(b, byte(v))
		case []byte:
			b = append(b, v...)
		case uint64:
			b = binary.AppendUvarint(b, v)
		case int:
			b = binary.AppendUvarint(b, uint64(v))
		case string:
			b = binary.AppendUvarint(b, uint64(len(v)))
			b = append(b, v...)
		default:
			panic(fmt.Sprintf("wire: %T", p))
		}
	}
	return b
}

func TestOp_String(t *testing.T) {
	assert.Equal(t, "get", OpGet.String())
	assert.Equal(t, "write", OpWrite.String())
	assert.Equal(t, "list", OpList.String())
	assert.Equal(t, "stats", OpStats.String())
	assert.Equal(t, "op(9)", Op(9).String())
}

func TestErrorReply(t *testing.T) {
	r := ErrorReply(StatusConflict, "boom")
	assert.Equal(t, Reply{Status: StatusConflict, Message: "boom"}, r)
}

func TestAppendRequest_Layout(t *testing.T) {
	// Pin the wire layout: old and new Workers must agree on it.
	got := AppendRequest(nil, &Request{Op: OpWrite, Mutations: []Mutation{
		{Key: "ab", Kind: KindPut, HasCondition: true, Version: 300, Value: []byte("xyz")},
		{Key: "c", Kind: KindDelete},
	}})
	want := []byte{
		Version, byte(OpWrite), 2,
		2, 'a', 'b', byte(KindPut), 1, 0xac, 0x02, 3, 'x', 'y', 'z',
		1, 'c', byte(KindDelete), 0, 0,
	}
	assert.Equal(t, want, got)

	got = AppendRequest(nil, &Request{Op: OpGet, Key: "k"})
	assert.Equal(t, []byte{Version, byte(OpGet), 1, 'k'}, got)

	got = AppendRequest(nil, &Request{Op: OpList, List: ListRequest{Prefix: "p", StartAfter: "s", Limit: 1000}})
	assert.Equal(t, []byte{Version, byte(OpList), 1, 'p', 1, 's', 0xe8, 0x07}, got)
}

func TestAppendRequest_AppendsToBuffer(t *testing.T) {
	prefix := []byte("prefix")
	buf := AppendRequest(append([]byte{}, prefix...), &Request{Op: OpGet, Key: "k"})
	require.True(t, bytes.HasPrefix(buf, prefix))
	assert.Equal(t, Request{Op: OpGet, Key: "k"}, mustDecodeRequest(t, buf[len(prefix):]))
}

func TestRequestRoundTrip_AllOps(t *testing.T) {
	for i, req := range sampleRequests() {
		t.Run(fmt.Sprintf("%d-%s", i, req.Op), func(t *testing.T) {
			data := AppendRequest(nil, &req)
			got := mustDecodeRequest(t, data)
			assert.Equal(t, normalizeRequest(req), got)
			// Encoding is deterministic: the decoded request re-encodes to
			// the same bytes.
			assert.Equal(t, data, AppendRequest(nil, &got))
		})
	}
}

func TestRequestRoundTrip_EmptyAndNilValue(t *testing.T) {
	for _, v := range [][]byte{nil, {}} {
		data := AppendRequest(nil, &Request{Op: OpWrite, Mutations: []Mutation{{Key: "k", Kind: KindPut, Value: v}}})
		got := mustDecodeRequest(t, data)
		require.Len(t, got.Mutations, 1)
		assert.NotNil(t, got.Mutations[0].Value, "a put always carries a value, possibly empty")
		assert.Empty(t, got.Mutations[0].Value)
	}
}

func TestRequestRoundTrip_NonPutValueNotSent(t *testing.T) {
	for _, k := range []Kind{KindCheck, KindDelete} {
		data := AppendRequest(nil, &Request{Op: OpWrite, Mutations: []Mutation{{Key: "k", Kind: k, Value: []byte("ignored")}}})
		assert.False(t, bytes.Contains(data, []byte("ignored")), "kind %d", k)
		got := mustDecodeRequest(t, data)
		assert.Nil(t, got.Mutations[0].Value)
	}
}

func TestRequestRoundTrip_MaxMutations(t *testing.T) {
	muts := make([]Mutation, MaxMutations)
	for i := range muts {
		muts[i] = Mutation{Key: fmt.Sprint(i), Kind: KindPut, Value: []byte{byte(i)}}
	}
	got := mustDecodeRequest(t, AppendRequest(nil, &Request{Op: OpWrite, Mutations: muts}))
	require.Len(t, got.Mutations, MaxMutations)
	for i, m := range got.Mutations {
		assert.Equal(t, fmt.Sprint(i), m.Key)
		assert.Equal(t, []byte{byte(i)}, m.Value)
	}
}

func TestDecodeRequest_StringsAreCopied(t *testing.T) {
	data := AppendRequest(nil, &Request{Op: OpWrite, Mutations: []Mutation{{Key: "key", Kind: KindPut, Value: []byte("v")}}})
	got := mustDecodeRequest(t, data)
	for i := range data {
		data[i] = 'Z'
	}
	assert.Equal(t, "key", got.Mutations[0].Key)

	data = AppendRequest(nil, &Request{Op: OpList, List: ListRequest{Prefix: "pre", StartAfter: "sa", Limit: 1}})
	got = mustDecodeRequest(t, data)
	for i := range data {
		data[i] = 'Z'
	}
	assert.Equal(t, ListRequest{Prefix: "pre", StartAfter: "sa", Limit: 1}, got.List)
}

func TestDecodeRequest_ValueCapacityIsBounded(t *testing.T) {
	// Values alias the message; appending to one must not overwrite the
	// bytes that follow it, which hold the next mutation's value.
	data := AppendRequest(nil, &Request{Op: OpWrite, Mutations: []Mutation{
		{Key: "a", Kind: KindPut, Value: []byte("first")},
		{Key: "b", Kind: KindPut, Value: []byte("second")},
	}})
	got := mustDecodeRequest(t, data)
	// 10 bytes fit in the message's own array if the capacity is not cut.
	_ = append(got.Mutations[0].Value, bytes.Repeat([]byte{'!'}, 10)...)
	assert.Equal(t, []byte("second"), got.Mutations[1].Value)
}

func TestReplyRoundTrip_AllOps(t *testing.T) {
	for i, s := range sampleReplies() {
		t.Run(fmt.Sprintf("%d-%s-%d", i, s.op, s.reply.Status), func(t *testing.T) {
			data := AppendReply(nil, s.op, &s.reply)
			got, err := DecodeReply(s.op, data)
			require.NoError(t, err)
			assert.Equal(t, s.reply, got)
			assert.Equal(t, data, AppendReply(nil, s.op, &got))
		})
	}
}

func TestReplyRoundTrip_GetMissCarriesNothing(t *testing.T) {
	// A miss's Version and Value are not sent.
	data := AppendReply(nil, OpGet, &Reply{Found: false, Version: 9, Value: []byte("stale")})
	assert.Equal(t, []byte{Version, byte(StatusOK), 0}, data)
	got, err := DecodeReply(OpGet, data)
	require.NoError(t, err)
	assert.Equal(t, Reply{}, got)
}

func TestReplyRoundTrip_ListMore(t *testing.T) {
	for _, more := range []bool{false, true} {
		r := Reply{Entries: []Record{{Key: "k", Version: 3, Value: []byte("v")}}, More: more}
		got, err := DecodeReply(OpList, AppendReply(nil, OpList, &r))
		require.NoError(t, err)
		assert.Equal(t, more, got.More)
		assert.Equal(t, r.Entries, got.Entries)
	}
}

func TestReplyRoundTrip_ErrorEveryStatus(t *testing.T) {
	for _, s := range errorStatuses {
		for _, op := range allOps {
			r := Reply{Status: s, Index: MaxMutations, Current: 42, Message: "why: ü"}
			data := AppendReply(nil, op, &r)
			got, err := DecodeReply(op, data)
			require.NoError(t, err, "status %d op %s", s, op)
			assert.Equal(t, r, got)
		}
	}
}

func TestAppendReply_ErrorOmitsPayload(t *testing.T) {
	// An error reply carries Index, Current and Message, never the payload.
	r := Reply{Status: StatusConflict, Index: 2, Current: 5, Message: "m", Found: true, Version: 1, Value: []byte("v"),
		Versions: []uint64{1}, Entries: []Record{{Key: "k"}}, More: true}
	for _, op := range allOps {
		got, err := DecodeReply(op, AppendReply(nil, op, &r))
		require.NoError(t, err)
		assert.Equal(t, Reply{Status: StatusConflict, Index: 2, Current: 5, Message: "m"}, got)
	}
}

func TestAppendReply_TruncatesLongMessage(t *testing.T) {
	r := ErrorReply(StatusInternal, strings.Repeat("m", 3*maxMessageBytes))
	got, err := DecodeReply(OpGet, AppendReply(nil, OpGet, &r))
	require.NoError(t, err)
	assert.Equal(t, strings.Repeat("m", maxMessageBytes), got.Message)
}

func TestDecodeReply_ErrorReplyIgnoresOp(t *testing.T) {
	// The object answers an undecodable request without knowing its op, so
	// an error reply must decode whatever op the client sent.
	r := ErrorReply(StatusBadRequest, "bad")
	data := AppendReply(nil, OpGet, &r)
	for _, op := range []Op{OpGet, OpWrite, OpList, Op(0), Op(200)} {
		got, err := DecodeReply(op, data)
		require.NoError(t, err, "op %s", op)
		assert.Equal(t, r, got)
	}
}

func TestDecodeRequest_Empty(t *testing.T) {
	for _, data := range [][]byte{nil, {}, {Version}} {
		_, err := DecodeRequest(data)
		requireMalformed(t, err, "%v", data)
	}
}

func TestDecodeReply_Empty(t *testing.T) {
	for _, data := range [][]byte{nil, {}, {Version}} {
		for _, op := range allOps {
			_, err := DecodeReply(op, data)
			requireMalformed(t, err, "%v", data)
		}
	}
}

func TestDecodeRequest_WrongVersion(t *testing.T) {
	valid := AppendRequest(nil, &Request{Op: OpGet, Key: "k"})
	for _, v := range []byte{0, Version + 1, 0xff} {
		data := append([]byte{v}, valid[1:]...)
		_, err := DecodeRequest(data)
		requireMalformed(t, err)
		assert.Contains(t, err.Error(), "version")
	}
}

func TestDecodeReply_WrongVersion(t *testing.T) {
	valid := AppendReply(nil, OpGet, &Reply{Found: true, Version: 1, Value: []byte("v")})
	for _, v := range []byte{0, Version + 1, 0xff} {
		data := append([]byte{v}, valid[1:]...)
		_, err := DecodeReply(OpGet, data)
		requireMalformed(t, err)
		assert.Contains(t, err.Error(), "version")
	}
}

func TestDecodeRequest_UnknownOp(t *testing.T) {
	for _, op := range []byte{0, 5, 0x7f, 0xff} {
		_, err := DecodeRequest(wire(Version, op, "k"))
		requireMalformed(t, err, "op %d", op)
		assert.Contains(t, err.Error(), "unknown op")
	}
}

func TestDecodeReply_UnknownOp(t *testing.T) {
	for _, op := range []Op{0, 4, 0xff} {
		_, err := DecodeReply(op, wire(Version, StatusOK, byte(0)))
		requireMalformed(t, err, "op %d", op)
	}
}

func TestDecodeReply_UnknownStatus(t *testing.T) {
	for _, s := range []byte{byte(statusUpperBound), 100, 0xff} {
		_, err := DecodeReply(OpGet, wire(Version, s, 0, 0, "msg"))
		requireMalformed(t, err, "status %d", s)
		assert.Contains(t, err.Error(), "status")
	}
}

func TestDecodeRequest_UnknownMutationKind(t *testing.T) {
	for _, k := range []Kind{3, 0x80, 0xff} {
		_, err := DecodeRequest(wire(Version, OpWrite, 1, "k", k, byte(0), 0))
		requireMalformed(t, err, "kind %d", k)
		assert.Contains(t, err.Error(), "kind")
	}
	// A bad kind in the last of several mutations fails the whole request.
	_, err := DecodeRequest(wire(Version, OpWrite, 2, "a", KindDelete, byte(0), 0, "b", Kind(7), byte(0), 0))
	requireMalformed(t, err)
}

func TestDecodeRequest_BadBoolean(t *testing.T) {
	for _, b := range []byte{2, 0x80, 0xff} {
		_, err := DecodeRequest(wire(Version, OpWrite, 1, "k", KindDelete, b, 0))
		requireMalformed(t, err, "bool %d", b)
		assert.Contains(t, err.Error(), "boolean")
	}
}

func TestDecodeReply_BadFlags(t *testing.T) {
	_, err := DecodeReply(OpGet, wire(Version, StatusOK, byte(3)))
	requireMalformed(t, err)
	assert.Contains(t, err.Error(), "found flag")

	_, err = DecodeReply(OpList, wire(Version, StatusOK, 0, byte(4)))
	requireMalformed(t, err)
	assert.Contains(t, err.Error(), "more flag")

	// An expiry for an entry the page does not have.
	_, err = DecodeReply(OpList, wire(Version, StatusOK, 0, byte(3), 1, 0, 5))
	requireMalformed(t, err)
}

func TestDecodeRequest_BadTTL(t *testing.T) {
	for name, req := range map[string][]byte{
		"zero":      wire(Version, OpWrite, 1, "k", KindPut|kindHasTTL, 0, 0, "v", 0),
		"too long":  binary.AppendUvarint(wire(Version, OpWrite, 1, "k", KindPut|kindHasTTL, 0, 0, "v"), MaxTTL+1),
		"on delete": wire(Version, OpWrite, 1, "k", KindDelete|kindHasTTL, 0, 0, 5),
	} {
		_, err := DecodeRequest(req)
		requireMalformed(t, err, name)
	}
}

func TestDecodeRequest_TruncatedInput(t *testing.T) {
	for i, req := range sampleRequests() {
		data := AppendRequest(nil, &req)
		for n := 0; n < len(data); n++ {
			// A fresh copy with no spare capacity, so a read past the
			// prefix cannot silently see the rest of the message.
			prefix := bytes.Clone(data[:n])
			require.NotPanics(t, func() {
				_, err := DecodeRequest(prefix)
				requireMalformed(t, err, "request %d truncated to %d of %d bytes", i, n, len(data))
			})
		}
	}
}

func TestDecodeReply_TruncatedInput(t *testing.T) {
	for i, s := range sampleReplies() {
		data := AppendReply(nil, s.op, &s.reply)
		for n := 0; n < len(data); n++ {
			prefix := bytes.Clone(data[:n])
			require.NotPanics(t, func() {
				_, err := DecodeReply(s.op, prefix)
				requireMalformed(t, err, "reply %d truncated to %d of %d bytes", i, n, len(data))
			})
		}
	}
}

func TestDecodeRequest_TrailingBytes(t *testing.T) {
	for i, req := range sampleRequests() {
		for _, extra := range [][]byte{{0}, {1, 2, 3}} {
			data := append(AppendRequest(nil, &req), extra...)
			_, err := DecodeRequest(data)
			requireMalformed(t, err, "request %d", i)
			assert.Contains(t, err.Error(), "trailing")
		}
	}
}

func TestDecodeReply_TrailingBytes(t *testing.T) {
	for i, s := range sampleReplies() {
		data := append(AppendReply(nil, s.op, &s.reply), 0)
		_, err := DecodeReply(s.op, data)
		requireMalformed(t, err, "reply %d", i)
		assert.Contains(t, err.Error(), "trailing")
	}
}

func TestDecodeRequest_BadVarint(t *testing.T) {
	overflow := bytes.Repeat([]byte{0xff}, 11)
	for _, data := range [][]byte{
		wire(Version, OpGet, overflow),
		wire(Version, OpWrite, overflow),
		wire(Version, OpWrite, 1, "k", KindDelete, byte(0), overflow),
		wire(Version, OpList, "p", "s", overflow),
	} {
		_, err := DecodeRequest(data)
		requireMalformed(t, err, "%x", data)
	}
}

func TestDecodeRequest_NonMinimalVarintAccepted(t *testing.T) {
	// binary.Uvarint accepts padded varints; decoding must still be
	// consistent, and re-encoding yields the minimal form.
	data := wire(Version, OpList, "p", "", []byte{0x85, 0x00})
	got := mustDecodeRequest(t, data)
	assert.Equal(t, 5, got.List.Limit)
	assert.Equal(t, wire(Version, OpList, "p", "", 5), AppendRequest(nil, &got))
}

func TestDecodeRequest_ForgedHugeLength(t *testing.T) {
	for _, n := range []uint64{4, 1 << 20, 1 << 40, math.MaxInt64, math.MaxUint64} {
		for _, data := range [][]byte{
			wire(Version, OpGet, n, []byte("abc")),
			wire(Version, OpWrite, 1, n, []byte("abc")),
			wire(Version, OpWrite, 1, "k", KindPut, byte(0), 0, n, []byte("abc")),
			wire(Version, OpList, n, []byte("abc")),
			wire(Version, OpList, "p", n, []byte("abc")),
		} {
			_, err := DecodeRequest(data)
			requireMalformed(t, err, "length %d in %x", n, data)
		}
	}
}

func TestDecodeReply_ForgedHugeLength(t *testing.T) {
	for _, n := range []uint64{2, 1 << 30, math.MaxUint64} {
		_, err := DecodeReply(OpGet, wire(Version, StatusOK, byte(1), 1, n, []byte("v")))
		requireMalformed(t, err)
		_, err = DecodeReply(OpList, wire(Version, StatusOK, 1, n, []byte("k")))
		requireMalformed(t, err)
		_, err = DecodeReply(OpList, wire(Version, StatusOK, 1, "k", 1, n, []byte("v")))
		requireMalformed(t, err)
		_, err = DecodeReply(OpGet, wire(Version, StatusInternal, 0, 0, n, []byte("m")))
		requireMalformed(t, err)
	}
}

func TestDecodeRequest_ForgedHugeCount(t *testing.T) {
	// Counts within the limit that the rest of the message cannot hold.
	for _, n := range []int{2, 10, MaxMutations} {
		data := wire(Version, OpWrite, n, "k", KindDelete, byte(0), 0)
		_, err := DecodeRequest(data)
		requireMalformed(t, err, "count %d", n)
		assert.NotErrorIs(t, err, ErrTooMany)
	}
}

func TestDecodeReply_ForgedHugeCount(t *testing.T) {
	_, err := DecodeReply(OpWrite, wire(Version, StatusOK, MaxMutations, 1, 2))
	requireMalformed(t, err)
	assert.NotErrorIs(t, err, ErrTooMany)
	_, err = DecodeReply(OpList, wire(Version, StatusOK, MaxListLimit, "k", 1, "v", byte(0)))
	requireMalformed(t, err)
	assert.NotErrorIs(t, err, ErrTooMany)
}

func TestDecodeRequest_CountAboveMaxMutations(t *testing.T) {
	muts := make([]Mutation, MaxMutations+1)
	for i := range muts {
		muts[i] = Mutation{Key: fmt.Sprint(i), Kind: KindDelete}
	}
	data := AppendRequest(nil, &Request{Op: OpWrite, Mutations: muts})
	_, err := DecodeRequest(data)
	requireMalformed(t, err)
	assert.ErrorIs(t, err, ErrTooMany)

	for _, n := range []uint64{MaxMutations + 1, 1 << 32, math.MaxUint64} {
		_, err := DecodeRequest(wire(Version, OpWrite, n))
		requireMalformed(t, err, "count %d", n)
		assert.ErrorIs(t, err, ErrTooMany)
	}
}

func TestDecodeRequest_ListLimitAboveMax(t *testing.T) {
	got := mustDecodeRequest(t, wire(Version, OpList, "", "", MaxListLimit))
	assert.Equal(t, MaxListLimit, got.List.Limit)
	for _, n := range []uint64{MaxListLimit + 1, 1 << 40, math.MaxUint64} {
		_, err := DecodeRequest(wire(Version, OpList, "", "", n))
		requireMalformed(t, err, "limit %d", n)
		// A limit is not a count of elements in the message.
		assert.NotErrorIs(t, err, ErrTooMany)
	}
}

func TestDecodeReply_CountAboveMax(t *testing.T) {
	versions := make([]uint64, MaxMutations+1)
	_, err := DecodeReply(OpWrite, AppendReply(nil, OpWrite, &Reply{Versions: versions}))
	requireMalformed(t, err)
	assert.ErrorIs(t, err, ErrTooMany)

	entries := make([]Record, MaxListLimit+1)
	for i := range entries {
		entries[i].Key = fmt.Sprint(i)
	}
	_, err = DecodeReply(OpList, AppendReply(nil, OpList, &Reply{Entries: entries}))
	requireMalformed(t, err)
	assert.ErrorIs(t, err, ErrTooMany)
}

func TestDecodeReply_IndexAboveMax(t *testing.T) {
	r := Reply{Status: StatusConflict, Index: MaxMutations + 1}
	_, err := DecodeReply(OpWrite, AppendReply(nil, OpWrite, &r))
	requireMalformed(t, err)
}

func TestDecodeRequest_ForgedInputAllocatesLittle(t *testing.T) {
	forged := [][]byte{
		wire(Version, OpWrite, MaxMutations),
		wire(Version, OpWrite, uint64(math.MaxUint64)),
		wire(Version, OpGet, uint64(1<<40)),
		wire(Version, OpWrite, 1, "k", KindPut, byte(0), 0, uint64(1<<40)),
	}
	for _, data := range forged {
		var err error
		allocated := allocatedBytes(100, func() { _, err = DecodeRequest(data) })
		requireMalformed(t, err)
		assert.Less(t, allocated, uint64(1024), "bytes per decode of %x", data)
	}
}

func TestDecodeReply_ForgedInputAllocatesLittle(t *testing.T) {
	forged := []struct {
		op   Op
		data []byte
	}{
		{OpWrite, wire(Version, StatusOK, MaxMutations)},
		{OpList, wire(Version, StatusOK, MaxListLimit)},
		{OpList, wire(Version, StatusOK, uint64(math.MaxUint64))},
		{OpGet, wire(Version, StatusOK, byte(1), 1, uint64(1<<40))},
		{OpGet, wire(Version, StatusConflict, 0, 0, uint64(1<<40))},
	}
	for _, f := range forged {
		var err error
		allocated := allocatedBytes(100, func() { _, err = DecodeReply(f.op, f.data) })
		requireMalformed(t, err)
		assert.Less(t, allocated, uint64(1024), "bytes per decode of %x", f.data)
	}
}

// allocatedBytes reports the heap bytes allocated per run of fn.
func allocatedBytes(runs int, fn func()) uint64 {
	fn() // warm up
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for range runs {
		fn()
	}
	runtime.ReadMemStats(&after)
	return (after.TotalAlloc - before.TotalAlloc) / uint64(runs)
}

func TestDecodeRequest_ErrorsAreMalformed(t *testing.T) {
	// Every error the decoders return wraps ErrMalformed, so a caller can
	// tell a bad message from any other failure.
	_, err := DecodeRequest([]byte{Version, 0})
	require.Error(t, err)
	assert.True(t, errors.Is(err, ErrMalformed))
	assert.True(t, errors.Is(ErrTooMany, ErrMalformed))
}
