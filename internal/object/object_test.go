package object_test

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dokv/dokv/internal/object"
	"github.com/dokv/dokv/internal/protocol"
	"github.com/dokv/dokv/internal/storage"
)

// call encodes req, runs it through Handle and decodes the reply.
func call(t *testing.T, o *object.Object, req protocol.Request) protocol.Reply {
	t.Helper()
	return handle(t, o, req.Op, protocol.AppendRequest(nil, &req))
}

func handle(t *testing.T, o *object.Object, op protocol.Op, data []byte) protocol.Reply {
	t.Helper()
	var raw []byte
	require.NotPanics(t, func() { raw = o.Handle(data) })
	reply, err := protocol.DecodeReply(op, raw)
	require.NoError(t, err, "the object sent an undecodable reply %x", raw)
	return reply
}

func requireOK(t *testing.T, r protocol.Reply) {
	t.Helper()
	require.Equal(t, protocol.StatusOK, r.Status, "reply: %s", r.Message)
}

func get(t *testing.T, o *object.Object, key string) protocol.Reply {
	t.Helper()
	return call(t, o, protocol.Request{Op: protocol.OpGet, Key: key})
}

func write(t *testing.T, o *object.Object, muts ...protocol.Mutation) protocol.Reply {
	t.Helper()
	return call(t, o, protocol.Request{Op: protocol.OpWrite, Mutations: muts})
}

func list(t *testing.T, o *object.Object, prefix, after string, limit int) protocol.Reply {
	t.Helper()
	return call(t, o, protocol.Request{Op: protocol.OpList, List: protocol.ListRequest{Prefix: prefix, StartAfter: after, Limit: limit}})
}

func putM(key, value string) protocol.Mutation {
	return protocol.Mutation{Key: key, Kind: protocol.KindPut, Value: []byte(value)}
}

func putIf(key string, version uint64, value string) protocol.Mutation {
	return protocol.Mutation{Key: key, Kind: protocol.KindPut, HasCondition: true, Version: version, Value: []byte(value)}
}

func del(key string) protocol.Mutation {
	return protocol.Mutation{Key: key, Kind: protocol.KindDelete}
}

func delIf(key string, version uint64) protocol.Mutation {
	return protocol.Mutation{Key: key, Kind: protocol.KindDelete, HasCondition: true, Version: version}
}

func check(key string, version uint64) protocol.Mutation {
	return protocol.Mutation{Key: key, Kind: protocol.KindCheck, HasCondition: true, Version: version}
}

// put stores value at key and returns its new version.
func put(t *testing.T, o *object.Object, key, value string) uint64 {
	t.Helper()
	r := write(t, o, putM(key, value))
	requireOK(t, r)
	require.Len(t, r.Versions, 1)
	return r.Versions[0]
}

// requireValue checks that key holds value at version.
func requireValue(t *testing.T, o *object.Object, key string, version uint64, value string) {
	t.Helper()
	r := get(t, o, key)
	requireOK(t, r)
	require.True(t, r.Found, "key %q is missing", key)
	require.Equal(t, version, r.Version, "version of %q", key)
	require.Equal(t, value, string(r.Value), "value of %q", key)
}

func requireAbsent(t *testing.T, o *object.Object, key string) {
	t.Helper()
	r := get(t, o, key)
	requireOK(t, r)
	require.False(t, r.Found, "key %q is present at version %d", key, r.Version)
}

// dump returns every record and the last version of an engine.
func dump(t *testing.T, m *storage.Memory) ([]protocol.Record, uint64) {
	t.Helper()
	recs, more, err := m.Scan("", "", math.MaxInt, math.MaxInt, 0)
	require.NoError(t, err)
	require.False(t, more)
	last, err := m.LastVersion()
	require.NoError(t, err)
	return recs, last
}

func TestHandle_GetMiss(t *testing.T) {
	o := object.New(storage.NewMemory(), frozen)
	r := get(t, o, "absent")
	assert.Equal(t, protocol.Reply{}, r)
}

