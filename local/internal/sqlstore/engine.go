package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/dokv/dokv/driver"
	"github.com/dokv/dokv/internal/protocol"
	"github.com/dokv/dokv/internal/storage"
)

// Engine is one object's storage.Engine in a database of Open, which holds
// every object of a namespace (see schema). Writes run
// in Atomic, which opens a transaction (nested calls are savepoints in
// it); reads outside Atomic read the last commit. The object's actor uses
// its engine from one goroutine at a time.
type Engine struct {
	db *DB
	id []byte
	tx *sql.Tx // the open transaction of Atomic, if any
	// depth counts the Atomic calls in progress; the outermost one owns tx.
	depth int
}

var _ storage.Engine = (*Engine)(nil)

// NewEngine returns the engine of object id in db.
func NewEngine(db *DB, id driver.ObjectID) *Engine {
	return &Engine{db: db, id: id[:]}
}

// querier is what both *sql.DB and *sql.Tx offer.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// w is where a write goes: the open transaction, else the write
// connection (a write outside Atomic commits on its own).
func (e *Engine) w() querier {
	if e.tx != nil {
		return e.tx
	}
	return e.db.write
}

// q is where a read goes: the open transaction, else the read pool.
func (e *Engine) q() querier {
	if e.tx != nil {
		return e.tx
	}
	return e.db.read
}

// The engine's calls are not cancellable: a request, once the actor runs
// it, runs to its end, as on a Durable Object.
var bg = context.Background()

func (e *Engine) Get(key string) (protocol.Record, bool, error) {
	r := protocol.Record{Key: key}
	err := e.q().QueryRowContext(bg, sqlGet, e.id, key).Scan(&r.Version, &r.Value, &r.Expires)
	if errors.Is(err, sql.ErrNoRows) {
		return protocol.Record{}, false, nil
	}
	if err != nil {
		return protocol.Record{}, false, sqlError("get", err)
	}
	if r.Value == nil {
		r.Value = []byte{}
	}
	return r, true, nil
}

func (e *Engine) Put(key string, version uint64, value []byte, expires uint64) error {
	if value == nil {
		value = []byte{} // NULL is not a value: the column is NOT NULL
	}
	_, err := e.w().ExecContext(bg, sqlPut, e.id, key, int64(version), value, int64(expires))
	return sqlError("put", err)
}

func (e *Engine) Delete(key string) error {
	_, err := e.w().ExecContext(bg, sqlDelete, e.id, key)
	return sqlError("delete", err)
}

func (e *Engine) Scan(prefix, after string, limit, maxBytes int, now uint64) ([]protocol.Record, bool, error) {
	if limit <= 0 {
		return nil, false, nil
	}
	end, _ := storage.PrefixEnd(prefix)
	rows, err := e.q().QueryContext(bg, sqlScan, e.id, prefix, after, end, int64(now), int64(min(limit, 1<<62)+1))
	if err != nil {
		return nil, false, sqlError("scan", err)
	}
	defer rows.Close()
	var recs []protocol.Record
	size := 0
	for rows.Next() {
		if len(recs) == limit || (len(recs) > 0 && size >= maxBytes) {
			return recs, true, nil
		}
		var r protocol.Record
		if err := rows.Scan(&r.Key, &r.Version, &r.Value, &r.Expires); err != nil {
			return nil, false, sqlError("scan", err)
		}
		if r.Value == nil {
			r.Value = []byte{}
		}
		recs = append(recs, r)
		size += len(r.Key) + len(r.Value)
	}
	return recs, false, sqlError("scan", rows.Err())
}

func (e *Engine) Stats(prefix string, now uint64) (protocol.Stats, error) {
	end, _ := storage.PrefixEnd(prefix)
	var all, keys, bytes int64
	var s protocol.Stats
	err := e.q().QueryRowContext(bg, sqlStats, e.id, prefix, end, int64(now)).Scan(&all, new(int64), &keys, &bytes)
	if err != nil {
		return s, sqlError("stats", err)
	}
	var storageBytes int64
	if err := e.q().QueryRowContext(bg, sqlStats, e.id, "", "", int64(0)).Scan(new(int64), &storageBytes, new(int64), new(int64)); err != nil {
		return s, sqlError("stats", err)
	}
	return protocol.Stats{Keys: uint64(keys), Bytes: uint64(bytes), StorageBytes: uint64(storageBytes)}, nil
}

