package storage

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dokv/dokv/internal/protocol"
)

var _ Engine = (*Memory)(nil)

var errTest = errors.New("test failure")

// state is everything an engine holds, for comparing before and after.
type state struct {
	Records []protocol.Record
	Last    uint64
	Len     int
}

func snapshot(t *testing.T, m *Memory) state {
	t.Helper()
	recs, more, err := m.Scan("", "", math.MaxInt, math.MaxInt, 0)
	require.NoError(t, err)
	require.False(t, more)
	out := state{Len: m.Len()}
	for _, r := range recs {
		// Copy, so later changes to the engine cannot alter the snapshot.
		out.Records = append(out.Records, protocol.Record{Key: r.Key, Version: r.Version, Value: slices.Clone(r.Value)})
		got, ok, err := m.Get(r.Key)
		require.NoError(t, err)
		require.True(t, ok, "scanned key %q is not found by Get", r.Key)
		require.Equal(t, r, got)
	}
	out.Last, err = m.LastVersion()
	require.NoError(t, err)
	require.Equal(t, len(out.Records), out.Len, "Len disagrees with Scan")
	return out
}

func put(t *testing.T, m *Memory, key string, version uint64, value string) {
	t.Helper()
	require.NoError(t, m.Put(key, version, []byte(value), 0))
}

// keysOf returns the keys of recs, nil when there are none.
func keysOf(recs []protocol.Record) []string {
	var keys []string
	for _, r := range recs {
		keys = append(keys, r.Key)
	}
	return keys
}

func TestMemory_GetMiss(t *testing.T) {
	m := NewMemory()
	rec, ok, err := m.Get("absent")
	require.NoError(t, err)
	assert.False(t, ok)
	assert.Equal(t, protocol.Record{}, rec)
	assert.Equal(t, 0, m.Len())
}

func TestMemory_PutGet(t *testing.T) {
	m := NewMemory()
	put(t, m, "k", 3, "v")
	rec, ok, err := m.Get("k")
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, protocol.Record{Key: "k", Version: 3, Value: []byte("v")}, rec)
	assert.Equal(t, 1, m.Len())
}

func TestMemory_PutReplaces(t *testing.T) {
	m := NewMemory()
	put(t, m, "k", 1, "old")
	put(t, m, "k", 2, "new")
	rec, ok, err := m.Get("k")
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, uint64(2), rec.Version)
	assert.Equal(t, []byte("new"), rec.Value)
	assert.Equal(t, 1, m.Len(), "replacing a key must not add a second copy")
	recs, _, err := m.Scan("", "", 10, math.MaxInt, 0)
	require.NoError(t, err)
	assert.Equal(t, []string{"k"}, keysOf(recs))
}

func TestMemory_PutEmptyValue(t *testing.T) {
	m := NewMemory()
	require.NoError(t, m.Put("nil", 1, nil, 0))
	require.NoError(t, m.Put("empty", 1, []byte{}, 0))
	for _, k := range []string{"nil", "empty"} {
		rec, ok, err := m.Get(k)
		require.NoError(t, err)
		require.True(t, ok, "an empty value is still a record")
		assert.Empty(t, rec.Value)
	}
}

func TestMemory_PutCopiesValue(t *testing.T) {
	m := NewMemory()
	value := []byte("original")
	require.NoError(t, m.Put("k", 1, value, 0))
	copy(value, "XXXXXXXX")
	rec, _, err := m.Get("k")
	require.NoError(t, err)
	assert.Equal(t, []byte("original"), rec.Value)

	recs, _, err := m.Scan("", "", 10, math.MaxInt, 0)
	require.NoError(t, err)
	assert.Equal(t, []byte("original"), recs[0].Value)
}

func TestMemory_Delete(t *testing.T) {
	m := NewMemory()
	put(t, m, "a", 1, "1")
	put(t, m, "b", 2, "2")
	require.NoError(t, m.Delete("a"))
	_, ok, err := m.Get("a")
	require.NoError(t, err)
	assert.False(t, ok)
	assert.Equal(t, 1, m.Len())
	recs, _, err := m.Scan("", "", 10, math.MaxInt, 0)
	require.NoError(t, err)
	assert.Equal(t, []string{"b"}, keysOf(recs))

	// Deleting a missing key is not an error and changes nothing.
	require.NoError(t, m.Delete("a"))
	require.NoError(t, m.Delete("never"))
	assert.Equal(t, 1, m.Len())

	// A deleted key can be stored again.
	put(t, m, "a", 3, "again")
	rec, ok, err := m.Get("a")
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, uint64(3), rec.Version)
}

