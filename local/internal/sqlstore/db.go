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
	"errors"
	"net/url"

	"github.com/dokv/dokv/driver"

	_ "modernc.org/sqlite" // the pure-Go SQLite driver, registered as "sqlite"
)

// DB is a namespace's database: one connection that writes, because
// SQLite has one writer and writers queue better in Go than in its busy
// handler (BENCHMARKS.md), and a pool that reads the last commit.
type DB struct {
	write, read *sql.DB
	stmt        statements
}

// Open opens (creating if need be) the database at path in WAL mode with
// synchronous=FULL: a transaction is on disk when its commit returns, and
// survives a crash of the process or of the machine as far as the disk
// keeps what it acknowledged. Write transactions take the write lock when
// they begin (BEGIN IMMEDIATE).
func Open(path string) (*DB, error) {
	dsn := DSN(path)
	write, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	write.SetMaxOpenConns(1)
	if _, err := write.Exec(schema); err != nil {
		write.Close()
		return nil, err
	}
	read, err := sql.Open("sqlite", dsn)
	if err != nil {
		write.Close()
		return nil, err
	}
	read.SetMaxOpenConns(readConns)
	read.SetMaxIdleConns(readConns)
	db := &DB{write: write, read: read}
	if err := db.stmt.prepare(write, read); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// DSN is the data source name of the database at path, with the settings
// Open uses: WAL, synchronous=FULL, a busy timeout, BEGIN IMMEDIATE.
func DSN(path string) string {
	q := url.Values{}
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Add("_pragma", "busy_timeout(10000)")
	q.Set("_txlock", "immediate")
	return "file:" + path + "?" + q.Encode()
}

// readConns is the size of the read pool.
const readConns = 16

// Close closes the database.
func (db *DB) Close() error {
	return errors.Join(db.stmt.close(), db.read.Close(), db.write.Close())
}

// Stored reports whether object id holds records.
func (db *DB) Stored(id driver.ObjectID) (bool, error) {
	var one int
	err := db.stmt.any.read.QueryRow(id[:]).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, sqlError("stored", err)
}

// Alarms returns every object whose alarm is set, with the time it is set
// for (Unix milliseconds).
func (db *DB) Alarms() (map[driver.ObjectID]uint64, error) {
	rows, err := db.read.Query(sqlAlarms) // once per Open: not prepared
	if err != nil {
		return nil, sqlError("alarms", err)
	}
	defer rows.Close()
	out := map[driver.ObjectID]uint64{}
	for rows.Next() {
		var id []byte
		var at int64
		if err := rows.Scan(&id, &at); err != nil {
			return nil, sqlError("alarms", err)
		}
		out[driver.ObjectID(id)] = uint64(at)
	}
	return out, sqlError("alarms", rows.Err())
}

// Records counts the records of every object, expired or not.
func (db *DB) Records() (int, error) {
	var n int
	err := db.read.QueryRow(`SELECT count(*) FROM dokv_records`).Scan(&n)
	return n, sqlError("records", err)
}
