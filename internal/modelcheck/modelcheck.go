// Package modelcheck drives a store with random operations and compares
// every result with a plain map, step by step, as bbolt's simulation test
// does, on any namespace: the memory namespace's tests and the local
// namespace's run it unchanged.
package modelcheck

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dokv/dokv"
)

// modelEntry is what the model believes a key holds.
type modelEntry struct {
	value   int
	version uint64
}

// Run drives stores on namespaces from newNamespace (a fresh one per
// subtest, the subtests in parallel) with 3,000 random steps for each of four seeds, under
// SingleObject and HashShards(5). Versions cannot be predicted, so the
// model learns them from the store's replies and checks that they only
// grow.
func Run(t *testing.T, newNamespace func(t *testing.T) dokv.Namespace) {
	for _, part := range []dokv.Partitioning{dokv.SingleObject("model"), dokv.HashShards(5)} {
		for seed := uint64(1); seed <= 4; seed++ {
			t.Run(fmt.Sprintf("%v/seed=%d", part, seed), func(t *testing.T) {
				t.Parallel() // on disk, each waits for its fsyncs: together they overlap
				runModel(t, newNamespace(t), part, seed, 3000)
			})
		}
	}
}

func runModel(t *testing.T, ns dokv.Namespace, part dokv.Partitioning, seed uint64, steps int) {
	ctx := context.Background()
	s, err := dokv.New[int](ns, dokv.WithPartitioning(part), dokv.WithPageSize(4))
	require.NoError(t, err)
	r := rand.New(rand.NewPCG(seed, seed*7))
	model := map[string]modelEntry{}
	highest := map[string]uint64{} // the largest version a key ever had
	key := func() string {
		if r.IntN(4) == 0 {
			return fmt.Sprintf("{g%d}/k%d", r.IntN(3), r.IntN(6))
		}
		return fmt.Sprintf("k%02d", r.IntN(40))
	}
	learn := func(k string, v uint64, value int) {
		require.Greater(t, v, highest[k], "key %s: a write must raise its version", k)
		highest[k] = v
		model[k] = modelEntry{value: value, version: v}
	}
	for step := range steps {
		switch op := r.IntN(7); op {
		case 0: // get
			k := key()
			e, err := s.GetEntry(ctx, k)
			want, ok := model[k]
			if !ok {
				require.ErrorIs(t, err, dokv.ErrNotFound, "step %d get %s", step, k)
				continue
			}
			require.NoError(t, err, "step %d get %s", step, k)
			require.Equal(t, want.value, e.Value, "step %d get %s", step, k)
			require.Equal(t, want.version, e.Version, "step %d get %s", step, k)
		case 1: // set
			k, val := key(), r.IntN(1000)
			v, err := s.SetEntry(ctx, k, val)
			require.NoError(t, err)
			learn(k, v, val)
		case 2: // delete
			k := key()
			require.NoError(t, s.Delete(ctx, k))
			delete(model, k)
		case 3: // compare-and-swap, with the current or a wrong version
			k, val := key(), r.IntN(1000)
			cur := model[k].version
			expect := cur
			if r.IntN(2) == 0 {
				expect = uint64(r.IntN(int(highest[k]) + 2))
			}
			v, err := s.CompareAndSwap(ctx, k, expect, val)
			if expect == cur {
				require.NoError(t, err, "step %d cas %s@%d", step, k, expect)
				learn(k, v, val)
			} else {
				require.ErrorIs(t, err, dokv.ErrConflict, "step %d cas %s@%d (current %d)", step, k, expect, cur)
			}
		case 4: // a transaction over one tag group, sometimes doomed
			g := r.IntN(3)
			keys := []string{fmt.Sprintf("{g%d}/k%d", g, r.IntN(6)), fmt.Sprintf("{g%d}/k%d", g, 6+r.IntN(6))}
			doomed := r.IntN(3) == 0
			txn := s.Txn()
			vals := []int{r.IntN(1000), r.IntN(1000)}
			txn.SetIf(keys[0], model[keys[0]].version, vals[0])
			if doomed {
				txn.SetIf(keys[1], model[keys[1]].version+1, vals[1])
			} else {
				txn.Set(keys[1], vals[1])
			}
			versions, err := txn.Commit(ctx)
			if doomed {
				require.ErrorIs(t, err, dokv.ErrConflict, "step %d", step)
				continue
			}
			require.NoError(t, err, "step %d", step)
			for i, k := range keys {
				learn(k, versions[k], vals[i])
			}
		case 5: // list with a random prefix, start and limit
			prefixes := []string{"", "k", "k1", "{g1}", "{", "zz"}
			opts := dokv.ListOptions{Prefix: prefixes[r.IntN(len(prefixes))], Limit: r.IntN(12)}
			if r.IntN(2) == 0 {
				opts.StartAfter = key()
			}
			var got []string
			for e, err := range s.List(ctx, opts) {
				require.NoError(t, err)
				require.Equal(t, model[e.Key].value, e.Value)
				got = append(got, e.Key)
			}
			require.Equal(t, modelList(model, opts), got, "step %d list %+v", step, opts)
		case 6: // update
			k := key()
			got, err := s.Update(ctx, k, func(n int, exists bool) (int, error) {
				_, inModel := model[k]
				require.Equal(t, inModel, exists)
				return n + 1, nil
			})
			require.NoError(t, err)
			e, err := s.GetEntry(ctx, k)
			require.NoError(t, err)
			require.Equal(t, got, e.Value)
			learn(k, e.Version, got)
		}
	}
}

// modelList is what a listing of the model with opts returns.
func modelList(model map[string]modelEntry, opts dokv.ListOptions) []string {
	var keys []string
	for k := range model {
		if strings.HasPrefix(k, opts.Prefix) && k > opts.StartAfter {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	if opts.Limit > 0 && len(keys) > opts.Limit {
		keys = keys[:opts.Limit]
	}
	return keys
}
