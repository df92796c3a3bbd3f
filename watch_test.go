package dokv_test

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dokv/dokv"
	"github.com/dokv/dokv/dokvtest"
)

// watcher pulls the events of one watch.
type watcher[T any] struct {
	next func() (dokv.WatchEvent[T], error, bool)
	stop func()
}

func watchKey[T any](t *testing.T, ctx context.Context, s *dokv.Store[T], key string, opts ...dokv.WatchOption) *watcher[T] {
	t.Helper()
	next, stop := iter.Pull2(s.Watch(ctx, key, opts...))
	t.Cleanup(stop)
	return &watcher[T]{next: next, stop: stop}
}

// event returns the next event, failing the test on an error.
func (w *watcher[T]) event(t *testing.T) dokv.WatchEvent[T] {
	t.Helper()
	ev, err, ok := w.next()
	require.True(t, ok, "the watch ended")
	require.NoError(t, err)
	return ev
}

func newWatchStore(t *testing.T, opts ...dokv.Option) *dokv.Store[string] {
	t.Helper()
	s, err := dokv.New[string](dokv.NewMemoryNamespace(), opts...)
	require.NoError(t, err)
	return s
}

func TestWatch_SeesEveryChangeAndEventInOrder(t *testing.T) {
	ctx := t.Context()
	s := newWatchStore(t)
	v1, err := s.SetEntry(ctx, "job", "queued")
	require.NoError(t, err)

	w := watchKey(t, ctx, s, "job")
	start := w.event(t)
	assert.Equal(t, dokv.WatchSnapshot, start.Kind)
	assert.Equal(t, "queued", start.Value)
	assert.Equal(t, v1, start.Version)
	assert.False(t, start.Resynced)

	v2, err := s.SetEntry(ctx, "job", "running")
	require.NoError(t, err)
	require.NoError(t, s.Emit(ctx, "job", map[string]int{"progress": 50}))
	require.NoError(t, s.Delete(ctx, "job"))
	v3, err := s.SetEntry(ctx, "job", "again")
	require.NoError(t, err)

	ev := w.event(t)
	assert.Equal(t, dokv.WatchSet, ev.Kind)
	assert.Equal(t, "running", ev.Value)
	assert.Equal(t, v2, ev.Version)
	assert.Equal(t, v2, ev.At)
	ev = w.event(t)
	assert.Equal(t, dokv.WatchEmitted, ev.Kind)
	assert.JSONEq(t, `{"progress":50}`, string(ev.Event))
	assert.Equal(t, v2, ev.At, "an event is positioned at the object's version")
	ev = w.event(t)
	assert.Equal(t, dokv.WatchDeleted, ev.Kind)
	assert.Equal(t, uint64(0), ev.Version)
	assert.Greater(t, ev.At, v2)
	deletedAt := ev.At
	ev = w.event(t)
	assert.Equal(t, dokv.WatchSet, ev.Kind)
	assert.Equal(t, "again", ev.Value)
	assert.Equal(t, v3, ev.Version)
	assert.Greater(t, ev.At, deletedAt)
}

func TestWatch_SnapshotOfAnAbsentKey(t *testing.T) {
	s := newWatchStore(t)
	w := watchKey(t, t.Context(), s, "nothing")
	ev := w.event(t)
	assert.Equal(t, dokv.WatchSnapshot, ev.Kind)
	assert.Equal(t, uint64(0), ev.Version)
	assert.Equal(t, "", ev.Value)
}

