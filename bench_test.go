package dokv_test

// Benchmarks of dokv over the in-memory namespace, each beside a baseline: a
// sync.Mutex around a map[string][]byte that JSON-encodes the same values, so
// the codec's cost is in both and the difference is what dokv adds (wire
// protocol, routing, object IDs, the object's turn, versions, undo log).
//
// Names put the implementation in an impl= key so that benchstat can pair
// them within one file:
//
//	go test -run='^$' -bench=. -benchmem -count=5 . | tee /tmp/bench.txt
//	go run golang.org/x/perf/cmd/benchstat@latest -col /impl /tmp/bench.txt
//
// See BENCHMARKS.md for results.

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/dokv/dokv"
)

const (
	benchKeys     = 1024  // keys cycled through by Get, Set and Update (a power of two)
	benchListKeys = 10000 // keys a List benchmark pages through
	benchPage     = 100   // entries one List iteration reads
)

// benchCounter is the value of the Update benchmarks.
type benchCounter struct {
	N int64 `json:"n"`
}

// benchStore is what the benchmarks need of a store; *dokv.Store[T] and
// *mapStore[T] both have it, so both run the same loop bodies.
type benchStore[T any] interface {
	Get(ctx context.Context, key string) (T, error)
	Set(ctx context.Context, key string, value T) error
	Update(ctx context.Context, key string, fn func(current T, exists bool) (T, error)) (T, error)
	List(ctx context.Context, opts dokv.ListOptions) iter.Seq2[dokv.Entry[T], error]
}

// mapStore is the baseline: one mutex, a map of JSON-encoded values, and a
// sorted key slice for List.
type mapStore[T any] struct {
	mu   sync.Mutex
	m    map[string][]byte
	keys []string // sorted
}

func newMapStore[T any]() *mapStore[T] {
	return &mapStore[T]{m: make(map[string][]byte)}
}

func (s *mapStore[T]) Get(_ context.Context, key string) (T, error) {
	var v T
	s.mu.Lock()
	data, ok := s.m[key]
	s.mu.Unlock()
	if !ok {
		return v, dokv.ErrNotFound
	}
	err := json.Unmarshal(data, &v)
	return v, err
}

func (s *mapStore[T]) Set(_ context.Context, key string, value T) error {
	data, err := json.Marshal(value)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.put(key, data)
	s.mu.Unlock()
	return nil
}

// put stores data at key; s.mu must be held.
func (s *mapStore[T]) put(key string, data []byte) {
	if _, ok := s.m[key]; !ok {
		i, _ := slices.BinarySearch(s.keys, key)
		s.keys = slices.Insert(s.keys, i, key)
	}
	s.m[key] = data
}

// Update holds the lock for the whole read-modify-write, which is what makes
// it atomic.
func (s *mapStore[T]) Update(_ context.Context, key string, fn func(current T, exists bool) (T, error)) (T, error) {
	var cur T
	s.mu.Lock()
	defer s.mu.Unlock()
	data, exists := s.m[key]
	if exists {
		if err := json.Unmarshal(data, &cur); err != nil {
			return cur, err
		}
	}
	next, err := fn(cur, exists)
	if err != nil {
		return next, err
	}
	data, err = json.Marshal(next)
	if err != nil {
		return next, err
	}
	s.put(key, data)
	return next, nil
}

// List supports StartAfter and Limit, which is all the benchmarks use: it
// copies up to Limit values under the lock and decodes them outside it.
func (s *mapStore[T]) List(_ context.Context, opts dokv.ListOptions) iter.Seq2[dokv.Entry[T], error] {
	return func(yield func(dokv.Entry[T], error) bool) {
		s.mu.Lock()
		i, found := slices.BinarySearch(s.keys, opts.StartAfter)
		if found {
			i++
		}
		end := len(s.keys)
		if opts.Limit > 0 {
			end = min(end, i+opts.Limit)
		}
		keys := slices.Clone(s.keys[i:end]) // Set may shift s.keys in place
		values := make([][]byte, len(keys))
		for j, k := range keys {
			values[j] = s.m[k]
		}
		s.mu.Unlock()
		for j, k := range keys {
			e := dokv.Entry[T]{Key: k}
			if err := json.Unmarshal(values[j], &e.Value); err != nil {
				yield(dokv.Entry[T]{}, err)
				return
			}
			if !yield(e, nil) {
				return
			}
		}
	}
}

