package local

import (
	"context"
	"fmt"
	"iter"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dokv/dokv"
	"github.com/dokv/dokv/dokvtest"
	"github.com/dokv/dokv/internal/lincheck"
)

// epoch is where the tests' manual clocks start.
var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Objects idle for the eviction delay leave memory; the next request loads
// them from disk with their records and versions.
func TestLocal_EvictsIdleObjects(t *testing.T) {
	ctx := context.Background()
	clock := dokvtest.NewManualClock(epoch)
	ns := open(t, t.TempDir(), WithClock(clock), WithEvictAfter(time.Minute))
	s, err := dokv.New[string](ns, dokv.WithPartitioning(dokv.PerKey()))
	require.NoError(t, err)
	versions := map[string]uint64{}
	for i := range 100 {
		key := fmt.Sprint("k", i)
		versions[key], err = s.SetEntry(ctx, key, "v"+key)
		require.NoError(t, err)
	}
	require.Equal(t, 100, ns.Objects())

	clock.Advance(59 * time.Second)
	require.Equal(t, 100, ns.Objects(), "not idle for a minute yet")
	_, err = s.Get(ctx, "k0") // k0 is used again
	require.NoError(t, err)
	clock.Advance(31 * time.Second)
	assert.Equal(t, 1, ns.Objects(), "every object idle for a minute left; k0 was used 31 s ago")
	clock.Advance(time.Minute)
	assert.Zero(t, ns.Objects())

	for i := range 100 {
		key := fmt.Sprint("k", i)
		e, err := s.GetEntry(ctx, key)
		require.NoError(t, err, key)
		assert.Equal(t, "v"+key, e.Value)
		assert.Equal(t, versions[key], e.Version)
		v, err := s.SetEntry(ctx, key, "again")
		require.NoError(t, err)
		assert.Greater(t, v, versions[key], "%s: versions grow across an eviction", key)
	}
	assert.Equal(t, 100, ns.Objects())
}

// An evicted object's TTL alarm still runs when due: the expired key goes
// and the object gives its storage back.
func TestLocal_AlarmOfAnEvictedObjectRuns(t *testing.T) {
	ctx := context.Background()
	clock := dokvtest.NewManualClock(epoch)
	ns := open(t, t.TempDir(), WithClock(clock), WithEvictAfter(time.Minute))
	s, err := dokv.New[string](ns, dokv.WithPartitioning(dokv.PerKey()))
	require.NoError(t, err)
	_, err = s.SetWithTTL(ctx, "short", "v", 10*time.Minute)
	require.NoError(t, err)
	require.NoError(t, s.Set(ctx, "long", "v"))

	clock.Advance(2 * time.Minute)
	require.Zero(t, ns.Objects(), "both evicted")
	n, err := ns.db.Records()
	require.NoError(t, err)
	require.Equal(t, 2, n)

	clock.Advance(9 * time.Minute) // the alarm is due at 10 minutes
	n, err = ns.db.Records()
	require.NoError(t, err)
	assert.Equal(t, 1, n, "the alarm loaded the evicted object and removed its expired key")
	assert.Zero(t, ns.Objects(), "the emptied object gave its storage back")
	_, err = s.Get(ctx, "short")
	assert.ErrorIs(t, err, dokv.ErrNotFound)
	got, err := s.Get(ctx, "long")
	require.NoError(t, err)
	assert.Equal(t, "v", got)
}

// A request that loads an evicted object before its alarm is due takes the
// alarm back: it runs once, from the resident object.
func TestLocal_ReloadedObjectKeepsItsAlarm(t *testing.T) {
	ctx := context.Background()
	clock := dokvtest.NewManualClock(epoch)
	ns := open(t, t.TempDir(), WithClock(clock), WithEvictAfter(time.Minute))
	s, err := dokv.New[string](ns, dokv.WithPartitioning(dokv.SingleObject("o")))
	require.NoError(t, err)
	_, err = s.SetWithTTL(ctx, "short", "v", 10*time.Minute)
	require.NoError(t, err)
	require.NoError(t, s.Set(ctx, "long", "v"))
	clock.Advance(2 * time.Minute)
	require.Zero(t, ns.Objects())
	got, err := s.Get(ctx, "long") // loads it again
	require.NoError(t, err)
	require.Equal(t, "v", got)
	require.Equal(t, 1, ns.Objects())
	clock.Advance(9 * time.Minute)
	n, err := ns.db.Records()
	require.NoError(t, err)
	assert.Equal(t, 1, n, "the expired key is gone")
}

// An object with a Go watcher stays in memory, as a Durable Object with
// open WebSockets does; once the watch ends it may leave.
func TestLocal_WatchedObjectStays(t *testing.T) {
	ctx := context.Background()
	clock := dokvtest.NewManualClock(epoch)
	ns := open(t, t.TempDir(), WithClock(clock), WithEvictAfter(time.Minute))
	s, err := dokv.New[string](ns, dokv.WithPartitioning(dokv.PerKey()))
	require.NoError(t, err)
	require.NoError(t, s.Set(ctx, "watched", "v"))
	watchCtx, stop := context.WithCancel(ctx)
	next, done := iter.Pull2(s.Watch(watchCtx, "watched"))
	_, err, ok := next() // the start
	require.True(t, ok)
	require.NoError(t, err)

	clock.Advance(5 * time.Minute)
	assert.Equal(t, 1, ns.Objects(), "a watched object stays")
	require.NoError(t, s.Set(ctx, "watched", "w"))
	c, err, ok := next()
	require.True(t, ok)
	require.NoError(t, err)
	assert.Equal(t, "w", c.Value)

	stop()
	done()
	clock.Advance(2 * time.Minute)
	assert.Zero(t, ns.Objects())
}

// Histories stay linearizable while objects are evicted and reloaded all
// the time (an eviction delay of a millisecond on the system clock).
func TestLocal_LinearizableUnderEviction(t *testing.T) {
	ns := open(t, t.TempDir(), WithEvictAfter(time.Millisecond))
	res := lincheck.Run(t, ns, lincheck.Config{Clients: 8, Ops: 2000, Keys: 4, Seed: 2})
	t.Logf("%d evictions", ns.host.Evictions())
	assert.Positive(t, ns.host.Evictions())
	assert.Positive(t, res.Stats.GetsFound)
	assert.Positive(t, res.Stats.CASOK)
}

// Closing the namespace ends its watches: a Go watcher gets ErrUnavailable
// rather than waiting for changes that will never come.
func TestLocal_CloseEndsWatches(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	ns, err := Open(t.TempDir())
	require.NoError(t, err)
	s, err := dokv.New[string](ns, dokv.WithPartitioning(dokv.PerKey()))
	require.NoError(t, err)
	next, done := iter.Pull2(s.Watch(ctx, "k"))
	defer done()
	_, err, ok := next() // the start
	require.True(t, ok)
	require.NoError(t, err)
	require.NoError(t, ns.Close())
	_, err, ok = next()
	require.True(t, ok)
	require.ErrorIs(t, err, dokv.ErrUnavailable)
	_, _, ok = next()
	assert.False(t, ok, "the first error ends the watch")
}
