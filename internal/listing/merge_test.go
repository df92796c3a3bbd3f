package listing

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dokv/dokv/internal/protocol"
)

// fetchCall is one request Merge made.
type fetchCall struct {
	object, after string
	limit         int
}

// fakeObjects serves sorted in-memory records per object, the way an object
// answers a List request: records after after, at most limit of them, and
// whether more follow.
type fakeObjects struct {
	records map[string][]protocol.Record

	mu    sync.Mutex
	calls []fetchCall
	// failAt makes the call with this number (from 1) fail; 0: never.
	failAt int
	// failObject makes every call to this object fail.
	failObject string
}

var errFetch = errors.New("object unreachable")

func newFakeObjects(keys map[string][]string) *fakeObjects {
	f := &fakeObjects{records: map[string][]protocol.Record{}}
	for object, ks := range keys {
		ks = slices.Clone(ks)
		slices.Sort(ks)
		f.records[object] = []protocol.Record{}
		for i, k := range ks {
			f.records[object] = append(f.records[object], protocol.Record{Key: k, Version: uint64(i + 1), Value: []byte(object + ":" + k)})
		}
	}
	return f
}

func (f *fakeObjects) fetch(ctx context.Context, object, after string, limit int) ([]protocol.Record, bool, error) {
	f.mu.Lock()
	f.calls = append(f.calls, fetchCall{object, after, limit})
	n := len(f.calls)
	f.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	if n == f.failAt || object == f.failObject {
		return nil, false, fmt.Errorf("fetch %s after %q: %w", object, after, errFetch)
	}
	recs := f.records[object]
	i := sort.Search(len(recs), func(i int) bool { return recs[i].Key > after })
	end := min(len(recs), i+limit)
	return slices.Clone(recs[i:end]), end < len(recs), nil
}

func (f *fakeObjects) callLog() []fetchCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

// want returns the keys of all objects after start, in order, at most limit
// of them (0: all).
func (f *fakeObjects) want(start string, limit int) []string {
	var keys []string
	for _, recs := range f.records {
		for _, r := range recs {
			if r.Key > start {
				keys = append(keys, r.Key)
			}
		}
	}
	slices.Sort(keys)
	if limit > 0 && len(keys) > limit {
		keys = keys[:limit]
	}
	return keys
}

