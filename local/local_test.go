package local

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dokv/dokv"
	"github.com/dokv/dokv/dokvtest"
	"github.com/dokv/dokv/driver"
	"github.com/dokv/dokv/internal/lincheck"
	"github.com/dokv/dokv/internal/modelcheck"
)

// open opens a namespace in dir and closes it when the test ends.
func open(t *testing.T, dir string, opts ...Option) *Namespace {
	t.Helper()
	ns, err := Open(dir, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { ns.Close() })
	return ns
}

// The conformance suite that the memory namespace and the Durable Object
// pass, unchanged.
func TestLocal_Conformance(t *testing.T) {
	dokvtest.RunConformanceTests(t, func(t *testing.T) driver.Namespace {
		return open(t, t.TempDir())
	})
}

// Concurrent clients' histories are linearizable (porcupine), as on the
// other hosts.
func TestLocal_Linearizable(t *testing.T) {
	ns := open(t, t.TempDir())
	res := lincheck.Run(t, ns, lincheck.Config{Clients: 8, Ops: 2000, Keys: 4, Seed: 1})
	assert.Positive(t, res.Stats.GetsFound)
	assert.Positive(t, res.Stats.CASOK)
}

// The model-based test that the memory namespace passes, unchanged.
func TestLocal_MatchesModel(t *testing.T) {
	modelcheck.Run(t, func(t *testing.T) dokv.Namespace { return open(t, t.TempDir()) })
}

// What a namespace stored is there after it is closed and opened again,
// and versions keep growing across the restart.
func TestLocal_KeepsDataAndVersionsAcrossRestarts(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	last := map[string]uint64{}
	for round := range 3 {
		ns, err := Open(dir)
		require.NoError(t, err)
		s, err := dokv.New[string](ns, dokv.WithPartitioning(dokv.HashShards(4)))
		require.NoError(t, err)
		for i := range 20 {
			key := fmt.Sprint("k", i)
			if round > 0 {
				e, err := s.GetEntry(ctx, key)
				require.NoError(t, err, "round %d, %s", round, key)
				assert.Equal(t, fmt.Sprint("round ", round-1), e.Value)
			}
			v, err := s.SetEntry(ctx, key, fmt.Sprint("round ", round))
			require.NoError(t, err)
			assert.Greater(t, v, last[key], "%s: versions grow across restarts", key)
			last[key] = v
		}
		// A deleted key, written again, gets a larger version.
		require.NoError(t, s.Delete(ctx, "k0"))
		v, err := s.SetEntry(ctx, "k0", fmt.Sprint("round ", round))
		require.NoError(t, err)
		assert.Greater(t, v, last["k0"])
		last["k0"] = v
		require.NoError(t, ns.Close())
	}
}

// One process owns a directory: a second Open fails at once, until the
// first closes.
func TestLocal_OneOwnerPerDirectory(t *testing.T) {
	dir := t.TempDir()
	first, err := Open(dir)
	require.NoError(t, err)
	_, err = Open(dir)
	require.ErrorIs(t, err, ErrLocked)
	require.NoError(t, first.Close())
	second, err := Open(dir)
	require.NoError(t, err)
	require.NoError(t, second.Close())
	require.NoError(t, second.Close(), "Close twice is harmless")
}

// A TTL's alarm is kept in the database: an object whose keys expired
// while the namespace was closed has them removed, and gives its storage
// back, when the namespace opens again.
func TestLocal_AlarmsRunAfterRestart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	clock := dokvtest.NewManualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	ns, err := Open(dir, WithClock(clock))
	require.NoError(t, err)
	s, err := dokv.New[string](ns, dokv.WithPartitioning(dokv.SingleObject("ttl")))
	require.NoError(t, err)
	_, err = s.SetWithTTL(ctx, "short", "v", time.Hour)
	require.NoError(t, err)
	n, err := ns.db.Records()
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.NoError(t, ns.Close())

	clock.Advance(2 * time.Hour) // nothing runs: the namespace is closed
	ns = open(t, dir, WithClock(clock))
	clock.Advance(0) // a manual clock runs due timers when it moves
	require.Eventually(t, func() bool {
		n, err := ns.db.Records()
		return err == nil && n == 0
	}, 10*time.Second, 10*time.Millisecond, "the alarm removed the expired key at open")
	assert.Zero(t, ns.Objects(), "the emptied object gave its storage back")
}
