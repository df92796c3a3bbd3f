package sqlstore

// The schema of a local namespace's database: every object's records in
// one table, keyed by the object's ID and the record's key, and each
// object's last version and alarm in another. One database (one file, one
// lock, one WAL) serves every object; SQLite's single writer serialises
// the commits of different objects, as an object's own actor serialises
// its requests.
const schema = `
CREATE TABLE IF NOT EXISTS dokv_records (
  object BLOB NOT NULL,
  key TEXT NOT NULL,
  version INTEGER NOT NULL,
  value BLOB NOT NULL,
  expires INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (object, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS dokv_records_expiry ON dokv_records (object, expires) WHERE expires > 0;
CREATE TABLE IF NOT EXISTS dokv_objects (
  object BLOB PRIMARY KEY,
  last_version INTEGER NOT NULL DEFAULT 0,
  alarm INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS dokv_objects_alarm ON dokv_objects (alarm) WHERE alarm > 0;
`

const (
	sqlGet = `SELECT version, value, expires FROM dokv_records WHERE object = ? AND key = ?`
	sqlPut = `INSERT INTO dokv_records (object, key, version, value, expires) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (object, key) DO UPDATE SET version = excluded.version, value = excluded.value, expires = excluded.expires`
	sqlDelete = `DELETE FROM dokv_records WHERE object = ? AND key = ?`
	// The scan reads one row more than it may return, to tell whether more
	// follow. key >= prefix AND key < end bounds the prefix (end from
	// storage.PrefixEnd, or none).
	sqlScan = `SELECT key, version, value, expires FROM dokv_records
WHERE object = ?1 AND key >= ?2 AND key > ?3 AND (?4 = '' OR key < ?4) AND (expires = 0 OR expires > ?5)
ORDER BY key LIMIT ?6`
	sqlStats = `SELECT count(*), coalesce(sum(length(CAST(key AS BLOB)) + length(value)), 0),
  coalesce(sum(CASE WHEN key >= ?2 AND (?3 = '' OR key < ?3) AND (expires = 0 OR expires > ?4)
    THEN 1 ELSE 0 END), 0),
  coalesce(sum(CASE WHEN key >= ?2 AND (?3 = '' OR key < ?3) AND (expires = 0 OR expires > ?4)
    THEN length(CAST(key AS BLOB)) + length(value) ELSE 0 END), 0)
FROM dokv_records WHERE object = ?1`
	sqlExpired    = `SELECT key FROM dokv_records WHERE object = ? AND expires > 0 AND expires <= ? ORDER BY key LIMIT ?`
	sqlNextExpiry = `SELECT coalesce(min(expires), 0) FROM dokv_records WHERE object = ? AND expires > 0`
	sqlAny        = `SELECT 1 FROM dokv_records WHERE object = ? LIMIT 1`
	sqlObjectGet  = `SELECT last_version, alarm FROM dokv_objects WHERE object = ?`
	sqlSetLast    = `INSERT INTO dokv_objects (object, last_version) VALUES (?, ?)
ON CONFLICT (object) DO UPDATE SET last_version = excluded.last_version`
	sqlSetAlarm = `INSERT INTO dokv_objects (object, alarm) VALUES (?, ?)
ON CONFLICT (object) DO UPDATE SET alarm = excluded.alarm`
	sqlAlarms = `SELECT object, alarm FROM dokv_objects WHERE alarm > 0`
)