func TestHandle_GetHit(t *testing.T) {
	o := object.New(storage.NewMemory(), frozen)
	v := put(t, o, "ключ/🙂", "value")
	requireValue(t, o, "ключ/🙂", v, "value")
	requireAbsent(t, o, "ключ")
}

func TestHandle_PutIncreasingVersions(t *testing.T) {
	o := object.New(storage.NewMemory(), frozen)
	var last uint64
	for i := range 10 {
		key := fmt.Sprintf("k%d", i%3) // overwrite keys, too
		v := put(t, o, key, fmt.Sprint(i))
		assert.Greater(t, v, last, "write %d", i)
		last = v
		requireValue(t, o, key, v, fmt.Sprint(i))
	}
	// Write 9 went to k0, write 8 to k2: each key keeps its last version.
	assert.Equal(t, last, get(t, o, "k0").Version)
	assert.Equal(t, last-1, get(t, o, "k2").Version)
}

// frozen is a clock stopped at the Unix epoch: versions count from 1.
var frozen = object.WithClock(func() uint64 { return 0 })

func TestHandle_VersionsCountUpFromTheTimeFloor(t *testing.T) {
	o := object.New(storage.NewMemory(), frozen)
	assert.Equal(t, uint64(1), put(t, o, "k", "v"))
	assert.Equal(t, uint64(2), put(t, o, "k", "v"))

	now := uint64(1_800_000_000_000) // Unix milliseconds
	o = object.New(storage.NewMemory(), object.WithClock(func() uint64 { return now }))
	assert.Equal(t, now*1000, put(t, o, "k", "v"), "a write's version is at least the time in microseconds")
	assert.Equal(t, now*1000+1, put(t, o, "k", "v"), "and one more than the last")
	now++
	assert.Equal(t, now*1000, put(t, o, "k", "v"))
}

func TestHandle_PutEmptyValue(t *testing.T) {
	o := object.New(storage.NewMemory(), frozen)
	v := put(t, o, "k", "")
	r := get(t, o, "k")
	requireOK(t, r)
	assert.True(t, r.Found, "an empty value is a value")
	assert.Equal(t, v, r.Version)
	assert.Empty(t, r.Value)
}

func TestHandle_ConditionalPutOnAbsentKey(t *testing.T) {
	o := object.New(storage.NewMemory(), frozen)
	r := write(t, o, putIf("k", 0, "first"))
	requireOK(t, r)
	v := r.Versions[0]
	requireValue(t, o, "k", v, "first")

	// Version 0 now conflicts: the key exists.
	r = write(t, o, putIf("k", 0, "second"))
	assert.Equal(t, protocol.StatusConflict, r.Status)
	assert.Equal(t, 0, r.Index)
	assert.Equal(t, v, r.Current)
	requireValue(t, o, "k", v, "first")

	// The current version succeeds.
	r = write(t, o, putIf("k", v, "third"))
	requireOK(t, r)
	assert.Greater(t, r.Versions[0], v)
	requireValue(t, o, "k", r.Versions[0], "third")
}

func TestHandle_ConflictReply(t *testing.T) {
	o := object.New(storage.NewMemory(), frozen)
	va := put(t, o, "a", "a")
	vb := put(t, o, "b", "b")

	for _, tc := range []struct {
		name    string
		muts    []protocol.Mutation
		index   int
		current uint64
	}{
		{"stale put", []protocol.Mutation{putIf("a", va+1, "x")}, 0, va},
		{"put on absent expects present", []protocol.Mutation{putIf("c", 5, "x")}, 0, 0},
		{"stale delete", []protocol.Mutation{putM("z", "z"), delIf("b", va)}, 1, vb},
		{"failed check", []protocol.Mutation{putM("z", "z"), putIf("a", va, "x"), check("b", 0)}, 2, vb},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := write(t, o, tc.muts...)
			assert.Equal(t, protocol.StatusConflict, r.Status)
			assert.Equal(t, tc.index, r.Index)
			assert.Equal(t, tc.current, r.Current)
			assert.NotEmpty(t, r.Message)
			assert.Nil(t, r.Versions)
			requireValue(t, o, "a", va, "a")
			requireValue(t, o, "b", vb, "b")
			requireAbsent(t, o, "c")
			requireAbsent(t, o, "z")
		})
	}
}