func TestMemory_LastVersion(t *testing.T) {
	m := NewMemory()
	v, err := m.LastVersion()
	require.NoError(t, err)
	assert.Equal(t, uint64(0), v, "a new engine has handed out no version")
	require.NoError(t, m.SetLastVersion(41))
	v, err = m.LastVersion()
	require.NoError(t, err)
	assert.Equal(t, uint64(41), v)
}

// scanFixture is a store whose keys straddle the prefix "b/".
func scanFixture(t *testing.T) *Memory {
	m := NewMemory()
	// Insert out of order; Scan must sort.
	for i, k := range []string{"b/3", "a", "b/1", "c", "b/2", "b", "b/10", "b0", "b/", "b/2/x", "ü"} {
		put(t, m, k, uint64(i+1), "v-"+k)
	}
	return m
}

func TestMemory_ScanOrder(t *testing.T) {
	m := scanFixture(t)
	recs, more, err := m.Scan("", "", 100, math.MaxInt, 0)
	require.NoError(t, err)
	assert.False(t, more)
	assert.Equal(t, []string{"a", "b", "b/", "b/1", "b/10", "b/2", "b/2/x", "b/3", "b0", "c", "ü"}, keysOf(recs))
	for _, r := range recs {
		assert.Equal(t, []byte("v-"+r.Key), r.Value)
		got, _, _ := m.Get(r.Key)
		assert.Equal(t, got.Version, r.Version)
	}
}

func TestMemory_ScanPrefixAndAfter(t *testing.T) {
	m := scanFixture(t)
	for _, tc := range []struct {
		name, prefix, after string
		want                []string
	}{
		{"prefix only", "b/", "", []string{"b/", "b/1", "b/10", "b/2", "b/2/x", "b/3"}},
		{"after is exclusive", "b/", "b/10", []string{"b/2", "b/2/x", "b/3"}},
		{"after between keys", "b/", "b/15", []string{"b/2", "b/2/x", "b/3"}},
		{"after below prefix", "b/", "a", []string{"b/", "b/1", "b/10", "b/2", "b/2/x", "b/3"}},
		{"after just below prefix", "b/", "b", []string{"b/", "b/1", "b/10", "b/2", "b/2/x", "b/3"}},
		{"after equals prefix key", "b/", "b/", []string{"b/1", "b/10", "b/2", "b/2/x", "b/3"}},
		{"after last match", "b/", "b/3", nil},
		{"after beyond prefix", "b/", "b0", nil},
		{"after far beyond prefix", "b/", "zzz", nil},
		{"no match", "d", "", nil},
		{"prefix equals a key", "b/2", "", []string{"b/2", "b/2/x"}},
		{"empty prefix with after", "", "b/3", []string{"b0", "c", "ü"}},
		{"unicode prefix", "ü", "", []string{"ü"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			recs, more, err := m.Scan(tc.prefix, tc.after, 100, math.MaxInt, 0)
			require.NoError(t, err)
			assert.False(t, more)
			assert.Equal(t, tc.want, keysOf(recs))
		})
	}
}

func TestMemory_ScanLimit(t *testing.T) {
	m := scanFixture(t)
	recs, more, err := m.Scan("b/", "", 2, math.MaxInt, 0)
	require.NoError(t, err)
	assert.Equal(t, []string{"b/", "b/1"}, keysOf(recs))
	assert.True(t, more)

	recs, more, err = m.Scan("b/", "b/1", 2, math.MaxInt, 0)
	require.NoError(t, err)
	assert.Equal(t, []string{"b/10", "b/2"}, keysOf(recs))
	assert.True(t, more)

	// Exactly the remaining matches: more is false, although keys outside
	// the prefix follow.
	recs, more, err = m.Scan("b/", "b/2", 2, math.MaxInt, 0)
	require.NoError(t, err)
	assert.Equal(t, []string{"b/2/x", "b/3"}, keysOf(recs))
	assert.False(t, more)

	// Exactly the last keys of the engine.
	recs, more, err = m.Scan("", "b0", 3, math.MaxInt, 0)
	require.NoError(t, err)
	assert.Equal(t, []string{"c", "ü"}, keysOf(recs))
	assert.False(t, more)
	recs, more, err = m.Scan("", "b/3", 3, math.MaxInt, 0)
	require.NoError(t, err)
	assert.Equal(t, []string{"b0", "c", "ü"}, keysOf(recs))
	assert.False(t, more)
}

