package dokvtest

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dokv/dokv"
	"github.com/dokv/dokv/driver"
)

func txnBehaviours() []behaviour {
	return []behaviour{
		{"Txn/AllOrNothing", testTxnAtomic},
		{"Txn/WritesAndDeletesTogether", testTxnCommit},
		{"Txn/CrossObjectRefusedBeforeSending", testTxnCrossObject},
		{"Txn/HashTagsColocate", testTxnHashTags},
		{"Txn/MaxKeys", testTxnMaxKeys},
		{"Txn/DuplicateKeyRefused", testTxnDuplicate},
		{"Txn/ConcurrentTransfersConserveTotal", testTxnTransfers},
	}
}

func testTxnAtomic(t *testing.T, ns driver.Namespace) {
	ctx := testContext(t)
	s := newStore[string](t, ns, dokv.WithPartitioning(dokv.SingleObject("txn")))
	va, err := s.SetEntry(ctx, "a", "a0")
	require.NoError(t, err)
	_, err = s.SetEntry(ctx, "b", "b0")
	require.NoError(t, err)

	// The last condition fails, so none of the earlier writes may apply.
	_, err = s.Txn().
		SetIf("a", va, "a1").
		Delete("b").
		Set("c", "c1").
		Check("d", 12345).
		Commit(ctx)
	requireErrorIs(t, err, dokv.ErrConflict, "d")

	got, err := s.Get(ctx, "a")
	require.NoError(t, err)
	assert.Equal(t, "a0", got)
	got, err = s.Get(ctx, "b")
	require.NoError(t, err)
	assert.Equal(t, "b0", got)
	requireAbsent(t, ctx, s, "c")
}

func testTxnCommit(t *testing.T, ns driver.Namespace) {
	ctx := testContext(t)
	s := newStore[string](t, ns, dokv.WithPartitioning(dokv.HashShards(4)))
	va, err := s.SetEntry(ctx, "{order-1}/a", "a0")
	require.NoError(t, err)
	require.NoError(t, s.Set(ctx, "{order-1}/b", "b0"))

	versions, err := s.Txn().
		SetIf("{order-1}/a", va, "a1").
		Delete("{order-1}/b").
		SetIf("{order-1}/c", 0, "c1").
		Check("{order-1}/d", 0).
		Commit(ctx)
	require.NoError(t, err)
	require.Len(t, versions, 3, "checked keys have no new version")
	assert.Greater(t, versions["{order-1}/a"], va)
	assert.Equal(t, versions["{order-1}/a"], versions["{order-1}/c"], "one transaction, one commit version")
	assert.Zero(t, versions["{order-1}/b"])

	e, err := s.GetEntry(ctx, "{order-1}/a")
	require.NoError(t, err)
	assert.Equal(t, "a1", e.Value)
	assert.Equal(t, versions["{order-1}/a"], e.Version)
	requireAbsent(t, ctx, s, "{order-1}/b")
	got, err := s.Get(ctx, "{order-1}/c")
	require.NoError(t, err)
	assert.Equal(t, "c1", got)

	empty, err := s.Txn().Commit(ctx)
	require.NoError(t, err)
	assert.Empty(t, empty)
}

func testTxnCrossObject(t *testing.T, ns driver.Namespace) {
	ctx := testContext(t)
	for _, part := range []dokv.Partitioning{dokv.PerKey(), dokv.HashShards(64)} {
		t.Run(part.String(), func(t *testing.T) {
			s := newStore[string](t, ns, dokv.WithPartitioning(part))
			// Find two keys that route apart: under PerKey any two do.
			a, b := "x-0", ""
			for i := 1; i < 1000 && b == ""; i++ {
				k := fmt.Sprintf("x-%d", i)
				_, err := s.Txn().Set(a, "1").Set(k, "2").Commit(ctx)
				if errors.Is(err, dokv.ErrCrossObject) {
					b = k
					requireErrorIs(t, err, dokv.ErrCrossObject, k)
				} else {
					require.NoError(t, err)
					require.NoError(t, s.Delete(ctx, a))
					require.NoError(t, s.Delete(ctx, k))
				}
			}
			require.NotEmpty(t, b, "no two keys route apart")
			requireAbsent(t, ctx, s, a)
			requireAbsent(t, ctx, s, b)
		})
	}
}