func TestHandle_MultiMutationWriteIsAtomic(t *testing.T) {
	m := storage.NewMemory()
	o := object.New(m, frozen)
	vx := put(t, o, "x", "x")
	recsBefore, lastBefore := dump(t, m)

	// The condition on the third mutation fails: the first two must not
	// be written.
	r := write(t, o, putM("a", "a"), del("x"), putIf("b", 99, "b"), putM("c", "c"))
	require.Equal(t, protocol.StatusConflict, r.Status)
	assert.Equal(t, 2, r.Index)
	assert.Equal(t, uint64(0), r.Current)
	requireAbsent(t, o, "a")
	requireValue(t, o, "x", vx, "x")
	recs, last := dump(t, m)
	assert.Equal(t, recsBefore, recs)
	assert.Equal(t, lastBefore, last, "a rejected write hands out no version")

	// The next write continues above the last successful one: the
	// rejected write rolled back, so the actor reads its version again
	// (the recorded mark, see versionReserve).
	assert.Greater(t, put(t, o, "a", "a"), vx)
}

func TestHandle_MultiMutationWriteVersions(t *testing.T) {
	o := object.New(storage.NewMemory(), frozen)
	vOld := put(t, o, "old", "o")
	vChecked := put(t, o, "checked", "c")

	r := write(t, o,
		putM("a", "a"),
		putIf("old", vOld, "o2"),
		del("gone"),
		check("checked", vChecked),
		check("absent", 0),
		protocol.Mutation{Key: "unconditional-check", Kind: protocol.KindCheck},
		putM("b", "b"),
	)
	requireOK(t, r)
	next := vChecked + 1
	// Puts share the write's version; deletes report 0; checks report the
	// version the key had.
	assert.Equal(t, []uint64{next, next, 0, vChecked, 0, 0, next}, r.Versions)
	requireValue(t, o, "a", next, "a")
	requireValue(t, o, "old", next, "o2")
	requireValue(t, o, "b", next, "b")
	requireValue(t, o, "checked", vChecked, "c")
}

func TestHandle_CheckOnlyWriteHandsOutNoVersion(t *testing.T) {
	o := object.New(storage.NewMemory(), frozen)
	v := put(t, o, "k", "v")
	r := write(t, o, check("k", v), check("other", 0))
	requireOK(t, r)
	assert.Equal(t, []uint64{v, 0}, r.Versions)
	assert.Equal(t, v+1, put(t, o, "k2", "v"), "a write of checks only must not consume a version")
}

func TestHandle_DeleteIf(t *testing.T) {
	o := object.New(storage.NewMemory(), frozen)
	v := put(t, o, "k", "v")
	r := write(t, o, delIf("k", v+1))
	assert.Equal(t, protocol.StatusConflict, r.Status)
	assert.Equal(t, v, r.Current)
	requireValue(t, o, "k", v, "v")

	r = write(t, o, delIf("k", v))
	requireOK(t, r)
	assert.Equal(t, []uint64{0}, r.Versions)
	requireAbsent(t, o, "k")

	// Deleting an absent key on condition 0 succeeds.
	requireOK(t, write(t, o, delIf("k", 0)))
}

func TestHandle_DuplicateKeysRejected(t *testing.T) {
	o := object.New(storage.NewMemory(), frozen)
	r := write(t, o, putM("a", "1"), putM("b", "2"), del("a"))
	assert.Equal(t, protocol.StatusBadRequest, r.Status)
	assert.Equal(t, 2, r.Index)
	requireAbsent(t, o, "a")
	requireAbsent(t, o, "b")

	r = write(t, o, check("a", 0), putM("a", "1"))
	assert.Equal(t, protocol.StatusBadRequest, r.Status)
	assert.Equal(t, 1, r.Index)
	requireAbsent(t, o, "a")
}