// benchImpl is one implementation under test.
type benchImpl[T any] struct {
	name  string // the impl= value
	store benchStore[T]
}

var benchPartitionings = []struct {
	name string
	p    dokv.Partitioning
}{
	{"dokv-PerKey", dokv.PerKey()},
	{"dokv-SingleObject", dokv.SingleObject("bench")},
	{"dokv-HashShards16", dokv.HashShards(16)},
}

// flowJobImpls returns the baseline and a FlowJob store per partitioning,
// each on a namespace of its own, keeping only the names in only (all when
// only is empty).
func flowJobImpls(b *testing.B, only ...string) []benchImpl[dokv.FlowJob] {
	b.Helper()
	impls := []benchImpl[dokv.FlowJob]{{"baseline-map", newMapStore[dokv.FlowJob]()}}
	for _, p := range benchPartitionings {
		s, err := dokv.NewFlowJobStore(dokv.NewMemoryNamespace(), dokv.WithPartitioning(p.p))
		if err != nil {
			b.Fatal(err)
		}
		impls = append(impls, benchImpl[dokv.FlowJob]{p.name, s})
	}
	if len(only) == 0 {
		return impls
	}
	return slices.DeleteFunc(impls, func(i benchImpl[dokv.FlowJob]) bool { return !slices.Contains(only, i.name) })
}

// benchJobs returns n small FlowJobs, as NewFlowJob makes them, sorted by
// ID (their key).
func benchJobs(n int) []dokv.FlowJob {
	jobs := make([]dokv.FlowJob, n)
	for i := range jobs {
		jobs[i] = dokv.NewFlowJob("flow-bench", "storage-bench")
	}
	slices.SortFunc(jobs, func(a, b dokv.FlowJob) int { return cmp.Compare(a.ID, b.ID) })
	return jobs
}

func fill[T any](b *testing.B, s benchStore[T], jobs []dokv.FlowJob, value func(dokv.FlowJob) T) {
	b.Helper()
	ctx := context.Background()
	for _, j := range jobs {
		if err := s.Set(ctx, j.ID, value(j)); err != nil {
			b.Fatal(err)
		}
	}
}

func job(j dokv.FlowJob) dokv.FlowJob { return j }