func TestWatch_ResumeMissesNothing(t *testing.T) {
	ctx := t.Context()
	s := newWatchStore(t, dokv.WithPartitioning(dokv.SingleObject("jobs")))
	require.NoError(t, s.Set(ctx, "job", "a"))

	first, cancel := context.WithCancel(ctx)
	w := watchKey(t, first, s, "job")
	last := w.event(t).At
	require.NoError(t, s.Set(ctx, "job", "b"))
	last = w.event(t).At
	cancel()
	_, err, _ := w.next()
	require.ErrorIs(t, err, context.Canceled, "a watch ends with its context's error")

	// Changes while no one watches, to this key and to others of the object.
	for _, v := range []string{"c", "d", "e"} {
		require.NoError(t, s.Set(ctx, "job", v))
		require.NoError(t, s.Set(ctx, "other", v))
	}
	require.NoError(t, s.Delete(ctx, "job"))

	w = watchKey(t, ctx, s, "job", dokv.WithResumeAfter(last))
	ev := w.event(t)
	assert.Equal(t, dokv.WatchResumed, ev.Kind)
	assert.Equal(t, last, ev.At)
	for _, want := range []string{"c", "d", "e"} {
		ev = w.event(t)
		require.Equal(t, dokv.WatchSet, ev.Kind)
		assert.Equal(t, want, ev.Value)
	}
	assert.Equal(t, dokv.WatchDeleted, w.event(t).Kind)
}

// An object whose last key is deleted gives its storage back, and its
// change log ends with it: a watcher that resumes from before resyncs.
func TestWatch_ResumeAfterTheObjectEmptiedResyncs(t *testing.T) {
	ctx := t.Context()
	s := newWatchStore(t)
	require.NoError(t, s.Set(ctx, "job", "a"))
	w := watchKey(t, ctx, s, "job")
	last := w.event(t).At
	w.stop()
	require.NoError(t, s.Delete(ctx, "job"))

	w = watchKey(t, ctx, s, "job", dokv.WithResumeAfter(last))
	ev := w.event(t)
	assert.Equal(t, dokv.WatchSnapshot, ev.Kind)
	assert.True(t, ev.Resynced)
	assert.Greater(t, ev.At, last, "positions stay monotonic across the give-back")
	require.NoError(t, s.Set(ctx, "job", "b"))
	ev = w.event(t)
	assert.Equal(t, "b", ev.Value)
	assert.Greater(t, ev.Version, last)
}

func TestWatch_PastTheLogsHorizonResyncs(t *testing.T) {
	ctx := t.Context()
	s := newWatchStore(t)
	require.NoError(t, s.Set(ctx, "job", "start"))
	w := watchKey(t, ctx, s, "job")
	old := w.event(t).At
	w.stop()

	for i := range dokv.WatchLogChanges + 1 {
		require.NoError(t, s.Set(ctx, "job", fmt.Sprint(i)))
	}
	w = watchKey(t, ctx, s, "job", dokv.WithResumeAfter(old))
	ev := w.event(t)
	assert.Equal(t, dokv.WatchSnapshot, ev.Kind)
	assert.True(t, ev.Resynced)
	assert.Equal(t, fmt.Sprint(dokv.WatchLogChanges), ev.Value, "a resync carries the current value")

	// Inside the horizon, the same store resumes.
	w.stop()
	w = watchKey(t, ctx, s, "job", dokv.WithResumeAfter(ev.At))
	assert.Equal(t, dokv.WatchResumed, w.event(t).Kind)

	// A position the object never reached is not trusted.
	w.stop()
	w = watchKey(t, ctx, s, "job", dokv.WithResumeAfter(ev.At+10))
	ev = w.event(t)
	assert.True(t, ev.Resynced)
}

