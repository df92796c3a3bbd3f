package dokv_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dokv/dokv"
	"github.com/dokv/dokv/dokvtest"
)

var epoch = time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)

func newClockStore[T any](t *testing.T, opts ...dokv.Option) (*dokv.Store[T], *dokv.MemoryNamespace, *dokvtest.ManualClock) {
	t.Helper()
	clock := dokvtest.NewManualClock(epoch)
	ns := dokv.NewMemoryNamespace(dokv.WithClock(clock))
	s, err := dokv.New[T](ns, opts...)
	require.NoError(t, err)
	return s, ns, clock
}

func TestTTL_ExpiredKeyIsGoneEverywhereAtOnce(t *testing.T) {
	ctx := t.Context()
	s, _, clock := newClockStore[string](t, dokv.WithPartitioning(dokv.SingleObject("o")))
	v1, err := s.SetWithTTL(ctx, "k", "v", 2*time.Second)
	require.NoError(t, err)
	require.NoError(t, s.Set(ctx, "other", "x"))

	e, err := s.GetEntry(ctx, "k")
	require.NoError(t, err)
	assert.Equal(t, epoch.Add(2*time.Second), e.ExpiresAt)
	o, err := s.GetEntry(ctx, "other")
	require.NoError(t, err)
	assert.True(t, o.ExpiresAt.IsZero())

	clock.Advance(2*time.Second - time.Millisecond)
	_, err = s.Get(ctx, "k")
	require.NoError(t, err, "not before its time")
	clock.Advance(time.Millisecond)
	_, err = s.Get(ctx, "k")
	require.ErrorIs(t, err, dokv.ErrNotFound)

	var keys []string
	for e, err := range s.List(ctx, dokv.ListOptions{}) {
		require.NoError(t, err)
		keys = append(keys, e.Key)
	}
	assert.Equal(t, []string{"other"}, keys)
	_, err = s.Txn().Check("k", 0).Commit(ctx)
	require.NoError(t, err, "a condition sees the key as absent")
	_, err = s.CompareAndSwap(ctx, "k", v1, "stale")
	require.ErrorIs(t, err, dokv.ErrConflict, "its old version is gone with it")
	v2, err := s.CompareAndSwap(ctx, "k", 0, "again")
	require.NoError(t, err)
	assert.Greater(t, v2, v1)
	e, err = s.GetEntry(ctx, "k")
	require.NoError(t, err)
	assert.True(t, e.ExpiresAt.IsZero(), "a write without TTL makes the key permanent")
}

func TestTTL_AlarmRemovesWhileIdleAndObjectsGiveStorageBack(t *testing.T) {
	ctx := t.Context()
	s, ns, clock := newClockStore[string](t)
	for i := range 10 {
		_, err := s.SetWithTTL(ctx, fmt.Sprint("upload-", i), "x", time.Duration(i+1)*time.Minute)
		require.NoError(t, err)
	}
	require.NoError(t, s.Set(ctx, "keep", "x"))
	require.Equal(t, 11, ns.Objects())
	st, err := s.ObjectStats(ctx, "upload-3")
	require.NoError(t, err)
	assert.Equal(t, epoch.Add(4*time.Minute), st.NextAlarm)

	clock.Advance(5 * time.Minute) // no request: only the alarms run
	assert.Equal(t, 6, ns.Objects(), "the five expired keys' objects are gone")
	clock.Advance(time.Hour)
	assert.Equal(t, 1, ns.Objects())
	_, err = s.Get(ctx, "keep")
	require.NoError(t, err)
	_, err = s.Get(ctx, "never-written")
	require.ErrorIs(t, err, dokv.ErrNotFound)
	assert.Equal(t, 1, ns.Objects(), "a read of a key no one wrote leaves nothing behind")
}

func TestTTL_StatsCountLiveKeysAndTheNextAlarm(t *testing.T) {
	ctx := t.Context()
	s, _, clock := newClockStore[string](t, dokv.WithPartitioning(dokv.HashShards(4)))
	for i := range 8 {
		_, err := s.SetWithTTL(ctx, fmt.Sprint("k", i), "v", time.Duration(i+1)*time.Second)
		require.NoError(t, err)
	}
	st, err := s.Stats(ctx)
	require.NoError(t, err)
	assert.Equal(t, int64(8), st.Keys)
	assert.Equal(t, epoch.Add(time.Second), st.NextAlarm, "the earliest alarm of any object")
	clock.Advance(4 * time.Second)
	st, err = s.Stats(ctx)
	require.NoError(t, err)
	assert.Equal(t, int64(4), st.Keys)
	assert.Equal(t, epoch.Add(5*time.Second), st.NextAlarm)
}

func TestTTL_DefaultAndFunction(t *testing.T) {
	ctx := t.Context()
	base, _, clock := newClockStore[int](t, dokv.WithTTL(time.Minute))
	s := base.WithTTLFunc(func(v int) time.Duration { return time.Duration(v) * time.Second })
	require.NoError(t, s.Set(ctx, "default", 0))
	require.NoError(t, s.Set(ctx, "ten", 10))
	_, err := s.Txn().Set("txn", 20).Commit(ctx)
	require.NoError(t, err)
	_, err = s.Update(ctx, "update", func(int, bool) (int, error) { return 30, nil })
	require.NoError(t, err)
	_, err = s.SetWithTTL(ctx, "explicit", 10, time.Hour)
	require.NoError(t, err)

	want := map[string]time.Duration{"default": time.Minute, "ten": 10 * time.Second, "txn": 20 * time.Second, "update": 30 * time.Second, "explicit": time.Hour}
	for key, d := range want {
		e, err := s.GetEntry(ctx, key)
		require.NoError(t, err)
		assert.Equal(t, epoch.Add(d), e.ExpiresAt, key)
	}
	clock.Advance(time.Minute)
	for key, d := range want {
		_, err := s.Get(ctx, key)
		if d <= time.Minute {
			assert.ErrorIs(t, err, dokv.ErrNotFound, key)
		} else {
			assert.NoError(t, err, key)
		}
	}
}

