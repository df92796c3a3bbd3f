// Package local is dokv's third host: the same object actor that runs in
// memory (dokv.NewMemoryNamespace) and as the DokvObject Durable Object,
// here on an SQLite database in a directory, so that a dokv program runs
// as a plain Go server, keeps its data across restarts, and moves to
// Workers unchanged (dokv export, dokv import).
//
//	ns, err := local.Open("data")
//	if err != nil { ... }
//	defer ns.Close()
//	jobs, err := dokv.NewFlowJobStore(ns)
//
// It is a module of its own, so that its SQLite driver (modernc.org/sqlite,
// pure Go: no cgo) and the Go version that needs (1.26) stay out of a
// Worker's build.
package local

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/gofrs/flock"

	"github.com/dokv/dokv"
	"github.com/dokv/dokv/driver"
	"github.com/dokv/dokv/internal/host"
	"github.com/dokv/dokv/local/internal/sqlstore"
)

// ErrLocked is the error of Open for a directory that another Namespace,
// in this process or another, has open: one process owns a directory.
var ErrLocked = errors.New("dokv/local: the directory is in use")

// File names in a namespace's directory.
const (
	databaseFile = "dokv.db" // with SQLite's dokv.db-wal and dokv.db-shm beside it
	lockFile     = "dokv.lock"
)

// Namespace is a durable local namespace: dokv's objects in an SQLite
// database in one directory. Each object is an actor whose requests run
// one at a time; different objects run in parallel, and their commits
// queue for SQLite's one writer. An acknowledged write is on disk (WAL,
// synchronous=FULL): it survives the process's crash, and the machine's
// as far as the disk keeps what it acknowledged. TTL alarms are kept in
// the database and run after a restart; versions keep growing across
// restarts; an object whose last key goes gives its storage back. An
// object idle for a minute leaves memory (WithEvictAfter) and is loaded
// again by its next request, so memory follows the objects in use. Go
// watchers (Store.Watch) work in process, and browsers' watches under
// workerhttp.FromHandler. A Namespace is safe for concurrent use; Close it
// when done.
type Namespace struct {
	host  *host.Namespace
	db    *sqlstore.DB
	lock  *flock.Flock
	clock dokv.Clock
	evict time.Duration
	once  sync.Once
}

// Option configures Open.
type Option func(*Namespace)

// WithClock makes the namespace read the time from c (dokv.SystemClock by
// default), as dokv.WithClock does for the memory namespace: pass a
// dokvtest.ManualClock to test expiry without sleeping.
func WithClock(c dokv.Clock) Option {
	return func(ns *Namespace) {
		if c != nil {
			ns.clock = c
		}
	}
}

// DefaultEvictAfter is how long an object stays in memory after its last
// request, unless WithEvictAfter says otherwise: about as long as
// Cloudflare keeps an idle Durable Object.
const DefaultEvictAfter = time.Minute

// WithEvictAfter takes objects out of memory once they have been idle for
// d (DefaultEvictAfter by default); the next request loads them from disk.
// Objects with Go watchers stay. 0 keeps every object in memory once
// loaded.
func WithEvictAfter(d time.Duration) Option {
	return func(ns *Namespace) { ns.evict = max(d, 0) }
}

// Open opens the namespace in dir, creating the directory and its database
// if need be. It fails at once with ErrLocked if another Namespace has dir
// open. The objects whose alarms are set are loaded, so that their alarms
// run (at once, for those due while the namespace was closed).
func Open(dir string, opts ...Option) (*Namespace, error) {
	ns := &Namespace{clock: dokv.SystemClock(), evict: DefaultEvictAfter}
	for _, opt := range opts {
		opt(ns)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("dokv/local: %w", err)
	}
	ns.lock = flock.New(filepath.Join(dir, lockFile))
	locked, err := ns.lock.TryLock()
	if err != nil {
		return nil, fmt.Errorf("dokv/local: locking %s: %w", dir, err)
	}
	if !locked {
		return nil, fmt.Errorf("%w: %s", ErrLocked, dir)
	}
	if ns.db, err = sqlstore.Open(filepath.Join(dir, databaseFile)); err != nil {
		ns.lock.Unlock()
		return nil, fmt.Errorf("dokv/local: opening the database in %s: %w", dir, err)
	}
	ns.host = host.New(host.Config{
		Class: "dokv.LocalNamespace\x00", Clock: ns.clock, Storage: storage{ns.db},
		ErrInvalidArgument: dokv.ErrInvalidArgument, ErrOverloaded: dokv.ErrOverloaded, ErrObject: dokv.ErrObject,
		Evict: ns.evict,
	})
	alarms, err := ns.db.Alarms()
	if err == nil {
		for id := range alarms {
			if err = ns.host.Load(id); err != nil {
				break
			}
		}
	}
	if err != nil {
		ns.Close()
		return nil, fmt.Errorf("dokv/local: loading the objects with alarms: %w", err)
	}
	return ns, nil
}

// Close closes the database and releases the directory. Calls made after
// it fail.
func (ns *Namespace) Close() error {
	var err error
	ns.once.Do(func() {
		if ns.host != nil {
			ns.host.Close()
		}
		err = errors.Join(ns.db.Close(), ns.lock.Unlock())
	})
	return err
}

// IDFromName implements dokv.Namespace: the SHA-256 of the namespace's
// class and the name.
func (ns *Namespace) IDFromName(name string) dokv.ObjectID { return ns.host.IDFromName(name) }

// Get implements dokv.Namespace. The stub is also a driver.Watcher.
func (ns *Namespace) Get(id dokv.ObjectID) driver.Stub { return ns.host.Get(id) }

// Now implements driver.Clocked: the namespace's clock, which imports use
// for what remains of an expiry.
func (ns *Namespace) Now() time.Time { return ns.clock.Now() }

// Objects reports how many objects are in memory.
func (ns *Namespace) Objects() int { return ns.host.Objects() }

// storage is the host's view of the database.
type storage struct{ db *sqlstore.DB }

func (s storage) Engine(id driver.ObjectID) (host.Engine, error) {
	return sqlstore.NewEngine(s.db, id), nil
}
func (s storage) Stored(id driver.ObjectID) (bool, error) { return s.db.Stored(id) }
