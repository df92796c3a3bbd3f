package object_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dokv/dokv/internal/object"
	"github.com/dokv/dokv/internal/protocol"
	"github.com/dokv/dokv/internal/storage"
)

// clock is a settable time in Unix milliseconds.
type clock struct{ now uint64 }

func (c *clock) option() object.Option { return object.WithClock(func() uint64 { return c.now }) }

func putTTL(key, value string, ttl uint64) protocol.Mutation {
	m := putM(key, value)
	m.TTL = ttl
	return m
}

func stats(t *testing.T, o *object.Object, prefix string) protocol.Reply {
	t.Helper()
	r := call(t, o, protocol.Request{Op: protocol.OpStats, Key: prefix})
	requireOK(t, r)
	return r
}

func TestExpiry_InvisibleAtOnceEverywhere(t *testing.T) {
	c := &clock{now: 1_000_000}
	m := storage.NewMemory()
	o := object.New(m, c.option())
	requireOK(t, write(t, o, putTTL("a", "1", 100), putM("b", "2")))

	r := get(t, o, "a")
	require.True(t, r.Found)
	assert.Equal(t, uint64(1_000_100), r.Expires, "the expiry is the object's time plus the TTL")
	assert.Zero(t, get(t, o, "b").Expires)

	c.now += 99
	require.True(t, get(t, o, "a").Found, "one millisecond before its expiry the key is there")
	c.now++
	requireAbsent(t, o, "a")
	l := list(t, o, "", "", 10)
	require.Len(t, l.Entries, 1)
	assert.Equal(t, "b", l.Entries[0].Key)
	assert.Equal(t, uint64(1), stats(t, o, "").Stats.Keys)

	// A condition sees the expired key as absent, version 0.
	r = write(t, o, check("a", 0))
	requireOK(t, r)
	r = write(t, o, putIf("a", 0, "again"))
	requireOK(t, r)
	assert.Greater(t, r.Versions[0], get(t, o, "b").Version, "a re-created key gets a larger version")
	assert.Zero(t, get(t, o, "a").Expires, "a put without TTL does not keep the old one")
}

func TestExpiry_AlarmRemovesAndRearms(t *testing.T) {
	c := &clock{now: 5_000}
	m := storage.NewMemory()
	o := object.New(m, c.option())
	requireOK(t, write(t, o, putTTL("late", "x", 300)))
	assert.Equal(t, uint64(5_300), m.Alarm())
	requireOK(t, write(t, o, putTTL("early", "x", 100), putM("keep", "x")))
	assert.Equal(t, uint64(5_100), m.Alarm(), "an earlier expiry moves the alarm forward")
	requireOK(t, write(t, o, putTTL("later", "x", 1000)))
	assert.Equal(t, uint64(5_100), m.Alarm(), "a later one leaves it")
	assert.Equal(t, uint64(5_100), stats(t, o, "").Stats.NextAlarm)

	c.now = 5_100
	before := stats(t, o, "").Version
	require.NoError(t, o.Alarm())
	recs, last := dump(t, m)
	assert.Equal(t, []string{"keep", "late", "later"}, keys(recs))
	assert.Greater(t, last, before, "a removal is a write: it takes a new version")
	require.Len(t, o.Changes(), 1)
	assert.Equal(t, "early", o.Changes()[0].Key)
	assert.True(t, o.Changes()[0].Deleted)
	assert.Equal(t, uint64(5_300), m.Alarm(), "re-armed for the next expiry")

	// A run with nothing due, as a retried or early alarm is, only re-arms.
	require.NoError(t, o.Alarm())
	recs2, last2 := dump(t, m)
	assert.Equal(t, recs, recs2)
	assert.Equal(t, last, last2)
	assert.Empty(t, o.Changes())

	c.now = 7_000
	require.NoError(t, o.Alarm())
	recs, _ = dump(t, m)
	assert.Equal(t, []string{"keep"}, keys(recs))
	assert.Zero(t, m.Alarm(), "no expiry left: no alarm")
	assert.False(t, o.Emptied(), "a record without TTL remains")
}

func TestExpiry_AlarmUnknownAfterReset(t *testing.T) {
	c := &clock{now: 1_000}
	m := storage.NewMemory()
	o := object.New(m, c.option())
	requireOK(t, write(t, o, putTTL("a", "x", 50)))
	o = object.New(m, c.option()) // a reset forgets the alarm
	requireOK(t, write(t, o, putTTL("b", "x", 500)))
	assert.Equal(t, uint64(1_050), m.Alarm(), "after a load, the alarm is the earliest expiry of every record")
}

