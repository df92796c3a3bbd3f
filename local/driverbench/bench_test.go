// Package driverbench compares the two pure-Go SQLite drivers the local
// namespace could use, modernc.org/sqlite and github.com/ncruces/go-sqlite3,
// on the namespace's settings (WAL, synchronous=FULL, BEGIN IMMEDIATE):
// durable writes from 1 and 16 goroutines over one or more connections,
// and reads from a pool. It is a module of its own so that the driver not
// chosen stays out of the local module. BENCHMARKS.md ("Issue 20, first
// step") has the results:
//
//	cd local/driverbench && go test -run '^$' -bench . -count 5 | tee disk.txt
//	SQLBENCH_DIR=/dev/shm go test -run '^$' -bench . -count 5 | tee shm.txt
//	go run golang.org/x/perf/cmd/benchstat disk.txt
//
// The binary sizes are those of cmd/modernc and cmd/ncruces, one write
// each: go build -o /tmp/m ./cmd/modernc && go build -o /tmp/n ./cmd/ncruces.
package driverbench

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"

	_ "github.com/ncruces/go-sqlite3/driver"
	_ "github.com/ncruces/go-sqlite3/embed"
	_ "modernc.org/sqlite"
)

const nKeys = 1000

var keys = func() []string {
	k := make([]string, nKeys)
	for i := range k {
		k[i] = fmt.Sprintf("key-%04d", i)
	}
	return k
}()

var value = make([]byte, 100)

type drv struct{ name, driver, extra string }

// ncruces: default _txlock is immediate; modernc needs _txlock=immediate for BEGIN IMMEDIATE.
var drivers = []drv{
	{"ncruces", "sqlite3", ""},
	{"modernc", "sqlite", "&_txlock=immediate"},
}

// dataDir is where the databases go: SQLBENCH_DIR (a tmpfs, to take the
// disk out), else the test's temporary directory.
func dataDir(tb testing.TB) string {
	if d := os.Getenv("SQLBENCH_DIR"); d != "" {
		return d
	}
	return tb.TempDir()
}

var seq atomic.Int64

func dsnFor(d drv, path string) string {
	return "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=busy_timeout(5000)" + d.extra
}

func openDB(tb testing.TB, d drv, maxOpen int) *sql.DB {
	path := filepath.Join(dataDir(tb), fmt.Sprintf("%s-%d-%d.db", d.name, os.Getpid(), seq.Add(1)))
	tb.Cleanup(func() {
		os.Remove(path)
		os.Remove(path + "-wal")
		os.Remove(path + "-shm")
	})
	db, err := sql.Open(d.driver, dsnFor(d, path))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	db.SetMaxOpenConns(maxOpen)
	idle := maxOpen
	if idle == 0 {
		idle = 16
	}
	db.SetMaxIdleConns(idle)
	schema := "CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, version INTEGER NOT NULL, value BLOB NOT NULL)"
	if os.Getenv("SQLBENCH_WITHOUT_ROWID") == "1" {
		schema += " WITHOUT ROWID"
	}
	if _, err := db.Exec(schema); err != nil {
		tb.Fatal(err)
	}
	tx, err := db.Begin()
	if err != nil {
		tb.Fatal(err)
	}
	for _, k := range keys {
		if _, err := tx.Exec(upsert, k, value); err != nil {
			tb.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		tb.Fatal(err)
	}
	return db
}

const upsert = "INSERT INTO kv (key, version, value) VALUES (?, 1, ?) ON CONFLICT(key) DO UPDATE SET version = kv.version + 1, value = excluded.value"
const get = "SELECT version, value FROM kv WHERE key = ?"

func write(ctx context.Context, db *sql.DB, key string) error {
	tx, err := db.BeginTx(ctx, nil) // BEGIN IMMEDIATE (driver txlock)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, upsert, key, value); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

func read(ctx context.Context, db *sql.DB, key string) error {
	var v int64
	var b []byte
	return db.QueryRowContext(ctx, get, key).Scan(&v, &b)
}

func pools() []int {
	s := os.Getenv("SQLBENCH_POOLS")
	if s == "" {
		return []int{1, 2, 4, 16}
	}
	var out []int
	for _, f := range splitComma(s) {
		n, _ := strconv.Atoi(f)
		out = append(out, n)
	}
	return out
}

func splitComma(s string) []string {
	var out []string
	cur := ""
	for _, c := range s {
		if c == ',' {
			out = append(out, cur)
			cur = ""
		} else {
			cur += string(c)
		}
	}
	return append(out, cur)
}

func run(b *testing.B, db *sql.DB, par int, op func(context.Context, *sql.DB, string) error) {
	ctx := context.Background()
	var errs atomic.Int64
	var firstErr atomic.Value
	var ctr atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	if par == 1 {
		for i := 0; b.Loop(); i++ {
			if err := op(ctx, db, keys[i%nKeys]); err != nil {
				errs.Add(1)
				firstErr.CompareAndSwap(nil, err.Error())
			}
		}
	} else {
		b.SetParallelism((par + 1) / 2) // GOMAXPROCS=2 -> 2*8 = 16 goroutines
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				i := ctr.Add(1)
				if err := op(ctx, db, keys[i%nKeys]); err != nil {
					errs.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
				}
			}
		})
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
	b.ReportMetric(float64(errs.Load()), "errs")
	if e := firstErr.Load(); e != nil {
		b.Logf("errors=%d first=%v", errs.Load(), e)
	}
}

func BenchmarkWrite(b *testing.B) {
	for _, d := range drivers {
		b.Run("drv="+d.name+"/par=1/pool=1", func(b *testing.B) {
			run(b, openDB(b, d, 1), 1, write)
		})
		for _, p := range pools() {
			b.Run(fmt.Sprintf("drv=%s/par=16/pool=%d", d.name, p), func(b *testing.B) {
				run(b, openDB(b, d, p), 16, write)
			})
		}
	}
}

func BenchmarkGet(b *testing.B) {
	for _, d := range drivers {
		b.Run("drv="+d.name+"/par=1/pool=1", func(b *testing.B) {
			run(b, openDB(b, d, 1), 1, read)
		})
		for _, p := range []int{1, 16} {
			b.Run(fmt.Sprintf("drv=%s/par=16/pool=%d", d.name, p), func(b *testing.B) {
				run(b, openDB(b, d, p), 16, read)
			})
		}
	}
}

// TestPragmas checks every pooled connection: force N distinct connections open at once.
func TestPragmas(t *testing.T) {
	const n = 8
	for _, d := range drivers {
		db := openDB(t, d, n)
		ctx := context.Background()
		var conns []*sql.Conn
		for i := 0; i < n; i++ {
			c, err := db.Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			conns = append(conns, c)
		}
		for i, c := range conns {
			var sync, bt int
			var jm string
			if err := c.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&sync); err != nil {
				t.Fatal(err)
			}
			if err := c.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&jm); err != nil {
				t.Fatal(err)
			}
			if err := c.QueryRowContext(ctx, "PRAGMA busy_timeout").Scan(&bt); err != nil {
				t.Fatal(err)
			}
			t.Logf("%s conn %d: synchronous=%d journal_mode=%s busy_timeout=%d", d.name, i, sync, jm, bt)
			if sync != 2 || jm != "wal" || bt != 5000 {
				t.Errorf("%s conn %d: wrong settings", d.name, i)
			}
		}
		// Also check transaction lock mode: a second BeginTx must block/BUSY while one is open
		st := db.Stats()
		t.Logf("%s: open connections=%d", d.name, st.OpenConnections)
		for _, c := range conns {
			c.Close()
		}
	}
}