func TestHandle_EmptyWriteRejected(t *testing.T) {
	o := object.New(storage.NewMemory(), frozen)
	r := write(t, o)
	assert.Equal(t, protocol.StatusBadRequest, r.Status)
}

func manyPuts(n int) []protocol.Mutation {
	muts := make([]protocol.Mutation, n)
	for i := range muts {
		muts[i] = putM(fmt.Sprintf("k%03d", i), "v")
	}
	return muts
}

func TestHandle_TooManyMutations(t *testing.T) {
	m := storage.NewMemory()
	o := object.New(m, frozen)
	r := write(t, o, manyPuts(protocol.MaxMutations+1)...)
	assert.Equal(t, protocol.StatusTooMany, r.Status, "reply: %s", r.Message)
	assert.Equal(t, 0, m.Len())

	r = write(t, o, manyPuts(protocol.MaxMutations)...)
	requireOK(t, r)
	assert.Len(t, r.Versions, protocol.MaxMutations)
	assert.Equal(t, protocol.MaxMutations, m.Len())
}

func TestHandle_OversizedEntry(t *testing.T) {
	m := storage.NewMemory()
	o := object.New(m, frozen)
	key := "big"
	fits := strings.Repeat("v", protocol.MaxEntryBytes-len(key))
	r := write(t, o, putM("small", "s"), putM(key, fits+"v"))
	assert.Equal(t, protocol.StatusTooLarge, r.Status)
	assert.Equal(t, 1, r.Index)
	assert.Equal(t, 0, m.Len())

	r = write(t, o, putM("small", "s"), putM(key, fits))
	requireOK(t, r)
	requireValue(t, o, key, r.Versions[1], fits)
}

func TestHandle_RequestTooLarge(t *testing.T) {
	o := object.New(storage.NewMemory(), frozen)
	r := handle(t, o, protocol.OpWrite, make([]byte, protocol.MaxRequestBytes+1))
	assert.Equal(t, protocol.StatusTooLarge, r.Status)
}

func TestHandle_InvalidKey(t *testing.T) {
	o := object.New(storage.NewMemory(), frozen)
	for _, tc := range []struct {
		name, key string
	}{
		{"empty", ""},
		{"too long", strings.Repeat("k", protocol.MaxKeyBytes+1)},
		{"invalid UTF-8", "bad\xff"},
		{"truncated rune", "\xe6\x97"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := get(t, o, tc.key)
			assert.Equal(t, protocol.StatusInvalidKey, r.Status)
			assert.Equal(t, 0, r.Index)

			r = write(t, o, putM("ok1", "v"), putM("ok2", "v"), putM(tc.key, "v"))
			assert.Equal(t, protocol.StatusInvalidKey, r.Status)
			assert.Equal(t, 2, r.Index)
			requireAbsent(t, o, "ok1")

			r = write(t, o, check(tc.key, 0))
			assert.Equal(t, protocol.StatusInvalidKey, r.Status)
			assert.Equal(t, 0, r.Index)
		})
	}
	// The longest allowed key works.
	long := strings.Repeat("k", protocol.MaxKeyBytes)
	v := put(t, o, long, "v")
	requireValue(t, o, long, v, "v")
}

func TestHandle_MalformedRequest(t *testing.T) {
	o := object.New(storage.NewMemory(), frozen)
	v := put(t, o, "k", "v")
	valid := protocol.AppendRequest(nil, &protocol.Request{Op: protocol.OpWrite, Mutations: []protocol.Mutation{putM("k", "x")}})
	for _, data := range [][]byte{
		nil,
		{},
		{protocol.Version},
		{protocol.Version + 1, byte(protocol.OpGet), 1, 'k'},
		{protocol.Version, 9, 1, 'k'},
		valid[:len(valid)-1],
		append(append([]byte{}, valid...), 0),
		{protocol.Version, byte(protocol.OpList), 0, 0, 0xe9, 0x07}, // limit 1001
	} {
		// The reply to a request that cannot be decoded must decode
		// whatever op the client thinks it sent.
		for _, op := range []protocol.Op{protocol.OpGet, protocol.OpWrite, protocol.OpList} {
			r := handle(t, o, op, data)
			assert.Equal(t, protocol.StatusBadRequest, r.Status, "request %x", data)
			assert.NotEmpty(t, r.Message)
		}
	}
	// Nothing was applied, and the object still works.
	requireValue(t, o, "k", v, "v")
	assert.Equal(t, v+1, put(t, o, "k", "w"))
}

