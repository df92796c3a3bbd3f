package sqlstore

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dokv/dokv/driver"
	"github.com/dokv/dokv/internal/protocol"
	"github.com/dokv/dokv/internal/storage"
)

// testKeys share prefixes, hold multi-byte and maximal runes and a NUL, so
// that ordering, prefix ranges and byte counts are all exercised.
var testKeys = []string{"a", "ab", "abc", "a\x00b", "b", "ba", "é", "éa", "z", "\U0010FFFF", "\U0010FFFFa", "日本", "日本語", "k/1", "k/2", "k/10"}

var testPrefixes = []string{"", "a", "ab", "é", "\U0010FFFF", "日", "k/", "k/1", "zz"}

var errInjected = errors.New("injected failure")

// TestEngine_MatchesMemory runs random sequences of every engine call,
// writes inside (nested, sometimes failing) Atomic calls, on the SQLite
// engine and on the in-memory engine that the object actor is tested
// with, and requires the same answer from both at every step.
func TestEngine_MatchesMemory(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "dokv.db"))
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	for seed := range uint64(20) {
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 7))
			var id driver.ObjectID
			id[0], id[31] = byte(seed), 0xAB
			sq, mem := NewEngine(db, id), storage.NewMemory()
			// A neighbour in the same database must never show through.
			other := NewEngine(db, driver.ObjectID{0xFF, byte(seed)})
			require.NoError(t, other.Atomic(func() error { return other.Put("a", 1, []byte("other"), 0) }))
			for step := range 400 {
				compareStep(t, rng, step, sq, mem)
				// What the engine remembers of its object is what the
				// database holds: a fresh engine asks the database.
				fresh := NewEngine(db, id)
				requireSameState(t, step, fresh, sq)
			}
		})
	}
}

