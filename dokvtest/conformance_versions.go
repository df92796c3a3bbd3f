package dokvtest

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dokv/dokv"
	"github.com/dokv/dokv/driver"
)

func versionBehaviours() []behaviour {
	return []behaviour{
		{"Version/EveryWriteIsLarger", testVersionsIncrease},
		{"Version/LargerAfterDeleteAndRecreate", testVersionAfterRecreate},
		{"CompareAndSwap/ZeroMeansAbsent", testCASAbsent},
		{"CompareAndSwap/StaleVersionConflicts", testCASStale},
		{"CompareAndSwap/CompareAndDelete", testCompareAndDelete},
		{"CompareAndSwap/RaceHasOneWinnerPerVersion", testCASRace},
		{"Update/NoLostUpdates", testUpdateNoLostUpdates},
		{"Update/FnErrorWritesNothing", testUpdateFnError},
		{"Update/CreatesMissingKey", testUpdateCreates},
	}
}

func testVersionsIncrease(t *testing.T, ns driver.Namespace) {
	ctx := testContext(t)
	for _, part := range partitionings() {
		t.Run(part.name, func(t *testing.T) {
			s := newStore[int](t, ns, dokv.WithPartitioning(part.p))
			var last uint64
			for i := range 20 {
				v, err := s.SetEntry(ctx, "counter", i)
				require.NoError(t, err)
				require.Greater(t, v, last, "write %d", i)
				e, err := s.GetEntry(ctx, "counter")
				require.NoError(t, err)
				require.Equal(t, v, e.Version, "GetEntry returns the version Set returned")
				require.Equal(t, i, e.Value)
				require.Equal(t, "counter", e.Key)
				last = v
			}
		})
	}
}

func testVersionAfterRecreate(t *testing.T, ns driver.Namespace) {
	ctx := testContext(t)
	for _, part := range partitionings() {
		t.Run(part.name, func(t *testing.T) {
			s := newStore[int](t, ns, dokv.WithPartitioning(part.p))
			v1, err := s.SetEntry(ctx, "k", 1)
			require.NoError(t, err)
			require.NoError(t, s.Delete(ctx, "k"))
			v2, err := s.SetEntry(ctx, "k", 2)
			require.NoError(t, err)
			require.Greater(t, v2, v1, "a re-created key must not reuse a version: a stale CAS could succeed")
			_, err = s.CompareAndSwap(ctx, "k", v1, 3)
			requireErrorIs(t, err, dokv.ErrConflict, "k")
		})
	}
}

func testCASAbsent(t *testing.T, ns driver.Namespace) {
	ctx := testContext(t)
	s := newStore[string](t, ns)
	v, err := s.CompareAndSwap(ctx, "k", 0, "first")
	require.NoError(t, err)
	require.NotZero(t, v)
	_, err = s.CompareAndSwap(ctx, "k", 0, "second")
	requireErrorIs(t, err, dokv.ErrConflict, "k")
	var e *dokv.Error
	require.True(t, errors.As(err, &e))
	assert.Equal(t, v, e.Current, "the conflict reports the version found")
	got, err := s.Get(ctx, "k")
	require.NoError(t, err)
	assert.Equal(t, "first", got, "a failed CAS writes nothing")
}

func testCASStale(t *testing.T, ns driver.Namespace) {
	ctx := testContext(t)
	s := newStore[string](t, ns, dokv.WithPartitioning(dokv.SingleObject("cas")))
	v1, err := s.SetEntry(ctx, "k", "a")
	require.NoError(t, err)
	v2, err := s.CompareAndSwap(ctx, "k", v1, "b")
	require.NoError(t, err)
	require.Greater(t, v2, v1)
	_, err = s.CompareAndSwap(ctx, "k", v1, "c")
	requireErrorIs(t, err, dokv.ErrConflict, "k")
	_, err = s.CompareAndSwap(ctx, "missing", v2, "c")
	requireErrorIs(t, err, dokv.ErrConflict, "missing")
	requireAbsent(t, ctx, s, "missing")
	got, err := s.Get(ctx, "k")
	require.NoError(t, err)
	assert.Equal(t, "b", got)
}