func TestHandle_ListPaging(t *testing.T) {
	o := object.New(storage.NewMemory(), frozen)
	want := map[string]uint64{}
	for i := 24; i >= 0; i-- { // write out of order
		key := fmt.Sprintf("p/%02d", i)
		want[key] = put(t, o, key, "v"+key)
	}
	put(t, o, "o", "outside")
	put(t, o, "q", "outside")
	put(t, o, "p", "outside") // the prefix itself is not under "p/"

	var got []string
	after := ""
	pages := 0
	for {
		r := list(t, o, "p/", after, 7)
		requireOK(t, r)
		pages++
		require.LessOrEqual(t, len(r.Entries), 7)
		for _, e := range r.Entries {
			got = append(got, e.Key)
			assert.Equal(t, want[e.Key], e.Version, "version of %q", e.Key)
			assert.Equal(t, "v"+e.Key, string(e.Value))
		}
		if !r.More {
			break
		}
		require.NotEmpty(t, r.Entries, "More with an empty page")
		after = r.Entries[len(r.Entries)-1].Key
	}
	assert.Equal(t, 4, pages, "25 entries in pages of 7")
	require.Len(t, got, 25)
	for i, k := range got {
		assert.Equal(t, fmt.Sprintf("p/%02d", i), k)
	}

	// More is exact when the page ends on the last entry.
	r := list(t, o, "p/", "p/17", 7)
	requireOK(t, r)
	assert.Len(t, r.Entries, 7)
	assert.False(t, r.More)

	// An empty page.
	r = list(t, o, "none/", "", 10)
	requireOK(t, r)
	assert.Empty(t, r.Entries)
	assert.False(t, r.More)
}

func TestHandle_ListLimits(t *testing.T) {
	o := object.New(storage.NewMemory(), frozen)
	put(t, o, "k", "v")
	r := list(t, o, "", "", 0)
	assert.Equal(t, protocol.StatusBadRequest, r.Status)

	r = list(t, o, "", "", protocol.MaxListLimit)
	requireOK(t, r)
	assert.Len(t, r.Entries, 1)

	r = list(t, o, "", "", protocol.MaxListLimit+1)
	assert.Equal(t, protocol.StatusBadRequest, r.Status)
}

func TestHandle_ListReplyBytesBounded(t *testing.T) {
	o := object.New(storage.NewMemory(), frozen)
	// Each entry is MaxEntryBytes, so two reach MaxReplyBytes.
	require.Equal(t, protocol.MaxReplyBytes, 2*protocol.MaxEntryBytes)
	value := strings.Repeat("v", protocol.MaxEntryBytes-len("k0"))
	for i := range 4 {
		put(t, o, fmt.Sprintf("k%d", i), value)
	}
	r := list(t, o, "", "", 10)
	requireOK(t, r)
	assert.Equal(t, []string{"k0", "k1"}, entryKeys(r), "a page stops once it holds MaxReplyBytes")
	assert.True(t, r.More)

	r = list(t, o, "", "k1", 10)
	requireOK(t, r)
	assert.Equal(t, []string{"k2", "k3"}, entryKeys(r))
	assert.False(t, r.More)
}

func entryKeys(r protocol.Reply) []string {
	var keys []string
	for _, e := range r.Entries {
		keys = append(keys, e.Key)
	}
	return keys
}