func TestMemory_ScanMaxBytes(t *testing.T) {
	m := NewMemory()
	for i := range 5 {
		put(t, m, fmt.Sprintf("k%d", i), 1, strings.Repeat("x", 98)) // 100 bytes with the key
	}
	for _, tc := range []struct {
		maxBytes int
		want     int
		more     bool
	}{
		{0, 1, true}, // at least one record, however small the budget
		{1, 1, true},
		{100, 1, true}, // the budget is reached after one record
		{101, 2, true},
		{200, 2, true},
		{450, 5, false}, // the budget is never reached
		{500, 5, false}, // reached exactly by the last record: nothing follows
		{math.MaxInt, 5, false},
	} {
		recs, more, err := m.Scan("k", "", 100, tc.maxBytes, 0)
		require.NoError(t, err)
		assert.Len(t, recs, tc.want, "maxBytes %d", tc.maxBytes)
		assert.Equal(t, tc.more, more, "maxBytes %d", tc.maxBytes)
	}
	// A single huge record comes back alone.
	put(t, m, "big", 1, strings.Repeat("y", 10_000))
	recs, more, err := m.Scan("", "", 100, 10, 0)
	require.NoError(t, err)
	assert.Equal(t, []string{"big"}, keysOf(recs))
	assert.True(t, more)
}

func TestMemory_ScanEmpty(t *testing.T) {
	m := NewMemory()
	recs, more, err := m.Scan("", "", 10, math.MaxInt, 0)
	require.NoError(t, err)
	assert.Empty(t, recs)
	assert.False(t, more)
}

func TestMemory_ScanMatchesModel(t *testing.T) {
	// Compare Scan with a brute-force model over random contents and
	// arguments.
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{"a", "b", "c", "/", "ü"}
	randKey := func(max int) string {
		n := rng.IntN(max + 1)
		var b strings.Builder
		for range n {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		return b.String()
	}
	for round := range 200 {
		m := NewMemory()
		model := map[string]int{}
		for range rng.IntN(40) {
			k := randKey(4)
			size := rng.IntN(20)
			put(t, m, k, 1, strings.Repeat("v", size))
			model[k] = size
		}
		sorted := slices.Sorted(func(yield func(string) bool) {
			for k := range model {
				if !yield(k) {
					return
				}
			}
		})
		for range 20 {
			prefix, after := randKey(2), randKey(4)
			limit, maxBytes := 1+rng.IntN(8), 1+rng.IntN(60)
			var matches []string
			for _, k := range sorted {
				if strings.HasPrefix(k, prefix) && k > after {
					matches = append(matches, k)
				}
			}
			var want []string
			size := 0
			for _, k := range matches {
				if len(want) == limit || (len(want) > 0 && size >= maxBytes) {
					break
				}
				want = append(want, k)
				size += len(k) + model[k]
			}
			recs, more, err := m.Scan(prefix, after, limit, maxBytes, 0)
			require.NoError(t, err)
			args := fmt.Sprintf("round %d: Scan(%q, %q, %d, %d)", round, prefix, after, limit, maxBytes)
			require.Equal(t, want, keysOf(recs), args)
			require.Equal(t, len(want) < len(matches), more, args)
		}
	}
}

func TestMemory_AtomicCommit(t *testing.T) {
	m := NewMemory()
	put(t, m, "keep", 1, "k")
	put(t, m, "gone", 1, "g")
	err := m.Atomic(func() error {
		put(t, m, "new", 2, "n")
		put(t, m, "keep", 2, "k2")
		require.NoError(t, m.Delete("gone"))
		return m.SetLastVersion(2)
	})
	require.NoError(t, err)
	assert.Equal(t, state{
		Records: []protocol.Record{{Key: "keep", Version: 2, Value: []byte("k2")}, {Key: "new", Version: 2, Value: []byte("n")}},
		Last:    2,
		Len:     2,
	}, snapshot(t, m))

	// A committed transaction leaves nothing for a later one to undo.
	err = m.Atomic(func() error {
		put(t, m, "other", 3, "o")
		return errTest
	})
	require.ErrorIs(t, err, errTest)
	assert.Equal(t, 2, m.Len())
	_, ok, _ := m.Get("new")
	assert.True(t, ok, "a rollback undid an earlier committed transaction")
}

func TestMemory_AtomicRollbackOnError(t *testing.T) {
	m := NewMemory()
	put(t, m, "a", 1, "a1")
	put(t, m, "b", 2, "b2")
	put(t, m, "c", 3, "c3")
	require.NoError(t, m.SetLastVersion(3))
	before := snapshot(t, m)

	err := m.Atomic(func() error {
		put(t, m, "a", 4, "a4")           // replace
		require.NoError(t, m.Delete("b")) // delete
		put(t, m, "d", 4, "d4")           // insert
		put(t, m, "d", 5, "d5")           // replace the insert
		require.NoError(t, m.Delete("c"))
		put(t, m, "c", 5, "c5") // re-create a deleted key
		put(t, m, "e", 5, "e5")
		require.NoError(t, m.Delete("e")) // delete an insert
		require.NoError(t, m.Delete("missing"))
		require.NoError(t, m.SetLastVersion(4))
		require.NoError(t, m.SetLastVersion(5))
		return errTest
	})
	require.ErrorIs(t, err, errTest, "Atomic returns fn's error")
	assert.Equal(t, before, snapshot(t, m))

	// The engine still works, and its ordered index is intact.
	put(t, m, "bb", 6, "x")
	recs, _, err := m.Scan("", "", 10, math.MaxInt, 0)
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "b", "bb", "c"}, keysOf(recs))
}