func TestWatch_ObjectResetKeepsWatchersAndResyncsOldPositions(t *testing.T) {
	ctx := t.Context()
	ns := dokv.NewMemoryNamespace()
	s, err := dokv.New[string](ns, dokv.WithPartitioning(dokv.SingleObject("one")))
	require.NoError(t, err)
	require.NoError(t, s.Set(ctx, "job", "a"))
	w := watchKey(t, ctx, s, "job")
	before := w.event(t).At
	require.NoError(t, s.Set(ctx, "job", "b"))
	now := w.event(t).At

	ns.Reset(ns.IDFromName(s.ObjectName("job"))) // an eviction loses the log
	require.NoError(t, s.Set(ctx, "job", "c"))
	ev := w.event(t)
	assert.Equal(t, "c", ev.Value, "a watcher outlives its object's eviction")

	// The reloaded object's log starts with its first watch: positions
	// from then on resume, older ones resynchronise.
	stale := watchKey(t, ctx, s, "job", dokv.WithResumeAfter(now))
	start := stale.event(t)
	assert.True(t, start.Resynced)
	assert.Equal(t, "c", start.Value)
	resumed := watchKey(t, ctx, s, "job", dokv.WithResumeAfter(ev.At))
	assert.Equal(t, dokv.WatchResumed, resumed.event(t).Kind)
	require.NoError(t, s.Set(ctx, "job", "d"))
	assert.Equal(t, "d", resumed.event(t).Value)
	again := watchKey(t, ctx, s, "job", dokv.WithResumeAfter(ev.At))
	assert.Equal(t, dokv.WatchResumed, again.event(t).Kind)
	assert.Equal(t, "d", again.event(t).Value, "changes after the log started are replayed")
	old := watchKey(t, ctx, s, "job", dokv.WithResumeAfter(before))
	assert.True(t, old.event(t).Resynced)
}

func TestWatch_ManyWatchersWhileOthersWrite(t *testing.T) {
	ctx := t.Context()
	s := newWatchStore(t, dokv.WithPartitioning(dokv.SingleObject("busy")))
	const watchers, writes = 20, 100
	ws := make([]*watcher[string], watchers)
	for i := range ws {
		ws[i] = watchKey(t, ctx, s, "job")
		require.Equal(t, dokv.WatchSnapshot, ws[i].event(t).Kind)
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		for i := range writes {
			assert.NoError(t, s.Set(ctx, "job", fmt.Sprint(i)))
		}
	}()
	go func() { // writes to other keys of the same object
		defer wg.Done()
		for i := range writes {
			assert.NoError(t, s.Set(ctx, fmt.Sprint("other-", i%7), "x"))
		}
	}()
	wg.Wait()
	for _, w := range ws {
		var at uint64
		for i := range writes {
			ev := w.event(t)
			require.Equal(t, dokv.WatchSet, ev.Kind)
			require.Equal(t, fmt.Sprint(i), ev.Value, "every change, in order")
			require.Greater(t, ev.At, at)
			at = ev.At
		}
	}
}

func TestWatch_SlowWatcherIsDroppedWithoutBlockingWriters(t *testing.T) {
	ctx := t.Context()
	s := newWatchStore(t)
	slow := watchKey(t, ctx, s, "job")
	fast := watchKey(t, ctx, s, "job")
	slow.event(t)
	fast.event(t)

	// The writer finishes although the slow watcher reads nothing; the
	// fast one keeps up.
	for i := range dokv.MaxWatchLag + 10 {
		require.NoError(t, s.Set(ctx, "job", fmt.Sprint(i)))
		require.Equal(t, fmt.Sprint(i), fast.event(t).Value)
	}
	for i := range dokv.MaxWatchLag {
		require.Equal(t, fmt.Sprint(i), slow.event(t).Value, "what was queued is delivered")
	}
	_, err, ok := slow.next()
	require.True(t, ok)
	require.ErrorIs(t, err, dokv.ErrLagging)
	_, _, ok = slow.next()
	assert.False(t, ok, "an error ends the watch")
}

func TestWatch_TooManyWatchersAreRefused(t *testing.T) {
	ctx := t.Context()
	s := newWatchStore(t, dokv.WithPartitioning(dokv.SingleObject("popular")))
	for i := range dokv.MaxWatchers {
		watchKey(t, ctx, s, fmt.Sprint("k", i%10)).event(t)
	}
	_, err, _ := watchKey(t, ctx, s, "k0").next()
	require.ErrorIs(t, err, dokv.ErrOverloaded)
}