func TestHandle_VersionMonotonicAcrossDeleteAndRecreate(t *testing.T) {
	o := object.New(storage.NewMemory(), frozen)
	v1 := put(t, o, "k", "one")
	r := write(t, o, del("k"))
	requireOK(t, r)
	requireAbsent(t, o, "k")
	v2 := put(t, o, "k", "two")
	assert.Greater(t, v2, v1)
	// A conditional write that expects the first incarnation fails.
	r = write(t, o, putIf("k", v1, "stale"))
	assert.Equal(t, protocol.StatusConflict, r.Status)
	assert.Equal(t, v2, r.Current)

	// Deleting a missing key is a write too; versions never go back.
	requireOK(t, write(t, o, del("never")))
	assert.Greater(t, put(t, o, "other", "x"), v2)
}

func TestHandle_ResetContinuesVersions(t *testing.T) {
	m := storage.NewMemory()
	o := object.New(m, frozen)
	var last uint64
	for i := range 5 {
		last = put(t, o, fmt.Sprint(i), "v")
	}
	requireOK(t, write(t, o, del("4")))
	_, engineLast := dump(t, m)
	require.GreaterOrEqual(t, engineLast, last)

	// A reset: a new actor over the same engine.
	o2 := object.New(m, frozen)
	requireValue(t, o2, "3", last-1, "v")
	v := put(t, o2, "new", "v")
	assert.Greater(t, v, engineLast, "a reset object must not hand out an old version again")

	// The same holds for a reset whose first request is a conditional
	// write.
	o3 := object.New(m, frozen)
	r := write(t, o3, putIf("new", v, "w"))
	requireOK(t, r)
	assert.Greater(t, r.Versions[0], v)
}

// faultyEngine wraps a Memory and fails, or panics in, one of its methods.
type faultyEngine struct {
	*storage.Memory
	method string // the method that fails
	call   int    // which call of it fails, from 1; 0: every call
	panics bool
	calls  map[string]int
}

func newFaultyEngine(method string, call int, panics bool) *faultyEngine {
	return &faultyEngine{Memory: storage.NewMemory(), method: method, call: call, panics: panics, calls: map[string]int{}}
}

var errDisk = errors.New("disk on fire")

func (f *faultyEngine) fault(method string) error {
	if f.method == "" {
		return nil
	}
	f.calls[method]++
	if method != f.method || (f.call != 0 && f.calls[method] != f.call) {
		return nil
	}
	if f.panics {
		panic(fmt.Sprintf("%s exploded", method))
	}
	return fmt.Errorf("%s: %w", method, errDisk)
}

// arm starts failing, counting calls from now.
func (f *faultyEngine) arm(method string, call int, panics bool) {
	f.method, f.call, f.panics = method, call, panics
	clear(f.calls)
}

func (f *faultyEngine) disarm() { f.method = "" }

func (f *faultyEngine) Get(key string) (protocol.Record, bool, error) {
	if err := f.fault("Get"); err != nil {
		return protocol.Record{}, false, err
	}
	return f.Memory.Get(key)
}

func (f *faultyEngine) Put(key string, version uint64, value []byte, expires uint64) error {
	if err := f.fault("Put"); err != nil {
		return err
	}
	return f.Memory.Put(key, version, value, expires)
}

func (f *faultyEngine) Delete(key string) error {
	if err := f.fault("Delete"); err != nil {
		return err
	}
	return f.Memory.Delete(key)
}

func (f *faultyEngine) Scan(prefix, after string, limit, maxBytes int, now uint64) ([]protocol.Record, bool, error) {
	if err := f.fault("Scan"); err != nil {
		return nil, false, err
	}
	return f.Memory.Scan(prefix, after, limit, maxBytes, now)
}

func (f *faultyEngine) LastVersion() (uint64, error) {
	if err := f.fault("LastVersion"); err != nil {
		return 0, err
	}
	return f.Memory.LastVersion()
}

func (f *faultyEngine) SetLastVersion(v uint64) error {
	if err := f.fault("SetLastVersion"); err != nil {
		return err
	}
	return f.Memory.SetLastVersion(v)
}

