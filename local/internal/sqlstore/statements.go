package sqlstore

import (
	"database/sql"
	"errors"
)

// statement is one of the engine's SQL statements, prepared once on the
// write connection and on the read pool. Preparing is most of what a
// statement costs SQLite on a small table: unprepared, the object's
// writes and the host's checks after each turn spent a sixth of a write's
// CPU in sqlite3_prepare_v2 (BENCHMARKS.md, "Issue 20").
type statement struct{ write, read *sql.Stmt }

// statements are the engine's statements, by what they do (schema.go holds
// their text).
type statements struct {
	get, put, del, scan, stats, expired, nextExpiry, any, objectGet, setLast, setAlarm statement
}

// prepare prepares every statement on write and on read. database/sql
// prepares a statement again on each further connection of the read pool
// the first time it runs there, and keeps it.
func (s *statements) prepare(write, read *sql.DB) error {
	for _, st := range []struct {
		to   *statement
		text string
	}{
		{&s.get, sqlGet}, {&s.put, sqlPut}, {&s.del, sqlDelete}, {&s.scan, sqlScan},
		{&s.stats, sqlStats}, {&s.expired, sqlExpired}, {&s.nextExpiry, sqlNextExpiry},
		{&s.any, sqlAny}, {&s.objectGet, sqlObjectGet}, {&s.setLast, sqlSetLast}, {&s.setAlarm, sqlSetAlarm},
	} {
		var err error
		if st.to.write, err = write.Prepare(st.text); err != nil {
			return sqlError("prepare", err)
		}
		if st.to.read, err = read.Prepare(st.text); err != nil {
			return sqlError("prepare", err)
		}
	}
	return nil
}

// close closes the prepared statements.
func (s *statements) close() error {
	var errs []error
	for _, st := range []*statement{&s.get, &s.put, &s.del, &s.scan, &s.stats, &s.expired, &s.nextExpiry,
		&s.any, &s.objectGet, &s.setLast, &s.setAlarm} {
		for _, p := range []*sql.Stmt{st.write, st.read} {
			if p != nil {
				errs = append(errs, p.Close())
			}
		}
	}
	return errors.Join(errs...)
}