// runParallel runs body from every goroutine of b.RunParallel; each
// goroutine starts at a random key index and counts up from it, so the
// goroutines work on different keys (objects) most of the time.
func runParallel(b *testing.B, body func(i int) error) {
	b.RunParallel(func(pb *testing.PB) {
		i := rand.IntN(benchKeys)
		for pb.Next() {
			if err := body(i & (benchKeys - 1)); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
}

// runModes runs body sequentially, in parallel over many keys, and, when
// hot is set, in parallel on a single key, for each implementation.
func runModes[T any](b *testing.B, impls []benchImpl[T], hot []string, body func(s benchStore[T], i int) error) {
	b.Run("mode=seq", func(b *testing.B) {
		for _, im := range impls {
			b.Run("impl="+im.name, func(b *testing.B) {
				b.ReportAllocs()
				for i := 0; i < b.N; i++ {
					if err := body(im.store, i&(benchKeys-1)); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	})
	b.Run("mode=parallel", func(b *testing.B) {
		for _, im := range impls {
			b.Run("impl="+im.name, func(b *testing.B) {
				b.ReportAllocs()
				runParallel(b, func(i int) error { return body(im.store, i) })
			})
		}
	})
	if len(hot) == 0 {
		return
	}
	b.Run("mode=parallel-hotkey", func(b *testing.B) {
		for _, im := range impls {
			if !slices.Contains(hot, im.name) {
				continue
			}
			b.Run("impl="+im.name, func(b *testing.B) {
				b.ReportAllocs()
				runParallel(b, func(int) error { return body(im.store, 0) })
			})
		}
	})
}

var hotImpls = []string{"baseline-map", "dokv-PerKey"}

// BenchmarkGet reads small FlowJobs from benchKeys keys.
func BenchmarkGet(b *testing.B) {
	ctx := context.Background()
	jobs := benchJobs(benchKeys)
	impls := flowJobImpls(b)
	for _, im := range impls {
		fill(b, im.store, jobs, job)
	}
	runModes(b, impls, hotImpls, func(s benchStore[dokv.FlowJob], i int) error {
		j, err := s.Get(ctx, jobs[i].ID)
		if err == nil && j.ID != jobs[i].ID {
			err = fmt.Errorf("got job %s at key %s", j.ID, jobs[i].ID)
		}
		return err
	})
}

// BenchmarkGetMiss reads keys no one wrote, beside BenchmarkGet's hits: a
// miss should cost what a hit does, and leave nothing behind.
func BenchmarkGetMiss(b *testing.B) {
	ctx := context.Background()
	jobs := benchJobs(benchKeys)
	impls := flowJobImpls(b, "baseline-map", "dokv-PerKey")
	runModes(b, impls, nil, func(s benchStore[dokv.FlowJob], i int) error {
		if _, err := s.Get(ctx, jobs[i].ID); !errors.Is(err, dokv.ErrNotFound) {
			return fmt.Errorf("a miss gave %v", err)
		}
		return nil
	})
}

// BenchmarkSet overwrites small FlowJobs at benchKeys keys.
func BenchmarkSet(b *testing.B) {
	ctx := context.Background()
	jobs := benchJobs(benchKeys)
	impls := flowJobImpls(b)
	for _, im := range impls {
		fill(b, im.store, jobs, job)
	}
	runModes(b, impls, hotImpls, func(s benchStore[dokv.FlowJob], i int) error {
		return s.Set(ctx, jobs[i].ID, jobs[i])
	})
}

// BenchmarkUpdate increments a counter struct at benchKeys keys with Update
// (read, then a conditional write; the baseline holds its lock throughout).
func BenchmarkUpdate(b *testing.B) {
	ctx := context.Background()
	jobs := benchJobs(benchKeys)
	s, err := dokv.New[benchCounter](dokv.NewMemoryNamespace(), dokv.WithPartitioning(dokv.PerKey()))
	if err != nil {
		b.Fatal(err)
	}
	impls := []benchImpl[benchCounter]{
		{"baseline-map", newMapStore[benchCounter]()},
		{"dokv-PerKey", s},
	}
	for _, im := range impls {
		fill(b, im.store, jobs, func(dokv.FlowJob) benchCounter { return benchCounter{} })
	}
	incr := func(c benchCounter, _ bool) (benchCounter, error) {
		c.N++
		return c, nil
	}
	runModes(b, impls, nil, func(s benchStore[benchCounter], i int) error {
		_, err := s.Update(ctx, jobs[i].ID, incr)
		return err
	})
}

// BenchmarkList reads a page of benchPage entries, starting after a key that
// changes every iteration, from benchListKeys small FlowJobs.
func BenchmarkList(b *testing.B) {
	ctx := context.Background()
	jobs := benchJobs(benchListKeys)
	impls := flowJobImpls(b, "baseline-map", "dokv-SingleObject", "dokv-HashShards16")
	for _, im := range impls {
		fill(b, im.store, jobs, job)
	}
	// 7919 is prime, so i*7919 walks every start position.
	starts := benchListKeys - benchPage
	body := func(s benchStore[dokv.FlowJob], i int) error {
		after := jobs[(i*7919)%starts].ID
		n := 0
		for e, err := range s.List(ctx, dokv.ListOptions{StartAfter: after, Limit: benchPage}) {
			if err != nil {
				return err
			}
			if e.Key <= after {
				return fmt.Errorf("key %s listed after %s", e.Key, after)
			}
			n++
		}
		if n != benchPage {
			return errors.New("short page")
		}
		return nil
	}
	runModes(b, impls, nil, body)
}