// Atomic fails before fn runs ("Atomic"), or after fn succeeded ("Commit"),
// as a commit that fails would; either way nothing of fn remains.
func (f *faultyEngine) Atomic(fn func() error) error {
	if err := f.fault("Atomic"); err != nil {
		return err
	}
	return f.Memory.Atomic(func() error {
		if err := fn(); err != nil {
			return err
		}
		return f.fault("Commit")
	})
}

var faults = []struct {
	method string
	call   int
}{
	{"Atomic", 1},
	{"LastVersion", 1},
	{"Get", 1},    // reading the first condition
	{"Get", 2},    // reading the second condition
	{"Put", 1},    // the first put
	{"Put", 2},    // a later put, after one was applied
	{"Delete", 1}, // a delete, after a put was applied
	{"SetLastVersion", 1},
	{"Commit", 1}, // after the object cached the new last version
}

// faultyWrite is the write the fault tests send: conditions, puts and a
// delete, so that every engine method runs.
func faultyWrite(t *testing.T, o *object.Object, vA uint64) protocol.Reply {
	return write(t, o, putIf("a", vA, "a2"), check("b", 0), putM("c", "c"), del("d"), putM("e", "e"))
}

func TestHandle_EngineErrorsYieldInternal(t *testing.T) {
	for _, fault := range faults {
		for _, fresh := range []bool{false, true} {
			if (fault.method == "LastVersion" || fault.method == "SetLastVersion") && !fresh {
				// A warm actor has the last version cached, and recorded a
				// mark ahead of it that covers this write.
				continue
			}
			t.Run(fmt.Sprintf("%s#%d/fresh=%v", fault.method, fault.call, fresh), func(t *testing.T) {
				f := newFaultyEngine("", 0, false)
				o := object.New(f, frozen)
				vA := put(t, o, "a", "a1")
				vD := put(t, o, "d", "d1")
				recsBefore, lastBefore := dump(t, f.Memory)
				if fresh {
					o = object.New(f, frozen) // a reset: the actor reads the last version again
				}

				f.arm(fault.method, fault.call, false)
				r := faultyWrite(t, o, vA)
				require.Equal(t, protocol.StatusInternal, r.Status, "reply %+v", r)
				assert.Contains(t, r.Message, errDisk.Error())
				require.Positive(t, f.calls[fault.method], "the fault was never reached")

				// Nothing of the write remains.
				f.disarm()
				recs, last := dump(t, f.Memory)
				assert.Equal(t, recsBefore, recs)
				assert.Equal(t, lastBefore, last)

				// The object still works and hands out a larger version (the
				// failed write rolled back: the actor reads the recorded mark
				// again, see versionReserve).
				r = faultyWrite(t, o, vA)
				requireOK(t, r)
				assert.Greater(t, r.Versions[0], vD)
				requireValue(t, o, "a", r.Versions[0], "a2")
				requireAbsent(t, o, "d")
			})
		}
	}
}

func TestHandle_EnginePanicsYieldInternal(t *testing.T) {
	for _, fault := range faults {
		for _, fresh := range []bool{false, true} {
			if (fault.method == "LastVersion" || fault.method == "SetLastVersion") && !fresh {
				// A warm actor has the last version cached, and recorded a
				// mark ahead of it that covers this write.
				continue
			}
			t.Run(fmt.Sprintf("%s#%d/fresh=%v", fault.method, fault.call, fresh), func(t *testing.T) {
				f := newFaultyEngine("", 0, false)
				o := object.New(f, frozen)
				vA := put(t, o, "a", "a1")
				vD := put(t, o, "d", "d1")
				recsBefore, lastBefore := dump(t, f.Memory)
				if fresh {
					o = object.New(f, frozen) // a reset: the actor reads the last version again
				}

				f.arm(fault.method, fault.call, true)
				r := faultyWrite(t, o, vA) // handle checks that the panic does not escape
				require.Equal(t, protocol.StatusInternal, r.Status, "reply %+v", r)
				assert.Contains(t, r.Message, "panic")
				assert.Contains(t, r.Message, fault.method+" exploded")
				require.Positive(t, f.calls[fault.method], "the fault was never reached")

				f.disarm()
				recs, last := dump(t, f.Memory)
				assert.Equal(t, recsBefore, recs)
				assert.Equal(t, lastBefore, last)

				r = faultyWrite(t, o, vA)
				requireOK(t, r)
				assert.Greater(t, r.Versions[0], vD)
			})
		}
	}
}