func TestExpiry_AlarmRunsInBatches(t *testing.T) {
	c := &clock{now: 1_000}
	m := storage.NewMemory()
	o := object.New(m, c.option())
	n := object.MaxExpiredPerAlarm + 10
	for i := 0; i < n; i += protocol.MaxMutations {
		var muts []protocol.Mutation
		for j := i; j < min(n, i+protocol.MaxMutations); j++ {
			muts = append(muts, putTTL(fmt.Sprintf("k%05d", j), "x", 10))
		}
		requireOK(t, write(t, o, muts...))
	}
	c.now = 2_000
	require.NoError(t, o.Alarm())
	assert.Len(t, o.Changes(), object.MaxExpiredPerAlarm)
	assert.Equal(t, c.now, m.Alarm(), "the rest is due at once")
	assert.Equal(t, 10, m.Len())
	require.NoError(t, o.Alarm())
	assert.Zero(t, m.Len())
	assert.True(t, o.Emptied())
}

func TestExpiry_AlarmFailureChangesNothing(t *testing.T) {
	f := newFaultyEngine("", 0, false)
	c := &clock{now: 1_000}
	o := object.New(f, c.option())
	requireOK(t, write(t, o, putTTL("a", "x", 10), putTTL("b", "x", 10)))
	c.now = 2_000
	recs, last := dump(t, f.Memory)
	f.arm("Delete", 2, false)
	require.Error(t, o.Alarm())
	recs2, last2 := dump(t, f.Memory)
	assert.Equal(t, recs, recs2, "a failed run removes nothing")
	assert.Equal(t, last, last2)
	f.disarm()
	require.NoError(t, o.Alarm(), "the retry does the work")
	assert.Zero(t, f.Memory.Len())
}

func TestEmptied_LastDeleteOrExpiry(t *testing.T) {
	c := &clock{now: 1_000}
	m := storage.NewMemory()
	o := object.New(m, c.option())
	requireOK(t, write(t, o, putM("a", "x"), putM("b", "x")))
	requireOK(t, write(t, o, del("a")))
	assert.False(t, o.Emptied())
	requireOK(t, write(t, o, del("b")))
	assert.True(t, o.Emptied(), "the last key deleted")
	requireAbsent(t, o, "b")
	assert.False(t, o.Emptied(), "Emptied describes the last request only")

	r := write(t, o, delIf("nothing", 5))
	assert.Equal(t, protocol.StatusConflict, r.Status)
	assert.False(t, o.Emptied(), "a rejected write empties nothing")

	requireOK(t, write(t, o, putTTL("t", "x", 10)))
	c.now += 10
	require.NoError(t, o.Alarm())
	assert.True(t, o.Emptied(), "the last key expired")
}

// An object that gives its storage back forgets its last version; the
// next write must still get a larger one, so a stale condition fails.
func TestEmptied_VersionsStayMonotonicAcrossGiveBack(t *testing.T) {
	c := &clock{now: 1_000}
	m := storage.NewMemory()
	o := object.New(m, c.option())
	v1 := put(t, o, "k", "old")
	requireOK(t, write(t, o, del("k")))
	require.True(t, o.Emptied())

	// The same actor over fresh storage (the Durable Object after
	// deleteAll): its memory is the floor, even with the clock stopped.
	m = storage.NewMemory()
	o2 := object.New(m, c.option(), object.WithFloor(o.LastVersion()))
	v2 := put(t, o2, "k", "new")
	assert.Greater(t, v2, v1)
	r := write(t, o2, putIf("k", v1, "stale"))
	assert.Equal(t, protocol.StatusConflict, r.Status)

	// A new actor with no memory of it (evicted since): the clock moved
	// on, and versions follow the time in microseconds.
	c.now += 10_000
	o3 := object.New(storage.NewMemory(), c.option())
	v3 := put(t, o3, "k", "newer")
	assert.Greater(t, v3, v2)
}

func TestVersions_LargestTimeFloorStaysBelow2To53(t *testing.T) {
	// The last millisecond whose floor (in microseconds) is below 2^53:
	// about the year 2255.
	last := uint64(protocol.MaxVersion / 1000)
	c := &clock{now: last}
	o := object.New(storage.NewMemory(), c.option())
	v := put(t, o, "k", "v")
	assert.Equal(t, last*1000, v)
	assert.LessOrEqual(t, v, uint64(protocol.MaxVersion))
	for v < protocol.MaxVersion {
		v = put(t, o, "k", "v")
	}
	assert.Equal(t, uint64(protocol.MaxVersion), v)
	r := write(t, o, putM("k", "past"))
	assert.Equal(t, protocol.StatusInternal, r.Status, "no version beyond 2^53-1 is handed out")
	assert.Contains(t, r.Message, "largest")
	requireValue(t, o, "k", v, "v")

	c.now = last + 1 // a clock beyond the floor's range gives no floor
	r = write(t, o, putM("other", "v"))
	assert.Equal(t, protocol.StatusInternal, r.Status)
}

func keys(recs []protocol.Record) []string {
	var out []string
	for _, r := range recs {
		out = append(out, r.Key)
	}
	return out
}