func testCompareAndDelete(t *testing.T, ns driver.Namespace) {
	ctx := testContext(t)
	s := newStore[string](t, ns)
	v, err := s.SetEntry(ctx, "k", "a")
	require.NoError(t, err)
	err = s.CompareAndDelete(ctx, "k", v+1000)
	requireErrorIs(t, err, dokv.ErrConflict, "k")
	_, err = s.Get(ctx, "k")
	require.NoError(t, err, "a failed CompareAndDelete removes nothing")
	require.NoError(t, s.CompareAndDelete(ctx, "k", v))
	requireAbsent(t, ctx, s, "k")
}

// testCASRace rules out lost updates at the CAS level: clients race to swap
// from the same version, and in every round exactly one may win.
func testCASRace(t *testing.T, ns driver.Namespace) {
	ctx := testContext(t)
	s := newStore[int](t, ns)
	const clients, rounds = 16, 10
	version, err := s.SetEntry(ctx, "hot", 0)
	require.NoError(t, err)
	for round := range rounds {
		var wins, conflicts atomic.Int32
		var winner atomic.Uint64
		var wg sync.WaitGroup
		for c := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				v, err := s.CompareAndSwap(ctx, "hot", version, round*100+c)
				switch {
				case err == nil:
					wins.Add(1)
					winner.Store(v)
				case errors.Is(err, dokv.ErrConflict):
					conflicts.Add(1)
				default:
					assert.NoError(t, err)
				}
			}()
		}
		wg.Wait()
		require.Equal(t, int32(1), wins.Load(), "round %d: exactly one CAS from version %d wins", round, version)
		require.Equal(t, int32(clients-1), conflicts.Load(), "round %d", round)
		e, err := s.GetEntry(ctx, "hot")
		require.NoError(t, err)
		require.Equal(t, winner.Load(), e.Version)
		version = e.Version
	}
}

type counter struct {
	N       int      `json:"n"`
	Writers []string `json:"writers,omitempty"`
}

// testUpdateNoLostUpdates is the lost-update anomaly: 32 clients increment
// one counter 100 times each through Update; every increment must count.
func testUpdateNoLostUpdates(t *testing.T, ns driver.Namespace) {
	ctx := testContext(t)
	s := newStore[counter](t, ns)
	const clients, increments = 32, 100
	var calls atomic.Int64
	var wg sync.WaitGroup
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range increments {
				_, err := s.Update(ctx, "counter", func(c counter, _ bool) (counter, error) {
					calls.Add(1)
					c.N++
					return c, nil
				})
				if !assert.NoError(t, err) {
					return
				}
			}
		}()
	}
	wg.Wait()
	got, err := s.Get(ctx, "counter")
	require.NoError(t, err)
	require.Equal(t, clients*increments, got.N, "every increment counts exactly once")
	t.Logf("%d increments took %d calls of fn (conflicts retried)", clients*increments, calls.Load())
}

func testUpdateFnError(t *testing.T, ns driver.Namespace) {
	ctx := testContext(t)
	s := newStore[counter](t, ns)
	require.NoError(t, s.Set(ctx, "k", counter{N: 1}))
	abort := errors.New("abort")
	_, err := s.Update(ctx, "k", func(c counter, exists bool) (counter, error) {
		assert.True(t, exists)
		assert.Equal(t, 1, c.N)
		return counter{N: 99}, abort
	})
	require.ErrorIs(t, err, abort)
	got, err := s.Get(ctx, "k")
	require.NoError(t, err)
	assert.Equal(t, 1, got.N, "an aborted update writes nothing")
}

func testUpdateCreates(t *testing.T, ns driver.Namespace) {
	ctx := testContext(t)
	s := newStore[counter](t, ns)
	got, err := s.Update(ctx, "new", func(c counter, exists bool) (counter, error) {
		assert.False(t, exists)
		assert.Equal(t, counter{}, c)
		c.N = 5
		return c, nil
	})
	require.NoError(t, err)
	assert.Equal(t, 5, got.N, "Update returns the value it stored")
	stored, err := s.Get(ctx, "new")
	require.NoError(t, err)
	assert.Equal(t, 5, stored.N)
}