func TestHandle_EngineErrorsOnReads(t *testing.T) {
	for _, tc := range []struct {
		method string
		req    protocol.Request
	}{
		{"Get", protocol.Request{Op: protocol.OpGet, Key: "k"}},
		{"Scan", protocol.Request{Op: protocol.OpList, List: protocol.ListRequest{Limit: 10}}},
	} {
		for _, panics := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/panic=%v", tc.method, panics), func(t *testing.T) {
				f := newFaultyEngine("", 0, false)
				o := object.New(f, frozen)
				v := put(t, o, "k", "v")
				f.arm(tc.method, 0, panics)
				r := call(t, o, tc.req)
				assert.Equal(t, protocol.StatusInternal, r.Status)
				assert.False(t, r.Found)
				assert.Nil(t, r.Entries)
				f.disarm()
				requireValue(t, o, "k", v, "v")
				requireOK(t, call(t, o, tc.req))
			})
		}
	}
}

func TestHandle_EngineFailureDoesNotLeakCachedVersion(t *testing.T) {
	// SetLastVersion fails after the puts: the rolled-back version must
	// not be handed out as if it had been used, nor skipped by a stale
	// cache.
	f := newFaultyEngine("", 0, false)
	v := put(t, object.New(f, frozen), "k", "v")
	o := object.New(f, frozen) // a fresh actor records a new mark
	f.arm("SetLastVersion", 0, false)
	for range 3 {
		r := write(t, o, putM("k", "x"))
		require.Equal(t, protocol.StatusInternal, r.Status)
	}
	f.disarm()
	next := put(t, o, "k", "y")
	assert.Greater(t, next, v)
	requireValue(t, o, "k", next, "y")
	assert.Greater(t, put(t, o, "k", "z"), next, "and counts on from it")
}

// A write records the object's last version only when it passes the mark
// recorded before, which runs ahead of it: one storage write per write
// instead of two. An actor that loads the mark after a restart counts on
// above every version handed out.
func TestHandle_RecordsTheLastVersionAheadOfTheWrites(t *testing.T) {
	f := newFaultyEngine("none", 0, false) // counts the calls, fails none
	o := object.New(f, frozen)
	var last uint64
	for i := range 100 {
		v := put(t, o, fmt.Sprint("k", i%7), "v")
		require.Greater(t, v, last)
		last = v
	}
	assert.Equal(t, 1, f.calls["SetLastVersion"], "the first write recorded a mark for the next ones")
	mark, err := f.LastVersion()
	require.NoError(t, err)
	assert.Greater(t, mark, last)

	restarted := object.New(f, frozen)
	assert.Greater(t, put(t, restarted, "k0", "after a restart"), last)
}

// After the object gives its storage back, the recorded mark is gone with
// it: the next write records a new one, so that an actor reloading after a
// rejected write (or a restart) still counts on above every version it
// handed out since.
func TestHandle_VersionsGrowAfterStorageGiveBackAndReload(t *testing.T) {
	m := storage.NewMemory()
	o := object.New(m, frozen)
	v0 := put(t, o, "k", "v")
	requireOK(t, write(t, o, del("k")))
	require.True(t, o.Emptied())
	require.NoError(t, m.SetLastVersion(0)) // the host's deleteAll
	v1 := put(t, o, "a", "a")
	require.Greater(t, v1, v0)
	r := write(t, o, putIf("a", v1+1000, "stale")) // rejected: the actor reloads its version
	require.Equal(t, protocol.StatusConflict, r.Status)
	assert.Greater(t, put(t, o, "b", "b"), v1, "a version handed out again")
}
