// Package sqlstore keeps Durable-Object-shaped objects in one SQLite
// database on disk, with the pure-Go modernc.org/sqlite driver (no cgo, so
// go run and cross-compiling keep working): each object's storage.Engine,
// the interface that the Durable Object's SQLite storage implements inside
// a Worker and the in-memory engine implements in process. It is the
// storage of the durable local namespace that module
// github.com/dokv/dokv/local is for; the namespace itself (object hosting,
// alarms, eviction, the directory lock) is still to be built on it.
//
// The module is separate from dokv's own so that the SQLite driver and the
// Go version it needs (1.26) stay out of every Worker's build.
package sqlstore

import (
	"database/sql"
	"net/url"

	_ "modernc.org/sqlite" // the pure-Go SQLite driver, registered as "sqlite"
)

// Open opens (creating if need be) the database at path in WAL mode with
// synchronous=FULL: a transaction is on disk when its commit returns, and
// survives a crash of the process or of the machine as far as the disk
// keeps what it acknowledged. Write transactions take the write lock when
// they begin (BEGIN IMMEDIATE), so that two of them never deadlock on an
// upgrade from reading to writing.
func Open(path string) (*sql.DB, error) {
	q := url.Values{}
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Add("_pragma", "busy_timeout(10000)")
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, err
	}
	if _, err := db.Exec(schema); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}