func compareStep(t *testing.T, rng *rand.Rand, step int, sq *Engine, mem *storage.Memory) {
	t.Helper()
	key := func() string { return testKeys[rng.IntN(len(testKeys))] }
	now := uint64(rng.IntN(20))
	switch op := rng.IntN(10); op {
	case 0, 1, 2: // writes in Atomic, nested or failing
		writes := rng.IntN(4) + 1
		fail, nested := rng.IntN(4) == 0, rng.IntN(3) == 0
		// Both engines draw the same choices: a generator each, seeded alike.
		seed := rng.Uint64()
		// seen is what a run reads back inside its transaction.
		run := func(e alarmEngine, seen *[]any) error {
			rng := rand.New(rand.NewPCG(seed, 1))
			key := func() string { return testKeys[rng.IntN(len(testKeys))] }
			observe := func() {
				empty, err1 := e.Empty()
				last, err2 := e.LastVersion()
				alarm, err3 := e.Alarm()
				*seen = append(*seen, empty, last, alarm, err1, err2, err3)
			}
			return e.Atomic(func() error {
				observe()
				for i := range writes {
					var err error
					if rng.IntN(3) == 0 {
						err = e.Delete(key())
					} else {
						value := make([]byte, rng.IntN(6))
						for j := range value {
							value[j] = byte(rng.UintN(256))
						}
						var expires uint64
						if rng.IntN(3) == 0 {
							expires = uint64(rng.IntN(20) + 1)
						}
						err = e.Put(key(), uint64(step*10+i+1), value, expires)
					}
					if err != nil {
						return err
					}
					observe()
				}
				if rng.IntN(3) == 0 {
					if err := e.SetAlarm(uint64(rng.IntN(5))); err != nil {
						return err
					}
				}
				if nested {
					inner := e.Atomic(func() error {
						if err := e.Put(key(), uint64(step*10+9), []byte("inner"), 0); err != nil {
							return err
						}
						return errInjected
					})
					if !errors.Is(inner, errInjected) {
						return fmt.Errorf("inner: %v", inner)
					}
					observe()
				}
				if err := e.SetLastVersion(uint64(step*10 + writes)); err != nil {
					return err
				}
				if fail {
					return errInjected
				}
				return nil
			})
		}
		var seenMem, seenSQL []any
		errMem := run(memoryAlarm{mem}, &seenMem)
		errSQL := run(sq, &seenSQL)
		require.Equal(t, errMem, errSQL, "step %d: Atomic", step)
		require.Equal(t, seenMem, seenSQL, "step %d: Empty, LastVersion and Alarm inside Atomic", step)
	case 3:
		k := key()
		r1, ok1, err1 := mem.Get(k)
		r2, ok2, err2 := sq.Get(k)
		require.NoError(t, err1)
		require.NoError(t, err2)
		require.Equal(t, ok1, ok2, "step %d: Get(%q) found", step, k)
		require.Equal(t, r1, r2, "step %d: Get(%q)", step, k)
	case 4, 5:
		prefix, after := testPrefixes[rng.IntN(len(testPrefixes))], ""
		if rng.IntN(2) == 0 {
			after = key()
		}
		limit, maxBytes := rng.IntN(6)+1, rng.IntN(12)+1
		if rng.IntN(3) == 0 {
			limit, maxBytes = 1000, 1<<20
		}
		recs1, more1, err1 := mem.Scan(prefix, after, limit, maxBytes, now)
		recs2, more2, err2 := sq.Scan(prefix, after, limit, maxBytes, now)
		require.NoError(t, err1)
		require.NoError(t, err2)
		require.Equal(t, normal(recs1), normal(recs2), "step %d: Scan(%q, %q, %d, %d, %d)", step, prefix, after, limit, maxBytes, now)
		require.Equal(t, more1, more2, "step %d: Scan more", step)
	case 6:
		prefix := testPrefixes[rng.IntN(len(testPrefixes))]
		s1, err1 := mem.Stats(prefix, now)
		s2, err2 := sq.Stats(prefix, now)
		require.NoError(t, err1)
		require.NoError(t, err2)
		require.Equal(t, s1, s2, "step %d: Stats(%q, %d)", step, prefix, now)
	case 7:
		// Every expired key, then up to limit of them: which ones, when more
		// have expired, is the engine's choice; they come in key order.
		all, err := mem.Expired(now, len(testKeys))
		require.NoError(t, err)
		limit := rng.IntN(4) + 1
		got, err := sq.Expired(now, limit)
		require.NoError(t, err)
		require.Len(t, got, min(limit, len(all)), "step %d: Expired(%d, %d) of %q", step, now, limit, all)
		require.Subset(t, all, got, "step %d: Expired(%d, %d)", step, now, limit)
		require.True(t, slices.IsSorted(got), "step %d: Expired in key order: %q", step, got)
	case 8:
		n1, err1 := mem.NextExpiry()
		n2, err2 := sq.NextExpiry()
		require.NoError(t, err1)
		require.NoError(t, err2)
		require.Equal(t, n1, n2, "step %d: NextExpiry", step)
		e1, _ := mem.Empty()
		e2, err := sq.Empty()
		require.NoError(t, err)
		require.Equal(t, e1, e2, "step %d: Empty", step)
	case 9:
		l1, _ := mem.LastVersion()
		l2, err := sq.LastVersion()
		require.NoError(t, err)
		require.Equal(t, l1, l2, "step %d: LastVersion", step)
		at := uint64(rng.IntN(5))
		require.NoError(t, mem.Atomic(func() error { return mem.SetAlarm(at) }))
		require.NoError(t, sq.Atomic(func() error { return sq.SetAlarm(at) }))
		a2, err := sq.Alarm()
		require.NoError(t, err)
		require.Equal(t, mem.Alarm(), a2, "step %d: Alarm", step)
	}
}

// alarmEngine is an engine that reports its alarm, as the host's engines do.
type alarmEngine interface {
	storage.Engine
	Alarm() (uint64, error)
}

// memoryAlarm is the in-memory engine as an alarmEngine.
type memoryAlarm struct{ *storage.Memory }

func (m memoryAlarm) Alarm() (uint64, error) { return m.Memory.Alarm(), nil }

// requireSameState requires two engines of one object to report the same
// emptiness, last version and alarm.
func requireSameState(t *testing.T, step int, want, got *Engine) {
	t.Helper()
	for _, e := range []*Engine{want, got} {
		empty, err := e.Empty()
		require.NoError(t, err)
		last, err := e.LastVersion()
		require.NoError(t, err)
		alarm, err := e.Alarm()
		require.NoError(t, err)
		e.committed = known{row: true, last: last, alarm: alarm, records: !empty}
	}
	require.Equal(t, want.committed, got.committed, "step %d: what the engine remembers against the database", step)
}

// normal makes nil and empty record lists, and nil and empty values, equal.
func normal(recs []protocol.Record) []protocol.Record {
	out := []protocol.Record{}
	for _, r := range recs {
		if r.Value == nil {
			r.Value = []byte{}
		}
		out = append(out, r)
	}
	return out
}