func (e *Engine) Expired(now uint64, limit int) ([]string, error) {
	if limit <= 0 {
		return nil, nil
	}
	rows, err := e.q().QueryContext(bg, sqlExpired, e.id, int64(now), int64(limit))
	if err != nil {
		return nil, sqlError("expired", err)
	}
	defer rows.Close()
	var keys []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, sqlError("expired", err)
		}
		keys = append(keys, k)
	}
	return keys, sqlError("expired", rows.Err())
}

func (e *Engine) NextExpiry() (uint64, error) {
	var at int64
	err := e.q().QueryRowContext(bg, sqlNextExpiry, e.id).Scan(&at)
	return uint64(at), sqlError("next expiry", err)
}

func (e *Engine) Empty() (bool, error) {
	var one int
	err := e.q().QueryRowContext(bg, sqlAny, e.id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return true, nil
	}
	return false, sqlError("empty", err)
}

// object reads the object's row: its last version and alarm (0, 0 when it
// has none).
func (e *Engine) object() (last, alarm uint64, err error) {
	var l, a int64
	err = e.q().QueryRowContext(bg, sqlObjectGet, e.id).Scan(&l, &a)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, 0, nil
	}
	return uint64(l), uint64(a), sqlError("object", err)
}

// Alarm returns when the object's alarm is set for; 0 for none.
func (e *Engine) Alarm() (uint64, error) {
	_, alarm, err := e.object()
	return alarm, err
}

func (e *Engine) SetAlarm(at uint64) error {
	_, err := e.w().ExecContext(bg, sqlSetAlarm, e.id, int64(at))
	return sqlError("set alarm", err)
}

func (e *Engine) LastVersion() (uint64, error) {
	last, _, err := e.object()
	return last, err
}

func (e *Engine) SetLastVersion(v uint64) error {
	_, err := e.w().ExecContext(bg, sqlSetLast, e.id, int64(v))
	return sqlError("set last version", err)
}

// Atomic runs fn in a transaction, or in a savepoint of the one already
// open; an error or a panic from fn undoes what it wrote. A transaction
// that commits is durable (synchronous=FULL) before Atomic returns.
func (e *Engine) Atomic(fn func() error) (err error) {
	if e.depth == 0 {
		if e.tx, err = e.db.write.BeginTx(bg, nil); err != nil {
			e.tx = nil
			return sqlError("begin", err)
		}
	}
	e.depth++
	savepoint := fmt.Sprintf("dokv_%d", e.depth)
	if e.depth > 1 {
		if _, err := e.tx.ExecContext(bg, "SAVEPOINT "+savepoint); err != nil {
			e.depth--
			return sqlError("savepoint", err)
		}
	}
	done := false
	defer func() {
		e.depth--
		if done {
			return
		}
		// fn failed or panicked: undo what it did.
		if e.depth == 0 {
			e.tx.Rollback()
			e.tx = nil
		} else {
			e.tx.ExecContext(bg, "ROLLBACK TO "+savepoint)
			e.tx.ExecContext(bg, "RELEASE "+savepoint)
		}
	}()
	if err := fn(); err != nil {
		return err
	}
	if e.depth > 1 {
		if _, err := e.tx.ExecContext(bg, "RELEASE "+savepoint); err != nil {
			return sqlError("release", err)
		}
	} else {
		err := e.tx.Commit() // a failed commit has rolled back
		e.tx, done = nil, true
		if err != nil {
			return sqlError("commit", err)
		}
	}
	done = true
	return nil
}

// sqlError wraps err, if any, with the operation it failed.
func sqlError(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("dokv/sqlstore: %s: %w", op, err)
}