func (f *fakeObjects) names() []string {
	names := make([]string, 0, len(f.records))
	for name := range f.records {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// collect runs Merge to the end and returns the keys it yielded and the
// errors, checking each record's value came from the object holding it.
func collect(t *testing.T, f *fakeObjects, objects []string, start string, limit, page int) ([]string, []error) {
	t.Helper()
	var keys []string
	var errs []error
	for rec, err := range Merge(context.Background(), objects, start, limit, page, f.fetch) {
		if err != nil {
			assert.Equal(t, protocol.Record{}, rec, "an error comes with a zero record")
			errs = append(errs, err)
			continue
		}
		keys = append(keys, rec.Key)
		object, key, ok := strings.Cut(string(rec.Value), ":")
		require.True(t, ok)
		require.Equal(t, rec.Key, key)
		require.Contains(t, f.records, object)
	}
	return keys, errs
}

// threeObjects interleaves keys over three objects, as hashing would.
func threeObjects() *fakeObjects {
	return newFakeObjects(map[string][]string{
		"s0": {"a", "d", "g", "h", "i", "z"},
		"s1": {"b", "e", "j", "k"},
		"s2": {"c", "f", "l", "m", "n", "o", "p"},
	})
}

func TestMerge_GlobalOrder(t *testing.T) {
	for _, page := range []int{1, 2, 3, 5, 1000} {
		t.Run(fmt.Sprintf("page=%d", page), func(t *testing.T) {
			f := threeObjects()
			keys, errs := collect(t, f, f.names(), "", 0, page)
			require.Empty(t, errs)
			assert.Equal(t, f.want("", 0), keys)
			assert.Len(t, keys, 17)
		})
	}
}

func TestMerge_Limit(t *testing.T) {
	for _, page := range []int{1, 2, 4, 100} {
		for _, limit := range []int{1, 2, 5, 16, 17, 18, 100} {
			f := threeObjects()
			keys, errs := collect(t, f, f.names(), "", limit, page)
			require.Empty(t, errs)
			assert.Equal(t, f.want("", limit), keys, "page %d limit %d", page, limit)
		}
	}
}

func TestMerge_Start(t *testing.T) {
	for _, start := range []string{"", "0", "a", "b", "cc", "h", "o", "p", "z", "zz"} {
		for _, page := range []int{1, 2, 10} {
			f := threeObjects()
			keys, errs := collect(t, f, f.names(), start, 0, page)
			require.Empty(t, errs)
			assert.Equal(t, f.want(start, 0), keys, "start %q page %d", start, page)
			for _, k := range keys {
				assert.Greater(t, k, start, "start is exclusive")
			}
		}
	}
	// Start and limit together.
	f := threeObjects()
	keys, errs := collect(t, f, f.names(), "e", 4, 2)
	require.Empty(t, errs)
	assert.Equal(t, []string{"f", "g", "h", "i"}, keys)
}

func TestMerge_FirstRequestsStartAtStart(t *testing.T) {
	f := threeObjects()
	_, errs := collect(t, f, f.names(), "g", 0, 2)
	require.Empty(t, errs)
	first := map[string]string{}
	for _, c := range f.callLog() {
		if _, seen := first[c.object]; !seen {
			first[c.object] = c.after
		}
	}
	assert.Equal(t, map[string]string{"s0": "g", "s1": "g", "s2": "g"}, first)
}

func TestMerge_NeverAsksMoreThanPage(t *testing.T) {
	for _, page := range []int{1, 2, 3, 7} {
		for _, limit := range []int{0, 1, 5, 11} {
			f := threeObjects()
			_, errs := collect(t, f, f.names(), "", limit, page)
			require.Empty(t, errs)
			calls := f.callLog()
			require.NotEmpty(t, calls)
			for _, c := range calls {
				assert.Positive(t, c.limit, "page %d limit %d: %+v", page, limit, c)
				assert.LessOrEqual(t, c.limit, page, "page %d limit %d: %+v", page, limit, c)
				if limit > 0 {
					assert.LessOrEqual(t, c.limit, limit, "page %d limit %d: %+v", page, limit, c)
				}
			}
		}
	}
}

func TestMerge_PagesFollowOn(t *testing.T) {
	// Each object is paged from where its previous page ended, and never
	// asked again once it reported no more.
	for _, page := range []int{1, 2, 6} {
		f := threeObjects()
		_, errs := collect(t, f, f.names(), "", 0, page)
		require.Empty(t, errs)
		type state struct {
			after string
			done  bool
		}
		states := map[string]*state{}
		for _, c := range f.callLog() {
			st, ok := states[c.object]
			if !ok {
				st = &state{}
				states[c.object] = st
			}
			require.False(t, st.done, "page %d: %s asked again after it reported no more", page, c.object)
			require.Equal(t, st.after, c.after, "page %d: %s", page, c.object)
			recs, more, err := f.fetch(context.Background(), c.object, c.after, c.limit) // replay the answer
			require.NoError(t, err)
			if len(recs) > 0 {
				st.after = recs[len(recs)-1].Key
			}
			st.done = !more
		}
		require.Len(t, states, 3)
	}
}

func TestMerge_LimitStopsFetching(t *testing.T) {
	f := threeObjects()
	keys, errs := collect(t, f, f.names(), "", 3, 1)
	require.Empty(t, errs)
	assert.Equal(t, []string{"a", "b", "c"}, keys)
	// One page per object to start, then s0 and s1 are refilled to find
	// what follows "a" and "b"; s2 is not refilled after "c", which met
	// the limit.
	assert.Equal(t, []fetchCall{{"s0", "a", 1}, {"s1", "b", 1}}, f.callLog()[3:])

	f = threeObjects()
	keys, errs = collect(t, f, f.names(), "", 2, 5)
	require.Empty(t, errs)
	assert.Equal(t, []string{"a", "b"}, keys)
	for _, c := range f.callLog() {
		assert.LessOrEqual(t, c.limit, 2, "no page asks for more than the limit")
	}
}

func TestMerge_FirstPagesShareOnePage(t *testing.T) {
	f := threeObjects()
	keys, errs := collect(t, f, f.names(), "", 0, 7)
	require.Empty(t, errs)
	require.Len(t, keys, 17)
	calls := f.callLog()
	for _, c := range calls[:3] {
		assert.Equal(t, 3, c.limit, "each of 3 objects is first asked for ceil(7/3) records")
	}
	for _, c := range calls[3:] {
		assert.LessOrEqual(t, c.limit, 7, "refills grow but never exceed a page")
	}
}

func TestMerge_FetchesLazily(t *testing.T) {
	f := threeObjects()
	n := 0
	// A page of 6 over 3 objects: each is first asked for 2 records.
	for rec, err := range Merge(context.Background(), f.names(), "", 0, 6, f.fetch) {
		require.NoError(t, err)
		n++
		if rec.Key == "c" {
			// a, b, c came from the first pages: nothing else was asked.
			assert.Len(t, f.callLog(), 3)
		}
	}
	assert.Equal(t, 17, n)
}

func TestMerge_StopsWhenYieldReturnsFalse(t *testing.T) {
	for _, stopAfter := range []int{1, 2, 5, 17} {
		f := threeObjects()
		var keys []string
		// A Merge that called yield after it returned false would make
		// the range statement panic.
		require.NotPanics(t, func() {
			for rec, err := range Merge(context.Background(), f.names(), "", 0, 1, f.fetch) {
				require.NoError(t, err)
				keys = append(keys, rec.Key)
				if len(keys) == stopAfter {
					break
				}
			}
		})
		assert.Equal(t, f.want("", stopAfter), keys)
		callsAtStop := len(f.callLog())
		// Every record needs at most one fetch beyond the first pages.
		assert.LessOrEqual(t, callsAtStop, 3+stopAfter)
	}
}

func TestMerge_FetchErrorOnFirstPage(t *testing.T) {
	f := threeObjects()
	f.failObject = "s1"
	keys, errs := collect(t, f, f.names(), "", 0, 2)
	assert.Empty(t, keys, "no record is yielded when a first page fails")
	require.Len(t, errs, 1, "the error is yielded once")
	assert.ErrorIs(t, errs[0], errFetch)
	assert.Contains(t, errs[0].Error(), "s1")
}

func TestMerge_FetchErrorOnLaterPage(t *testing.T) {
	f := threeObjects()
	// Calls 1-3 are the first pages; call 4 is the first refill.
	f.failAt = 4
	keys, errs := collect(t, f, f.names(), "", 0, 1)
	require.Len(t, errs, 1, "the error is yielded once")
	assert.ErrorIs(t, errs[0], errFetch)
	// The records yielded before the failure are in order, and nothing is
	// yielded after it.
	assert.Equal(t, f.want("", len(keys)), keys)
	assert.NotEmpty(t, keys)
	assert.Len(t, f.callLog(), 4, "no fetch after the failure")
}

func TestMerge_ErrorAfterConsumerStops(t *testing.T) {
	// A consumer that stops on the error must not be called again.
	f := threeObjects()
	f.failAt = 5
	calls := 0
	require.NotPanics(t, func() {
		for _, err := range Merge(context.Background(), f.names(), "", 0, 1, f.fetch) {
			calls++
			if err != nil {
				break
			}
		}
	})
	assert.Positive(t, calls)
}

func TestMerge_ContextReachesFetch(t *testing.T) {
	f := threeObjects()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var errs []error
	for _, err := range Merge(ctx, f.names(), "", 0, 2, f.fetch) {
		errs = append(errs, err)
	}
	require.Len(t, errs, 1)
	assert.ErrorIs(t, errs[0], context.Canceled)
}

func TestMerge_NoObjects(t *testing.T) {
	f := newFakeObjects(nil)
	keys, errs := collect(t, f, nil, "", 0, 10)
	assert.Empty(t, keys)
	assert.Empty(t, errs)
	assert.Empty(t, f.callLog())
}

func TestMerge_EmptyObjects(t *testing.T) {
	f := newFakeObjects(map[string][]string{"s0": nil, "s1": {"a"}, "s2": nil})
	keys, errs := collect(t, f, f.names(), "", 0, 1)
	assert.Empty(t, errs)
	assert.Equal(t, []string{"a"}, keys)
	assert.Len(t, f.callLog(), 3, "an empty object is asked once")
}

func TestMerge_SingleObject(t *testing.T) {
	f := newFakeObjects(map[string][]string{"only": {"c", "a", "b", "d", "e"}})
	for _, page := range []int{1, 2, 10} {
		keys, errs := collect(t, f, []string{"only"}, "a", 0, page)
		require.Empty(t, errs)
		assert.Equal(t, []string{"b", "c", "d", "e"}, keys, "page %d", page)
	}
}

func TestMerge_MoreWithEmptyPageEnds(t *testing.T) {
	// An object that claims more but returns nothing must not be asked
	// forever.
	calls := 0
	fetch := func(ctx context.Context, object, after string, limit int) ([]protocol.Record, bool, error) {
		calls++
		if after == "" {
			return []protocol.Record{{Key: "a"}}, true, nil
		}
		return nil, true, nil
	}
	var keys []string
	for rec, err := range Merge(context.Background(), []string{"o"}, "", 0, 1, fetch) {
		require.NoError(t, err)
		keys = append(keys, rec.Key)
	}
	assert.Equal(t, []string{"a"}, keys)
	assert.Equal(t, 2, calls)
}

func TestMerge_MatchesModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for round := range 300 {
		objects := 1 + rng.IntN(5)
		keys := map[string][]string{}
		used := map[string]bool{}
		for range rng.IntN(60) {
			k := fmt.Sprintf("%c%c", 'a'+rng.IntN(6), 'a'+rng.IntN(6))
			if used[k] {
				continue // keys are disjoint across objects
			}
			used[k] = true
			o := fmt.Sprintf("s%d", rng.IntN(objects))
			keys[o] = append(keys[o], k)
		}
		for i := range objects {
			o := fmt.Sprintf("s%d", i)
			keys[o] = append(keys[o], []string(nil)...) // an object may be empty
		}
		f := newFakeObjects(keys)
		require.Len(t, f.names(), objects)
		start := ""
		if rng.IntN(2) == 0 {
			start = fmt.Sprintf("%c", 'a'+rng.IntN(7))
		}
		limit, page := rng.IntN(8), 1+rng.IntN(6)
		got, errs := collect(t, f, f.names(), start, limit, page)
		require.Empty(t, errs)
		args := fmt.Sprintf("round %d: start %q limit %d page %d", round, start, limit, page)
		require.Equal(t, f.want(start, limit), got, args)
		for _, c := range f.callLog() {
			require.LessOrEqual(t, c.limit, page, args)
		}
	}
}

// The first pages of many objects are fetched at most MaxConcurrentFetches
// at a time, and the first failure stops the rest.
func TestMerge_BoundsConcurrentFetches(t *testing.T) {
	objects := make([]string, 256)
	for i := range objects {
		objects[i] = fmt.Sprintf("o%03d", i)
	}
	var inFlight, most, calls atomic.Int64
	failOn := "" // the object whose fetch fails
	slow := func(ctx context.Context, object, after string, limit int) ([]protocol.Record, bool, error) {
		calls.Add(1)
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		select {
		case <-time.After(time.Millisecond):
		case <-ctx.Done():
			return nil, false, ctx.Err()
		}
		if object == failOn {
			return nil, false, errors.New("shard o040 failed")
		}
		return []protocol.Record{{Key: object + "/k"}}, false, nil
	}
	var got []string
	for rec, err := range Merge(context.Background(), objects, "", 0, 10, slow) {
		require.NoError(t, err)
		got = append(got, rec.Key)
	}
	assert.Len(t, got, len(objects))
	assert.LessOrEqual(t, most.Load(), int64(MaxConcurrentFetches))
	assert.Greater(t, most.Load(), int64(1), "the first pages are fetched concurrently")

	calls.Store(0)
	failOn = "o040"
	var errs []error
	for _, err := range Merge(context.Background(), objects, "", 0, 10, slow) {
		errs = append(errs, err)
	}
	require.Len(t, errs, 1)
	assert.ErrorContains(t, errs[0], "o040 failed")
	assert.Less(t, calls.Load(), int64(40+2*MaxConcurrentFetches), "no new shard is asked once one failed")
}