func testTxnHashTags(t *testing.T, ns driver.Namespace) {
	ctx := testContext(t)
	s := newStore[string](t, ns) // PerKey: only the tag routes
	keys := []string{"{upload-1}/meta", "{upload-1}/chunk/0", "{upload-1}/chunk/1", "prefix-{upload-1}"}
	txn := s.Txn()
	for _, k := range keys {
		txn.SetIf(k, 0, k)
	}
	_, err := txn.Commit(ctx)
	require.NoError(t, err)
	for _, k := range keys {
		got, err := s.Get(ctx, k)
		require.NoError(t, err)
		assert.Equal(t, k, got)
	}
}

func testTxnMaxKeys(t *testing.T, ns driver.Namespace) {
	ctx := testContext(t)
	s := newStore[int](t, ns, dokv.WithPartitioning(dokv.SingleObject("max")))
	txn := s.Txn()
	for i := range dokv.MaxTxnKeys {
		txn.Set(fmt.Sprintf("k%03d", i), i)
	}
	versions, err := txn.Commit(ctx)
	require.NoError(t, err)
	require.Len(t, versions, dokv.MaxTxnKeys)

	txn = s.Txn()
	for i := range dokv.MaxTxnKeys + 1 {
		txn.Set(fmt.Sprintf("n%03d", i), i)
	}
	_, err = txn.Commit(ctx)
	requireErrorIs(t, err, dokv.ErrTooManyKeys, "")
	requireAbsent(t, ctx, s, "n000")
}

func testTxnDuplicate(t *testing.T, ns driver.Namespace) {
	ctx := testContext(t)
	s := newStore[int](t, ns, dokv.WithPartitioning(dokv.SingleObject("dup")))
	_, err := s.Txn().Set("k", 1).Set("other", 1).Delete("k").Commit(ctx)
	requireErrorIs(t, err, dokv.ErrInvalidArgument, "k")
	requireAbsent(t, ctx, s, "k")
	requireAbsent(t, ctx, s, "other")
}

// testTxnTransfers rules out write skew across keys: clients move units
// between accounts with read-then-conditional-transaction; the total must be
// conserved and no account may go negative.
func testTxnTransfers(t *testing.T, ns driver.Namespace) {
	ctx := testContext(t)
	s := newStore[int](t, ns, dokv.WithPartitioning(dokv.HashShards(4)))
	const accounts, initial, clients, transfers = 4, 50, 8, 25
	name := func(i int) string { return fmt.Sprintf("{bank}/acct-%d", i) }
	for i := range accounts {
		require.NoError(t, s.Set(ctx, name(i), initial))
	}
	var committed atomic.Int32
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range transfers {
				from, to := name((c+i)%accounts), name((c+i+1)%accounts)
				for {
					ef, err := s.GetEntry(ctx, from)
					if !assert.NoError(t, err) {
						return
					}
					et, err := s.GetEntry(ctx, to)
					if !assert.NoError(t, err) {
						return
					}
					if ef.Value < 3 {
						break
					}
					_, err = s.Txn().SetIf(from, ef.Version, ef.Value-3).SetIf(to, et.Version, et.Value+3).Commit(ctx)
					if err == nil {
						committed.Add(1)
						break
					}
					if !assert.ErrorIs(t, err, dokv.ErrConflict) {
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	total := 0
	for i := range accounts {
		v, err := s.Get(ctx, name(i))
		require.NoError(t, err)
		require.GreaterOrEqual(t, v, 0)
		total += v
	}
	require.Equal(t, accounts*initial, total, "transfers conserve the total")
	require.Positive(t, committed.Load())
}