func TestWatch_AnotherPrefixNeverReaches(t *testing.T) {
	ctx := t.Context()
	ns := dokv.NewMemoryNamespace()
	a, err := dokv.New[string](ns, dokv.WithPrefix("a"), dokv.WithPartitioning(dokv.SingleObject("shared")))
	require.NoError(t, err)
	b, err := dokv.New[string](ns, dokv.WithPrefix("b"), dokv.WithPartitioning(dokv.SingleObject("shared")))
	require.NoError(t, err)
	w := watchKey(t, ctx, a, "k")
	w.event(t)
	require.NoError(t, b.Set(ctx, "k", "from b"))
	require.NoError(t, b.Emit(ctx, "k", "to b"))
	require.NoError(t, a.Set(ctx, "other", "a's other key"))
	require.NoError(t, a.Set(ctx, "k", "from a"))
	ev := w.event(t)
	assert.Equal(t, "from a", ev.Value, "nothing of b or of another key came first")
}

func TestWatch_TransactionChangesReachEachKey(t *testing.T) {
	ctx := t.Context()
	s := newWatchStore(t, dokv.WithPartitioning(dokv.SingleObject("txn")))
	x, y := watchKey(t, ctx, s, "x"), watchKey(t, ctx, s, "y")
	x.event(t)
	y.event(t)
	versions, err := s.Txn().Set("x", "1").Set("y", "2").Commit(ctx)
	require.NoError(t, err)
	ev := x.event(t)
	assert.Equal(t, "1", ev.Value)
	assert.Equal(t, versions["x"], ev.Version)
	assert.Equal(t, "2", y.event(t).Value)
}

func TestWatch_LargeValueArrivesTruncated(t *testing.T) {
	ctx := t.Context()
	s := newWatchStore(t)
	w := watchKey(t, ctx, s, "big")
	w.event(t)
	big := strings.Repeat("x", dokv.MaxWatchMessageBytes)
	v, err := s.SetEntry(ctx, "big", big)
	require.NoError(t, err)
	ev := w.event(t)
	assert.Equal(t, dokv.WatchSet, ev.Kind)
	assert.True(t, ev.Truncated)
	assert.Equal(t, "", ev.Value)
	assert.Equal(t, v, ev.Version)
}

func TestWatch_RawCodecValuesCross(t *testing.T) {
	ctx := t.Context()
	s, err := dokv.New[[]byte](dokv.NewMemoryNamespace(), dokv.WithCodec(dokv.Raw()))
	require.NoError(t, err)
	w := watchKey(t, ctx, s, "bin")
	w.event(t)
	for _, v := range [][]byte{{0xff, 0, 1}, []byte(`{"json":true}`)} {
		require.NoError(t, s.Set(ctx, "bin", v))
		assert.Equal(t, v, w.event(t).Value)
	}
}

func TestWatch_BadInput(t *testing.T) {
	ctx := t.Context()
	s := newWatchStore(t)
	_, err, _ := watchKey(t, ctx, s, "").next()
	assert.ErrorIs(t, err, dokv.ErrInvalidKey)
	err = s.Emit(ctx, "k", strings.Repeat("x", dokv.MaxEventBytes))
	assert.ErrorIs(t, err, dokv.ErrValueTooLarge)
	err = s.Emit(ctx, "k", make(chan int))
	assert.ErrorIs(t, err, dokv.ErrInvalidArgument)
	err = s.Emit(ctx, "", "x")
	assert.ErrorIs(t, err, dokv.ErrInvalidKey)
	_, err, _ = watchKey(t, ctx, s, "k", dokv.WithResumeAfter(1<<53)).next()
	assert.ErrorIs(t, err, dokv.ErrInvalidArgument)
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	_, err, _ = watchKey(t, canceled, s, "k").next()
	assert.ErrorIs(t, err, context.Canceled)
}

func TestWatch_ThroughFaultyNamespace(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	s, err := dokv.New[string](dokvtest.WithFaults(dokv.NewMemoryNamespace(), dokvtest.Faults{Seed: 1, MaxLatency: time.Millisecond}))
	require.NoError(t, err)
	w := watchKey(t, ctx, s, "k")
	w.event(t)
	require.NoError(t, s.Set(ctx, "k", "v"))
	assert.Equal(t, "v", w.event(t).Value)
	ev, _ := json.Marshal(1)
	require.NoError(t, s.Emit(ctx, "k", json.RawMessage(ev)))
	assert.Equal(t, dokv.WatchEmitted, w.event(t).Kind)
}