func TestMemory_AtomicRollbackOnPanic(t *testing.T) {
	m := NewMemory()
	put(t, m, "a", 1, "a1")
	require.NoError(t, m.SetLastVersion(1))
	before := snapshot(t, m)

	func() {
		defer func() {
			assert.Equal(t, "boom", recover())
		}()
		_ = m.Atomic(func() error {
			put(t, m, "a", 2, "a2")
			put(t, m, "b", 2, "b2")
			require.NoError(t, m.SetLastVersion(2))
			panic("boom")
		})
		t.Error("the panic did not propagate")
	}()
	assert.Equal(t, before, snapshot(t, m))

	// The engine is usable after the panic, and a later failed transaction
	// does not replay the panicked one's undo log.
	require.NoError(t, m.Atomic(func() error {
		put(t, m, "c", 3, "c3")
		return nil
	}))
	err := m.Atomic(func() error {
		put(t, m, "d", 4, "d4")
		return errTest
	})
	require.ErrorIs(t, err, errTest)
	assert.Equal(t, []string{"a", "c"}, keysOf(snapshot(t, m).Records))
}

func TestMemory_AtomicNested(t *testing.T) {
	setup := func(t *testing.T) (*Memory, state) {
		m := NewMemory()
		put(t, m, "base", 1, "b")
		require.NoError(t, m.SetLastVersion(1))
		return m, snapshot(t, m)
	}

	t.Run("both commit", func(t *testing.T) {
		m, _ := setup(t)
		err := m.Atomic(func() error {
			put(t, m, "outer", 2, "o")
			return m.Atomic(func() error {
				put(t, m, "inner", 2, "i")
				return m.SetLastVersion(2)
			})
		})
		require.NoError(t, err)
		assert.Equal(t, []string{"base", "inner", "outer"}, keysOf(snapshot(t, m).Records))
		assert.Equal(t, uint64(2), snapshot(t, m).Last)
	})

	t.Run("inner error propagates", func(t *testing.T) {
		m, before := setup(t)
		err := m.Atomic(func() error {
			put(t, m, "outer", 2, "o")
			return m.Atomic(func() error {
				put(t, m, "inner", 2, "i")
				return errTest
			})
		})
		require.ErrorIs(t, err, errTest)
		assert.Equal(t, before, snapshot(t, m))
	})

	t.Run("inner error handled", func(t *testing.T) {
		// The inner fn failed, so none of its changes remain, although
		// the outer fn goes on and commits its own.
		m, _ := setup(t)
		err := m.Atomic(func() error {
			put(t, m, "outer", 2, "o")
			inner := m.Atomic(func() error {
				put(t, m, "inner", 2, "i")
				put(t, m, "base", 2, "changed")
				require.NoError(t, m.SetLastVersion(9))
				return errTest
			})
			require.ErrorIs(t, inner, errTest)
			put(t, m, "after", 2, "a")
			return nil
		})
		require.NoError(t, err)
		s := snapshot(t, m)
		assert.Equal(t, []string{"after", "base", "outer"}, keysOf(s.Records))
		assert.Equal(t, []byte("b"), s.Records[1].Value)
		assert.Equal(t, uint64(1), s.Last)
	})

	t.Run("outer error undoes committed inner", func(t *testing.T) {
		m, before := setup(t)
		err := m.Atomic(func() error {
			require.NoError(t, m.Atomic(func() error {
				put(t, m, "inner", 2, "i")
				require.NoError(t, m.Delete("base"))
				return nil
			}))
			put(t, m, "outer", 2, "o")
			return errTest
		})
		require.ErrorIs(t, err, errTest)
		assert.Equal(t, before, snapshot(t, m))
	})

	t.Run("inner panic recovered by outer", func(t *testing.T) {
		m, _ := setup(t)
		err := m.Atomic(func() error {
			put(t, m, "outer", 2, "o")
			func() {
				defer func() { assert.Equal(t, "boom", recover()) }()
				_ = m.Atomic(func() error {
					put(t, m, "inner", 2, "i")
					panic("boom")
				})
			}()
			return nil
		})
		require.NoError(t, err)
		assert.Equal(t, []string{"base", "outer"}, keysOf(snapshot(t, m).Records))
	})

	t.Run("inner panic escapes", func(t *testing.T) {
		m, before := setup(t)
		assert.PanicsWithValue(t, "boom", func() {
			_ = m.Atomic(func() error {
				put(t, m, "outer", 2, "o")
				return m.Atomic(func() error {
					put(t, m, "inner", 2, "i")
					panic("boom")
				})
			})
		})
		assert.Equal(t, before, snapshot(t, m))
		// The engine left its transaction: changes now apply directly.
		put(t, m, "later", 3, "l")
		assert.Equal(t, []string{"base", "later"}, keysOf(snapshot(t, m).Records))
	})
}

