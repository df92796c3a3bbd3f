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
//
// An engine is its object's only writer (one actor per object, one
// process per directory), so it remembers what it last read or wrote of
// the object's row and whether the object holds records: the host asks
// both after every turn, and asking SQLite cost a third of a write
// (BENCHMARKS.md, "Issue 20").
type Engine struct {
	db *DB
	id []byte
	tx *sql.Tx // the open transaction of Atomic, if any
	// depth counts the Atomic calls in progress; the outermost one owns tx.
	depth int
	// committed is what the engine knows of the last commit; pending, of
	// the open transaction.
	committed, pending known
}

// known is what an engine knows of its object without asking the database.
type known struct {
	row         bool   // last and alarm hold the object's row
	last, alarm uint64 // its last version and alarm
	records     bool   // the object holds at least one record
}

var _ storage.Engine = (*Engine)(nil)

// NewEngine returns the engine of object id in db.
func NewEngine(db *DB, id driver.ObjectID) *Engine {
	return &Engine{db: db, id: id[:]}
}

// known is what the engine knows of the state its reads see: the open
// transaction's, else the last commit's.
func (e *Engine) known() *known {
	if e.tx != nil {
		return &e.pending
	}
	return &e.committed
}

// exec runs a write statement in the open transaction, else on the write
// connection (a write outside Atomic commits on its own). What the engine
// knows is forgotten when it fails: SQLite may have undone more than the
// statement.
func (e *Engine) exec(st *statement, args ...any) error {
	s := st.write
	if e.tx != nil {
		s = e.tx.StmtContext(bg, s)
	}
	_, err := s.ExecContext(bg, args...)
	if err != nil {
		*e.known() = known{}
	}
	return err
}

// query returns where a read goes: the open transaction, else the read
// pool.
func (e *Engine) query(st *statement) *sql.Stmt {
	if e.tx != nil {
		return e.tx.StmtContext(bg, st.write)
	}
	return st.read
}

// The engine's calls are not cancellable: a request, once the actor runs
// it, runs to its end, as on a Durable Object.
var bg = context.Background()

func (e *Engine) Get(key string) (protocol.Record, bool, error) {
	r := protocol.Record{Key: key}
	err := e.query(&e.db.stmt.get).QueryRowContext(bg, e.id, key).Scan(&r.Version, &r.Value, &r.Expires)
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
	if err := e.exec(&e.db.stmt.put, e.id, key, int64(version), value, int64(expires)); err != nil {
		return sqlError("put", err)
	}
	e.known().records = true
	return nil
}

func (e *Engine) Delete(key string) error {
	err := e.exec(&e.db.stmt.del, e.id, key)
	e.known().records = false // perhaps: Empty asks
	return sqlError("delete", err)
}

func (e *Engine) Scan(prefix, after string, limit, maxBytes int, now uint64) ([]protocol.Record, bool, error) {
	if limit <= 0 {
		return nil, false, nil
	}
	end, _ := storage.PrefixEnd(prefix)
	rows, err := e.query(&e.db.stmt.scan).QueryContext(bg, e.id, prefix, after, end, int64(now), int64(min(limit, 1<<62)+1))
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
	err := e.query(&e.db.stmt.stats).QueryRowContext(bg, e.id, prefix, end, int64(now)).Scan(&all, new(int64), &keys, &bytes)
	if err != nil {
		return s, sqlError("stats", err)
	}
	var storageBytes int64
	if err := e.query(&e.db.stmt.stats).QueryRowContext(bg, e.id, "", "", int64(0)).Scan(new(int64), &storageBytes, new(int64), new(int64)); err != nil {
		return s, sqlError("stats", err)
	}
	return protocol.Stats{Keys: uint64(keys), Bytes: uint64(bytes), StorageBytes: uint64(storageBytes)}, nil
}

func (e *Engine) Expired(now uint64, limit int) ([]string, error) {
	if limit <= 0 {
		return nil, nil
	}
	rows, err := e.query(&e.db.stmt.expired).QueryContext(bg, e.id, int64(now), int64(limit))
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
	err := e.query(&e.db.stmt.nextExpiry).QueryRowContext(bg, e.id).Scan(&at)
	return uint64(at), sqlError("next expiry", err)
}

func (e *Engine) Empty() (bool, error) {
	k := e.known()
	if k.records {
		return false, nil
	}
	var one int
	err := e.query(&e.db.stmt.any).QueryRowContext(bg, e.id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return true, nil
	}
	if err != nil {
		return false, sqlError("empty", err)
	}
	k.records = true
	return false, nil
}

// object reads the object's row: its last version and alarm (0, 0 when it
// has none).
func (e *Engine) object() (last, alarm uint64, err error) {
	k := e.known()
	if k.row {
		return k.last, k.alarm, nil
	}
	var l, a int64
	err = e.query(&e.db.stmt.objectGet).QueryRowContext(bg, e.id).Scan(&l, &a)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, 0, sqlError("object", err)
	}
	k.row, k.last, k.alarm = true, uint64(l), uint64(a)
	return k.last, k.alarm, nil
}

// Alarm returns when the object's alarm is set for; 0 for none.
func (e *Engine) Alarm() (uint64, error) {
	_, alarm, err := e.object()
	return alarm, err
}

func (e *Engine) SetAlarm(at uint64) error {
	if err := e.exec(&e.db.stmt.setAlarm, e.id, int64(at)); err != nil {
		return sqlError("set alarm", err)
	}
	e.known().alarm = at
	return nil
}

func (e *Engine) LastVersion() (uint64, error) {
	last, _, err := e.object()
	return last, err
}

func (e *Engine) SetLastVersion(v uint64) error {
	if err := e.exec(&e.db.stmt.setLast, e.id, int64(v)); err != nil {
		return sqlError("set last version", err)
	}
	e.known().last = v
	return nil
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
		e.pending = e.committed
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
			e.pending = known{} // what the savepoint undid is not known here
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
			e.committed = known{}
			return sqlError("commit", err)
		}
		e.committed = e.pending
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