func TestTTL_BadArguments(t *testing.T) {
	ctx := t.Context()
	ns := dokv.NewMemoryNamespace()
	for _, opt := range []dokv.Option{dokv.WithTTL(-time.Second), dokv.WithTTL(dokv.MaxTTL + 1), dokv.WithFlowJobRetention(time.Hour), dokv.WithFlowJobRetention(-time.Second)} {
		_, err := dokv.New[int](ns, opt)
		require.ErrorIs(t, err, dokv.ErrInvalidArgument)
	}
	base, err := dokv.New[int](ns, dokv.WithPartitioning(dokv.SingleObject("o")))
	require.NoError(t, err)
	s := base.WithTTLFunc(func(v int) time.Duration { return time.Duration(v) * dokv.MaxTTL })
	for _, d := range []time.Duration{0, -time.Second, dokv.MaxTTL + 1} {
		_, err := s.SetWithTTL(ctx, "k", 1, d)
		require.ErrorIs(t, err, dokv.ErrInvalidArgument, "%v", d)
		_, err = s.Txn().Set("a", 1).SetWithTTL("k", 1, d).Commit(ctx)
		require.ErrorIs(t, err, dokv.ErrInvalidArgument, "%v", d)
	}
	require.ErrorIs(t, s.Set(ctx, "k", 2), dokv.ErrInvalidArgument, "a function's TTL out of range")
	st, err := s.Stats(ctx)
	require.NoError(t, err)
	assert.Zero(t, st.Keys, "nothing was written")
}

func TestTTL_WatchersSeeTheExpiry(t *testing.T) {
	ctx := t.Context()
	s, _, clock := newClockStore[string](t)
	_, err := s.SetWithTTL(ctx, "job", "running", time.Minute)
	require.NoError(t, err)
	w := watchKey(t, ctx, s, "job")
	start := w.event(t)
	require.Equal(t, "running", start.Value)
	clock.Advance(time.Minute)
	ev := w.event(t)
	assert.Equal(t, dokv.WatchDeleted, ev.Kind)
	assert.Greater(t, ev.At, start.At)
}

func TestFlowJobRetention_FinishedJobsExpire(t *testing.T) {
	ctx := t.Context()
	clock := dokvtest.NewManualClock(epoch)
	jobs, err := dokv.NewFlowJobStore(dokv.NewMemoryNamespace(dokv.WithClock(clock)), dokv.WithFlowJobRetention(time.Hour))
	require.NoError(t, err)
	running := dokv.NewFlowJob("flow", "storage")
	running.Status = dokv.FlowJobRunning
	done := dokv.NewFlowJob("flow", "storage")
	require.NoError(t, jobs.Set(ctx, running.ID, running))
	require.NoError(t, jobs.Set(ctx, done.ID, done))
	_, err = jobs.Update(ctx, done.ID, func(j dokv.FlowJob, _ bool) (dokv.FlowJob, error) {
		j.Status = dokv.FlowJobCompleted
		return j, nil
	})
	require.NoError(t, err)

	clock.Advance(time.Hour - time.Millisecond)
	_, err = jobs.Get(ctx, done.ID)
	require.NoError(t, err, "kept for the retention time")
	clock.Advance(time.Millisecond)
	_, err = jobs.Get(ctx, done.ID)
	require.ErrorIs(t, err, dokv.ErrNotFound)
	clock.Advance(1000 * time.Hour)
	_, err = jobs.Get(ctx, running.ID)
	require.NoError(t, err, "a running job is kept")
}

// A key deleted with its object's storage and written again gets a larger
// version, so a stale CompareAndSwap fails, even with the clock stopped.
func TestVersions_StaleCASFailsAfterTheObjectEmptied(t *testing.T) {
	ctx := t.Context()
	s, ns, clock := newClockStore[string](t)
	old, err := s.SetEntry(ctx, "k", "old")
	require.NoError(t, err)
	require.NoError(t, s.Delete(ctx, "k"))
	require.Zero(t, ns.Objects(), "the object gave its storage back")
	v, err := s.SetEntry(ctx, "k", "new")
	require.NoError(t, err)
	assert.Greater(t, v, old)
	_, err = s.CompareAndSwap(ctx, "k", old, "stale")
	require.ErrorIs(t, err, dokv.ErrConflict)

	// Through expiry and an alarm, too.
	_, err = s.SetWithTTL(ctx, "k", "short", time.Second)
	require.NoError(t, err)
	clock.Advance(time.Second)
	require.Zero(t, ns.Objects())
	_, err = s.CompareAndSwap(ctx, "k", v, "stale")
	require.ErrorIs(t, err, dokv.ErrConflict)
}

func TestMemoryNamespace_DoesNotGrowWithDeletedKeys(t *testing.T) {
	ctx := context.Background()
	ns := dokv.NewMemoryNamespace()
	s, err := dokv.New[int](ns)
	require.NoError(t, err)
	for i := range 1000 {
		key := fmt.Sprint("upload-", i)
		require.NoError(t, s.Set(ctx, key, i))
		_, err := s.Get(ctx, key+"-absent")
		require.ErrorIs(t, err, dokv.ErrNotFound)
		require.NoError(t, s.Delete(ctx, key))
	}
	assert.Zero(t, ns.Objects())
}