func TestMemory_AtomicRandomizedRollback(t *testing.T) {
	// Random mixes of puts, deletes and version changes inside a failed
	// transaction leave the engine exactly as it was.
	rng := rand.New(rand.NewPCG(3, 4))
	keys := []string{"a", "b", "c", "d", "e", "f"}
	m := NewMemory()
	for round := range 300 {
		before := snapshot(t, m)
		fail := rng.IntN(2) == 0
		err := m.Atomic(func() error {
			for range rng.IntN(12) {
				k := keys[rng.IntN(len(keys))]
				switch rng.IntN(3) {
				case 0:
					put(t, m, k, uint64(round), fmt.Sprint(round))
				case 1:
					require.NoError(t, m.Delete(k))
				case 2:
					require.NoError(t, m.SetLastVersion(uint64(rng.IntN(1000))))
				}
			}
			if fail {
				return errTest
			}
			return nil
		})
		if fail {
			require.ErrorIs(t, err, errTest)
			require.Equal(t, before, snapshot(t, m), "round %d", round)
		} else {
			require.NoError(t, err)
		}
	}
}

func TestMemory_ExpiryIndex(t *testing.T) {
	m := NewMemory()
	require.NoError(t, m.Put("c", 1, nil, 300))
	require.NoError(t, m.Put("a", 2, nil, 100))
	require.NoError(t, m.Put("b", 3, nil, 100))
	require.NoError(t, m.Put("never", 4, nil, 0))
	next, _ := m.NextExpiry()
	assert.Equal(t, uint64(100), next)
	keys, _ := m.Expired(200, 10)
	assert.Equal(t, []string{"a", "b"}, keys)
	keys, _ = m.Expired(200, 1)
	assert.Len(t, keys, 1)

	require.NoError(t, m.Put("a", 5, nil, 0)) // no longer expires
	require.NoError(t, m.Delete("b"))
	next, _ = m.NextExpiry()
	assert.Equal(t, uint64(300), next)
	keys, _ = m.Expired(1000, 10)
	assert.Equal(t, []string{"c"}, keys)

	// A rolled-back change leaves the index as it was.
	err := m.Atomic(func() error {
		require.NoError(t, m.Put("c", 6, nil, 50))
		require.NoError(t, m.Put("d", 7, nil, 10))
		return errors.New("roll back")
	})
	require.Error(t, err)
	next, _ = m.NextExpiry()
	assert.Equal(t, uint64(300), next)
	keys, _ = m.Expired(1000, 10)
	assert.Equal(t, []string{"c"}, keys)
	require.NoError(t, m.Delete("c"))
	next, _ = m.NextExpiry()
	assert.Zero(t, next)
}
