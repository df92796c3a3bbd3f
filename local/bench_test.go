package local

import (
	"context"
	"database/sql"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dokv/dokv"
	"github.com/dokv/dokv/dokvtest"
	"github.com/dokv/dokv/local/internal/sqlstore"
)

// The local namespace beside a plain SQLite table in the same process,
// with the same driver and durability (WAL, synchronous=FULL, one writer
// connection): one upsert per write, one SELECT per read. 100-byte values.
//
//	cd local && go test -run '^$' -bench . -benchtime 3s -count 5 | tee new.txt
//
// op=set and op=get use 16 goroutines on any machine (b.SetParallelism);
// the clients=1 variants one, for the cost of one operation without the
// parallelism that one object's requests do not have (they run one at a
// time, as on Cloudflare).

const benchValueBytes = 100

var benchValue = make([]byte, benchValueBytes)

// valueFor is a 100-byte value that differs with i: SQLite skips writing a
// row whose bytes do not change, so equal values would let the plain
// table's commits write nothing (and fsync nothing) while dokv's, whose
// versions change, must.
func valueFor(i int) []byte {
	v := make([]byte, benchValueBytes)
	binary.BigEndian.PutUint64(v, uint64(i))
	return v
}

// parallel16 runs f from 16 goroutines, each with its own counter.
func parallel16(b *testing.B, f func(i int) error) {
	b.SetParallelism(max(1, 16/runtime.GOMAXPROCS(0)))
	var next atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := f(int(next.Add(1))); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkLocal(b *testing.B) {
	for _, c := range []struct {
		name  string
		keys  int
		parts dokv.Partitioning
	}{
		{"objects=1/keys=1000", 1000, dokv.SingleObject("bench")},
		{"objects=10000/keys=10000", 10000, dokv.PerKey()},
	} {
		b.Run(c.name+"/impl=dokv", func(b *testing.B) {
			ns, err := Open(b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			defer ns.Close()
			s, err := dokv.New[[]byte](ns, dokv.WithCodec(dokv.Raw()), dokv.WithPartitioning(c.parts))
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			for i := range c.keys {
				if err := s.Set(ctx, fmt.Sprint("k", i), benchValue); err != nil {
					b.Fatal(err)
				}
			}
			var before runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			b.Run("op=set", func(b *testing.B) {
				parallel16(b, func(i int) error { return s.Set(ctx, fmt.Sprint("k", i%c.keys), valueFor(i)) })
			})
			b.Run("op=set/clients=1", func(b *testing.B) {
				for i := range b.N {
					if err := s.Set(ctx, fmt.Sprint("k", i%c.keys), valueFor(i)); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("op=get", func(b *testing.B) {
				parallel16(b, func(i int) error { _, err := s.Get(ctx, fmt.Sprint("k", i%c.keys)); return err })
			})
			b.Run("op=get/clients=1", func(b *testing.B) {
				for i := range b.N {
					if _, err := s.Get(ctx, fmt.Sprint("k", i%c.keys)); err != nil {
						b.Fatal(err)
					}
				}
			})
			var after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&after)
			b.ReportMetric(float64(after.HeapInuse)/float64(max(ns.Objects(), 1)), "heap-B/resident-object")
		})
		b.Run(c.name+"/impl=sqlite", func(b *testing.B) {
			write, read := baselineDB(b, filepath.Join(b.TempDir(), "plain.db"))
			for i := range c.keys {
				if _, err := write.Exec(baselinePut, fmt.Sprint("k", i), benchValue); err != nil {
					b.Fatal(err)
				}
			}
			b.Run("op=set", func(b *testing.B) {
				parallel16(b, func(i int) error {
					_, err := write.Exec(baselinePut, fmt.Sprint("k", i%c.keys), valueFor(i))
					return err
				})
			})
			b.Run("op=set/clients=1", func(b *testing.B) {
				for i := range b.N {
					if _, err := write.Exec(baselinePut, fmt.Sprint("k", i%c.keys), valueFor(i)); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("op=get", func(b *testing.B) {
				parallel16(b, func(i int) error {
					var v []byte
					return read.QueryRow(baselineGet, fmt.Sprint("k", i%c.keys)).Scan(&v)
				})
			})
			b.Run("op=get/clients=1", func(b *testing.B) {
				for i := range b.N {
					var v []byte
					if err := read.QueryRow(baselineGet, fmt.Sprint("k", i%c.keys)).Scan(&v); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

const (
	baselinePut = `INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`
	baselineGet = `SELECT value FROM kv WHERE key = ?`
)

// baselineDB opens the plain table with the namespace's settings (the same
// DSN): a write connection and a read pool.
func baselineDB(b testing.TB, path string) (write, read *sql.DB) {
	dsn := sqlstore.DSN(path)
	write, err := sql.Open("sqlite", dsn)
	if err != nil {
		b.Fatal(err)
	}
	write.SetMaxOpenConns(1)
	if _, err := write.Exec(`CREATE TABLE kv (key TEXT PRIMARY KEY, value BLOB NOT NULL)`); err != nil {
		b.Fatal(err)
	}
	read, err = sql.Open("sqlite", dsn)
	if err != nil {
		b.Fatal(err)
	}
	read.SetMaxOpenConns(16)
	b.Cleanup(func() { read.Close(); write.Close() })
	return write, read
}

// Memory per object: the heap that 10,000 objects of one 100-byte record
// each hold while resident, and what is left of them once evicted.
//
//	cd local && go test -run '^$' -bench LocalMemory -benchtime 1x -count 3
func BenchmarkLocalMemory(b *testing.B) {
	const objects = 10_000
	ctx := context.Background()
	for range b.N {
		clock := dokvtest.NewManualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
		ns, err := Open(b.TempDir(), WithClock(clock), WithEvictAfter(time.Minute))
		if err != nil {
			b.Fatal(err)
		}
		s, err := dokv.New[[]byte](ns, dokv.WithCodec(dokv.Raw()), dokv.WithPartitioning(dokv.PerKey()))
		if err != nil {
			b.Fatal(err)
		}
		base := heapInUse()
		for i := range objects {
			if err := s.Set(ctx, fmt.Sprint("k", i), benchValue); err != nil {
				b.Fatal(err)
			}
		}
		resident := heapInUse()
		if ns.Objects() != objects {
			b.Fatalf("%d objects resident, want %d", ns.Objects(), objects)
		}
		clock.Advance(2 * time.Minute)
		if ns.Objects() != 0 {
			b.Fatalf("%d objects resident after eviction, want 0", ns.Objects())
		}
		evicted := heapInUse()
		b.ReportMetric(float64(resident-base)/objects, "heap-B/resident-object")
		b.ReportMetric(float64(evicted-base)/objects, "heap-B/evicted-object")
		ns.Close()
	}
}

// heapInUse is the heap in use after a collection.
func heapInUse() int64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return int64(m.HeapInuse)
}
